"""Tests of lecturelib.gd: the dynamics of gradient descent in one dimension, checked against the mathematics.

The paper's three examples, functions the chapters do not use (a double well, log-cosh) with thresholds derived by
hand, hypothesis for "stable iff step < 2/f''(x*)", constructed trajectories for orbit_period, and every bad input.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lecturelib import bifurcation, compile_update, descend, max_stable_step, orbit_period, run
from lecturelib._checks import MAX_ELEMENTS

x = sp.Symbol("x")
F1 = sp.Rational(2, 3) * sp.Abs(x) ** sp.Rational(3, 2)
F2 = (x**2 + 1) * (x - 1) ** 2 * (x - 2) ** 2


def grad_f1(z):
    return np.sign(z) * np.sqrt(np.abs(z))


grad_f2 = sp.lambdify(x, sp.diff(F2, x), "numpy")


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ------------------------------------------------------------------------------------------------------- run
def test_run_matches_closed_form_on_a_quadratic(no_warnings):
    lam = 3.0
    x0 = np.array([[1.0], [-2.0], [0.5]])
    steps = np.array([0.1, 0.3, 0.6, 0.66])
    traj = run(lambda z: lam * z, x0, steps, 20)
    assert traj.shape == (21, 3, 4)
    k = np.arange(21)[:, None, None]
    expected = (1 - steps * lam) ** k * x0
    np.testing.assert_allclose(traj, expected, rtol=1e-12, atol=1e-300)


def test_run_scalar_inputs_and_zero_steps():
    traj = run(lambda z: 2 * z, 1.0, 0.25, 0)
    assert traj.shape == (1,)
    assert traj[0] == 1.0
    traj = run(lambda z: 2 * z, 1.0, 0.25, 3)
    np.testing.assert_array_equal(traj, [1.0, 0.5, 0.25, 0.125])


def test_divergence_is_nan_from_the_escape_on_without_warnings(no_warnings):
    # f = x^4: the step 0.1 from x0 = 3 overshoots (x0^2 = 9 > 2/(4*0.1) = 5) and grows past every float.
    traj = run(lambda z: 4 * z**3, np.array([3.0, 0.5]), 0.1, 60, escape=1e6)
    gone = traj[:, 0]
    first_nan = int(np.argmax(np.isnan(gone)))
    assert first_nan > 0
    assert np.all(np.abs(gone[:first_nan]) <= 1e6)
    assert np.all(np.isnan(gone[first_nan:]))
    assert np.all(np.isfinite(traj[:, 1]))


def test_grad_that_overflows_or_returns_nan_counts_as_diverged(no_warnings):
    traj = run(np.exp, np.array([1.0, 800.0]), 1.0, 5, escape=1e300)
    assert np.isnan(traj[1:, 1]).all()
    traj = run(lambda z: np.log(z), np.array([-1.0, 2.0]), 0.1, 3)
    assert np.isnan(traj[1:, 0]).all() and np.isfinite(traj[:, 1]).all()


def test_start_beyond_escape_is_diverged_at_once():
    traj = run(lambda z: z, np.array([2e6, 1.0]), 0.5, 2)
    assert np.isnan(traj[:, 0]).all()


# ------------------------------------------------------------------------------------------------ orbit_period
def test_orbit_period_on_constructed_trajectories():
    T = 200
    t = np.arange(T)
    fixed = np.full(T, 0.7)
    two = np.where(t % 2 == 0, 1.0, -1.0)
    three = np.array([0.1, 0.5, 0.9])[t % 3]
    aba_c = np.array([1.0, 2.0, 1.0, 3.0])[t % 4]  # period 4, though every other entry repeats with period 2
    seven = np.sin(2 * np.pi * t / 7)
    diverged = np.where(t < 150, t * 1.0, np.nan)
    noise = np.random.default_rng(0).normal(size=T)
    converging = 2.0 + 0.5**t  # reaches 2 to within 1e-9 well before the end
    traj = np.stack([fixed, two, three, aba_c, seven, diverged, noise, converging], axis=1)
    np.testing.assert_array_equal(orbit_period(traj), [1, 2, 3, 4, 7, 0, -1, 1])
    np.testing.assert_array_equal(orbit_period(traj, max_period=6), [1, 2, 3, 4, -1, 0, -1, 1])


def test_orbit_period_keeps_the_batch_shape_and_needs_two_periods():
    t = np.arange(10)
    traj = np.broadcast_to(np.where(t % 2 == 0, 3.0, 4.0)[:, None, None], (10, 2, 3))
    out = orbit_period(traj)
    assert out.shape == (2, 3) and out.dtype.kind == "i"
    assert (out == 2).all()
    # Period 6 needs 12 samples; with 10 it is not found.
    six = np.arange(10) % 6 * 1.0
    assert orbit_period(six) == -1
    # A slowly converging sequence is not yet a fixed point at a tight tolerance, but is at a loose one.
    slow = 1.0 + 0.9 ** np.arange(50)
    assert orbit_period(slow) == -1
    assert orbit_period(slow, tol=1e-2) == 1


# ------------------------------------------------------------------------------------- Example 1: f1 = 2/3 |x|^1.5
def test_f1_period_two_orbit_from_generic_starts(no_warnings):
    for step in (0.1, 0.5, 1.0, 2.0):
        starts = np.random.default_rng(1).uniform(-10, 10, size=200)
        traj = run(grad_f1, starts, step, 400)
        assert (orbit_period(traj) == 2).all()
        np.testing.assert_allclose(np.abs(traj[-1]), step**2 / 4, rtol=1e-12)
        np.testing.assert_allclose(traj[-1], -traj[-2], rtol=1e-12)


def _s_elements(step: sp.Expr, n: int) -> list[sp.Expr]:
    """The positive elements of S: s_1 = step^2, and s_{k+1} the preimage of s_k on the positive side."""
    elements = [step**2]
    for _ in range(n - 1):
        r = (step + sp.sqrt(step**2 + 4 * elements[-1])) / 2
        elements.append(sp.expand(r**2))
    return elements


def _exact_update(value: sp.Expr, step: sp.Expr) -> sp.Expr:
    """x - step * f1'(x), exactly; the sign is decided numerically at high precision."""
    sign = 1 if sp.N(value, 60) > 0 else (-1 if sp.N(value, 60) < 0 else 0)
    return sp.radsimp(sp.sqrtdenest(sp.expand(value - step * sign * sp.sqrt(sign * value))))


