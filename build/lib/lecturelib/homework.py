"""Automatic checks for the homework sets, and the export of student and instructor notebooks.

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

**Export.** ``python -m lecturelib.homework export OUTDIR [SET ...] [--source DIR]`` writes
``OUTDIR/student/<set>.ipynb`` (solutions replaced by a placeholder, no outputs) and ``OUTDIR/instructor/<set>.ipynb``
(with solutions) for every homework set, or for the named ones (a set is named by its file stem, e.g.
``hw1_taylor_descent``, or by the prefix before the first underscore, ``hw1``). The sets are read from ``--source``,
by default ``book/homework`` under the current directory, else under the repository that holds this package.
Nothing is written unless every requested notebook was built: they are assembled in a temporary folder inside
``OUTDIR`` and moved into place at the end.
"""

from __future__ import annotations

import argparse
import html
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

__all__ = [
    "CheckResult",
    "check_bifurcation",
    "check_convergent_step",
    "check_expression",
    "check_gradient_function",
    "check_hessian",
    "check_period2_orbit",
    "check_rate_experiment",
    "check_run_diagnosis",
    "check_scalar_theorem1",
    "check_step_bound",
    "check_taylor_term",
    "check_taylor_term_function",
    "check_theorem1_function",
    "check_theorem4_lhs_function",
    "check_threshold",
    "check_value",
    "export",
    "find_sets",
    "is_unanswered",
    "main",
    "split_notebook",
]

STATUSES = ("correct", "incorrect", "unanswered")
UNANSWERED_MESSAGE = "replace the `...` placeholder with your answer and run the cell again."


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
        return f"{self._headline()}: {self.message}"

    def _headline(self) -> str:
        return {"correct": "✔ Correct", "incorrect": "✘ Not yet", "unanswered": "… Not answered yet"}[self.status]

    def _repr_markdown_(self) -> str:
        return f"**{self._headline()}**: {self.message}"

    def _repr_html_(self) -> str:
        colour = {"correct": "#1a7f37", "incorrect": "#b42318", "unanswered": "#6b6b6b"}[self.status]
        return (
            f'<div class="homework-check homework-check-{self.status}" data-status="{self.status}" '
            f'style="border-left: 4px solid {colour}; padding: 0.3em 0.8em;">'
            f'<strong style="color: {colour};">{html.escape(self._headline())}</strong>: '
            f"{html.escape(self.message)}</div>"
        )


def _correct(check: str, message: str = "correct.") -> CheckResult:
    return CheckResult("correct", message, check)


def _incorrect(check: str, message: str) -> CheckResult:
    return CheckResult("incorrect", message, check)


def _unanswered(check: str) -> CheckResult:
    return CheckResult("unanswered", UNANSWERED_MESSAGE, check)


def is_unanswered(value: Any) -> bool:
    """True when ``value`` is the placeholder ``...``, or a tuple, list or dict that still holds one."""
    if value is Ellipsis:
        return True
    if isinstance(value, (tuple, list)):
        return any(is_unanswered(v) for v in value)
    if isinstance(value, dict):
        return any(is_unanswered(v) for v in value.values())
    return False


