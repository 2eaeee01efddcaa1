"""Tests of lecturelib.mlp: the hand-written gradient of the tanh network against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lecturelib.mlp import TanhMLP


def central_difference_gradient(f, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient of a scalar function by central differences along each coordinate."""
    eye = np.eye(theta.size)
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in eye])


widths_strategy = st.lists(st.integers(1, 6), min_size=2, max_size=4).map(tuple)


@settings(max_examples=25, deadline=None)
@given(widths=widths_strategy, seed=st.integers(0, 2**16), n=st.integers(1, 7))
def test_gradient_matches_finite_differences(widths, seed, n):
    net = TanhMLP(widths)
    rng = np.random.default_rng(seed)
    theta = net.init(seed, gain=1.5) + 0.3 * rng.standard_normal(net.n_params)  # nonzero biases too
    X = rng.standard_normal((n, widths[0]))
    Y = rng.standard_normal((n, widths[-1]))
    exact = net.grad(theta, X, Y)
    approx = central_difference_gradient(lambda t: net.loss(t, X, Y), theta)
    assert exact.shape == (net.n_params,)
    np.testing.assert_allclose(exact, approx, rtol=1e-6, atol=1e-8)


def test_layout_and_forward_pass_by_hand():
    net = TanhMLP((2, 3, 1))
    assert net.n_params == 3 * 3 + 1 * 4
    theta = np.arange(net.n_params, dtype=float) / 10
    (W1, b1), (W2, b2) = net.unflatten(theta)
    np.testing.assert_array_equal(W1, np.array([[0.0, 0.1], [0.2, 0.3], [0.4, 0.5]]))
    np.testing.assert_array_equal(b1, [0.6, 0.7, 0.8])
    np.testing.assert_array_equal(W2, [[0.9, 1.0, 1.1]])
    np.testing.assert_array_equal(b2, [1.2])
    x = np.array([[0.5, -1.0]])
    expected = W2 @ np.tanh(W1 @ x[0] + b1) + b2
    np.testing.assert_allclose(net.predict(theta, x)[0], expected)


def test_loss_is_half_mean_squared_error_and_zero_at_a_fit():
    net = TanhMLP((1, 4, 2))
    theta = net.init(3)
    X = np.linspace(-1, 1, 5)[:, None]
    Y = net.predict(theta, X)
    assert net.loss(theta, X, Y) == 0.0
    np.testing.assert_array_equal(net.grad(theta, X, Y), np.zeros(net.n_params))
    assert net.loss(theta, X, Y + 1.0) == pytest.approx(0.5 * 2)  # each of 2 outputs off by one, mean over points


def test_init_is_seeded_with_zero_biases():
    net = TanhMLP((3, 5, 1))
    a, b = net.init(7), net.init(7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, net.init(8))
    (_, b1), (_, b2) = net.unflatten(a)
    assert not b1.any() and not b2.any()


@pytest.mark.parametrize(
    ("widths", "error"),
    [((3,), ValueError), ((1, 0, 1), ValueError), ((1, 2.0, 1), TypeError), ("12", TypeError), ((1, True), TypeError)],
)
def test_bad_widths_raise(widths, error):
    with pytest.raises(error, match="widths"):
        TanhMLP(widths)


def test_bad_shapes_raise():
    net = TanhMLP((2, 3, 1))
    theta = net.init(0)
    X, Y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(ValueError, match="theta"):
        net.loss(theta[:-1], X, Y)
    with pytest.raises(ValueError, match="X must have shape"):
        net.loss(theta, np.zeros((4, 3)), Y)
    with pytest.raises(ValueError, match="Y must have shape"):
        net.grad(theta, X, np.zeros(4))