@pytest.mark.parametrize("step", [sp.Integer(1), sp.Rational(1, 2)])
def test_f1_elements_of_s_reach_zero_exactly(step):
    elements = _s_elements(step, 3)
    assert sp.simplify(elements[1] - (3 + sp.sqrt(5)) / 2 * step**2) == 0
    for k, s in enumerate(elements, start=1):
        for signed in (s, -s):
            value = signed
            for _ in range(k):
                value = _exact_update(value, step)
            assert sp.simplify(value) == 0, (k, signed, value)
    # The other preimage branch is empty: a point a of S with a >= step^2 has no preimage of the opposite sign,
    # because r^2 - step*r + a = 0 has discriminant step^2 - 4a < 0.
    for s in elements:
        assert step**2 - 4 * s < 0


def test_f1_starts_off_s_land_on_the_orbit():
    """S has measure zero: a relative perturbation of 1e-9 of an element of S ends on the orbit, and so does the
    nearest double to a far element (its rounding error is not undone by the square roots on the way down)."""
    elements = np.array([float(s) for s in _s_elements(sp.Integer(1), 10)])
    traj = run(grad_f1, elements * (1 + 1e-9), 1.0, 100)
    assert (orbit_period(traj) == 2).all()
    np.testing.assert_allclose(np.abs(traj[-1]), 0.25, rtol=1e-12)
    assert orbit_period(run(grad_f1, elements[-1], 1.0, 100)) == 2


# -------------------------------------------------------------------------------- Example 2: f2 two minima
def test_f2_thresholds_by_sympy():
    assert sp.diff(F2, x, 2).subs(x, 1) == 4
    assert sp.diff(F2, x, 2).subs(x, 2) == 10
    assert max_stable_step(F2, x, 1) == sp.Rational(1, 2)
    assert max_stable_step(F2, x, 2) == sp.Rational(1, 5)
    # The local maximum between the minima is 2/3 + 19^(1/3)/3 (a root of 3x^3 - 6x^2 + 4x - 3).
    peak = sp.Rational(2, 3) + sp.cbrt(19) / 3
    assert sp.simplify(sp.diff(F2, x).subs(x, peak)) == 0
    assert sp.diff(F2, x, 2).subs(x, peak).evalf() < 0
    assert abs(float(peak) - 1.556) < 1e-3


