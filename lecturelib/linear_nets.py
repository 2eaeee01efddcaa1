"""Deep linear networks: the step-size bounds of Nar & Sastry and gradient descent on them.

Introduced in :ref:`ch-deep_linear` (Theorem 1, Corollaries 1 and 2) and used again in :ref:`ch-identity_init`
(identity initialization, Theorems 2 and 3).

A network of depth :math:`L` is a list of weights ``[W1, ..., WL]`` (2-D arrays; plain numbers are read as
:math:`1 \\times 1` matrices). It computes the matrix :math:`\\hat R = W_L \\cdots W_1` and is trained on

.. math::

    \\ell(W_1, \\dots, W_L) = \\tfrac12 \\lVert R - W_L \\cdots W_1 \\rVert_F^2 ,

which equals the paper's loss :math:`\\frac{1}{2N}\\sum_i \\lVert R x_i - W_L\\cdots W_1 x_i\\rVert^2` on whitened data
(:math:`\\frac1N\\sum_i x_i x_i^\\top = I`). The gradient with respect to :math:`W_j` is
:math:`-(W_L\\cdots W_{j+1})^\\top (R - \\hat R)(W_{j-1}\\cdots W_1)^\\top`.

Symmetry and positive semidefiniteness are checked to a relative tolerance :data:`TOLERANCE`:
:math:`\\lVert R - R^\\top\\rVert_F \\le \\mathrm{tol}\\,\\max(1, \\lVert R\\rVert_F)` and
:math:`\\lambda_{\\min}(R) \\ge -\\mathrm{tol}\\,\\max(1, \\rho(R))`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike

from lecturelib._checks import (
    MAX_ELEMENTS,
    MAX_ITERATIONS,
    FloatArray,
    finite_result,
    integer_at_least,
    positive_number,
    power_of_two_scale,
    real_array,
    real_matrix,
    real_number,
)
from lecturelib.perturbation import perturb_start

__all__ = [
    "TOLERANCE",
    "TrainResult",
    "closest_psd",
    "corollary1_bound",
    "corollary2_radius",
    "flat_gradient",
    "gradient",
    "hessian",
    "invariant_set_distance",
    "loss",
    "max_convergent_step",
    "product",
    "theorem1_bound",
    "theorem2_step",
    "theorem3_step",
    "train",
    "train_scalar",
]

#: Relative tolerance of the symmetry and positive-semidefiniteness checks.
TOLERANCE = 1e-10

#: Training stops as diverged once the loss exceeds this value (or is not finite).
DIVERGENCE_LOSS = 1e12


# --------------------------------------------------------------------------------------------------------------
# validation


#: Inside this range of magnitudes the bounds use their textbook formulas; outside it they work with logarithms and
#: matrices divided by a power of two, so that huge or tiny (but finite) inputs neither overflow nor underflow.
_SAFE = (1e-100, 1e100)
_LOG_MAX = math.log(np.finfo(np.float64).max)


def _safe(value: float) -> bool:
    return _SAFE[0] <= value <= _SAFE[1]


def _exp(exponent: float) -> float:
    """``exp(exponent)``, ``inf`` beyond the float range and 0 below it (no OverflowError)."""
    return math.inf if exponent > _LOG_MAX else math.exp(exponent)


def _step_term(depth: int, rho: float, log_rho: float) -> float:
    """:math:`1/(L\rho^{2(L-1)/L})` for :math:`\rho > 0`, without overflow or underflow of the power."""
    power = 2 * (depth - 1) / depth
    if _safe(rho):
        return 1.0 / (depth * rho**power)
    return _exp(-math.log(depth) - power * log_rho)


def _symmetric_eigenvalues(target: np.ndarray) -> tuple[np.ndarray, float]:
    """Eigenvalues of ``target / c`` and the power of two ``c`` (1 unless the entries are huge or tiny)."""
    c = power_of_two_scale(target)
    return np.linalg.eigvalsh(target / c), c


def _finite(value: FloatArray, what: str) -> FloatArray:
    """``value`` if all its entries are finite, else a ValueError: huge (finite) inputs overflowed float64."""
    return finite_result(value, f"R and weights are too large: {what} overflows float64 (beyond about 1.8e308)")


def _as_weights(weights: object, name: str = "weights") -> list[FloatArray]:
    """The layers as a list of 2-D float arrays that chain (W_{j+1} has as many columns as W_j has rows).

    ``weights`` is any object: a list of matrices (or a 3-D array of them) is accepted, anything else refused.
    """
    if isinstance(weights, np.ndarray) and weights.ndim == 3:
        weights = list(weights)
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise TypeError(f"{name} must be a list [W1, ..., WL] of 2-D arrays, got {type(weights).__name__}")
    if len(weights) < 1:
        raise ValueError(f"{name} must hold at least one layer (depth >= 1), got an empty list")
    layers = [real_matrix(w, f"{name}[{j}]") for j, w in enumerate(weights)]
    for j in range(1, len(layers)):
        if layers[j].shape[1] != layers[j - 1].shape[0]:
            raise ValueError(
                f"{name} do not chain: {name}[{j}] has shape {layers[j].shape} but must have "
                f"{layers[j - 1].shape[0]} columns to multiply {name}[{j - 1}] of shape {layers[j - 1].shape}"
            )
    return layers


def _as_symmetric(R: object, name: str = "R") -> FloatArray:
    matrix = real_matrix(R, name)
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {matrix.shape}")
    c = power_of_two_scale(matrix)  # exact division: the test below is the same, without overflow
    scaled = matrix / c
    if np.linalg.norm(scaled - scaled.T) > TOLERANCE * max(1.0 / c, float(np.linalg.norm(scaled))):
        raise ValueError(f"{name} must be symmetric (to relative tolerance {TOLERANCE:g})")
    return (scaled + scaled.T) / 2 * c


def _spectral_norm(matrix: np.ndarray) -> float:
    return float(np.linalg.norm(matrix, 2))


def _chain(layers: Sequence[np.ndarray], rows: int) -> np.ndarray:
    """The product of ``layers`` in order (last first); the identity of size ``rows`` for no layers."""
    result = np.eye(rows)
    for w in layers:
        result = w @ result
    return result


# --------------------------------------------------------------------------------------------------------------
# the loss and its derivatives


def product(weights: Sequence[ArrayLike]) -> FloatArray:
    """The end-to-end matrix :math:`\\hat R = W_L \\cdots W_1` of a network.

    Introduced in :ref:`ch-deep_linear`.
    """
    layers = _as_weights(weights)
    with np.errstate(all="ignore"):
        return _finite(_chain(layers, layers[0].shape[1]), "the product W_L...W_1")


def _check_target(R: object, layers: list[FloatArray], source: str = "weights") -> FloatArray:
    target = real_matrix(R, "R")
    shape = (layers[-1].shape[0], layers[0].shape[1])
    if target.shape != shape:
        raise ValueError(
            f"R must have the shape {shape} of the network's product W_L...W_1 (of the {source}), got {target.shape}"
        )
    return target


def loss(R: ArrayLike, weights: Sequence[ArrayLike]) -> float:
    """The loss :math:`\\tfrac12\\lVert R - W_L\\cdots W_1\\rVert_F^2`.

    Introduced in :ref:`ch-deep_linear`.
    """
    layers = _as_weights(weights)
    target = _check_target(R, layers)
    with np.errstate(all="ignore"):
        return float(_finite(0.5 * np.sum((target - _chain(layers, layers[0].shape[1])) ** 2), "the loss"))


def _prefixes(layers: list[np.ndarray]) -> list[np.ndarray]:
    """P[k] = W_k ... W_1 with P[0] = I, for k = 0..L."""
    out = [np.eye(layers[0].shape[1])]
    for w in layers:
        out.append(w @ out[-1])
    return out


def _suffixes(layers: list[np.ndarray]) -> list[np.ndarray]:
    """S[k] = W_L ... W_{k+1} (0-based: S[k] is the product of layers k+1..L-1), S[L] = I, for k = 0..L."""
    out = [np.eye(layers[-1].shape[0])]
    for w in reversed(layers):
        out.append(out[-1] @ w)
    return out[::-1]


def _gradient(target: np.ndarray, layers: list[np.ndarray]) -> list[np.ndarray]:
    pre = _prefixes(layers)
    suf = _suffixes(layers)
    error = target - pre[-1]
    return [-(suf[j + 1].T @ error @ pre[j].T) for j in range(len(layers))]


def gradient(R: ArrayLike, weights: Sequence[ArrayLike]) -> list[FloatArray]:
    """The gradient of the loss with respect to each layer.

    .. math:: \\nabla_{W_j}\\ell = -(W_L\\cdots W_{j+1})^\\top (R - W_L\\cdots W_1)(W_{j-1}\\cdots W_1)^\\top

    Introduced in :ref:`ch-deep_linear`.
    """
    layers = _as_weights(weights)
    target = _check_target(R, layers)
    with np.errstate(all="ignore"):
        return [_finite(g, "the gradient") for g in _gradient(target, layers)]


def _hvp(target: np.ndarray, layers: list[np.ndarray], directions: list[np.ndarray]) -> list[np.ndarray]:
    """The Hessian applied to the directions, by differentiating the gradient formula along them."""
    L = len(layers)
    pre = _prefixes(layers)
    suf = _suffixes(layers)
    error = target - pre[-1]
    # derivative of the prefixes P[k] = W_k...W_1 and of the suffixes S[k] = W_L...W_{k+1} along the directions
    dpre = [np.zeros_like(pre[0])]
    for k in range(L):
        dpre.append(directions[k] @ pre[k] + layers[k] @ dpre[k])
    dsuf = [np.zeros_like(suf[L])] * (L + 1)
    for k in range(L - 1, -1, -1):
        dsuf[k] = dsuf[k + 1] @ layers[k] + suf[k + 1] @ directions[k]
    derror = -dpre[-1]
    return [
        -(dsuf[j + 1].T @ error @ pre[j].T + suf[j + 1].T @ derror @ pre[j].T + suf[j + 1].T @ error @ dpre[j].T)
        for j in range(L)
    ]


def hessian(R: ArrayLike, weights: Sequence[ArrayLike]) -> FloatArray:
    """The Hessian of the loss with respect to all weights, as a symmetric matrix.

    The coordinates are the entries of ``W1, ..., WL`` in that order, each flattened row by row (so the gradient
    flattened the same way is ``np.concatenate([g.ravel() for g in gradient(R, weights)])``). Built column by
    column from exact Hessian-vector products (the derivative of the gradient formula); meant for small networks,
    where :math:`\\lambda_{\\max}` and :math:`\\lambda_{\\min}` come from ``numpy.linalg.eigvalsh``.

    Introduced in :ref:`ch-deep_linear`.
    """
    layers = _as_weights(weights)
    target = _check_target(R, layers)
    sizes = [w.size for w in layers]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n = int(offsets[-1])
    H = np.empty((n, n))
    for col in range(n):
        basis = np.zeros(n)
        basis[col] = 1.0
        directions = [basis[offsets[j] : offsets[j + 1]].reshape(w.shape) for j, w in enumerate(layers)]
        with np.errstate(all="ignore"):
            H[:, col] = np.concatenate([h.ravel() for h in _hvp(target, layers, directions)])
    with np.errstate(all="ignore"):
        return _finite((H + H.T) / 2, "the Hessian")


# --------------------------------------------------------------------------------------------------------------
# the bounds


def theorem1_bound(weights: Sequence[ArrayLike]) -> float:
    """The largest step at which gradient descent can converge to the optimum ``weights`` (Theorem 1).

    .. math:: \\delta \\le \\frac{2}{\\sum_{j=1}^{L} \\lVert p_{j-1}\\rVert^2 \\lVert q_{j+1}\\rVert^2},
        \\qquad p_j = W_j\\cdots W_1 v,\\quad q_j = u^\\top W_L\\cdots W_j,

    with :math:`p_0 = v`, :math:`q_{L+1} = u^\\top` and :math:`u, v` the top left and right singular vectors of
    :math:`\\hat R = W_L\\cdots W_1`. For scalar layers this is :math:`2 / \\sum_i \\prod_{j\\ne i} w_j^2`.
    Returns ``inf`` when the sum is zero or the bound exceeds the largest float, and 0.0 when it is below the
    smallest one; huge or tiny layers are divided by powers of two and the sum is formed in logarithms, so no
    intermediate product overflows.

    Introduced in :ref:`ch-deep_linear`.
    """
    layers = _as_weights(weights)
    with np.errstate(all="ignore"):
        pre = _prefixes(layers)
        suf = _suffixes(layers)
        if np.all(np.isfinite(pre[-1])) and all(_safe(float(np.max(np.abs(w)))) or not np.any(w) for w in layers):
            U, _, Vt = np.linalg.svd(pre[-1])
            u, v = U[:, 0], Vt[0]
            terms = [float(np.sum((pre[j] @ v) ** 2) * np.sum((u @ suf[j + 1]) ** 2)) for j in range(len(layers))]
            total = sum(terms)
            if math.isfinite(total) and all(
                t > 0 or not np.any(pre[j]) or not np.any(suf[j + 1]) for j, t in enumerate(terms)
            ):
                return float("inf") if total == 0 else 2.0 / total
    return _theorem1_bound_scaled(layers)


def _theorem1_bound_scaled(layers: list[np.ndarray]) -> float:
    """Theorem 1's bound for huge or tiny layers: each layer divided by a power of two, the sum formed in logs."""
    scales = [max(power_of_two_scale(w, always=True), np.finfo(np.float64).tiny) for w in layers]
    logs = [math.log(c) for c in scales]
    normal = [w / c for w, c in zip(layers, scales, strict=True)]
    pre = _prefixes(normal)
    suf = _suffixes(normal)
    U, _, Vt = np.linalg.svd(pre[-1])
    u, v = U[:, 0], Vt[0]
    exponents = []
    for j in range(len(layers)):
        t = float(np.sum((pre[j] @ v) ** 2) * np.sum((u @ suf[j + 1]) ** 2))
        if t > 0:
            exponents.append(math.log(t) + 2 * (sum(logs) - logs[j]))
    if not exponents:
        return float("inf")
    top = max(exponents)
    log_total = top + math.log(sum(math.exp(e - top) for e in exponents))
    return _exp(math.log(2.0) - log_total)


