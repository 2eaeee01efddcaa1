"""Tests of the homework-5 checks (lecturelib.homework.checks.choosing_steps).

Right answers are accepted, typical wrong ones rejected with a message that names the mistake and never contains the
expected answer, placeholders are "unanswered".
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import lecturelib.homework as hw
from lecturelib import stepsizes

gap, G, D = sp.symbols("gap G D", positive=True)
lam1, beta = sp.symbols("lambda_1 beta", positive=True)
FRACTION = (beta / 2 - lam1) / (beta - lam1)


def test_polyak_derivation():
    assert hw.check_polyak_derivation(gap / G, gap, G, D).correct
    assert hw.check_polyak_derivation(..., gap, G, D).status == "unanswered"
    for answer, words in [
        (2 * gap / G, "back at D"),
        (G / gap, "upside down"),
        (gap / sp.sqrt(G), "square root"),
        (3 * gap / G, "constant factor"),
        (gap / G * sp.Symbol("x"), "other than"),
        (gap / G + D, "not zero"),
        ("not an expression (", "sympy expression"),
    ]:
        result = hw.check_polyak_derivation(answer, gap, G, D)
        assert result.status == "incorrect" and words in result.message, (answer, result.message)
        assert "gap/G" not in result.message.replace(" ", "")


def _polyak(loss_value, loss_min, grad):
    return (loss_value - loss_min) / float(np.sum(np.asarray(grad) ** 2))


@pytest.mark.parametrize("seed", [0, 51])
def test_polyak_function(seed):
    assert hw.check_polyak_function(_polyak, seed=seed).correct
    norm = lambda f, fm, g: (f - fm) / np.linalg.norm(g)  # noqa: E731
    assert "square" in hw.check_polyak_function(norm, seed=seed).message
    no_min = lambda f, fm, g: f / np.sum(g**2)  # noqa: E731
    assert "optimal value" in hw.check_polyak_function(no_min, seed=seed).message
    assert hw.check_polyak_function(lambda f, fm, g: ..., seed=seed).status == "unanswered"
    assert "raised" in hw.check_polyak_function(lambda f, fm, g: 1 / 0, seed=seed).message
    assert "None" in hw.check_polyak_function(lambda f, fm, g: None, seed=seed).message


def test_rate_constants():
    assert hw.check_rate_constants((2, 2), 0.5).correct
    assert hw.check_rate_constants((4, 2), 1.0).correct
    assert hw.check_rate_constants((2.0, 2.0), 0.5, lengths=(6, 8)).correct
    assert hw.check_rate_constants(..., 0.5).status == "unanswered"
    assert "factor of 2" in hw.check_rate_constants((1, 1), 0.5).message
    assert "constant b" in hw.check_rate_constants((2, 3), 0.5).message
    assert "does not match" in hw.check_rate_constants((5, 0), 0.5).message
    assert "pair" in hw.check_rate_constants(3.0, 0.5).message
    for bad in ((1, 1), (2, 3), (5, 0)):
        message = hw.check_rate_constants(bad, 0.5).message
        assert "2N+2" not in message.replace(" ", "") and "(2, 2)" not in message


def test_schedule_beats_constant():
    assert hw.check_schedule_beats_constant([1.5, 2.2, 1.5], 3).correct
    assert not hw.check_schedule_beats_constant([np.sqrt(2), 2, np.sqrt(2)], 3).correct  # silver loses at n = 3
    assert "try one longer step" in hw.check_schedule_beats_constant([1.5, 2.0, 1.5], 3).message
    assert "constant schedule" in hw.check_schedule_beats_constant([1.67] * 3, 3).message
    assert "3 steps" in hw.check_schedule_beats_constant([1.5, 2.2], 3).message
    assert "positive" in hw.check_schedule_beats_constant([1.5, -2.2, 1.5], 3).message
    assert hw.check_schedule_beats_constant(..., 3).status == "unanswered"
    # silver of length 7 beats the best constant step, as chapter 10 computes
    assert hw.check_schedule_beats_constant(list(stepsizes.silver_schedule(7)), 7).correct
    with pytest.raises(ValueError, match="n must be"):
        hw.check_schedule_beats_constant([1.0], 0)


def test_bb_fraction_and_move():
    assert hw.check_bb_fraction(FRACTION, lam1, beta).correct
    assert hw.check_bb_fraction(sp.simplify(FRACTION), lam1, beta).correct
    assert "too large" in hw.check_bb_fraction(FRACTION + sp.Rational(1, 100), lam1, beta).message
    assert "too small" in hw.check_bb_fraction(FRACTION / 2, lam1, beta).message
    assert hw.check_bb_fraction(..., lam1, beta).status == "unanswered"
    H = np.array([0.1, 1.0])
    assert hw.check_bb_move(np.array([1.0, 0.5]), H).correct
    assert "too much of the sharp" in hw.check_bb_move(np.array([0.0, 1.0]), H).message
    assert "so is the short" in hw.check_bb_move(np.array([1.0, 0.0]), H).message
    assert "one per curvature" in hw.check_bb_move(np.array([1.0, 0.5, 0.0]), H).message
    assert "not zero" in hw.check_bb_move(np.zeros(2), H).message


def test_checks_answer_not_right_for_any_kind_of_answer():
    odd = [True, {"a": 1}, "x**2", 1 + 2j, object(), None, [1, "a"]]
    for answer in odd:
        for result in (
            hw.check_polyak_derivation(answer, gap, G, D),
            hw.check_polyak_function(answer),
            hw.check_rate_constants(answer, 0.5),
            hw.check_schedule_beats_constant(answer, 3),
            hw.check_bb_fraction(answer, lam1, beta),
            hw.check_bb_move(answer, np.array([0.1, 1.0])),
        ):
            assert isinstance(result, hw.CheckResult) and result.status == "incorrect", (answer, result)