def _guarded(name: str):
    """Decorate a check: an unanswered first argument, or an error in the student's code, never escapes as a crash."""

    def decorate(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        def wrapper(answer: Any, *args: Any, **kwargs: Any) -> CheckResult:
            if is_unanswered(answer):
                return _unanswered(name)
            try:
                return function(answer, *args, **kwargs)
            except _Unanswered:
                return _unanswered(name)
            except _StudentError as err:
                return _incorrect(name, str(err))

        wrapper.__name__ = function.__name__
        wrapper.__qualname__ = function.__qualname__
        wrapper.__doc__ = function.__doc__
        wrapper.__wrapped__ = function  # type: ignore[attr-defined]
        return wrapper

    return decorate


class _Unanswered(Exception):
    """Raised inside a check when a student's function still returns the placeholder."""


class _StudentError(Exception):
    """Raised inside a check for a problem with the answer; becomes an "incorrect" result."""


def _call_student(function: Callable[..., Any], *args: Any) -> Any:
    """Call a student's function; its placeholder return means unanswered, its exceptions are reported."""
    if not callable(function):
        raise _StudentError(f"expected a function, got {type(function).__name__}.")
    try:
        value = function(*args)
    except Exception as err:  # the student's code failed: report it instead of crashing the check
        raise _StudentError(f"your function raised {type(err).__name__}: {err}") from err
    if is_unanswered(value):
        raise _Unanswered
    if value is None:
        raise _StudentError("your function returned None: did you forget a `return`?")
    return value


# --------------------------------------------------------------------------------------------------------------------
# Symbolic comparison with a diagnosis
# --------------------------------------------------------------------------------------------------------------------


def _to_sympy(value: Any, what: str) -> sp.Expr:
    if isinstance(value, str):
        raise _StudentError(f"{what} is a string; build it from sympy symbols instead.")
    try:
        result = sp.sympify(value, strict=True)
    except (sp.SympifyError, TypeError) as err:
        raise _StudentError(f"{what} must be a sympy expression or a number, got {type(value).__name__}.") from err
    if isinstance(result, sp.MatrixBase):
        raise _StudentError(f"{what} must be a scalar expression, got a matrix of shape {result.shape}.")
    return result


def _numeric_samples(expr: sp.Expr, symbols: Sequence[sp.Symbol], points: np.ndarray) -> np.ndarray:
    function = sp.lambdify(list(symbols), expr, modules="numpy")
    with np.errstate(all="ignore"):
        values = np.asarray(function(*points.T), dtype=complex)
    return np.broadcast_to(values, (points.shape[0],))


def _align_symbols(answer: sp.Expr, expected: sp.Expr) -> sp.Expr:
    """Rename the answer's symbols to the reference's symbols of the same name.

    A student who writes ``x, y = sp.symbols("x y")`` in their own cell gets symbols that differ from the notebook's
    ``real=True`` ones although they print the same; for sympy they are different variables.
    """
    by_name = {symbol.name: symbol for symbol in expected.free_symbols if isinstance(symbol, sp.Symbol)}
    renames = {symbol: by_name[symbol.name] for symbol in answer.free_symbols
               if isinstance(symbol, sp.Symbol) and symbol.name in by_name and by_name[symbol.name] != symbol}
    return answer.xreplace(renames) if renames else answer


def _relation(answer: sp.Expr, expected: sp.Expr) -> str:
    """How ``answer`` relates to ``expected``: 'equal', 'negated', 'factor:<c>' or 'different'."""
    answer = _align_symbols(answer, expected)
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


def _describe(relation: str, what: str) -> str:
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


def _compare_scalar(name: str, value: sp.Expr, expected: sp.Expr, what: str, reciprocal: str) -> CheckResult:
    """Correct if ``value`` equals ``expected``; otherwise name the mistake (reciprocal, sign, factor) without the answer."""
    relation = _relation(value, expected)
    if relation == "equal":
        return _correct(name)
    if value != 0 and _relation(1 / value, expected) == "equal":
        return _incorrect(name, f"{what} is upside down ({reciprocal}).")
    return _incorrect(name, _describe(relation, what))


@_guarded("check_expression")
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
    relation = _relation(_to_sympy(answer, what), sp.sympify(expected))
    if relation == "equal":
        return _correct("check_expression")
    return _incorrect("check_expression", _describe(relation, what))


def _variables(variables: Any) -> tuple[sp.Symbol, ...]:
    if isinstance(variables, sp.Symbol):
        return (variables,)
    result = tuple(variables)
    if not result or not all(isinstance(v, sp.Symbol) for v in result):
        raise TypeError(f"variables must be a sympy Symbol or a sequence of Symbols, got {variables!r}")
    return result


@_guarded("check_hessian")
def check_hessian(answer: Any, expr: Any, variables: Any) -> CheckResult:
    r"""Check a submitted Hessian of ``expr`` against sympy's :math:`\nabla^2 f`, entry by entry.

    Reports a shape mismatch, a matrix that is not symmetric, and for a wrong entry :math:`(i, j)` whether its sign
    or a factor 2 is off.

    Introduced in homework set 1.
    """
    from lecturelib.symbolic import hessian

    xs = _variables(variables)
    expected = hessian(expr, xs)
    try:
        matrix = sp.Matrix(answer)
    except Exception as err:
        raise _StudentError(
            f"the Hessian must be a sympy Matrix (or a nested list), got {type(answer).__name__}."
        ) from err
    n = len(xs)
    matrix = matrix.xreplace({v: by for v in matrix.free_symbols for by in xs
                              if isinstance(v, sp.Symbol) and v.name == by.name and v != by})
    if matrix.shape != (n, n):
        return _incorrect("check_hessian", f"shape mismatch: a Hessian in {n} variables is {n}×{n}, yours is "
                          f"{matrix.shape[0]}×{matrix.shape[1]}.")
    asymmetric = [(i, j) for i in range(n) for j in range(i + 1, n) if sp.simplify(matrix[i, j] - matrix[j, i]) != 0]
    if asymmetric:
        i, j = asymmetric[0]
        return _incorrect("check_hessian", f"not symmetric: entries ({i}, {j}) and ({j}, {i}) differ, but mixed "
                          "partial derivatives of a smooth function are equal.")
    problems = []
    for i in range(n):
        for j in range(i, n):
            relation = _relation(_to_sympy(matrix[i, j], "an entry"), expected[i, j])
            if relation != "equal":
                problems.append(_describe(relation, f"entry ({i}, {j})"))
    if problems:
        return _incorrect("check_hessian", " ".join(problems))
    return _correct("check_hessian")


@_guarded("check_step_bound")
def check_step_bound(answer: Any, expr: Any, variables: Any, point: Any) -> CheckResult:
    r"""Check the largest step :math:`2 g^\top g / g^\top H g` that decreases ``expr`` to second order at ``point``.

    The reference is :func:`lecturelib.symbolic.descent_step_bound`. An answer of ``sympy.oo`` is expected when
    :math:`g^\top H g \le 0`.

    Introduced in homework set 1.
    """
    from lecturelib.symbolic import descent_step_bound

    expected = descent_step_bound(expr, variables, point)
    value = _to_sympy(answer, "your step bound")
    if expected == sp.oo or value == sp.oo:
        if expected == value:
            return _correct("check_step_bound")
        if expected == sp.oo:
            return _incorrect("check_step_bound", "here gᵀHg ≤ 0, so what does the second-order model say about "
                              "large steps?")
        return _incorrect("check_step_bound", "here gᵀHg > 0, so the step bound is finite.")
    return _compare_scalar("check_step_bound", value, expected, "your step bound", "numerator and denominator swapped")


@_guarded("check_taylor_term")
def check_taylor_term(answer: Any, expr: Any, variables: Any, point: Any, order: int) -> CheckResult:
    r"""Check the degree-``order`` term of the Taylor expansion of ``expr`` around ``point``.

    The reference is the difference of two :func:`lecturelib.symbolic.taylor_polynomial` calls (degree ``order`` minus
    degree ``order - 1``), so the answer must be the homogeneous term in :math:`x - a` alone.

    Introduced in homework set 1.
    """
    from lecturelib.symbolic import taylor_polynomial

    xs = _variables(variables)
    expected = sp.expand(taylor_polynomial(expr, xs, point, order) - taylor_polynomial(expr, xs, point, order - 1))
    value = sp.expand(_align_symbols(_to_sympy(answer, "your term"), sp.Tuple(*xs)))
    relation = _relation(value, expected)
    if relation == "equal":
        return _correct("check_taylor_term")
    lower = sp.expand(taylor_polynomial(expr, xs, point, order - 1))
    if _relation(value, sp.expand(expected + lower)) == "equal":
        return _incorrect("check_taylor_term", f"this is the whole polynomial of degree {order}; give only the "
                          f"degree-{order} term.")
    if relation == "different" and _mixed_terms_miscounted(value, expected, xs, point):
        return _incorrect("check_taylor_term", "the pure powers are right but the mixed terms are not: count how "
                          "many orderings (i, j, k) of the sum give the same mixed derivative.")
    return _incorrect("check_taylor_term", _describe(relation, "your term"))


def _mixed_terms_miscounted(answer: sp.Expr, expected: sp.Expr, xs: tuple[sp.Symbol, ...], point: Any) -> bool:
    """True when ``answer`` and ``expected`` agree on every pure power of one displacement but not on a mixed one.

    Both are written as polynomials in the displacement :math:`h = x - a`; a term :math:`h_i^k` involves one
    variable, a mixed term several. The typical slip is a mixed coefficient off by its multiplicity.
    """
    from lecturelib.symbolic import _as_point

    try:
        at = _as_point(xs, point)
        hs = sp.symbols(f"h_0:{len(xs)}")
        shift = {v: at[v] + h for v, h in zip(xs, hs)}
        mine = sp.Poly(sp.expand(answer.subs(shift, simultaneous=True)), *hs)
        true = sp.Poly(sp.expand(expected.subs(shift, simultaneous=True)), *hs)
    except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError, TypeError):
        return False
    monomials = set(mine.monoms()) | set(true.monoms())
    pure = [m for m in monomials if sum(1 for e in m if e) <= 1]
    mixed = [m for m in monomials if sum(1 for e in m if e) > 1]
    same = all(sp.simplify(mine.coeff_monomial(m) - true.coeff_monomial(m)) == 0 for m in pure)
    return same and any(sp.simplify(mine.coeff_monomial(m) - true.coeff_monomial(m)) != 0 for m in mixed)


@_guarded("check_taylor_term_function")
def check_taylor_term_function(function: Any, order: int = 3, *, n_cases: int = 4, seed: int = 0) -> CheckResult:
    r"""Check a student's ``function(expr, variables, point)`` that returns the degree-``order`` Taylor term.

    It is called on ``n_cases`` random polynomials in two variables (with a sine factor, so the term is not the
    polynomial's own coefficient) and random rational points, and each result is compared with
    :func:`lecturelib.symbolic.taylor_polynomial`.

    Introduced in homework set 1.
    """
    from lecturelib.symbolic import taylor_polynomial

    x, y = sp.symbols("x y")
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        c = [sp.Integer(int(v)) for v in rng.integers(-3, 4, size=4)]
        expr = c[0] * x**3 * y + c[1] * x * y**2 + c[2] * y**4 + (c[3] + 1) * sp.sin(x + 2 * y)
        point = [sp.Rational(int(v), 2) for v in rng.integers(-2, 3, size=2)]
        value = _call_student(function, expr, (x, y), point)
        expected = sp.expand(taylor_polynomial(expr, (x, y), point, order)
                             - taylor_polynomial(expr, (x, y), point, order - 1))
        relation = _relation(sp.expand(_to_sympy(value, "the returned term")), expected)
        if relation != "equal":
            return _incorrect("check_taylor_term_function",
                              f"test case {case + 1} of {n_cases} (a random f of two variables): "
                              + _describe(relation, "the returned term"))
    return _correct("check_taylor_term_function", f"correct on {n_cases} random functions.")