@pytest.mark.parametrize(("minimum", "threshold"), [(1.0, 0.5), (2.0, 0.2)])
def test_f2_stable_just_below_not_just_above(minimum, threshold, no_warnings):
    starts = minimum + np.array([-1e-3, 1e-3])
    below = run(grad_f2, starts, 0.97 * threshold, 3000)
    assert np.all(np.abs(below[-1] - minimum) < 1e-10)
    above = run(grad_f2, starts, 1.03 * threshold, 3000)
    assert np.all(np.nanmax(np.abs(above - minimum), axis=0) > 1e-2)


def test_f2_at_step_03_only_x1_is_reachable():
    starts = np.random.default_rng(2).uniform(0, 3, size=2000)
    traj = run(grad_f2, starts, 0.3, 600)
    period = orbit_period(traj)
    fixed = period == 1
    assert fixed.mean() > 0.3
    np.testing.assert_allclose(traj[-1][fixed], 1.0, atol=1e-9)


def test_bifurcation_compiled_equals_numpy_and_keeps_the_last_iterates(no_warnings):
    steps = np.linspace(0.05, 0.6, 23)
    starts = np.linspace(-0.5, 3.5, 17)
    compiled = bifurcation(F2, steps, starts, 50, 7)
    vectorized = bifurcation(grad_f2, steps, starts, 50, 7)
    assert compiled.shape == (23, 17, 7)
    np.testing.assert_array_equal(np.isnan(compiled), np.isnan(vectorized))
    np.testing.assert_allclose(compiled, vectorized, rtol=1e-9, atol=1e-12)
    traj = run(grad_f2, starts[None, :], steps[:, None], 57)
    np.testing.assert_allclose(np.moveaxis(traj[51:], 0, -1), vectorized, rtol=1e-12, atol=1e-300)
    assert np.isnan(compiled[-1]).any()  # at step 0.6 some starts diverge


def test_compile_update_derives_and_caches():
    g = compile_update(F2)
    assert g is compile_update(F2)
    for value in (-1.0, 0.5, 1.5, 3.0):
        assert g(value) == pytest.approx(float(sp.diff(F2, x).subs(x, value)), rel=1e-12)
    g1 = compile_update(F1)  # |x| differentiates to sign(x) sqrt(|x|) for the real variable
    assert g1(4.0) == pytest.approx(2.0) and g1(-4.0) == pytest.approx(-2.0) and g1(0.0) == 0.0


# ------------------------------------------------------------------------------------------ Example 3: f3 = x^L
@pytest.mark.parametrize("L", [4, 6, 8])
def test_f3_boundary(L, no_warnings):
    steps = np.geomspace(0.01, 1.0, 9)
    boundary = (2 / (L * steps)) ** (1 / (L - 2))
    grad = lambda z: L * z ** (L - 1)  # noqa: E731
    inside = run(grad, 0.98 * boundary, steps, 400)
    assert np.all(np.abs(inside[-1]) < 0.98 * boundary)
    assert np.all(np.abs(np.diff(np.abs(inside), axis=0)) >= 0)  # nothing exploded
    assert np.all(np.diff(np.abs(inside[1:]), axis=0) <= 0)  # |x| decreases once inside
    outside = run(grad, 1.02 * boundary, steps, 400)
    assert np.isnan(outside[-1]).all()


def test_f3_exactly_on_the_boundary_is_a_period_two_orbit():
    # L = 4, step 1/8: x0^2 = 2/(4/8) = 4, so x0 = 2 maps to 2(1 - 2) = -2 exactly.
    traj = run(lambda z: 4 * z**3, 2.0, 0.125, 10)
    np.testing.assert_array_equal(traj, 2.0 * (-1.0) ** np.arange(11))
    assert orbit_period(traj) == 2


