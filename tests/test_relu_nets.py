"""Tests of lecturelib.relu_nets: exact derivatives, the compiled training loop, Theorem 4 and the run classifier."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lecturelib.relu_nets import (
    DIVERGED,
    DRIFTING,
    FIXED_POINT,
    LONGER,
    PERIOD_2,
    PERIOD_4,
    TwoLayerReLU,
    classify_tail,
    figure2_problem,
    gradients,
    hessian,
    jacobian,
    loss,
    move_cosine,
    predict,
    random_net,
    sweep,
    theorem4_bound,
    theorem4_lhs,
    train,
    train_trajectory,
)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _problem(seed, m, n, r, N):
    rng = np.random.default_rng(seed)
    net = random_net(m, n, r, seed)
    X = rng.standard_normal((N, n))
    Y = rng.standard_normal((N, m))
    return net, X, Y


def _min_abs_preactivation(net, X):
    return np.min(np.abs(X @ net.V.T - net.b))


def _reference_gd(W, V, b, X, Y, step, n_steps):
    """An independent plain-numpy gradient descent, written from the formulas, sample by sample."""
    W, V = W.copy(), V.copy()
    for _ in range(n_steps):
        gW = np.zeros_like(W)
        gV = np.zeros_like(V)
        for x, y in zip(X, Y, strict=True):
            z = V @ x - b
            h = np.where(z > 0, z, 0.0)
            e = W @ h - y
            gW += np.outer(e, h)
            gV += np.outer((W.T @ e) * (z > 0), x)
        W -= step * gW
        V -= step * gV
    return W, V


@SETTINGS
@given(seed=st.integers(0, 10_000), m=st.integers(1, 3), n=st.integers(1, 3), r=st.integers(1, 6))
def test_gradients_match_central_differences(seed, m, n, r):
    net, X, Y = _problem(seed, m, n, r, 12)
    h = 1e-6
    assume(_min_abs_preactivation(net, X) > 1e-3)  # finite differences must not straddle a ReLU kink
    gW, gV = gradients(net, X, Y)
    g = np.concatenate([gW.ravel(), gV.ravel()])
    theta = net.theta
    fd = np.empty_like(theta)
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h
        fd[p] = (loss(net.with_theta(theta + e), X, Y) - loss(net.with_theta(theta - e), X, Y)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * (1 + np.abs(g).max()))


@SETTINGS
@given(seed=st.integers(0, 10_000), m=st.integers(1, 2), n=st.integers(1, 2), r=st.integers(1, 5))
def test_hessian_matches_differences_of_the_gradient(seed, m, n, r):
    net, X, Y = _problem(seed, m, n, r, 10)
    h = 1e-6
    assume(_min_abs_preactivation(net, X) > 1e-3)
    theta = net.theta
    H = hessian(net, X, Y)
    np.testing.assert_allclose(H, H.T, atol=1e-12)

    def grad(t):
        gW, gV = gradients(net.with_theta(t), X, Y)
        return np.concatenate([gW.ravel(), gV.ravel()])

    fd = np.column_stack([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-5 * (1 + np.abs(H).max()))


def test_jacobian_matches_differences_of_the_output():
    net, X, _ = _problem(3, 2, 3, 4, 7)
    theta, h = net.theta, 1e-6
    J = jacobian(net, X)
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h
        fd = (predict(net.with_theta(theta + e), X) - predict(net.with_theta(theta - e), X)) / (2 * h)
        np.testing.assert_allclose(J[:, :, p], fd, atol=1e-7)


@pytest.mark.parametrize("m, n, r, N, step", [(1, 1, 20, 200, 1e-3), (2, 3, 5, 40, 2e-3)])
def test_train_agrees_with_an_independent_numpy_implementation(m, n, r, N, step):
    net, X, Y = _problem(11, m, n, r, N)
    if m == n == 1:  # the paper's setting: inputs on [0, 1], target from the same architecture
        net, _, X, Y = figure2_problem(11, n_points=N, hidden=r)
    n_steps = 300
    trained = train(net, X, Y, step, n_steps)
    W_ref, V_ref = _reference_gd(net.W, net.V, net.b, X, Y, step, n_steps)
    ref = np.concatenate([W_ref.ravel(), V_ref.ravel()])
    assert np.linalg.norm(trained.theta - ref) <= 1e-10 * np.linalg.norm(ref)
    assert np.linalg.norm(trained.theta - net.theta) > 1e-3  # the run actually moved
    np.testing.assert_array_equal(trained.b, net.b)  # the bias is never trained
    assert loss(trained, X, Y) < loss(net, X, Y)


def test_trajectory_records_losses_and_the_last_iterates():
    net, _, X, Y = figure2_problem(2, n_points=100, hidden=8)
    run = train_trajectory(net, X, Y, 1e-3, 50, record_last=10)
    assert run.losses.shape == (51,)
    assert run.losses[0] == pytest.approx(loss(net, X, Y), rel=1e-12)
    assert run.losses[-1] == pytest.approx(loss(run.net, X, Y), rel=1e-12)
    np.testing.assert_allclose(run.tail[-1], run.net.theta, rtol=0, atol=0)
    np.testing.assert_allclose(run.tail[-2], train(net, X, Y, 1e-3, 49).theta, rtol=1e-13)
    assert run.moves.shape == (50,)
    assert run.moves[-1] == pytest.approx(np.linalg.norm(run.tail[-1] - run.tail[-2]), rel=1e-10)
    gW, gV = gradients(net, X, Y)
    assert run.moves[0] == pytest.approx(1e-3 * np.sqrt(np.sum(gW**2) + np.sum(gV**2)), rel=1e-12)
    net2, X2, Y2 = _problem(5, 2, 3, 4, 20)  # the general (not m = n = 1) loop records the same quantities
    run2 = train_trajectory(net2, X2, Y2, 1e-3, 30, record_last=10)
    assert run2.moves[-1] == pytest.approx(np.linalg.norm(run2.tail[-1] - run2.tail[-2]), rel=1e-10)
    assert run2.losses[-1] == pytest.approx(loss(run2.net, X2, Y2), rel=1e-12)


def test_sum_loss_step_equals_half_loss_step_at_twice_the_step():
    # The authors' notebook minimised sum (yhat - y)^2 without the 1/2: its gradient is twice ours, so its step
    # delta' moves the parameters exactly as our step 2 delta' does.
    net, _, X, Y = figure2_problem(0)
    delta_sum = 1e-4
    gW, gV = gradients(net, X, Y)
    theta_sum = net.theta - delta_sum * 2 * np.concatenate([gW.ravel(), gV.ravel()])
    np.testing.assert_allclose(train(net, X, Y, 2 * delta_sum, 1).theta, theta_sum, rtol=1e-13, atol=1e-15)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3), r=st.integers(1, 8))
def test_jacobian_norm_bounds_twice_the_theorem4_product(seed, n, r):
    # The inequality chain behind Theorem 4 (m = 1): lambda_max(sum_i J_i^T J_i) >= |J_i|^2
    # = |g(V x_i - b)|^2 + |W_active|^2 |x_i|^2 >= 2 |x_i| |f(x_i)|.
    net, X, _ = _problem(seed, 1, n, r, 15)
    J = jacobian(net, X)[:, 0, :]
    Z = X @ net.V.T - net.b
    direct = np.sum(np.maximum(Z, 0) ** 2, axis=1) + np.sum((net.W[0] * (Z > 0)) ** 2, axis=1) * np.sum(X**2, axis=1)
    np.testing.assert_allclose(np.sum(J**2, axis=1), direct, rtol=1e-12)
    lam = np.linalg.eigvalsh(J.T @ J)[-1]
    product = 2 * np.linalg.norm(X, axis=1) * np.abs(predict(net, X)[:, 0])
    assert np.all(direct <= lam * (1 + 1e-12))
    assert np.all(product <= direct * (1 + 1e-12) + 1e-300)


def test_theorem4_holds_at_every_converged_run_of_a_randomized_set():
    rng = np.random.default_rng(2018)
    converged = 0
    for _trial in range(60):
        n = int(rng.integers(1, 3))
        r = int(rng.integers(3, 7))
        N = 20
        net = random_net(1, n, r, int(rng.integers(1 << 30)))
        X = rng.uniform(-1, 1, size=(N, n))
        target = random_net(1, n, r, int(rng.integers(1 << 30)))
        Y = predict(TwoLayerReLU(target.W, target.V, net.b), X)
        step = float(10 ** rng.uniform(-2.5, -0.5))  # from safe to divergent
        run = train_trajectory(net, X, Y, step, 20000)
        if run.label != FIXED_POINT:
            continue
        converged += 1
        assert theorem4_lhs(run.net, X) <= theorem4_bound(step) * (1 + 1e-9)
        # and the stability condition Theorem 4 rests on: lambda_max of the Hessian at most 2 / step
        assert np.linalg.eigvalsh(hessian(run.net, X, Y))[-1] * step <= 2 * (1 + 1e-6)
    assert converged >= 8, "the randomized set must contain converged runs for the test to mean anything"


def test_theorem4_bound_and_lhs_values():
    net = TwoLayerReLU(np.array([[2.0]]), np.array([[1.0]]), np.array([0.0]))
    X = np.array([[1.0], [3.0], [-1.0]])
    # f(x) = 2 max(x, 0): |x||f(x)| = 2, 18, 0
    assert theorem4_lhs(net, X) == pytest.approx(18.0)
    assert theorem4_bound(0.25) == pytest.approx(4.0)


# ---------------------------------------------------------------------------------------------------------------
# The classifier on constructed sequences
# ---------------------------------------------------------------------------------------------------------------

K, P = 64, 6
_rng = np.random.default_rng(7)
_centre = _rng.standard_normal(P)
_u = _rng.standard_normal(P)
_v = _rng.standard_normal(P)
_k = np.arange(K)[:, None]


def test_classifier_fixed_point():
    tail = _centre + 1e-12 * 0.5**_k * _u  # converged to rounding level
    assert classify_tail(tail) == FIXED_POINT


def test_classifier_true_period_two():
    tail = _centre + 0.3 * (-1.0) ** _k * _u
    assert classify_tail(tail) == PERIOD_2
    # a period-2 orbit whose centre creeps a thousand times slower than it jumps is still period 2 ...
    assert classify_tail(tail + 1e-6 * _k * _v) == PERIOD_2
    # ... but not one that drifts fast
    assert classify_tail(tail + 1e-2 * _k * _v) != PERIOD_2


def test_move_cosine_tells_oscillation_from_creeping():
    assert move_cosine(_centre + 0.3 * (-1.0) ** _k * _u + 1e-2 * _k * _v) < -0.9  # oscillating, centre drifting
    assert move_cosine(_centre + 1e-4 * _k * _v) == pytest.approx(1.0)
    assert np.isnan(move_cosine(np.tile(_centre, (K, 1))))


def test_classifier_period_four():
    phase = np.array([0.0, 1.0, 0.3, -0.8])[np.arange(K) % 4][:, None]
    assert classify_tail(_centre + phase * _u + (phase**2) * _v) == PERIOD_4


def test_classifier_drift():
    assert classify_tail(_centre + 1e-4 * _k * _v) == DRIFTING
    # slow geometric convergence that has not reached a fixed point yet is drifting too
    assert classify_tail(_centre + 1e-3 * 0.999**_k * _u) == DRIFTING


def test_classifier_chaotic():
    x = np.empty(K)
    x[0] = 0.123
    for k in range(K - 1):
        x[k + 1] = 4 * x[k] * (1 - x[k])  # the logistic map at r = 4 is chaotic
    assert classify_tail(_centre + x[:, None] * _u) == LONGER


def test_classifier_diverged():
    tail = np.tile(_centre, (K, 1))
    tail[-1, 0] = np.inf
    assert classify_tail(tail) == DIVERGED


def _always_active_problem(seed):
    # b = -5 keeps every unit active on [0, 1]: the network is linear there and a large step blows it up
    X = np.linspace(0, 1, 50)[:, None]
    net = TwoLayerReLU(np.full((1, 4), 0.5), np.full((4, 1), 0.5 + 0.1 * seed), np.full(4, -5.0))
    return net, None, X, np.sin(3 * X)


def test_divergence_is_a_result_not_a_warning():
    net, _, X, Y = _always_active_problem(0)
    with np.errstate(all="raise"):
        run = train_trajectory(net, X, Y, 1.0, 300)
    assert run.diverged and run.label == DIVERGED and run.net is None
    assert np.isnan(run.losses[-1]) and np.all(np.isnan(run.tail))
    with pytest.raises(FloatingPointError, match="diverged"):
        train(net, X, Y, 1.0, 300)


def test_a_large_step_can_also_kill_every_unit():
    # The other way a too large step ends: the first update pushes every pre-activation below zero, the gradient
    # vanishes exactly and gradient descent sits at a fixed point with a constant zero output.
    net, _, X, Y = figure2_problem(0, n_points=200, hidden=10)
    run = train_trajectory(net, X, Y, 1.0, 300)
    assert run.label == FIXED_POINT
    assert np.all(predict(run.net, X) == 0.0)


def test_sweep_shapes_and_labels():
    res = sweep([1e-4, 1.0], [0, 1], 300, problem=_always_active_problem)
    assert res.labels.shape == (2, 2)
    assert np.all(res.labels[1] == DIVERGED) and np.all(np.isnan(res.lhs[1]))
    assert np.all(res.labels[0] != DIVERGED) and np.all(np.isfinite(res.lhs[0]))
    assert res.count(DIVERGED) == 2
    assert res.theta.shape == (2, 2, 8) and np.all(np.isnan(res.theta[1]))
    net0, _, X, Y = _always_active_problem(1)
    np.testing.assert_array_equal(res.theta[0, 1], train(net0, X, Y, 1e-4, 300).theta)


# ---------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------


def test_bad_shapes_raise_clearly():
    W, V, b = np.ones((1, 3)), np.ones((3, 2)), np.zeros(3)
    with pytest.raises(ValueError, match="same r"):
        TwoLayerReLU(np.ones((1, 4)), V, b)
    with pytest.raises(ValueError, match="b must have shape"):
        TwoLayerReLU(W, V, np.zeros(2))
    with pytest.raises(ValueError, match="W must have 2 dimension"):
        TwoLayerReLU(np.ones(3), V, b)
    with pytest.raises(ValueError, match="finite"):
        TwoLayerReLU(np.array([[1.0, np.nan, 0.0]]), V, b)
    with pytest.raises(TypeError, match="floating-point"):
        TwoLayerReLU(np.ones((1, 3), dtype=int), V, b)
    net = TwoLayerReLU(W, V, b)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        predict(net, np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"Y must have shape \(5, 1\)"):
        train(net, np.ones((5, 2)), np.ones((4, 1)), 0.1, 1)
    with pytest.raises(TypeError, match="net must be a TwoLayerReLU"):
        predict((W, V, b), np.ones((5, 2)))


@pytest.mark.parametrize("step", [0.0, -1e-3, np.inf, np.nan])
def test_non_positive_steps_raise_clearly(step):
    net, _, X, Y = figure2_problem(0, n_points=10, hidden=3)
    with pytest.raises(ValueError, match="step must be a finite positive number"):
        train(net, X, Y, step, 1)
    with pytest.raises(ValueError, match="step must be a finite positive number"):
        theorem4_bound(step)
    with pytest.raises(ValueError, match="step must be a finite positive number"):
        sweep([1e-3, step], [0], 20)


def test_bad_counts_raise_clearly():
    net, _, X, Y = figure2_problem(0, n_points=10, hidden=3)
    with pytest.raises(ValueError, match="n_steps must be at least 0"):
        train(net, X, Y, 1e-3, -1)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        train(net, X, Y, 1e-3, 2.5)
    with pytest.raises(ValueError, match="n_steps must be at least 16"):
        train_trajectory(net, X, Y, 1e-3, 10, record_last=16)
    with pytest.raises(ValueError, match="tail must have shape"):
        classify_tail(np.zeros((3, 2)))