# --------------------------------------------------------------------------------------------------------------------
# Numeric checks
# --------------------------------------------------------------------------------------------------------------------


@_guarded("check_gradient_function")
def check_gradient_function(grad: Any, loss: Callable[..., float], shapes: Sequence[tuple[int, ...]], *,
                            n_cases: int = 3, seed: int = 0) -> CheckResult:
    r"""Check a student's gradient ``grad(*args)`` of ``loss(*args)`` with respect to its LAST argument.

    ``shapes`` gives the shape of each argument; random arguments are drawn and ``grad`` is compared with a central
    finite difference of ``loss`` (computed here, independently of the student). Reports a shape mismatch, a wrong
    sign and a factor 2.

    Introduced in homework set 1.
    """
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        args = [rng.standard_normal(shape) for shape in shapes]
        value = np.asarray(_call_student(grad, *args), dtype=float)
        w = args[-1]
        if value.shape != w.shape:
            return _incorrect("check_gradient_function", f"shape mismatch: the gradient must have the shape of the "
                              f"variable, {w.shape}, but yours has shape {value.shape}.")
        reference = np.zeros_like(w)
        h = 1e-6
        for index in np.ndindex(w.shape):
            step = np.zeros_like(w)
            step[index] = h
            reference[index] = (loss(*args[:-1], w + step) - loss(*args[:-1], w - step)) / (2 * h)
        scale = 1e-5 * (1 + np.abs(reference).max())
        if np.abs(value - reference).max() <= scale:
            continue
        for factor, message in ((-1.0, "your gradient has the wrong sign."),
                                (2.0, "your gradient is off by a factor of 2: check the ½ in the loss."),
                                (0.5, "your gradient is off by a factor of 2: check the ½ in the loss.")):
            if np.abs(value - factor * reference).max() <= scale:
                return _incorrect("check_gradient_function", message)
        return _incorrect("check_gradient_function", f"your gradient disagrees with a finite-difference gradient of "
                          f"the loss (random test case {case + 1}).")
    return _correct("check_gradient_function", f"matches finite differences on {n_cases} random inputs.")


@_guarded("check_rate_experiment")
def check_rate_experiment(experiment: Any) -> CheckResult:
    r"""Check a student's own O(1/t) experiment for gradient descent with step :math:`1/L`.

    ``experiment`` is a dict with keys ``loss`` and ``grad`` (callables on a 1-D float array), ``L`` (the claimed
    smoothness constant), ``w0`` (the start), ``loss_min`` (a lower bound :math:`L^*` on the loss), and
    ``min_sq_grad`` (the student's array of :math:`\min_{k<t} \|\nabla L(w_k)\|^2` for :math:`t = 1, \dots, T`).

    Verified independently: ``grad`` against finite differences of ``loss`` along the run; ``L`` against
    finite-difference curvature along the run and against the largest eigenvalue of a finite-difference Hessian at
    the origin, the run's ends and random points around them (a claimed ``L`` smaller than a curvature seen is
    wrong); the run
    re-done here with step :math:`1/L` must reproduce ``min_sq_grad``; and the bound
    :math:`\min_{k<t}\|g_k\|^2 \le 2L(L(w_0) - L^*)/t` must hold for every :math:`t`.

    Introduced in homework set 1.
    """
    name = "check_rate_experiment"
    if not isinstance(experiment, dict):
        raise _StudentError("the experiment must be a dict with keys loss, grad, L, w0, loss_min, min_sq_grad.")
    required = ("loss", "grad", "L", "w0", "loss_min", "min_sq_grad")
    missing = [k for k in required if k not in experiment]
    if missing:
        raise _StudentError(f"the experiment dict is missing the keys {missing}.")
    loss, grad = experiment["loss"], experiment["grad"]
    smoothness = float(experiment["L"])
    if not smoothness > 0:
        return _incorrect(name, "L must be positive.")
    w = np.atleast_1d(np.asarray(experiment["w0"], dtype=float))
    claimed = np.asarray(experiment["min_sq_grad"], dtype=float)
    if claimed.ndim != 1 or claimed.size < 10:
        return _incorrect(name, "min_sq_grad must be a 1-D array with one entry per t (at least 10 steps).")
    values, squares = [float(_call_student(loss, w))], []
    rng = np.random.default_rng(1)
    curvature_seen = 0.0
    for _ in range(claimed.size):
        g = np.asarray(_call_student(grad, w), dtype=float)
        if g.shape != w.shape:
            return _incorrect(name, f"shape mismatch: grad returns shape {g.shape} for w of shape {w.shape}.")
        direction = rng.standard_normal(w.shape)
        direction /= np.linalg.norm(direction)
        h = 1e-5
        slope = (loss(w + h * direction) - loss(w - h * direction)) / (2 * h)
        if abs(slope - g @ direction) > 1e-4 * (1 + abs(slope)):
            return _incorrect(name, "grad is not the gradient of loss (it disagrees with finite differences).")
        g_plus = np.asarray(grad(w + h * direction), dtype=float)
        g_minus = np.asarray(grad(w - h * direction), dtype=float)
        curvature_seen = max(curvature_seen, float(direction @ (g_plus - g_minus) / (2 * h)))
        squares.append(float(g @ g))
        w = w - g / smoothness
        values.append(float(loss(w)))
    if curvature_seen > smoothness * (1 + 1e-4):
        return _incorrect(name, "L is too small: the loss curves more steeply than L somewhere along your run, so "
                          "it is not an upper bound on the Hessian's largest eigenvalue.")
    if _top_curvature_elsewhere(grad, np.asarray(experiment["w0"], dtype=float), w, rng) > smoothness * (1 + 1e-4):
        return _incorrect(name, "L is too small: away from your run the Hessian has an eigenvalue above L, so L is "
                          "not an upper bound on the curvature everywhere (the O(1/t) theorem needs one).")
    reference = np.minimum.accumulate(np.asarray(squares))
    if not np.allclose(claimed, reference, rtol=1e-6, atol=1e-12):
        return _incorrect(name, "min_sq_grad does not match a re-run of gradient descent with step 1/L from w0 "
                          "(is it the running minimum of the squared gradient norm, one entry per step?).")
    if min(values) < float(experiment["loss_min"]) - 1e-9:
        return _incorrect(name, "loss_min is not a lower bound: the run went below it.")
    t = np.arange(1, claimed.size + 1)
    bound = 2 * smoothness * (values[0] - float(experiment["loss_min"])) / t
    if np.any(claimed > bound * (1 + 1e-9)):
        return _incorrect(name, "the O(1/t) bound fails for your run: recheck L and loss_min.")
    return _correct(name, f"your run of {claimed.size} steps stays below 2L(L(w₀) − L*)/t at every t.")


def _top_curvature_elsewhere(grad: Callable, w0: np.ndarray, w_end: np.ndarray, rng: np.random.Generator,
                             n_random: int = 10, max_dim: int = 50) -> float:
    """The largest Hessian eigenvalue found at the origin, the run's two ends and random points around them.

    The Hessian is formed from central differences of ``grad`` (so only for up to ``max_dim`` variables; above that
    nothing is probed and 0 is returned). Points where the gradient is not finite are skipped.
    """
    w0 = np.atleast_1d(w0)
    d = w0.size
    if d > max_dim:
        return 0.0
    scale = max(1.0, float(np.linalg.norm(w0)), float(np.linalg.norm(w_end)))
    points = [np.zeros_like(w0), w0, np.atleast_1d(w_end)]
    points += [scale * rng.standard_normal(w0.shape) / np.sqrt(d) for _ in range(n_random)]
    h, top = 1e-5, 0.0
    with np.errstate(all="ignore"):
        for point in points:
            columns = []
            for i in range(d):
                step = np.zeros(d)
                step[i] = h
                g_plus = np.asarray(grad((point.ravel() + step).reshape(w0.shape)), dtype=float).ravel()
                g_minus = np.asarray(grad((point.ravel() - step).reshape(w0.shape)), dtype=float).ravel()
                columns.append((g_plus - g_minus) / (2 * h))
            hessian = np.array(columns)
            if hessian.shape == (d, d) and np.all(np.isfinite(hessian)):
                top = max(top, float(np.linalg.eigvalsh((hessian + hessian.T) / 2)[-1]))
    return top


