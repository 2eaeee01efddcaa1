"""Gradient descent as a discrete-time dynamical system: recorded paths of vector states, and one-dimensional maps
vectorized over step sizes and starts.

:func:`descend` is the one loop of gradient descent in the course: it records the path of a vector state (a point
of the plane in :ref:`ch-smoothness_rate` and :ref:`ch-dynamical_system`, the flattened weights of a network in
:ref:`ch-identity_init` and :ref:`ch-edge_of_stability`) or of a batch of them; :func:`run` is its one-dimensional,
elementwise form. Introduced in :ref:`ch-dynamical_system` (iterating :math:`x^+ = x - \\delta f'(x)`, reading off
fixed points and orbits) and used in :ref:`ch-three_examples` (the paper's three examples, bifurcation diagrams and
basin maps).

Divergence is a result, not an error: an iterate whose magnitude exceeds ``escape`` is replaced by NaN from that step
on, and no floating-point warning is ever emitted. Bad arguments (strings, bools, complex numbers, non-finite starts or
steps) raise TypeError/ValueError naming the argument; counts are bounded (``lecturelib._checks.MAX_ITERATIONS`` steps
of a Python loop, :data:`MAX_COMPILED_ITERATIONS` updates of the compiled loop) and a larger one is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

from lecturelib._checks import (
    MAX_ELEMENTS,
    MAX_ITERATIONS,
    FloatArray,
    function,
    integer_at_least,
    positive_array,
    positive_number,
    real_array,
    real_number,
    within_budget,
)
from lecturelib.perturbation import perturb_start

__all__ = ["bifurcation", "compile_update", "descend", "orbit_period", "run"]

GradLike = Callable[[FloatArray], ArrayLike]


# ----------------------------------------------------------------------------------------------------- iteration
def _escaped(x: np.ndarray, axes: tuple[int, ...], escape: float) -> np.ndarray:
    """Which entries of ``x`` belong to a state whose Euclidean norm over ``axes`` exceeds ``escape`` (or is NaN)."""
    if not axes:
        return ~(np.abs(x) <= escape)  # NaN fails the comparison, so NaN and inf land here too
    size = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    if not np.all((size > 1e-150) & (size < 1e150)):  # x * x may have overflowed or underflowed: rescale
        top = np.max(np.abs(x), axis=axes, keepdims=True, initial=0.0)
        scale = np.where(np.isfinite(top) & (top > 0), top, 1.0)  # divide by the largest entry: exact enough
        size = scale * np.sqrt(np.sum((x / scale) ** 2, axis=axes, keepdims=True))
    return np.broadcast_to(~(size <= escape), x.shape)


def _iterate(grad: GradLike, x: np.ndarray, step: np.ndarray, escape: float, axes: tuple[int, ...] = ()) -> np.ndarray:
    """One gradient step on every live state of ``x``; diverged states (NaN) stay NaN. Warnings are off."""
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
    new[~alive | _escaped(new, axes, escape)] = np.nan
    return new


def _state_axes(axis: object, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes of an ``ndim``-D array."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
    axes = []
    for a in items:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for states of {ndim} dimension(s) (the shape of x0 and step)")
        axes.append(int(a) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis must not repeat an axis, got {axis!r}")
    return tuple(sorted(axes))


def descend(
    grad: GradLike,
    x0: ArrayLike,
    step: ArrayLike,
    n_steps: int,
    *,
    escape: float = 1e6,
    axis: int | tuple[int, ...] | None = None,
) -> FloatArray:
    r"""Gradient descent :math:`x_{k+1} = x_k - \delta \nabla f(x_k)` on a vector state, recording the whole path.

    Introduced in :ref:`ch-smoothness_rate`; the path of a network's weights in :ref:`ch-identity_init` and
    :ref:`ch-edge_of_stability`.

    Parameters
    ----------
    grad : callable
        :math:`\nabla f`, called with one float array of the shape of the states (the broadcast shape of ``x0`` and
        ``step``) and returning an array of that shape. It never sees NaN: the entries of a diverged state are
        replaced by 0 before the call and set back to NaN after it.
    x0 : array_like
        The start :math:`x_0`: one state, or a batch of states (see ``axis``). Finite numbers.
    step : float or array_like
        The step size :math:`\delta > 0`, or step sizes broadcast against ``x0``.
    n_steps : int
        Number of steps :math:`0 \le n \le` ``lecturelib._checks.MAX_ITERATIONS``; the recorded path must also fit
        in ``lecturelib._checks.MAX_ELEMENTS`` entries.
    escape : float, keyword-only
        A state whose Euclidean norm exceeds ``escape`` (or that is not finite) has left: it counts as diverged from
        that step on. An early stop, such as "the path left the disc of radius 0.75", is ``escape=0.75``.
    axis : None, int or tuple of ints, keyword-only
        The axes that hold the coordinates of one state. ``None`` (the default): the whole array is one state.
        Otherwise every index of the other axes is a separate run, a batch: ``axis=0`` for starts of shape
        ``(d, m)`` whose columns are ``m`` points of :math:`\mathbb{R}^d`; ``axis=()`` makes every entry a
        one-dimensional run (what :func:`run` does).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_steps + 1, *B)`` with ``B`` the broadcast shape of ``x0`` and ``step``; row :math:`k` holds
        :math:`x_k`. A state that left (see ``escape``) is NaN from the step it left on, with no floating-point
        warning: divergence is a result, read it with ``numpy.isnan``.

    Examples
    --------
    >>> import numpy as np
    >>> from lecturelib import gd
    >>> path = gd.descend(lambda w: np.array([4.0, 1.0]) * w, [1.0, 1.0], 0.25, 3)
    >>> path[-1]
    array([0.      , 0.421875])
    """
    function(grad, "grad", "f'(x) on numpy arrays")
    starts = real_array(x0, "x0")
    steps = positive_array(step, "step", entry="step size")
    n = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    escape = positive_number(escape, "escape")
    try:
        shape = np.broadcast_shapes(starts.shape, steps.shape)
    except ValueError as err:
        raise ValueError(
            f"x0 (shape {starts.shape}) and step (shape {steps.shape}) must broadcast against each other"
        ) from err
    axes = _state_axes(axis, len(shape))
    within_budget((n + 1) * math.prod(shape), "n_steps, x0 and step together")
    out = np.full((n + 1, *shape), np.nan)
    x = np.array(np.broadcast_to(starts, shape), dtype=float)
    step_b = np.broadcast_to(steps, shape)
    with np.errstate(all="ignore"):
        x = perturb_start(x)  # the rounding harness (lecturelib.perturbation); unset, x itself
        x[_escaped(x, axes, escape)] = np.nan
        out[0] = x
        for k in range(n):
            if x.size and not np.any(np.isfinite(x)):
                break  # every state has left: the rest of the path stays NaN
            x = _iterate(grad, x, step_b, escape, axes)
            out[k + 1] = x
    return out


def run(grad: GradLike, x0: ArrayLike, step: ArrayLike, n_steps: int, *, escape: float = 1e6) -> FloatArray:
    r"""Iterate gradient descent :math:`x_{k+1} = x_k - \delta f'(x_k)` for many starts and step sizes at once.

    The one-dimensional form of :func:`descend`: every entry of the broadcast ``x0`` and ``step`` is its own run
    (``descend(grad, x0, step, n_steps, escape=escape, axis=())``).

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
    return descend(grad, x0, step, n_steps, escape=escape, axis=())


