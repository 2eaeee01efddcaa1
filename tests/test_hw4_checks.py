"""Tests of the homework-4 checks (lecturelib.homework.checks.optimizers).

Right answers are accepted, typical wrong ones rejected with a message that names the mistake and never contains the
expected answer, placeholders are "unanswered".
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import lecturelib.homework as h4
from lecturelib.curvature import SharpnessRun

lam, beta = sp.symbols("lambda beta", positive=True)
HEAVY = 2 * (1 + beta) / lam
NESTEROV = (2 + 2 * beta) / ((1 + 2 * beta) * lam)
EMA = 2 * (1 + beta) / ((1 - beta) * lam)


@pytest.mark.parametrize(("method", "right"), [("heavy ball", HEAVY), ("nesterov", NESTEROV), ("ema momentum", EMA)])
def test_momentum_threshold_accepts_the_jury_boundary(method, right):
    assert h4.check_momentum_threshold(right, method, lam, beta).correct
    assert h4.check_momentum_threshold(..., method, lam, beta).status == "unanswered"


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (2 / lam, "plain gradient descent"),
        (HEAVY, "heavy ball"),
        (NESTEROV, "nesterov"),
        (4 * (1 + beta) / ((1 - beta) * lam), "constant factor"),
        (EMA * (1 + beta), "too large"),
        (2 * (1 + beta) / ((1 - beta) * lam) * sp.Symbol("delta"), "other than"),
        (-EMA, "positive"),
    ],
)
def test_momentum_threshold_names_the_mistake(answer, words):
    result = h4.check_momentum_threshold(answer, "ema momentum", lam, beta)
    assert result.status == "incorrect" and words in result.message
    assert "1 - beta" not in result.message and "(1-β)" not in result.message


def test_edge_level_and_run():
    assert h4.check_edge_level(7.5, "nesterov", 0.2, 0.5).correct
    assert h4.check_edge_level(15.0, "heavy ball", 0.2, 0.5).correct
    assert "gradient descent" in h4.check_edge_level(10.0, "nesterov", 0.2, 0.5).message
    assert "heavy ball" in h4.check_edge_level(15.0, "nesterov", 0.2, 0.5).message
    assert "upside down" in h4.check_edge_level(1 / 7.5, "nesterov", 0.2, 0.5).message
    assert h4.check_edge_level(..., "nesterov", 0.2, 0.5).status == "unanswered"
    steps = np.arange(0, 1001, 50)
    hovering = np.concatenate([np.linspace(3, 7.4, 8), 7.5 * (1 + 0.1 * np.sin(np.arange(13)))])
    run = SharpnessRun(np.zeros(1001), steps, hovering, np.zeros(3), False)
    assert h4.check_edge_run(run, 7.5).correct
    assert not h4.check_edge_run(run, 5.0).correct  # reached early but sits far above: the level is wrong
    rising = SharpnessRun(np.zeros(1001), steps, np.linspace(3, 7, steps.size), np.zeros(3), False)
    assert "never reached" in h4.check_edge_run(rising, 7.5).message
    assert "diverged" in h4.check_edge_run(run._replace(diverged=True), 7.5).message
    assert "SharpnessRun" in h4.check_edge_run([1, 2], 7.5).message


def test_radius_function_check_names_slips():
    def right(h, d, B):
        return (1 - d * np.mean(h)) ** 2 + d**2 * np.var(h) / B

    assert h4.check_radius_function(right).correct
    cases = {
        "batch size": lambda h, d, B: (1 - d * np.mean(h)) ** 2 + d**2 * np.var(h),
        "ddof": lambda h, d, B: (1 - d * np.mean(h)) ** 2 + d**2 * np.var(h, ddof=1) / B,
        "spread": lambda h, d, B: (1 - d * np.mean(h)) ** 2,
        "δ²": lambda h, d, B: (1 - d * np.mean(h)) ** 2 + d * np.var(h) / B,
    }
    for words, wrong in cases.items():
        result = h4.check_radius_function(wrong)
        assert result.status == "incorrect" and words in result.message, (words, result.message)
    assert "raised ZeroDivisionError" in h4.check_radius_function(lambda h, d, B: 1 / 0).message
    assert h4.check_radius_function(lambda h, d, B: ...).status == "unanswered"
    assert h4.check_radius_function(...).status == "unanswered"


def test_radius_function_names_the_without_replacement_slip():
    def without(h, d, B):
        h = np.asarray(h)
        return (1 - d * h.mean()) ** 2 + d**2 * h.var() * (h.size - B) / (B * (h.size - 1))

    result = h4.check_radius_function(without)
    assert result.status == "incorrect" and "without-replacement" in result.message, result.message
    assert "with replacement" in result.message


def test_stable_batch():
    h = np.array([0.5] * 9 + [5.5])
    assert h4.check_stable_batch(3, h, 1.0).correct
    assert h4.check_stable_batch(3.0, h, 1.0).correct  # an integral float is the integer answer
    assert h4.check_stable_batch(np.float32(3.0), h, 1.0).correct
    assert "too small" in h4.check_stable_batch(1, h, 1.0).message
    # B = 2 has radius exactly 1 without replacement: the slip is named
    slip = h4.check_stable_batch(2, h, 1.0)
    assert slip.status == "incorrect" and "without replacement" in slip.message
    assert "not the smallest" in h4.check_stable_batch(4, h, 1.0).message
    for bad in (2.5, float("nan"), float("inf"), True, "3", 0, -3.0):
        assert "positive integer" in h4.check_stable_batch(bad, h, 1.0).message, bad


@pytest.fixture(scope="module")
def counted(monkeypatch_module):
    """The ensembles behind homework 4.4's verdicts, run once for this module."""
    from lecturelib.homework.checks import optimizers as checks

    cache = {}
    original = checks.warmup_ensemble

    def once(*args):
        if args not in cache:
            cache[args] = original(*args)
        return cache[args]

    monkeypatch_module.setattr(checks, "warmup_ensemble", once)
    return cache


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_warmup_diagnosis_grades_against_an_ensemble_verdict(counted):
    from lecturelib.homework.checks.optimizers import WARMUP_ENSEMBLE, WARMUP_MAJORITY

    right = h4.check_warmup_diagnosis({0: "diverges", 20: "trains"}, 0.9, 2, (0, 20))
    assert right.correct and "split" not in right.message, right.message
    wrong = h4.check_warmup_diagnosis({0: "trains", 20: "trains"}, 0.9, 2, (0, 20))
    assert wrong.status == "incorrect" and "W = 0" in wrong.message
    assert "W = 20" in h4.check_warmup_diagnosis({0: "diverges", 20: "diverges"}, 0.9, 2, (0, 20)).message
    # the homework's verdicts are unanimous or nearly: far from the split band (the margin the docstring states)
    diverged = {W: counted[(0.9, 2, W, 1000)] for W in (0, 20)}
    assert diverged[0] >= WARMUP_MAJORITY + 4 and diverged[20] <= WARMUP_ENSEMBLE - WARMUP_MAJORITY - 4, diverged
    assert "one entry" in h4.check_warmup_diagnosis({0: "trains"}, 0.9, 2, (0, 20)).message
    assert "must be" in h4.check_warmup_diagnosis({0: "ok", 20: "ok"}, 0.9, 2, (0, 20)).message
    assert h4.check_warmup_diagnosis(..., 0.9, 2, (0, 20)).status == "unanswered"


