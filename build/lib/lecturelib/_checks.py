"""Argument checks shared by the numeric modules: one wording for one kind of mistake."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any


def positive_number(value: Any, name: str) -> float:
    """``value`` as a float, or TypeError/ValueError naming ``name`` unless it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a finite positive number, got {value!r} of type {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return float(value)


def integer_at_least(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int, or TypeError/ValueError naming ``name`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)