def corollary1_bound(R: ArrayLike, depth: int) -> float:
    """The largest step at which gradient descent can converge to a global optimum (Corollary 1).

    .. math:: \\delta \\le \\frac{2}{L\\,\\rho(R)^{2(L-1)/L}}

    with :math:`\\rho(R)` the largest singular value of the target. For :math:`L = 1` this is 2 whatever the target
    (ordinary least squares on whitened data: the Hessian is the identity); for :math:`R = 0` and :math:`L \\ge 2`
    it returns ``inf`` (the corollary gives no bound). A bound beyond the float range is ``inf`` (every representable
    step satisfies it), one below it 0.0; huge targets are handled in logarithms, without overflow.

    Introduced in :ref:`ch-deep_linear`.
    """
    target = real_matrix(R, "R")
    L = integer_at_least(depth, "depth", 1)
    c = power_of_two_scale(target)
    rho_scaled = _spectral_norm(target / c)
    if L == 1:
        return 2.0
    if rho_scaled == 0:
        return float("inf")
    term = _step_term(L, rho_scaled * c, math.log(rho_scaled) + math.log(c))
    return 2.0 * term


def corollary2_radius(step: float, depth: int) -> float:
    """The largest singular value a converged network can have at step ``step`` (Corollary 2).

    .. math:: \\rho(\\hat R) \\le \\Bigl(\\frac{2}{L\\delta}\\Bigr)^{L/(2L-2)}

    Requires ``depth >= 2`` (a single layer has no such bound). A radius beyond the float range is ``inf``.

    Introduced in :ref:`ch-deep_linear`.
    """
    delta = positive_number(step, "step")
    L = integer_at_least(depth, "depth", 1)
    if L < 2:
        raise ValueError(f"depth must be at least 2 for Corollary 2 (a single layer has no bound), got {L}")
    power = L / (2 * L - 2)
    if _safe(delta):
        return float((2.0 / (L * delta)) ** power)
    return _exp(power * (math.log(2.0 / L) - math.log(delta)))


