"""Checks of the homework set :ref:`hw-taylor_descent` (Taylor expansions and the descent condition)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from lecturelib.symbolic import Point, Variables

from ..result import CheckResult, StudentError, call_student, correct, guarded, incorrect
from .compare import align_symbols, compare_scalar, describe, relate, to_sympy, variables_of

__all__ = [
    "check_gradient_function",
    "check_hessian",
    "check_rate_experiment",
    "check_step_bound",
    "check_taylor_term",
    "check_taylor_term_function",
]


@guarded("check_hessian")
def check_hessian(answer: object, expr: sp.Expr, variables: Variables) -> CheckResult:
    r"""Check a submitted Hessian of ``expr`` against sympy's :math:`\nabla^2 f`, entry by entry.

    Reports a shape mismatch, a matrix that is not symmetric, and for a wrong entry :math:`(i, j)` whether its sign
    or a factor 2 is off.

    Introduced in :ref:`hw-taylor_descent`.
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
    matrix = matrix.xreplace(
        {v: by for v in matrix.free_symbols for by in xs if isinstance(v, sp.Symbol) and v.name == by.name and v != by}
    )
    if matrix.shape != (n, n):
        return incorrect(
            "check_hessian",
            f"shape mismatch: a Hessian in {n} variables is {n}×{n}, yours is {matrix.shape[0]}×{matrix.shape[1]}.",
        )
    asymmetric = [(i, j) for i in range(n) for j in range(i + 1, n) if sp.simplify(matrix[i, j] - matrix[j, i]) != 0]
    if asymmetric:
        i, j = asymmetric[0]
        return incorrect(
            "check_hessian",
            f"not symmetric: entries ({i}, {j}) and ({j}, {i}) differ, but mixed "
            "partial derivatives of a smooth function are equal.",
        )
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
def check_step_bound(answer: object, expr: sp.Expr, variables: Variables, point: Point) -> CheckResult:
    r"""Check the largest step :math:`2 g^\top g / g^\top H g` that decreases ``expr`` to second order at ``point``.

    The reference is :func:`lecturelib.symbolic.descent_step_bound`. An answer of ``sympy.oo`` is expected when
    :math:`g^\top H g \le 0`.

    Introduced in :ref:`hw-taylor_descent`.
    """
    from lecturelib.symbolic import descent_step_bound

    expected = descent_step_bound(expr, variables, point)
    value = to_sympy(answer, "your step bound")
    if expected == sp.oo or value == sp.oo:
        if expected == value:
            return correct("check_step_bound")
        if expected == sp.oo:
            return incorrect(
                "check_step_bound", "here gᵀHg ≤ 0, so what does the second-order model say about large steps?"
            )
        return incorrect("check_step_bound", "here gᵀHg > 0, so the step bound is finite.")
    return compare_scalar("check_step_bound", value, expected, "your step bound", "numerator and denominator swapped")


