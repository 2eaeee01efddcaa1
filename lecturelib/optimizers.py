"""Beyond plain gradient descent: the stability thresholds of momentum, Nesterov, Adam and mini-batch SGD, and the
optimizers themselves, to be run by :func:`lecturelib.curvature.track_sharpness`.

Introduced in :ref:`ch-beyond_gd`.

Thresholds
----------
Linearized at a minimum where the loss has curvature :math:`\\lambda > 0` (an eigenvalue of the Hessian), each method
is a linear recurrence on the error; it is stable when every root of its characteristic polynomial lies in the unit
disc (the Jury conditions). This gives

- heavy-ball momentum :math:`x^+ = x - \\delta \\nabla \\mathcal{L}(x) + \\beta (x - x^-)`: stable iff
  :math:`0 < \\delta\\lambda < 2(1 + \\beta)` (:func:`heavy_ball_max_step`);
- Nesterov's method :math:`x^+ = y - \\delta \\nabla \\mathcal{L}(y)`, :math:`y = x + \\beta(x - x^-)`: stable iff
  :math:`0 < \\delta\\lambda < (2 + 2\\beta)/(1 + 2\\beta)` (:func:`nesterov_max_step`);
- Adam with a frozen preconditioner :math:`P`: momentum with step :math:`\\delta(1 - \\beta_1)` on
  :math:`P^{-1}H`, stable iff :math:`\\lambda_{\\max}(P^{-1}H) < (2 + 2\\beta_1)/((1 - \\beta_1)\\delta)`
  (:func:`adam_edge`);
- mini-batch SGD on a quadratic model: stable in mean square if the spectral radius of the map that takes the
  second moment of the error one step forward is below 1, and only if it is at most 1
  (:func:`sgd_mean_square_radius`); almost every run returns if the top Lyapunov exponent of the random product of
  the maps :math:`I - \\delta H_B` is negative, and almost every run leaves if it is positive
  (:func:`sgd_lyapunov_exponent`).

The loss is :math:`\\mathcal{L}` (the course's notation, where :math:`L` is a network's depth); "stable iff" above
assumes :math:`\\lambda > 0` (a positive-definite Hessian at the minimum), and each threshold is the supremum of the
stable steps: at the threshold itself a root lies on the unit circle.

The derivations are in :ref:`ch-beyond_gd` and in ``tests/test_optimizers.py`` (sympy).

Optimizers
----------
:class:`GD`, :class:`HeavyBall`, :class:`Nesterov`, :class:`Adam` and :class:`MiniBatchSGD` share one small protocol,
which :func:`lecturelib.curvature.track_sharpness` drives through its ``optimizer`` argument:

- ``init(theta) -> state``: the optimizer's state before the first step;
- ``update(k, theta, grad, step, state) -> (theta, state)``: step number ``k`` (from 0) from ``theta``, with
  ``grad`` the full-batch gradient and ``step`` the peak step size :math:`\\delta`;
- ``preconditioner(state) -> numpy.ndarray | None``: the diagonal :math:`P` of an adaptive method (``None`` for the
  others, and for Adam before its first step).

Each optimizer takes ``warmup`` :math:`W \\ge 0`: at step :math:`k` it uses :math:`\\delta \\min(1, (k + 1)/W)`
(a linear warmup; ``warmup=0`` means the constant step :math:`\\delta`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from lecturelib._checks import (
    MAX_ELEMENTS,
    MAX_ITERATIONS,
    FloatArray,
    finite_result,
    function,
    integer_at_least,
    positive_number,
    probability,
    real_array,
    within_budget,
)
from lecturelib.perturbation import perturb_start

__all__ = [
    "GD",
    "Adam",
    "HeavyBall",
    "MiniBatchSGD",
    "Nesterov",
    "adam_edge",
    "heavy_ball_max_step",
    "nesterov_max_step",
    "sgd_lyapunov_exponent",
    "sgd_mean_square_radius",
    "sgd_second_moment_map",
]

Gradient = Callable[[np.ndarray], np.ndarray]

#: The state an optimizer carries from one step to the next (None, the previous iterate, Adam's moments, a random
#: generator): each optimizer has its own, opaque to :func:`lecturelib.curvature.track_sharpness`.
State = TypeVar("State")


class Optimizer(Protocol[State]):
    """What :func:`lecturelib.curvature.track_sharpness` needs of an optimizer; every class below has it."""

    adaptive: bool

    def init(self, theta: FloatArray) -> State: ...

    def update(
        self, k: int, theta: FloatArray, grad: Gradient, step: float, state: State
    ) -> tuple[FloatArray, State]: ...

    def preconditioner(self, state: State) -> FloatArray | None: ...


def _representable(value: float, what: str) -> float:
    """``value`` if it is a finite float; else ValueError: the true threshold exists but float64 cannot hold it."""
    return finite_result(value, f"{what} is too small: the threshold it gives overflows float64")


# -- thresholds --------------------------------------------------------------------------------------------------


def heavy_ball_max_step(curvature: float, beta: float) -> float:
    """The threshold step of heavy-ball momentum at a minimum of curvature :math:`\\lambda > 0`:
    :math:`2(1 + \\beta)/\\lambda`, stable for every step below it (a supremum: at it a root is :math:`-1`).

    Heavy-ball momentum :math:`x_{k+1} = x_k - \\delta \\nabla \\mathcal{L}(x_k) + \\beta (x_k - x_{k-1})`,
    linearized at a minimum where :math:`\\nabla^2 \\mathcal{L}` has the eigenvalue :math:`\\lambda`, acts on that
    eigen-direction of the error as the recurrence with characteristic polynomial :math:`z^2 - (1 + \\beta -
    \\delta\\lambda) z + \\beta`. Its roots
    lie in the open unit disc iff :math:`0 < \\delta\\lambda < 2(1 + \\beta)` (Jury conditions). The returned value
    is the supremum of the stable steps. Introduced in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    curvature : float
        :math:`\\lambda > 0`, finite.
    beta : float
        The momentum :math:`\\beta \\in [0, 1)`.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If ``curvature`` is not a positive finite number or ``beta`` is not in :math:`[0, 1)`.
    """
    lam = positive_number(curvature, "curvature")
    b = probability(beta, "beta")
    return _representable(2.0 * (1.0 + b) / lam, "curvature")


def nesterov_max_step(curvature: float, beta: float) -> float:
    """The threshold step of Nesterov's method at a minimum of curvature :math:`\\lambda > 0`:
    :math:`(2 + 2\\beta)/((1 + 2\\beta)\\lambda)`, stable for every step below it (a supremum, as in
    :func:`heavy_ball_max_step`).

    Nesterov's method :math:`x_{k+1} = y_k - \\delta \\nabla \\mathcal{L}(y_k)`,
    :math:`y_k = x_k + \\beta(x_k - x_{k-1})`, linearized as in :func:`heavy_ball_max_step`, has the characteristic
    polynomial
    :math:`z^2 - (1 + \\beta)(1 - \\delta\\lambda) z + \\beta (1 - \\delta\\lambda)`, whose roots lie in the open unit
    disc iff :math:`0 < \\delta\\lambda < (2 + 2\\beta)/(1 + 2\\beta)`. For :math:`\\beta > 0` this is below
    :math:`2/\\lambda`, the threshold of plain gradient descent. Introduced in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    curvature : float
        :math:`\\lambda > 0`, finite.
    beta : float
        The momentum :math:`\\beta \\in [0, 1)`.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If ``curvature`` is not a positive finite number or ``beta`` is not in :math:`[0, 1)`.
    """
    lam = positive_number(curvature, "curvature")
    b = probability(beta, "beta")
    return _representable((2.0 + 2.0 * b) / (1.0 + 2.0 * b) / lam, "curvature")


def adam_edge(step: float, beta1: float) -> float:
    """The preconditioned sharpness above which Adam with a frozen preconditioner is unstable:
    :math:`(2 + 2\\beta_1)/((1 - \\beta_1)\\delta)`.

    With :math:`P` frozen, Adam's update :math:`m^+ = \\beta_1 m + (1 - \\beta_1) \\nabla \\mathcal{L}`,
    :math:`x^+ = x - \\delta P^{-1} m^+` is, in the eigen-directions of :math:`P^{-1}H`, heavy-ball momentum with
    momentum :math:`\\beta_1` and step :math:`\\delta (1 - \\beta_1)`; so it is stable iff
    :math:`\\lambda_{\\max}(P^{-1}H) < (2 + 2\\beta_1)/((1 - \\beta_1)\\delta)`, which is :math:`38/\\delta` for
    :math:`\\beta_1 = 0.9` (Cohen et al. 2022). Introduced in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    step : float
        The step :math:`\\delta > 0`.
    beta1 : float
        The first-moment decay :math:`\\beta_1 \\in [0, 1)`.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If ``step`` is not a positive finite number or ``beta1`` is not in :math:`[0, 1)`.
    """
    d = positive_number(step, "step")
    b = probability(beta1, "beta1")
    return _representable((2.0 + 2.0 * b) / (1.0 - b) / d, "step")


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} of type {type(value).__name__}")
    return bool(value)


def _check_hessians(hessians: object) -> FloatArray:
    H = real_array(hessians, "hessians", ndim=3)  # refuses strings, bools, complex arrays and NaN or inf entries
    if H.shape[1] != H.shape[2] or H.shape[0] < 1 or H.shape[1] < 1:
        raise ValueError(f"hessians must have shape (n, d, d) with n, d >= 1, got shape {H.shape}")
    scale = float(np.max(np.abs(H)))
    if np.max(np.abs(H - H.transpose(0, 2, 1))) > 1e-12 * scale:
        raise ValueError("hessians must be symmetric matrices (H[i] == H[i].T), got a non-symmetric one")
    return H


def sgd_second_moment_map(hessians: ArrayLike, step: float, batch: int, *, replace: bool = True) -> FloatArray:
    """The matrix of the linear map :math:`\\Sigma \\mapsto \\mathbb{E}[(I - \\delta H_B)\\Sigma(I - \\delta H_B)]`
    on row-major flattened :math:`d \\times d` matrices.

    One step of mini-batch SGD on the quadratic model
    :math:`\\mathcal{L}_i(x) = \\tfrac12 (x - x^*)^\\top H_i (x - x^*)` moves the error :math:`e = x - x^*` to
    :math:`(I - \\delta H_B) e`, with
    :math:`H_B = \\tfrac1B \\sum_{j=1}^B H_{i_j}` and the indices :math:`i_j` drawn uniformly with replacement
    (the default) or, with ``replace=False``, :math:`B` distinct indices drawn uniformly. The second moment
    :math:`\\Sigma = \\mathbb{E}[e e^\\top]` then moves by this map. With :math:`\\bar H = \\tfrac1n \\sum_i H_i`,

    .. math::

        \\mathbb{E}[H_B \\otimes H_B] = \\bar H \\otimes \\bar H
        + c_B \\Big(\\tfrac1n \\sum_i H_i \\otimes H_i - \\bar H \\otimes \\bar H\\Big),

    where the variance factor is :math:`c_B = 1/B` with replacement (independent draws) and
    :math:`c_B = (n - B)/(B(n - 1))` without (the finite-population correction), and the map is
    :math:`I \\otimes I - \\delta (\\bar H \\otimes I + I \\otimes \\bar H)
    + \\delta^2\\, \\mathbb{E}[H_B \\otimes H_B]` (exact, no sampling). Introduced in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    hessians : array_like, shape (n, d, d)
        The per-example Hessians :math:`H_i`, symmetric and finite.
    step : float
        The step :math:`\\delta > 0`.
    batch : int
        The batch size :math:`B \\ge 1` (at most :math:`n` when ``replace=False``).
    replace : bool, keyword-only, default True
        Draw the batch with replacement (the course's model) or without.

    Returns
    -------
    numpy.ndarray, shape (d*d, d*d)

    Raises
    ------
    TypeError, ValueError
        If ``hessians`` is not a finite array of symmetric matrices of shape (n, d, d), ``step`` is not a positive
        finite number, ``batch`` is not an integer at least 1 (and at most n without replacement) or ``replace`` is
        not a bool.
    """
    H = _check_hessians(hessians)
    d_step = positive_number(step, "step")
    with_replacement = _flag(replace, "replace")
    n, d, _ = H.shape
    B = integer_at_least(batch, "batch", 1, None if with_replacement else n)
    factor = 1.0 / B if with_replacement else (n - B) / (B * (n - 1)) if n > 1 else 0.0
    eye = np.eye(d)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below, not warned about
        mean = H.mean(axis=0)  # the sum of huge Hessians may overflow (found by tests/test_fuzz.py's hypothesis run)
        second = np.einsum("iab,icd->acbd", H, H).reshape(d * d, d * d) / n  # (1/n) Σ H_i ⊗ H_i
        kron_mean = np.kron(mean, mean)
        expected = kron_mean + factor * (second - kron_mean)
        M = np.kron(eye, eye) - d_step * (np.kron(mean, eye) + np.kron(eye, mean)) + (d_step * d_step) * expected
    if not np.all(np.isfinite(M)):
        raise ValueError("step and hessians are too large together: step**2 * hessians**2 overflows float64")
    return M


def sgd_mean_square_radius(hessians: ArrayLike, step: float, batch: int, *, replace: bool = True) -> float:
    """The spectral radius of the second-moment map of mini-batch SGD (:func:`sgd_second_moment_map`).

    Mini-batch SGD on the quadratic model with per-example Hessians :math:`H_i` (batches of :math:`B` examples drawn
    uniformly with replacement, or without when ``replace=False``) is linearly stable in mean square if this radius
    is below 1, and only if it is at most 1 (Wu, Ma & E 2018). With replacement, in one dimension, it is
    :math:`(1 - \\delta a)^2 + \\delta^2 s^2 / B`, with :math:`a` the mean and :math:`s^2` the variance
    (``ddof=0``) of the per-example curvatures; so it needs both :math:`a \\le 2/\\delta` (the full-batch condition)
    and :math:`s \\le \\sqrt{B}/\\delta` (the non-uniformity condition). Without replacement :math:`1/B` becomes
    :math:`(n - B)/(B(n - 1))`. The radius bounds the second moment, not the typical run: for that see
    :func:`sgd_lyapunov_exponent`. Introduced in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    hessians : array_like, shape (n, d, d)
        The per-example Hessians, symmetric and finite.
    step : float
        The step :math:`\\delta > 0`.
    batch : int
        The batch size :math:`B \\ge 1` (at most :math:`n` when ``replace=False``).
    replace : bool, keyword-only, default True
        Draw the batch with replacement (the course's model) or without.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        As :func:`sgd_second_moment_map`.
    """
    M = sgd_second_moment_map(hessians, step, batch, replace=replace)
    with np.errstate(over="ignore", invalid="ignore"):
        radius = float(np.max(np.abs(np.linalg.eigvals(M))))
    if not math.isfinite(radius):
        raise ValueError("step and hessians are too large together: the radius overflows float64")
    return radius


def sgd_lyapunov_exponent(
    hessians: ArrayLike, step: float, batch: int, *, n_steps: int = 5000, n_chains: int = 64, seed: int = 0
) -> tuple[float, float]:
    """The top Lyapunov exponent of mini-batch SGD on the quadratic model, batches drawn with replacement,
    estimated by simulation, with its standard error.

    The error :math:`e_k = x_k - x^*` of SGD on the model of :func:`sgd_second_moment_map` is the random product
    :math:`e_T = (I - \\delta H_{B_T}) \\cdots (I - \\delta H_{B_1}) e_0`, with independent batches :math:`B_k` of
    :math:`B` indices drawn uniformly with replacement. Its top Lyapunov exponent

    .. math:: \\gamma = \\lim_{T \\to \\infty} \\tfrac1T \\log \\|e_T\\|

    is the same number for almost every run and almost every start (Furstenberg and Kesten): if
    :math:`\\gamma < 0` almost every run returns to :math:`x^*`, if :math:`\\gamma > 0` almost every run leaves. By
    Jensen's inequality :math:`\\gamma \\le \\tfrac12 \\log \\rho`, with :math:`\\rho` the mean-square radius
    (:func:`sgd_mean_square_radius`); the converse fails, so a run can return where the second moment grows. In one
    dimension :math:`\\gamma = \\mathbb{E}\\log|1 - \\delta h_B|` exactly.

    The estimate runs ``n_chains`` independent products of ``n_steps`` factors from random unit vectors, rescaling
    the vector to unit length after each factor and summing the logarithms of the norms (no overflow, no underflow);
    the chains' estimates are independent, so their spread gives the standard error. A factor that maps a chain's
    vector to 0 exactly makes the exponent :math:`-\\infty` (returned with error 0). The starts pass through
    :func:`lecturelib.perturbation.perturb_start`. Introduced in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    hessians : array_like, shape (n, d, d)
        The per-example Hessians, symmetric and finite.
    step : float
        The step :math:`\\delta > 0`.
    batch : int
        The batch size :math:`B \\ge 1`.
    n_steps : int, keyword-only, default 5000
        Factors per chain, at least 1.
    n_chains : int, keyword-only, default 64
        Independent chains, at least 2.
    seed : int, keyword-only, default 0
        Seed of ``numpy.random.default_rng`` for the starts and the batches.

    Returns
    -------
    tuple of float
        ``(exponent, error)``: the mean over the chains of :math:`\\tfrac1T \\log(\\|e_T\\| / \\|e_0\\|)`, and its
        standard error (the standard deviation of the chains' estimates over the square root of their number). The
        estimate of one chain has a bias of order :math:`1/T` from its start (the
        direction of :math:`e_0`), far below ``error`` for the default sizes.

    Raises
    ------
    TypeError, ValueError
        If ``hessians``, ``step`` or ``batch`` are refused as by :func:`sgd_second_moment_map`, if a count or the
        seed is not an integer in its range, or if ``step`` and ``hessians`` are so large together that one factor
        overflows float64.

    Examples
    --------
    >>> import numpy as np
    >>> from lecturelib import optimizers
    >>> h = np.array([0.5] * 9 + [5.5])[:, None, None]
    >>> exponent, error = optimizers.sgd_lyapunov_exponent(h, 1.0, 2, n_steps=2000, seed=1)
    >>> bool(exponent + 5 * error < 0 < optimizers.sgd_mean_square_radius(h, 1.0, 2) - 1)
    True
    """
    H = _check_hessians(hessians)
    d_step = positive_number(step, "step")
    B = integer_at_least(batch, "batch", 1)
    T = integer_at_least(n_steps, "n_steps", 1, MAX_ITERATIONS)
    C = integer_at_least(n_chains, "n_chains", 2, MAX_ELEMENTS)
    rng = np.random.default_rng(integer_at_least(seed, "seed", 0))
    n, d, _ = H.shape
    within_budget(C * B * d * d, "n_chains, batch and the size of the Hessians together")
    within_budget(T * C, "n_steps and n_chains together", MAX_ITERATIONS * 100)
    start = rng.standard_normal((C, d))
    v = perturb_start(start / np.linalg.norm(start, axis=1, keepdims=True))
    logs = np.zeros(C)
    with np.errstate(all="ignore"):  # an overflow or an exact zero is decided below, not warned about
        for _ in range(T):
            batch_hessians = H[rng.integers(0, n, size=(C, B))].mean(axis=1)
            v = v - d_step * np.einsum("cij,cj->ci", batch_hessians, v)
            norms = np.linalg.norm(v, axis=1)
            if not np.all(np.isfinite(norms)):
                raise ValueError(
                    "step and hessians are too large together: one factor I - step * H_B overflows float64"
                )
            if np.any(norms == 0.0):
                return -math.inf, 0.0
            logs += np.log(norms)
            v = v / norms[:, None]
    per_chain = logs / T
    return float(per_chain.mean()), float(per_chain.std(ddof=1) / math.sqrt(C))


# -- optimizers --------------------------------------------------------------------------------------------------


class _Optimizer(Generic[State]):
    """Shared by the optimizers: the warmup schedule and the protocol's defaults."""

    adaptive: bool = False  # True for a method with a diagonal preconditioner (Adam)

    def __init__(self, warmup: int = 0) -> None:
        self.warmup = integer_at_least(warmup, "warmup", 0)

    def step_at(self, k: int, step: float) -> float:
        """The step used at iteration ``k``: :math:`\\delta \\min(1, (k + 1)/W)`, or :math:`\\delta` if W = 0."""
        if self.warmup == 0:
            return step
        return step * min(1.0, (k + 1) / self.warmup)

    def preconditioner(self, state: State) -> FloatArray | None:
        return None

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in vars(self).items() if not key.startswith("_"))
        return f"{type(self).__name__}({fields})"


class GD(_Optimizer[None]):
    """Plain gradient descent :math:`x^+ = x - \\delta_k \\nabla \\mathcal{L}(x)` (with an optional warmup).

    Introduced in :ref:`ch-beyond_gd`.
    """

    def init(self, theta: FloatArray) -> None:
        return None

    def update(self, k: int, theta: FloatArray, grad: Gradient, step: float, state: None) -> tuple[FloatArray, None]:
        return theta - self.step_at(k, step) * grad(theta), state


class HeavyBall(_Optimizer[FloatArray]):
    """Heavy-ball (Polyak) momentum :math:`x^+ = x - \\delta_k \\nabla \\mathcal{L}(x) + \\beta (x - x^-)`, starting
    with :math:`x^- = x_0`. Introduced in :ref:`ch-beyond_gd`.

    Parameters
    ----------
    beta : float
        The momentum, in :math:`[0, 1)`.
    warmup : int, default 0
        Linear warmup length (see the module docstring).
    """

    def __init__(self, beta: float, *, warmup: int = 0) -> None:
        super().__init__(warmup)
        self.beta = probability(beta, "beta")

    def init(self, theta: FloatArray) -> FloatArray:
        return np.array(theta, dtype=np.float64)

    def update(
        self, k: int, theta: FloatArray, grad: Gradient, step: float, state: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        new = theta - self.step_at(k, step) * grad(theta) + self.beta * (theta - state)
        return new, theta


class Nesterov(_Optimizer[FloatArray]):
    """Nesterov's method :math:`x_{k+1} = y_k - \\delta_k \\nabla \\mathcal{L}(y_k)`,
    :math:`y_{k+1} = x_{k+1} + \\beta(x_{k+1} - x_k)`, with :math:`y_0 = x_0`. Introduced in :ref:`ch-beyond_gd`.

    The iterate that :func:`lecturelib.curvature.track_sharpness` sees (and where it measures loss and sharpness)
    is :math:`y_k`, the point where the gradient is taken; the state is :math:`x_k`.

    Parameters
    ----------
    beta : float
        The momentum, in :math:`[0, 1)`.
    warmup : int, default 0
        Linear warmup length (see the module docstring).
    """

    def __init__(self, beta: float, *, warmup: int = 0) -> None:
        super().__init__(warmup)
        self.beta = probability(beta, "beta")

    def init(self, theta: FloatArray) -> FloatArray:
        return np.array(theta, dtype=np.float64)

    def update(
        self, k: int, theta: FloatArray, grad: Gradient, step: float, state: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        x_new = theta - self.step_at(k, step) * grad(theta)
        return x_new + self.beta * (x_new - state), x_new


class Adam(_Optimizer[tuple[FloatArray, FloatArray, int]]):
    """Adam with bias correction: :math:`m^+ = \\beta_1 m + (1 - \\beta_1) g`, :math:`v^+ = \\beta_2 v + (1 - \\beta_2)
    g^2`, :math:`x^+ = x - \\delta_k\\, \\hat m / (\\sqrt{\\hat v} + \\epsilon)` with
    :math:`\\hat m = m^+/(1 - \\beta_1^{t})`, :math:`\\hat v = v^+/(1 - \\beta_2^{t})` after :math:`t` steps.
    Introduced in :ref:`ch-beyond_gd`.

    Its preconditioner after a step is the diagonal :math:`P = \\sqrt{\\hat v} + \\epsilon` that step used, so the
    next step is :math:`x^+ = x - \\delta P^{-1} \\hat m^+` up to the change of :math:`P`; before the first step it
    has none.

    Parameters
    ----------
    beta1, beta2 : float, default 0.9, 0.999
        The decay rates of the first and second moments, in :math:`[0, 1)`.
    eps : float, default 1e-8
        :math:`\\epsilon > 0`.
    warmup : int, default 0
        Linear warmup length (see the module docstring).
    """

    adaptive = True

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, *, warmup: int = 0) -> None:
        super().__init__(warmup)
        self.beta1 = probability(beta1, "beta1")
        self.beta2 = probability(beta2, "beta2")
        self.eps = positive_number(eps, "eps")

    def init(self, theta: FloatArray) -> tuple[FloatArray, FloatArray, int]:
        zeros = np.zeros(np.shape(theta))
        return zeros, zeros.copy(), 0

    def update(
        self, k: int, theta: FloatArray, grad: Gradient, step: float, state: tuple[FloatArray, FloatArray, int]
    ) -> tuple[FloatArray, tuple[FloatArray, FloatArray, int]]:
        m, v, t = state
        g = grad(theta)
        b1, b2 = self.beta1, self.beta2
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        t += 1
        p = np.sqrt(v / (1.0 - b2**t)) + self.eps
        new = theta - (self.step_at(k, step) / (1.0 - b1**t)) * m / p
        return new, (m, v, t)

    def preconditioner(self, state: tuple[FloatArray, FloatArray, int]) -> FloatArray | None:
        _m, v, t = state
        if t == 0:
            return None
        return np.sqrt(v / (1.0 - self.beta2**t)) + self.eps


class MiniBatchSGD(_Optimizer[np.random.Generator]):
    """Mini-batch SGD :math:`x^+ = x - \\delta_k \\nabla \\mathcal{L}_{B_k}(x)`, with :math:`B_k` a batch of ``batch``
    example indices drawn uniformly with replacement from ``range(n_examples)``. Introduced in :ref:`ch-beyond_gd`.

    The full-batch ``grad`` that :func:`lecturelib.curvature.track_sharpness` passes is used only to measure the
    sharpness; the steps use ``batch_grad``.

    Parameters
    ----------
    batch_grad : callable
        ``batch_grad(theta, indices)``: the gradient of the mean loss over the examples ``indices`` (an int array,
        possibly with repeats).
    n_examples : int
        The number of examples, at least 1.
    batch : int
        The batch size, at least 1.
    seed : int
        Seed of ``numpy.random.default_rng`` for the batches; its ``init`` restarts it, so a run is reproducible.
    warmup : int, default 0
        Linear warmup length (see the module docstring).
    """

    def __init__(
        self,
        batch_grad: Callable[[np.ndarray, np.ndarray], np.ndarray],
        n_examples: int,
        batch: int,
        seed: int,
        *,
        warmup: int = 0,
    ) -> None:
        super().__init__(warmup)
        function(batch_grad, "batch_grad", "(theta, indices) -> gradient")
        self.batch_grad = batch_grad
        self.n_examples = integer_at_least(n_examples, "n_examples", 1)
        self.batch = integer_at_least(batch, "batch", 1)
        self.seed = integer_at_least(seed, "seed", 0)

    def init(self, theta: FloatArray) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def update(
        self, k: int, theta: FloatArray, grad: Gradient, step: float, state: np.random.Generator
    ) -> tuple[FloatArray, np.random.Generator]:
        indices = state.integers(0, self.n_examples, size=self.batch)
        g = np.asarray(self.batch_grad(theta, indices), dtype=np.float64)
        return theta - self.step_at(k, step) * g, state
