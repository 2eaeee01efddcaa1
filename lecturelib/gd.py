"""Gradient descent in one dimension as a discrete-time dynamical system, vectorized over step sizes and starts.

Introduced in :ref:`ch-dynamical_system` (iterating :math:`x^+ = x - \\delta f'(x)`, reading off fixed points and
orbits) and used in :ref:`ch-three_examples` (the paper's three examples, bifurcation diagrams and basin maps).

Divergence is a result, not an error: an iterate whose magnitude exceeds ``escape`` is replaced by NaN from that step
on, and no floating-point warning is ever emitted. Bad arguments (strings, bools, complex numbers, non-finite starts or
steps) raise TypeError/ValueError naming the argument; counts are bounded (``lecturelib._checks.MAX_ITERATIONS`` steps
of a Python loop, :data:`MAX_COMPILED_ITERATIONS` updates of the compiled loop) and a larger one is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from lecturelib._checks import (
    MAX_ELEMENTS,
    MAX_ITERATIONS,
    integer_at_least,
    positive_number,
    real_array,
    real_number,
    within_budget,
)

__all__ = ["bifurcation", "compile_update", "orbit_period", "run"]

GradLike = Callable[[np.ndarray], np.ndarray]


# ----------------------------------------------------------------------------------------------- validation helpers
def _as_float_array(value: Any, name: str) -> np.ndarray:
    return real_array(value, name, finite=False)


def _check_steps(step: Any, name: str = "step") -> np.ndarray:
    steps = _as_float_array(step, name)
    if steps.size and not np.all(np.isfinite(steps) & (steps > 0)):
        bad = steps[~(np.isfinite(steps) & (steps > 0))].ravel()[0]
        raise ValueError(f"{name} must hold positive finite step sizes only, got {bad!r}")
    return steps


def _check_starts(x0: Any, name: str = "x0") -> np.ndarray:
    starts = _as_float_array(x0, name)
    if starts.size and not np.all(np.isfinite(starts)):
        raise ValueError(f"{name} must hold finite numbers only")
    return starts


# ----------------------------------------------------------------------------------------------------- iteration
def _iterate(grad: GradLike, x: np.ndarray, step: np.ndarray, escape: float) -> np.ndarray:
    """One gradient step on every live entry of ``x``; diverged entries (NaN) stay NaN. Warnings are off."""
    alive = np.isfinite(x)
    safe = np.where(alive, x, 0.0)  # grad never sees NaN or a huge value
    g = np.asarray(grad(safe))
    if g.dtype.kind not in "iuf":
        raise TypeError(f"grad must return real numbers, got an array of dtype {g.dtype}")
    g = g.astype(float, copy=False)
    if g.shape != x.shape:
        try:
            g = np.broadcast_to(g, x.shape)
        except ValueError as err:
            raise ValueError(
                f"grad must map an array of shape {x.shape} to an array of the same shape, got shape {g.shape}"
            ) from err
    new = np.asarray(safe - step * g, dtype=float).reshape(x.shape)
    new[~alive | ~(np.abs(new) <= escape)] = np.nan  # NaN fails the comparison, so NaN and inf land here too
    return new


def run(grad: GradLike, x0: Any, step: Any, n_steps: int, *, escape: float = 1e6) -> np.ndarray:
    r"""Iterate gradient descent :math:`x_{k+1} = x_k - \delta f'(x_k)` for many starts and step sizes at once.

    Parameters
    ----------
    grad : callable
        :math:`f'`, applied elementwise to a float array (it must return an array of the same shape). It never sees
        NaN: diverged entries are replaced by 0 before the call and set back to NaN after it.
    x0 : float or array_like
        Starting points :math:`x_0`.
    step : float or array_like
        Step sizes :math:`\delta > 0`; broadcast against ``x0``.
    n_steps : int
        Number of steps :math:`0 \le n \le` ``lecturelib._checks.MAX_ITERATIONS``.
    escape : float, keyword-only
        An iterate with :math:`|x_k| > \text{escape}` (or a non-finite one) counts as diverged.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_steps + 1, *B)`` with ``B`` the broadcast shape of ``x0`` and ``step``; row :math:`k` holds
        :math:`x_k`. A diverged entry is NaN from the step it left on.

    Introduced in :ref:`ch-dynamical_system`.
    """
    if not callable(grad):
        raise TypeError(f"grad must be a callable f'(x) on numpy arrays, got {type(grad).__name__}")
    starts = _check_starts(x0)
    steps = _check_steps(step)
    n = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    escape = positive_number(escape, "escape")
    try:
        shape = np.broadcast_shapes(starts.shape, steps.shape)
    except ValueError as err:
        raise ValueError(
            f"x0 (shape {starts.shape}) and step (shape {steps.shape}) must broadcast against each other"
        ) from err
    within_budget((n + 1) * math.prod(shape), "n_steps, x0 and step together")
    out = np.empty((n + 1, *shape))
    x = np.array(np.broadcast_to(starts, shape), dtype=float)
    x[~(np.abs(x) <= escape)] = np.nan
    step_b = np.broadcast_to(steps, shape)
    out[0] = x
    with np.errstate(all="ignore"):
        for k in range(n):
            x = _iterate(grad, x, step_b, escape)
            out[k + 1] = x
    return out


def orbit_period(trajectory: Any, *, tol: float = 1e-9, max_period: int = 64) -> np.ndarray:
    r"""The period of the orbit each trajectory has settled on, read from its end.

    Period :math:`k` is found when the last :math:`2k` iterates repeat with period :math:`k`:
    :math:`|x_{t} - x_{t-k}| \le \text{tol}\,\max(1, |x_t|)` for the last :math:`k` indices :math:`t`. The smallest
    such :math:`k` is returned.

    Parameters
    ----------
    trajectory : array_like
        Shape ``(T, *B)``: time first, as returned by :func:`run`.
    tol : float, keyword-only
        Tolerance of the repetition test (absolute near 0, relative for large iterates).
    max_period : int, keyword-only
        The largest period looked for.

    Returns
    -------
    numpy.ndarray
        Integers of shape ``B``: ``1`` for a fixed point, ``k >= 2`` for a period-:math:`k` orbit, ``0`` for a
        diverged trajectory (NaN at the end), ``-1`` when no period up to ``max_period`` is found (chaotic, or not
        yet settled).

    Introduced in :ref:`ch-dynamical_system`.
    """
    traj = _as_float_array(trajectory, "trajectory")
    if traj.ndim < 1 or traj.shape[0] < 1:
        raise ValueError(f"trajectory must have a time axis of length >= 1 first, got shape {traj.shape}")
    tol = real_number(tol, "tol", at_least=0.0)
    kmax = integer_at_least(max_period, "max_period", 1, MAX_ITERATIONS)
    T = traj.shape[0]
    flat = traj.reshape(T, -1)
    result = np.full(flat.shape[1], -1, dtype=int)
    diverged = ~np.isfinite(flat[-1])
    result[diverged] = 0
    undecided = np.flatnonzero(~diverged)
    with np.errstate(all="ignore"):
        for k in range(1, kmax + 1):
            if 2 * k > T or undecided.size == 0:
                break
            window = flat[T - 2 * k :, undecided]  # only the columns still undecided are compared
            recent, earlier = window[k:], window[:k]
            close = np.abs(recent - earlier) <= tol * np.maximum(1.0, np.abs(recent))
            found = np.all(close, axis=0)
            result[undecided[found]] = k
            undecided = undecided[~found]
    result = result.reshape(traj.shape[1:])
    return result


# ------------------------------------------------------------------------------------------------ compiled path
_COMPILED: dict[str, Callable] = {}
#: The largest number of updates (steps x starts x iterations) of the compiled bifurcation loop (a few minutes).
MAX_COMPILED_ITERATIONS = 100 * MAX_ITERATIONS
_KERNEL: Callable | None = None


def _derivative_of(expr: sp.Expr) -> tuple[sp.Symbol, sp.Expr]:
    symbols = sorted(expr.free_symbols, key=str)
    if len(symbols) != 1:
        raise ValueError(f"grad as a sympy expression must have exactly one free symbol (the variable), got {symbols}")
    (x,) = symbols
    real = sp.Symbol(x.name, real=True)  # |x| differentiates to sign(x) only for a real variable
    return real, sp.diff(expr.subs(x, real), real)


def compile_update(expr: Any) -> Callable:
    r"""Compile :math:`f'` of a sympy expression :math:`f(x)` to a numba scalar function.

    The derivative is taken by sympy, printed to Python with the ``math`` module and compiled with
    ``numba.njit`` for one float64 argument, with NumPy's error model: a division by zero gives ``inf`` or NaN, as
    in NumPy, instead of raising. Compiled functions are cached by the derivative's text, so repeated calls are free.

    Parameters
    ----------
    expr : sympy.Expr
        :math:`f(x)` in exactly one free symbol.

    Returns
    -------
    callable
        The numba-compiled scalar function :math:`x \mapsto f'(x)`.

    Raises
    ------
    TypeError
        If ``expr`` is not a sympy expression, or its derivative holds a function that sympy cannot print for the
        ``math`` module or numba cannot compile (such as ``gamma`` or ``sign``); :func:`bifurcation` then falls
        back to NumPy by itself.

    Introduced in :ref:`ch-three_examples`.
    """
    import numba

    if not isinstance(expr, sp.Expr):
        raise TypeError(f"expr must be a sympy expression, got {type(expr).__name__}")
    x, derivative = _derivative_of(expr)
    key = sp.srepr(derivative)
    if key not in _COMPILED:
        try:
            scalar = sp.lambdify(x, derivative, modules="math")
            _COMPILED[key] = numba.njit("float64(float64)", cache=False, error_model="numpy")(scalar)
        except Exception as err:  # sympy's printer or numba's compiler: both mean "no compiled path"
            raise TypeError(
                f"expr: numba cannot compile its derivative {derivative} ({type(err).__name__}); pass f' as a "
                "callable on numpy arrays instead"
            ) from err
    return _COMPILED[key]


def _numpy_derivative(expr: sp.Expr) -> GradLike:
    """:math:`f'` of a sympy expression as a NumPy function, for derivatives that numba cannot compile."""
    x, derivative = _derivative_of(expr)
    try:
        function = sp.lambdify(x, derivative, modules="numpy")
        with np.errstate(all="ignore"):
            probe = np.asarray(function(np.array([0.5, -0.5])))
    except Exception as err:
        raise TypeError(
            f"grad: the derivative {derivative} of the expression cannot be evaluated numerically "
            f"({type(err).__name__}: {err}); pass f' as a callable on numpy arrays instead"
        ) from err
    if probe.dtype.kind not in "iuf":
        raise TypeError(f"grad: the derivative {derivative} is not real-valued (dtype {probe.dtype})")
    return function


def _kernel() -> Callable:
    """The compiled bifurcation loop: step sizes outermost, time in the middle, starts innermost."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=False)
        def loop(g, steps, x0s, n_transient, n_keep, escape, out):  # pragma: no cover - compiled
            nan = np.nan
            x = np.empty(x0s.size)
            for i in range(steps.size):
                d = steps[i]
                for j in range(x0s.size):
                    x[j] = x0s[j] if abs(x0s[j]) <= escape else nan
                for t in range(n_transient + n_keep):
                    for j in range(x0s.size):
                        xj = x[j]
                        xn = xj - d * g(xj)
                        if not abs(xn) <= escape:
                            xn = nan
                        x[j] = xn
                        if t >= n_transient:
                            out[i, j, t - n_transient] = xn
            return out

        _KERNEL = loop
    return _KERNEL


