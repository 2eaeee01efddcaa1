"""The verdict of a check, and the guard every check runs under.

A check answers with a :class:`CheckResult`; :func:`guarded` makes an unanswered placeholder, a student function that
raises, or an answer of an unexpected type an answer ("not answered yet" / "not right"), never a crash.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckResult", "is_unanswered"]

STATUSES = ("correct", "incorrect", "unanswered")
UNANSWERED_MESSAGE = "replace the `...` placeholder with your answer and run the cell again."
_CODE = re.compile(r"`([^`]+)`")


# --------------------------------------------------------------------------------------------------------------------
# The result of a check
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check: ``status`` in ``{"correct", "incorrect", "unanswered"}`` and a ``message``.

    Displayed in Jupyter as a coloured line; ``repr`` gives ``CheckResult(status=..., message=...)`` so tests and
    scripts can read it. The message never contains the expected answer.
    """

    status: str
    message: str
    check: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def correct(self) -> bool:
        """True when the answer is correct."""
        return self.status == "correct"

    def assert_correct(self) -> CheckResult:
        """Return ``self`` when correct, else raise ``AssertionError`` with the message (used by solutions)."""
        if self.status != "correct":
            raise AssertionError(f"{self.check or 'check'}: {self.status}: {self.message}")
        return self

    def __repr__(self) -> str:
        return f"CheckResult(status={self.status!r}, message={self.message!r})"

    def __str__(self) -> str:
        return f"{self._headline()}: {self.message}" if self.message else self._headline()

    def _headline(self) -> str:
        return {"correct": "✔ Correct", "incorrect": "✘ Not yet", "unanswered": "… Not answered yet"}[self.status]

    def _repr_markdown_(self) -> str:
        return f"**{self._headline()}**: {self.message}" if self.message else f"**{self._headline()}**"

    def _repr_html_(self) -> str:
        colour = {"correct": "#1a7f37", "incorrect": "#b42318", "unanswered": "#6b6b6b"}[self.status]
        return (
            f'<div class="homework-check homework-check-{self.status}" data-status="{self.status}" '
            f'style="border-left: 4px solid {colour}; padding: 0.3em 0.8em;">'
            f'<strong style="color: {colour};">{html.escape(self._headline())}</strong>'
            + (": " + _CODE.sub(r"<code>\1</code>", html.escape(self.message)) if self.message else "")
            + "</div>"
        )


def correct(check: str, message: str = "") -> CheckResult:
    return CheckResult("correct", message, check)


def incorrect(check: str, message: str) -> CheckResult:
    return CheckResult("incorrect", message, check)


def unanswered(check: str) -> CheckResult:
    return CheckResult("unanswered", UNANSWERED_MESSAGE, check)


def is_unanswered(value: object) -> bool:
    """True when ``value`` is the placeholder ``...``, or a tuple, list or dict that still holds one."""
    if value is Ellipsis:
        return True
    if isinstance(value, (tuple, list)):
        return any(is_unanswered(v) for v in value)
    if isinstance(value, dict):
        return any(is_unanswered(v) for v in value.values())
    return False


def guarded(name: str) -> Callable[[Callable[..., CheckResult]], Callable[..., CheckResult]]:
    """Decorate a check: an unanswered answer, an answer of an unexpected type, or an error in the student's code
    gives a result, never a crash. The answer is the check's first parameter, passed by position or by its name.
    Only :class:`UsageError` (the check itself called wrongly, by the notebook's author) is raised."""

    def decorate(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        signature = inspect.signature(function)
        first = next(iter(signature.parameters))

        def wrapper(*args: Any, **kwargs: Any) -> CheckResult:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                raise UsageError(f"{name}: {err}") from None
            answer = bound.arguments[first]
            if is_unanswered(answer):
                return unanswered(name)
            if isinstance(answer, Failed):
                return incorrect(name, answer.message)
            try:
                return function(*bound.args, **bound.kwargs)
            except Unanswered:
                return unanswered(name)
            except StudentError as err:
                return incorrect(name, str(err))
            except UsageError:
                raise
            except Exception as err:  # an answer the check could not read: not right, never a crash
                return incorrect(
                    name,
                    f"your answer could not be checked (the check met a {type(err).__name__} "
                    "while reading it): is it of the kind the exercise asks for?",
                )

        wrapper.__name__ = function.__name__
        wrapper.__qualname__ = function.__qualname__
        wrapper.__doc__ = function.__doc__
        wrapper.__wrapped__ = function  # type: ignore[attr-defined]
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        return wrapper

    return decorate


@dataclass(frozen=True)
class Failed:
    """An answer that could not be computed (a student's function raised): every check says "not right" and why."""

    message: str


class UsageError(ValueError):
    """A check called wrongly by the notebook's author (not the student's answer): raised, never graded."""


class Unanswered(Exception):
    """Raised inside a check when a student's function still returns the placeholder."""


class StudentError(Exception):
    """Raised inside a check for a problem with the answer; becomes an "incorrect" result."""


def call_student(function: object, *args: Any) -> Any:  # any student object and arguments; the result is checked
    """Call a student's function; its placeholder return means unanswered, its exceptions are reported."""
    if not callable(function):
        raise StudentError(f"expected a function, got {type(function).__name__}.")
    try:
        value = function(*args)
    except Exception as err:  # the student's code failed: report it instead of crashing the check
        raise StudentError(f"your function raised {type(err).__name__}: {err}") from err
    if is_unanswered(value):
        raise Unanswered
    if value is None:
        raise StudentError("your function returned None: did you forget a `return`?")
    return value
