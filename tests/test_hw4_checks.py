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


def test_stable_batch():
    h = np.array([0.5] * 9 + [5.5])
    assert h4.check_stable_batch(3, h, 1.0).correct
    assert "too small" in h4.check_stable_batch(2, h, 1.0).message
    assert "not the smallest" in h4.check_stable_batch(4, h, 1.0).message
    assert "positive integer" in h4.check_stable_batch(2.5, h, 1.0).message


def test_warmup_diagnosis_runs_the_training():
    assert h4.check_warmup_diagnosis({0: "diverges", 20: "diverges", 200: "trains"}, 1.0, 2, (0, 20, 200)).correct
    wrong = h4.check_warmup_diagnosis({0: "trains", 20: "diverges", 200: "trains"}, 1.0, 2, (0, 20, 200))
    assert wrong.status == "incorrect" and "W = 0" in wrong.message
    assert "one entry" in h4.check_warmup_diagnosis({0: "trains"}, 1.0, 2, (0, 20, 200)).message
    assert "must be" in h4.check_warmup_diagnosis({0: "ok", 20: "ok", 200: "ok"}, 1.0, 2, (0, 20, 200)).message