@guarded("check_taylor_term")
def check_taylor_term(answer: object, expr: sp.Expr, variables: Variables, point: Point, order: int) -> CheckResult:
    r"""Check the degree-``order`` term of the Taylor expansion of ``expr`` around ``point``.

    The reference is the difference of two :func:`lecturelib.symbolic.taylor_polynomial` calls (degree ``order`` minus
    degree ``order - 1``), so the answer must be the homogeneous term in :math:`x - a` alone.

    Introduced in :ref:`hw-taylor_descent`.
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
        return incorrect(
            "check_taylor_term", f"this is the whole polynomial of degree {order}; give only the degree-{order} term."
        )
    if relation == "different" and _mixed_terms_miscounted(value, expected, xs, point):
        return incorrect(
            "check_taylor_term",
            "the pure powers are right but the mixed terms are not: count how "
            "many orderings (i, j, k) of the sum give the same mixed derivative.",
        )
    return incorrect("check_taylor_term", describe(relation, "your term"))


def _mixed_terms_miscounted(answer: sp.Expr, expected: sp.Expr, xs: tuple[sp.Symbol, ...], point: Point) -> bool:
    """True when ``answer`` and ``expected`` agree on every pure power of one displacement but not on a mixed one.

    Both are written as polynomials in the displacement :math:`h = x - a`; a term :math:`h_i^k` involves one
    variable, a mixed term several. The typical slip is a mixed coefficient off by its multiplicity.
    """
    from lecturelib.symbolic import _as_point

    try:
        at = _as_point(xs, point)
        hs = sp.symbols(f"h_0:{len(xs)}")
        shift = {v: at[v] + h for v, h in zip(xs, hs, strict=True)}
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
def check_taylor_term_function(function: object, order: int = 3, *, n_cases: int = 4, seed: int = 0) -> CheckResult:
    r"""Check a student's ``function(expr, variables, point)`` that returns the degree-``order`` Taylor term.

    It is called on ``n_cases`` random polynomials in two variables (with a sine factor, so the term is not the
    polynomial's own coefficient) and random rational points, and each result is compared with
    :func:`lecturelib.symbolic.taylor_polynomial`.

    Introduced in :ref:`hw-taylor_descent`.
    """
    from lecturelib.symbolic import taylor_polynomial

    x, y = sp.symbols("x y")
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        c = [sp.Integer(int(v)) for v in rng.integers(-3, 4, size=4)]
        expr = c[0] * x**3 * y + c[1] * x * y**2 + c[2] * y**4 + (c[3] + 1) * sp.sin(x + 2 * y)
        point = [sp.Rational(int(v), 2) for v in rng.integers(-2, 3, size=2)]
        value = call_student(function, expr, (x, y), point)
        expected = sp.expand(
            taylor_polynomial(expr, (x, y), point, order) - taylor_polynomial(expr, (x, y), point, order - 1)
        )
        relation = relate(sp.expand(to_sympy(value, "the returned term")), expected)
        if relation != "equal":
            return incorrect(
                "check_taylor_term_function",
                f"test case {case + 1} of {n_cases} (a random f of two variables): "
                + describe(relation, "the returned term"),
            )
    return correct("check_taylor_term_function", f"correct on {n_cases} random functions.")


@guarded("check_gradient_function")
def check_gradient_function(
    grad: object, loss: Callable[..., float], shapes: Sequence[tuple[int, ...]], *, n_cases: int = 3, seed: int = 0
) -> CheckResult:
    r"""Check a student's gradient ``grad(*args)`` of ``loss(*args)`` with respect to its LAST argument.

    ``shapes`` gives the shape of each argument; random arguments are drawn and ``grad`` is compared with a central
    finite difference of ``loss`` (computed here, independently of the student). Reports a shape mismatch, a wrong
    sign and a factor 2.

    Introduced in :ref:`hw-taylor_descent`.
    """
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        args = [rng.standard_normal(shape) for shape in shapes]
        from .compare import as_float_array

        value = as_float_array(call_student(grad, *args), "the returned gradient")
        w = args[-1]
        if value.shape != w.shape:
            return incorrect(
                "check_gradient_function",
                f"shape mismatch: the gradient must have the shape of the "
                f"variable, {w.shape}, but yours has shape {value.shape}.",
            )
        reference = np.zeros_like(w)
        h = 1e-6
        for index in np.ndindex(w.shape):
            step = np.zeros_like(w)
            step[index] = h
            reference[index] = (loss(*args[:-1], w + step) - loss(*args[:-1], w - step)) / (2 * h)
        scale = 1e-5 * (1 + np.abs(reference).max())
        if np.abs(value - reference).max() <= scale:
            continue
        for factor, message in (
            (-1.0, "your gradient has the wrong sign."),
            (2.0, "your gradient is off by a factor of 2: check the ½ in the loss."),
            (0.5, "your gradient is off by a factor of 2: check the ½ in the loss."),
        ):
            if np.abs(value - factor * reference).max() <= scale:
                return incorrect("check_gradient_function", message)
        return incorrect(
            "check_gradient_function",
            f"your gradient disagrees with a finite-difference gradient of the loss (random test case {case + 1}).",
        )
    return correct("check_gradient_function", f"matches finite differences on {n_cases} random inputs.")


@guarded("check_rate_experiment")
def check_rate_experiment(experiment: object) -> CheckResult:
    r"""Check a student's own O(1/t) experiment for gradient descent with step :math:`1/\beta`.

    ``experiment`` is a dict with keys ``loss`` and ``grad`` (callables on a 1-D float array), ``beta`` (the claimed
    smoothness constant :math:`\beta`; ``L``, its name in the notebooks of the course's first release, is accepted
    too), ``w0`` (the start), ``loss_min`` (a lower bound :math:`\mathcal{L}^*` on the loss), and ``min_sq_grad``
    (the student's array of :math:`\min_{k<t} \|\nabla \mathcal{L}(w_k)\|^2` for :math:`t = 1, \dots, T`).

    Verified independently: ``grad`` against finite differences of ``loss`` along the run (with a tolerance for the
    rounding of large loss values); ``beta`` against finite-difference curvature along the run and against the
    largest eigenvalue of a finite-difference Hessian at the origin, the run's ends and random points at distances
    from 0.1 to 1000 around them (a claimed ``beta`` below a curvature seen is wrong, one more than 10 times every
    curvature seen says nothing); ``loss_min`` against the loss at those points and along a longer run (below any of
    them it is no lower bound; more than 10 times further below the start than anything seen it says nothing); the
    loss must not be a plain quadratic (constant Hessian: the lectures' example); the run re-done here with step
    :math:`1/\beta` must reproduce ``min_sq_grad``; and the bound
    :math:`\min_{k<t}\|g_k\|^2 \le 2\beta(\mathcal{L}(w_0) - \mathcal{L}^*)/t` must hold for every :math:`t`.
    Sampling cannot prove a bound that holds everywhere: a curvature hidden where no probe looks is not found.

    Introduced in :ref:`hw-taylor_descent`.
    """
    from .compare import as_float, as_float_array

    name = "check_rate_experiment"
    if not isinstance(experiment, dict):
        raise StudentError("the experiment must be a dict with keys loss, grad, beta, w0, loss_min, min_sq_grad.")
    if "beta" not in experiment and "L" in experiment:  # the key's name in the course's first release
        experiment = {**experiment, "beta": experiment["L"]}
    required = ("loss", "grad", "beta", "w0", "loss_min", "min_sq_grad")
    missing = [k for k in required if k not in experiment]
    if missing:
        raise StudentError(f"the experiment dict is missing the keys {missing}.")
    loss, grad = experiment["loss"], experiment["grad"]
    smoothness = as_float(experiment["beta"], "beta")
    if not (smoothness > 0 and math.isfinite(smoothness)):
        return incorrect(name, "beta must be a positive, finite number.")
    loss_min = as_float(experiment["loss_min"], "loss_min")
    if not math.isfinite(loss_min):
        return incorrect(name, "loss_min must be a finite number.")
    w0 = np.atleast_1d(as_float_array(experiment["w0"], "w0"))
    if w0.ndim != 1 or not np.all(np.isfinite(w0)):
        return incorrect(name, "w0 must be a finite 1-D array.")
    claimed = as_float_array(experiment["min_sq_grad"], "min_sq_grad")
    if claimed.ndim != 1 or claimed.size < 10:
        return incorrect(name, "min_sq_grad must be a 1-D array with one entry per t (at least 10 steps).")

    def f(w: np.ndarray) -> float:
        return as_float(call_student(loss, w.copy()), "the value of loss(w)")

    def g(w: np.ndarray) -> np.ndarray:
        value = np.atleast_1d(as_float_array(call_student(grad, w.copy()), "the value of grad(w)"))
        if value.shape != w.shape:
            raise StudentError(f"shape mismatch: grad returns shape {value.shape} for w of shape {w.shape}.")
        return value

    eps = np.finfo(float).eps
    rng = np.random.default_rng(1)
    w = w0.copy()
    values, squares = [f(w)], []
    curvature_seen = 0.0
    with np.errstate(all="ignore"):
        for _ in range(claimed.size):
            gradient = g(w)
            direction = rng.standard_normal(w.shape)
            direction /= np.linalg.norm(direction)
            h = 1e-5 * (1 + float(np.linalg.norm(w)))
            f_plus, f_minus = f(w + h * direction), f(w - h * direction)
            slope = (f_plus - f_minus) / (2 * h)
            rounding = 8 * eps * max(abs(f_plus), abs(f_minus), abs(values[-1])) / h
            if not abs(slope - gradient @ direction) <= 1e-4 * (1 + abs(slope)) + rounding:
                return incorrect(name, "grad is not the gradient of loss (it disagrees with finite differences).")
            bend = float(direction @ (g(w + h * direction) - g(w - h * direction)) / (2 * h))
            curvature_seen = max(curvature_seen, bend)
            squares.append(float(gradient @ gradient))
            w = w - gradient / smoothness
            values.append(f(w))
    if not np.all(np.isfinite(values)):
        return incorrect(name, "the loss is not finite along a run with step 1/beta: is beta too small?")
    if curvature_seen > smoothness * (1 + 1e-4):
        return incorrect(
            name,
            "beta is too small: the loss curves more steeply than beta somewhere along your run, so "
            "it is not an upper bound on the Hessian's largest eigenvalue.",
        )
    top, lowest, constant = _probe(f, g, w0, w, rng)
    if top > smoothness * (1 + 1e-4):
        return incorrect(
            name,
            "beta is too small: away from your run the Hessian has an eigenvalue above beta, so beta is "
            "not an upper bound on the curvature everywhere (the O(1/t) theorem needs one).",
        )
    reference = np.minimum.accumulate(np.asarray(squares))
    if not np.allclose(claimed, reference, rtol=1e-6, atol=1e-12):
        return incorrect(
            name,
            "min_sq_grad does not match a re-run of gradient descent with step 1/beta from w0 "
            "(is it the running minimum of the squared gradient norm, one entry per step?).",
        )
    # A longer run here, for the lowest loss it reaches.
    with np.errstate(all="ignore"):
        for _ in range(max(0, 2000 - claimed.size)):
            gradient = g(w)
            if not gradient @ gradient > 1e-24:
                break
            w = w - gradient / smoothness
            values.append(f(w))
    lowest = min(lowest, min(v for v in values if math.isfinite(v)))
    if lowest < loss_min - 1e-9 * (1 + abs(loss_min)):
        return incorrect(name, "loss_min is not a lower bound: the loss goes below it.")
    if constant:
        return incorrect(
            name,
            "your loss has the same Hessian everywhere the check looked: a plain quadratic is "
            "the lectures' example. Choose a loss whose curvature changes (the exercise asks for one "
            "the lectures did not use).",
        )
    if top > 0 and smoothness > 10 * top:
        return incorrect(
            name,
            "beta is more than 10 times the largest curvature found anywhere the check looked: a "
            "bound that loose makes the experiment say nothing. Derive a tighter beta.",
        )
    if values[0] - loss_min > 10 * max(values[0] - lowest, 1e-12):
        return incorrect(
            name,
            "loss_min lies far below every loss value found (more than 10 times further below "
            "ℒ(w₀) than the lowest): a bound that loose makes the experiment say nothing. Derive a "
            "tighter lower bound.",
        )
    t = np.arange(1, claimed.size + 1)
    bound = 2 * smoothness * (values[0] - loss_min) / t
    if np.any(claimed > bound * (1 + 1e-9)):
        return incorrect(name, "the O(1/t) bound fails for your run: recheck beta and loss_min.")
    return correct(name, f"your run of {claimed.size} steps stays below 2β(ℒ(w₀) − ℒ*)/t at every t.")


def _probe(
    f: Callable, g: Callable, w0: np.ndarray, w_end: np.ndarray, rng: np.random.Generator, max_dim: int = 50
) -> tuple[float, float, bool]:
    """(largest Hessian eigenvalue, lowest loss, whether every Hessian was the same) at probe points.

    The probes are the origin, the run's two ends, and points at distances 0.1, 1, 10, 100 and 1000 from each in
    random directions. Hessians come from central differences of ``g`` (for up to ``max_dim`` variables; above,
    the curvature along the random directions only). Points where the values are not finite are skipped.
    """
    d = w0.size
    centres = [np.zeros_like(w0), w0, w_end]
    points = list(centres)
    for centre in centres:
        for radius in (0.1, 1.0, 10.0, 100.0, 1000.0):
            direction = rng.standard_normal(d)
            points.append(centre + radius * direction / np.linalg.norm(direction))
    top, lowest, hessians = 0.0, math.inf, []
    with np.errstate(all="ignore"):
        for point in points:
            h = 1e-5 * (1 + float(np.linalg.norm(point)))
            value = f(point)
            if math.isfinite(value):
                lowest = min(lowest, value)
            if d <= max_dim:
                columns = []
                for i in range(d):
                    step = np.zeros(d)
                    step[i] = h
                    columns.append((g(point + step) - g(point - step)) / (2 * h))
                hessian = np.array(columns)
                if np.all(np.isfinite(hessian)):
                    symmetric = (hessian + hessian.T) / 2
                    top = max(top, float(np.linalg.eigvalsh(symmetric)[-1]))
                    hessians.append(symmetric)
            else:
                direction = rng.standard_normal(d)
                direction /= np.linalg.norm(direction)
                bend = float(direction @ (g(point + h * direction) - g(point - h * direction)) / (2 * h))
                if math.isfinite(bend):
                    top = max(top, bend)
    constant = len(hessians) >= 3 and all(
        np.allclose(hessian, hessians[0], rtol=1e-4, atol=1e-6 * (1 + np.abs(hessians[0]).max()))
        for hessian in hessians
    )
    return top, lowest, constant
