"""Sharpness: the largest eigenvalue of the Hessian, from gradients alone, and gradient descent that tracks it.

Introduced in chapter 8 (the edge of stability).

The *sharpness* of a loss :math:`L` at :math:`\\theta` is :math:`\\lambda_{\\max}(\\nabla^2 L(\\theta))`. Gradient
descent with step :math:`\\delta` can only converge to a point whose sharpness is at most :math:`2/\\delta` (the
linearization :math:`I - \\delta \\nabla^2 L` must have no eigenvalue below :math:`-1`). This module measures the
sharpness of a loss given only its gradient, without forming the Hessian, and runs gradient descent while recording
the loss at every step and the sharpness every few steps.

How :func:`top_hessian_eigenvalue` works
----------------------------------------
A Hessian-vector product is a directional derivative of the gradient; it is taken by a central difference

.. math::

    H v \\approx \\frac{\\nabla L(\\theta + h v) - \\nabla L(\\theta - h v)}{2h}, \\qquad \\|v\\|_2 = 1,

whose truncation error is :math:`O(h^2)` (it is zero for a quadratic) and whose rounding error is about
:math:`\\epsilon \\|\\nabla L\\| / h`. The step :math:`h = \\epsilon^{1/3} \\max(1, \\mathrm{rms}(\\theta))`, with
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
A symmetric matrix has an eigenvalue within the residual of every Ritz value, and the Ritz value cannot exceed
:math:`\\lambda_{\\max}`; so the returned value is within ``tol`` :math:`\\|H\\|_2` of an eigenvalue, and from a random
start it is :math:`\\lambda_{\\max}` except in the rare event that the start is nearly orthogonal to the top
eigenvector (tested on random quadratics with negative and nearly equal top eigenvalues), up to the error of the
finite differences. If the Krylov space becomes invariant (at the latest after :math:`n` steps for :math:`n`
parameters) the value is exact up to rounding.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

__all__ = [
    "ConvergenceWarning",
    "SharpnessRun",
    "hessian_vector_product",
    "top_hessian_eigenvalue",
    "track_sharpness",
]

Gradient = Callable[[np.ndarray], np.ndarray]

_EPS = float(np.finfo(np.float64).eps)


class ConvergenceWarning(RuntimeWarning):
    """Warned when :func:`top_hessian_eigenvalue` uses up ``n_iter`` steps before meeting ``tol``."""


def _as_theta(theta: object) -> np.ndarray:
    """Return ``theta`` as a finite 1-D float64 array, or raise."""
    if isinstance(theta, (str, bytes)):
        raise TypeError("theta must be a 1-D array of numbers, got a string")
    try:
        arr = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"theta must be a 1-D array of real numbers, got {type(theta).__name__}") from err
    if arr.ndim != 1:
        raise ValueError(f"theta must be a flat (1-D) parameter vector, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("theta must have at least one entry, got an empty array")
    if not np.all(np.isfinite(arr)):
        raise ValueError("theta must be finite, got NaN or infinite entries")
    return arr


def _call_grad(grad: Gradient, point: np.ndarray, what: str) -> np.ndarray:
    """Evaluate ``grad(point)`` and check that it is a finite vector of the shape of ``point``."""
    value = np.asarray(grad(point), dtype=np.float64)
    if value.shape != point.shape:
        raise ValueError(
            f"grad must return an array of the shape of theta {point.shape}, got shape {value.shape} ({what})"
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"grad returned NaN or infinite values ({what}); the loss is not smooth or overflows there")
    return value


def _check_grad(grad: object) -> None:
    if not callable(grad):
        raise TypeError(f"grad must be a callable mapping a flat parameter vector to its gradient, got {grad!r}")


def _fd_step(theta: np.ndarray) -> float:
    """The central-difference step :math:`\\epsilon^{1/3} \\max(1, \\mathrm{rms}(\\theta))`."""
    rms = float(np.sqrt(np.mean(theta * theta)))
    return _EPS ** (1.0 / 3.0) * max(1.0, rms)


def hessian_vector_product(grad: Gradient, theta: np.ndarray, v: np.ndarray, *, h: float | None = None) -> np.ndarray:
    """Hessian-vector product :math:`\\nabla^2 L(\\theta)\\, v` by a central difference of the gradient.

    .. math::

        \\nabla^2 L(\\theta)\\, v \\approx \\|v\\| \\,
        \\frac{\\nabla L(\\theta + h \\hat v) - \\nabla L(\\theta - h \\hat v)}{2h},
        \\qquad \\hat v = v / \\|v\\|.

    Introduced in chapter 8.

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
        :math:`\\epsilon^{1/3} \\max(1, \\mathrm{rms}(\\theta))` (see the module docstring).

    Returns
    -------
    numpy.ndarray, shape (n,)
        The product; exact up to rounding when the loss is quadratic.
    """
    _check_grad(grad)
    theta = _as_theta(theta)
    v = np.asarray(v, dtype=np.float64)
    if v.shape != theta.shape:
        raise ValueError(f"v must have the shape of theta {theta.shape}, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("v must be finite, got NaN or infinite entries")
    if h is None:
        h = _fd_step(theta)
    elif isinstance(h, bool) or not isinstance(h, Real) or not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(theta)
    u = v / norm
    plus = _call_grad(grad, theta + h * u, "at theta + h v")
    minus = _call_grad(grad, theta - h * u, "at theta - h v")
    return (plus - minus) * (norm / (2.0 * h))


def top_hessian_eigenvalue(
    grad: Gradient,
    theta: np.ndarray,
    *,
    n_iter: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
) -> float:
    """The largest (algebraic) eigenvalue of the Hessian, the *sharpness*, from the gradient alone.

    Lanczos iteration with full reorthogonalization on Hessian-vector products taken by central differences of
    ``grad`` (see :func:`hessian_vector_product` and the module docstring); the Hessian is never formed. The result is
    :math:`\\lambda_{\\max}(\\nabla^2 L(\\theta))`, which may be negative, not the eigenvalue of largest magnitude.

    Introduced in chapter 8.

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
        the top Ritz value has moved by at most that much in each of the last two steps; the result is then within
        ``tol`` :math:`\\|H\\|_2` of an eigenvalue, not above :math:`\\lambda_{\\max}`, and in practice
        :math:`\\lambda_{\\max}` itself (see the module docstring). In ``(0, 1)``.
    seed : int, default 0
        Seed of the random starting vector (``numpy.random.default_rng(seed)``).

    Returns
    -------
    float
        The estimate of :math:`\\lambda_{\\max}`. If ``n_iter`` steps do not meet ``tol``, the last estimate is
        returned with a :class:`ConvergenceWarning`.

    Raises
    ------
    TypeError
        If ``grad`` is not callable, or ``n_iter``, ``tol`` or ``seed`` have the wrong type.
    ValueError
        If ``theta`` is not a finite non-empty 1-D vector, ``grad`` returns an array of another shape or non-finite
        values, ``n_iter < 1`` or ``tol`` is not in ``(0, 1)``.
    """
    _check_grad(grad)
    theta = _as_theta(theta)
    if isinstance(n_iter, bool) or not isinstance(n_iter, Integral):
        raise TypeError(f"n_iter must be an int, got {type(n_iter).__name__}")
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}")
    if isinstance(tol, bool) or not isinstance(tol, Real):
        raise TypeError(f"tol must be a real number, got {type(tol).__name__}")
    if not (0.0 < float(tol) < 1.0):
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")

    n = theta.size
    h = _fd_step(theta)
    g0 = _call_grad(grad, theta, "at theta")
    del g0  # only validated: the central difference does not use it

    def hvp(u: np.ndarray) -> np.ndarray:
        plus = _call_grad(grad, theta + h * u, "at theta + h v")
        minus = _call_grad(grad, theta - h * u, "at theta - h v")
        return (plus - minus) / (2.0 * h)

    m_max = min(int(n_iter), n)
    basis = np.zeros((m_max, n))
    alphas: list[float] = []
    betas: list[float] = []
    q = np.random.default_rng(seed).standard_normal(n)
    q /= np.linalg.norm(q)
    top = 0.0
    previous = np.inf
    settled_before = False
    converged = False
    for j in range(m_max):
        basis[j] = q
        w = hvp(q)
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
        The sharpness :math:`\\lambda_{\\max}(\\nabla^2 L)` at those iterations; NaN after a divergence.
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
    theta0: np.ndarray,
    step: float,
    n_steps: int,
    *,
    every: int = 10,
    n_iter: int = 60,
    tol: float = 1e-4,
    blowup: float = 1e12,
) -> SharpnessRun:
    """Full-batch gradient descent :math:`\\theta_{k+1} = \\theta_k - \\delta \\nabla L(\\theta_k)`, recording the
    loss at every step and the sharpness every ``every`` steps.

    Introduced in chapter 8.

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
        A loss above this (or non-finite) counts as divergence.

    Returns
    -------
    SharpnessRun
    """
    _check_grad(grad)
    if not callable(loss):
        raise TypeError(f"loss must be a callable mapping a flat parameter vector to a float, got {loss!r}")
    theta = _as_theta(theta0).copy()
    if isinstance(step, bool) or not isinstance(step, Real) or not (np.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive finite number, got {step!r}")
    for name, value, low in (("n_steps", n_steps, 0), ("every", every, 1)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")
    losses = np.full(n_steps + 1, np.nan)
    sharp_steps = np.arange(0, n_steps + 1, every)
    sharp = np.full(sharp_steps.size, np.nan)
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_steps + 1):
            value = float(loss(theta))
            if not np.isfinite(value) or value > blowup:
                diverged = True
                break
            losses[k] = value
            if k % every == 0:
                sharp[k // every] = top_hessian_eigenvalue(grad, theta, n_iter=n_iter, tol=tol, seed=k)
            if k == n_steps:
                break
            g = np.asarray(grad(theta), dtype=np.float64)
            new = theta - step * g
            if not np.all(np.isfinite(new)):
                diverged = True
                break
            theta = new
    return SharpnessRun(losses, sharp_steps, sharp, theta, diverged)
