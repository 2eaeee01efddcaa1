"""The statements of Nar & Sastry on deep linear networks, confirmed on random instances.

The Hessian is formed independently of the library's `hessian`, by central finite differences of the gradient.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lecturelib import gd
from lecturelib import linear_nets as ln

SETTINGS = settings(max_examples=25, deadline=None)


# ---------------------------------------------------------------------------------------------------------------
# helpers


def fd_hessian(R, weights, h=1e-5):
    """The Hessian by central differences of the analytic gradient (coordinates: layers flattened row by row)."""
    shapes = [w.shape for w in weights]
    sizes = [w.size for w in weights]
    theta = np.concatenate([w.ravel() for w in weights])

    def grad(vector):
        layers, start = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            layers.append(vector[start : start + size].reshape(shape))
            start += size
        return np.concatenate([g.ravel() for g in ln.gradient(R, layers)])

    n = theta.size
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return (H + H.T) / 2


def random_orthogonal(rng, n):
    Q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return Q * np.sign(np.diag(r))


def random_symmetric(rng, eigenvalues):
    Q = random_orthogonal(rng, len(eigenvalues))
    return Q @ np.diag(eigenvalues) @ Q.T


def balanced_factorization(rng, R, L):
    """Layers W_j = Q_j Σ^{1/L} Q_{j-1}^T with random orthogonal Q_j: a balanced global optimum."""
    U, s, Vt = np.linalg.svd(R)
    n = len(s)
    Q = [Vt.T] + [random_orthogonal(rng, n) for _ in range(L - 1)] + [U]
    root = np.diag(s ** (1 / L))
    return [Q[j + 1] @ root @ Q[j].T for j in range(L)]


def unbalanced_factorization(rng, R, L):
    """Random well-conditioned W_1..W_{L-1} and W_L = R (W_{L-1}...W_1)^{-1}: a global optimum."""
    n = R.shape[0]
    layers = [np.eye(n) + 0.4 * rng.normal(size=(n, n)) for _ in range(L - 1)]
    layers.append(R @ np.linalg.inv(ln.product(layers)) if layers else R.copy())
    return layers


def matrix_root(R, L):
    eig, vec = np.linalg.eigh(R)
    return (vec * eig ** (1 / L)) @ vec.T


# ---------------------------------------------------------------------------------------------------------------
# derivatives


def test_gradient_matches_finite_differences_of_the_loss_on_a_non_square_chain():
    rng = np.random.default_rng(1)
    layers = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(5, 2))]
    R = rng.normal(size=(5, 3))
    grads = ln.gradient(R, layers)
    h = 1e-6
    for j, w in enumerate(layers):
        for index in np.ndindex(w.shape):
            plus = [x.copy() for x in layers]
            minus = [x.copy() for x in layers]
            plus[j][index] += h
            minus[j][index] -= h
            fd = (ln.loss(R, plus) - ln.loss(R, minus)) / (2 * h)
            assert fd == pytest.approx(grads[j][index], rel=1e-6, abs=1e-7)


@SETTINGS
@given(seed=st.integers(0, 10**6), L=st.integers(1, 4), n=st.integers(1, 3))
def test_hessian_matches_finite_differences_of_the_gradient(seed, L, n):
    rng = np.random.default_rng(seed)
    layers = [rng.normal(size=(n, n)) for _ in range(L)]
    R = rng.normal(size=(n, n))
    np.testing.assert_allclose(ln.hessian(R, layers), fd_hessian(R, layers), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# Theorem 1


@SETTINGS
@given(seed=st.integers(0, 10**6), L=st.integers(2, 4), n=st.integers(1, 3), balanced=st.booleans())
def test_theorem1_bound_is_never_below_two_over_the_top_hessian_eigenvalue_at_a_global_optimum(seed, L, n, balanced):
    rng = np.random.default_rng(seed)
    R = rng.normal(size=(n, n))
    factor = balanced_factorization if balanced else unbalanced_factorization
    layers = factor(rng, R, L)
    assert ln.loss(R, layers) < 1e-18 * max(1.0, np.sum(R**2))
    top = np.linalg.eigvalsh(fd_hessian(R, layers))[-1]
    assert ln.theorem1_bound(layers) >= (2 / top) * (1 - 1e-6)


@SETTINGS
@given(ws=st.lists(st.floats(-3, 3).filter(lambda x: abs(x) > 0.05), min_size=1, max_size=5))
def test_theorem1_scalar_case_is_two_over_sum_of_products_and_equals_two_over_lambda_max(ws):
    expected = 2 / sum(np.prod([w for j, w in enumerate(ws) if j != i]) ** 2 for i in range(len(ws)))
    assert ln.theorem1_bound(ws) == pytest.approx(expected, rel=1e-12)
    target = np.prod(ws)  # the weights are a global optimum of ½(w_L...w_1 − target)²
    layers = [np.array([[w]]) for w in ws]
    top = np.linalg.eigvalsh(fd_hessian(np.array([[target]]), layers, h=1e-6))[-1]
    assert ln.theorem1_bound(ws) == pytest.approx(2 / top, rel=1e-6)


def test_theorem1_bound_can_be_made_arbitrarily_small_by_unbalanced_layers():
    bounds = [ln.theorem1_bound([c, 1.0 / c]) for c in (1.0, 10.0, 100.0, 1000.0)]
    assert bounds[0] == pytest.approx(1.0)
    assert all(b2 < b1 / 50 for b1, b2 in itertools.pairwise(bounds))


# ---------------------------------------------------------------------------------------------------------------
# Corollary 1


@SETTINGS
@given(seed=st.integers(0, 10**6), L=st.integers(2, 4), n=st.integers(1, 3))
def test_corollary1_bound_is_the_largest_theorem1_bound_over_global_optima(seed, L, n):
    rng = np.random.default_rng(seed)
    R = rng.normal(size=(n, n))
    bound = ln.corollary1_bound(R, L)
    assert ln.theorem1_bound(balanced_factorization(rng, R, L)) == pytest.approx(bound, rel=1e-9)
    assert ln.theorem1_bound(unbalanced_factorization(rng, R, L)) <= bound * (1 + 1e-9)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10**6), L=st.integers(2, 4), n=st.integers(1, 3))
def test_a_step_five_percent_above_corollary1_does_not_reach_a_global_optimum(seed, L, n):
    rng = np.random.default_rng(seed)
    R = random_symmetric(rng, rng.uniform(0.3, 3.0, size=n))
    step = 1.05 * ln.corollary1_bound(R, L)
    inits = ["identity"] + [[np.eye(n) + 0.3 * rng.normal(size=(n, n)) for _ in range(L)] for _ in range(3)]
    for init in inits:
        result = ln.train(R, L, step, 3000, init=init)
        assert result.diverged or result.losses[-1] > 1e-8
    # ...while the same runs just below Theorem 2's step from identity do converge
    assert ln.train(R, L, ln.theorem2_step(R, L), 3000).losses[-1] < 1e-12


# ---------------------------------------------------------------------------------------------------------------
# Corollary 2


def test_corollary2_holds_for_every_run_that_converged():
    rng = np.random.default_rng(7)
    checked = 0
    for L in (2, 3, 4):
        for scale in (0.5, 2.0, 5.0):
            for step in (0.01, 0.03, 0.1):
                R = scale * rng.normal(size=(3, 3))
                init = [np.eye(3) + 0.3 * rng.normal(size=(3, 3)) for _ in range(L)]
                result = ln.train(R, L, step, 4000, init=init)
                if result.diverged:
                    continue
                grad = np.sqrt(sum(np.sum(g**2) for g in ln.gradient(R, result.weights)))
                if grad > 1e-9:
                    continue  # not (yet) at a critical point
                checked += 1
                rho = np.linalg.norm(ln.product(result.weights), 2)
                assert rho <= ln.corollary2_radius(step, L) * (1 + 1e-9)
    assert checked >= 10  # the statement was exercised on many runs, not vacuously


def test_corollary2_radius_inverts_corollary1():
    for L in (2, 3, 5):
        for rho in (0.3, 1.0, 4.0):
            step = ln.corollary1_bound(np.diag([rho, 0.1]), L)
            assert ln.corollary2_radius(step, L) == pytest.approx(rho, rel=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Theorem 2


@SETTINGS
@given(seed=st.integers(0, 10**6), L=st.integers(2, 4), n=st.integers(1, 3))
def test_theorem2_identity_init_converges_to_the_root_at_a_linear_rate(seed, L, n):
    rng = np.random.default_rng(seed)
    eigenvalues = rng.uniform(0.2, 3.0, size=n)
    R = random_symmetric(rng, eigenvalues)
    step = ln.theorem2_step(R, L)
    # linearized contraction of the slowest eigen-mode: w+ − w* ≈ (1 − δ L λ^{2(L−1)/L})(w − w*)
    rate = np.max(np.abs(1 - step * L * eigenvalues ** (2 * (L - 1) / L)))
    result = ln.train(R, L, step, 4000)
    assert not result.diverged
    root = matrix_root(R, L)
    for w in result.weights:
        np.testing.assert_allclose(w, root, atol=1e-8)
    losses = result.losses
    live = np.flatnonzero(losses > 1e-24)
    assert np.all(np.diff(losses[live]) < 0)  # monotone decrease until machine precision
    if live.size > 40:  # (a run that is done within 40 steps is fast enough)
        # over the last 20 steps before machine precision, the loss falls at least half as fast per step as the
        # linearization predicts: a linear rate, where a sublinear run would have a per-step ratio near 1
        tail = losses[live[-21:]]
        per_step = (tail[-1] / tail[0]) ** (1 / 20)
        assert per_step <= 1 - 0.5 * (1 - rate**2)


def test_theorem2_step_is_within_a_factor_two_of_corollary1_when_rho_at_least_one():
    rng = np.random.default_rng(3)
    for L in (2, 3, 6):
        R = random_symmetric(rng, [2.5, 1.0, 0.4])
        assert ln.corollary1_bound(R, L) == pytest.approx(2 * ln.theorem2_step(R, L))


def test_theorem2_is_sublinear_for_a_singular_target():
    """With a zero eigenvalue and L >= 2 the scalar dynamics w+ = w − δ w^{2L−1} is sublinear: the book's note."""
    R = np.diag([1.5, 0.0])
    result = ln.train(R, 2, ln.theorem2_step(R, 2), 2000)
    ratios = result.losses[1001:] / result.losses[1000:-1]
    assert ratios.min() > 0.99  # not linear: the per-step ratio tends to 1