def theorem2_step(R: ArrayLike, depth: int) -> float:
    """The step of Theorem 2: :math:`\\min\\{1/L,\\ 1/(L\\rho(R)^{2(L-1)/L})\\}`.

    ``R`` must be square, symmetric and positive semidefinite (to the relative tolerance :data:`TOLERANCE`). Huge or
    tiny targets are divided by a power of two and the power is taken in logarithms: no overflow, no division by 0.

    Introduced in :ref:`ch-identity_init`.
    """
    target = _as_symmetric(R)
    L = integer_at_least(depth, "depth", 1)
    eig, c = _symmetric_eigenvalues(target)
    rho = float(np.max(np.abs(eig)))  # of R / c
    if eig[0] < -TOLERANCE * max(1.0 / c, rho):
        lowest = float(eig[0]) * c  # a Python float: beyond the float range it is -inf, without a warning
        shown = f"{lowest:.3g}" if math.isfinite(lowest) else "below -1.8e308"
        raise ValueError(
            f"R must be positive semidefinite for Theorem 2, its smallest eigenvalue is {shown}; "
            "use theorem3_step for a target with a negative eigenvalue"
        )
    third = _step_term(L, rho * c, math.log(rho) + math.log(c)) if rho > 0 else np.inf
    return float(min(1.0 / L, third))


