"""A small fully connected tanh network with a hand-written, vectorized gradient, on a flat parameter vector.

Introduced in :ref:`ch-edge_of_stability`, where full-batch gradient descent trains it and
:func:`lecturelib.curvature.top_hessian_eigenvalue` measures the sharpness of its loss.

The network with layer widths :math:`(n_0, n_1, \\dots, n_K)` maps an input :math:`x \\in \\mathbb{R}^{n_0}` through

.. math::

    a_0 = x, \\qquad a_k = \\tanh(W_k a_{k-1} + b_k) \\ (k < K), \\qquad f(x) = W_K a_{K-1} + b_K,

with :math:`W_k \\in \\mathbb{R}^{n_k \\times n_{k-1}}` and :math:`b_k \\in \\mathbb{R}^{n_k}` (tanh hidden layers,
a linear output layer). The loss on data :math:`X \\in \\mathbb{R}^{N \\times n_0}`,
:math:`Y \\in \\mathbb{R}^{N \\times n_K}` is the mean squared error with the factor one half,

.. math::

    \\mathcal{L}(\\theta) = \\frac{1}{2N} \\sum_{i=1}^N \\|f(x_i) - y_i\\|_2^2 .

The parameters live in one flat vector :math:`\\theta`: :math:`W_1, b_1, W_2, b_2, \\dots` in that order, each
matrix row by row.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lecturelib._checks import (
    MAX_ELEMENTS,
    FloatArray,
    finite_result,
    integer_at_least,
    real_array,
    real_number,
    sequence,
)

__all__ = ["TanhMLP"]


@dataclass(frozen=True)
class TanhMLP:
    """A tanh network of the given layer widths; its parameters are a flat vector passed to every method.

    Introduced in :ref:`ch-edge_of_stability`.

    Parameters
    ----------
    widths : tuple of int
        The layer widths :math:`(n_0, \\dots, n_K)`, input first, output last; at least two entries, all positive.

    Examples
    --------
    >>> net = TanhMLP((1, 16, 16, 1))
    >>> theta = net.init(seed=0)
    >>> theta.shape
    (321,)
    """

    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        entries = sequence(self.widths, "widths", "a sequence of ints, input width first", min_length=2)
        widths = tuple(integer_at_least(w, "widths", 1, MAX_ELEMENTS) for w in entries)
        object.__setattr__(self, "widths", widths)
        if self.n_params > MAX_ELEMENTS:
            raise ValueError(f"widths {widths} ask for {self.n_params} parameters, more than {MAX_ELEMENTS}")

    @property
    def n_params(self) -> int:
        """The length of the flat parameter vector: :math:`\\sum_k n_k (n_{k-1} + 1)`."""
        return sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(self.widths))

    def unflatten(self, theta: ArrayLike) -> list[tuple[FloatArray, FloatArray]]:
        """The layers ``[(W_1, b_1), ..., (W_K, b_K)]`` as views into ``theta``."""
        theta = self._check_theta(theta)
        layers = []
        start = 0
        for n_in, n_out in itertools.pairwise(self.widths):
            W = theta[start : start + n_out * n_in].reshape(n_out, n_in)
            start += n_out * n_in
            b = theta[start : start + n_out]
            start += n_out
            layers.append((W, b))
        return layers

    def init(self, seed: int, *, gain: float = 1.0) -> FloatArray:
        """Random parameters: :math:`W_k` entries :math:`\\mathcal{N}(0, \\mathrm{gain}^2 / n_{k-1})`, biases zero.

        Uses ``numpy.random.default_rng(seed)``.
        """
        seed = integer_at_least(seed, "seed", 0)
        gain = real_number(gain, "gain", above=0.0)
        rng = np.random.default_rng(seed)
        parts = []
        for n_in, n_out in itertools.pairwise(self.widths):
            parts.append(rng.standard_normal(n_out * n_in) * (gain / np.sqrt(n_in)))
            parts.append(np.zeros(n_out))
        return np.concatenate(parts)

    def predict(self, theta: ArrayLike, X: ArrayLike) -> FloatArray:
        """The outputs :math:`f(x_i)`, shape ``(N, n_K)``, for inputs ``X`` of shape ``(N, n_0)``.

        A ValueError if they overflow float64 (huge but finite ``theta`` or ``X``).
        """
        with np.errstate(all="ignore"):
            out = self._forward(self.unflatten(theta), self._check_X(X))[-1]
        return self._finite(out, "the outputs")

    def loss(self, theta: ArrayLike, X: ArrayLike, Y: ArrayLike) -> float:
        """The loss :math:`\\frac{1}{2N} \\sum_i \\|f(x_i) - y_i\\|^2`.

        ``inf`` when it exceeds the float64 range (a diverged run: a result, no warning).
        """
        X, Y = self._check_data(X, Y)
        with np.errstate(all="ignore"):
            residual = self._forward(self.unflatten(theta), X)[-1] - Y
            value = float(0.5 * np.sum(residual * residual) / X.shape[0])
        return value if np.isfinite(value) else float("inf")

    def grad(self, theta: ArrayLike, X: ArrayLike, Y: ArrayLike) -> FloatArray:
        """The gradient of :meth:`loss` with respect to ``theta`` (backpropagation by hand), a flat vector.

        A ValueError if it overflows float64 (huge but finite ``theta``, ``X`` or ``Y``).
        """
        X, Y = self._check_data(X, Y)
        layers = self.unflatten(theta)
        with np.errstate(all="ignore"):
            acts = self._forward(layers, X)
            delta = (acts[-1] - Y) / X.shape[0]  # dL/d(pre-activation of the output layer), shape (N, n_K)
            grads: list[FloatArray] = []
            for k in range(len(layers) - 1, -1, -1):
                W, _ = layers[k]
                grads.append(delta.sum(axis=0))  # b_k
                grads.append((delta.T @ acts[k]).ravel())  # W_k, row by row
                if k > 0:
                    delta = (delta @ W) * (1.0 - acts[k] * acts[k])
            result = np.concatenate(grads[::-1])
        return self._finite(result, "the gradient")

    # -- helpers -------------------------------------------------------------------------------------------------

    @staticmethod
    def _finite(value: FloatArray, what: str) -> FloatArray:
        return finite_result(value, f"theta, X (or Y) are too large: {what} overflow float64; scale them down")

    @staticmethod
    def _forward(layers: list[tuple[FloatArray, FloatArray]], X: FloatArray) -> list[FloatArray]:
        acts = [X]
        for k, (W, b) in enumerate(layers):
            z = acts[-1] @ W.T + b
            acts.append(z if k == len(layers) - 1 else np.tanh(z))
        return acts

    def _check_theta(self, theta: object) -> FloatArray:
        theta = real_array(theta, "theta")
        if theta.shape != (self.n_params,):
            raise ValueError(
                f"theta must be a flat vector of {self.n_params} parameters for widths {self.widths}, "
                f"got shape {theta.shape}"
            )
        return theta

    def _check_X(self, X: object) -> FloatArray:
        X = real_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.widths[0] or X.shape[0] == 0:
            raise ValueError(f"X must have shape (N, {self.widths[0]}) with N >= 1, got {X.shape}")
        return X

    def _check_data(self, X: object, Y: object) -> tuple[FloatArray, FloatArray]:
        X = self._check_X(X)
        Y = real_array(Y, "Y")
        if Y.shape != (X.shape[0], self.widths[-1]):
            raise ValueError(f"Y must have shape ({X.shape[0]}, {self.widths[-1]}) to match X, got {Y.shape}")
        return X, Y
