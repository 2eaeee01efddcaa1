"""Checks of the homework set :ref:`hw-choosing_steps`: Polyak's step, a worst case read off by performance estimation,
a 3-step schedule that beats every constant step, and when Barzilai–Borwein's step exceeds :math:`2/\\beta`.

Introduced in :ref:`hw-choosing_steps`. Each check tests a property of the answer (the derivative of the bound it
minimizes, the worst case it computes itself with :func:`lecturelib.stepsizes.pep_worst_case`, the step it computes
with :func:`lecturelib.stepsizes.barzilai_borwein`) and never shows the expected answer. Results are
:class:`lecturelib.homework.CheckResult` objects.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..result import CheckResult, StudentError, UsageError, call_student, correct, guarded, incorrect

__all__ = [
    "check_bb_fraction",
    "check_bb_move",
    "check_polyak_derivation",
    "check_polyak_function",
    "check_rate_constants",
    "check_schedule_beats_constant",
]


def _expression(answer: object, allowed: set[sp.Symbol], what: str) -> sp.Expr:
    try:
        expr = sp.sympify(answer)
    except (sp.SympifyError, TypeError) as err:
        raise StudentError(f"{what} must be a sympy expression.") from err
    extra = expr.free_symbols - allowed
    if extra:
        raise StudentError(f"{what} contains symbols other than {', '.join(sorted(map(str, allowed)))}.")
    return expr


@guarded("check_polyak_derivation")
def check_polyak_derivation(answer: object, gap: sp.Symbol, G: sp.Symbol, D: sp.Symbol) -> CheckResult:
    """Check the step :math:`t` (an expression in ``gap`` :math:`= f(x) - f^\\star > 0`, ``G`` :math:`= \\lVert g
    \\rVert^2 > 0` and ``D`` :math:`= \\lVert x - x^\\star \\rVert^2`) that minimizes the bound
    :math:`D - 2t\\,\\text{gap} + t^2 G` on the squared distance after the step: the bound's derivative must vanish at
    it. Typical slips are named: the step at which the bound returns to :math:`D`, a square root, a fraction upside
    down.

    Introduced in :ref:`hw-choosing_steps`.
    """
    name = "check_polyak_derivation"
    expr = _expression(answer, {gap, G, D}, "your step")
    t = sp.Symbol("t")
    bound = D - 2 * t * gap + t**2 * G
    rng = np.random.default_rng(5)
    points = [
        {gap: float(rng.uniform(0.1, 5)), G: float(rng.uniform(0.1, 5)), D: float(rng.uniform(0.1, 5))}
        for _ in range(6)
    ]
    slope = sp.lambdify((t, gap, G, D), sp.diff(bound, t))
    value_of = sp.lambdify((gap, G, D), expr)
    values = []
    for p in points:
        v = complex(value_of(p[gap], p[G], p[D]))
        if not (math.isfinite(v.real) and abs(v.imag) < 1e-12):
            return incorrect(name, "your step is not a finite real number for every positive gap and gradient.")
        values.append(v.real)
    if all(abs(slope(v, p[gap], p[G], p[D])) < 1e-9 * max(1.0, p[gap]) for v, p in zip(values, points, strict=True)):
        return correct(name, "the bound's derivative in t vanishes at your step, and the bound is convex in t.")
    ratios = [v / (p[gap] / p[G]) for v, p in zip(values, points, strict=True)]
    if np.allclose(ratios, 2.0, rtol=1e-9):
        return incorrect(
            name,
            "at your step the bound is back at D: that is the largest step that does not increase "
            "the bound, not the one that minimizes it.",
        )
    if np.allclose([v * p[gap] / p[G] for v, p in zip(values, points, strict=True)], 1.0, rtol=1e-9):
        return incorrect(name, "upside down: check which quantity goes in the numerator.")
    if np.allclose([v / (p[gap] / math.sqrt(p[G])) for v, p in zip(values, points, strict=True)], 1.0, rtol=1e-9):
        return incorrect(name, "no square root: G is already the squared norm of the gradient.")
    if np.allclose(ratios, ratios[0], rtol=1e-9):
        return incorrect(name, "off by a constant factor: set the derivative of the bound in t to zero again.")
    return incorrect(name, "at your step the bound's derivative in t is not zero.")


@guarded("check_polyak_function")
def check_polyak_function(function: object, *, n_cases: int = 12, seed: int = 0) -> CheckResult:
    """Check a student's ``function(loss_value, loss_min, grad)`` for Polyak's step against
    :func:`lecturelib.stepsizes.polyak_step` on random cases (gradients of 1 to 6 entries), including a point where
    the loss equals its minimum, naming the usual slips (the norm instead of its square, a missing :math:`f^\\star`).

    Introduced in :ref:`hw-choosing_steps`.
    """
    from lecturelib.stepsizes import polyak_step

    name = "check_polyak_function"
    if not callable(function):
        raise StudentError(f"expected a function, got {type(function).__name__}.")
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        g = rng.normal(size=int(rng.integers(1, 7))) * float(rng.uniform(0.1, 3))
        f_min = float(rng.normal())
        f_value = f_min if case == 0 else f_min + float(rng.uniform(0.01, 4))
        value = call_student(function, f_value, f_min, g.copy())
        try:
            value = float(value)
        except (TypeError, ValueError) as err:
            raise StudentError("your function must return one number.") from err
        reference = polyak_step(f_value, f_min, g)
        if math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-12):
            continue
        gap, norm = f_value - f_min, float(np.linalg.norm(g))
        if math.isclose(value, gap / norm, rel_tol=1e-9):
            return incorrect(name, "you divide by the norm of the gradient; Polyak's step divides by its square.")
        if math.isclose(value, f_value / norm**2, rel_tol=1e-9):
            return incorrect(name, "the optimal value is missing: the step uses the gap f(x) - f*.")
        return incorrect(
            name, f"not right for a gradient with {g.size} entries" + (" at the minimum" if case == 0 else "") + "."
        )
    return correct(name, f"agrees with Polyak's step on {n_cases} random cases, including one at the minimum.")


@guarded("check_rate_constants")
def check_rate_constants(answer: object, h: float, *, lengths: tuple[int, ...] = (1, 2, 3, 4, 5)) -> CheckResult:
    """Check a pair ``(a, b)`` such that the worst case of :math:`f(x_N) - f^\\star` of gradient descent with the
    constant normalized step ``h`` (with :math:`\\beta = R = 1`) is :math:`1/(aN + b)` for each ``N`` in ``lengths``;
    the check computes the worst cases itself with :func:`lecturelib.stepsizes.pep_worst_case`.

    Introduced in :ref:`hw-choosing_steps`.
    """
    from lecturelib.stepsizes import pep_worst_case

    name = "check_rate_constants"
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise StudentError("give the pair (a, b) of the rate 1/(a N + b).")
    try:
        a, b = float(answer[0]), float(answer[1])
    except (TypeError, ValueError) as err:
        raise StudentError("a and b must be numbers.") from err
    if not (math.isfinite(a) and math.isfinite(b)):
        raise StudentError("a and b must be finite numbers.")
    inverse = np.array([1.0 / pep_worst_case([h] * n) for n in lengths])
    n = np.array(lengths, dtype=float)
    predicted = a * n + b
    if np.allclose(predicted, inverse, rtol=1e-5):
        return correct(name, f"1/(a N + b) matches the computed worst case for N = {', '.join(map(str, lengths))}.")
    if np.allclose(2 * predicted, inverse, rtol=1e-5) or np.allclose(predicted, 2 * inverse, rtol=1e-5):
        return incorrect(
            name, "off by a factor of 2 everywhere: check whether you inverted the worst case or half of it."
        )
    slope_ok = math.isclose(a, float(inverse[1] - inverse[0]), rel_tol=1e-4)
    if slope_ok:
        return incorrect(name, "the growth in N is right, the constant b is not.")
    return incorrect(name, "1/(a N + b) does not match the computed worst cases: fit 1/worst case against N.")


def _best_constant_rate(n: int) -> float:
    """The smallest closed-form constant-step rate for ``n`` steps: the root of (h-1)^{2n}(2nh+1) = 1 in (1, 2)."""
    lo, hi = 1.0, 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (mid - 1) ** (2 * n) * (2 * n * mid + 1) < 1:
            lo = mid
        else:
            hi = mid
    return 0.5 / (2 * n * lo + 1)


@guarded("check_schedule_beats_constant")
def check_schedule_beats_constant(steps: object, n: int) -> CheckResult:
    """Check a schedule of ``n`` normalized steps whose worst case (computed by
    :func:`lecturelib.stepsizes.pep_worst_case`) is below the worst case of every constant step with ``n`` steps.

    Introduced in :ref:`hw-choosing_steps`.
    """
    from lecturelib.stepsizes import pep_worst_case

    name = "check_schedule_beats_constant"
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 15:
        raise UsageError(f"{name}: n must be an integer from 1 to 15, got {n!r}")
    try:
        h = np.asarray(steps, dtype=float)
    except (TypeError, ValueError) as err:
        raise StudentError("your schedule must be a list of numbers.") from err
    if h.shape != (n,):
        raise StudentError(f"your schedule must have {n} steps, got shape {h.shape}.")
    if not np.all(np.isfinite(h) & (h > 0)):
        raise StudentError("every step of a schedule is a finite positive number.")
    if np.any(h > 20):
        raise StudentError("steps above 20 make the worst case enormous: try steps between 1 and 3.")
    worst = pep_worst_case(h)
    best = _best_constant_rate(n)
    if worst < best * (1 - 1e-6):
        return correct(
            name, f"your schedule's worst case is {best / worst:.4f} times smaller than that of the best constant step."
        )
    if np.allclose(h, h[0]):
        return incorrect(name, "a constant schedule cannot beat the best constant step: vary the steps.")
    if np.all(h <= 2):
        return incorrect(
            name,
            f"not below the best constant step (ratio {worst / best:.3f}); all your steps are at most 2: "
            "try one longer step in the middle.",
        )
    return incorrect(name, f"not below the best constant step (your worst case is {worst / best:.3f} times it).")


def _long_step_above(fraction: float, lam1: float, beta: float) -> bool:
    """Whether the long Barzilai–Borwein step along a move with ``fraction`` of its squared length on the sharp axis
    of diag(lam1, beta) exceeds 2/beta (computed with the library, not with a formula)."""
    from lecturelib.stepsizes import barzilai_borwein

    s = np.array([math.sqrt(1 - fraction), math.sqrt(fraction)])
    H = np.array([lam1, beta])
    return barzilai_borwein(s, H * s, "long") > 2 / beta


def _largest_fraction(lam1: float, beta: float) -> float:
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _long_step_above(mid, lam1, beta):
            lo = mid
        else:
            hi = mid
    return lo


@guarded("check_bb_fraction")
def check_bb_fraction(answer: object, lam1: sp.Symbol, beta: sp.Symbol) -> CheckResult:
    """Check an expression (in ``lam1`` and ``beta``, with :math:`0 < \\lambda_1 < \\beta/2`) for the largest fraction
    :math:`p` of a move's squared length along the sharp axis of :math:`H = \\operatorname{diag}(\\lambda_1, \\beta)`
    for which the long Barzilai–Borwein step exceeds :math:`2/\\beta`; compared with a bisection on the step itself.

    Introduced in :ref:`hw-choosing_steps`.
    """
    name = "check_bb_fraction"
    expr = _expression(answer, {lam1, beta}, "your fraction")
    f = sp.lambdify((lam1, beta), expr)
    rng = np.random.default_rng(8)
    ratios = []
    for _ in range(8):
        b = float(rng.uniform(0.5, 10))
        l1 = float(rng.uniform(0.01, 0.45)) * b
        v = complex(f(l1, b))
        if not (math.isfinite(v.real) and abs(v.imag) < 1e-12):
            return incorrect(name, "your fraction is not a finite real number for every 0 < λ₁ < β/2.")
        ratios.append(v.real / _largest_fraction(l1, b))
    r = np.array(ratios)
    if np.allclose(r, 1.0, rtol=1e-7):
        return correct(name, "below your fraction the long step is above 2/β, above it it is not, at every case tried.")
    if np.all(r > 1):
        return incorrect(name, "too large: just below your fraction the long step is already at most 2/β.")
    if np.all(r < 1):
        return incorrect(name, "too small: just above your fraction the long step is still above 2/β.")
    return incorrect(name, "not right: too large for some (λ₁, β) and too small for others.")


@guarded("check_bb_move")
def check_bb_move(s: object, curvatures: object) -> CheckResult:
    """Check a move ``s`` on the quadratic with Hessian ``diag(curvatures)`` whose long Barzilai–Borwein step
    (computed by :func:`lecturelib.stepsizes.barzilai_borwein` with :math:`y = Hs`) exceeds :math:`2/\\beta`,
    :math:`\\beta` the largest curvature, while its short step does not.

    Introduced in :ref:`hw-choosing_steps`.
    """
    from lecturelib.stepsizes import barzilai_borwein

    name = "check_bb_move"
    H = np.asarray(curvatures, dtype=float)
    try:
        move = np.asarray(s, dtype=float)
    except (TypeError, ValueError) as err:
        raise StudentError("your move must be an array of numbers.") from err
    if move.shape != H.shape:
        raise StudentError(f"your move must have {H.size} entries, one per curvature.")
    if not np.all(np.isfinite(move)) or not np.any(move):
        raise StudentError("your move must be finite and not zero.")
    edge = 2 / float(H.max())
    long, short = barzilai_borwein(move, H * move, "long"), barzilai_borwein(move, H * move, "short")
    if long <= edge:
        return incorrect(
            name, "the long step of this move is at most 2/β: the move has too much of the sharp direction."
        )
    if short > edge:
        return incorrect(name, "the long step is above 2/β, but so is the short one: keep some of the sharp direction.")
    return correct(name, "the long step is above 2/β and the short one is not.")