def theorem3_step(R: ArrayLike, depth: int) -> float:
    """The step of Theorem 3: :math:`\\min\\{1/(1-\\lambda_{\\min}(R)),\\ 1/L,\\ 1/(L\\rho(R)^{2(L-1)/L})\\}`.

    ``R`` must be square and symmetric. For a positive semidefinite ``R`` the first term is replaced by 1 (that
    is, :math:`\\lambda_{\\min}` is clipped at 0), which never binds since :math:`1/L \\le 1`. Huge or tiny targets
    are handled as in :func:`theorem2_step`.

    Introduced in :ref:`ch-identity_init`.
    """
    target = _as_symmetric(R)
    L = integer_at_least(depth, "depth", 1)
    eig, c = _symmetric_eigenvalues(target)
    rho = float(np.max(np.abs(eig)))  # of R / c
    third = _step_term(L, rho * c, math.log(rho) + math.log(c)) if rho > 0 else np.inf
    lowest = min(float(eig[0]), 0.0)
    # 1/(1 - c lowest) without overflow: c * lowest is formed only when c <= 1
    first = 1.0 / (1.0 - lowest * c) if c <= 1.0 else (1.0 / c) / (1.0 / c - lowest)
    return float(min(first, 1.0 / L, third))


def closest_psd(R: ArrayLike) -> FloatArray:
    """The positive semidefinite matrix nearest to the symmetric ``R`` in Frobenius norm.

    With :math:`R = U\\Lambda U^\\top` it is :math:`U\\max(\\Lambda, 0)U^\\top`: negative eigenvalues clipped to 0.
    Huge entries are divided by a power of two first (exact); a result beyond the float64 range is a ValueError.

    Introduced in :ref:`ch-identity_init`.
    """
    target = _as_symmetric(R)
    c = power_of_two_scale(target)
    eig, vec = np.linalg.eigh(target / c)
    with np.errstate(over="ignore"):
        result = ((vec * np.maximum(eig, 0.0)) @ vec.T) * c
    if not np.all(np.isfinite(result)):
        raise ValueError("R is too large: its positive semidefinite part has entries beyond the float64 range")
    return result


