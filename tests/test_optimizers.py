"""Tests of lecturelib.optimizers: the thresholds derived in sympy from the linearized maps (Jury conditions), checked
on random instances by eigenvalues and by running the optimizers; the SGD second-moment map against an exact
enumeration of batches and a Monte Carlo estimate; the optimizers inside track_sharpness; bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lecturelib import TanhMLP, track_sharpness
from lecturelib.curvature import _preconditioned_sharpness
from lecturelib.optimizers import (
    GD,
    Adam,
    HeavyBall,
    MiniBatchSGD,
    Nesterov,
    adam_edge,
    heavy_ball_max_step,
    nesterov_max_step,
    sgd_lyapunov_exponent,
    sgd_mean_square_radius,
    sgd_second_moment_map,
)

delta, lam, beta, mu = sp.symbols("delta lambda beta mu", positive=True)
z = sp.symbols("z")


# -- the linearized maps, built from the update rules, and their characteristic polynomials ----------------------


def heavy_ball_matrix():
    """State (x_k, x_{k-1}) on f = ½ λ x²: x_{k+1} = x_k − δ λ x_k + β (x_k − x_{k−1})."""
    return sp.Matrix([[1 + beta - delta * lam, -beta], [1, 0]])


def nesterov_matrix():
    """State (x_k, x_{k-1}): y = x_k + β (x_k − x_{k−1}), x_{k+1} = y − δ λ y."""
    y_row = sp.Matrix([[1 + beta, -beta]])
    return sp.Matrix.vstack((1 - delta * lam) * y_row, sp.Matrix([[1, 0]]))


def adam_frozen_matrix():
    """State (e, m) along an eigenvector of P⁻¹H with eigenvalue μ: m⁺ = β m + (1 − β) μ e, e⁺ = e − δ m⁺."""
    m_row = sp.Matrix([[(1 - beta) * mu, beta]])
    return sp.Matrix.vstack(sp.Matrix([[1, 0]]) - delta * m_row, m_row)


def jury_conditions(poly):
    """Jury's conditions for z² + a₁ z + a₀ to have both roots in the open unit disc: p(1) > 0, p(−1) > 0, |a₀| < 1."""
    p = sp.Poly(poly, z)
    assert p.degree() == 2 and p.LC() == 1
    a0 = p.coeff_monomial(1)
    return sp.simplify(p.eval(1)), sp.simplify(p.eval(-1)), a0


@pytest.mark.parametrize(
    ("matrix", "curv", "threshold"),
    [
        (heavy_ball_matrix, lam, lambda: heavy_ball_max_step),
        (nesterov_matrix, lam, lambda: nesterov_max_step),
        (adam_frozen_matrix, mu, lambda: adam_edge),
    ],
    ids=["heavy ball", "nesterov", "adam"],
)
def test_threshold_is_the_jury_boundary(matrix, curv, threshold):
    """Symbolically: p(1) > 0 always, p(−1) = 0 exactly at the threshold, and |a₀| < 1 holds up to it."""
    poly = matrix().charpoly(z).as_expr()
    at_one, at_minus_one, a0 = jury_conditions(poly)
    assert sp.simplify(at_one - delta * curv * (1 if curv is lam else (1 - beta))) == 0  # δλ (δ(1−β)μ for Adam) > 0
    if curv is lam:
        (boundary,) = sp.solve(sp.Eq(at_minus_one, 0), delta)  # the largest stable step
        expected = (
            sp.Rational(2) * (1 + beta) / lam
            if matrix is heavy_ball_matrix
            else (2 + 2 * beta) / ((1 + 2 * beta) * lam)
        )
        assert sp.simplify(boundary - expected) == 0
        # p(−1) is decreasing in δ, so every step below the boundary satisfies it
        assert sp.simplify(sp.diff(at_minus_one, delta)).is_negative
        # |a₀| < 1 on (0, boundary): a₀ is β (heavy ball) or β(1 − δλ) (Nesterov), and at the boundary |a₀| < 1
        for value in (a0.subs(delta, 0), a0.subs(delta, boundary)):
            assert sp.simplify(1 - value**2).subs(beta, sp.Rational(1, 3)) > 0
            assert sp.simplify(1 - value**2).subs(beta, sp.Rational(99, 100)) > 0
        f = threshold()
        for lv, bv in [(0.7, 0.0), (3.0, 0.5), (10.0, 0.9)]:
            assert f(lv, bv) == pytest.approx(float(expected.subs({lam: lv, beta: bv})), rel=1e-14)
    else:
        (boundary,) = sp.solve(sp.Eq(at_minus_one, 0), mu)  # the largest stable preconditioned sharpness
        assert sp.simplify(boundary - (2 + 2 * beta) / ((1 - beta) * delta)) == 0
        assert sp.simplify(a0 - beta) == 0
        assert boundary.subs({beta: sp.Rational(9, 10)}) == 38 / delta
        for dv, bv in [(1e-3, 0.9), (0.1, 0.0), (2.0, 0.5)]:
            assert adam_edge(dv, bv) == pytest.approx(float(boundary.subs({delta: dv, beta: bv})), rel=1e-14)


