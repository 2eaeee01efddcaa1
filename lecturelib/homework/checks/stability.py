"""Checks of the homework set :ref:`hw-stability` (stability of fixed points, bifurcations and orbits)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from lecturelib.symbolic import Point, Value, Variables

from ..result import CheckResult, StudentError, call_student, correct, guarded, incorrect
from .compare import as_float, as_float_array, describe, relate, to_sympy, variables_of

__all__ = ["check_bifurcation", "check_minima", "check_period2_orbit", "check_threshold", "check_threshold_function"]


def _minima(f: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """The real strict local minima of a polynomial-like ``f`` of one variable (f' = 0, f'' > 0), exactly."""
    critical = [c for c in sp.solve(sp.diff(f, x), x) if c.is_real]
    return sorted((c for c in critical if sp.diff(f, x, 2).subs(x, c) > 0), key=float)


@guarded("check_minima")
def check_minima(answer: object, expr: sp.Expr, x: sp.Symbol) -> CheckResult:
    """Check the list of the strict local minima of ``expr`` (one variable), smaller first, exactly.

    Introduced in :ref:`hw-stability`.
    """
    name = "check_minima"
    if isinstance(answer, (str, dict, bytes)) or not hasattr(answer, "__len__"):
        raise StudentError("give the minima as a list of numbers, smaller first.")
    f = sp.sympify(expr)
    values = [to_sympy(v, "each minimum") for v in cast("Sequence[object]", answer)]  # has a length: checked above
    truth = _minima(f, x)
    derivative, second = sp.diff(f, x), sp.diff(f, x, 2)
    for v in values:
        if v.free_symbols:
            raise StudentError("each minimum must be a number (it still contains symbols).")
        if sp.simplify(derivative.subs(x, v)) != 0:
            return incorrect(name, "a point of your list is not a critical point of the function (f' ≠ 0 there).")
        if not sp.simplify(second.subs(x, v)) > 0:
            return incorrect(name, "a point of your list is a critical point but not a minimum (look at f'' there).")
    if len(values) < len(truth):
        return incorrect(name, "a minimum is missing.")
    if len(values) > len(truth):
        return incorrect(name, "a minimum is listed twice.")
    if [float(v) for v in values] != sorted(float(v) for v in values):
        return incorrect(name, "list the minima smaller first.")
    return correct(name)


def _threshold_cases(seed: int, n_cases: int) -> list[tuple[sp.Expr, sp.Expr]]:
    """(f, minimum) pairs: quartics f with f' = k (x - m1)(x - m2)(x - m3), minima m1 < m3, drawn from ``seed``."""
    x = sp.Symbol("x", real=True)
    rng = np.random.default_rng(seed)
    cases: list[tuple[sp.Expr, sp.Expr]] = []
    while len(cases) < n_cases:
        m = sorted(int(v) for v in rng.choice(np.arange(-6, 7), size=3, replace=False))
        k = sp.Rational(int(rng.integers(1, 7)), int(rng.integers(1, 5)))
        f = sp.expand(sp.integrate(k * (x - m[0]) * (x - m[1]) * (x - m[2]), x))
        cases.append((f, sp.Integer(m[0] if len(cases) % 2 == 0 else m[2])))
    return cases


@guarded("check_threshold_function")
def check_threshold_function(
    function: object, *, cases: Sequence[tuple[sp.Expr, Value]] = (), seed: int = 0, n_cases: int = 4
) -> CheckResult:
    r"""Check a student's ``function(f, x, x_star)`` returning the exact threshold :math:`\delta^*` at a minimum.

    Called on ``cases`` (pairs of a function of the symbol ``x`` and one of its minima) and on ``n_cases`` quartics
    with integer critical points drawn from ``seed``; each result must equal :math:`2/f''(x^*)` exactly. The grader
    draws its own seed, so a guess bracketed with the hints of :func:`check_threshold` earns nothing here.

    Introduced in :ref:`hw-stability`.
    """
    name = "check_threshold_function"
    x = sp.Symbol("x", real=True)
    every = [(sp.sympify(f), sp.sympify(m)) for f, m in cases] + _threshold_cases(seed, n_cases)
    for number, (f, minimum) in enumerate(every, start=1):
        symbol = next(iter(f.free_symbols), x)
        value = to_sympy(call_student(function, f, symbol, minimum), "the returned threshold")
        expected = 2 / sp.diff(f, symbol, 2).subs(symbol, minimum)
        relation = relate(value, expected)
        if relation != "equal":
            if value != 0 and relate(1 / value, expected) == "equal":
                return incorrect(name, f"case {number} of {len(every)}: the threshold is upside down.")
            return incorrect(
                name,
                f"case {number} of {len(every)} (a quartic with minima at integers): "
                + describe(relation, "the returned threshold"),
            )
    return correct(name, f"exact on {len(every)} functions.")


def _gd_map(expr: sp.Expr, x: sp.Symbol) -> Callable[[ArrayLike, ArrayLike], np.ndarray]:
    derivative = sp.lambdify(x, sp.diff(sp.sympify(expr), x), modules="numpy")

    def step(values: ArrayLike, delta: ArrayLike) -> np.ndarray:
        with np.errstate(all="ignore"):
            return values - delta * derivative(values)

    return step


def is_unanswered_point(coordinates: list) -> bool:
    return any(c is Ellipsis for c in coordinates)


def _converges_to(step: Callable, x_star: np.ndarray, delta: float, n_steps: int, radius: float) -> bool:
    """Whether GD started at small perturbations of ``x_star`` converges back to it."""
    rng = np.random.default_rng(7)
    offsets = radius * rng.uniform(-1, 1, size=(16, *x_star.shape))
    values = x_star + offsets
    for _ in range(n_steps):
        values = step(values, delta)
        values = np.where(np.abs(values) > 1e6, np.nan, values)
    distance = np.abs(values - x_star).reshape(len(offsets), -1).max(axis=1)
    return bool(np.all(distance < 1e-7))


@guarded("check_threshold")
def check_threshold(
    answer: object, expr: sp.Expr, variables: Variables, point: Point, *, margin: float = 0.03, n_steps: int = 4000
) -> CheckResult:
    r"""Check a claimed largest stable step size at the minimum ``point`` of ``expr``, by simulation.

    Gradient descent is run from small perturbations of ``point`` at ``(1 - margin)`` times the answer (it must come
    back to ``point``) and at ``(1 + margin)`` times the answer (it must not). An exact answer is then compared with
    :func:`lecturelib.symbolic.max_stable_step` to tell a factor 2 from another error.

    Introduced in :ref:`hw-stability`.
    """
    from lecturelib.symbolic import max_stable_step

    name = "check_threshold"
    xs = variables_of(variables)
    value = to_sympy(answer, "your threshold")
    delta = as_float(value, "your threshold")
    if not (delta > 0 and math.isfinite(delta)):
        return incorrect(name, "a step-size threshold is a positive, finite number.")
    f = sp.sympify(expr)
    coordinates = list(point) if isinstance(point, (list, tuple)) else [point]
    if len(coordinates) != len(xs) or is_unanswered_point(coordinates):
        raise StudentError(f"the point must have {len(xs)} coordinate(s).")
    at = dict(zip(xs, (to_sympy(c, "the point") for c in coordinates), strict=True))
    if any(sp.simplify(sp.diff(f, v).subs(at)) != 0 for v in xs):
        return incorrect(
            name,
            "the point given to the check is not a critical point of the function, so no step "
            "size makes it attract gradient descent.",
        )
    if not np.all(np.linalg.eigvalsh(np.array(sp.hessian(f, xs).subs(at).evalf(), dtype=float)) > 0):
        return incorrect(name, "the point given to the check is not a strict minimum of the function.")
    grad = sp.lambdify(xs, [sp.diff(f, v) for v in xs], modules="numpy")
    x_star = np.array([float(at[v]) for v in xs])

    def step(values: np.ndarray, d: float) -> np.ndarray:
        with np.errstate(all="ignore"):
            g = np.stack(np.broadcast_arrays(*grad(*np.moveaxis(values, -1, 0))), axis=-1)
            return values - d * g

    below = _converges_to(step, x_star, delta * (1 - margin), n_steps, 1e-3)
    above = _converges_to(step, x_star, delta * (1 + margin), n_steps, 1e-3)
    expected = max_stable_step(f, xs, list(x_star) if len(xs) > 1 else point)
    ratio = float(expected) / delta if expected != sp.oo else math.inf
    hint = (
        " It looks off by a factor of 2."
        if (math.isclose(ratio, 2, rel_tol=1e-3) or math.isclose(ratio, 0.5, rel_tol=1e-3))
        else ""
    )
    if not hint and len(xs) > 1:
        hessian_at = np.array(sp.hessian(f, xs).subs(dict(zip(xs, x_star, strict=True))).evalf(), dtype=float)
        curvatures = np.linalg.eigvalsh(hessian_at)
        others = [lam for lam in curvatures[:-1] if lam > 0 and not math.isclose(lam, curvatures[-1], rel_tol=1e-9)]
        if any(math.isclose(2 / lam, delta, rel_tol=1e-6) for lam in others):
            hint = " It is 2/λ for an eigenvalue λ of the Hessian, but not for the one that binds."
    if not below:
        return incorrect(
            name,
            f"too large: gradient descent started next to the minimum does not return to it at "
            f"a step {margin:.0%} below your threshold.{hint}",
        )
    if above:
        return incorrect(
            name,
            f"too small: gradient descent still converges to the minimum at a step {margin:.0%} "
            f"above your threshold.{hint}",
        )
    if not math.isclose(ratio, 1.0, rel_tol=1e-9):
        return incorrect(
            name, f"close, but not exact: derive it symbolically (the simulation agrees to within {margin:.0%})."
        )
    return correct(
        name,
        f"gradient descent returns to the minimum {margin:.0%} below your threshold and leaves it {margin:.0%} above.",
    )


@guarded("check_period2_orbit")
def check_period2_orbit(
    answer: object, expr: sp.Expr, x: sp.Symbol, step: float, *, tol: float = 1e-9, attracting: bool | None = None
) -> CheckResult:
    r"""Check a claimed period-2 orbit ``(a, b)`` of gradient descent :math:`x \mapsto x - \delta f'(x)` on ``expr``.

    Verified by applying the map: :math:`T(a) = b`, :math:`T(b) = a` and :math:`a \ne b` (to ``tol``, relative),
    with finite images. With ``attracting=True`` the orbit must attract gradient descent
    (:math:`|T'(a)T'(b)| < 1`), with ``attracting=False`` it must repel.

    Introduced in :ref:`hw-stability`.
    """
    name = "check_period2_orbit"
    if isinstance(answer, (str, bytes, dict)) or not hasattr(answer, "__len__"):
        raise StudentError("give the orbit as a pair of numbers (a, b).")
    pair = cast("Sequence[object]", answer)  # has a length: checked above
    if len(pair) != 2:
        raise StudentError("give the orbit as a pair of numbers (a, b).")
    a, b = (as_float(v, "each point of the orbit") for v in pair)
    if not (math.isfinite(a) and math.isfinite(b)):
        return incorrect(name, "the two points must be finite numbers.")
    T = _gd_map(expr, x)
    scale = tol * (1 + abs(a) + abs(b))
    if abs(a - b) <= scale:
        return incorrect(name, "your two points coincide: that is a fixed point, not a period-2 orbit.")
    ta, tb = float(T(np.float64(a), step)), float(T(np.float64(b), step))
    if not (math.isfinite(ta) and math.isfinite(tb)):
        return incorrect(name, "one gradient step from your points overflows: they are far from any orbit.")
    if abs(ta - a) <= scale:
        return incorrect(
            name, "your first point is a fixed point of the map (a critical point of f), not on a period-2 orbit."
        )
    miss = max(abs(ta - b), abs(tb - a))
    if scale < miss <= 1e-4 * (1 + abs(a) + abs(b)):
        digits = max(1, int(-math.log10(miss / (1 + abs(a) + abs(b)))))
        return incorrect(
            name, f"your points are an orbit only to about {digits} digits: give them at full precision (not rounded)."
        )
    if abs(ta - b) > scale and abs(tb - a) > scale:
        return incorrect(name, "one gradient step from either point does not land on the other.")
    if abs(ta - b) > scale:
        return incorrect(name, "one gradient step from your first point does not land on your second.")
    if abs(tb - a) > scale:
        return incorrect(name, "one gradient step from your second point does not land on your first.")
    if attracting is not None:
        derivative = sp.lambdify(x, 1 - step * sp.diff(sp.sympify(expr), x, 2), modules="math")
        multiplier = abs(derivative(a) * derivative(b))
        if attracting and not multiplier < 1:
            return incorrect(
                name,
                "this is a period-2 orbit, but it repels gradient descent (|T'(a) T'(b)| > 1): "
                "the runs do not end on it. Look for the one they end on.",
            )
        if attracting is False and not multiplier > 1:
            return incorrect(
                name, "this period-2 orbit attracts gradient descent; the exercise asks for the one that repels."
            )
    return correct(
        name,
        "T(a) = b and T(b) = a, with a ≠ b"
        + (", and it attracts." if attracting else ", and it repels." if attracting is False else "."),
    )


@guarded("check_bifurcation")
def check_bifurcation(
    answer: object,
    expr: sp.Expr,
    x: sp.Symbol,
    steps: ArrayLike,
    starts: ArrayLike,
    *,
    min_keep: int = 8,
    tol: float = 1e-8,
) -> CheckResult:
    r"""Check the data of a bifurcation diagram: iterates of gradient descent on ``expr`` kept after a transient.

    ``answer`` must have shape ``(len(steps), n_starts, n_keep)`` with ``n_keep >= min_keep``. Every row must be a
    piece of a gradient-descent orbit at its step size (each kept iterate is one step :math:`x - \delta f'(x)` of
    the previous one; diverged entries are NaN and stay NaN), and the rows must have settled: gradient descent
    continued from a row's last iterate must end, wherever it ends on a periodic orbit, within ``1e-2`` (relative) of
    that iterate (see ``_unsettled_rows``). A handful of slow rows next to a bifurcation are tolerated.

    When ``starts`` is the array of starting points (not only their number), gradient descent is also run here from
    every start, and each row must end where this run ends: on the same periodic orbit (to 1e-2, relative), NaN
    where it diverges and numbers where it does not. Chaotic rows are not compared.

    Introduced in :ref:`hw-stability`.
    """
    name = "check_bifurcation"
    raw = np.asarray(answer) if isinstance(answer, np.ndarray) else None
    if raw is not None and raw.dtype.kind == "f" and raw.dtype.itemsize < 8:
        return incorrect(
            name, f"your data is {raw.dtype}, whose rounding is larger than the check's tolerance: compute in float64."
        )
    data = as_float_array(answer, "the data")
    steps = np.asarray(steps, dtype=float)
    start_values = None if np.ndim(starts) == 0 else np.asarray(starts, dtype=float)
    n_starts = int(np.asarray(starts).item()) if start_values is None else start_values.size
    if data.ndim != 3 or data.shape[:2] != (steps.size, n_starts):
        return incorrect(
            name,
            f"shape mismatch: expected (number of steps, number of starts, number kept) = "
            f"({steps.size}, {n_starts}, n_keep), got {data.shape}.",
        )
    if data.shape[2] < min_keep:
        return incorrect(name, f"keep at least {min_keep} iterates per start to see the orbits.")
    finite = np.isfinite(data)
    if not finite.any():
        return incorrect(name, "every entry is NaN: nothing converged or stayed bounded.")
    T = _gd_map(expr, x)
    delta = steps[:, None, None]
    image = T(data[:, :, :-1], delta)
    pair = finite[:, :, :-1] & finite[:, :, 1:]
    error = np.abs(image - data[:, :, 1:])
    if np.any(error[pair] > tol * (1 + np.abs(data[:, :, 1:][pair]))):
        return incorrect(
            name,
            "some consecutive kept iterates are not one gradient step apart at their step "
            "size: are the axes in the right order (steps, starts, kept iterates)?",
        )
    if np.any(~finite[:, :, :-1] & finite[:, :, 1:]):
        return incorrect(name, "a row switches from NaN back to numbers: once diverged, an entry should stay NaN.")
    unsettled, periodic = _unsettled_rows(T, data, steps)
    if start_values is not None:
        wrong, judged = _rows_unlike_descent(T, data, steps, start_values)
        if wrong > max(2, 0.002 * judged):
            return incorrect(
                name,
                f"{wrong} rows do not end where gradient descent from their start ends (on "
                "another orbit, NaN where it stays bounded, or numbers where it diverges). Did you "
                "run every start at every step size, in that order?",
            )
    if unsettled > max(2, 0.002 * periodic):
        return incorrect(
            name,
            f"{unsettled} rows have not settled: gradient descent continued from their last kept "
            "iterate ends on an orbit far from what they show. Did you discard enough steps, keep the "
            "last iterates, and step against the gradient?",
        )
    return correct(name, "every row is a piece of a gradient-descent orbit at its step size, after the transient.")


def _rows_unlike_descent(
    T: Callable, data: np.ndarray, steps: np.ndarray, starts: np.ndarray, n_run: int = 700, tol: float = 1e-2
) -> tuple[int, int]:
    """Rows whose last kept iterate is not where gradient descent run here from their start ends.

    Returns (rows that differ, rows compared): compared are rows whose run here diverges or settles on an orbit of
    period at most 32; chaotic rows are skipped.
    """
    from lecturelib.gd import orbit_period

    current = np.broadcast_to(starts[None, :], data.shape[:2]).astype(float)
    delta = steps[:, None]
    with np.errstate(all="ignore"):
        for _ in range(n_run):
            current = T(current, delta)
            current = np.where(np.abs(current) <= 1e6, current, np.nan)
        rows = [current]
        for _ in range(63):
            current = T(current, delta)
            current = np.where(np.abs(current) <= 1e6, current, np.nan)
            rows.append(current)
    tail = np.array(rows)
    last = data[:, :, -1]
    diverged = ~np.isfinite(tail[-1])
    periodic = (orbit_period(tail, tol=1e-9, max_period=32) >= 1) & ~diverged
    with np.errstate(all="ignore"):
        distance = np.min(np.abs(tail - last[None]), axis=0)
    on_orbit = np.isfinite(last) & (distance <= tol * (1 + np.abs(last)))
    wrong = (diverged & np.isfinite(last)) | (periodic & ~on_orbit)
    return int(wrong.sum()), int((diverged | periodic).sum())


def _unsettled_rows(
    T: Callable, data: np.ndarray, steps: np.ndarray, n_more: int = 600, tol: float = 1e-2
) -> tuple[int, int]:
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
        rows = [current]
        for _ in range(63):
            current = T(current, delta)
            current = np.where(np.abs(current) <= 1e6, current, np.nan)
            rows.append(current)
    tail = np.array(rows)
    judged = (orbit_period(tail, tol=1e-9, max_period=32) >= 1) & np.isfinite(last)
    with np.errstate(all="ignore"):
        distance = np.min(np.abs(tail - last[None]), axis=0)
    unsettled = judged & ~(distance <= tol * (1 + np.abs(last)))
    return int(unsettled.sum()), int(judged.sum())