def _gd_map(expr: Any, x: sp.Symbol) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    derivative = sp.lambdify(x, sp.diff(sp.sympify(expr), x), modules="numpy")

    def step(values: np.ndarray, delta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return values - delta * derivative(values)

    return step


def _converges_to(step: Callable, x_star: np.ndarray, delta: float, n_steps: int, radius: float) -> bool:
    """Whether GD started at small perturbations of ``x_star`` converges back to it."""
    rng = np.random.default_rng(7)
    offsets = radius * rng.uniform(-1, 1, size=(16,) + x_star.shape)
    values = x_star + offsets
    for _ in range(n_steps):
        values = step(values, delta)
        values = np.where(np.abs(values) > 1e6, np.nan, values)
    distance = np.abs(values - x_star).reshape(len(offsets), -1).max(axis=1)
    return bool(np.all(distance < 1e-7))


@_guarded("check_threshold")
def check_threshold(answer: Any, expr: Any, variables: Any, point: Any, *, margin: float = 0.03,
                    n_steps: int = 4000) -> CheckResult:
    r"""Check a claimed largest stable step size at the minimum ``point`` of ``expr``, by simulation.

    Gradient descent is run from small perturbations of ``point`` at ``(1 - margin)`` times the answer (it must come
    back to ``point``) and at ``(1 + margin)`` times the answer (it must not). An exact answer is then compared with
    :func:`lecturelib.symbolic.max_stable_step` to tell a factor 2 from another error.

    Introduced in homework set 2.
    """
    from lecturelib.symbolic import max_stable_step

    name = "check_threshold"
    xs = _variables(variables)
    value = _to_sympy(answer, "your threshold")
    try:
        delta = float(value)
    except TypeError as err:
        raise _StudentError("your threshold must be a number (it still contains symbols).") from err
    if not (delta > 0 and math.isfinite(delta)):
        return _incorrect(name, "a step-size threshold is a positive, finite number.")
    f = sp.sympify(expr)
    grad = sp.lambdify(xs, [sp.diff(f, v) for v in xs], modules="numpy")
    x_star = np.array([float(sp.sympify(p)) for p in (point if isinstance(point, (list, tuple)) else [point])])

    def step(values: np.ndarray, d: float) -> np.ndarray:
        with np.errstate(all="ignore"):
            g = np.stack(np.broadcast_arrays(*grad(*np.moveaxis(values, -1, 0))), axis=-1)
            return values - d * g

    below = _converges_to(step, x_star, delta * (1 - margin), n_steps, 1e-3)
    above = _converges_to(step, x_star, delta * (1 + margin), n_steps, 1e-3)
    expected = max_stable_step(f, xs, list(x_star) if len(xs) > 1 else point)
    ratio = float(expected) / delta if expected != sp.oo else math.inf
    hint = " It looks off by a factor of 2." if (math.isclose(ratio, 2, rel_tol=1e-3)
                                                 or math.isclose(ratio, 0.5, rel_tol=1e-3)) else ""
    if not hint and len(xs) > 1:
        hessian_at = np.array(sp.hessian(f, xs).subs(dict(zip(xs, x_star))).evalf(), dtype=float)
        curvatures = np.linalg.eigvalsh(hessian_at)
        others = [lam for lam in curvatures[:-1] if lam > 0 and not math.isclose(lam, curvatures[-1], rel_tol=1e-9)]
        if any(math.isclose(2 / lam, delta, rel_tol=1e-6) for lam in others):
            hint = " It is 2/λ for an eigenvalue λ of the Hessian, but not for the one that binds."
    if not below:
        return _incorrect(name, f"too large: gradient descent started next to the minimum does not return to it at "
                          f"a step {margin:.0%} below your threshold.{hint}")
    if above:
        return _incorrect(name, f"too small: gradient descent still converges to the minimum at a step {margin:.0%} "
                          f"above your threshold.{hint}")
    if not math.isclose(ratio, 1.0, rel_tol=1e-9):
        return _incorrect(name, "close, but not exact: derive it symbolically (the simulation agrees to within "
                          f"{margin:.0%}).")
    return _correct(name, f"gradient descent returns to the minimum {margin:.0%} below your threshold and leaves it "
                    f"{margin:.0%} above.")


@_guarded("check_period2_orbit")
def check_period2_orbit(answer: Any, expr: Any, x: sp.Symbol, step: float, *, tol: float = 1e-9) -> CheckResult:
    r"""Check a claimed period-2 orbit ``(a, b)`` of gradient descent :math:`x \mapsto x - \delta f'(x)` on ``expr``.

    Verified by applying the map: :math:`T(a) = b`, :math:`T(b) = a` and :math:`a \ne b` (to ``tol``, relative).

    Introduced in homework set 2.
    """
    name = "check_period2_orbit"
    try:
        a, b = (float(v) for v in answer)
    except (TypeError, ValueError) as err:
        raise _StudentError("give the orbit as a pair of numbers (a, b).") from err
    if not (math.isfinite(a) and math.isfinite(b)):
        return _incorrect(name, "the two points must be finite numbers.")
    T = _gd_map(expr, x)
    scale = tol * (1 + abs(a) + abs(b))
    if abs(a - b) <= scale:
        return _incorrect(name, "your two points coincide: that is a fixed point, not a period-2 orbit.")
    ta, tb = float(T(np.float64(a), step)), float(T(np.float64(b), step))
    if abs(ta - a) <= scale:
        return _incorrect(name, "your first point is a fixed point of the map (a critical point of f), not on a "
                          "period-2 orbit.")
    if abs(ta - b) > scale and abs(tb - a) > scale:
        return _incorrect(name, "one gradient step from either point does not land on the other.")
    if abs(ta - b) > scale:
        return _incorrect(name, "one gradient step from your first point does not land on your second.")
    if abs(tb - a) > scale:
        return _incorrect(name, "one gradient step from your second point does not land on your first.")
    return _correct(name, "T(a) = b and T(b) = a, with a ≠ b.")


@_guarded("check_bifurcation")
def check_bifurcation(answer: Any, expr: Any, x: sp.Symbol, steps: Any, n_starts: int, *,
                      min_keep: int = 8, tol: float = 1e-8) -> CheckResult:
    r"""Check the data of a bifurcation diagram: iterates of gradient descent on ``expr`` kept after a transient.

    ``answer`` must have shape ``(len(steps), n_starts, n_keep)`` with ``n_keep >= min_keep``. Every row must be a
    piece of a gradient-descent orbit at its step size (each kept iterate is one step :math:`x - \delta f'(x)` of
    the previous one; diverged entries are NaN and stay NaN), and the rows must have settled: gradient descent
    continued from a row's last iterate must end, wherever it ends on a periodic orbit, within ``1e-2`` (relative) of
    that iterate (see :func:`_unsettled_rows`). A handful of slow rows next to a bifurcation are tolerated.

    Introduced in homework set 2.
    """
    name = "check_bifurcation"
    data = np.asarray(answer, dtype=float)
    steps = np.asarray(steps, dtype=float)
    if data.ndim != 3 or data.shape[:2] != (steps.size, n_starts):
        return _incorrect(name, f"shape mismatch: expected (number of steps, number of starts, number kept) = "
                          f"({steps.size}, {n_starts}, n_keep), got {data.shape}.")
    if data.shape[2] < min_keep:
        return _incorrect(name, f"keep at least {min_keep} iterates per start to see the orbits.")
    finite = np.isfinite(data)
    if not finite.any():
        return _incorrect(name, "every entry is NaN: nothing converged or stayed bounded.")
    T = _gd_map(expr, x)
    delta = steps[:, None, None]
    image = T(data[:, :, :-1], delta)
    pair = finite[:, :, :-1] & finite[:, :, 1:]
    error = np.abs(image - data[:, :, 1:])
    if np.any(error[pair] > tol * (1 + np.abs(data[:, :, 1:][pair]))):
        return _incorrect(name, "some consecutive kept iterates are not one gradient step apart at their step "
                          "size: are the axes in the right order (steps, starts, kept iterates)?")
    if np.any(~finite[:, :, :-1] & finite[:, :, 1:]):
        return _incorrect(name, "a row switches from NaN back to numbers: once diverged, an entry should stay NaN.")
    unsettled, periodic = _unsettled_rows(T, data, steps)
    if unsettled > max(2, 0.002 * periodic):
        return _incorrect(name, f"{unsettled} rows have not settled: gradient descent continued from their last kept "
                          "iterate ends on an orbit far from what they show. Did you discard enough steps, keep the "
                          "last iterates, and step against the gradient?")
    return _correct(name, "every row is a piece of a gradient-descent orbit at its step size, after the transient.")


def _unsettled_rows(T: Callable, data: np.ndarray, steps: np.ndarray, n_more: int = 600,
                    tol: float = 1e-2) -> tuple[int, int]:
    """Count rows whose continuation settles on a periodic orbit that their last kept iterate is not close to.

    Each row's last kept iterate is iterated ``n_more`` further steps; where the continuation has then settled on an
    orbit of period at most 32 (found by :func:`lecturelib.gd.orbit_period`), a row that had itself settled lies
    within ``tol`` (relative) of that orbit. Rows still in their transient, or computed with the wrong map, do not.
    Chaotic and diverging continuations are not judged. Returns (unsettled rows, rows judged).
    """
    from lecturelib.gd import orbit_period

    last = data[:, :, -1]
    delta = steps[:, None]
    current = last.copy()
    with np.errstate(all="ignore"):
        for _ in range(n_more):
            current = T(current, delta)
            current = np.where(np.abs(current) <= 1e6, current, np.nan)
        tail = [current]
        for _ in range(63):
            current = T(current, delta)
            current = np.where(np.abs(current) <= 1e6, current, np.nan)
            tail.append(current)
    tail = np.array(tail)
    judged = (orbit_period(tail, tol=1e-9, max_period=32) >= 1) & np.isfinite(last)
    with np.errstate(all="ignore"):
        distance = np.min(np.abs(tail - last[None]), axis=0)
    unsettled = judged & ~(distance <= tol * (1 + np.abs(last)))
    return int(unsettled.sum()), int(judged.sum())


@_guarded("check_scalar_theorem1")
def check_scalar_theorem1(answer: Any, weights: Sequence[sp.Symbol]) -> CheckResult:
    r"""Check a formula for the largest stable step at an optimum of the scalar deep linear network.

    The loss is :math:`\tfrac12 (w_L \cdots w_1 - \lambda)^2`. At an optimum (:math:`\lambda = w_L \cdots w_1`) the
    reference is :math:`2 / \lambda_{\max}` of the Hessian, computed here by sympy from the loss itself: the Hessian
    there is the rank-one matrix :math:`J J^\top`, so :math:`\lambda_{\max}` is its trace.

    Introduced in homework set 3.
    """
    ws = _variables(weights)
    target = sp.Symbol("lambda_target")
    product = sp.Mul(*ws)
    hessian_at_optimum = sp.hessian((product - target) ** 2 / 2, ws).subs(target, product)
    expected = sp.simplify(2 / hessian_at_optimum.trace())
    value = _to_sympy(answer, "your bound")
    return _compare_scalar("check_scalar_theorem1", value, expected, "your bound", "the reciprocal")


def _theorem1_index_shifts(weights: Sequence[np.ndarray]) -> list[float]:
    """Theorem 1's sum with the usual off-by-one slips (p_j for p_(j-1), or q_j for q_(j+1)), where defined."""
    from lecturelib import linear_nets

    U, _, Vt = np.linalg.svd(linear_nets.product(weights))
    u, v = U[:, 0], Vt[0]
    L = len(weights)
    p = [v]
    for W in weights:
        p.append(W @ p[-1])                     # p[j] = W_j ... W_1 v
    q = [u]
    for W in reversed(weights):
        q.append(q[-1] @ W)
    q = q[::-1]                                 # q[j] = u^T W_L ... W_(j+1), i.e. q_(j+1) in the text
    out = []
    with np.errstate(all="ignore"):
        for pick in ((lambda j: p[j + 1], lambda j: q[j + 1]),     # p_j q_(j+1)
                     (lambda j: p[j], lambda j: q[j])):            # p_(j-1) q_j
            total = sum(float(np.sum(pick[0](j) ** 2) * np.sum(pick[1](j) ** 2)) for j in range(L))
            if total > 0:
                out.append(2.0 / total)
    return out


@_guarded("check_theorem1_function")
def check_theorem1_function(function: Any, *, n_cases: int = 6, seed: int = 0) -> CheckResult:
    r"""Check a student's implementation ``function(weights)`` of Theorem 1's bound for matrix layers.

    On random deep linear networks (depth 1 to 4, square and rectangular layers) the result is compared with
    :func:`lecturelib.linear_nets.theorem1_bound`, and, at the optimum :math:`R = W_L \cdots W_1`, it must not be
    below :math:`2/\lambda_{\max}` of the exact Hessian (:func:`lecturelib.linear_nets.hessian`), as the theorem's
    lemma guarantees.

    Introduced in homework set 3.
    """
    from lecturelib import linear_nets

    name = "check_theorem1_function"
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        depth = 1 + case % 4
        sizes = [int(v) for v in rng.integers(1, 4, size=depth + 1)]
        weights = [rng.standard_normal((sizes[j + 1], sizes[j])) for j in range(depth)]
        value = _call_student(function, [w.copy() for w in weights])
        try:
            value = float(value)
        except (TypeError, ValueError) as err:
            raise _StudentError(f"your function must return a number, got {type(value).__name__}.") from err
        reference = linear_nets.theorem1_bound(weights)
        if math.isclose(value, reference, rel_tol=1e-8):
            top = float(np.linalg.eigvalsh(linear_nets.hessian(linear_nets.product(weights), weights)).max())
            if value < 2 / top * (1 - 1e-8):
                return _incorrect(name, "your bound is below 2/λ_max of the Hessian at an optimum.")
            continue
        for factor, message in ((2.0, "is off by a factor of 2"), (0.5, "is off by a factor of 2")):
            if math.isclose(value, factor * reference, rel_tol=1e-8):
                return _incorrect(name, f"case {case + 1} (depth {depth}): your bound {message}.")
        if value != 0 and math.isclose(1 / value, reference, rel_tol=1e-8):
            return _incorrect(name, f"case {case + 1} (depth {depth}): your bound is upside down.")
        top = float(np.linalg.eigvalsh(linear_nets.hessian(linear_nets.product(weights), weights)).max())
        if top > 0 and math.isclose(value, 2 / top, rel_tol=1e-6):
            return _incorrect(name, f"case {case + 1} (depth {depth}): your value is 2/λ_max of the exact Hessian, not "
                              "Theorem 1's bound, which comes from the lemma's lower bound on λ_max (built from p and "
                              "q only).")
        for shifted in _theorem1_index_shifts(weights):
            if math.isclose(value, shifted, rel_tol=1e-8):
                return _incorrect(name, f"case {case + 1} (depth {depth}): an index is off by one: term j of the sum "
                                  "pairs the product of the layers before layer j with the product of the layers "
                                  "after it.")
        return _incorrect(name, f"case {case + 1} of {n_cases} (a random network of depth {depth}, layer sizes "
                          f"{sizes}): your bound is not right. Are p₀ = v and q_(L+1) = uᵀ, with u, v the top "
                          "singular vectors of the product?")
    return _correct(name, f"correct on {n_cases} random networks.")


@_guarded("check_convergent_step")
def check_convergent_step(answer: Any, R: Any, depth: int, init: Any = "identity", *, margin: float = 0.02,
                          n_steps: int = 4000, tol: float = 1e-10) -> CheckResult:
    r"""Check a claimed largest step at which gradient descent on a deep linear network converges, by training.

    Training with :func:`lecturelib.linear_nets.train` from ``init`` must reach loss below ``tol`` at
    ``(1 - margin)`` times the answer and must not at ``(1 + margin)`` times it.

    Introduced in homework set 3.
    """
    from lecturelib import linear_nets

    name = "check_convergent_step"
    try:
        delta = float(_to_sympy(answer, "your step"))
    except TypeError as err:
        raise _StudentError("your step must be a number (it still contains symbols).") from err
    if not (delta > 0 and math.isfinite(delta)):
        return _incorrect(name, "a step size is a positive, finite number.")

    def converges(step: float) -> bool:
        result = linear_nets.train(R, depth, step, n_steps, init=init)
        return (not result.diverged) and result.losses[-1] < tol

    if not converges(delta * (1 - margin)):
        return _incorrect(name, f"too large: training does not converge at a step {margin:.0%} below yours.")
    if converges(delta * (1 + margin)):
        return _incorrect(name, f"too small: training still converges at a step {margin:.0%} above yours.")
    return _correct(name, f"training converges {margin:.0%} below your step and not {margin:.0%} above it.")


@_guarded("check_theorem4_lhs_function")
def check_theorem4_lhs_function(function: Any, *, n_cases: int = 4, seed: int = 0) -> CheckResult:
    r"""Check a student's ``function(net, X)`` computing :math:`\max_i \|x_i\|_2 \|\hat f(x_i)\|_2` (Theorem 4).

    Compared on random two-layer ReLU networks with several inputs and outputs against a direct computation here.

    Introduced in homework set 3.
    """
    from lecturelib import relu_nets

    name = "check_theorem4_lhs_function"
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        m, n, r = (int(v) for v in rng.integers(1, 4, size=3))
        if case == 0:
            m, n = 3, 2  # the first network always has several outputs and inputs (norms, not absolute values)
        net = relu_nets.random_net(m, n, r, int(rng.integers(1 << 30)))
        X = rng.standard_normal((7, n))
        raw = _call_student(function, net, X.copy())
        if np.ndim(raw) != 0:
            raise _StudentError(f"your function must return one number, got an array of shape {np.shape(raw)}: "
                                "take the maximum over the samples.")
        try:
            value = float(raw)
        except (TypeError, ValueError) as err:
            raise _StudentError(f"your function must return a number, got {type(raw).__name__}.") from err
        x_norm = np.linalg.norm(X, axis=1)

        def out_norm(pre: np.ndarray, relu: bool = True) -> np.ndarray:
            hidden = np.maximum(pre, 0.0) if relu else pre
            return np.linalg.norm(hidden @ net.W.T, axis=1)

        f_norm = out_norm(X @ net.V.T - net.b)
        reference = float(np.max(x_norm * f_norm))
        if math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-12):
            continue
        if math.isclose(value, reference**2, rel_tol=1e-9) or math.isclose(value**2, reference, rel_tol=1e-9):
            return _incorrect(name, "off by a square: use norms, not squared norms (or the reverse).")
        mistakes = (
            (float(np.max(x_norm * out_norm(X @ net.V.T + net.b))), "the bias enters with the wrong sign."),
            (float(np.max(x_norm * out_norm(X @ net.V.T))), "the bias is missing."),
            (float(np.max(x_norm * out_norm(X @ net.V.T - net.b, relu=False))), "the ReLU is missing."),
            (float(np.max(f_norm)), "the factor ‖x_i‖ is missing."),
            (float(np.max(x_norm)), "the factor ‖f̂(x_i)‖ is missing."),
            (float(np.max(x_norm) * np.max(f_norm)), "the two maxima are taken separately; the maximum is over "
                                                     "samples of the product for the same sample."),
            (float(np.sum(x_norm * f_norm)), "you summed over the samples instead of taking the maximum."),
            (float(np.mean(x_norm * f_norm)), "you averaged over the samples instead of taking the maximum."),
        )
        for wrong, message in mistakes:
            if math.isclose(value, wrong, rel_tol=1e-9, abs_tol=1e-12):
                return _incorrect(name, f"case {case + 1} of {n_cases} ({m} outputs, {n} inputs): {message}")
        if m > 1:
            for k in range(m):
                first = np.abs((np.maximum(X @ net.V.T - net.b, 0.0) @ net.W.T)[:, k])
                if math.isclose(value, float(np.max(x_norm * first)), rel_tol=1e-9, abs_tol=1e-12):
                    return _incorrect(name, f"case {case + 1} of {n_cases} ({m} outputs): you used one output; "
                                      "‖f̂(x_i)‖ is the norm of the whole output vector.")
        return _incorrect(name, f"case {case + 1} of {n_cases} ({m} outputs, {n} inputs, {r} hidden units): not "
                          "right. Is the maximum over samples of the product of the two norms, with the bias "
                          "subtracted inside the ReLU?")
    return _correct(name, f"correct on {n_cases} random networks.")