# ---------------------------------------------------------------------- functions the chapters do not use
def test_double_well_threshold_is_one():
    # f = x^4/4 - x^2/2: f' = x^3 - x, f'' = 3x^2 - 1, so f''(+-1) = 2 and the threshold is 2/2 = 1.
    f = x**4 / 4 - x**2 / 2
    assert max_stable_step(f, x, 1) == 1
    assert max_stable_step(f, x, -1) == 1
    assert max_stable_step(f, x, 0) == sp.oo  # f''(0) = -1: no curvature bound (and 0 repels for every step)
    grad = lambda z: z**3 - z  # noqa: E731
    starts = np.array([0.9, 1.1, -0.9, -1.1])
    stable = run(grad, starts, 0.95, 2000)
    np.testing.assert_allclose(stable[-1], np.sign(starts), atol=1e-10)
    unstable = run(grad, starts, 1.05, 2000)
    assert np.all(np.abs(np.abs(unstable[-1]) - 1) > 1e-2)
    # Just above the threshold the minimum gives way to a period-2 orbit around it (period doubling).
    assert (orbit_period(unstable) == 2).all()
    # Near the local maximum at 0, |x| grows by the factor 1 + step at every step: it repels for every step.
    near_top = run(grad, 1e-8, np.array([0.01, 0.5, 1.0]), 50)
    np.testing.assert_allclose(near_top[1], 1e-8 * (1 + np.array([0.01, 0.5, 1.0])), rtol=1e-6)


def test_log_cosh_threshold_two_and_its_period_two_orbit():
    # f = log cosh x: f' = tanh x, f''(0) = 1, threshold 2. Above it, GD has the symmetric period-2 orbit +-a with
    # a - step tanh(a) = -a, i.e. 2a = step tanh(a), found here by bisection.
    assert max_stable_step(sp.log(sp.cosh(x)), x, 0) == 2
    below = run(np.tanh, 0.3, 1.9, 3000)
    assert abs(below[-1]) < 1e-12
    step = 3.0
    lo, hi = 0.1, 3.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if step * np.tanh(mid) > 2 * mid else (lo, mid)
    traj = run(np.tanh, 0.3, step, 400)
    assert orbit_period(traj) == 2
    assert abs(abs(traj[-1]) - lo) < 1e-9


def test_exactly_at_the_threshold_the_cubic_term_decides(no_warnings):
    """At step = 2/f''(x*) the multiplier is -1; two steps give e -> e + c e^3, attracting iff c < 0 (chapter 3)."""
    quartic = x**4 / 4 - sp.Rational(4, 3) * x**3 + sp.Rational(3, 2) * x**2  # minimum at 3, f''(3) = 6
    assert max_stable_step(quartic, x, 3) == sp.Rational(1, 3)
    # c = -44/9 < 0: it still attracts, but only like e_0 / sqrt(1 + |c| e_0^2 k), not geometrically.
    error = np.abs(run(sp.lambdify(x, sp.diff(quartic, x)), 3.05, 1 / 3, 4000) - 3)
    k = np.arange(4001)
    np.testing.assert_allclose(error[::500], (0.05 / np.sqrt(1 + 44 / 9 * 0.05**2 * k))[::500], rtol=0.05)
    # s = x^4/4 + x^2/2 at its threshold 2/s''(0) = 2: c = +4 > 0, the minimum repels and the run diverges.
    assert max_stable_step(x**4 / 4 + x**2 / 2, x, 0) == 2
    escaped = run(lambda z: z**3 + z, 0.01, 2.0, 3000)
    assert np.isnan(escaped[-1]) and np.all(np.abs(escaped[1:300]) > 0.01)


@settings(max_examples=15, deadline=None)
@given(polynomial_coefficients=st.lists(st.integers(-5, 5), min_size=2, max_size=4), curvature=st.integers(1, 9))
def test_two_step_cubic_coefficient_formula(polynomial_coefficients, curvature):
    """With T(x* + e) = x* - e + a e^2 + b e^3 + ..., T(T(x* + e)) = x* + e - 2(a^2 + b) e^3 + O(e^4)."""
    e = sp.Symbol("e")
    f = sp.Rational(curvature, 2) * x**2 + sum(c * x ** (i + 3) for i, c in enumerate(polynomial_coefficients))
    step = 2 / sp.diff(f, x, 2).subs(x, 0)
    T = x - step * sp.diff(f, x)
    a = -step * sp.diff(f, x, 3).subs(x, 0) / 2
    b = -step * sp.diff(f, x, 4).subs(x, 0) / 6
    two_steps = sp.expand(T.subs(x, T).subs(x, e)) - e
    assert two_steps.coeff(e, 1) == 0 and two_steps.coeff(e, 2) == 0
    assert two_steps.coeff(e, 3) == -2 * (a**2 + b)


# ------------------------------------------------------------------------------------------------ descend
def _ripple_grad(w):
    """The gradient of a nonconvex loss on the plane (w may carry batch axes after the first)."""
    return np.array([np.sin(w[0] + w[1]) + 0.1 * w[0] ** 3, np.sin(w[0] + w[1]) - 0.3 * w[1]])