def test_nesterov_threshold_is_below_gradient_descent_and_heavy_ball():
    b = sp.symbols("b", positive=True)
    gd = 2
    nes = (2 + 2 * b) / (1 + 2 * b)
    assert sp.simplify(gd - nes - 2 * b / (1 + 2 * b)) == 0  # 2 − (2+2β)/(1+2β) = 2β/(1+2β) > 0 for β > 0


# -- numerically, on random instances ----------------------------------------------------------------------------

betas = st.floats(0.0, 0.95)
curvatures = st.floats(1e-2, 1e3)


def companion_radius(kind: str, c: float, b: float) -> float:
    """The spectral radius of the linearized map, numerically, with c = δλ."""
    if kind == "heavy ball":
        M = np.array([[1 + b - c, -b], [1.0, 0.0]])
    else:
        M = np.array([[(1 - c) * (1 + b), -(1 - c) * b], [1.0, 0.0]])
    return float(np.max(np.abs(np.linalg.eigvals(M))))


def run_on_quadratic(optimizer, curvature: float, step: float, n_steps: int) -> np.ndarray:
    """|x_k| of the library's optimizer on f(x) = ½ λ x² from x = 1."""

    def grad(x):
        return curvature * x

    x = np.array([1.0])
    state = optimizer.init(x)
    out = [1.0]
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_steps):
            x, state = optimizer.update(k, x, grad, step, state)
            out.append(abs(float(x[0])))
    return np.array(out)


@settings(max_examples=80, deadline=None)
@given(curvature=curvatures, b=betas, side=st.sampled_from([-1, 1]))
@pytest.mark.parametrize("kind", ["heavy ball", "nesterov"])
def test_momentum_thresholds_numerically(kind, curvature, b, side):
    """Just below the threshold the companion matrix has radius < 1 and the iterates of the library's optimizer decay;
    just above, radius > 1 and they grow."""
    if kind == "heavy ball":
        limit, optimizer = heavy_ball_max_step(curvature, b), HeavyBall(b)
    else:
        limit, optimizer = nesterov_max_step(curvature, b), Nesterov(b)
    step = limit * (1 + side * 0.02)
    rho = companion_radius(kind, step * curvature, b)
    assert (rho < 1) if side < 0 else (rho > 1)
    n = int(min(20_000, np.ceil(40 / abs(np.log(rho)))))
    path = run_on_quadratic(optimizer, curvature, step, n)
    if side < 0:
        assert path[-1] < 1e-6 * max(path.max(), 1.0)
    else:
        assert not np.isfinite(path[-1]) or path[-1] > 1e6


