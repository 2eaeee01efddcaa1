"""The rounding harness (``LECTURELIB_PERTURB``) and ensembles of perturbed starts (``lecturelib.perturbation``).

- unset (or empty), every covered function gives bit-for-bit the results it gives with the harness taken out of
  its code path altogether;
- set, every covered function starts from ``x * (1 + 2**-44 z)``: its first recorded state differs from the
  unperturbed start by a relative amount of that size, repeated calls differ, and a fresh process (the call counter
  from zero) repeats the same draws;
- a bad value of the variable is a clear error.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from lecturelib import curvature, gd, linear_nets, optimizers, perturbation, relu_nets, stepsizes
from lecturelib.mlp import TanhMLP

MODULES = (gd, linear_nets, relu_nets, curvature, stepsizes)


def _quartic_grad(x):
    return x**3 - x


def _mlp_problem():
    net = TanhMLP((2, 6, 1))
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((20, 2)), rng.standard_normal((20, 1))
    return net, X, Y, net.init(1)


def _runs() -> dict[str, object]:
    """One call of every covered function; each value is the array that records the run."""
    relu_net, _, X, Y = relu_nets.figure2_problem(0)
    mlp, mX, mY, theta0 = _mlp_problem()
    R = np.array([[2.0, 0.3], [0.3, 1.5]])
    return {
        "descend": gd.descend(lambda w: np.array([4.0, 1.0]) * w, [1.0, -0.7], 0.3, 20),
        "run": gd.run(_quartic_grad, np.linspace(-2.0, 2.0, 7), 0.9, 30),
        "bifurcation (callable)": gd.bifurcation(_quartic_grad, [0.5, 1.2], [0.3, 1.7], 5, 4),
        "linear_nets.train": linear_nets.train(R, 3, 0.1, 30).losses,
        "linear_nets.train (layers)": linear_nets.train(R, 2, 0.1, 30, init=[np.eye(2) * 0.9, np.eye(2) * 1.1]).losses,
        "linear_nets.train_scalar": linear_nets.train_scalar(2.0, [[0.5, 1.5], [1.0, 1.0]], 0.2, 40)[0],
        "relu_nets.train_trajectory": relu_nets.train_trajectory(relu_net, X, Y, 0.5, 300).losses,
        "relu_nets.train": relu_nets.train(relu_net, X, Y, 0.1, 50).theta,
        "track_sharpness": curvature.track_sharpness(
            lambda t: mlp.loss(t, mX, mY), lambda t: mlp.grad(t, mX, mY), theta0, 0.2, 30, every=10
        ).losses,
        "track_sharpness (HeavyBall)": curvature.track_sharpness(
            lambda t: mlp.loss(t, mX, mY),
            lambda t: mlp.grad(t, mX, mY),
            theta0,
            0.1,
            30,
            every=10,
            optimizer=optimizers.HeavyBall(0.9),
        ).losses,
        "sgd_lyapunov_exponent": np.array(
            optimizers.sgd_lyapunov_exponent(
                np.array([[[1.0, 0.2], [0.2, 2.0]], [[3.0, 0.0], [0.0, 0.5]]]), 0.5, 1, n_steps=50, n_chains=4
            )
        ),
        "top_hessian_eigenvalue": np.array(
            [curvature.top_hessian_eigenvalue(lambda t: mlp.grad(t, mX, mY), theta0, tol=0.05)]
        ),
        # last, so that the draws of the functions above keep their index k
        "stepsizes.adgd": stepsizes.adgd(lambda w: np.array([4.0, 1.0]) * w, [1.0, -0.7], 20)[0],
    }


def _identity(x):
    return perturbation.real_array(x, "x")


@pytest.fixture
def fresh_counter(monkeypatch):
    monkeypatch.setattr(perturbation, "_counter", itertools.count())


def test_unset_is_bit_for_bit_the_code_without_the_harness(monkeypatch):
    monkeypatch.delenv(perturbation.VARIABLE, raising=False)
    unset = _runs()
    monkeypatch.setenv(perturbation.VARIABLE, "")
    empty = _runs()
    for module in MODULES:  # the harness taken out of every covered function's code path
        monkeypatch.setattr(module, "perturb_start", _identity)
    without = _runs()
    for name, value in unset.items():
        assert np.array_equal(value, without[name], equal_nan=True), name
        assert np.array_equal(value, empty[name], equal_nan=True), name


def test_unset_hands_back_the_start_itself(monkeypatch):
    monkeypatch.delenv(perturbation.VARIABLE, raising=False)
    x = np.arange(6.0).reshape(2, 3)
    assert perturbation.perturb_start(x) is x
    assert perturbation.seed() is None


def test_set_perturbs_every_covered_function(monkeypatch, fresh_counter):
    monkeypatch.delenv(perturbation.VARIABLE, raising=False)
    unset = _runs()
    monkeypatch.setenv(perturbation.VARIABLE, "7")
    first = _runs()
    second = _runs()
    for name, value in unset.items():
        assert not np.array_equal(value, first[name], equal_nan=True), f"{name} ignored the harness"
        assert not np.array_equal(first[name], second[name], equal_nan=True), f"{name}: repeated calls are equal"


def test_the_start_moves_by_about_two_to_the_minus_44(monkeypatch, fresh_counter):
    monkeypatch.setenv(perturbation.VARIABLE, "11")
    x0 = np.random.default_rng(0).uniform(0.5, 2.0, 20_000)
    path = gd.descend(lambda w: w, x0, 0.1, 1)
    relative = path[0] / x0 - 1.0
    # z is standard normal: the relative change has standard deviation 2**-44 (to the rounding of the product)
    assert abs(np.std(relative) / perturbation.SCALE - 1.0) < 0.05
    assert abs(np.mean(relative)) < 5 * perturbation.SCALE / np.sqrt(x0.size)
    assert np.max(np.abs(relative)) < 6 * perturbation.SCALE


def test_same_seed_in_a_fresh_process_repeats_its_draws():
    code = (
        "import numpy as np; from lecturelib import gd; "
        "a = gd.descend(lambda w: 3.9 * w * (1 - w), [0.3, 0.6], 1.0, 200); "
        "b = gd.run(lambda x: x**3 - x, [0.2, 1.4], 0.9, 50); "
        "print(np.concatenate([a.ravel(), b.ravel()]).tobytes().hex())"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**_clean_env(), perturbation.VARIABLE: seed},
        ).stdout
        for seed in ("5", "5", "6")
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != perturbation.VARIABLE}


@pytest.mark.parametrize("value", ["-1", "1.5", "seven", "0x10", " 3e2", "١٢"])
def test_a_bad_value_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(perturbation.VARIABLE, value)
    with pytest.raises(ValueError, match="LECTURELIB_PERTURB must be"):
        perturbation.seed()
    with pytest.raises(ValueError, match="LECTURELIB_PERTURB"):
        gd.run(_quartic_grad, 0.5, 0.1, 3)


def test_perturbed_starts():
    x0 = np.array([[1.0, -2.0], [0.0, 3.0]])
    starts = perturbation.perturbed_starts(x0, 50, seed=3)
    assert starts.shape == (50, 2, 2)
    assert np.array_equal(starts[0], x0)
    assert np.all(starts[:, 1, 0] == 0.0)  # relative: a zero stays zero
    nonzero = x0 != 0
    assert np.all(np.abs(starts[1:][:, nonzero] / x0[nonzero] - 1) < 8 * perturbation.SCALE)
    assert len({s.tobytes() for s in starts}) == 50
    assert np.array_equal(starts, perturbation.perturbed_starts(x0, 50, seed=3))
    wide = perturbation.perturbed_starts([1.0], 1000, seed=0, scale=1e-3)
    assert 0.9e-3 < np.std(wide[1:, 0] - 1.0) < 1.1e-3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x0": "1", "count": 3, "seed": 0}, TypeError, "x0"),
        ({"x0": [np.nan], "count": 3, "seed": 0}, ValueError, "x0"),
        ({"x0": [1.0], "count": 0, "seed": 0}, ValueError, "count"),
        ({"x0": [1.0], "count": 2.5, "seed": 0}, TypeError, "count"),
        ({"x0": [1.0], "count": 3, "seed": -1}, ValueError, "seed"),
        ({"x0": [1.0], "count": 3, "seed": 0, "scale": 0.0}, ValueError, "scale"),
        ({"x0": [1.0], "count": 3, "seed": 0, "scale": 2.0}, ValueError, "scale"),
        ({"x0": np.ones(1000), "count": 10**8, "seed": 0}, ValueError, "count"),
    ],
)
def test_perturbed_starts_refuses_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        perturbation.perturbed_starts(**kwargs)


def test_a_0d_start_stays_an_array_and_exact_switches_the_harness_off(monkeypatch):
    monkeypatch.setenv(perturbation.VARIABLE, "7")
    moved = [perturbation.perturb_start(2.0) for _ in range(5)]
    assert all(isinstance(m, np.ndarray) and m.shape == () and abs(m / 2.0 - 1) < 1e-12 for m in moved)
    assert any(m != 2.0 for m in moved)  # (one draw can be too small to move 2.0 by an ulp)
    assert gd.run(lambda v: 2 * v, 1.0, 0.25, 3).shape == (4,)  # gd.run from a scalar start under the harness
    with perturbation.exact():
        assert perturbation.perturb_start(2.0) == 2.0
        assert np.array_equal(gd.run(lambda v: 2 * v, 1.0, 0.25, 3), [1.0, 0.5, 0.25, 0.125])
    assert any(perturbation.perturb_start(2.0) != 2.0 for _ in range(5))
