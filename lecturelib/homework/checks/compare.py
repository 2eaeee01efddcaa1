"""Comparisons shared by the checks of every set: sympy expressions with a diagnosis, numbers and arrays."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from lecturelib.symbolic import Variables

from ..result import CheckResult, StudentError, UsageError, correct, guarded, incorrect

__all__ = ["check_expression", "check_value"]

# Functions that make an expression equal to a smooth one on part of the line only (a jump at x = 2, a kink):
# the reference answers of the course never use them, so an answer that does is equal only if sympy proves it.
NONSMOOTH = (
    sp.Piecewise,
    sp.Heaviside,
    sp.sign,
    sp.Abs,
    sp.floor,
    sp.ceiling,
    sp.Min,
    sp.Max,
    sp.DiracDelta,
    sp.re,
    sp.im,
    sp.conjugate,
    sp.arg,
    sp.frac,
)
N_SAMPLES = 24


def as_float_array(value: object, what: str) -> np.ndarray:
    """``value`` as a float array, or a :class:`StudentError` naming what it is (a bool, a string, a dict, a complex
    number with an imaginary part, an object that is no number)."""
    if value is None or isinstance(value, (bool, np.bool_, str, bytes, dict, set)) or callable(value):
        raise StudentError(f"{what} must be a number or an array of numbers, got {type(value).__name__}.")
    try:
        array = np.asarray(value)
        if array.dtype == object:
            array = np.asarray(value, dtype=complex)
    except Exception as err:  # anything numpy cannot read as numbers
        raise StudentError(f"{what} must be a number or an array of numbers, got {type(value).__name__}.") from err
    if array.dtype.kind == "b" or array.dtype.kind not in "iufc":
        raise StudentError(
            f"{what} must be a number or an array of numbers, got {type(value).__name__} of {array.dtype}."
        )
    if array.dtype.kind == "c":
        if np.any(array.imag != 0):
            raise StudentError(f"{what} has a nonzero imaginary part; the answer is real.")
        array = array.real
    return array.astype(float)


def as_float(value: object, what: str) -> float:
    """``value`` as one real number (a 1-element array counts), else a :class:`StudentError`."""
    if isinstance(value, sp.Basic):
        try:
            number = complex(value)
        except (TypeError, ValueError) as err:
            raise StudentError(f"{what} must be a number (it still contains symbols).") from err
        if number.imag != 0:
            raise StudentError(f"{what} has a nonzero imaginary part; the answer is real.")
        return number.real
    array = as_float_array(value, what)
    if array.size != 1:
        raise StudentError(f"{what} must be one number, got an array of shape {array.shape}.")
    return float(array.reshape(()))


def to_sympy(value: object, what: str) -> sp.Expr:
    if isinstance(value, str):
        raise StudentError(f"{what} is a string; build it from sympy symbols instead.")
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise StudentError(f"{what} must be a sympy expression or a number, got {type(value).__name__}.")
    try:
        result = sp.sympify(value, strict=True)
    except Exception as err:
        raise StudentError(f"{what} must be a sympy expression or a number, got {type(value).__name__}.") from err
    if isinstance(result, sp.MatrixBase):
        raise StudentError(f"{what} must be a scalar expression, got a matrix of shape {result.shape}.")
    if not isinstance(result, sp.Expr) or isinstance(result, sp.logic.boolalg.Boolean):
        raise StudentError(f"{what} must be a sympy expression or a number, got {type(value).__name__}.")
    return result


def _numeric_samples(expr: sp.Expr, symbols: Sequence[sp.Symbol], points: np.ndarray) -> np.ndarray:
    function = sp.lambdify(list(symbols), expr, modules="numpy")
    with np.errstate(all="ignore"):
        values = np.asarray(function(*points.T), dtype=complex)
    return np.broadcast_to(values, (points.shape[0],))


def align_symbols(answer: sp.Expr, expected: sp.Expr) -> sp.Expr:
    """Rename the answer's symbols to the reference's symbols of the same name.

    A student who writes ``x, y = sp.symbols("x y")`` in their own cell gets symbols that differ from the notebook's
    ``real=True`` ones although they print the same; for sympy they are different variables.
    """
    by_name = {symbol.name: symbol for symbol in expected.free_symbols if isinstance(symbol, sp.Symbol)}
    renames = {
        symbol: by_name[symbol.name]
        for symbol in answer.free_symbols
        if isinstance(symbol, sp.Symbol) and symbol.name in by_name and by_name[symbol.name] != symbol
    }
    return answer.xreplace(renames) if renames else answer


def _sample_points(n_symbols: int) -> np.ndarray:
    """Points on which to compare two expressions: drawn afresh (from the operating system's entropy) at every
    call, at scales from 0.1 to 30, so an answer cannot be tuned to agree only where the check looks."""
    rng = np.random.default_rng()
    if not n_symbols:
        return np.zeros((1, 0))
    return rng.uniform(-1, 1, size=(N_SAMPLES, n_symbols)) * 10 ** rng.uniform(-1, 1.5, size=(N_SAMPLES, n_symbols))


def relate(answer: sp.Expr, expected: sp.Expr) -> str:
    """How ``answer`` relates to ``expected``: 'equal', 'negated', 'factor:<c>' or 'different'.

    Equal when sympy proves the difference is 0. Otherwise, if the answer uses a function that is smooth only piece
    by piece (``Piecewise``, ``Heaviside``, ``Abs``, ...) that the reference does not, different. Otherwise the two
    are compared at random points (:func:`_sample_points`) to 1e-9 relative, which also names a sign or a
    constant factor.
    """
    answer = align_symbols(answer, expected)
    if sp.simplify(answer - expected) == 0:
        return "equal"
    if any(answer.has(kind) and not expected.has(kind) for kind in NONSMOOTH):
        return "different"
    symbols = sorted(answer.free_symbols | expected.free_symbols, key=str)
    points = _sample_points(len(symbols))
    try:
        a = _numeric_samples(answer, symbols, points)
        e = _numeric_samples(expected, symbols, points)
    except Exception:  # lambdify could not handle the expression: fall back to the exact answer above
        return "different"
    ok = np.isfinite(a) & np.isfinite(e)
    if ok.sum() < max(1, len(ok) // 2):
        return "different"
    a, e = a[ok], e[ok]
    scale = 1.0 + np.abs(e)
    if np.all(np.abs(a - e) <= 1e-9 * scale):
        return "equal"
    if np.all(np.abs(a + e) <= 1e-9 * scale):
        return "negated"
    nonzero = np.abs(e) > 1e-12
    if nonzero.any() and np.all(np.abs(a[~nonzero]) <= 1e-9):
        ratios = a[nonzero] / e[nonzero]
        if np.allclose(ratios, ratios[0], rtol=1e-9, atol=0) and abs(ratios[0].imag) < 1e-12:
            return f"factor:{ratios[0].real:.12g}"
    return "different"


def describe(relation: str, what: str) -> str:
    if relation == "negated":
        return f"{what} has the wrong sign."
    if relation.startswith("factor:"):
        factor = float(relation.split(":", 1)[1])
        if factor == 0:
            return f"{what} is 0, and it should not be."
        if abs(factor - 1) < 0.05:
            return (
                f"{what} is close but not equal (off by {abs(factor - 1):.1%}): is a number rounded, or a "
                "decimal used where an exact fraction or root belongs?"
            )
        if math.isclose(factor, 0.5) or math.isclose(factor, 2.0):
            return f"{what} is off by a factor of 2 (a missing or extra factor 2, or a 1/2 from the chain rule)."
        if math.isclose(abs(factor), 1.0):
            return f"{what} has the wrong sign."
        for k in (3, 6, 24):
            if math.isclose(abs(factor), k) or math.isclose(abs(factor), 1 / k):
                return f"{what} is off by a constant factor: check the factorial (1/k!) in front."
        return f"{what} is off by a constant factor (not 2, not a factorial): recheck each coefficient."
    return f"{what} is not right."


def compare_scalar(name: str, value: sp.Expr, expected: sp.Expr, what: str, reciprocal: str) -> CheckResult:
    """Correct if ``value`` equals ``expected``; else name the mistake (reciprocal, sign, factor), not the answer."""
    relation = relate(value, expected)
    if relation == "equal":
        return correct(name)
    if value != 0 and relate(1 / value, expected) == "equal":
        return incorrect(name, f"{what} is upside down ({reciprocal}).")
    return incorrect(name, describe(relation, what))


@guarded("check_expression")
def check_expression(answer: object, expected: sp.Expr, *, what: str = "your expression") -> CheckResult:
    """Compare a scalar sympy expression with an independently computed one, diagnosing sign and factor errors.

    Parameters
    ----------
    answer : sympy.Expr or number
        The student's expression (floats are compared to 1e-9 relative at random points).
    expected : sympy.Expr
        The reference, computed by the caller (never shown).
    what : str
        How to name the answer in the message.

    Introduced in the homework sets.
    """
    relation = relate(to_sympy(answer, what), sp.sympify(expected))
    if relation == "equal":
        return correct("check_expression")
    return incorrect("check_expression", describe(relation, what))


def variables_of(variables: Variables) -> tuple[sp.Symbol, ...]:
    if isinstance(variables, sp.Symbol):
        return (variables,)
    result = tuple(variables)
    if not result or not all(isinstance(v, sp.Symbol) for v in result):
        raise UsageError(f"variables must be a sympy Symbol or a sequence of Symbols, got {variables!r}")
    return result


@guarded("check_value")
def check_value(answer: object, reference: ArrayLike, *, what: str = "your value", rtol: float = 1e-6) -> CheckResult:
    """Compare a number or array with one computed independently by the caller, reporting shape, sign and factors.

    No set calls it yet: a general check for a new exercise's numerical answer.
    """
    name = "check_value"
    value = as_float_array(answer, what)
    expected = np.asarray(reference, dtype=float)
    if value.shape != expected.shape:
        return incorrect(name, f"shape mismatch: {what} has shape {value.shape}, expected shape {expected.shape}.")
    if not np.all(np.isfinite(value)):
        return incorrect(name, f"{what} is not finite.")
    if np.allclose(value, expected, rtol=rtol, atol=1e-12):
        return correct(name)
    for factor, message in (
        (-1.0, "has the wrong sign"),
        (2.0, "is off by a factor of 2"),
        (0.5, "is off by a factor of 2"),
    ):
        if np.allclose(value, factor * expected, rtol=rtol, atol=1e-12):
            return incorrect(name, f"{what} {message}.")
    if np.allclose(value**2, expected, rtol=rtol) or np.allclose(value, expected**2, rtol=rtol):
        return incorrect(name, f"{what} is off by a square (a norm where a squared norm belongs, or the reverse).")
    if np.all(value != 0) and np.allclose(1 / value, expected, rtol=rtol):
        return incorrect(name, f"{what} is upside down (the reciprocal).")
    return incorrect(name, f"{what} is not right.")