@settings(max_examples=60, deadline=None)
@given(
    d=st.integers(1, 4),
    b1=st.floats(0.0, 0.95),
    step=st.floats(1e-3, 1.0),
    seed=st.integers(0, 2**20),
    side=st.sampled_from([-1, 1]),
)
def test_adam_edge_frozen_preconditioner_numerically(d, b1, step, seed, side):
    """Adam's momentum with a frozen diagonal P on a quadratic ½ xᵀAx: stable iff λ_max(P⁻¹A) < adam_edge."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = (Q * rng.uniform(0.1, 1.0, d)) @ Q.T
    p = rng.uniform(0.2, 5.0, d)
    top = float(np.max(np.linalg.eigvals(A / p[:, None]).real))
    A *= adam_edge(step, b1) * (1 + side * 0.03) / top  # put λ_max(P⁻¹A) just below / above the edge
    # the linear map on (e, m)
    Pinv_A = A / p[:, None]
    M = np.block([[np.eye(d) - step * (1 - b1) * Pinv_A, -step * b1 * np.eye(d)], [(1 - b1) * Pinv_A, b1 * np.eye(d)]])
    rho = float(np.max(np.abs(np.linalg.eigvals(M))))
    assert (rho < 1) if side < 0 else (rho > 1)


@settings(max_examples=100, deadline=None)
@given(
    curv=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=12), step=st.floats(1e-3, 1.0), batch=st.integers(1, 20)
)
def test_sgd_radius_one_dimensional_formula(curv, step, batch):
    h = np.array(curv)
    a, s2 = h.mean(), h.var()
    expected = (1 - step * a) ** 2 + step**2 * s2 / batch
    assert sgd_mean_square_radius(h[:, None, None], step, batch) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def random_hessians(rng, n, d):
    G = rng.standard_normal((n, d, d)) * rng.uniform(0.2, 2.0, (n, 1, 1))
    return np.einsum("nij,nkj->nik", G, G) / d  # symmetric positive semidefinite, uneven across examples


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3),
    d=st.integers(1, 3),
    batch=st.integers(1, 3),
    step=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**20),
)
def test_sgd_map_equals_the_exact_average_over_all_batches(n, d, batch, step, seed):
    """Enumerate all n^B equally likely batches (with replacement): the closed form is the exact expectation."""
    rng = np.random.default_rng(seed)
    H = random_hessians(rng, n, d)
    M = sgd_second_moment_map(H, step, batch)
    Sigma = rng.standard_normal((d, d))
    exact = np.zeros((d, d))
    batches = list(itertools.product(range(n), repeat=batch))
    for idx in batches:
        A = np.eye(d) - step * H[list(idx)].mean(axis=0)
        exact += A @ Sigma @ A.T
    exact /= len(batches)
    np.testing.assert_allclose(M @ Sigma.ravel(), exact.ravel(), rtol=1e-10, atol=1e-10 * np.abs(exact).max())


@settings(max_examples=10, deadline=None)
@given(d=st.integers(1, 3), batch=st.integers(1, 4), seed=st.integers(0, 2**20))
def test_sgd_second_moment_against_monte_carlo(d, batch, seed):
    """Run many independent SGD chains on the quadratic model: their mean ‖e_k‖² after k steps agrees with the trace
    of M^k Σ₀ (within the Monte Carlo error), and the radius bounds its growth."""
    rng = np.random.default_rng(seed)
    n = 6
    H = random_hessians(rng, n, d)
    step = float(rng.uniform(0.2, 1.2) / np.linalg.eigvalsh(H.mean(axis=0)).max())
    M = sgd_second_moment_map(H, step, batch)
    chains, k = 100_000, 4
    e = rng.standard_normal((chains, d))  # Σ₀ = I
    for _ in range(k):
        idx = rng.integers(0, n, size=(chains, batch))
        e = e - step * np.einsum("cij,cj->ci", H[idx].mean(axis=1), e)
    predicted = np.trace((np.linalg.matrix_power(M, k) @ np.eye(d).ravel()).reshape(d, d))
    sq = np.sum(e * e, axis=1)
    assert abs(sq.mean() - predicted) <= 6 * sq.std() / np.sqrt(chains) + 0.02 * predicted
    # the radius: the second moment of the slowest-decaying (or fastest-growing) direction grows as ρ^k
    rho = sgd_mean_square_radius(H, step, batch)
    vals, vecs = np.linalg.eig(M)
    top = vecs[:, np.argmax(np.abs(vals))].real.reshape(d, d)
    top = 0.5 * (top + top.T)
    np.testing.assert_allclose((M @ top.ravel()), rho * top.ravel(), atol=1e-8 * np.abs(top).max() * max(rho, 1))
    w = np.linalg.eigvalsh(top * np.sign(np.trace(top)))
    assert w[0] >= -1e-8 * w[-1]  # a positive map: its top eigenvector is a second moment (positive semidefinite)


def test_sgd_radius_needs_both_conditions_and_batch_is_a_knob():
    """1-D: mean curvature a below 2/δ but spread s above √B/δ: unstable at B = 1, stable at a larger batch; the
    radius at B = n with replacement is still above the full-batch (1 − δa)²."""
    h = np.array([0.1, 0.1, 0.1, 0.1, 7.6])  # mean 1.6, std 3.0
    step = 1.0
    a, s = h.mean(), h.std()
    assert a < 2 / step and s > 1 / step
    radii = {B: sgd_mean_square_radius(h[:, None, None], step, B) for B in (1, 2, 4, 32)}
    assert radii[1] > 1 and radii[32] < 1
    assert all(radii[B1] > radii[B2] for B1, B2 in [(1, 2), (2, 4), (4, 32)])
    assert radii[32] > (1 - step * a) ** 2


# -- the optimizers in track_sharpness ---------------------------------------------------------------------------


def quadratic(seed: int, d: int = 6):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = (Q * np.linspace(0.5, 5.0, d)) @ Q.T
    return A, (lambda t: 0.5 * t @ A @ t), (lambda t: A @ t), rng.standard_normal(d)


def test_track_sharpness_runs_heavy_ball_and_nesterov_exactly():
    A, loss, grad, x0 = quadratic(0)
    step, b = 0.3, 0.7
    run = track_sharpness(loss, grad, x0, step, 30, every=10, optimizer=HeavyBall(b))
    x, prev = x0.copy(), x0.copy()
    for _ in range(30):
        x, prev = x - step * A @ x + b * (x - prev), x
    np.testing.assert_allclose(run.theta, x, rtol=1e-12)
    np.testing.assert_allclose(run.sharpness, 5.0, rtol=1e-6)
    run = track_sharpness(loss, grad, x0, step, 30, every=10, optimizer=Nesterov(b))
    x, y = x0.copy(), x0.copy()
    for _ in range(30):
        x_new = y - step * A @ y
        y, x = x_new + b * (x_new - x), x_new
    np.testing.assert_allclose(run.theta, y, rtol=1e-12)
    # GD through the optimizer argument is the default loop
    plain = track_sharpness(loss, grad, x0, step, 30, every=10)
    via = track_sharpness(loss, grad, x0, step, 30, every=10, optimizer=GD())
    np.testing.assert_array_equal(plain.losses, via.losses)


def test_adam_first_step_is_a_sign_step_and_preconditioned_sharpness_is_exact_on_a_quadratic():
    A, loss, grad, x0 = quadratic(1)
    step = 1e-2
    opt = Adam(eps=1e-12)
    state = opt.init(x0)
    x1, state = opt.update(0, x0, grad, step, state)
    np.testing.assert_allclose(x1, x0 - step * np.sign(A @ x0), rtol=1e-9)
    p = opt.preconditioner(state)
    exact = float(np.max(np.linalg.eigvals(A / p[:, None]).real))
    assert _preconditioned_sharpness(grad, x1, p, n_iter=60, tol=1e-8, seed=0) == pytest.approx(exact, rel=1e-6)
    run = track_sharpness(loss, grad, x0, step, 20, every=5, optimizer=Adam())
    assert np.isnan(run.sharpness[0]) and np.all(np.isfinite(run.sharpness[1:]))
    raw = track_sharpness(loss, grad, x0, step, 20, every=5, optimizer=Adam(), preconditioned=False)
    np.testing.assert_array_equal(run.losses, raw.losses)
    np.testing.assert_allclose(raw.sharpness, 5.0, rtol=1e-4)


def test_preconditioned_sharpness_on_the_tanh_network_against_the_dense_hessian():
    net = TanhMLP((1, 6, 1))
    X = np.linspace(-1, 1, 12)[:, None]
    Y = np.sin(2 * X)

    def grad(t):
        return net.grad(t, X, Y)

    theta = net.init(seed=3)
    p = np.random.default_rng(0).uniform(1e-4, 1e-1, net.n_params)
    h = 1e-5
    cols = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(net.n_params)])
    H = 0.5 * (cols + cols.T)
    s = 1 / np.sqrt(p)
    exact = np.linalg.eigvalsh(s[:, None] * H * s[None, :])[-1]
    estimate = _preconditioned_sharpness(grad, theta, p, n_iter=net.n_params, tol=1e-8, seed=0)
    assert estimate == pytest.approx(exact, rel=1e-5)


def test_minibatch_sgd_uses_its_batches_and_warmup_scales_the_step():
    rng = np.random.default_rng(0)
    Xd, yd = rng.standard_normal((8, 3)), rng.standard_normal(8)

    def batch_grad(t, idx):
        return Xd[idx].T @ (Xd[idx] @ t - yd[idx]) / len(idx)

    opt = MiniBatchSGD(batch_grad, 8, 2, seed=5, warmup=4)
    state = opt.init(np.zeros(3))
    draws = np.random.default_rng(5)
    theta = np.ones(3)
    for k in range(6):
        idx = draws.integers(0, 8, size=2)
        expected = theta - 0.1 * min(1, (k + 1) / 4) * batch_grad(theta, idx)
        theta, state = opt.update(k, theta, None, 0.1, state)
        np.testing.assert_allclose(theta, expected, rtol=1e-14)
    assert [GD(warmup=4).step_at(k, 1.0) for k in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


# -- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: heavy_ball_max_step(0.0, 0.5), ValueError, "curvature"),
        (lambda: heavy_ball_max_step(-1.0, 0.5), ValueError, "curvature"),
        (lambda: heavy_ball_max_step(1.0, 1.0), ValueError, "beta"),
        (lambda: heavy_ball_max_step(1.0, -0.1), ValueError, "beta"),
        (lambda: heavy_ball_max_step(1.0, "0.5"), TypeError, "beta"),
        (lambda: nesterov_max_step(float("inf"), 0.5), ValueError, "curvature"),
        (lambda: nesterov_max_step(1.0, True), TypeError, "beta"),
        (lambda: adam_edge(0.0, 0.9), ValueError, "step"),
        (lambda: adam_edge(1e-3, 1.5), ValueError, "beta1"),
        (lambda: sgd_mean_square_radius(np.ones((3, 1, 1)), 0.1, 0), ValueError, "batch"),
        (lambda: sgd_mean_square_radius(np.ones((3, 1, 1)), 0.1, 1.5), TypeError, "batch"),
        (lambda: sgd_mean_square_radius(np.ones((3, 1, 1)), -0.1, 1), ValueError, "step"),
        (lambda: sgd_mean_square_radius(np.array([[[1.0, 2.0], [0.0, 1.0]]]), 0.1, 1), ValueError, "symmetric"),
        (lambda: sgd_mean_square_radius(np.ones((3, 2, 3)), 0.1, 1), ValueError, "shape"),
        (lambda: sgd_mean_square_radius(np.ones((2, 2)), 0.1, 1), ValueError, "shape"),
        (lambda: sgd_mean_square_radius(np.full((1, 1, 1), np.nan), 0.1, 1), ValueError, "finite"),
        (lambda: sgd_mean_square_radius("abc", 0.1, 1), TypeError, "hessians"),
        (lambda: sgd_mean_square_radius(np.ones((3, 1, 1)), 0.1, 4, replace=False), ValueError, "batch"),
        (lambda: sgd_mean_square_radius(np.ones((3, 1, 1)), 0.1, 2, replace="no"), TypeError, "replace"),
        (lambda: sgd_lyapunov_exponent(np.ones((3, 1, 1)), 0.1, 0), ValueError, "batch"),
        (lambda: sgd_lyapunov_exponent(np.ones((3, 1, 1)), 0.1, 1, n_chains=1), ValueError, "n_chains"),
        (lambda: sgd_lyapunov_exponent(np.ones((3, 1, 1)), 0.1, 1, n_steps=0), ValueError, "n_steps"),
        (lambda: sgd_lyapunov_exponent(np.ones((3, 1, 1)), 0.1, 1, seed=-1), ValueError, "seed"),
        (lambda: sgd_lyapunov_exponent(np.ones((3, 1, 1)), 0.0, 1), ValueError, "step"),
        (lambda: sgd_lyapunov_exponent(np.ones((3, 2, 3)), 0.1, 1), ValueError, "shape"),
        (lambda: HeavyBall(1.0), ValueError, "beta"),
        (lambda: Adam(beta2=1.0), ValueError, "beta2"),
        (lambda: Adam(eps=0.0), ValueError, "eps"),
        (lambda: GD(warmup=-1), ValueError, "warmup"),
        (lambda: MiniBatchSGD(None, 5, 1, 0), TypeError, "batch_grad"),
        (lambda: MiniBatchSGD(lambda t, i: t, 5, 0, 0), ValueError, "batch"),
        (
            lambda: track_sharpness(lambda t: 0.0, lambda t: t, np.ones(2), 0.1, 2, optimizer="adam"),
            TypeError,
            "optimizer",
        ),
    ],
)
def test_bad_input(call, error, name):
    with pytest.raises(error, match=name):
        call()


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(2, 6),
    d=st.integers(1, 3),
    batch=st.integers(1, 4),
    step=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**20),
)
def test_sgd_map_without_replacement_equals_the_exact_average_over_all_batches(n, d, batch, step, seed):
    """Enumerate all subsets of B distinct examples: the variance factor (n - B)/(B(n - 1)) is exact."""
    batch = min(batch, n)
    rng = np.random.default_rng(seed)
    H = random_hessians(rng, n, d)
    M = sgd_second_moment_map(H, step, batch, replace=False)
    Sigma = rng.standard_normal((d, d))
    exact = np.zeros((d, d))
    subsets = list(itertools.combinations(range(n), batch))
    for idx in subsets:
        A = np.eye(d) - step * H[list(idx)].mean(axis=0)
        exact += A @ Sigma @ A.T
    exact /= len(subsets)
    np.testing.assert_allclose(M @ Sigma.ravel(), exact.ravel(), rtol=1e-10, atol=1e-10 * np.abs(exact).max())
    if batch == n:  # the whole data set: gradient descent's map, (I - δH̄) ⊗ (I - δH̄)
        A = np.eye(d) - step * H.mean(axis=0)
        np.testing.assert_allclose(M, np.kron(A, A), atol=1e-12)


def test_sgd_radii_with_and_without_replacement_in_one_dimension():
    # homework 4.3's curvatures: with replacement (1 - δa)² + δ²s²/B; without, s²/B becomes s²(n - B)/(B(n - 1))
    h = np.array([0.5] * 9 + [5.5])
    for B in (1, 2, 3, 10):
        with_ = sgd_mean_square_radius(h[:, None, None], 1.0, B)
        without = sgd_mean_square_radius(h[:, None, None], 1.0, B, replace=False)
        assert abs(with_ - h.var() / B) < 1e-12
        assert abs(without - h.var() * (10 - B) / (B * 9)) < 1e-12
    assert abs(sgd_mean_square_radius(h[:, None, None], 1.0, 2, replace=False) - 1.0) < 1e-12


def _exact_lyapunov_1d(h, step, batch):
    """E log|1 - δ h_B| over all n^B equally likely batches drawn with replacement."""
    return float(np.mean([np.log(abs(1 - step * np.mean(t))) for t in itertools.product(h, repeat=batch)]))


@pytest.mark.parametrize(
    ("h", "step", "batch"),
    [
        (np.array([0.5] * 9 + [5.5]), 1.0, 1),
        (np.array([0.5] * 9 + [5.5]), 1.0, 2),
        (np.array([0.2] * 8 + [4.2] * 2), 1.0, 3),
        (np.array([0.3, 1.1, 2.9, 4.0]), 0.8, 2),  # a positive exponent: almost every run leaves
    ],
)
def test_lyapunov_exponent_is_the_exact_mean_log_in_one_dimension(h, step, batch):
    exact = _exact_lyapunov_1d(h, step, batch)
    estimate, error = sgd_lyapunov_exponent(h[:, None, None], step, batch, n_steps=4000, seed=3)
    assert 0 < error < 0.01
    assert abs(estimate - exact) < 4 * error + 1e-3  # 4 standard errors, plus the O(1/T) bias of the start


def test_lyapunov_exponent_against_long_independent_monte_carlo_runs():
    """The chapter's two-dimensional example: one long run per batch size, written here without the library (a
    product of 2·10⁵ random factors, renormalized), agrees with the estimate within the two errors."""
    rng = np.random.default_rng(0)
    directions = rng.standard_normal((20, 2))
    norms = np.where(np.arange(20) % 2, 1.4, 0.4)
    features = directions / np.linalg.norm(directions, axis=1, keepdims=True) * norms[:, None]
    H = np.einsum("ni,nj->nij", features, features)
    step = 1.5 / np.linalg.eigvalsh(H.mean(axis=0))[-1]
    mc = np.random.default_rng(12345)
    T, blocks = 200_000, 50
    for batch in (1, 2, 3):
        idx = mc.integers(0, 20, size=(T, batch))
        factors = np.eye(2) - step * H[idx].mean(axis=1)
        v, logs = np.array([1.0, 0.0]), np.empty(T)
        for k in range(T):
            v = factors[k] @ v
            logs[k] = np.log(np.linalg.norm(v))
            v /= np.exp(logs[k])
        block_means = logs.reshape(blocks, -1).mean(axis=1)  # batch means: the blocks are nearly independent
        long_run, long_error = logs.mean(), block_means.std(ddof=1) / np.sqrt(blocks)
        estimate, error = sgd_lyapunov_exponent(H, step, batch, n_steps=3000, seed=batch)
        assert abs(estimate - long_run) < 4 * np.hypot(error, long_error) + 1e-3, (batch, estimate, long_run)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 3), batch=st.integers(1, 4), seed=st.integers(0, 2**20))
def test_lyapunov_exponent_is_at_most_half_the_log_of_the_mean_square_radius(n, d, batch, seed):
    """Jensen: E log‖e_T‖ <= ½ log E‖e_T‖², so γ <= ½ log ρ; a negative radius test implies a negative exponent."""
    rng = np.random.default_rng(seed)
    H = random_hessians(rng, n, d)
    step = float(rng.uniform(0.2, 2.5) / np.linalg.eigvalsh(H.mean(axis=0)).max())
    estimate, error = sgd_lyapunov_exponent(H, step, batch, n_steps=400, n_chains=32, seed=seed)
    rho = sgd_mean_square_radius(H, step, batch)
    assert estimate <= 0.5 * np.log(rho) + 4 * error + 0.02  # the bias of a 400-step chain is O(1/400)


def test_lyapunov_exponent_edge_cases():
    # an exact zero factor (1 - δh = 0 for h = 1/δ with a single example): the product vanishes, γ = -inf
    assert sgd_lyapunov_exponent(np.array([[[2.0]]]), 0.5, 1, n_steps=5) == (-np.inf, 0.0)
    # one example, no randomness: γ = log|1 - δh| exactly, with zero spread between the chains
    estimate, error = sgd_lyapunov_exponent(np.array([[[3.0]]]), 1.0, 2, n_steps=50)
    assert abs(estimate - np.log(2.0)) < 1e-12 and error < 1e-12
    # the same seed gives the same estimate
    H = np.array([[[1.0, 0.2], [0.2, 0.5]], [[3.0, 0.0], [0.0, 0.1]]])
    assert sgd_lyapunov_exponent(H, 0.4, 1, n_steps=100, seed=7) == sgd_lyapunov_exponent(
        H, 0.4, 1, n_steps=100, seed=7
    )


@pytest.mark.filterwarnings("error")
def test_huge_hessians_whose_mean_overflows_are_refused_without_a_warning():
    # hypothesis found it: the sum in the mean of two Hessians of 1e308 overflowed with a RuntimeWarning
    H = np.array([[[1e308]], [[1e308]]])
    with pytest.raises(ValueError, match="step and hessians are too large together"):
        sgd_second_moment_map(H, 0.1, 2)
    with pytest.raises(ValueError, match="step and hessians are too large together"):
        sgd_mean_square_radius(H, 0.1, 2)
    with pytest.raises(ValueError, match="step and hessians are too large together"):
        sgd_lyapunov_exponent(H, 1e300, 2, n_steps=3)
