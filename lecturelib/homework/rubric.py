"""Points and cases of an exercise, as the instructor's version of a set states them for the grader.

A set gives each exercise a *grading cell*: a code cell tagged ``grading`` inside the exercise's solution (so the
student notebook, the student site and the ``lecturelib`` wheel never hold it; see
:mod:`lecturelib.homework.notebook`). The cell defines one function, decorated with :func:`exercise`, whose
parameters are the names of the answer variables in the student's notebook and whose body yields one
:class:`~lecturelib.homework.CheckResult` per case (:func:`hidden` marks a case the student never saw), as in this
example (no set's: the API reference is public)::

    @hw.rubric.exercise("0.1 An example", points=2)
    def grade(H_example):
        u, v = sp.symbols("u v", real=True)
        yield hw.check_hessian(H_example, sp.exp(u) * v**2, (u, v))

The grader runs these functions in its own process on answers taken out of the student's kernel as plain data (a
student's function arrives as a proxy that calls it in a sandbox). An exercise's points are shared equally by its
cases; a case earns its share when its check says "correct". In the instructor notebook the cell only defines the
function (the tests run the grader on the instructor notebooks, which must earn full marks).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .result import CheckResult

__all__ = ["Case", "Exercise", "attempt", "exercise", "hidden"]


@dataclass(frozen=True)
class Case:
    """One graded case: the check's result, and whether the student may see its message."""

    result: CheckResult
    hidden: bool = False


def attempt(function: Callable, *args: object) -> object:
    """``function(*args)``, or, when it raises (or is no function), a ``Failed``
    answer that every check reports as "not right" with the reason; for a case that calls a student's function."""
    from .result import Failed, StudentError, Unanswered, call_student

    try:
        return call_student(function, *args)
    except Unanswered:
        return Ellipsis
    except StudentError as err:
        return Failed(str(err))


def hidden(result: CheckResult) -> Case:
    """Mark a case as hidden: the feedback gives its verdict only, never its message or its data."""
    if not isinstance(result, CheckResult):
        raise TypeError(f"hidden() takes a CheckResult, got {type(result).__name__}")
    return Case(result, hidden=True)


@dataclass(frozen=True)
class Exercise:
    """An exercise's name, points, answer names and the function that yields its cases."""

    name: str
    points: float
    answers: tuple[str, ...]
    judge: Callable[..., Iterator[CheckResult | Case]]

    def cases(self, answers: dict) -> list[Case]:
        """Run the judge on ``answers`` (``{name: value}``); every yielded value becomes a :class:`Case`."""
        cases = []
        for item in self.judge(**{name: answers[name] for name in self.answers}):
            if isinstance(item, CheckResult):
                item = Case(item)
            if not isinstance(item, Case):
                raise TypeError(
                    f"exercise {self.name}: a grading function yields CheckResults or hidden(...) cases, "
                    f"got {type(item).__name__}"
                )
            cases.append(item)
        if not cases:
            raise ValueError(f"exercise {self.name}: the grading function yielded no case")
        return cases


def exercise(name: str, points: float) -> Callable[[Callable], Exercise]:
    """Declare a grading function for exercise ``name`` worth ``points`` (see the module docstring)."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
        raise ValueError(f"points must be a positive number, got {points!r}")

    def decorate(function: Callable) -> Exercise:
        parameters = inspect.signature(function).parameters.values()
        if any(p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters):
            raise TypeError(f"exercise {name}: the grading function takes the answer names as plain parameters")
        return Exercise(name.strip(), float(points), tuple(p.name for p in parameters), function)

    return decorate