def invariant_set_distance(R: ArrayLike, weights: Sequence[ArrayLike]) -> float:
    """How far the layers are from the set that identity-initialized gradient descent stays on in exact arithmetic.

    With :math:`R = U\\Lambda U^\\top` symmetric, the set holds the networks whose layers are all equal to one
    matrix :math:`U D U^\\top` with :math:`D` diagonal (symmetric and commuting with :math:`R` when the
    eigenvalues are distinct). The distance is :math:`(\\sum_i \\lVert W_i - U\\,\\mathrm{diag}(U^\\top
    \\bar W U)\\,U^\\top\\rVert_F^2)^{1/2}` with :math:`\\bar W` the mean layer: zero on the set, and the size of
    the component that rounding errors feed outside it.

    Introduced in :ref:`ch-identity_init`.
    """
    target = _as_symmetric(R)
    layers = _as_weights(weights)
    if any(w.shape != target.shape for w in layers):
        raise ValueError(f"weights must all have the shape {target.shape} of R")
    _, vec = np.linalg.eigh(target / power_of_two_scale(target))
    c = max(power_of_two_scale(w, always=True) for w in layers)  # exact: sums and squares of huge layers stay finite
    scaled = [w / c for w in layers]
    mean = sum(scaled) / len(scaled)
    centre = (vec * np.diag(vec.T @ mean @ vec)) @ vec.T
    with np.errstate(over="ignore"):
        distance = float(np.sqrt(sum(np.sum((w - centre) ** 2) for w in scaled))) * c
    return float(_finite(np.array(distance), "the distance"))


