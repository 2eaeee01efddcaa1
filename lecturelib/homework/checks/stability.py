"""Checks of homework set 2 (stability of fixed points, bifurcations and orbits)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..result import CheckResult, StudentError, correct, guarded, incorrect
from .compare import to_sympy, variables_of

__all__ = ["check_bifurcation", "check_period2_orbit", "check_threshold"]

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


@guarded("check_threshold")
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
    xs = variables_of(variables)
    value = to_sympy(answer, "your threshold")
    try:
        delta = float(value)
    except TypeError as err:
        raise StudentError("your threshold must be a number (it still contains symbols).") from err
    if not (delta > 0 and math.isfinite(delta)):
        return incorrect(name, "a step-size threshold is a positive, finite number.")
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
        return incorrect(name, f"too large: gradient descent started next to the minimum does not return to it at "
                          f"a step {margin:.0%} below your threshold.{hint}")
    if above:
        return incorrect(name, f"too small: gradient descent still converges to the minimum at a step {margin:.0%} "
                          f"above your threshold.{hint}")
    if not math.isclose(ratio, 1.0, rel_tol=1e-9):
        return incorrect(name, "close, but not exact: derive it symbolically (the simulation agrees to within "
                          f"{margin:.0%}).")
    return correct(name, f"gradient descent returns to the minimum {margin:.0%} below your threshold and leaves it "
                    f"{margin:.0%} above.")


@guarded("check_period2_orbit")
def check_period2_orbit(answer: Any, expr: Any, x: sp.Symbol, step: float, *, tol: float = 1e-9) -> CheckResult:
    r"""Check a claimed period-2 orbit ``(a, b)`` of gradient descent :math:`x \mapsto x - \delta f'(x)` on ``expr``.

    Verified by applying the map: :math:`T(a) = b`, :math:`T(b) = a` and :math:`a \ne b` (to ``tol``, relative).

    Introduced in homework set 2.
    """
    name = "check_period2_orbit"
    try:
        a, b = (float(v) for v in answer)
    except (TypeError, ValueError) as err:
        raise StudentError("give the orbit as a pair of numbers (a, b).") from err
    if not (math.isfinite(a) and math.isfinite(b)):
        return incorrect(name, "the two points must be finite numbers.")
    T = _gd_map(expr, x)
    scale = tol * (1 + abs(a) + abs(b))
    if abs(a - b) <= scale:
        return incorrect(name, "your two points coincide: that is a fixed point, not a period-2 orbit.")
    ta, tb = float(T(np.float64(a), step)), float(T(np.float64(b), step))
    if abs(ta - a) <= scale:
        return incorrect(name, "your first point is a fixed point of the map (a critical point of f), not on a "
                          "period-2 orbit.")
    if abs(ta - b) > scale and abs(tb - a) > scale:
        return incorrect(name, "one gradient step from either point does not land on the other.")
    if abs(ta - b) > scale:
        return incorrect(name, "one gradient step from your first point does not land on your second.")
    if abs(tb - a) > scale:
        return incorrect(name, "one gradient step from your second point does not land on your first.")
    return correct(name, "T(a) = b and T(b) = a, with a ≠ b.")


@guarded("check_bifurcation")
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
        return incorrect(name, f"shape mismatch: expected (number of steps, number of starts, number kept) = "
                          f"({steps.size}, {n_starts}, n_keep), got {data.shape}.")
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
        return incorrect(name, "some consecutive kept iterates are not one gradient step apart at their step "
                          "size: are the axes in the right order (steps, starts, kept iterates)?")
    if np.any(~finite[:, :, :-1] & finite[:, :, 1:]):
        return incorrect(name, "a row switches from NaN back to numbers: once diverged, an entry should stay NaN.")
    unsettled, periodic = _unsettled_rows(T, data, steps)
    if unsettled > max(2, 0.002 * periodic):
        return incorrect(name, f"{unsettled} rows have not settled: gradient descent continued from their last kept "
                          "iterate ends on an orbit far from what they show. Did you discard enough steps, keep the "
                          "last iterates, and step against the gradient?")
    return correct(name, "every row is a piece of a gradient-descent orbit at its step size, after the transient.")


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

