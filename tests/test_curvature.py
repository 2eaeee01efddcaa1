"""Tests of lecturelib.curvature against Hessians known exactly or formed independently."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lecturelib import curvature, linear_nets
from lecturelib.curvature import (
    ConvergenceWarning,
    hessian_vector_product,
    top_hessian_eigenvalue,
    track_sharpness,
)
from lecturelib.mlp import TanhMLP

TOL = 1e-6


def random_symmetric(eigenvalues, seed: int) -> np.ndarray:
    """A symmetric matrix with the given eigenvalues and a random orthonormal eigenbasis."""
    n = len(eigenvalues)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return (q * np.asarray(eigenvalues, dtype=float)) @ q.T


def quadratic_gradient(A: np.ndarray, center: np.ndarray):
    """The gradient of L(θ) = ½ (θ − c)ᵀ A (θ − c): θ ↦ A (θ − c)."""
    return lambda theta: A @ (theta - center)


def finite_difference_hessian(grad, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The Hessian formed column by column from central differences of the gradient, then symmetrized."""
    eye = np.eye(theta.size)
    cols = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in eye])
    return 0.5 * (cols + cols.T)


# -- random quadratics ------------------------------------------------------------------------------------------

spectra = st.lists(st.floats(-100.0, 100.0, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(eigenvalues=spectra, seed=st.integers(0, 2**20))
def test_quadratic_any_spectrum(eigenvalues, seed):
    """Largest algebraic eigenvalue to tol relative to ‖H‖, whatever the signs: negative ones included."""
    A = random_symmetric(eigenvalues, seed)
    rng = np.random.default_rng(seed + 1)
    theta = rng.standard_normal(A.shape[0])
    exact = max(eigenvalues)
    estimate = top_hessian_eigenvalue(quadratic_gradient(A, rng.standard_normal(A.shape[0])), theta, tol=TOL)
    assert abs(estimate - exact) <= TOL * max(np.max(np.abs(eigenvalues)), 1e-300) + 1e-9


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(3, 80),
    top=st.floats(0.5, 1e3),
    gap=st.sampled_from([0.0, 1e-12, 1e-9, 1e-6, 1e-3]),
    seed=st.integers(0, 2**20),
)
def test_quadratic_near_degenerate_top(n, top, gap, seed):
    """Two (nearly) equal top eigenvalues and a dominating negative one: power iteration would return the negative."""
    rng = np.random.default_rng(seed)
    rest = rng.uniform(-3 * top, top * (1 - 2 * max(gap, 1e-3)), size=n - 3)
    eigenvalues = np.concatenate([[top, top * (1 - gap), -3 * top], rest])
    A = random_symmetric(eigenvalues, seed)
    estimate = top_hessian_eigenvalue(quadratic_gradient(A, np.zeros(n)), rng.standard_normal(n), tol=TOL)
    assert abs(estimate - top) <= TOL * 3 * top


def test_negative_definite_gives_least_negative_not_largest_magnitude():
    A = random_symmetric([-1.0, -5.0, -50.0, -200.0], seed=4)
    estimate = top_hessian_eigenvalue(quadratic_gradient(A, np.zeros(4)), np.ones(4))
    assert estimate == pytest.approx(-1.0, abs=200 * TOL)


def test_zero_hessian_and_one_dimension():
    assert top_hessian_eigenvalue(lambda t: np.zeros_like(t), np.ones(5)) == 0.0
    assert top_hessian_eigenvalue(lambda t: -2.5 * t, np.array([3.0])) == pytest.approx(-2.5, rel=1e-9)


def test_hessian_vector_product_exact_on_quadratic():
    A = random_symmetric([3.0, -1.0, 0.5, 10.0], seed=1)
    rng = np.random.default_rng(0)
    theta, v = rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_allclose(hessian_vector_product(quadratic_gradient(A, theta), theta, v), A @ v, atol=1e-8)
    np.testing.assert_array_equal(hessian_vector_product(quadratic_gradient(A, theta), theta, 0 * v), 0 * v)


def test_too_few_iterations_warns_and_underestimates():
    A = random_symmetric(np.linspace(-1, 1, 200) ** 3, seed=2)
    grad = quadratic_gradient(A, np.zeros(200))
    with pytest.warns(ConvergenceWarning, match="n_iter"):
        estimate = top_hessian_eigenvalue(grad, np.ones(200), n_iter=3)
    assert estimate < 1.0  # a Ritz value never exceeds λ_max


# -- a small tanh network, Hessian formed by finite differences -------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tanh_network_against_finite_difference_hessian(seed):
    net = TanhMLP((2, 6, 5, 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 2))
    Y = np.sin(X[:, :1]) + X[:, 1:] ** 2
    theta = net.init(seed, gain=2.0)

    def grad(t):
        return net.grad(t, X, Y)

    H = finite_difference_hessian(grad, theta)
    eigenvalues = np.linalg.eigvalsh(H)
    assert eigenvalues[0] < 0 < eigenvalues[-1]  # an indefinite Hessian: the test can tell max from max-magnitude
    estimate = top_hessian_eigenvalue(grad, theta, tol=TOL)
    assert estimate == pytest.approx(eigenvalues[-1], rel=1e-5)
    v = rng.standard_normal(theta.size)
    np.testing.assert_allclose(hessian_vector_product(grad, theta, v), H @ v, rtol=1e-5, atol=1e-7)


# -- deep scalar networks: the Hessian at a global optimum is known in closed form ------------------------------


def scalar_net_gradient(lam: float):
    """Gradient of ½ (w_L ⋯ w_1 − λ)² over w = (w_1, ..., w_L)."""

    def grad(w):
        others = np.array([np.prod(np.delete(w, i)) for i in range(w.size)])
        return (np.prod(w) - lam) * others

    return grad


@settings(max_examples=40, deadline=None)
@given(
    depth=st.integers(2, 6),
    logs=st.lists(st.floats(-1.0, 1.0), min_size=6, max_size=6),
    lam=st.floats(0.2, 4.0),
)
def test_scalar_deep_net_at_optimum(depth, logs, lam):
    """At w_L⋯w_1 = λ the Hessian is g gᵀ with g_i = Π_{j≠i} w_j: sharpness Σ_i Π_{j≠i} w_j²."""
    w = np.exp(np.asarray(logs[:depth]))
    w[-1] = lam / np.prod(w[:-1])  # put the point on the set of global optima
    others = np.array([np.prod(np.delete(w, i)) for i in range(depth)])
    exact = float(np.sum(others**2))
    assert top_hessian_eigenvalue(scalar_net_gradient(lam), w, tol=TOL) == pytest.approx(exact, rel=10 * TOL)


def flat_linear_net_gradient(R: np.ndarray, shapes: list[tuple[int, int]]):
    """The gradient of ½‖R − W_L⋯W_1‖²_F over the flat vector of all layer entries (linear_nets' layout)."""
    sizes = [a * b for a, b in shapes]
    cuts = np.cumsum(sizes)[:-1]

    def layers(theta):
        return [part.reshape(shape) for part, shape in zip(np.split(theta, cuts), shapes, strict=True)]

    def grad(theta):
        return np.concatenate([g.ravel() for g in linear_nets.gradient(R, layers(theta))])

    return grad, layers


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(2, 5), logs=st.lists(st.floats(-1.0, 1.0), min_size=5, max_size=5), lam=st.floats(0.2, 4.0))
def test_scalar_net_sharpness_is_two_over_theorem1_bound(depth, logs, lam):
    """Scalar layers at a global optimum: 2 / λ_max equals the paper's Theorem 1 bound exactly."""
    w = np.exp(np.asarray(logs[:depth]))
    w[-1] = lam / np.prod(w[:-1])
    grad, layers = flat_linear_net_gradient(np.array([[lam]]), [(1, 1)] * depth)
    top = top_hessian_eigenvalue(grad, w, tol=TOL)
    assert 2 / top == pytest.approx(linear_nets.theorem1_bound(layers(w)), rel=10 * TOL)