def test_descend_path_equals_a_hand_loop_exactly(no_warnings):
    path = descend(_ripple_grad, [0.7, -1.2], 0.05, 200)
    w, expected = np.array([0.7, -1.2]), [np.array([0.7, -1.2])]
    for _ in range(200):
        w = w - 0.05 * _ripple_grad(w)
        expected.append(w)
    assert path.shape == (201, 2)
    np.testing.assert_array_equal(path, np.array(expected))


def test_descend_batch_axis_runs_every_column_on_its_own(no_warnings):
    starts = np.array([[0.7, 2.0, -3.0], [-1.2, 0.1, 4.0]])  # three points of the plane, as columns
    batch = descend(_ripple_grad, starts, 0.05, 50, axis=0)
    assert batch.shape == (51, 2, 3)
    for j in range(3):
        np.testing.assert_array_equal(batch[:, :, j], descend(_ripple_grad, starts[:, j], 0.05, 50))
    # the batch may also come first, and the state may have several axes (layers of a network)
    layers = np.random.default_rng(0).normal(size=(4, 2, 3))
    matrix_path = descend(lambda w: w**3, layers, 0.1, 5, axis=(1, 2))
    for j in range(4):
        np.testing.assert_array_equal(matrix_path[:, j], descend(lambda w: w**3, layers[j], 0.1, 5))


def test_run_is_descend_with_every_entry_its_own_state(no_warnings):
    starts, steps = np.array([[0.3], [1.5], [-2.0]]), np.array([0.1, 0.45, 0.6])
    grad = lambda z: z**3 - z  # noqa: E731
    np.testing.assert_array_equal(run(grad, starts, steps, 40), descend(grad, starts, steps, 40, axis=()))


def test_descend_divergence_is_nan_from_the_step_it_left_on(no_warnings):
    # f = (4 w1^2 + w2^2)/2 with step 0.51 > 2/4: w1 is multiplied by -1.04 per step, w2 by 0.49.
    curvatures = np.array([4.0, 1.0])
    path = descend(lambda w: curvatures * w, [1.0, 1.0], 0.51, 600, escape=1e3)
    norms = np.linalg.norm(np.array([(-1.04) ** k * 1.0 for k in range(601)])[:, None] * [1, 0], axis=1)
    left = int(np.argmax(norms > 1e3))  # w2 is below 1e-100 by then; the first step with |w| > 1e3
    assert np.all(np.isfinite(path[:left])) and np.all(np.isnan(path[left:]))
    assert np.linalg.norm(path[left - 1]) > 1e3 / 1.04**2
    # a batch: only the state that left is NaN, the other one converges
    both = descend(lambda w: curvatures[:, None] * w, np.ones((2, 2)), np.array([0.49, 0.51]), 600, axis=0)
    assert np.all(np.isnan(both[-1, :, 1])) and np.all(np.abs(both[-1, :, 0]) < 1e-8)


def test_descend_escape_is_an_early_stop_and_huge_values_do_not_overflow(no_warnings):
    # leaving the disc of radius 1 (norm, not a coordinate): the start (0.6, 0.6) has norm 0.85, the next 1.13
    path = descend(lambda w: -0.5 * w, [0.6, 0.6], 0.5, 10, escape=1.0)
    np.testing.assert_array_equal(path[0], [0.6, 0.6])
    assert np.all(np.isnan(path[1:]))
    # a norm near the top of the float range: squaring the entries would overflow, the norm must not
    big = descend(lambda w: np.zeros_like(w), [1e200, 1e200], 0.1, 2, escape=1e300)
    np.testing.assert_array_equal(big[-1], [1e200, 1e200])
    assert np.all(np.isnan(descend(lambda w: w, [1e300, 1e300], 0.1, 1, escape=1.4e300)))
    # a gradient that overflows or is NaN ends the run as diverged, silently
    assert np.all(np.isnan(descend(lambda w: np.exp(w), [800.0, 1.0], 1.0, 3, escape=1e300)[1:]))
    # a start beyond the escape radius has left before the first step; n_steps = 0 records only the start
    assert np.all(np.isnan(descend(lambda w: w, [3.0, 4.0], 0.1, 2, escape=4.9)))
    np.testing.assert_array_equal(descend(lambda w: w, [3.0, 4.0], 0.1, 0), [[3.0, 4.0]])


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"grad": "w**2"}, TypeError, "grad"),
        ({"grad": lambda w: np.zeros(3)}, ValueError, "grad"),
        ({"grad": lambda w: w.astype(complex)}, TypeError, "grad"),
        ({"x0": [np.nan, 1.0]}, ValueError, "x0"),
        ({"x0": "1.0"}, TypeError, "x0"),
        ({"x0": [1 + 1j, 0.0]}, TypeError, "x0"),
        ({"step": 0.0}, ValueError, "step"),
        ({"step": [0.1, 0.2, 0.3]}, ValueError, "x0"),
        ({"n_steps": -1}, ValueError, "n_steps"),
        ({"n_steps": 10**30}, ValueError, "n_steps"),
        ({"n_steps": 1.5}, TypeError, "n_steps"),
        ({"escape": np.inf}, ValueError, "escape"),
        ({"escape": "far"}, TypeError, "escape"),
        ({"axis": True}, TypeError, "axis"),
        ({"axis": 1.0}, TypeError, "axis"),
        ({"axis": 1}, ValueError, "axis"),
        ({"axis": (0, -1)}, ValueError, "axis"),
    ],
)
def test_descend_rejects_bad_input(kwargs, error, name):
    args = {"grad": lambda w: w, "x0": [1.0, 2.0], "step": 0.1, "n_steps": 3} | kwargs
    with pytest.raises(error, match=name):
        descend(**args)


