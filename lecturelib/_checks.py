"""Argument checks shared by the numeric modules: one wording for one kind of mistake.

Every check raises ``TypeError`` when the value has the wrong kind (a string, a bool, a complex number, ...) and
``ValueError`` when it has the right kind but a value outside what is allowed; the message names the argument and
says what is allowed. Counts are bounded by what one machine can do in reasonable time and memory
(:data:`MAX_ITERATIONS`, :data:`MAX_ELEMENTS`): a larger count is refused instead of running for hours.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

#: A float64 array, as every array check returns.
FloatArray = NDArray[np.float64]

_T = TypeVar("_T")

#: The largest number of iterations of a loop run step by step in Python (about a minute of work at ten microseconds
#: per step).
MAX_ITERATIONS = 10_000_000

#: The largest number of float64 entries an array built from a count may have (800 MB).
MAX_ELEMENTS = 100_000_000


# Every check takes ``value: object``: any object may be passed, and telling a wrong one apart is the check's job.


def _kind(value: object) -> str:
    return f"{value!r} of type {type(value).__name__}"


def real_number(
    value: object,
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
    except OverflowError:  # an int (or exact rational) beyond the float range
        number = -math.inf if value < 0 else math.inf
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


def positive_number(value: object, name: str) -> float:
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


def integer_at_least(value: object, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int, or TypeError/ValueError naming ``name`` unless it is an integer >= ``minimum``.

    With ``maximum`` (a count that sets how long a loop runs or how large an array is) a larger value is refused too,
    and the message gives the bound.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {_kind(value)}")
    count = int(value)
    if count < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and count > maximum:
        raise ValueError(
            f"{name} must be at most {maximum} (a larger count would not finish in reasonable time or memory on "
            f"one machine), got {value}"
        )
    return count


def within_budget(elements: int, name: str, limit: int = MAX_ELEMENTS) -> None:
    """ValueError naming ``name`` if an array (or loop) of ``elements`` entries exceeds ``limit``."""
    if elements > limit:
        raise ValueError(
            f"{name} ask for {elements} entries, more than the {limit} this function allows (a larger request would "
            "not finish in reasonable time or memory on one machine); use fewer"
        )


def real_array(
    value: object,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    finite: bool = True,
    allow_empty: bool = True,
    integers: bool = True,
) -> FloatArray:
    """``value`` as a float64 array, or TypeError/ValueError naming ``name``.

    Refused with TypeError: strings, bools and bool arrays, complex numbers and arrays (their imaginary part would be
    lost), objects that are not numbers. Refused with ValueError: the wrong number of dimensions (``ndim``, one
    value or a tuple of allowed values), an empty array unless ``allow_empty``, and with ``finite`` NaN or inf
    entries. ``integers=False`` refuses integer arrays as well (TypeError): for arrays that must already be floating
    point.
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
    if not integers and raw.dtype.kind != "f":
        raise TypeError(
            f"{name} must be a real floating-point array, got dtype {raw.dtype}; "
            f"convert with numpy.asarray({name}, dtype=float)"
        )
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


def real_matrix(value: object, name: str) -> FloatArray:
    """``value`` as a non-empty finite 2-D float64 array (a number becomes a 1×1 matrix), or TypeError/ValueError."""
    array = real_array(value, name, finite=False)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (or a number), got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return array


def positive_array(
    value: object, name: str, *, ndim: int | tuple[int, ...] | None = None, entry: str = "entry"
) -> FloatArray:
    """``value`` as a float64 array whose every entry is finite and > 0, or TypeError/ValueError naming ``name``.

    The message of a bad entry calls it ``entry`` (a step, a tolerance, ...) and quotes the first one.
    """
    array = real_array(value, name, ndim=ndim, finite=False)
    good = np.isfinite(array) & (array > 0)
    if not np.all(good):
        bad = float(array[~good].ravel()[0])
        raise ValueError(f"{name}: every {entry} must be a finite positive number, got {bad!r}")
    return array