@settings(max_examples=25, deadline=None)
@given(depth=st.integers(2, 4), n=st.integers(2, 3), seed=st.integers(0, 2**20))
def test_matrix_net_at_global_optimum(depth, n, seed):
    """Matrix layers at a global optimum: the estimate matches the exact Hessian, and 2/λ_max ≤ Theorem 1's bound."""
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((n, n))
    layers = [np.eye(n) + 0.4 * rng.standard_normal((n, n)) for _ in range(depth - 1)]
    inner = linear_nets.product(layers)
    if np.linalg.cond(inner) > 1e3:
        return  # a nearly singular product: the last layer R·inner⁻¹ would be huge
    layers.append(R @ np.linalg.inv(inner))  # W_L ⋯ W_1 = R: a global optimum
    grad, _ = flat_linear_net_gradient(R, [(n, n)] * depth)
    theta = np.concatenate([w.ravel() for w in layers])
    exact = np.linalg.eigvalsh(linear_nets.hessian(R, layers))[-1]
    top = top_hessian_eigenvalue(grad, theta, tol=TOL)
    assert top == pytest.approx(exact, rel=1e-5)
    assert 2 / top <= linear_nets.theorem1_bound(layers) * (1 + 1e-5)


@settings(max_examples=20, deadline=None)
@given(depth=st.integers(1, 4), seed=st.integers(0, 2**20))
def test_matrix_net_anywhere_against_exact_hessian(depth, seed):
    """Away from optima the Hessian is indefinite; the estimate is still its largest eigenvalue."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 2)] + [(3, 3)] * (depth - 1)
    layers = [rng.standard_normal(s) for s in shapes]
    R = 3 * rng.standard_normal((3, 2))
    grad, _ = flat_linear_net_gradient(R, shapes)
    theta = np.concatenate([w.ravel() for w in layers])
    eigenvalues = np.linalg.eigvalsh(linear_nets.hessian(R, layers))
    top = top_hessian_eigenvalue(grad, theta, tol=TOL)
    assert abs(top - eigenvalues[-1]) <= 1e-5 * np.max(np.abs(eigenvalues))


# -- track_sharpness -------------------------------------------------------------------------------------------


def test_track_sharpness_on_a_quadratic():
    """GD on ½ θᵀAθ: constant sharpness; loss contracts per mode by (1 − δλ)²; divergence above 2/λ_max."""
    eigenvalues = np.array([4.0, 1.0, -0.0, 0.25])
    A = np.diag(eigenvalues)
    theta0 = np.ones(4)

    def loss(t):
        return 0.5 * t @ A @ t

    run = track_sharpness(loss, lambda t: A @ t, theta0, 0.3, 40, every=5)
    assert not run.diverged
    np.testing.assert_allclose(run.sharpness, 4.0, rtol=1e-4)
    np.testing.assert_array_equal(run.sharpness_steps, np.arange(0, 41, 5))
    k = np.arange(41)[:, None]
    expected = 0.5 * np.sum(eigenvalues * (1 - 0.3 * eigenvalues) ** (2 * k), axis=1)
    np.testing.assert_allclose(run.losses, expected, rtol=1e-10)
    np.testing.assert_allclose(run.theta, (1 - 0.3 * eigenvalues) ** 40)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # divergence is a flag, not a wall of overflow warnings
        blown = track_sharpness(loss, lambda t: A @ t, theta0, 2 / 4.0 * 1.05, 2000, every=100)
    assert blown.diverged
    assert np.isnan(blown.losses[-1]) and np.isfinite(blown.losses[0])


# -- errors ----------------------------------------------------------------------------------------------------


def identity_grad(t):
    return t


@pytest.mark.parametrize(
    ("grad", "theta", "kwargs", "error", "match"),
    [
        (identity_grad, np.array([1.0, np.nan]), {}, ValueError, "finite"),
        (identity_grad, np.array([1.0, np.inf]), {}, ValueError, "finite"),
        (identity_grad, np.ones((2, 2)), {}, ValueError, "theta must have 1 dimension"),
        (identity_grad, np.ones(0), {}, ValueError, "theta must not be empty"),
        (identity_grad, "abc", {}, TypeError, "theta"),
        (lambda t: t[:-1], np.ones(3), {}, ValueError, "shape of theta"),
        (lambda t: np.ones((3, 1)), np.ones(3), {}, ValueError, "shape of theta"),
        (lambda t: t / 0.0, np.ones(3), {}, ValueError, "NaN or infinite"),
        ("grad", np.ones(3), {}, TypeError, "callable"),
        (identity_grad, np.ones(3), {"n_iter": 0}, ValueError, "n_iter"),
        (identity_grad, np.ones(3), {"n_iter": 2.5}, TypeError, "n_iter"),
        (identity_grad, np.ones(3), {"n_iter": True}, TypeError, "n_iter"),
        (identity_grad, np.ones(3), {"tol": 0.0}, ValueError, "tol"),
        (identity_grad, np.ones(3), {"tol": 1.5}, ValueError, "tol"),
        (identity_grad, np.ones(3), {"tol": "small"}, TypeError, "tol"),
        (identity_grad, np.ones(3), {"seed": 1.0}, TypeError, "seed"),
    ],
)
def test_bad_arguments_raise(grad, theta, kwargs, error, match):
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(error, match=match):
        top_hessian_eigenvalue(grad, theta, **kwargs)


def test_track_sharpness_bad_arguments():
    with pytest.raises(ValueError, match="step"):
        track_sharpness(np.sum, identity_grad, np.ones(2), 0.0, 10)
    with pytest.raises(ValueError, match="every"):
        track_sharpness(np.sum, identity_grad, np.ones(2), 0.1, 10, every=0)
    with pytest.raises(TypeError, match="n_steps"):
        track_sharpness(np.sum, identity_grad, np.ones(2), 0.1, 10.0)


@pytest.mark.parametrize("eigenvalues, seed", [([0.0, 0.0001, 0.0, 0.0, -18.0], 15), ([0.0] * 29 + [1e-4], 3)])
def test_a_cluster_just_below_the_top_eigenvalue_does_not_stop_lanczos_early(eigenvalues, seed):
    """Many zeros and one tiny positive eigenvalue: a small residual alone stopped at a Ritz value in the cluster."""
    A = random_symmetric(eigenvalues, seed)
    rng = np.random.default_rng(seed + 1)
    theta = rng.standard_normal(A.shape[0])
    estimate = top_hessian_eigenvalue(quadratic_gradient(A, rng.standard_normal(A.shape[0])), theta, tol=TOL)
    assert abs(estimate - max(eigenvalues)) <= TOL * max(np.max(np.abs(eigenvalues)), 1e-300) + 1e-9


def test_track_sharpness_reports_divergence_when_the_way_out_cannot_be_measured(monkeypatch):
    """A sharpness that cannot be measured on the way to a divergence is NaN, and the divergence is the result; on a
    run that does not diverge, the same failure is raised."""
    real = curvature.top_hessian_eigenvalue

    def fails_far_out(grad, theta, **kwargs):
        if np.linalg.norm(theta) > 100.0:
            raise ValueError("grad is not differentiable near theta (stand-in for a failed difference quotient)")
        return real(grad, theta, **kwargs)

    monkeypatch.setattr(curvature, "top_hessian_eigenvalue", fails_far_out)
    scale = np.array([1.0, 3.0])
    loss, grad = (lambda t: 0.5 * float(np.sum(scale * t * t))), (lambda t: scale * t)
    out = curvature.track_sharpness(loss, grad, [1.0, 1.0], 1.0, 200, every=1)  # 1 - 3 = -2: the second axis doubles
    assert out.diverged
    assert np.isnan(out.sharpness[out.sharpness_steps >= 10]).all()
    assert np.allclose(out.sharpness[:4], 3.0)
    with pytest.raises(ValueError, match="not differentiable"):
        curvature.track_sharpness(loss, grad, [200.0, 200.0], 0.1, 20, every=1)  # converges, but starts far out