_RUN_LABELS = ("fixed point", "period 2", "period 4", "other")


@_guarded("check_run_diagnosis")
def check_run_diagnosis(answer: Any, tail: Any) -> CheckResult:
    r"""Check a diagnosis of a run from its last iterates ``tail`` (rows :math:`\theta_k`, oldest first).

    ``answer`` is one of ``"fixed point"``, ``"period 2"``, ``"period 4"``, ``"other"`` (``"diverged"`` for a run
    with non-finite iterates). Decided here from the moves: a fixed point when the largest move
    :math:`\max_k\|\theta_{k+1}-\theta_k\|` is below :math:`10^{-8}` of the size of :math:`\theta`; period :math:`p`
    when every :math:`\|\theta_{k+p} - \theta_k\|` is below :math:`10^{-3}` of the largest move.

    Introduced in homework set 3.
    """
    name = "check_run_diagnosis"
    if not isinstance(answer, str):
        raise _StudentError(f"answer with one of {', '.join(map(repr, _RUN_LABELS))}.")
    label = answer.strip().lower().replace("-", " ")
    tail = np.asarray(tail, dtype=float)
    if tail.ndim != 2 or tail.shape[0] < 6:
        raise ValueError(f"tail must be a 2-d array of at least 6 iterates (rows), got shape {tail.shape}")
    if not np.all(np.isfinite(tail)):
        truth = "diverged"
    else:
        moves = np.linalg.norm(np.diff(tail, axis=0), axis=1)
        largest = moves.max()
        if largest <= 1e-8 * (1 + np.linalg.norm(tail, axis=1).max()):
            truth = "fixed point"
        elif np.linalg.norm(tail[2:] - tail[:-2], axis=1).max() <= 1e-3 * largest:
            truth = "period 2"
        elif np.linalg.norm(tail[4:] - tail[:-4], axis=1).max() <= 1e-3 * largest:
            truth = "period 4"
        else:
            truth = "other"
    if label not in _RUN_LABELS + ("diverged",):
        raise _StudentError(f"answer with one of {', '.join(map(repr, _RUN_LABELS))}.")
    if label == truth:
        return _correct(name)
    hints = {
        "fixed point": "the parameters still move by much more than roundoff at every step.",
        "period 2": "θ_(k+2) does not return to θ_k.",
        "period 4": "θ_(k+4) does not return to θ_k, or the orbit is shorter.",
        "other": "look again at ‖θ_(k+1) − θ_k‖, ‖θ_(k+2) − θ_k‖ and ‖θ_(k+4) − θ_k‖.",
        "diverged": "every iterate in the tail is finite.",
    }
    return _incorrect(name, f"not {label}: {hints[label]}")


