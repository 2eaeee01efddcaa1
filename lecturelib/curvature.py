"""Sharpness: the largest eigenvalue of the Hessian, from gradients alone, and gradient descent that tracks it.

Introduced in :ref:`ch-edge_of_stability`.

The *sharpness* of a loss :math:`\\mathcal{L}` at :math:`\\theta` is
:math:`\\lambda_{\\max}(\\nabla^2 \\mathcal{L}(\\theta))`. Gradient descent with step :math:`\\delta` can only
converge to a point whose sharpness is at most :math:`2/\\delta` (the linearization
:math:`I - \\delta \\nabla^2 \\mathcal{L}` must have no eigenvalue below :math:`-1`). This module measures the
sharpness of a loss given only its gradient, without forming the Hessian, and runs gradient descent while recording
the loss at every step and the sharpness every few steps.

How :func:`top_hessian_eigenvalue` works
----------------------------------------
A Hessian-vector product is a directional derivative of the gradient; it is taken by a central difference

.. math::

    H v \\approx \\frac{\\nabla \\mathcal{L}(\\theta + h v) - \\nabla \\mathcal{L}(\\theta - h v)}{2h},
    \\qquad \\|v\\|_2 = 1,

whose truncation error is :math:`O(h^2)` (it is zero for a quadratic) and whose rounding error is about
:math:`\\epsilon \\|\\nabla \\mathcal{L}\\| / h`. The step
:math:`h = \\epsilon^{1/3} \\max(1, \\mathrm{rms}(\\theta))`, with
:math:`\\epsilon` the float64 machine epsilon, balances the two for a loss whose third derivative is of the size of
its gradient: both errors are then of order :math:`\\epsilon^{2/3} \\approx 4 \\cdot 10^{-11}` relative.

These products drive the Lanczos iteration with full reorthogonalization, started from a random unit vector
(``seed``). After :math:`m` steps the tridiagonal matrix :math:`T_m` holds the Hessian compressed to the Krylov space
of dimension :math:`m`; its largest eigenvalue (Ritz value) :math:`\\vartheta` approaches :math:`\\lambda_{\\max}` from
below, much faster than power iteration, and never confuses a large negative eigenvalue with the largest one (power
iteration finds the eigenvalue of largest *magnitude*). The iteration stops when the residual of the top Ritz pair,
:math:`\\beta_m |s_m|`, is at most ``tol`` times the spectral scale :math:`\\max |\\vartheta_i|` of :math:`T_m`
and the top Ritz value has changed by at most as much in each of the last two steps. (The residual test alone can be
met early by a Ritz value inside a cluster of eigenvalues just below :math:`\\lambda_{\\max}`, such as many zeros
and one tiny positive eigenvalue; requiring the value to have settled removes that failure in practice.)

What it promises. For the operator it applies, a Ritz value is within the residual of an eigenvalue and never
exceeds the largest one. With exact Hessian-vector products (the ``hvp`` argument) the result is therefore within
``tol`` :math:`\\|H\\|_2` of an eigenvalue and at most :math:`\\lambda_{\\max}`; from a random start it is
:math:`\\lambda_{\\max}` except in the rare event that the start is nearly orthogonal to the top eigenvector (tested on
random quadratics with negative and nearly equal top eigenvalues). If the Krylov space becomes invariant (at the
latest after :math:`n` steps for :math:`n` parameters) the value is exact up to rounding.

With central differences the same holds up to their error *only where the gradient is differentiable along every
direction the iteration tries*. Where it is not, e.g. a ReLU network with a pre-activation within :math:`h` of its
kink, the differences are not the product with any one matrix, and the Ritz value can land far above or below
:math:`\\lambda_{\\max}` (530 instead of 293 at one end point of the sweep of :ref:`ch-relu_networks`). The
function checks this: it applies the difference to the final Ritz vector once more and compares the result with what
a linear operator would give from the products already taken; a mismatch above :data:`NONLINEARITY_TOL` of the
spectral scale raises a ValueError that asks for exact products. The check catches every such case of the sweep of
:ref:`ch-relu_networks` (12 of 70 end points), but it is a test at one vector, not a proof: a kink the final vector
does not feel can go unnoticed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from lecturelib._checks import (
    MAX_ITERATIONS,
    FloatArray,
    function,
    integer_at_least,
    positive_number,
    power_of_two_scale,
    real_array,
    real_number,
    returned_array,
    returned_number,
)
from lecturelib.perturbation import perturb_start

if TYPE_CHECKING:
    from lecturelib.optimizers import Optimizer

__all__ = [
    "ConvergenceWarning",
    "SharpnessRun",
    "hessian_vector_product",
    "top_hessian_eigenvalue",
    "track_sharpness",
]

Gradient = Callable[[np.ndarray], np.ndarray]

_EPS = float(np.finfo(np.float64).eps)

#: Relative mismatch (to the spectral scale) between a central-difference product at the final Ritz vector and the
#: product a linear operator would give, above which :func:`top_hessian_eigenvalue` reports a non-smooth gradient.
#: Smooth losses give about 1e-10; the non-smooth end points of the sweep of :ref:`ch-relu_networks` give 6e-3 and more.
NONLINEARITY_TOL = 1e-5


class ConvergenceWarning(RuntimeWarning):
    """Warned when :func:`top_hessian_eigenvalue` uses up ``n_iter`` steps before meeting ``tol``."""


def _as_theta(theta: object, name: str = "theta") -> FloatArray:
    """Return ``theta`` as a finite non-empty 1-D float64 array (a flat parameter vector), or raise."""
    return real_array(theta, name, ndim=1, allow_empty=False)


def _call_grad(grad: Gradient, point: np.ndarray, what: str, finite: bool = True) -> np.ndarray:
    """Evaluate ``grad(point)`` and check that it is a (finite) real vector of the shape of ``point``.

    NumPy's floating-point warnings inside ``grad`` are silenced: an overflow there shows as a non-finite value,
    which is reported as an error (or, in :func:`track_sharpness`, as divergence).
    """
    with np.errstate(all="ignore"):
        value = returned_array(grad(point), "grad", what)
    if value.shape != point.shape:
        raise ValueError(
            f"grad must return an array of the shape of theta {point.shape}, got shape {value.shape} ({what})"
        )
    if finite and not np.all(np.isfinite(value)):
        raise ValueError(f"grad returned NaN or infinite values ({what}); the loss is not smooth or overflows there")
    return value


def _difference(plus: np.ndarray, minus: np.ndarray, h: float) -> np.ndarray:
    """``(plus - minus) / (2h)`` without overflow of the difference; ValueError if the quotient overflows."""
    with np.errstate(over="ignore"):
        result = (plus - minus) / (2.0 * h)
        if not np.all(np.isfinite(result)):  # the difference overflowed: divide first
            result = plus / (2.0 * h) - minus / (2.0 * h)
    if not np.all(np.isfinite(result)):
        raise ValueError(
            "grad changes by more than the float64 range over the difference step h: the Hessian-vector "
            "product overflows"
        )
    return result


def _check_grad(grad: object) -> None:
    function(grad, "grad", "mapping a flat parameter vector to its gradient")


def _fd_step(theta: np.ndarray) -> float:
    """The central-difference step :math:`\\epsilon^{1/3} \\max(1, \\mathrm{rms}(\\theta))`."""
    c = power_of_two_scale(theta)  # exact: the squares of huge entries do not overflow
    rms = float(np.sqrt(np.mean((theta / c) ** 2))) * c
    return _EPS ** (1.0 / 3.0) * max(1.0, rms)


def _smallest_h(theta: np.ndarray) -> float:
    """Below this difference step, :math:`\\theta \\pm h v` rounds to (nearly) :math:`\\theta`."""
    return 16.0 * _EPS * max(1.0, float(np.max(np.abs(theta))))


def hessian_vector_product(grad: Gradient, theta: ArrayLike, v: ArrayLike, *, h: float | None = None) -> FloatArray:
    """Hessian-vector product :math:`\\nabla^2 \\mathcal{L}(\\theta)\\, v` by a central difference of the gradient.

    .. math::

        \\nabla^2 \\mathcal{L}(\\theta)\\, v \\approx \\|v\\| \\,
        \\frac{\\nabla \\mathcal{L}(\\theta + h \\hat v) - \\nabla \\mathcal{L}(\\theta - h \\hat v)}{2h},
        \\qquad \\hat v = v / \\|v\\|.

    Introduced in :ref:`ch-edge_of_stability`.

    Parameters
    ----------
    grad : callable
        Maps a flat parameter vector of shape ``(n,)`` to the gradient of the loss there, shape ``(n,)``.
    theta : array_like, shape (n,)
        The point; finite.
    v : array_like, shape (n,)
        The direction; finite.
    h : float, optional
        The difference step along the unit vector :math:`\\hat v`. Default
        :math:`\\epsilon^{1/3} \\max(1, \\mathrm{rms}(\\theta))` (see the module docstring). At least
        :math:`16 \\epsilon \\max(1, \\max_i |\\theta_i|)`, below which :math:`\\theta \\pm h \\hat v` rounds to
        :math:`\\theta` and the difference means nothing.

    Returns
    -------
    numpy.ndarray, shape (n,)
        The product; exact up to rounding when the loss is quadratic.

    Raises
    ------
    ValueError
        If ``theta`` or ``v`` are not finite vectors of one shape, ``h`` is too small, ``grad`` returns non-finite
        values, or the product overflows float64.
    """
    _check_grad(grad)
    theta = _as_theta(theta)
    v = real_array(v, "v")
    if v.shape != theta.shape:
        raise ValueError(f"v must have the shape of theta {theta.shape}, got {v.shape}")
    if h is None:
        h = _fd_step(theta)
    else:
        h = real_number(h, "h", above=0.0, at_most=1e300)
        if h < _smallest_h(theta):
            raise ValueError(
                f"h must be at least 16 eps max(1, max|theta|) = {_smallest_h(theta):.3g} (theta + h v would round "
                f"to theta), got {h!r}"
            )
    c = power_of_two_scale(v)
    norm = float(np.linalg.norm(v / c)) * c
    if norm == 0.0:
        return np.zeros_like(theta)
    u = (v / c) / (norm / c)
    with np.errstate(over="ignore"):
        up, down = theta + h * u, theta - h * u
    if not (np.all(np.isfinite(up)) and np.all(np.isfinite(down))):
        raise ValueError("theta is too large: theta +- h v overflows float64")
    plus = _call_grad(grad, up, "at theta + h v")
    minus = _call_grad(grad, down, "at theta - h v")
    with np.errstate(over="ignore"):
        result = _difference(plus, minus, h) * norm
    if not np.all(np.isfinite(result)):
        raise ValueError("the Hessian-vector product overflows float64 (v is too long)")
    return result


def top_hessian_eigenvalue(
    grad: Gradient,
    theta: ArrayLike,
    *,
    n_iter: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
    hvp: Callable[[np.ndarray], np.ndarray] | None = None,
) -> float:
    """The largest (algebraic) eigenvalue of the Hessian, the *sharpness*, from the gradient alone.

    Lanczos iteration with full reorthogonalization on Hessian-vector products, taken by central differences of
    ``grad`` (see :func:`hessian_vector_product` and the module docstring) or, if given, by the exact product
    ``hvp``; the Hessian is never formed. The result is
    :math:`\\lambda_{\\max}(\\nabla^2 \\mathcal{L}(\\theta))`, which may be negative, not the eigenvalue of largest
    magnitude.

    Introduced in :ref:`ch-edge_of_stability`.

    Parameters
    ----------
    grad : callable
        Maps a flat parameter vector of shape ``(n,)`` to the gradient of the loss, shape ``(n,)``, finite.
    theta : array_like, shape (n,)
        The point, a finite flat vector.
    n_iter : int, default 100
        The largest number of Lanczos steps (Hessian-vector products, two gradient calls each); at least 1.
    tol : float, default 1e-6
        Stop when the residual of the top Ritz pair is at most ``tol`` times the largest Ritz value in magnitude and
        the top Ritz value has moved by at most that much in each of the last two steps. In ``(0, 1)``.
    seed : int, default 0
        Seed of the random starting vector (``numpy.random.default_rng(seed)``).
    hvp : callable, optional
        The exact Hessian-vector product ``v -> H v`` at ``theta``, where the model has one (for the ReLU networks
        of :mod:`lecturelib.relu_nets`, ``lambda v: H @ v`` with ``H = relu_nets.hessian(net, X, Y)``); then
        ``grad`` is only checked at ``theta`` and no finite difference is taken.

    Returns
    -------
    float
        The estimate of :math:`\\lambda_{\\max}`.

        What it promises: with exact products (``hvp``), a value within ``tol`` :math:`\\|H\\|_2` of an eigenvalue
        and never above :math:`\\lambda_{\\max}` (a Ritz value cannot exceed it), in practice
        :math:`\\lambda_{\\max}` itself (see the module docstring). With central differences, the same up to their
        error (about :math:`10^{-10}` relative for a smooth loss), *if the gradient is differentiable near theta*;
        it is not a bound in either direction where it is not, and the check for that (below) tests one vector.
        If ``n_iter`` steps do not meet ``tol``, the last estimate is returned with a :class:`ConvergenceWarning`.

    Raises
    ------
    TypeError
        If ``grad`` or ``hvp`` is not callable, or ``n_iter``, ``tol`` or ``seed`` have the wrong type.
    ValueError
        If ``theta`` is not a finite non-empty 1-D vector, ``grad`` (or ``hvp``) returns an array of another shape
        or non-finite values, ``n_iter < 1`` or ``tol`` is not in ``(0, 1)``; and if the central differences are
        not the product with one matrix (the gradient is not differentiable within the difference step of
        ``theta``, e.g. at a ReLU kink): pass ``hvp`` there.
    """
    _check_grad(grad)
    theta = _as_theta(theta)
    n_iter = integer_at_least(n_iter, "n_iter", 1, MAX_ITERATIONS)
    tol = real_number(tol, "tol", above=0.0, below=1.0)
    seed = integer_at_least(seed, "seed", 0)
    if hvp is not None:
        function(hvp, "hvp", "v -> H v")

    n = theta.size
    h = _fd_step(theta)
    g0 = _call_grad(grad, theta, "at theta")
    del g0  # only validated: the central difference does not use it

    def product(u: np.ndarray) -> np.ndarray:
        if hvp is not None:
            value = np.asarray(hvp(u.copy()))
            if value.dtype.kind not in "iuf" or value.shape != theta.shape:
                raise ValueError(
                    f"hvp must return a real array of the shape of theta {theta.shape}, got "
                    f"{value.dtype} of shape {value.shape}"
                )
            value = value.astype(np.float64, copy=False)
            if not np.all(np.isfinite(value)):
                raise ValueError("hvp returned NaN or infinite values")
            return value
        with np.errstate(over="ignore"):
            up, down = theta + h * u, theta - h * u
        if not (np.all(np.isfinite(up)) and np.all(np.isfinite(down))):
            raise ValueError("theta is too large: theta +- h v overflows float64")
        return _difference(_call_grad(grad, up, "at theta + h v"), _call_grad(grad, down, "at theta - h v"), h)

    m_max = min(n_iter, n)
    basis = np.zeros((m_max, n))
    alphas: list[float] = []
    betas: list[float] = []
    q = perturb_start(np.random.default_rng(seed).standard_normal(n))  # the rounding harness; unset, unchanged
    q /= np.linalg.norm(q)
    top = 0.0
    previous = np.inf
    settled_before = False
    converged = False
    w = np.zeros(n)
    vecs = np.ones((1, 1))
    scale = 0.0
    for j in range(m_max):
        basis[j] = q
        w = product(q)
        alpha = float(q @ w)
        # Full reorthogonalization, twice ("twice is enough"), against every earlier Lanczos vector.
        for _ in range(2):
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta = float(np.linalg.norm(w))
        alphas.append(alpha)
        tri = np.diag(alphas)
        if j > 0:
            off = np.array(betas)
            tri += np.diag(off, 1) + np.diag(off, -1)
        ritz, vecs = np.linalg.eigh(tri)
        top = float(ritz[-1])
        scale = float(np.max(np.abs(ritz)))
        residual = beta * abs(float(vecs[-1, -1]))
        # Breakdown: the Krylov space is invariant, so the Ritz values are eigenvalues.
        if beta <= 64.0 * _EPS * max(scale, np.finfo(np.float64).tiny) or j == n - 1:
            converged = True
            break
        # A small residual alone can be met early by a Ritz value inside a cluster of eigenvalues just below
        # lambda_max (it is then close to *an* eigenvalue, not the top one); require the top Ritz value to have
        # settled as well, over two consecutive steps.
        settled = abs(top - previous) <= tol * scale
        if residual <= tol * scale and settled and settled_before:
            converged = True
            break
        settled_before = settled
        previous = top
        betas.append(beta)
        q = w / beta
    if hvp is None and scale > 0:
        # Linearity check: for the product with one matrix, H y = top y + s_m w (w = beta_m q_{m+1}, the last
        # remainder) for the Ritz vector y = Q s. Central differences across a kink break it.
        s_vec = vecs[:, -1]
        y = basis[: s_vec.size].T @ s_vec
        mismatch = float(np.linalg.norm(product(y) - top * y - s_vec[-1] * w)) / scale
        if mismatch > NONLINEARITY_TOL:
            raise ValueError(
                f"grad is not differentiable near theta: central differences with step h = {h:.3g} are not the "
                f"product with one matrix (relative mismatch {mismatch:.2g} > {NONLINEARITY_TOL:g}), as at a ReLU "
                "kink within h of theta; pass hvp, an exact Hessian-vector product, instead"
            )
    if not converged:
        warnings.warn(
            f"top_hessian_eigenvalue: {m_max} Lanczos steps did not reach tol={tol}; returning the last estimate "
            "(raise n_iter)",
            ConvergenceWarning,
            stacklevel=2,
        )
    return top


class SharpnessRun(NamedTuple):
    """The record of :func:`track_sharpness`.

    Attributes
    ----------
    losses : numpy.ndarray, shape (n_steps + 1,)
        The loss before the first step and after each step; NaN after a divergence.
    sharpness_steps : numpy.ndarray of int
        The iterations at which the sharpness was measured (0, ``every``, ``2 every``, ...).
    sharpness : numpy.ndarray
        The sharpness :math:`\\lambda_{\\max}(\\nabla^2 \\mathcal{L})` at those iterations; NaN after a divergence,
        and on a run that diverged also where the iterate on its way out was too large to measure it (on a run that
        does not diverge, a sharpness that cannot be measured raises ValueError).
    theta : numpy.ndarray
        The last finite iterate.
    diverged : bool
        Whether the loss became non-finite or exceeded ``blowup`` (training stopped there).
    """

    losses: np.ndarray
    sharpness_steps: np.ndarray
    sharpness: np.ndarray
    theta: np.ndarray
    diverged: bool


def track_sharpness(
    loss: Callable[[np.ndarray], float],
    grad: Gradient,
    theta0: ArrayLike,
    step: float,
    n_steps: int,
    *,
    every: int = 10,
    n_iter: int = 60,
    tol: float = 1e-4,
    blowup: float = 1e12,
    optimizer: Optimizer[Any] | None = None,
    preconditioned: bool = True,
) -> SharpnessRun:
    """Full-batch gradient descent :math:`\\theta_{k+1} = \\theta_k - \\delta \\nabla \\mathcal{L}(\\theta_k)`,
    recording the loss at every step and the sharpness every ``every`` steps.

    Introduced in :ref:`ch-edge_of_stability`; the ``optimizer`` argument in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    loss, grad : callable
        The loss (flat vector to float) and its gradient (flat vector to flat vector).
    theta0 : array_like, shape (n,)
        The initial point, finite.
    step : float
        The step size :math:`\\delta > 0`.
    n_steps : int
        The number of gradient steps, at least 0.
    every : int, default 10
        Measure the sharpness at iterations 0, ``every``, ``2 every``, ... up to ``n_steps``; at least 1.
    n_iter, tol : default 60, 1e-4
        Passed to :func:`top_hessian_eigenvalue` (the seed is the iteration number).
    blowup : float, default 1e12
        A loss above this (or non-finite) counts as divergence; positive, ``inf`` allowed (then only a non-finite
        loss or iterate counts), NaN is not.
    optimizer : object, optional
        Another optimizer from :mod:`lecturelib.optimizers` (momentum, Nesterov, Adam, mini-batch SGD, a warmup
        schedule) in place of gradient descent; ``step`` is then its (peak) step size. ``None``: gradient descent.
    preconditioned : bool, default True
        For an optimizer with a diagonal preconditioner :math:`P` (Adam), record the *preconditioned* sharpness
        :math:`\\lambda_{\\max}(P^{-1} \\nabla^2 \\mathcal{L})`, which equals
        :math:`\\lambda_{\\max}(P^{-1/2} \\nabla^2 \\mathcal{L}\\, P^{-1/2})`, with the :math:`P` of the last step (NaN
        before the first step); ``False`` records the sharpness of :math:`\\nabla^2 \\mathcal{L}` itself.

    Divergence is a result (``diverged``), never a warning. ``n_steps`` is at most
    ``lecturelib._checks.MAX_ITERATIONS``.

    Returns
    -------
    SharpnessRun
    """
    _check_grad(grad)
    function(loss, "loss", "mapping a flat parameter vector to a float")
    theta = _as_theta(theta0, "theta0").copy()
    with np.errstate(all="ignore"):
        theta = perturb_start(theta)  # the rounding harness (lecturelib.perturbation); unset, theta itself
    step = positive_number(step, "step")
    n_steps = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    every = integer_at_least(every, "every", 1)
    n_iter = integer_at_least(n_iter, "n_iter", 1, MAX_ITERATIONS)
    tol = real_number(tol, "tol", above=0.0, below=1.0)
    blowup = real_number(blowup, "blowup", above=0.0, finite=False)
    losses = np.full(n_steps + 1, np.nan)
    sharp_steps = np.arange(0, n_steps + 1, every)
    sharp = np.full(sharp_steps.size, np.nan)
    diverged = False
    if optimizer is not None and not all(callable(getattr(optimizer, name, None)) for name in ("init", "update")):
        raise TypeError(f"optimizer must be None or an optimizer of lecturelib.optimizers, got {optimizer!r}")
    state = optimizer.init(theta) if optimizer is not None else None
    unmeasured: ValueError | None = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_steps + 1):
            value = returned_number(loss(theta), "loss")
            if not math.isfinite(value) or value > blowup:
                diverged = True
                break
            losses[k] = value
            if k % every == 0:
                try:
                    if preconditioned and optimizer is not None and getattr(optimizer, "adaptive", False):
                        p = optimizer.preconditioner(state)  # None before an adaptive method's first step
                        if p is None:
                            sharp[k // every] = np.nan
                        else:
                            sharp[k // every] = _preconditioned_sharpness(
                                grad, theta, p, n_iter=n_iter, tol=tol, seed=k
                            )
                    else:
                        sharp[k // every] = top_hessian_eigenvalue(grad, theta, n_iter=n_iter, tol=tol, seed=k)
                except ValueError as err:
                    # On the way to a divergence the iterate can be too large for difference quotients (theta +- h v
                    # overflows, or the gradient is no longer linear over h). That is part of the divergence, reported
                    # as a result below; on a run that does not diverge, the error is raised after the loop.
                    unmeasured = unmeasured or err
                    sharp[k // every] = np.nan
            if k == n_steps:
                break
            if optimizer is None:
                g = _call_grad(grad, theta, f"at iteration {k}", finite=False)  # non-finite: divergence, below
                new = theta - step * g
            else:
                new, state = optimizer.update(k, theta, grad, step, state)
            if not np.all(np.isfinite(new)):
                diverged = True
                break
            theta = new
    if unmeasured is not None and not diverged:
        raise unmeasured
    return SharpnessRun(losses, sharp_steps, sharp, theta, diverged)


def _preconditioned_sharpness(
    grad: Gradient, theta: FloatArray, p: FloatArray, *, n_iter: int, tol: float, seed: int
) -> float:
    """:math:`\\lambda_{\\max}(P^{-1/2} \\nabla^2 \\mathcal{L}(\\theta) P^{-1/2})` for a positive diagonal ``p``.

    It is :math:`c^2` times the sharpness of the loss in the coordinates :math:`u = c P^{1/2} \\theta`, whose gradient
    is :math:`\\sigma \\nabla \\mathcal{L}(\\sigma u)` with :math:`\\sigma = P^{-1/2}/c`; the scale
    :math:`c = \\max_i p_i^{-1/2}` makes :math:`\\sigma \\le 1`, so the difference steps in :math:`\\theta` are no
    longer than those in :func:`top_hessian_eigenvalue` itself.
    """
    inv_root = 1.0 / np.sqrt(np.asarray(p, dtype=np.float64))
    c = float(np.max(inv_root))
    sigma = inv_root / c
    sharpness = top_hessian_eigenvalue(
        lambda u: sigma * grad(sigma * u), theta / sigma, n_iter=n_iter, tol=tol, seed=seed
    )
    return c * c * sharpness
