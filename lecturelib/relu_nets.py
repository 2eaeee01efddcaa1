"""Two-layer ReLU networks trained by full-batch gradient descent, Theorem 4 and the long-run behaviour of the iterates.

Introduced in :ref:`ch-relu_networks`.

The network is :math:`\\hat f(x) = W\\, g(Vx - b)` with :math:`g` the ReLU applied entrywise, :math:`W \\in
\\mathbb{R}^{m\\times r}`, :math:`V \\in \\mathbb{R}^{r\\times n}` and a bias :math:`b \\in \\mathbb{R}^r` that is
fixed (never trained). Data are the rows of ``X`` (shape ``(N, n)``) and ``Y`` (shape ``(N, m)``), and the loss is

.. math:: \\mathcal{L}(W, V) = \\tfrac12 \\sum_{i=1}^N \\lVert W g(Vx_i - b) - y_i \\rVert_2^2 .

The parameter vector :math:`\\theta` used throughout is ``concatenate([W.ravel(), V.ravel()])``. The derivative of
the ReLU at 0 is taken to be 0 everywhere in this module.

Training runs in one compiled loop (numba): the forward pass, the exact float64 gradient and the update are fused
over the samples, which is what makes the chapter's sweep over step sizes and seeds affordable. A run whose loss
becomes non-finite or exceeds :data:`DIVERGENCE_LOSS` stops there and is reported as diverged; no overflow warning
is emitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
from numpy.typing import ArrayLike

from lecturelib._checks import (
    MAX_ELEMENTS,
    MAX_ITERATIONS,
    FloatArray,
    finite_result,
    function,
    instance_of,
    integer_array,
    integer_at_least,
    positive_array,
    positive_number,
    power_of_two_scale,
    real_array,
    real_number,
)
from lecturelib.perturbation import perturb_start

__all__ = [
    "DIVERGED",
    "DIVERGENCE_LOSS",
    "DRIFTING",
    "FIXED_POINT",
    "LONGER",
    "PERIOD_2",
    "PERIOD_4",
    "RUN_CLASSES",
    "SweepResult",
    "Trajectory",
    "TwoLayerReLU",
    "classify_tail",
    "figure2_problem",
    "gradients",
    "hessian",
    "jacobian",
    "loss",
    "move_cosine",
    "predict",
    "random_net",
    "sweep",
    "theorem4_bound",
    "theorem4_lhs",
    "train",
    "train_trajectory",
]

#: A class of :func:`classify_tail`: no iterate of the window moves (a fixed point).
FIXED_POINT = "fixed point"
#: A class of :func:`classify_tail`: every other iterate returns to the same point.
PERIOD_2 = "period 2"
#: A class of :func:`classify_tail`: every fourth iterate returns to the same point.
PERIOD_4 = "period 4"
#: A class of :func:`classify_tail`: the iterates move back and forth without repeating with period 1, 2 or 4.
LONGER = "longer or chaotic"
#: A class of :func:`classify_tail`: the iterates move in a consistent direction (slow convergence or drift).
DRIFTING = "still drifting"
#: A class of :func:`classify_tail`: an entry of the window is not finite.
DIVERGED = "diverged"
#: The classes :func:`classify_tail` can return, in the order figures list them.
RUN_CLASSES = (FIXED_POINT, PERIOD_2, PERIOD_4, LONGER, DRIFTING, DIVERGED)
#: A run whose loss exceeds this value (or becomes non-finite) is stopped and counted as diverged.
DIVERGENCE_LOSS = 1e100


# ----------------------------------------------------------------------------------------------------------------
# The network and its validation
# ----------------------------------------------------------------------------------------------------------------


def _float_array(value: object, name: str, ndim: int) -> FloatArray:
    """``value`` as a read-only finite floating-point array (C order) with ``ndim`` dimensions, or raise."""
    out = np.array(real_array(value, name, ndim=ndim, allow_empty=False, integers=False), order="C")
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class TwoLayerReLU:
    """The network :math:`\\hat f(x) = W\\, g(Vx - b)`, :math:`g` = ReLU, with a fixed bias :math:`b`.

    The arrays are copied to read-only float64 arrays.

    Introduced in :ref:`ch-relu_networks`.

    Parameters
    ----------
    W : numpy.ndarray
        Output weights, shape ``(m, r)``, floating point and finite.
    V : numpy.ndarray
        Input weights, shape ``(r, n)``, floating point and finite.
    b : numpy.ndarray
        Fixed bias, shape ``(r,)``, floating point and finite. Training never changes it.

    Raises
    ------
    TypeError
        If an array is not floating point.
    ValueError
        If an array has the wrong number of dimensions, the shapes disagree, or a value is not finite.
    """

    W: FloatArray
    V: FloatArray
    b: FloatArray = field(repr=False)

    def __post_init__(self) -> None:
        W = _float_array(self.W, "W", 2)
        V = _float_array(self.V, "V", 2)
        b = _float_array(self.b, "b", 1)
        if W.shape[1] != V.shape[0]:
            raise ValueError(
                f"W has shape {W.shape} and V has shape {V.shape}: W must be (m, r) and V (r, n) with the same r"
            )
        if b.shape[0] != V.shape[0]:
            raise ValueError(f"b must have shape ({V.shape[0]},) to match r = {V.shape[0]} rows of V, got {b.shape}")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "V", V)
        object.__setattr__(self, "b", b)

    @property
    def m(self) -> int:
        """Output dimension."""
        return self.W.shape[0]

    @property
    def r(self) -> int:
        """Number of hidden units."""
        return self.V.shape[0]

    @property
    def n(self) -> int:
        """Input dimension."""
        return self.V.shape[1]

    @property
    def theta(self) -> FloatArray:
        """The trained parameters as one vector, ``concatenate([W.ravel(), V.ravel()])``."""
        return np.concatenate([self.W.ravel(), self.V.ravel()])

    def with_theta(self, theta: ArrayLike) -> TwoLayerReLU:
        """Return the network with parameters ``theta`` (same layout as :attr:`theta`) and the same bias."""
        theta = real_array(theta, "theta")
        size = self.m * self.r + self.r * self.n
        if theta.shape != (size,):
            raise ValueError(f"theta must have shape ({size},), got {theta.shape}")
        k = self.m * self.r
        return TwoLayerReLU(theta[:k].reshape(self.m, self.r), theta[k:].reshape(self.r, self.n), self.b)


def random_net(m: int, n: int, r: int, seed: int) -> TwoLayerReLU:
    """Draw a network with W, V and b from independent standard normal distributions.

    Parameters
    ----------
    m, n, r : int
        Output dimension, input dimension and number of hidden units (all positive).
    seed : int
        Seed of ``numpy.random.default_rng``; b, then W, then V are drawn from it.

    Returns
    -------
    TwoLayerReLU

    Used by :func:`figure2_problem` (:ref:`ch-relu_networks`) and in :ref:`hw-networks`.
    """
    m, n, r = (integer_at_least(value, name, 1, MAX_ELEMENTS) for name, value in (("m", m), ("n", n), ("r", r)))
    if r * (m + n + 1) > MAX_ELEMENTS:
        raise ValueError(f"m, n and r ask for {r * (m + n + 1)} weights, more than {MAX_ELEMENTS}")
    rng = np.random.default_rng(integer_at_least(seed, "seed", 0))
    b = rng.standard_normal(r)
    W = rng.standard_normal((m, r))
    V = rng.standard_normal((r, n))
    return TwoLayerReLU(W, V, b)


def figure2_problem(
    seed: int, *, n_points: int = 1000, hidden: int = 20
) -> tuple[TwoLayerReLU, TwoLayerReLU, np.ndarray, np.ndarray]:
    """The setting of the paper's Figure 2: initial network, target network and data.

    The inputs are :math:`x_i = i/N`, :math:`i = 1, \\dots, N`, on :math:`[0, 1]` (``n = m = 1``). The initial network
    is :func:`random_net` ``(1, 1, hidden, seed)``. The target :math:`f` has the same architecture and the same fixed
    bias :math:`b`, with its own W and V drawn from ``default_rng(seed + 10_000)``, so :math:`f` is exactly
    representable by the trained network.

    Parameters
    ----------
    seed : int
        Seed of the initialization (the target uses ``seed + 10_000``).
    n_points : int, default 1000
        Number of data points N.
    hidden : int, default 20
        Number of hidden units r.

    Returns
    -------
    net0, target : TwoLayerReLU
        Initial network and target network.
    X, Y : numpy.ndarray
        Inputs, shape ``(N, 1)``, and targets ``predict(target, X)``, shape ``(N, 1)``.

    Introduced in :ref:`ch-relu_networks`.
    """
    seed = integer_at_least(seed, "seed", 0)
    n_points = integer_at_least(n_points, "n_points", 1, MAX_ELEMENTS)
    hidden = integer_at_least(hidden, "hidden", 1, MAX_ELEMENTS // 4)
    net0 = random_net(1, 1, hidden, seed)
    rng = np.random.default_rng(seed + 10_000)
    target = TwoLayerReLU(rng.standard_normal((1, hidden)), rng.standard_normal((hidden, 1)), net0.b)
    X = (np.arange(1, n_points + 1, dtype=float) / n_points)[:, None]
    return net0, target, X, predict(target, X)


def _check_net(net: object) -> TwoLayerReLU:
    return instance_of(net, "net", TwoLayerReLU)


def _check_X(net: TwoLayerReLU, X: object) -> FloatArray:
    X = _float_array(X, "X", 2)
    if X.shape[1] != net.n:
        raise ValueError(f"X must have shape (N, {net.n}) for a network with n = {net.n} inputs, got {X.shape}")
    return X


def _check_Y(net: TwoLayerReLU, X: FloatArray, Y: object) -> FloatArray:
    Y = _float_array(Y, "Y", 2)
    if Y.shape != (X.shape[0], net.m):
        raise ValueError(
            f"Y must have shape {(X.shape[0], net.m)} (one row per row of X, m = {net.m} outputs), got {Y.shape}"
        )
    return Y


# ----------------------------------------------------------------------------------------------------------------
# Forward pass, loss and exact derivatives (vectorized numpy)
# ----------------------------------------------------------------------------------------------------------------


def _finite(value: FloatArray, what: str) -> FloatArray:
    """``value`` if every entry is finite, else a ValueError: huge (finite) inputs overflowed float64."""
    return finite_result(
        value,
        f"net, X (and Y) are too large: {what} overflow float64 (beyond about 1.8e308); scale the data or the "
        "weights down",
    )


def _row_norms(A: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows of ``A``, without overflow of the squares (``A`` divided by a power of two)."""
    c = power_of_two_scale(A)
    with np.errstate(over="ignore"):
        return np.linalg.norm(A / c, axis=1) * c