@_guarded("check_value")
def check_value(answer: Any, reference: Any, *, what: str = "your value", rtol: float = 1e-6) -> CheckResult:
    """Compare a number or array with one computed independently by the caller, reporting shape, sign and factors.

    Introduced in homework set 3.
    """
    name = "check_value"
    value = np.asarray(answer, dtype=float)
    expected = np.asarray(reference, dtype=float)
    if value.shape != expected.shape:
        return _incorrect(name, f"shape mismatch: {what} has shape {value.shape}, expected shape {expected.shape}.")
    if not np.all(np.isfinite(value)):
        return _incorrect(name, f"{what} is not finite.")
    if np.allclose(value, expected, rtol=rtol, atol=1e-12):
        return _correct(name)
    for factor, message in ((-1.0, "has the wrong sign"), (2.0, "is off by a factor of 2"),
                            (0.5, "is off by a factor of 2")):
        if np.allclose(value, factor * expected, rtol=rtol, atol=1e-12):
            return _incorrect(name, f"{what} {message}.")
    if np.allclose(value**2, expected, rtol=rtol) or np.allclose(value, expected**2, rtol=rtol):
        return _incorrect(name, f"{what} is off by a square (a norm where a squared norm belongs, or the reverse).")
    if np.all(value != 0) and np.allclose(1 / value, expected, rtol=rtol):
        return _incorrect(name, f"{what} is upside down (the reciprocal).")
    return _incorrect(name, f"{what} is not right.")