# --------------------------------------------------------------------------------------------------------------
# training


@dataclass
class TrainResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    weights : list of numpy.ndarray
        The layers after the last step taken.
    losses : numpy.ndarray
        The loss before the first step and after each step taken (length ``steps taken + 1``).
    diverged : bool
        True if the loss became non-finite or exceeded ``1e12``; training stopped there.
    """

    weights: list[np.ndarray]
    losses: np.ndarray
    diverged: bool


@numba.njit(cache=False)
def _train_stack(
    W: FloatArray, R: FloatArray, step: float, n_steps: int, limit: float
) -> tuple[FloatArray, FloatArray, bool]:  # pragma: no cover - compiled
    """Gradient descent on square layers stacked as W[L, n, n], with hand-written products for tiny matrices."""
    L, n = W.shape[0], W.shape[1]
    pre = np.zeros((L + 1, n, n))
    suf = np.zeros((L + 1, n, n))
    grad = np.zeros((L, n, n))
    tmp = np.zeros((n, n))
    losses = np.empty(n_steps + 1)
    diverged = False
    taken = 0
    for t in range(n_steps + 1):
        # prefixes P[k] = W_k ... W_1 (pre[0] = I) and suffixes S[k] = W_L ... W_{k+1} (suf[L] = I)
        for i in range(n):
            for j in range(n):
                pre[0, i, j] = 1.0 if i == j else 0.0
                suf[L, i, j] = 1.0 if i == j else 0.0
        for k in range(L):
            for i in range(n):
                for j in range(n):
                    s = 0.0
                    for m in range(n):
                        s += W[k, i, m] * pre[k, m, j]
                    pre[k + 1, i, j] = s
        for k in range(L - 1, -1, -1):
            for i in range(n):
                for j in range(n):
                    s = 0.0
                    for m in range(n):
                        s += suf[k + 1, i, m] * W[k, m, j]
                    suf[k, i, j] = s
        value = 0.0
        for i in range(n):
            for j in range(n):
                e = R[i, j] - pre[L, i, j]
                value += e * e
        value *= 0.5
        losses[t] = value
        if not (value <= limit):  # also catches NaN
            diverged = True
            break
        if t == n_steps:
            break
        # grad_k = -S[k+1]^T E P[k]^T with E = R - P[L]
        for k in range(L):
            # tmp = E @ P[k]^T
            for i in range(n):
                for j in range(n):
                    s = 0.0
                    for m in range(n):
                        s += (R[i, m] - pre[L, i, m]) * pre[k, j, m]
                    tmp[i, j] = s
            for i in range(n):
                for j in range(n):
                    s = 0.0
                    for m in range(n):
                        s += suf[k + 1, m, i] * tmp[m, j]
                    grad[k, i, j] = -s
        for k in range(L):
            for i in range(n):
                for j in range(n):
                    W[k, i, j] -= step * grad[k, i, j]
        taken = t + 1
    return W, losses[: taken + 1], diverged


def _train_layers(
    target: FloatArray, layers: list[FloatArray], step: float, n_steps: int
) -> tuple[list[FloatArray], FloatArray, bool]:
    """Gradient descent on a general chain of layers, in numpy."""
    losses = np.empty(n_steps + 1)
    diverged = False
    taken = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps + 1):
            pre = _prefixes(layers)
            value = 0.5 * float(np.sum((target - pre[-1]) ** 2))
            losses[t] = value
            if not (value <= DIVERGENCE_LOSS):
                diverged = True
                break
            if t == n_steps:
                break
            grads = _gradient(target, layers)
            layers = [w - step * g for w, g in zip(layers, grads, strict=True)]
            taken = t + 1
    return layers, losses[: taken + 1], diverged


def train(
    R: ArrayLike,
    depth: int,
    step: float,
    n_steps: int,
    init: str | Sequence[ArrayLike] = "identity",
) -> TrainResult:
    """Run gradient descent :math:`W_j \\leftarrow W_j - \\delta\\,\\nabla_{W_j}\\ell` on a deep linear network.

    Parameters
    ----------
    R : array_like
        The target matrix (2-D; a number is a 1×1 target).
    depth : int
        The number of layers :math:`L \\ge 1`.
    step : float
        The step size :math:`\\delta > 0`.
    n_steps : int
        The number of steps (at most; training stops early if it diverges).
    init : "identity" or list of arrays
        ``"identity"`` starts every layer at the identity (``R`` must be square); otherwise the ``depth`` initial
        layers, whose product must have the shape of ``R``. They are copied, never modified.

    Returns
    -------
    TrainResult
        ``losses[0]`` is the initial loss; ``diverged`` is True if the loss became non-finite or exceeded
        ``1e12`` (training stopped at that step).

    Introduced in :ref:`ch-deep_linear`.
    """
    target = real_matrix(R, "R")
    L = integer_at_least(depth, "depth", 1, MAX_ELEMENTS // target.size)
    delta = positive_number(step, "step")
    n_steps = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    if isinstance(init, str):
        if init != "identity":
            raise ValueError(f"init must be 'identity' or a list of {L} arrays, got {init!r}")
        if target.shape[0] != target.shape[1]:
            raise ValueError(f"init='identity' needs a square R, got shape {target.shape}; pass the layers instead")
        layers = [np.eye(target.shape[0]) for _ in range(L)]
    else:
        layers = [w.copy() for w in _as_weights(init, "init")]
        if len(layers) != L:
            raise ValueError(f"init must hold depth={L} layers, got {len(layers)}")
        _check_target(target, layers, "init")
    with np.errstate(all="ignore"):  # the rounding harness (lecturelib.perturbation); unset, the layers themselves
        layers = [perturb_start(w) for w in layers]
    n = target.shape[0]
    if all(w.shape == (n, n) for w in layers):
        W, losses, diverged = _train_stack(np.array(layers), target.copy(), delta, int(n_steps), DIVERGENCE_LOSS)
        weights = [W[k].copy() for k in range(L)]
    else:
        weights, losses, diverged = _train_layers(target, layers, delta, int(n_steps))
    return TrainResult(weights=weights, losses=np.asarray(losses, dtype=float).copy(), diverged=bool(diverged))


def train_scalar(target: float, starts: ArrayLike, step: float, n_steps: int) -> tuple[FloatArray, FloatArray]:
    """Gradient descent on many scalar networks at once, one per row of ``starts``.

    The loss of a row :math:`(w_1, \\dots, w_L)` is :math:`\\tfrac12 (w_L\\cdots w_1 - \\lambda)^2`.

    Parameters
    ----------
    target : float
        The target :math:`\\lambda`.
    starts : array_like, shape (m, L)
        The initial weights, one network per row.
    step : float
        The step size :math:`\\delta > 0`.
    n_steps : int
        The number of steps.

    Returns
    -------
    weights : numpy.ndarray, shape (m, L)
        The final weights (NaN for a network that diverged).
    diverged : numpy.ndarray of bool, shape (m,)
        Which networks' loss became non-finite or exceeded ``1e12``.

    Introduced in :ref:`ch-deep_linear`.
    """
    lam = real_number(target, "target")
    w = np.array(real_array(starts, "starts", ndim=2, allow_empty=False))  # (networks, depth), finite
    with np.errstate(all="ignore"):
        w = perturb_start(w)  # the rounding harness (lecturelib.perturbation); unset, w itself
    delta = positive_number(step, "step")
    n_steps = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)
    diverged = np.zeros(w.shape[0], dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(n_steps)):
            prod = np.prod(w, axis=1)
            diverged |= ~(0.5 * (prod - lam) ** 2 <= DIVERGENCE_LOSS)
            w[diverged] = np.nan
            # d/dw_i of the loss = (prod - lam) * prod_{j != i} w_j, computed without dividing by w_i
            left = np.cumprod(np.hstack([np.ones((w.shape[0], 1)), w[:, :-1]]), axis=1)
            right = np.cumprod(np.hstack([np.ones((w.shape[0], 1)), w[:, :0:-1]]), axis=1)[:, ::-1]
            w = w - delta * (prod - lam)[:, None] * left * right
        prod = np.prod(w, axis=1)
        diverged |= ~(0.5 * (prod - lam) ** 2 <= DIVERGENCE_LOSS)
        w[diverged] = np.nan
    return w, diverged


def max_convergent_step(
    R: ArrayLike,
    depth: int,
    *,
    init: str | Sequence[ArrayLike] = "identity",
    n_steps: int = 2000,
    tol: float = 1e-10,
    low: float = 0.0,
    high: float | None = None,
    iterations: int = 30,
) -> float:
    """The largest step at which :func:`train` reaches loss below ``tol`` within ``n_steps``, by bisection.

    Bisection assumes convergence at every step below the threshold and at none above (checked only at the
    points it visits). ``high`` defaults to twice :func:`corollary1_bound`, above which no run can converge to a
    global optimum.

    Introduced in :ref:`ch-deep_linear`.
    """
    L = integer_at_least(depth, "depth", 1)
    hi = 2.0 * corollary1_bound(R, L) if high is None else positive_number(high, "high")
    if not math.isfinite(hi):
        raise ValueError(f"high must be finite: pass high when Corollary 1 gives no bound for R, got {hi}")
    lo = real_number(low, "low", at_least=0.0)
    if not lo < hi:
        raise ValueError(f"low must satisfy 0 <= low < high, got low={low}, high={hi}")
    tolerance = positive_number(tol, "tol")
    iterations = integer_at_least(iterations, "iterations", 0, 200)
    n_steps = integer_at_least(n_steps, "n_steps", 0, MAX_ITERATIONS)

    def ok(step: float) -> bool:
        result = train(R, L, step, n_steps, init=init)
        return (not result.diverged) and result.losses[-1] < tolerance

    for _ in range(int(iterations)):
        mid = 0.5 * (lo + hi)
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def flat_gradient(R: ArrayLike, depth: int) -> Callable[[np.ndarray], np.ndarray]:
    """The gradient of the loss as a function of all the weights in one flat vector, for :func:`lecturelib.gd.descend`.

    The network has ``depth`` square layers of the size of ``R``; the flat vector ``theta`` of length
    ``depth * n * n`` holds them in order, each row by row: ``theta.reshape(depth, n, n)[j]`` is :math:`W_{j+1}`. The
    returned function computes the same numbers as :func:`gradient`, flattened the same way, without checking ``R``
    again at every call. With :func:`lecturelib.gd.descend` it records a training path step by step, which
    :func:`train` (a compiled loop that keeps only the losses) does not. Introduced in :ref:`ch-identity_init`.

    Parameters
    ----------
    R : array_like
        The square target matrix (a number is a 1×1 target: then ``theta`` holds the scalar weights
        :math:`(w_1, \\dots, w_L)`).
    depth : int
        The number of layers :math:`L \\ge 1`.

    Returns
    -------
    callable
        ``grad(theta)``: a 1-D float array of length ``depth * n * n`` to the gradient of the same shape. It never
        warns: weights so large that the gradient overflows give inf or NaN entries (:func:`lecturelib.gd.descend`
        then reports the run as diverged).
    """
    target = real_matrix(R, "R")
    if target.shape[0] != target.shape[1]:
        raise ValueError(f"R must be a square matrix (the layers are square), got shape {target.shape}")
    L = integer_at_least(depth, "depth", 1, MAX_ELEMENTS // target.size)
    n = target.shape[0]
    size = L * n * n

    def grad(theta: np.ndarray) -> np.ndarray:
        flat = np.asarray(theta, dtype=float)
        if flat.shape != (size,):
            raise ValueError(f"theta must be a 1-D array of {size} weights ({L} layers of {n}x{n}), got {flat.shape}")
        with np.errstate(all="ignore"):
            return np.concatenate([g.ravel() for g in _gradient(target, list(flat.reshape(L, n, n)))])

    return grad