# ---------------------------------------------------------------------------------------------------------------
# Theorem 3 and closest_psd


@SETTINGS
@given(seed=st.integers(0, 10**6), n=st.integers(1, 4))
def test_closest_psd_is_psd_and_nearest(seed, n):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    R = A + A.T
    P = ln.closest_psd(R)
    np.testing.assert_allclose(P, P.T, atol=1e-12)
    assert np.linalg.eigvalsh(P)[0] >= -1e-12
    for _ in range(20):
        B = rng.normal(size=(n, n))
        X = B @ B.T
        assert np.linalg.norm(R - P) <= np.linalg.norm(R - X) + 1e-12
    np.testing.assert_allclose(ln.closest_psd(P), P, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), L=st.integers(2, 3), n=st.integers(2, 3))
def test_theorem3_iterates_approach_the_closest_psd_matrix(seed, L, n):
    rng = np.random.default_rng(seed)
    eigenvalues = np.concatenate([[-rng.uniform(0.3, 1.5)], rng.uniform(0.3, 2.0, size=n - 1)])
    R = random_symmetric(rng, eigenvalues)
    P = ln.closest_psd(R)
    # the error to closest_psd(R) along the first steps (before roundoff can act, see chapter 6)
    errors = []
    weights = [np.eye(n)] * L
    for _ in range(40):
        run = ln.train(R, L, ln.theorem3_step(R, L), 50, init=weights)
        weights = run.weights
        errors.append(np.linalg.norm(ln.product(weights) - P))
    assert min(errors) < 2e-3 * np.linalg.norm(np.eye(n) - P)
    assert not run.diverged