# --------------------------------------------------------------------------------------------------------------------
# Student and instructor notebooks
# --------------------------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}\s*(?P<argument>.*?)\s*$")
_OPTION = re.compile(r"^:[\w-]+:")
_TARGET = re.compile(r"^\([\w:.-]+\)=\s*$")  # a MyST label line, meaningless in Jupyter
STUDENT_PLACEHOLDER = (
    "**Your solution.** Work it out here: add Markdown cells for the derivation and code cells for the code, and "
    "put your answer in the cell above, whose check says when it is right."
)


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence opened at ``start`` (same character, at least as long)."""
    pattern = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for index in range(start + 1, len(lines)):
        if pattern.match(lines[index]):
            return index
    raise ValueError(f"the directive opened at line {start + 1} of a Markdown cell is never closed")


def _body(lines: list[str]) -> list[str]:
    """A directive's content without its leading ``:option:`` lines."""
    index = 0
    while index < len(lines) and _OPTION.match(lines[index]):
        index += 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    return lines[index:]


_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<target>[^`]*)`")
_LABELLED_HEADING = re.compile(r"^\((?P<label>[\w:.-]+)\)=\s*\n#+\s+(?P<title>.+)$", re.M)
_LABELLED_DIRECTIVE = re.compile(
    r"^(?:`{3,}|:{3,})\{(?:prf:)?(?P<kind>[\w-]+)\}\s*(?P<title>.*)\n(?::[\w-]+:.*\n)*?:label:\s*(?P<label>\S+)", re.M
)


def _label_titles(book: Path) -> dict[str, str]:
    """``{label: readable title}`` for the labelled headings and directives of every ``.md`` file under ``book``."""
    titles: dict[str, str] = {}
    for path in sorted(book.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in _LABELLED_HEADING.finditer(text):
            titles[match["label"]] = f"“{_plain_roles(match['title'].strip(), {})}”"
        for match in _LABELLED_DIRECTIVE.finditer(text):
            title = _plain_roles(match["title"].strip(), {})
            kind = match["kind"].replace("-", " ")
            if not title:
                titles[match["label"]] = kind
            elif title.lower().startswith(kind):
                titles[match["label"]] = title
            else:
                titles[match["label"]] = f"{kind} “{title}”"
    return titles


def _plain_roles(text: str, titles: dict[str, str]) -> str:
    """Replace MyST roles, which Jupyter does not render, by plain Markdown (cross-references by their titles)."""

    def replace(match: re.Match) -> str:
        role, target = match["role"], match["target"]
        explicit = re.fullmatch(r"(?P<text>.+?)\s*<(?P<label>[^>]+)>", target)
        if explicit:
            return explicit["text"]
        if role in ("ref", "prf:ref", "numref", "doc", "eq"):
            return titles.get(target, target)
        if role == "cite":
            return "[" + target + "]"
        if role == "math":
            return f"${target}$"
        return f"`{target}`"

    return _ROLE.sub(replace, text)


@dataclass
class _Cell:
    kind: str  # "markdown" or "code"
    source: str
    metadata: dict


def split_notebook(
    cells: Sequence[_Cell] | Any, titles: dict[str, str] | None = None
) -> tuple[list[_Cell], list[_Cell], list[str]]:
    """Split a homework set into student cells, instructor cells and the text of its solutions.

    ``cells`` is a notebook (``nbformat.NotebookNode``) or a list of cells. In the student version every
    ``{solution}`` directive, and everything from a ``{solution-start}`` to its ``{solution-end}`` (Markdown and code
    cells alike), is replaced by one placeholder Markdown cell. In both versions the ``{exercise}`` and
    ``{solution}`` directives are turned into plain Markdown that Jupyter renders, and MyST roles into plain text
    (a cross-reference becomes the title ``titles`` gives its label). The third value lists the solutions' texts,
    one string per solution (Markdown and code, as in the source).

    Introduced in the homework sets.
    """
    if hasattr(cells, "cells"):
        cells = [_Cell(c.cell_type, c.source, dict(c.get("metadata", {}))) for c in cells.cells]
    student: list[_Cell] = []
    instructor: list[_Cell] = []
    solutions: list[str] = []
    gated: list[str] | None = None  # the solution being collected, inside a gated solution
    exercise_number = 0

    def emit(target: list[_Cell], kind: str, lines: list[str], metadata: dict) -> None:
        text = _plain_roles("\n".join(lines).strip("\n"), titles or {})
        if text.strip():
            target.append(_Cell(kind, text, metadata))

    for cell in cells:
        if cell.kind != "markdown":
            if gated is not None:
                gated.append(cell.source)
            else:
                student.append(_Cell(cell.kind, cell.source, dict(cell.metadata)))
            instructor.append(_Cell(cell.kind, cell.source, dict(cell.metadata)))
            continue
        lines = cell.source.split("\n")
        s_lines: list[str] = []
        i_lines: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            match = _FENCE.match(line)
            name = match["name"] if match else None
            if gated is not None:
                if name == "solution-end":
                    end = _closing(lines, index, match["fence"])
                    solutions.append("\n".join(gated))
                    gated = None
                    emit(instructor, "markdown", i_lines, {})
                    i_lines = []
                    s_lines.append(STUDENT_PLACEHOLDER)
                    index = end + 1
                    continue
                gated.append(line)
                i_lines.append(line)
                index += 1
                continue
            if name in ("exercise", "solution", "solution-start"):
                end = _closing(lines, index, match["fence"])
                body = _body(lines[index + 1:end])
                if name == "exercise":
                    exercise_number += 1
                    title = match["argument"]
                    options = lines[index + 1:end]
                    if any(option.startswith(":nonumber:") for option in options):
                        heading = f"**Exercise {title}.**" if title else "**Exercise.**"
                    else:
                        heading = f"**Exercise {exercise_number}" + (f" ({title})" if title else "") + ".**"
                    converted = [heading, "", *body]
                    s_lines += converted
                    i_lines += converted
                elif name == "solution":
                    solutions.append("\n".join(body))
                    s_lines.append(STUDENT_PLACEHOLDER)
                    i_lines += ["**Solution.**", "", *body]
                else:
                    gated = list(body)
                    emit(student, "markdown", s_lines, {})
                    s_lines = []
                    i_lines += ["**Solution.**", "", *body]
                index = end + 1
                continue
            if name == "solution-end":
                raise ValueError("a {solution-end} directive without a {solution-start} before it")
            if _TARGET.match(line):
                index += 1
                continue
            s_lines.append(line)
            i_lines.append(line)
            index += 1
        emit(student, "markdown", s_lines, {})
        emit(instructor, "markdown", i_lines, {})
    if gated is not None:
        raise ValueError("a {solution-start} directive is never closed by a {solution-end}")
    return _merge_markdown(student), _merge_markdown(instructor), solutions


def _merge_markdown(cells: list[_Cell]) -> list[_Cell]:
    """Join neighbouring Markdown cells (splitting at directives leaves fragments)."""
    merged: list[_Cell] = []
    for cell in cells:
        if merged and cell.kind == "markdown" and merged[-1].kind == "markdown" and not cell.metadata \
                and not merged[-1].metadata:
            merged[-1] = _Cell("markdown", merged[-1].source + "\n\n" + cell.source, {})
        else:
            merged.append(cell)
    return merged


def _to_notebook(cells: list[_Cell], kernelspec: dict) -> Any:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata = nbformat.from_dict({
        "kernelspec": kernelspec,
        "language_info": {"name": "python"},
    })
    for number, cell in enumerate(cells):
        if cell.kind == "code":
            new = nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata)
        elif cell.kind == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=cell.metadata)
        new.id = f"cell-{number}"
        notebook.cells.append(new)
    nbformat.validate(notebook)
    return notebook


