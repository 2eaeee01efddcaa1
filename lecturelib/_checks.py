"""Argument checks shared by the numeric modules: one wording for one kind of mistake.

Every check raises ``TypeError`` when the value has the wrong kind (a string, a bool, a complex number, ...) and
``ValueError`` when it has the right kind but a value outside what is allowed; the message names the argument and
says what is allowed. Counts are bounded by what one machine can do in reasonable time and memory
(:data:`MAX_ITERATIONS`, :data:`MAX_ELEMENTS`): a larger count is refused instead of running for hours.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

#: The largest number of iterations of a loop run step by step in Python (about a minute of work at ten microseconds
#: per step).
MAX_ITERATIONS = 10_000_000

#: The largest number of float64 entries an array built from a count may have (800 MB).
MAX_ELEMENTS = 100_000_000


def _kind(value: Any) -> str:
    return f"{value!r} of type {type(value).__name__}"


def real_number(
    value: Any,
    name: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
    finite: bool = True,
) -> float:
    """``value`` as a float, or TypeError/ValueError naming ``name`` unless it is a real number in the given range.

    Python and NumPy numbers and exact sympy numbers (``sympy.Rational(1, 4)``) are accepted; bools, strings and
    complex numbers are not. ``finite=False`` also allows ``inf`` (never NaN).
    """
    allowed = "a finite real number" if finite else "a real number (not NaN)"
    bounds = []
    if above is not None:
        bounds.append(f"> {above:g}")
    if at_least is not None:
        bounds.append(f">= {at_least:g}")
    if below is not None:
        bounds.append(f"< {below:g}")
    if at_most is not None:
        bounds.append(f"<= {at_most:g}")
    wanted = allowed + (" " + " and ".join(bounds) if bounds else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be {wanted}, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf if value > 0 else -math.inf
    except (TypeError, ValueError) as err:  # pragma: no cover - a Real that refuses float()
        raise TypeError(f"{name} must be {wanted}, got {_kind(value)}") from err
    if math.isnan(number) or (finite and math.isinf(number)):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    if (
        (above is not None and not number > above)
        or (at_least is not None and not number >= at_least)
        or (below is not None and not number < below)
        or (at_most is not None and not number <= at_most)
    ):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return number


def positive_number(value: Any, name: str) -> float:
    """``value`` as a float, or TypeError/ValueError naming ``name`` unless it is a finite number > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a finite positive number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return number


def integer_at_least(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int, or TypeError/ValueError naming ``name`` unless it is an integer >= ``minimum``.

    With ``maximum`` (a count that sets how long a loop runs or how large an array is) a larger value is refused too,
    and the message gives the bound.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {_kind(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(
            f"{name} must be at most {maximum} (a larger count would not finish in reasonable time or memory on "
            f"one machine), got {value}"
        )
    return int(value)


def within_budget(elements: int, name: str, limit: int = MAX_ELEMENTS) -> None:
    """ValueError naming ``name`` if an array (or loop) of ``elements`` entries exceeds ``limit``."""
    if elements > limit:
        raise ValueError(
            f"{name} ask for {elements} entries, more than the {limit} this function allows (a larger request would "
            "not finish in reasonable time or memory on one machine); use fewer"
        )


def real_array(
    value: Any, name: str, *, ndim: int | tuple[int, ...] | None = None, finite: bool = True, allow_empty: bool = True
) -> np.ndarray:
    """``value`` as a float64 array, or TypeError/ValueError naming ``name``.

    Refused with TypeError: strings, bools and bool arrays, complex numbers and arrays (their imaginary part would be
    lost), objects that are not numbers. Refused with ValueError: the wrong number of dimensions (``ndim``, one
    value or a tuple of allowed values), an empty array unless ``allow_empty``, and with ``finite`` NaN or inf
    entries.
    """
    wanted = "a real number or an array of real numbers"
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be {wanted}, got a {type(value).__name__}")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be {wanted}, got a bool")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be {wanted}, got {type(value).__name__}") from err
    if raw.dtype.kind == "O":
        try:
            raw = np.asarray(value, dtype=float)
        except (TypeError, ValueError, OverflowError) as err:
            raise TypeError(f"{name} must be {wanted}, got {type(value).__name__} holding non-numbers") from err
    if raw.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got a complex array (its imaginary part would be lost)")
    if raw.dtype.kind == "b":
        raise TypeError(f"{name} must be {wanted}, got booleans")
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be {wanted}, got an array of dtype {raw.dtype}")
    array = np.asarray(raw, dtype=np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            dims = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {dims} dimension(s), got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if finite and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return array


def power_of_two_scale(array: np.ndarray, *, always: bool = False) -> float:
    """A power of two ``c`` with ``max |array| / c`` in ``[1, 2)``: dividing by it is exact and prevents overflow.

    Unless ``always``, ``c`` is 1 when ``max |array|`` lies in ``[2**-500, 2**500]`` (ordinary values keep their
    textbook computation bit for bit); it is also 1 for an all-zero or non-finite array.
    """
    top = float(np.max(np.abs(array))) if np.size(array) else 0.0
    if not (math.isfinite(top) and top > 0):
        return 1.0
    if not always and 2.0**-500 <= top <= 2.0**500:
        return 1.0
    return math.ldexp(1.0, math.frexp(top)[1] - 1)