def test_descend_refuses_a_path_too_large_to_record():
    with pytest.raises(ValueError, match="n_steps, x0 and step"):
        descend(lambda w: w, np.zeros(1000), 0.1, MAX_ELEMENTS // 1000)


@st.composite
def quadratic_and_stable_step(draw):
    """A random symmetric positive semidefinite A (d <= 5), a start, and a step in (0, 2/lambda_max(A))."""
    d = draw(st.integers(1, 5))
    eigenvalues = np.array(draw(st.lists(st.floats(0.0, 50.0), min_size=d, max_size=d)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    A = q @ np.diag(eigenvalues) @ q.T
    top = max(float(np.linalg.eigvalsh(A).max()), 1e-3)
    fraction = draw(st.floats(0.01, 0.999))
    return A, rng.normal(scale=draw(st.floats(0.01, 100.0)), size=d), fraction * 2 / top


@settings(max_examples=60, deadline=None)
@given(quadratic_and_stable_step())
def test_descend_on_a_quadratic_never_raises_the_loss_below_two_over_lambda_max(case):
    """For every PSD quadratic f = x^T A x / 2 and every step below 2/lambda_max(A), f never increases on the path.

    In the eigenbasis every coordinate is multiplied by 1 - step * lambda_i, of magnitude below 1 for every
    eigenvalue in [0, lambda_max]; the tolerance is rounding (relative 1e-12 of the starting loss).
    """
    A, x0, step = case
    path = descend(lambda w: A @ w, x0, step, 300)
    losses = 0.5 * np.einsum("ki,ij,kj->k", path, A, path)
    assert np.all(np.isfinite(path))
    assert np.all(np.diff(losses) <= 1e-12 * max(losses[0], 1e-300))


# ------------------------------------------------------------------------------------------- hypothesis
@settings(max_examples=40, deadline=None)
@given(
    curvature=st.floats(0.2, 20.0),
    center=st.floats(-5.0, 5.0),
    low=st.floats(0.05, 0.95),
    high=st.floats(1.05, 2.0),
)
def test_quadratic_converges_iff_step_below_two_over_curvature(curvature, center, low, high):
    """f = c/2 (x - x*)^2: x_k - x* = (1 - step c)^k (x_0 - x*), so GD converges iff step < 2/c."""
    grad = lambda z: curvature * (z - center)  # noqa: E731
    steps = np.array([low, high]) * 2 / curvature
    traj = run(grad, center + 1.0, steps, 800)
    assert abs(traj[-1, 0] - center) < 1e-8
    assert np.isnan(traj[-1, 1]) or abs(traj[-1, 1] - center) > 1e3


@st.composite
def polynomial_with_a_minimum(draw):
    """f' = (x - x*) (a + (x - x*) p(x - x*)) with a > 0 and p of degree <= 3: x* is a minimum with f''(x*) = a."""
    a = sp.Rational(draw(st.integers(1, 60)), 10)
    center = sp.Rational(draw(st.integers(-30, 30)), 10)
    coefficients = [sp.Rational(draw(st.integers(-20, 20)), 10) for _ in range(draw(st.integers(1, 4)))]
    u = x - center
    p = sum(c * u**i for i, c in enumerate(coefficients))
    fprime = sp.expand(u * (a + u * p))
    return sp.integrate(fprime, x), a, center


@settings(max_examples=25, deadline=None)
@given(polynomial_with_a_minimum(), st.floats(0.1, 0.9), st.floats(1.1, 1.8))
def test_polynomial_minimum_attracts_iff_step_below_two_over_curvature(data, low, high):
    """Lyapunov's indirect method on random polynomials: stable for step < 2/f''(x*), repelling for step > 2/f''(x*).

    The margin (low <= 0.9, high >= 1.1) keeps |1 - step f''(x*)| away from 1; the start is 1e-6 from x*, where the
    higher-order terms change the multiplier by far less than the margin.
    """
    f, a, center = data
    threshold = max_stable_step(f, x, center)
    assert threshold == 2 / a
    grad = sp.lambdify(x, sp.diff(f, x), "numpy")
    xs, t = float(center), float(threshold)
    steps = np.array([low * t, high * t])
    traj = run(grad, xs + 1e-6, steps, 1500)
    assert abs(traj[-1, 0] - xs) < 1e-9
    assert np.nanmax(np.abs(traj[:, 1] - xs)) > 1e-3


# ------------------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"step": 0.0}, ValueError, "step"),
        ({"step": -0.1}, ValueError, "step"),
        ({"step": np.inf}, ValueError, "step"),
        ({"step": np.nan}, ValueError, "step"),
        ({"step": [0.1, -1.0]}, ValueError, "step"),
        ({"x0": np.nan}, ValueError, "x0"),
        ({"x0": np.zeros(3), "step": np.ones(4)}, ValueError, "x0"),
        ({"n_steps": -1}, ValueError, "n_steps"),
        ({"n_steps": 2.5}, TypeError, "n_steps"),
        ({"n_steps": True}, TypeError, "n_steps"),
        ({"grad": 3.0}, TypeError, "grad"),
        ({"grad": lambda z: np.zeros(2)}, ValueError, "grad"),
        ({"escape": 0.0}, ValueError, "escape"),
        ({"x0": "a"}, TypeError, "x0"),
    ],
)
def test_run_rejects_bad_input(kwargs, error, name):
    args = {"grad": lambda z: z, "x0": np.zeros(3), "step": 0.1, "n_steps": 3} | kwargs
    escape = args.pop("escape", 1e6)
    with pytest.raises(error, match=name):
        run(args["grad"], args["x0"], args["step"], args["n_steps"], escape=escape)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"steps": [0.1, 0.0]}, ValueError, "steps"),
        ({"steps": [[0.1]]}, ValueError, "steps"),
        ({"x0s": [[0.1]]}, ValueError, "x0s"),
        ({"x0s": [np.inf]}, ValueError, "x0s"),
        ({"n_transient": -1}, ValueError, "n_transient"),
        ({"n_keep": 0}, ValueError, "n_keep"),
        ({"n_keep": 1.0}, TypeError, "n_keep"),
        ({"grad": x * sp.Symbol("y")}, ValueError, "grad"),
        ({"grad": sp.Integer(3)}, ValueError, "grad"),
        ({"grad": sp.Eq(x, 1)}, TypeError, "grad"),
        ({"grad": "x**2"}, TypeError, "grad"),
    ],
)
def test_bifurcation_rejects_bad_input(kwargs, error, name):
    args = {"grad": x**2, "steps": [0.1, 0.2], "x0s": [0.0, 1.0], "n_transient": 2, "n_keep": 3} | kwargs
    with pytest.raises(error, match=name):
        bifurcation(**args)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"trajectory": np.float64(1.0)}, ValueError, "trajectory"),
        ({"trajectory": np.zeros((0, 3))}, ValueError, "trajectory"),
        ({"tol": -1.0}, ValueError, "tol"),
        ({"max_period": 0}, ValueError, "max_period"),
    ],
)
def test_orbit_period_rejects_bad_input(kwargs, error, name):
    args = {"trajectory": np.zeros((5, 2)), "tol": 1e-9, "max_period": 4} | kwargs
    with pytest.raises(error, match=name):
        orbit_period(args["trajectory"], tol=args["tol"], max_period=args["max_period"])