def bifurcation(
    grad: GradLike | sp.Expr,
    steps: Any,
    x0s: Any,
    n_transient: int,
    n_keep: int,
    *,
    escape: float = 1e6,
) -> np.ndarray:
    r"""Where gradient descent ends up, for every step size and every start: the data of a bifurcation diagram.

    Parameters
    ----------
    grad : callable or sympy.Expr
        Either :math:`f'` as a callable on numpy arrays (iterated in vectorized numpy), or :math:`f(x)` as a sympy
        expression in exactly one symbol, whose derivative sympy derives and numba compiles into one loop (see
        :func:`compile_update`); the first call pays the compilation, about a second.
    steps : array_like
        1-D step sizes :math:`\delta > 0`.
    x0s : array_like
        1-D starting points.
    n_transient : int
        Steps discarded first (:math:`\ge 0`; with ``n_keep``, steps and starts at most
        :data:`MAX_COMPILED_ITERATIONS` updates in all, and ``lecturelib._checks.MAX_ITERATIONS`` steps on the NumPy
        path).
    n_keep : int
        Iterates kept after them (:math:`\ge 1`).
    escape : float, keyword-only
        Divergence threshold on :math:`|x|`, as in :func:`run`.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(steps), len(x0s), n_keep)``: iterates :math:`x_{n_t + 1}, \dots, x_{n_t + n_k}`, NaN where
        diverged. ``numpy.moveaxis(result, -1, 0)`` is a trajectory for :func:`orbit_period`.

    Introduced in :ref:`ch-three_examples`.
    """
    step_array = _check_steps(steps, "steps")
    if step_array.ndim != 1:
        raise ValueError(f"steps must be 1-D, got shape {step_array.shape}")
    starts = _check_starts(x0s, "x0s")
    if starts.ndim != 1:
        raise ValueError(f"x0s must be 1-D, got shape {starts.shape}")
    n_t = integer_at_least(n_transient, "n_transient", 0, MAX_COMPILED_ITERATIONS)
    n_k = integer_at_least(n_keep, "n_keep", 1, MAX_ELEMENTS)
    escape = positive_number(escape, "escape")
    within_budget(step_array.size * starts.size * n_k, "steps, x0s and n_keep together")
    within_budget(
        step_array.size * starts.size * (n_t + n_k),
        "steps, x0s, n_transient and n_keep together",
        MAX_COMPILED_ITERATIONS,
    )
    out = np.empty((step_array.size, starts.size, n_k))
    if isinstance(grad, sp.Basic):
        if not isinstance(grad, sp.Expr):
            raise TypeError(f"grad must be a scalar sympy expression, got {type(grad).__name__}")
        try:
            g = compile_update(grad)
        except TypeError:
            grad = _numpy_derivative(grad)  # NumPy can evaluate what numba cannot compile (e.g. gamma, sign)
        else:
            return _kernel()(g, step_array, starts, n_t, n_k, escape, out)
    if not callable(grad):
        raise TypeError(f"grad must be a callable f'(x) or a sympy expression f(x), got {type(grad).__name__}")
    x = np.array(np.broadcast_to(starts[None, :], out.shape[:2]))
    x[~(np.abs(x) <= escape)] = np.nan
    step_b = np.broadcast_to(step_array[:, None], out.shape[:2])
    within_budget(n_t + n_k, "n_transient and n_keep together (steps of a Python loop)", MAX_ITERATIONS)
    with np.errstate(all="ignore"):
        for t in range(n_t + n_k):
            x = _iterate(grad, x, step_b, escape)
            if t >= n_t:
                out[:, :, t - n_t] = x
    return out