def test_theorem3_holds_to_machine_precision_on_a_diagonal_target():
    """In the eigenbasis the off-diagonal entries stay exactly zero, so floating point keeps the invariant set."""
    R = np.diag([1.8, 0.6, -0.9])
    for L, tol in ((2, 1e-12), (3, 2e-3)):
        result = ln.train(R, L, ln.theorem3_step(R, L), 5000)
        assert np.linalg.norm(ln.product(result.weights) - ln.closest_psd(R)) < tol
        for w in result.weights:
            np.testing.assert_array_equal(w, np.diag(np.diag(w)))  # exact zeros off the diagonal
        assert ln.invariant_set_distance(R, result.weights) < 1e-12


def test_off_invariant_set_component_grows_at_the_rate_of_the_negative_hessian_eigenvalue():
    rng = np.random.default_rng(0)
    R = random_symmetric(rng, [1.8, 0.6, -0.9])
    L = 2
    step = ln.theorem3_step(R, L)
    eig, vec = np.linalg.eigh(R)
    saddle = (vec * np.maximum(eig, 0) ** (1 / L)) @ vec.T
    mu = np.linalg.eigvalsh(ln.hessian(R, [saddle] * L))[0]
    assert mu < 0  # the limit of Theorem 3 is a saddle of the loss over the weights
    init = [np.eye(3) + 1e-9 * rng.normal(size=(3, 3)) for _ in range(L)]
    distances = []
    weights = init
    for _ in range(10):
        weights = ln.train(R, L, step, 5, init=weights).weights
        distances.append(ln.invariant_set_distance(R, weights))
    later = [ln.invariant_set_distance(R, ln.train(R, L, step, k, init=init).weights) for k in (40, 60)]
    measured = (later[1] / later[0]) ** (1 / 20)
    assert measured == pytest.approx(1 - step * mu, rel=0.02)