def integer_array(value: object, name: str, *, minimum: int) -> NDArray[np.int64]:
    """``value`` as a 1-D int64 array (flattened) of integers >= ``minimum``, or TypeError/ValueError naming ``name``.

    Integer dtypes only: floats such as ``1.0``, bools and strings are refused (TypeError).
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be integers, got a {type(value).__name__}")
    raw = np.asarray(value)
    if raw.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got an array of dtype {raw.dtype}")
    if raw.size and np.any(raw < minimum):
        raise ValueError(f"{name} must all be at least {minimum}, got {raw.min()}")
    return np.asarray(raw, dtype=np.int64).ravel()


def probability(value: object, name: str) -> float:
    """``value`` as a float in [0, 1) (a momentum or a moment's decay rate), or TypeError/ValueError naming ``name``."""
    return real_number(value, name, at_least=0.0, below=1.0)


def real_pair(
    value: object, name: str, *, above: float | None = None, at_most: float | None = None
) -> tuple[float, float]:
    """A pair ``(a, b)`` of finite real numbers (a limit pair, a figure size), or TypeError/ValueError naming ``name``.

    Each entry is checked by :func:`real_number` as ``name[0]`` and ``name[1]`` with the bounds ``above`` and
    ``at_most``.
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not hasattr(value, "__getitem__"):
        raise TypeError(f"{name} must be a pair of finite numbers, got {_kind(value)}")
    if len(value) != 2:
        raise TypeError(f"{name} must be a pair of finite numbers, got {len(value)} entries: {value!r}")
    first = real_number(value[0], f"{name}[0]", above=above, at_most=at_most)
    second = real_number(value[1], f"{name}[1]", above=above, at_most=at_most)
    return first, second


def sequence(value: object, name: str, what: str, *, min_length: int = 0) -> tuple[object, ...]:
    """The entries of ``value`` as a tuple if it is a sequence (a list, a tuple, an array; not a string) of at least
    ``min_length`` entries, else TypeError/ValueError naming ``name`` and saying ``what`` it must hold.

    The entries themselves are checked by the caller (each with the checks above).
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    entries = tuple(value)
    if len(entries) < min_length:
        raise ValueError(f"{name} must have at least {min_length} entries ({what}), got {entries}")
    return entries


def function(value: object, name: str, signature: str) -> Callable[..., object]:
    """``value`` if it is callable, else TypeError naming ``name`` and the expected ``signature`` (e.g. ``grad(x)``).

    What the function returns is checked where it is called: a callable may return anything.
    """
    if not callable(value):
        raise TypeError(f"{name} must be a callable {signature}, got {_kind(value)}")
    return value


def instance_of(value: object, name: str, kind: type[_T] | tuple[type[_T], ...], what: str | None = None) -> _T:
    """``value`` if it is an instance of ``kind``, else TypeError naming ``name`` and ``what`` is allowed."""
    if not isinstance(value, kind):
        if what is None:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            what = " or ".join(f"a {k.__name__}" for k in kinds)
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def returned_number(value: object, name: str) -> float:
    """What a caller's function ``name`` returned, as a float, or TypeError unless it is one real number.

    Bools, arrays, strings and complex numbers are refused; NaN and inf are passed on (a result, judged by the caller).
    """
    array = np.asarray(value)
    if isinstance(value, (bool, np.bool_)) or array.ndim != 0 or array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must return a real number, got {_kind(value)}")
    return float(array)


def returned_array(value: object, name: str, what: str = "") -> FloatArray:
    """What a caller's function ``name`` returned, as a float64 array, or TypeError unless it holds real numbers.

    ``what`` (e.g. ``"at theta + h v"``) is added to the message. NaN and inf are passed on, as in
    :func:`returned_number`; the shape is checked by the caller.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        where = f" ({what})" if what else ""
        raise TypeError(f"{name} must return an array of real numbers, got dtype {array.dtype}{where}")
    return array.astype(np.float64, copy=False)


_A = TypeVar("_A", np.ndarray, float, np.floating)


def finite_result(value: _A, message: str) -> _A:
    """``value`` if all its entries are finite, else ``ValueError(message)``.

    For results computed from finite inputs that overflowed float64 on the way: the message says which inputs are too
    large (inputs are checked by the functions above, before any work).
    """
    if not np.all(np.isfinite(value)):
        raise ValueError(message)
    return value


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