def test_edge_run_band_separates_the_levels_for_an_ensemble():
    """Homework 4.2's run (Nesterov, β = 0.5, δ = 0.2, seed 0) from 20 perturbed starts: check_edge_run accepts the
    right level 7.5 and rejects gradient descent's 10 for every run, and the median sharpness stays below 10."""
    from lecturelib import curvature, mlp, optimizers, perturbation

    net = mlp.TanhMLP((1, 16, 16, 1))
    X = np.linspace(-1, 1, 40)[:, None]
    Y = 0.8 * np.sin(3 * np.pi * X) + 0.3 * X
    for start in perturbation.perturbed_starts(net.init(seed=0), 20, seed=42):
        run = curvature.track_sharpness(
            lambda t: net.loss(t, X, Y),
            lambda t: net.grad(t, X, Y),
            start,
            0.2,
            1500,
            every=50,
            n_iter=40,
            tol=1e-3,
            optimizer=optimizers.Nesterov(0.5),
        )
        assert h4.check_edge_run(run, 7.5).correct
        assert not h4.check_edge_run(run, 10.0).correct
        after = run.sharpness[np.argmax(run.sharpness >= 7.5) :]
        assert 0.9 < np.median(after) / 7.5 < 1.25 and np.median(after) < 0.9 * 10