# ---------------------------------------------------------------------------------------------------------------
# training


def test_compiled_and_numpy_training_agree_on_a_benign_run():
    rng = np.random.default_rng(5)
    R = random_symmetric(rng, [2.0, 1.0, 0.5])
    init = [np.eye(3) + 0.1 * rng.normal(size=(3, 3)) for _ in range(3)]
    compiled = ln.train(R, 3, 0.05, 300, init=init)
    layers, losses, diverged = ln._train_layers(R, [w.copy() for w in init], 0.05, 300)
    np.testing.assert_allclose(compiled.losses, losses, rtol=1e-9, atol=1e-15)
    for a, b in zip(compiled.weights, layers, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    assert not diverged and not compiled.diverged


def test_train_on_non_square_layers_reduces_the_loss_and_copies_init():
    rng = np.random.default_rng(6)
    init = [0.5 * rng.normal(size=(4, 2)), 0.5 * rng.normal(size=(3, 4))]
    keep = [w.copy() for w in init]
    R = rng.normal(size=(3, 2))
    result = ln.train(R, 2, 0.05, 2000, init=init)
    assert result.losses[-1] < 1e-10 and len(result.losses) == 2001
    for a, b in zip(init, keep, strict=True):
        np.testing.assert_array_equal(a, b)


def test_divergence_stops_training_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ln.train(np.diag([3.0, 1.0]), 3, 1.0, 1000)
        weights, diverged = ln.train_scalar(3.0, np.full((4, 3), 1.0), 1.0, 1000)
    assert result.diverged and len(result.losses) < 1001
    assert not (result.losses[-2] > 1e12) and not (result.losses[-1] <= 1e12)
    assert diverged.all() and np.isnan(weights).all()


def test_train_scalar_matches_train_on_one_by_one_layers():
    rng = np.random.default_rng(8)
    starts = rng.uniform(-2, 2, size=(5, 3))
    weights, diverged = ln.train_scalar(1.5, starts, 0.05, 500)
    for row, w in zip(starts, weights, strict=True):
        result = ln.train(1.5, 3, 0.05, 500, init=list(row))
        np.testing.assert_allclose([x[0, 0] for x in result.weights], w, rtol=1e-10, atol=1e-12)
    assert not diverged.any()


def test_max_convergent_step_lies_between_theorem2_and_corollary1():
    R = np.diag([2.0, 0.7])
    for L in (2, 3):
        found = ln.max_convergent_step(R, L, n_steps=1500, iterations=20)
        assert ln.theorem2_step(R, L) <= found <= ln.corollary1_bound(R, L) * (1 + 1e-9)


# ---------------------------------------------------------------------------------------------------------------
# bad inputs


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: ln.train(np.eye(2), 0, 0.1, 10), ValueError, "depth"),
        (lambda: ln.train(np.eye(2), 2.0, 0.1, 10), TypeError, "depth"),
        (lambda: ln.train(np.eye(2), 2, 0.0, 10), ValueError, "step"),
        (lambda: ln.train(np.eye(2), 2, -1.0, 10), ValueError, "step"),
        (lambda: ln.train(np.eye(2), 2, 0.1, -1), ValueError, "n_steps"),
        (lambda: ln.train(np.ones((2, 3)), 2, 0.1, 10), ValueError, "square"),
        (lambda: ln.train(np.eye(2), 2, 0.1, 10, init="zeros"), ValueError, "init"),
        (lambda: ln.train(np.eye(2), 2, 0.1, 10, init=[np.eye(2)]), ValueError, "depth=2"),
        (lambda: ln.train(np.eye(2), 2, 0.1, 10, init=[np.eye(2), np.ones((3, 3))]), ValueError, "chain"),
        (lambda: ln.train(np.eye(3), 2, 0.1, 10, init=[np.eye(2), np.eye(2)]), ValueError, "shape"),
        (lambda: ln.theorem1_bound([np.ones(3)]), ValueError, "weights[0]"),
        (lambda: ln.theorem1_bound([]), ValueError, "weights"),
        (lambda: ln.theorem1_bound([np.eye(2), np.ones((3, 3))]), ValueError, "chain"),
        (lambda: ln.theorem1_bound([np.array([[np.nan]])]), ValueError, "finite"),
        (lambda: ln.corollary1_bound(np.eye(2), 0), ValueError, "depth"),
        (lambda: ln.corollary2_radius(0.0, 2), ValueError, "step"),
        (lambda: ln.corollary2_radius(0.1, 1), ValueError, "depth"),
        (lambda: ln.theorem2_step(np.ones((2, 3)), 2), ValueError, "square"),
        (lambda: ln.theorem2_step(np.array([[1.0, 2.0], [0.0, 1.0]]), 2), ValueError, "symmetric"),
        (lambda: ln.theorem2_step(np.diag([1.0, -0.5]), 2), ValueError, "positive semidefinite"),
        (lambda: ln.theorem3_step(np.array([[1.0, 2.0], [0.0, 1.0]]), 2), ValueError, "symmetric"),
        (lambda: ln.theorem3_step(np.ones((2, 3)), 2), ValueError, "square"),
        (lambda: ln.closest_psd(np.array([[1.0, 2.0], [0.0, 1.0]])), ValueError, "symmetric"),
        (lambda: ln.closest_psd("R"), TypeError, "R"),
        (lambda: ln.train_scalar(1.0, np.ones(3), 0.1, 10), ValueError, "starts"),
        (lambda: ln.train_scalar(1.0, np.ones((2, 2)), 0.0, 10), ValueError, "step"),
    ],
)
def test_bad_inputs_raise_with_the_argument_named(call, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_theorem2_tolerates_roundoff_asymmetry_but_theorem3_allows_negative_eigenvalues():
    R = np.diag([1.0, 0.0])
    R[0, 1] = 1e-14
    assert ln.theorem2_step(R, 2) == pytest.approx(0.5)
    assert ln.theorem3_step(np.diag([1.0, -1.0]), 2) == pytest.approx(0.5)
    assert ln.theorem3_step(np.diag([0.5, -3.0]), 2) == pytest.approx(1 / 6)  # 1/(L ρ) binds
    assert ln.theorem3_step(np.diag([0.2, -0.1]), 1) == pytest.approx(1 / 1.1)  # 1/(1 − λ_min) binds


# ------------------------------------------------------------------------------------------- flat_gradient
def test_flat_gradient_is_the_gradient_flattened_layer_by_layer():
    rng = np.random.default_rng(7)
    R = rng.normal(size=(3, 3))
    layers = rng.normal(size=(4, 3, 3))
    grad = ln.flat_gradient(R, 4)
    expected = np.concatenate([g.ravel() for g in ln.gradient(R, list(layers))])
    np.testing.assert_array_equal(grad(layers.ravel()), expected)
    # scalar layers: theta is (w1, w2) and the loss is (w2 w1 - lam)^2 / 2
    np.testing.assert_allclose(ln.flat_gradient(2.0, 2)(np.array([3.0, 0.5])), [(1.5 - 2) * 0.5, (1.5 - 2) * 3.0])


def test_descend_on_the_flat_gradient_follows_train():
    """The recorded path of gd.descend has the losses of the compiled train loop (to rounding: other sums)."""
    rng = np.random.default_rng(8)
    M = rng.normal(size=(3, 3))
    R = M @ M.T + np.eye(3)  # positive definite: no saddle whose escape would amplify the rounding differences
    step = ln.theorem2_step(R, 3)
    path = gd.descend(ln.flat_gradient(R, 3), np.tile(np.eye(3).ravel(), 3), step, 400)
    losses = [ln.loss(R, list(theta.reshape(3, 3, 3))) for theta in path]
    np.testing.assert_allclose(losses, ln.train(R, 3, step, 400).losses, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((np.ones((2, 3)), 2), ValueError, "R"),
        ((np.eye(2), 0), ValueError, "depth"),
        ((np.eye(2), 2.0), TypeError, "depth"),
        (("R", 2), TypeError, "R"),
    ],
)
def test_flat_gradient_rejects_bad_input(args, error, name):
    with pytest.raises(error, match=name):
        ln.flat_gradient(*args)
    with pytest.raises(ValueError, match="theta"):
        ln.flat_gradient(np.eye(2), 2)(np.zeros(7))