def predict(net: TwoLayerReLU, X: ArrayLike) -> FloatArray:
    """Evaluate :math:`\\hat f(x_i) = W g(Vx_i - b)` at every row of ``X``.

    Parameters
    ----------
    net : TwoLayerReLU
    X : numpy.ndarray
        Inputs, shape ``(N, n)``.

    Returns
    -------
    numpy.ndarray
        Outputs, shape ``(N, m)``.

    Raises
    ------
    ValueError
        If the outputs overflow float64 (huge but finite weights or inputs).

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    with np.errstate(all="ignore"):
        return _finite(np.maximum(X @ net.V.T - net.b, 0.0) @ net.W.T, "the network's outputs")


def loss(net: TwoLayerReLU, X: ArrayLike, Y: ArrayLike) -> float:
    """The training loss :math:`\\tfrac12 \\sum_i \\lVert \\hat f(x_i) - y_i \\rVert_2^2`.

    A ValueError if the outputs or the loss overflow float64 (huge but finite weights, inputs or targets).

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    Y = _check_Y(net, X, Y)
    with np.errstate(all="ignore"):
        return float(_finite(np.asarray(0.5 * np.sum((predict(net, X) - Y) ** 2)), "the loss"))


def gradients(net: TwoLayerReLU, X: ArrayLike, Y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Exact gradient of the loss with respect to W and V.

    With :math:`z_i = Vx_i - b`, :math:`a_i = g(z_i)` and residual :math:`\\rho_i = W a_i - y_i`,

    .. math:: \\nabla_W L = \\sum_i \\rho_i a_i^\\top, \\qquad
              \\nabla_V L = \\sum_i \\big((W^\\top \\rho_i) \\odot \\mathbb{1}[z_i > 0]\\big) x_i^\\top .

    Returns
    -------
    grad_W, grad_V : numpy.ndarray
        Shapes ``(m, r)`` and ``(r, n)``.

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    Y = _check_Y(net, X, Y)
    with np.errstate(all="ignore"):
        Z = X @ net.V.T - net.b
        A = np.maximum(Z, 0.0)
        R = A @ net.W.T - Y
        return _finite(R.T @ A, "the gradients"), _finite(((R @ net.W) * (Z > 0)).T @ X, "the gradients")


def jacobian(net: TwoLayerReLU, X: ArrayLike) -> FloatArray:
    """Per-sample Jacobians of the network output with respect to :math:`\\theta`.

    Returns
    -------
    numpy.ndarray
        Shape ``(N, m, P)`` with ``P = m r + r n``: entry ``[i, l, :]`` is :math:`\\nabla_\\theta \\hat f_l(x_i)`
        in the layout of :attr:`TwoLayerReLU.theta`.

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    N, m, r, n = X.shape[0], net.m, net.r, net.n
    with np.errstate(all="ignore"):
        Z = X @ net.V.T - net.b
        A = _finite(np.maximum(Z, 0.0), "the hidden activations")
    J = np.zeros((N, m, m * r + r * n))
    # d f_l / d W_{l'j} = [l = l'] a_j
    JW = J[:, :, : m * r].reshape(N, m, m, r)
    JW[:, np.arange(m), np.arange(m), :] = A[:, None, :]
    # d f_l / d V_{jk} = W_{lj} [z_j > 0] x_k
    active = (Z > 0).astype(float)
    with np.errstate(all="ignore"):
        J[:, :, m * r :] = (net.W[None, :, :, None] * active[:, None, :, None] * X[:, None, None, :]).reshape(
            N, m, r * n
        )
    return _finite(J, "the Jacobians")


def hessian(net: TwoLayerReLU, X: ArrayLike, Y: ArrayLike) -> FloatArray:
    """Exact Hessian of the loss with respect to :math:`\\theta` (away from the ReLU kinks).

    .. math:: \\nabla^2 \\mathcal{L} = \\sum_i J_i^\\top J_i + \\sum_i \\sum_l \\rho_{il} \\nabla^2 \\hat f_l(x_i),

    where :math:`J_i` is the Jacobian of :func:`jacobian` and the only non-zero second derivatives of the network
    are :math:`\\partial^2 \\hat f_l / \\partial W_{lj} \\partial V_{jk} = \\mathbb{1}[z_{ij} > 0]\\, x_{ik}`.
    At a zero-residual point the second sum vanishes.

    Returns
    -------
    numpy.ndarray
        Shape ``(P, P)``, symmetric.

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    Y = _check_Y(net, X, Y)
    m, r, n = net.m, net.r, net.n
    J = jacobian(net, X)
    with np.errstate(all="ignore"):
        H = np.einsum("ilp,ilq->pq", J, J)
        Z = X @ net.V.T - net.b
        R = np.maximum(Z, 0.0) @ net.W.T - Y
        # cross block: d^2 L / dW_{lj} dV_{jk} = sum_i R_il [z_ij > 0] x_ik
        C = np.einsum("il,ij,ik->ljk", R, (Z > 0).astype(float), X)
        blocks = np.zeros((m, r, r, n))
        blocks[:, np.arange(r), np.arange(r), :] = C
        cross = blocks.reshape(m * r, r * n)
        H[: m * r, m * r :] += cross
        H[m * r :, : m * r] += cross.T
    return _finite(H, "the Hessian's entries")


# ----------------------------------------------------------------------------------------------------------------
# Theorem 4
# ----------------------------------------------------------------------------------------------------------------


def theorem4_bound(step: float) -> float:
    """The right-hand side of Theorem 4, :math:`1/\\delta`.

    If gradient descent with step :math:`\\delta` from a random initialization converges to a network
    :math:`\\hat f`, then almost surely :math:`\\max_i \\lVert x_i \\rVert_2 \\lVert \\hat f(x_i) \\rVert_2 \\le
    1/\\delta` (Nar and Sastry, 2018, Theorem 4; loss with the factor :math:`\\tfrac12`).

    Introduced in :ref:`ch-relu_networks`.
    """
    return 1.0 / positive_number(step, "step")


def theorem4_lhs(net: TwoLayerReLU, X: ArrayLike) -> float:
    """The left-hand side of Theorem 4, :math:`\\max_i \\lVert x_i \\rVert_2 \\lVert \\hat f(x_i) \\rVert_2`.

    The norms are taken without overflow of the squares; a ValueError if the outputs or the value itself exceed the
    float64 range.

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    with np.errstate(over="ignore"):
        value = float(np.max(_row_norms(X) * _row_norms(predict(net, X))))
    return float(_finite(np.array(value), "the products of norms"))


# ----------------------------------------------------------------------------------------------------------------
# Training: one fused compiled loop
# ----------------------------------------------------------------------------------------------------------------


@numba.njit(cache=False, fastmath=False)
def _gd_kernel(
    W: FloatArray,
    V: FloatArray,
    b: FloatArray,
    X: FloatArray,
    Y: FloatArray,
    step: float,
    n_steps: int,
    tail: FloatArray,
    losses: FloatArray,
    moves: FloatArray,
    divergence_loss: float,
) -> int:  # pragma: no cover - compiled
    """Run ``n_steps`` of GD in place on W, V. Returns the number of steps taken (< n_steps if diverged).

    ``losses[k]`` receives L(theta_k) and ``moves[k]`` receives |theta_{k+1} - theta_k| for the steps taken (either
    array may have length 0 to skip it); ``tail`` (K, P) receives the last K iterates
    theta_{n_steps-K+1}, ..., theta_{n_steps} (rows of iterates that were never reached stay NaN).
    """
    N, n = X.shape
    m, r = W.shape
    K = tail.shape[0]
    gW = np.empty((m, r))
    gV = np.empty((r, n))
    a = np.empty(r)
    res = np.empty(m)
    for k in range(n_steps):
        gW[:, :] = 0.0
        gV[:, :] = 0.0
        total = 0.0
        for i in range(N):
            for j in range(r):
                z = -b[j]
                for q in range(n):
                    z += V[j, q] * X[i, q]
                a[j] = z if z > 0.0 else 0.0
            for l in range(m):
                s = -Y[i, l]
                for j in range(r):
                    s += W[l, j] * a[j]
                res[l] = s
                total += s * s
            for l in range(m):
                rl = res[l]
                for j in range(r):
                    gW[l, j] += rl * a[j]
            for j in range(r):
                if a[j] > 0.0:
                    d = 0.0
                    for l in range(m):
                        d += res[l] * W[l, j]
                    for q in range(n):
                        gV[j, q] += d * X[i, q]
        total *= 0.5
        if losses.shape[0] > 0:
            losses[k] = total
        if not (total <= divergence_loss):  # also catches NaN
            return k
        if moves.shape[0] > 0:
            g2 = 0.0
            for l in range(m):
                for j in range(r):
                    g2 += gW[l, j] * gW[l, j]
            for j in range(r):
                for q in range(n):
                    g2 += gV[j, q] * gV[j, q]
            moves[k] = step * np.sqrt(g2)
        for l in range(m):
            for j in range(r):
                W[l, j] -= step * gW[l, j]
        for j in range(r):
            for q in range(n):
                V[j, q] -= step * gV[j, q]
        row = k + 1 - (n_steps - K + 1)
        if row >= 0:
            p = 0
            for l in range(m):
                for j in range(r):
                    tail[row, p] = W[l, j]
                    p += 1
            for j in range(r):
                for q in range(n):
                    tail[row, p] = V[j, q]
                    p += 1
    return n_steps


@numba.njit(cache=False, fastmath=False)
def _gd_kernel_scalar(
    w: FloatArray,
    v: FloatArray,
    b: FloatArray,
    x: FloatArray,
    y: FloatArray,
    step: float,
    n_steps: int,
    tail: FloatArray,
    losses: FloatArray,
    moves: FloatArray,
    divergence_loss: float,
) -> int:  # pragma: no cover - compiled
    """The same loop as :func:`_gd_kernel` specialised to m = n = 1 (w, v, b of length r; x, y of length N)."""
    N = x.shape[0]
    r = w.shape[0]
    K = tail.shape[0]
    gw = np.empty(r)
    gv = np.empty(r)
    for k in range(n_steps):
        gw[:] = 0.0
        gv[:] = 0.0
        total = 0.0
        for i in range(N):
            xi = x[i]
            s = -y[i]
            for j in range(r):
                z = v[j] * xi - b[j]
                if z > 0.0:
                    s += w[j] * z
            total += s * s
            for j in range(r):
                z = v[j] * xi - b[j]
                if z > 0.0:
                    gw[j] += s * z
                    gv[j] += s * w[j] * xi
        total *= 0.5
        if losses.shape[0] > 0:
            losses[k] = total
        if not (total <= divergence_loss):  # also catches NaN
            return k
        if moves.shape[0] > 0:
            g2 = 0.0
            for j in range(r):
                g2 += gw[j] * gw[j] + gv[j] * gv[j]
            moves[k] = step * np.sqrt(g2)
        for j in range(r):
            w[j] -= step * gw[j]
            v[j] -= step * gv[j]
        row = k + 1 - (n_steps - K + 1)
        if row >= 0:
            for j in range(r):
                tail[row, j] = w[j]
                tail[row, r + j] = v[j]
    return n_steps


def _run(
    net: TwoLayerReLU,
    X: FloatArray,
    Y: FloatArray,
    step: float,
    n_steps: int,
    record_last: int,
    record_losses: bool,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, int]:
    W = np.array(net.W, dtype=np.float64, order="C")
    V = np.array(net.V, dtype=np.float64, order="C")
    with np.errstate(all="ignore"):  # the rounding harness (lecturelib.perturbation); unset, W and V themselves
        W = np.ascontiguousarray(perturb_start(W))
        V = np.ascontiguousarray(perturb_start(V))
    tail = np.full((record_last, W.size + V.size), np.nan)
    losses = np.full(n_steps if record_losses else 0, np.nan)
    moves = np.full(n_steps if record_losses else 0, np.nan)
    if net.m == 1 and net.n == 1:
        # the paper's setting: a loop without the inner loops of length one is about twice as fast
        w, v = W.reshape(-1), V.reshape(-1)  # views: the kernel updates W and V in place
        taken = _gd_kernel_scalar(
            w, v, net.b, X[:, 0].copy(), Y[:, 0].copy(), step, n_steps, tail, losses, moves, DIVERGENCE_LOSS
        )
    else:
        taken = _gd_kernel(W, V, net.b, X, Y, step, n_steps, tail, losses, moves, DIVERGENCE_LOSS)
    return W, V, tail, losses, moves, int(taken)


def train(net: TwoLayerReLU, X: ArrayLike, Y: ArrayLike, step: float, n_steps: int) -> TwoLayerReLU:
    """Full-batch gradient descent on :math:`\\tfrac12 \\sum_i \\lVert \\hat f(x_i) - y_i \\rVert^2` over W and V.

    .. math:: W \\leftarrow W - \\delta \\nabla_W L, \\qquad V \\leftarrow V - \\delta \\nabla_V L,

    with the exact float64 gradients of :func:`gradients`; b is never changed.

    Parameters
    ----------
    net : TwoLayerReLU
        Initial network.
    X, Y : numpy.ndarray
        Inputs ``(N, n)`` and targets ``(N, m)``.
    step : float
        Step size :math:`\\delta > 0`.
    n_steps : int
        Number of iterations (0 returns the initial network).

    Returns
    -------
    TwoLayerReLU
        The network after ``n_steps`` iterations.

    Raises
    ------
    FloatingPointError
        If the loss becomes non-finite or exceeds :data:`DIVERGENCE_LOSS` (use :func:`train_trajectory` to get
        divergence as a result instead).

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    Y = _check_Y(net, X, Y)
    step = positive_number(step, "step")
    n_steps = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    W, V, _, _, _, taken = _run(net, X, Y, step, n_steps, 0, False)
    if taken < n_steps:
        raise FloatingPointError(
            f"gradient descent diverged at iteration {taken} with step {step}: the loss exceeded "
            f"{DIVERGENCE_LOSS:g} or became non-finite; use train_trajectory to get divergence as a result"
        )
    return TwoLayerReLU(W, V, net.b)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """The result of :func:`train_trajectory`.

    Attributes
    ----------
    net : TwoLayerReLU or None
        The final network (None if the run diverged).
    losses : numpy.ndarray
        ``losses[k]`` is the loss at iterate k, for k = 0, ..., n_steps (at the iterate where a run diverges, the
        loss that stopped it, possibly ``inf``; NaN after it).
    moves : numpy.ndarray
        ``moves[k]`` is
        :math:`\\lVert \\theta_{k+1} - \\theta_k \\rVert = \\delta \\lVert \\nabla \\mathcal{L}(\\theta_k) \\rVert`,
        for k = 0, ..., n_steps - 1 (NaN after a divergence).
    tail : numpy.ndarray
        The last ``record_last`` iterates :math:`\\theta_{n-K+1}, \\dots, \\theta_n` as rows (NaN if diverged).
    diverged : bool
        Whether the loss became non-finite or exceeded :data:`DIVERGENCE_LOSS`.
    step : float
        The step size used.
    label : str
        The class of the run, from :func:`classify_tail` (one of :data:`RUN_CLASSES`).
    """

    net: TwoLayerReLU | None
    losses: np.ndarray
    moves: np.ndarray
    tail: np.ndarray
    diverged: bool
    step: float
    label: str


def train_trajectory(
    net: TwoLayerReLU, X: ArrayLike, Y: ArrayLike, step: float, n_steps: int, *, record_last: int = 256
) -> Trajectory:
    """Run :func:`train`, record the loss at every iterate and the last parameter vectors, and classify the run.

    Parameters
    ----------
    net, X, Y, step, n_steps
        As in :func:`train`; ``n_steps`` must be at least ``record_last``.
    record_last : int, default 256
        How many final iterates to keep for :func:`classify_tail` (at least 9).

    Returns
    -------
    Trajectory

    Introduced in :ref:`ch-relu_networks`.
    """
    net = _check_net(net)
    X = _check_X(net, X)
    Y = _check_Y(net, X, Y)
    step = positive_number(step, "step")
    record_last = integer_at_least(record_last, "record_last", 9, MAX_ITERATIONS)
    n_steps = integer_at_least(n_steps, "n_steps", record_last, MAX_ITERATIONS)
    if record_last * (net.W.size + net.V.size) > MAX_ELEMENTS:
        raise ValueError(
            f"record_last = {record_last} iterates of {net.W.size + net.V.size} parameters exceed "
            f"{MAX_ELEMENTS} entries"
        )
    W, V, tail, losses, moves, taken = _run(net, X, Y, step, n_steps, record_last, True)
    diverged = taken < n_steps
    final_loss = np.nan
    if not diverged:
        try:  # the last update is not checked by the loop: its loss may still overflow
            final_loss = loss(TwoLayerReLU(W, V, net.b), X, Y)
        except ValueError:
            diverged = True
        diverged = diverged or not final_loss <= DIVERGENCE_LOSS
    if diverged:
        final = None
        losses = np.append(losses, np.nan)
        tail[:] = np.nan
    else:
        final = TwoLayerReLU(W, V, net.b)
        losses = np.append(losses, final_loss)
    return Trajectory(final, losses, moves, tail, diverged, step, classify_tail(tail))


# ----------------------------------------------------------------------------------------------------------------
# Classification of the long-run behaviour
# ----------------------------------------------------------------------------------------------------------------


def classify_tail(
    tail: ArrayLike,
    *,
    fixed_tol: float = 1e-8,
    period_tol: float = 1e-3,
    straightness: float = 0.9,
) -> str:
    """Classify the last iterates of a gradient-descent run.

    Let :math:`\\theta_1, \\dots, \\theta_K` be the rows of ``tail``, :math:`s = \\max_k \\lVert \\theta_{k+1} -
    \\theta_k \\rVert` the largest single move in the window and :math:`c = 1 + \\max_k \\lVert \\theta_k \\rVert`
    the size of the parameters. The tests are applied in this order:

    1. **diverged** if any entry is not finite;
    2. **fixed point** if :math:`s \\le` ``fixed_tol`` :math:`\\cdot c`: no iterate in the window moves by more
       than a hundred-millionth of the size of the parameters (at that speed, as many steps again as a 20001-step
       run changes :math:`\\theta` by at most 0.02 % of its size);
    3. **period 2** if :math:`\\max_k \\lVert \\theta_{k+2} - \\theta_k \\rVert \\le` ``period_tol`` :math:`\\cdot s`:
       every other iterate returns to the same point, to within a thousandth of the size of a single move (the
       centre of the orbit may still creep, a thousand times slower than the iterates jump);
    4. **period 4**, the same test with :math:`\\theta_{k+4}`;
    5. **still drifting** if the iterates sampled every fourth step move in a consistent direction: the distance
       from the first to the last sampled iterate is at least ``straightness`` times the length of the path
       through them (slow convergence to a fixed point or to a slowly moving orbit ends up here);
    6. **longer or chaotic** otherwise: the iterates keep moving back and forth without repeating with period
       1, 2 or 4.

    Parameters
    ----------
    tail : numpy.ndarray
        Shape ``(K, P)`` with ``K >= 9``: consecutive iterates, oldest first.
    fixed_tol, period_tol, straightness : float
        The thresholds above (defaults ``1e-8``, ``1e-3``, ``0.9``).

    Returns
    -------
    str
        One of :data:`RUN_CLASSES`.

    Introduced in :ref:`ch-relu_networks`.
    """
    tail = real_array(tail, "tail", finite=False)
    if tail.ndim != 2 or tail.shape[0] < 9 or tail.shape[1] < 1:
        raise ValueError(f"tail must have shape (K, P) with K >= 9 consecutive iterates, got {tail.shape}")
    fixed_tol = real_number(fixed_tol, "fixed_tol", above=0.0)
    period_tol = real_number(period_tol, "period_tol", above=0.0)
    straightness = real_number(straightness, "straightness", above=0.0, below=1.0)
    if not np.all(np.isfinite(tail)):
        return DIVERGED
    # Divided by a power of two (exact) when the iterates are huge, so that no norm or difference overflows; every
    # test below is invariant under the division, with the "1 +" of the scale divided as well.
    c = power_of_two_scale(tail)
    tail = tail / c
    scale = 1.0 / c + np.max(np.linalg.norm(tail, axis=1))
    s = np.max(np.linalg.norm(np.diff(tail, axis=0), axis=1))
    with np.errstate(over="ignore"):  # a huge tolerance times the scale is inf, and the comparison still right
        if s <= fixed_tol * scale:
            return FIXED_POINT
        for p, label in ((2, PERIOD_2), (4, PERIOD_4)):
            if np.max(np.linalg.norm(tail[p:] - tail[:-p], axis=1)) <= period_tol * s:
                return label
    sampled = tail[(tail.shape[0] - 1) % 4 :: 4]
    path = np.sum(np.linalg.norm(np.diff(sampled, axis=0), axis=1))
    if np.linalg.norm(sampled[-1] - sampled[0]) >= straightness * path:
        return DRIFTING
    return LONGER


def move_cosine(tail: ArrayLike) -> float:
    """Mean cosine between consecutive moves, :math:`\\langle \\theta_{k+1} - \\theta_k, \\theta_k - \\theta_{k-1}
    \\rangle / (\\lVert\\cdot\\rVert \\lVert\\cdot\\rVert)`, averaged over the rows of ``tail``.

    Close to :math:`-1` when the iterates jump back and forth (an oscillation, possibly with a drifting centre), close
    to :math:`+1` when they creep in one direction; NaN if the iterates do not move or the tail is not finite.

    Introduced in :ref:`ch-relu_networks`.
    """
    tail = real_array(tail, "tail", finite=False)
    if tail.ndim != 2 or tail.shape[0] < 3:
        raise ValueError(f"tail must have shape (K, P) with K >= 3 consecutive iterates, got {tail.shape}")
    with np.errstate(all="ignore"):  # huge iterates: divided by a power of two first, so that nothing overflows
        tail = tail / power_of_two_scale(tail)
        d = np.diff(tail, axis=0)
        c = power_of_two_scale(d)
        d = d / c
        norms = np.linalg.norm(d, axis=1)
        cos = np.sum(d[1:] * d[:-1], axis=1) / (norms[1:] * norms[:-1])
    return float(np.mean(cos)) if np.all(np.isfinite(cos)) else float("nan")


# ----------------------------------------------------------------------------------------------------------------
# Sweeps over step sizes and seeds
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SweepResult:
    """The result of :func:`sweep`; every array has shape ``(len(steps), len(seeds))``.

    Attributes
    ----------
    steps, seeds : numpy.ndarray
        The step sizes and seeds swept.
    labels : numpy.ndarray
        The class of each run (strings from :data:`RUN_CLASSES`).
    lhs : numpy.ndarray
        :func:`theorem4_lhs` of the final network (NaN if diverged).
    final_loss : numpy.ndarray
        The loss at the last iterate (NaN if diverged).
    amplitude : numpy.ndarray
        The largest single move :math:`\\max_k \\lVert \\theta_{k+1} - \\theta_k \\rVert` over the recorded tail.
    cosine : numpy.ndarray
        :func:`move_cosine` of the recorded tail (NaN if diverged): near -1 for runs that oscillate.
    theta : numpy.ndarray
        Shape ``(len(steps), len(seeds), P)``: the last iterate of each run (NaN if diverged).
    """

    steps: np.ndarray
    seeds: np.ndarray
    labels: np.ndarray
    lhs: np.ndarray
    final_loss: np.ndarray
    amplitude: np.ndarray
    cosine: np.ndarray
    theta: np.ndarray

    def count(self, label: str) -> int:
        """How many runs have class ``label``."""
        return int(np.sum(self.labels == label))


def sweep(
    steps: ArrayLike,
    seeds: ArrayLike,
    n_steps: int,
    *,
    problem: Callable[[int], tuple[TwoLayerReLU, TwoLayerReLU, np.ndarray, np.ndarray]] = figure2_problem,
    record_last: int = 256,
) -> SweepResult:
    """Train one run per (step size, seed) pair and classify each.

    Parameters
    ----------
    steps : array_like
        Step sizes (each positive).
    seeds : array_like of int
        Seeds passed to ``problem``.
    n_steps : int
        Iterations per run.
    problem : callable, default :func:`figure2_problem`
        ``problem(seed) -> (net0, target, X, Y)``.
    record_last : int, default 256
        Passed to :func:`train_trajectory`.

    Returns
    -------
    SweepResult

    Introduced in :ref:`ch-relu_networks`.
    """
    steps = positive_array(steps, "steps", entry="step").ravel()
    seeds = integer_array(seeds, "seeds", minimum=0)
    if steps.size == 0 or seeds.size == 0:
        raise ValueError("steps and seeds must each hold at least one value")
    function(problem, "problem", "problem(seed) -> (net0, target, X, Y)")
    n_steps = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    record_last = integer_at_least(record_last, "record_last", 9, MAX_ITERATIONS)
    shape = (steps.size, seeds.size)
    labels = np.empty(shape, dtype=object)
    lhs = np.full(shape, np.nan)
    final_loss = np.full(shape, np.nan)
    amplitude = np.full(shape, np.nan)
    cosine = np.full(shape, np.nan)
    columns: list[FloatArray] = []  # the last iterates of one seed's runs, one row per step
    for b_, seed in enumerate(seeds):
        net0, _, X, Y = problem(int(seed))
        column = np.full((steps.size, *net0.theta.shape), np.nan)
        for a_, step in enumerate(steps):
            run = train_trajectory(net0, X, Y, float(step), n_steps, record_last=record_last)
            labels[a_, b_] = run.label
            if run.net is not None:  # None: the run diverged
                lhs[a_, b_] = theorem4_lhs(run.net, X)
                final_loss[a_, b_] = run.losses[-1]
                amplitude[a_, b_] = np.max(np.linalg.norm(np.diff(run.tail, axis=0), axis=1))
                cosine[a_, b_] = move_cosine(run.tail)
                column[a_] = run.net.theta
        columns.append(column)
    return SweepResult(steps, seeds, labels, lhs, final_loss, amplitude, cosine, np.stack(columns, axis=1))