def orbit_period(trajectory: ArrayLike, *, tol: float = 1e-9, max_period: int = 64) -> NDArray[np.int_]:
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
    traj = real_array(trajectory, "trajectory", finite=False)
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
    return result.reshape(traj.shape[1:])


# ------------------------------------------------------------------------------------------------ compiled path
_COMPILED: dict[str, Callable[[float], float]] = {}
#: The largest number of updates (steps x starts x iterations) of the compiled bifurcation loop (a few minutes).
MAX_COMPILED_ITERATIONS = 100 * MAX_ITERATIONS
_KERNEL: Callable[..., FloatArray] | None = None


def _derivative_of(expr: sp.Expr) -> tuple[sp.Symbol, sp.Expr]:
    symbols = sorted(expr.free_symbols, key=str)
    if len(symbols) != 1:
        raise ValueError(f"grad as a sympy expression must have exactly one free symbol (the variable), got {symbols}")
    (x,) = symbols
    real = sp.Symbol(x.name, real=True)  # |x| differentiates to sign(x) only for a real variable
    return real, sp.diff(expr.subs(x, real), real)


def compile_update(expr: sp.Expr) -> Callable[[float], float]:
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


def _kernel() -> Callable[..., FloatArray]:
    """The compiled bifurcation loop: step sizes outermost, time in the middle, starts innermost."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=False)
        def loop(
            g: Callable[[float], float],
            steps: FloatArray,
            x0s: FloatArray,
            n_transient: int,
            n_keep: int,
            escape: float,
            out: FloatArray,
        ) -> FloatArray:  # pragma: no cover - compiled
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
    steps: ArrayLike,
    x0s: ArrayLike,
    n_transient: int,
    n_keep: int,
    *,
    escape: float = 1e6,
) -> FloatArray:
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
    step_array = positive_array(steps, "steps", ndim=1, entry="step size")
    starts = real_array(x0s, "x0s", ndim=1)
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
    with np.errstate(all="ignore"):
        starts = perturb_start(starts)  # the rounding harness (lecturelib.perturbation); unset, starts itself
    if isinstance(grad, sp.Basic):
        if not isinstance(grad, sp.Expr):
            raise TypeError(f"grad must be a scalar sympy expression, got {type(grad).__name__}")
        try:
            g = compile_update(grad)
        except TypeError:
            grad = _numpy_derivative(grad)  # NumPy can evaluate what numba cannot compile (e.g. gamma, sign)
        else:
            return _kernel()(g, step_array, starts, n_t, n_k, escape, out)
    function(grad, "grad", "f'(x) or a sympy expression f(x)")
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
