"""Automatic checks for the homework sets; the export of student and instructor notebooks; the grader.

Introduced in the homework sets (``book/homework/``), which call one check per exercise.

**Checks.** Every ``check_*`` function takes the student's answer and returns a :class:`CheckResult` whose
``status`` is ``"correct"``, ``"incorrect"`` or ``"unanswered"``. A check never shows the expected answer: it says
"correct", or what is wrong (a wrong sign, a missing factor of 2, a shape, a matrix that is not symmetric, ...). Where
it can, a check tests a *property* of the answer instead of comparing it with a stored literal: a Hessian is compared
with sympy's Hessian of the given function, a step-size threshold is tested by simulating gradient descent just below
and just above it, a period-2 orbit is verified by applying the map twice. An answer left as the placeholder ``...``
(Python's ``Ellipsis``), or a function that still returns ``...``, reports "not answered yet" and never raises, so a
student notebook runs from top to bottom. Solutions call :meth:`CheckResult.assert_correct`, which raises when the
answer is wrong, so the test suite fails if a solution is.

The package's layout follows its jobs: ``result`` (the verdict and the guard every check runs under),
``checks`` (one module per set), :mod:`.notebook` (reading a set, what a solution is), :mod:`.export` (student and
instructor notebooks), :mod:`.rubric`, :mod:`.grade` and ``sandbox`` (the grader), ``__main__`` (the command
line: ``python -m lecturelib.homework export|grade|gradescope ...``). Importing this package loads only the result
type and the checks.
"""

from __future__ import annotations

from . import checks, rubric
from .checks import *  # noqa: F403 -- the checks of every set, collected by lecturelib.homework.checks
from .result import CheckResult, is_unanswered

__all__ = ["CheckResult", "is_unanswered", "rubric", *checks.__all__]
