"""Comparisons shared by the checks of every set: sympy expressions with a diagnosis, numbers and arrays."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..result import CheckResult, StudentError, correct, guarded, incorrect

__all__ = ["check_expression", "check_value"]

def to_sympy(value: Any, what: str) -> sp.Expr:
    if isinstance(value, str):
        raise StudentError(f"{what} is a string; build it from sympy symbols instead.")
    try:
        result = sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError) as err:
        raise StudentError(f"{what} must be a sympy expression or a number, got {type(value).__name__}.") from err
    if isinstance(result, sp.MatrixBase):
        raise StudentError(f"{what} must be a scalar expression, got a matrix of shape {result.shape}.")
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
    renames = {symbol: by_name[symbol.name] for symbol in answer.free_symbols
               if isinstance(symbol, sp.Symbol) and symbol.name in by_name and by_name[symbol.name] != symbol}
    return answer.xreplace(renames) if renames else answer


def relate(answer: sp.Expr, expected: sp.Expr) -> str:
    """How ``answer`` relates to ``expected``: 'equal', 'negated', 'factor:<c>' or 'different'."""
    answer = align_symbols(answer, expected)
    if sp.simplify(answer - expected) == 0:
        return "equal"
    symbols = sorted(answer.free_symbols | expected.free_symbols, key=str)
    rng = np.random.default_rng(20180606)
    points = rng.uniform(-1.7, 1.9, size=(7, len(symbols))) if symbols else np.zeros((1, 0))
    try:
        a = _numeric_samples(answer, symbols, points)
        e = _numeric_samples(expected, symbols, points)
    except Exception:  # lambdify could not handle the expression: fall back to the exact answer above
        return "different"
    ok = np.isfinite(a) & np.isfinite(e)
    if not ok.any():
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
        if math.isclose(factor, 0.5) or math.isclose(factor, 2.0):
            return f"{what} is off by a factor of 2 (a missing or extra factor 2, or a 1/2 from the chain rule)."
        if math.isclose(abs(factor), 1.0):
            return f"{what} has the wrong sign."
        for k in (3, 6, 24):
            if math.isclose(abs(factor), k) or math.isclose(abs(factor), 1 / k):
                return f"{what} is off by a constant factor: check the factorial (1/k!) in front."
        return f"{what} is off by a constant factor."
    return f"{what} is not right."


def compare_scalar(name: str, value: sp.Expr, expected: sp.Expr, what: str, reciprocal: str) -> CheckResult:
    """Correct if ``value`` equals ``expected``; otherwise name the mistake (reciprocal, sign, factor) without the answer."""
    relation = relate(value, expected)
    if relation == "equal":
        return correct(name)
    if value != 0 and relate(1 / value, expected) == "equal":
        return incorrect(name, f"{what} is upside down ({reciprocal}).")
    return incorrect(name, describe(relation, what))


@guarded("check_expression")
def check_expression(answer: Any, expected: Any, *, what: str = "your expression") -> CheckResult:
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


def variables_of(variables: Any) -> tuple[sp.Symbol, ...]:
    if isinstance(variables, sp.Symbol):
        return (variables,)
    result = tuple(variables)
    if not result or not all(isinstance(v, sp.Symbol) for v in result):
        raise TypeError(f"variables must be a sympy Symbol or a sequence of Symbols, got {variables!r}")
    return result



@guarded("check_value")
def check_value(answer: Any, reference: Any, *, what: str = "your value", rtol: float = 1e-6) -> CheckResult:
    """Compare a number or array with one computed independently by the caller, reporting shape, sign and factors.

    Introduced in homework set 3.
    """
    name = "check_value"
    value = np.asarray(answer, dtype=float)
    expected = np.asarray(reference, dtype=float)
    if value.shape != expected.shape:
        return incorrect(name, f"shape mismatch: {what} has shape {value.shape}, expected shape {expected.shape}.")
    if not np.all(np.isfinite(value)):
        return incorrect(name, f"{what} is not finite.")
    if np.allclose(value, expected, rtol=rtol, atol=1e-12):
        return correct(name)
    for factor, message in ((-1.0, "has the wrong sign"), (2.0, "is off by a factor of 2"),
                            (0.5, "is off by a factor of 2")):
        if np.allclose(value, factor * expected, rtol=rtol, atol=1e-12):
            return incorrect(name, f"{what} {message}.")
    if np.allclose(value**2, expected, rtol=rtol) or np.allclose(value, expected**2, rtol=rtol):
        return incorrect(name, f"{what} is off by a square (a norm where a squared norm belongs, or the reverse).")
    if np.all(value != 0) and np.allclose(1 / value, expected, rtol=rtol):
        return incorrect(name, f"{what} is upside down (the reciprocal).")
    return incorrect(name, f"{what} is not right.")
