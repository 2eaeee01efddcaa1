r"""Choosing the step size: rules that measure the loss as they go, certified worst cases, and long steps.

Introduced in :ref:`ch-choosing_steps`.

Rules that choose a step from what the run has seen
---------------------------------------------------
- :func:`armijo`: backtracking from a trial step until the loss falls by at least :math:`c\,t\,\lVert g\rVert^2`;
- :func:`polyak_step`: :math:`(f(x) - f^\star)/\lVert g\rVert^2`, when the optimal value :math:`f^\star` is known;
- :func:`barzilai_borwein`: the two secant steps :math:`s^\top s / s^\top y` and :math:`s^\top y / y^\top y` of
  Barzilai and Borwein, from :math:`s = x_k - x_{k-1}` and :math:`y = \nabla f(x_k) - \nabla f(x_{k-1})`;
- :func:`adgd`: adaptive gradient descent without descent (Malitsky and Mishchenko), which estimates the local
  curvature from two gradients.

Worst cases that are computed, not bounded by hand
--------------------------------------------------
Steps are *normalized*: :math:`h = \delta\beta`, so the step taken on a :math:`\beta`-smooth function is
:math:`h/\beta`. :func:`pep_worst_case` solves the performance estimation problem (a small semidefinite program,
built and solved by PEPit on cvxpy with the interior-point solver Clarabel) for gradient descent with a given list of
normalized steps; :func:`tight_constant_rate` is the closed form of that worst case for a constant step, and
:func:`silver_schedule` the long-step schedule of Altschuler and Parrilo.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from lecturelib._checks import (
    MAX_ITERATIONS,
    FloatArray,
    finite_result,
    function,
    integer_at_least,
    positive_array,
    positive_number,
    power_of_two_scale,
    real_array,
    real_number,
    returned_array,
    returned_number,
    within_budget,
)
from lecturelib.perturbation import perturb_start

__all__ = [
    "MAX_PEP_STEPS",
    "SILVER_RATIO",
    "adgd",
    "armijo",
    "barzilai_borwein",
    "pep_worst_case",
    "polyak_step",
    "silver_schedule",
    "tight_constant_rate",
]

#: The silver ratio :math:`\rho = 1 + \sqrt 2`, the base of the steps of :func:`silver_schedule`.
SILVER_RATIO = 1.0 + math.sqrt(2.0)

#: The most steps :func:`pep_worst_case` accepts: its semidefinite program has a matrix of side about ``n + 2`` and
#: about ``(n + 2)**2`` interpolation constraints, and 63 steps take about a minute.
MAX_PEP_STEPS = 63

#: The largest normalized step :func:`pep_worst_case` accepts: the worst case grows like the square of the steps, and
#: far larger steps make the semidefinite program too badly scaled to solve accurately.
MAX_PEP_STEP = 100.0

#: The largest number of backtracking halvings :func:`armijo` accepts.
MAX_HALVINGS = 10_000

CRITERIA = ("function", "gradient")

#: The solvers :func:`pep_worst_case` tries, in order, with their options (cvxpy's names).
SOLVERS: tuple[dict[str, object], ...] = (
    {"solver": "CLARABEL"},
    {"solver": "SCS", "eps": 1e-9, "max_iters": 200_000},
)


def _squared_norm(v: np.ndarray) -> tuple[float, float]:
    """``(c, |v/c|^2)`` with ``c`` a power of two, so that ``|v|^2 = c^2 |v/c|^2`` without overflow or underflow."""
    c = power_of_two_scale(v)
    scaled = v / c
    return c, float(np.sum(scaled * scaled))


def armijo(
    loss: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    x: ArrayLike,
    step0: float,
    *,
    shrink: float = 0.5,
    c: float = 1e-4,
    max_halvings: int = 60,
) -> float:
    r"""Armijo's backtracking line search along the negative gradient: the accepted step.

    The first step :math:`t = t_0 \cdot \text{shrink}^j`, :math:`j = 0, 1, 2, \dots`, that satisfies the
    sufficient-decrease condition

    .. math:: f(x - t\,g) \le f(x) - c\, t\, \lVert g \rVert^2, \qquad g = \nabla f(x).

    So the accepted step satisfies the condition and, unless it is ``step0``, the step before it (``t / shrink``) does
    not. At a stationary point (:math:`g = 0`) the condition holds for every step, and ``step0`` is returned. A
    trial point where the loss is not finite fails the condition (no warning).

    Introduced in :ref:`ch-choosing_steps`.

    Parameters
    ----------
    loss : callable
        :math:`f`, called with one float array of the shape of ``x`` and returning one real number.
    grad : callable
        :math:`\nabla f`, called once, at ``x``, returning an array of the shape of ``x``.
    x : array_like
        The current point, finite.
    step0 : float
        The trial step :math:`t_0 > 0`.
    shrink : float, keyword-only
        The factor in :math:`(0, 1)` by which a rejected step is multiplied.
    c : float, keyword-only
        The sufficient-decrease constant, in :math:`(0, 1)`.
    max_halvings : int, keyword-only
        The most reductions tried, :math:`0 \le j \le 10000`.

    Returns
    -------
    float
        The accepted step :math:`t`.

    Raises
    ------
    ValueError
        If no step :math:`t_0\,\text{shrink}^j` with :math:`j \le` ``max_halvings`` is accepted (``grad`` is then
        usually not the gradient of ``loss``), or if ``grad`` returns a non-finite gradient at ``x``.
    """
    function(loss, "loss", "loss(x) returning a number")
    function(grad, "grad", "grad(x) returning an array of the shape of x")
    point = real_array(x, "x")
    t = positive_number(step0, "step0")
    factor = real_number(shrink, "shrink", above=0.0, below=1.0)
    constant = real_number(c, "c", above=0.0, below=1.0)
    limit = integer_at_least(max_halvings, "max_halvings", 0, MAX_HALVINGS)
    with np.errstate(all="ignore"):  # an overflow in the caller's functions is reported below, not warned
        g = returned_array(grad(point.copy()), "grad", "at x")
        f0 = returned_number(loss(point.copy()), "loss")
    if g.shape != point.shape:
        raise ValueError(f"grad must return an array of the shape of x {point.shape}, got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grad returned a non-finite gradient at x")
    if not math.isfinite(f0):
        raise ValueError(f"loss must be finite at x, got {f0!r}")
    scale, g2 = _squared_norm(g)
    if g2 == 0.0:
        return t
    with np.errstate(all="ignore"):
        for _ in range(limit + 1):
            trial = returned_number(loss(point - t * g), "loss")
            decrease = constant * t * scale * scale * g2
            if math.isfinite(trial) and trial <= f0 - decrease:
                return t
            t *= factor
    raise ValueError(
        f"no step step0 * shrink**j with j <= max_halvings = {limit} satisfies the Armijo condition: "
        "check that grad is the gradient of loss, or allow more halvings"
    )


def polyak_step(loss_value: float, loss_min: float, grad: ArrayLike) -> float:
    r"""Polyak's step :math:`(f(x) - f^\star) / \lVert \nabla f(x) \rVert^2`.

    It is the step that minimizes the upper bound :math:`\lVert x - t g - x^\star \rVert^2 \le \lVert x - x^\star
    \rVert^2 - 2t (f(x) - f^\star) + t^2 \lVert g \rVert^2` of a convex function. At a stationary point with
    :math:`f(x) = f^\star` it is 0 (the run has arrived).

    Introduced in :ref:`ch-choosing_steps`.

    Parameters
    ----------
    loss_value : float
        :math:`f(x)`, finite.
    loss_min : float
        The optimal value :math:`f^\star`, finite and at most ``loss_value``.
    grad : array_like
        :math:`\nabla f(x)`, finite.

    Returns
    -------
    float
        The step, :math:`\ge 0`.

    Raises
    ------
    ValueError
        If ``loss_min > loss_value`` (then :math:`f^\star` is not the optimal value), if the gradient is zero while
        :math:`f(x) > f^\star` (a stationary point that is not a minimizer: the step is undefined), or if the step
        overflows.
    """
    f = real_number(loss_value, "loss_value")
    f_star = real_number(loss_min, "loss_min")
    g = real_array(grad, "grad", allow_empty=False)
    if f_star > f:
        raise ValueError(f"loss_min must be at most loss_value (f* is the optimal value), got {f_star!r} > {f!r}")
    gap = f - f_star
    scale, g2 = _squared_norm(g)
    if g2 == 0.0:
        if gap == 0.0:
            return 0.0
        raise ValueError(
            "grad is zero but loss_value > loss_min: a stationary point that is not a minimizer, where Polyak's step "
            "is undefined"
        )
    step = (gap / scale) / g2 / scale
    return float(finite_result(step, "Polyak's step overflows: the gap f - f* is too large for so small a gradient"))


def barzilai_borwein(s: ArrayLike, y: ArrayLike, variant: str = "long") -> float:
    r"""The Barzilai–Borwein step from the last move :math:`s = x_k - x_{k-1}` and gradient change
    :math:`y = \nabla f(x_k) - \nabla f(x_{k-1})`.

    ``"long"`` is :math:`s^\top s / s^\top y`, ``"short"`` is :math:`s^\top y / y^\top y`. Both are the inverse of a
    curvature measured along :math:`s` (on a quadratic with Hessian :math:`H`, :math:`y = Hs`, so they lie between
    :math:`1/\lambda_{\max}` and :math:`1/\lambda_{\min}`), and by Cauchy–Schwarz the long step is at least the short
    one.

    Introduced in :ref:`ch-choosing_steps`.

    Parameters
    ----------
    s, y : array_like
        Finite arrays of the same shape.
    variant : {"long", "short"}
        Which of the two steps.

    Returns
    -------
    float
        The step, > 0.

    Raises
    ------
    ValueError
        If :math:`s^\top y \le 0` (no positive curvature along :math:`s`: the secant step is not a step), if the shapes
        differ, or if the step overflows.
    """
    if not isinstance(variant, str) or variant not in ("long", "short"):
        raise ValueError(f'variant must be "long" or "short", got {variant!r}')
    move = real_array(s, "s", allow_empty=False)
    change = real_array(y, "y", allow_empty=False)
    if move.shape != change.shape:
        raise ValueError(f"s and y must have the same shape, got {move.shape} and {change.shape}")
    a, b = power_of_two_scale(move), power_of_two_scale(change)
    s1, y1 = move.ravel() / a, change.ravel() / b
    sy = float(s1 @ y1)
    if not sy > 0.0:
        raise ValueError(
            f"s^T y must be positive (positive curvature along the last move), got s^T y = {sy * a * b!r}: "
            "the Barzilai-Borwein step is undefined"
        )
    ratio = float(s1 @ s1) / sy if variant == "long" else sy / float(y1 @ y1)
    return float(finite_result(ratio * (a / b), "the Barzilai-Borwein step overflows: |s| / |y| is too large"))


def adgd(
    grad: Callable[[np.ndarray], np.ndarray], x0: ArrayLike, n_steps: int, *, step0: float = 1e-6
) -> tuple[FloatArray, FloatArray]:
    r"""Adaptive gradient descent without descent (Malitsky and Mishchenko, 2020): the path and the steps taken.

    From :math:`\lambda_0 =` ``step0`` and :math:`\theta_0 = +\infty`, :math:`x_1 = x_0 - \lambda_0 \nabla f(x_0)`,
    and for :math:`k \ge 1`

    .. math::

        \lambda_k = \min\Bigl(\sqrt{1 + \theta_{k-1}}\,\lambda_{k-1},\;
        \frac{\lVert x_k - x_{k-1} \rVert}{2 \lVert \nabla f(x_k) - \nabla f(x_{k-1}) \rVert}\Bigr), \qquad
        x_{k+1} = x_k - \lambda_k \nabla f(x_k), \qquad \theta_k = \lambda_k / \lambda_{k-1}.

    The second term is the inverse of twice a local curvature estimate; it is :math:`+\infty` when the two gradients
    are equal, and a step whose minimum is :math:`+\infty` (only possible at :math:`k = 1`) keeps
    :math:`\lambda_{k-1}`. On a :math:`\beta`-smooth convex function every :math:`\lambda_k`, :math:`k \ge 1`, is at
    least :math:`1/(2\beta)`; on a :math:`\mu`-strongly convex one at most :math:`1/(2\mu)`. At a point with zero
    gradient the run has arrived and stays there.

    The start passes through :func:`lecturelib.perturbation.perturb_start` (the rounding harness).

    Introduced in :ref:`ch-choosing_steps`.

    Parameters
    ----------
    grad : callable
        :math:`\nabla f`, called with one float array of the shape of ``x0``.
    x0 : array_like
        The start, finite.
    n_steps : int
        Number of steps, :math:`0 \le n \le` ``lecturelib._checks.MAX_ITERATIONS``.
    step0 : float, keyword-only
        The first step :math:`\lambda_0 > 0` (small: the method increases it by itself).

    Returns
    -------
    path : numpy.ndarray
        Shape ``(n_steps + 1, *x0.shape)``; row :math:`k` is :math:`x_k`.
    steps : numpy.ndarray
        Shape ``(n_steps,)``; entry :math:`k` is :math:`\lambda_k`. If the run leaves the floating-point range (the
        gradient or the state is no longer finite), the path is NaN from there on and so are the remaining steps:
        divergence is a result, read it with ``numpy.isnan``.
    """
    function(grad, "grad", "grad(x) returning an array of the shape of x")
    start = real_array(x0, "x0", allow_empty=False)
    n = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    lam = positive_number(step0, "step0")
    within_budget((n + 1) * max(start.size, 1), "n_steps and the size of x0 together")
    path = np.full((n + 1, *start.shape), np.nan)
    steps = np.full(n, np.nan)
    x = perturb_start(start).copy()  # the rounding harness (lecturelib.perturbation); unset, x0 itself
    path[0] = x
    theta = math.inf
    x_prev: np.ndarray | None = None
    g_prev: np.ndarray | None = None
    with np.errstate(all="ignore"):
        for k in range(n):
            g = returned_array(grad(x.copy()), "grad", f"at step {k}")
            if g.shape != x.shape:
                raise ValueError(f"grad must return an array of the shape of x0 {x.shape}, got shape {g.shape}")
            if not np.all(np.isfinite(g)):
                break  # diverged: the rest stays NaN
            if x_prev is not None and g_prev is not None:
                dx, dg = x - x_prev, g - g_prev
                cx, nx = _squared_norm(dx)
                cg, ng = _squared_norm(dg)
                local = math.inf if ng == 0.0 else 0.5 * (cx / cg) * math.sqrt(nx / ng)
                grow = math.sqrt(1.0 + theta) * lam if math.isfinite(theta) else math.inf
                new = min(grow, local)
                if math.isfinite(new) and new > 0.0:
                    theta, lam = new / lam, new
                elif not math.isfinite(new):
                    theta = 1.0  # both terms infinite: keep the step
            x_next = x - lam * g
            if not np.all(np.isfinite(x_next)):
                break
            steps[k] = lam
            x_prev, g_prev, x = x, g, x_next
            path[k + 1] = x
    return path, steps


def silver_schedule(n: int) -> FloatArray:
    r"""The silver step schedule of Altschuler and Parrilo: :math:`n = 2^k - 1` normalized steps.

    Step :math:`i = 1, \dots, n` is :math:`h_i = 1 + \rho^{\nu(i) - 1}` with :math:`\rho = 1 + \sqrt 2`
    (:data:`SILVER_RATIO`) and :math:`\nu(i)` the exponent of the largest power of 2 dividing :math:`i` (the ruler
    sequence 0, 1, 0, 2, 0, 1, 0, 3, ...): :math:`\sqrt 2, 2, \sqrt 2, 2 + \sqrt 2, \sqrt 2, 2, \sqrt 2, \dots`
    Multiply by :math:`1/\beta` for the steps on a :math:`\beta`-smooth function. Equivalently, the schedule of
    length :math:`2^{k+1} - 1` is the one of length :math:`2^k - 1`, the step :math:`1 + \rho^{k - 1}`, and the one
    of length :math:`2^k - 1` again.

    Introduced in :ref:`ch-choosing_steps`.

    Parameters
    ----------
    n : int
        The number of steps, :math:`2^k - 1` for an integer :math:`1 \le k \le 26`.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``.
    """
    count = integer_at_least(n, "n", 1, 2**26 - 1)
    if (count + 1) & count:
        raise ValueError(f"n must be 2**k - 1 for an integer k >= 1 (1, 3, 7, 15, ...), got {count}")
    i = np.arange(1, count + 1)
    nu = np.log2(i & -i).round().astype(int)
    return 1.0 + SILVER_RATIO ** (nu - 1.0)


def tight_constant_rate(h: ArrayLike, n: int) -> float | FloatArray:
    r"""The worst case of :math:`f(x_n) - f^\star` for gradient descent with the constant normalized step :math:`h`,
    over 1-smooth convex functions with :math:`\lVert x_0 - x^\star \rVert \le 1`:

    .. math:: \frac12 \max\Bigl(\frac{1}{2nh + 1},\; (1 - h)^{2n}\Bigr), \qquad 0 < h < 2.

    For a :math:`\beta`-smooth function and :math:`\lVert x_0 - x^\star\rVert \le R` multiply by :math:`\beta R^2`.
    Drori and Teboulle proved it for :math:`0 < h \le 1`; for :math:`1 < h < 2` it was conjectured by them and by
    Taylor, Hendrickx and Glineur from performance-estimation computations (:func:`pep_worst_case` reproduces it).

    Introduced in :ref:`ch-choosing_steps`.

    Parameters
    ----------
    h : float or array_like
        Normalized steps :math:`h = \delta\beta`, each in :math:`(0, 2)`.
    n : int
        The number of steps, :math:`1 \le n \le` ``lecturelib._checks.MAX_ITERATIONS``.

    Returns
    -------
    float or numpy.ndarray
        A float for a number ``h``, an array of the shape of ``h`` otherwise.
    """
    steps = real_array(h, "h")
    count = integer_at_least(n, "n", 1, MAX_ITERATIONS)
    if not np.all((steps > 0) & (steps < 2)):
        bad = float(steps[~((steps > 0) & (steps < 2))].ravel()[0])
        raise ValueError(f"h: every normalized step must lie in (0, 2), got {bad!r}")
    rate = 0.5 * np.maximum(1.0 / (2.0 * count * steps + 1.0), (1.0 - steps) ** (2 * count))
    return float(rate) if rate.ndim == 0 else rate


def pep_worst_case(
    steps: ArrayLike, *, smoothness: float = 1.0, radius: float = 1.0, criterion: str = "function"
) -> float:
    r"""The exact worst case of gradient descent with the normalized ``steps``, computed by performance estimation.

    For :math:`x_{i+1} = x_i - (h_i/\beta) \nabla f(x_i)`, :math:`i = 0, \dots, N - 1`, the supremum over every
    dimension, every :math:`\beta`-smooth convex :math:`f` with a minimizer :math:`x^\star` and every start with
    :math:`\lVert x_0 - x^\star \rVert \le R` of :math:`f(x_N) - f^\star` (``criterion="function"``) or of
    :math:`\lVert \nabla f(x_N) \rVert^2` (``criterion="gradient"``). PEPit writes the problem as a semidefinite
    program over the Gram matrix of :math:`x_0 - x^\star` and the gradients, with the interpolation conditions of
    smooth convex functions as constraints, and cvxpy solves it with Clarabel (or, where Clarabel reports an
    inaccurate solution, with SCS at a tight tolerance: :data:`SOLVERS`); the value returned is the solver's
    objective, accurate to about :math:`10^{-8}` relative for the sizes the course uses.

    Introduced in :ref:`ch-choosing_steps`.

    Parameters
    ----------
    steps : array_like
        The normalized steps :math:`h_i = \delta_i \beta > 0`, one-dimensional, at most :data:`MAX_PEP_STEPS` of
        them, each at most :data:`MAX_PEP_STEP` (steps above 2 are allowed: a schedule may use them).
    smoothness : float, keyword-only
        :math:`\beta > 0`.
    radius : float, keyword-only
        :math:`R > 0`.
    criterion : {"function", "gradient"}, keyword-only
        What the worst case measures at :math:`x_N`.

    Returns
    -------
    float
        The worst-case value.

    Raises
    ------
    RuntimeError
        If the solver does not report an optimal solution.
    """
    h = positive_array(steps, "steps", ndim=1, entry="normalized step")
    if h.size == 0:
        raise ValueError("steps must hold at least one step")
    if np.any(h > MAX_PEP_STEP):
        raise ValueError(f"steps: every normalized step must be at most {MAX_PEP_STEP:g}, got {float(h.max())!r}")
    if h.size > MAX_PEP_STEPS:
        raise ValueError(
            f"steps must hold at most {MAX_PEP_STEPS} steps (the semidefinite program grows with their square), "
            f"got {h.size}"
        )
    beta = positive_number(smoothness, "smoothness")
    r = positive_number(radius, "radius")
    if not isinstance(criterion, str) or criterion not in CRITERIA:
        raise ValueError(f'criterion must be "function" or "gradient", got {criterion!r}')
    # Imported here: PEPit and cvxpy take about a second to import, and only this function needs them.
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction

    # Solved with beta = R = 1 (a well-scaled program) and rescaled: f scales as beta R^2, |grad f|^2 as beta^2 R^2.
    def solve(options: dict[str, object]) -> tuple[str, float | None]:
        problem = PEP()
        f = problem.declare_function(SmoothConvexFunction, L=1.0)
        x_star = f.stationary_point()
        f_star = f(x_star)
        x0 = problem.set_initial_point()
        problem.set_initial_condition((x0 - x_star) ** 2 <= 1.0)
        x = x0
        for step in h:
            x = x - float(step) * f.gradient(x)
        if criterion == "function":
            problem.set_performance_metric(f(x) - f_star)
        else:
            problem.set_performance_metric(f.gradient(x) ** 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cvxpy warns of an inaccurate solution: the status below says it
            value = problem.solve(verbose=0, **options)
        return str(problem.wrapper.prob.status), value

    # Clarabel (interior point) first; where it reports an inaccurate solution (large steps give badly scaled
    # programs), SCS with a tight tolerance.
    status = "not solved"
    value: float | None = None
    for options in SOLVERS:
        status, value = solve(options)
        if status == "optimal" and value is not None and math.isfinite(value):
            break
    else:
        raise RuntimeError(f"the semidefinite program was not solved to optimality (solver status {status!r})")
    unit = beta * r * r if criterion == "function" else beta * beta * r * r
    return float(
        finite_result(max(float(value), 0.0) * unit, "the worst case overflows: smoothness or radius too large")
    )
