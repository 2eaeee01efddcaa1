"""Checks of homework set 1 (Taylor expansions and the descent condition)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..result import CheckResult, StudentError, Unanswered, call_student, correct, guarded, incorrect
from .compare import align_symbols, compare_scalar, describe, relate, to_sympy, variables_of

__all__ = ["check_gradient_function", "check_hessian", "check_rate_experiment", "check_step_bound",
           "check_taylor_term", "check_taylor_term_function"]

@guarded("check_hessian")
def check_hessian(answer: Any, expr: Any, variables: Any) -> CheckResult:
    r"""Check a submitted Hessian of ``expr`` against sympy's :math:`\nabla^2 f`, entry by entry.

    Reports a shape mismatch, a matrix that is not symmetric, and for a wrong entry :math:`(i, j)` whether its sign
    or a factor 2 is off.

    Introduced in homework set 1.
    """
    from lecturelib.symbolic import hessian

    xs = variables_of(variables)
    expected = hessian(expr, xs)
    try:
        matrix = sp.Matrix(answer)
    except Exception as err:
        raise StudentError(
            f"the Hessian must be a sympy Matrix (or a nested list), got {type(answer).__name__}."
        ) from err
    n = len(xs)
    matrix = matrix.xreplace({v: by for v in matrix.free_symbols for by in xs
                              if isinstance(v, sp.Symbol) and v.name == by.name and v != by})
    if matrix.shape != (n, n):
        return incorrect("check_hessian", f"shape mismatch: a Hessian in {n} variables is {n}×{n}, yours is "
                          f"{matrix.shape[0]}×{matrix.shape[1]}.")
    asymmetric = [(i, j) for i in range(n) for j in range(i + 1, n) if sp.simplify(matrix[i, j] - matrix[j, i]) != 0]
    if asymmetric:
        i, j = asymmetric[0]
        return incorrect("check_hessian", f"not symmetric: entries ({i}, {j}) and ({j}, {i}) differ, but mixed "
                          "partial derivatives of a smooth function are equal.")
    problems = []
    for i in range(n):
        for j in range(i, n):
            relation = relate(to_sympy(matrix[i, j], "an entry"), expected[i, j])
            if relation != "equal":
                problems.append(describe(relation, f"entry ({i}, {j})"))
    if problems:
        return incorrect("check_hessian", " ".join(problems))
    return correct("check_hessian")


@guarded("check_step_bound")
def check_step_bound(answer: Any, expr: Any, variables: Any, point: Any) -> CheckResult:
    r"""Check the largest step :math:`2 g^\top g / g^\top H g` that decreases ``expr`` to second order at ``point``.

    The reference is :func:`lecturelib.symbolic.descent_step_bound`. An answer of ``sympy.oo`` is expected when
    :math:`g^\top H g \le 0`.

    Introduced in homework set 1.
    """
    from lecturelib.symbolic import descent_step_bound

    expected = descent_step_bound(expr, variables, point)
    value = to_sympy(answer, "your step bound")
    if expected == sp.oo or value == sp.oo:
        if expected == value:
            return correct("check_step_bound")
        if expected == sp.oo:
            return incorrect("check_step_bound", "here gᵀHg ≤ 0, so what does the second-order model say about "
                              "large steps?")
        return incorrect("check_step_bound", "here gᵀHg > 0, so the step bound is finite.")
    return compare_scalar("check_step_bound", value, expected, "your step bound", "numerator and denominator swapped")


@guarded("check_taylor_term")
def check_taylor_term(answer: Any, expr: Any, variables: Any, point: Any, order: int) -> CheckResult:
    r"""Check the degree-``order`` term of the Taylor expansion of ``expr`` around ``point``.

    The reference is the difference of two :func:`lecturelib.symbolic.taylor_polynomial` calls (degree ``order`` minus
    degree ``order - 1``), so the answer must be the homogeneous term in :math:`x - a` alone.

    Introduced in homework set 1.
    """
    from lecturelib.symbolic import taylor_polynomial

    xs = variables_of(variables)
    expected = sp.expand(taylor_polynomial(expr, xs, point, order) - taylor_polynomial(expr, xs, point, order - 1))
    value = sp.expand(align_symbols(to_sympy(answer, "your term"), sp.Tuple(*xs)))
    relation = relate(value, expected)
    if relation == "equal":
        return correct("check_taylor_term")
    lower = sp.expand(taylor_polynomial(expr, xs, point, order - 1))
    if relate(value, sp.expand(expected + lower)) == "equal":
        return incorrect("check_taylor_term", f"this is the whole polynomial of degree {order}; give only the "
                          f"degree-{order} term.")
    if relation == "different" and _mixed_terms_miscounted(value, expected, xs, point):
        return incorrect("check_taylor_term", "the pure powers are right but the mixed terms are not: count how "
                          "many orderings (i, j, k) of the sum give the same mixed derivative.")
    return incorrect("check_taylor_term", describe(relation, "your term"))


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


@guarded("check_taylor_term_function")
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
        value = call_student(function, expr, (x, y), point)
        expected = sp.expand(taylor_polynomial(expr, (x, y), point, order)
                             - taylor_polynomial(expr, (x, y), point, order - 1))
        relation = relate(sp.expand(to_sympy(value, "the returned term")), expected)
        if relation != "equal":
            return incorrect("check_taylor_term_function",
                              f"test case {case + 1} of {n_cases} (a random f of two variables): "
                              + describe(relation, "the returned term"))
    return correct("check_taylor_term_function", f"correct on {n_cases} random functions.")



@guarded("check_gradient_function")
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
        value = np.asarray(call_student(grad, *args), dtype=float)
        w = args[-1]
        if value.shape != w.shape:
            return incorrect("check_gradient_function", f"shape mismatch: the gradient must have the shape of the "
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
                return incorrect("check_gradient_function", message)
        return incorrect("check_gradient_function", f"your gradient disagrees with a finite-difference gradient of "
                          f"the loss (random test case {case + 1}).")
    return correct("check_gradient_function", f"matches finite differences on {n_cases} random inputs.")


@guarded("check_rate_experiment")
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
        raise StudentError("the experiment must be a dict with keys loss, grad, L, w0, loss_min, min_sq_grad.")
    required = ("loss", "grad", "L", "w0", "loss_min", "min_sq_grad")
    missing = [k for k in required if k not in experiment]
    if missing:
        raise StudentError(f"the experiment dict is missing the keys {missing}.")
    loss, grad = experiment["loss"], experiment["grad"]
    smoothness = float(experiment["L"])
    if not smoothness > 0:
        return incorrect(name, "L must be positive.")
    w = np.atleast_1d(np.asarray(experiment["w0"], dtype=float))
    claimed = np.asarray(experiment["min_sq_grad"], dtype=float)
    if claimed.ndim != 1 or claimed.size < 10:
        return incorrect(name, "min_sq_grad must be a 1-D array with one entry per t (at least 10 steps).")
    values, squares = [float(call_student(loss, w))], []
    rng = np.random.default_rng(1)
    curvature_seen = 0.0
    for _ in range(claimed.size):
        g = np.asarray(call_student(grad, w), dtype=float)
        if g.shape != w.shape:
            return incorrect(name, f"shape mismatch: grad returns shape {g.shape} for w of shape {w.shape}.")
        direction = rng.standard_normal(w.shape)
        direction /= np.linalg.norm(direction)
        h = 1e-5
        slope = (loss(w + h * direction) - loss(w - h * direction)) / (2 * h)
        if abs(slope - g @ direction) > 1e-4 * (1 + abs(slope)):
            return incorrect(name, "grad is not the gradient of loss (it disagrees with finite differences).")
        g_plus = np.asarray(grad(w + h * direction), dtype=float)
        g_minus = np.asarray(grad(w - h * direction), dtype=float)
        curvature_seen = max(curvature_seen, float(direction @ (g_plus - g_minus) / (2 * h)))
        squares.append(float(g @ g))
        w = w - g / smoothness
        values.append(float(loss(w)))
    if curvature_seen > smoothness * (1 + 1e-4):
        return incorrect(name, "L is too small: the loss curves more steeply than L somewhere along your run, so "
                          "it is not an upper bound on the Hessian's largest eigenvalue.")
    if _top_curvature_elsewhere(grad, np.asarray(experiment["w0"], dtype=float), w, rng) > smoothness * (1 + 1e-4):
        return incorrect(name, "L is too small: away from your run the Hessian has an eigenvalue above L, so L is "
                          "not an upper bound on the curvature everywhere (the O(1/t) theorem needs one).")
    reference = np.minimum.accumulate(np.asarray(squares))
    if not np.allclose(claimed, reference, rtol=1e-6, atol=1e-12):
        return incorrect(name, "min_sq_grad does not match a re-run of gradient descent with step 1/L from w0 "
                          "(is it the running minimum of the squared gradient norm, one entry per step?).")
    if min(values) < float(experiment["loss_min"]) - 1e-9:
        return incorrect(name, "loss_min is not a lower bound: the run went below it.")
    t = np.arange(1, claimed.size + 1)
    bound = 2 * smoothness * (values[0] - float(experiment["loss_min"])) / t
    if np.any(claimed > bound * (1 + 1e-9)):
        return incorrect(name, "the O(1/t) bound fails for your run: recheck L and loss_min.")
    return correct(name, f"your run of {claimed.size} steps stays below 2L(L(w₀) − L*)/t at every t.")


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