def default_source() -> Path:
    """Where the homework sets are: ``book/homework`` under the current directory, else under this repository."""
    here = Path.cwd() / "book" / "homework"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "book" / "homework"


def find_sets(source: Path | str | None = None) -> dict[str, Path]:
    """The homework sets in ``source`` (default :func:`default_source`): ``{stem: path}``, sorted by name.

    Introduced in the homework sets.
    """
    folder = Path(source) if source is not None else default_source()
    if not folder.is_dir():
        raise FileNotFoundError(f"the homework source folder {folder} does not exist")
    return {path.stem: path for path in sorted(folder.glob("hw*.md"))}


def _select(sets: dict[str, Path], names: Sequence[str]) -> dict[str, Path]:
    if not names:
        return dict(sets)
    chosen = {}
    for name in names:
        matches = [stem for stem in sets if stem == name or stem.split("_", 1)[0] == name]
        if not matches:
            raise KeyError(f"unknown homework set {name!r}; the sets are: {', '.join(sets) or '(none)'}")
        for stem in matches:
            chosen[stem] = sets[stem]
    return chosen


def export(outdir: Path | str, names: Sequence[str] = (), source: Path | str | None = None,
           editions: Sequence[str] = ("student", "instructor")) -> dict[str, list[Path]]:
    """Write ``outdir/<edition>/<set>.ipynb`` for each chosen set and edition; return the written paths.

    All notebooks are built in a temporary folder inside ``outdir`` and moved into place only when every one was
    built, so a failure leaves ``outdir`` as it was.

    Raises
    ------
    FileNotFoundError
        When ``outdir`` or ``source`` does not exist.
    PermissionError
        When ``outdir`` is not writable.
    KeyError
        When a name matches no set.

    Introduced in the homework sets.
    """
    import jupytext
    import nbformat

    target = Path(outdir)
    if not target.is_dir():
        raise FileNotFoundError(f"the output folder {target} does not exist (create it first)")
    if not os.access(target, os.W_OK | os.X_OK):
        raise PermissionError(f"the output folder {target} is not writable")
    unknown = [e for e in editions if e not in ("student", "instructor")]
    if unknown:
        raise ValueError(f"editions must be 'student' or 'instructor', got {unknown}")
    chosen = _select(find_sets(source), names)
    if not chosen:
        raise FileNotFoundError(f"no homework sets (hw*.md) in {Path(source) if source else default_source()}")
    folder = Path(source) if source is not None else default_source()
    titles = _label_titles(folder.parent)  # the book the sets refer to (its chapters, theorems, ...)
    staging = Path(tempfile.mkdtemp(prefix=".homework-export-", dir=target))
    written: dict[str, list[Path]] = {edition: [] for edition in editions}
    try:
        for stem, path in chosen.items():
            source_notebook = jupytext.read(path)
            kernelspec = dict(source_notebook.metadata.get("kernelspec") or
                              {"name": "python3", "display_name": "Python 3", "language": "python"})
            student, instructor, _ = split_notebook(source_notebook, titles)
            for edition, cells in (("student", student), ("instructor", instructor)):
                if edition not in editions:
                    continue
                (staging / edition).mkdir(exist_ok=True)
                nbformat.write(_to_notebook(cells, kernelspec), staging / edition / f"{stem}.ipynb")
        for edition in editions:
            (target / edition).mkdir(exist_ok=True)
            for built in sorted((staging / edition).glob("*.ipynb")):
                final = target / edition / built.name
                os.replace(built, final)
                written[edition].append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m lecturelib.homework export OUTDIR [SET ...] [--source DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m lecturelib.homework",
        description="Export the homework sets as student notebooks (no solutions) and instructor notebooks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = commands.add_parser("export", help="write OUTDIR/student/*.ipynb and OUTDIR/instructor/*.ipynb")
    command.add_argument("outdir", metavar="OUTDIR", help="an existing, writable folder")
    command.add_argument("sets", nargs="*", metavar="SET", help="set names (e.g. hw1 or hw1_taylor_descent); "
                         "default: every set")
    command.add_argument("--source", default=None, help="the folder of the homework .md sources (default: "
                         "book/homework under the current folder, else under the repository of lecturelib)")
    command.add_argument("--edition", choices=("student", "instructor", "both"), default="both",
                         help="which notebooks to write (default: both)")
    args = parser.parse_args(argv)
    editions = ("student", "instructor") if args.edition == "both" else (args.edition,)
    try:
        written = export(args.outdir, args.sets, args.source, editions)
    except (FileNotFoundError, PermissionError, NotADirectoryError, ValueError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except KeyError as err:
        parser.exit(2, f"{parser.prog}: error: {err.args[0]}\n")
    for edition, paths in written.items():
        for path in paths:
            sys.stdout.write(f"wrote {path} ({edition})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
