"""Tests of lecturelib.stepsizes: the step rules against their defining properties, the silver schedule against its
recursive definition, the closed-form constant-step rate against performance estimation (PEPit), bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lecturelib import stepsizes

# no tiny magnitudes: the tests compute s^T y and |g|^2 without the library's rescaling
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).filter(lambda v: v == 0 or abs(v) > 1e-100)
vectors = hnp.arrays(np.float64, st.integers(1, 6), elements=finite)


# -- Armijo ----------------------------------------------------------------------------------------------------------


def _quartic(x):
    return float(np.sum(x**4) / 4 - np.sum(x**2) / 2 + 0.3 * x[0])


def _quartic_grad(x):
    return x**3 - x + 0.3 * (np.arange(x.size) == 0)


@settings(max_examples=200, deadline=None)
@given(
    x=hnp.arrays(np.float64, 3, elements=st.floats(-3, 3, allow_nan=False)),
    step0=st.floats(1e-3, 50.0),
    shrink=st.floats(0.1, 0.9),
    c=st.floats(1e-4, 0.5),
)
@example(x=np.array([3.0, 0.0, 0.0]), step0=33.0, shrink=0.8984375, c=0.5)  # needs 61 shrinks: found by CI
def test_armijo_accepts_a_step_satisfying_the_condition_and_the_previous_one_fails(x, step0, shrink, c):
    """For every start, first step and constants: the accepted step satisfies the condition and the one before it
    (one shrink larger) does not."""
    g = _quartic_grad(x)
    assume(g @ g > 1e-12)
    # Enough shrinks for every example drawn (a step near 50 may need more than the default 60 at shrink 0.9).
    t = stepsizes.armijo(_quartic, _quartic_grad, x, step0, shrink=shrink, c=c, max_halvings=2000)
    assert _quartic(x - t * g) <= _quartic(x) - c * t * (g @ g)
    if t < step0:
        previous = t / shrink
        assert not _quartic(x - previous * g) <= _quartic(x) - c * previous * (g @ g)
    else:
        assert t == step0
    # With the default count: the same step when it takes at most 60 shrinks, else the error that says so.
    shrinks = round(np.log(t / step0) / np.log(shrink)) if t < step0 else 0
    if shrinks <= 60:
        assert stepsizes.armijo(_quartic, _quartic_grad, x, step0, shrink=shrink, c=c) == t
    else:
        with pytest.raises(ValueError, match="max_halvings = 60"):
            stepsizes.armijo(_quartic, _quartic_grad, x, step0, shrink=shrink, c=c)


def test_armijo_at_a_stationary_point_and_with_a_wrong_gradient():
    quadratic = lambda x: float(x @ x)  # noqa: E731
    assert stepsizes.armijo(quadratic, lambda x: 2 * x, np.zeros(2), 3.0) == 3.0  # g = 0: every step satisfies it
    with pytest.raises(ValueError, match="max_halvings"):
        stepsizes.armijo(quadratic, lambda x: -2 * x, np.ones(2), 1.0, max_halvings=20)  # ascent: never accepted
    # a loss that overflows at the trial point rejects the step, with no warning
    assert stepsizes.armijo(lambda x: float(np.exp(x @ x)), lambda x: 2 * x * np.exp(x @ x), np.ones(1), 1e6) < 1


# -- Polyak -----------------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(gap=st.floats(0, 1e3), f_star=finite, g=vectors)
def test_polyak_is_the_gap_over_the_squared_gradient(gap, f_star, g):
    assume(g @ g > 1e-6)
    step = stepsizes.polyak_step(f_star + gap, f_star, g)
    assert math.isclose(step, ((f_star + gap) - f_star) / (g @ g), rel_tol=1e-12, abs_tol=1e-300)


def test_polyak_at_the_minimum_and_its_errors():
    assert stepsizes.polyak_step(1.5, 1.5, np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="loss_min"):
        stepsizes.polyak_step(1.0, 2.0, np.ones(2))
    with pytest.raises(ValueError, match="stationary point"):
        stepsizes.polyak_step(2.0, 1.0, np.zeros(2))
    with pytest.raises(TypeError, match="grad"):
        stepsizes.polyak_step(2.0, 1.0, "g")
    # |g|^2 = 1e-400 underflows in float64, the step 1e-300 / 1e-400 does not
    assert math.isclose(stepsizes.polyak_step(1e-300, 0.0, np.array([1e-200])), 1e100, rel_tol=1e-12)


def test_polyak_derived_from_the_distance_bound():
    # the step minimizes |x - x*|^2 - 2 t (f - f*) + t^2 |g|^2
    t, gap, g2 = sp.symbols("t gap g2", positive=True)
    bound = -2 * t * gap + t**2 * g2
    assert sp.solve(sp.diff(bound, t), t) == [gap / g2]


# -- Barzilai-Borwein -------------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(s=vectors, data=st.data())
def test_bb_long_is_at_least_short_when_the_curvature_is_positive(s, data):
    y = data.draw(hnp.arrays(np.float64, s.shape, elements=finite))
    sy = float(s @ y)
    if sy > 1e-9 * max(1.0, np.linalg.norm(s) * np.linalg.norm(y)):
        long = stepsizes.barzilai_borwein(s, y, "long")
        short = stepsizes.barzilai_borwein(s, y, variant="short")
        assert math.isclose(long, (s @ s) / sy, rel_tol=1e-9) and math.isclose(short, sy / (y @ y), rel_tol=1e-9)
        assert long >= short * (1 - 1e-12)  # Cauchy-Schwarz: (s^T y)^2 <= |s|^2 |y|^2
    elif sy <= 0:
        with pytest.raises(ValueError, match="s\\^T y must be positive"):
            stepsizes.barzilai_borwein(s, y)


def test_bb_on_a_quadratic_lies_between_the_inverse_curvatures():
    rng = np.random.default_rng(0)
    H = np.diag([0.5, 2.0, 9.0])
    for _ in range(100):
        s = rng.standard_normal(3)
        for variant in ("long", "short"):
            step = stepsizes.barzilai_borwein(s, H @ s, variant)
            assert 1 / 9.0 * (1 - 1e-12) <= step <= 1 / 0.5 * (1 + 1e-12)
    with pytest.raises(ValueError, match="variant"):
        stepsizes.barzilai_borwein(np.ones(2), np.ones(2), "medium")
    with pytest.raises(ValueError, match="same shape"):
        stepsizes.barzilai_borwein(np.ones(2), np.ones(3))


# -- AdGD -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_adgd_converges_on_a_quadratic_with_steps_in_its_bounds(seed):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    eigenvalues = np.geomspace(0.1, 10.0, 6)
    A = Q @ np.diag(eigenvalues) @ Q.T
    b = rng.standard_normal(6)
    x_star = np.linalg.solve(A, b)
    path, steps = stepsizes.adgd(lambda x: A @ x - b, rng.standard_normal(6), 3000)
    assert path.shape == (3001, 6) and steps.shape == (3000,)
    assert np.linalg.norm(path[-1] - x_star) < 1e-8 * max(1.0, np.linalg.norm(x_star))
    # Malitsky-Mishchenko: every step after the first is at least 1/(2 beta) on a beta-smooth convex function, and at
    # most a mu-strongly convex one at most 1/(2 mu). In exact arithmetic; near x* the differences x_k - x_{k-1} and
    # g_k - g_{k-1} are rounding noise, so the bounds are checked while the error is above 1e-6.
    assert steps[0] == 1e-6
    far = np.linalg.norm(path[:-1] - x_star, axis=1) > 1e-6
    K = int(np.argmin(far))
    assert K > 50
    assert np.all(steps[1:K] >= 1 / (2 * eigenvalues.max()) * (1 - 1e-9))
    assert np.all(steps[1:K] <= 1 / (2 * eigenvalues.min()) * (1 + 1e-9))


def test_adgd_stays_at_a_minimizer_and_reports_divergence_as_nan():
    path, steps = stepsizes.adgd(lambda x: 2 * x, np.zeros(2), 5)
    assert np.all(path == 0) and np.all(np.isfinite(steps))
    # a gradient that overflows: the path is NaN from there on, no warning
    path, steps = stepsizes.adgd(lambda x: np.exp(np.abs(x)) * 1e300, np.ones(1), 10, step0=1.0)
    assert np.isnan(path[-1]).all() and np.isnan(steps[-1])
    with pytest.raises(ValueError, match="n_steps"):
        stepsizes.adgd(lambda x: x, np.ones(1), -1)
    with pytest.raises(ValueError, match="step0"):
        stepsizes.adgd(lambda x: x, np.ones(1), 3, step0=0.0)
    with pytest.raises(TypeError, match="grad"):
        stepsizes.adgd(3, np.ones(1), 3)


def test_adgd_goes_through_the_rounding_harness(monkeypatch):
    from lecturelib import perturbation

    monkeypatch.delenv(perturbation.VARIABLE, raising=False)
    A = np.diag([1.0, 4.0])
    unset = stepsizes.adgd(lambda x: A @ x, [1.0, -1.0], 20)[0]
    monkeypatch.setattr(stepsizes, "perturb_start", lambda x: perturbation.real_array(x, "x"))
    assert np.array_equal(unset, stepsizes.adgd(lambda x: A @ x, [1.0, -1.0], 20)[0])  # unset: bit for bit
    monkeypatch.undo()
    monkeypatch.setenv(perturbation.VARIABLE, "3")
    perturbed = stepsizes.adgd(lambda x: A @ x, [1.0, -1.0], 20)[0]
    assert not np.array_equal(unset[0], perturbed[0])
    assert np.allclose(unset[0], perturbed[0], rtol=1e-12)


# -- the silver schedule ----------------------------------------------------------------------------------------------


def test_silver_schedule_first_values_and_the_ruler_sequence():
    rho = 1 + math.sqrt(2)
    assert np.allclose(stepsizes.silver_schedule(1), [math.sqrt(2)])
    assert np.allclose(stepsizes.silver_schedule(3), [math.sqrt(2), 2, math.sqrt(2)])
    r2 = math.sqrt(2)
    assert np.allclose(stepsizes.silver_schedule(7), [r2, 2, r2, 2 + r2, r2, 2, r2])
    previous = stepsizes.silver_schedule(1)
    for k in range(1, 5):  # n = 3, 7, 15, 31: the schedule, one long step, the schedule again
        current = stepsizes.silver_schedule(2 ** (k + 1) - 1)
        assert np.allclose(current, np.concatenate([previous, [1 + rho ** (k - 1)], previous]))
        previous = current
    ruler = [0, 1, 0, 2, 0, 1, 0, 3, 0, 1, 0, 2, 0, 1, 0]
    assert np.allclose(stepsizes.silver_schedule(15), 1 + rho ** (np.array(ruler) - 1.0))
    assert math.isclose(stepsizes.SILVER_RATIO, rho)


@pytest.mark.parametrize("n", [0, 2, 4, 5, 6, 8, 14, 16])
def test_silver_schedule_refuses_other_lengths(n):
    with pytest.raises(ValueError, match="n"):
        stepsizes.silver_schedule(n)


# -- the constant-step rate and performance estimation ------------------------------------------------------------


def test_tight_constant_rate_closed_form():
    n = sp.symbols("n", positive=True)
    assert sp.simplify(sp.Rational(1, 2) / (2 * n + 1) - 1 / (4 * n + 2)) == 0  # the value at h = 1
    for N in (1, 2, 5, 10):
        assert math.isclose(stepsizes.tight_constant_rate(1.0, N), 1 / (4 * N + 2))
        grid = np.linspace(0.01, 1.99, 50)
        expected = 0.5 * np.maximum(1 / (2 * N * grid + 1), (1 - grid) ** (2 * N))
        assert np.allclose(stepsizes.tight_constant_rate(grid, N), expected, rtol=1e-14)
    with pytest.raises(ValueError, match="h"):
        stepsizes.tight_constant_rate(2.0, 3)
    with pytest.raises(ValueError, match="n"):
        stepsizes.tight_constant_rate(1.0, 0)


@pytest.mark.parametrize(("h", "N"), [(0.5, 1), (1.0, 3), (1.5, 2), (1.8, 5), (0.3, 7)])
def test_closed_form_agrees_with_performance_estimation(h, N):
    pep = stepsizes.pep_worst_case([h] * N)
    assert math.isclose(pep, stepsizes.tight_constant_rate(h, N), rel_tol=1e-6)


def test_pep_scaling_and_the_gradient_criterion():
    base = stepsizes.pep_worst_case([1.0] * 3)
    assert math.isclose(stepsizes.pep_worst_case([1.0] * 3, smoothness=2.0, radius=3.0), 18 * base, rel_tol=1e-9)
    # the squared gradient norm after N steps of 1/beta: computed 1/(N + 1)^2 (Taylor, Hendrickx and Glineur)
    for N in (1, 3, 5):
        grad = stepsizes.pep_worst_case([1.0] * N, criterion="gradient")
        assert math.isclose(grad, 1 / (N + 1) ** 2, rel_tol=1e-6)
        assert grad <= 1 / N  # chapter 2's bound 2 beta (f(x0) - f*) / N with f(x0) - f* <= beta R^2 / 2
    scaled = stepsizes.pep_worst_case([1.0], smoothness=2.0, radius=3.0, criterion="gradient")
    assert math.isclose(scaled, 4 * 9 * 0.25, rel_tol=1e-6)


def test_silver_beats_the_constant_step_where_the_chapter_says():
    # the best constant step for n steps minimizes the closed form; silver wins from n = 7 on, loses at n = 1 and 3
    for n, silver_wins in ((1, False), (3, False), (7, True)):
        grid = np.linspace(1.0, 1.999, 4000)
        best_constant = stepsizes.tight_constant_rate(grid, n).min()
        silver = stepsizes.pep_worst_case(stepsizes.silver_schedule(n))
        assert (silver < best_constant) == silver_wins


def test_pep_bad_input():
    with pytest.raises(ValueError, match="steps"):
        stepsizes.pep_worst_case([])
    with pytest.raises(ValueError, match="steps"):
        stepsizes.pep_worst_case([1.0, -1.0])
    with pytest.raises(ValueError, match="steps"):
        stepsizes.pep_worst_case(np.ones(stepsizes.MAX_PEP_STEPS + 1))
    with pytest.raises(ValueError, match="criterion"):
        stepsizes.pep_worst_case([1.0], criterion="distance")
    with pytest.raises(ValueError, match="smoothness"):
        stepsizes.pep_worst_case([1.0], smoothness=0.0)
    with pytest.raises(TypeError, match="steps"):
        stepsizes.pep_worst_case("1.0")
