"""Every symbolic check of every homework set accepts a right answer whatever assumptions its symbols carry.

A student who writes ``sp.symbols("lambda beta")`` in their own cell gets symbols that print like the notebook's
``positive=True`` ones but are other variables for sympy; the grader rebuilds the answer from its ``srepr`` text, with
the student's assumptions, and judges it against the rubric's own symbols. So each check must match symbols by name
(issue 20, item 2: ``check_momentum_threshold`` did not, and a right answer lost its points in the grader only).

Each case is an exercise whose answer is an expression (or a matrix of them) in named symbols. The right answer is
built three times, from plain, positive and real symbols, and judged twice: by the check as the notebook calls it
(with the notebook's symbols, whose assumptions differ from the answer's), and through the grader's path (encoded to
plain data as the student's kernel does, decoded in the grader, judged by the set's own grading cell).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp

import lecturelib.homework as hw
from lecturelib.homework import codec
from lecturelib.homework.grade import Limits, judge, load_rubric

BOOK = Path(__file__).resolve().parents[1] / "book" / "homework"
ASSUMPTIONS = {"plain": {}, "positive": {"positive": True}, "real": {"real": True}}


def _hessian(s):
    x, y = s("x y")
    return sp.hessian(x**3 * y - 2 * x * y**2 + sp.exp(x) * y, (x, y))


def _taylor3(s):
    x, y = s("x y")
    return x**3 / 6 + x**2 * y - x * y**2 / 2


def _scalar_bound(s):
    w1, w2, w3 = s("w1 w2 w3")
    return 2 / (w2**2 * w3**2 + w1**2 * w3**2 + w1**2 * w2**2)


def _ema_threshold(s):
    lam, beta = s("lambda beta")
    return 2 * (1 + beta) / ((1 - beta) * lam)


# (set file, exercise name, answer name, the answer built from a symbols factory, the check as the notebook calls it
# with the notebook's own symbols)
CASES = [
    (
        "hw1_taylor_descent.md",
        "1.1 Hessian",
        "H_h",
        _hessian,
        lambda answer: hw.check_hessian(
            answer,
            (lambda x, y: x**3 * y - 2 * x * y**2 + sp.exp(x) * y)(*sp.symbols("x y", real=True)),
            sp.symbols("x y", real=True),
        ),
    ),
    (
        "hw1_taylor_descent.md",
        "1.4 Third-order term",
        "T3",
        _taylor3,
        lambda answer: hw.check_taylor_term(
            answer,
            (lambda x, y: sp.exp(x) * sp.cos(y) + x**2 * y)(*sp.symbols("x y", real=True)),
            sp.symbols("x y", real=True),
            (0, 0),
            3,
        ),
    ),
    (
        "hw3_networks.md",
        "3.1 Scalar network",
        "bound_scalar",
        _scalar_bound,
        lambda answer: hw.check_scalar_theorem1(answer, sp.symbols("w1 w2 w3", real=True)),
    ),
    (
        "hw4_optimizers.md",
        "4.1 Momentum as a running average",
        "ema_threshold",
        _ema_threshold,
        lambda answer: hw.check_momentum_threshold(answer, "ema momentum", *sp.symbols("lambda beta", positive=True)),
    ),
]


def _factory(kind):
    return lambda names: sp.symbols(names, **ASSUMPTIONS[kind])


@pytest.mark.parametrize("kind", list(ASSUMPTIONS))
@pytest.mark.parametrize("case", CASES, ids=[c[1] for c in CASES])
def test_notebook_check_accepts_any_assumptions(case, kind):
    _set, _exercise, _name, build, notebook_check = case
    result = notebook_check(build(_factory(kind)))
    assert result.correct, (kind, result.message)


@pytest.fixture(scope="module")
def rubrics():
    return {name: {e.name: e for e in load_rubric(BOOK / name)} for name in {c[0] for c in CASES}}


@pytest.mark.parametrize("kind", list(ASSUMPTIONS))
@pytest.mark.parametrize("case", CASES, ids=[c[1] for c in CASES])
def test_grader_judges_any_assumptions_correct(case, kind, rubrics):
    set_name, exercise_name, answer_name, build, _check = case
    exercise = rubrics[set_name][exercise_name]
    # the student's kernel encodes the answer as plain data (JSON); the grader decodes it and judges
    encoded = json.loads(json.dumps({answer_name: codec.encode(build(_factory(kind)))}))
    decoded = codec.decode(encoded[answer_name])
    assert {str(s) for s in decoded.free_symbols} == {str(s) for s in build(_factory(kind)).free_symbols}
    (record,) = [r for r in judge([exercise], encoded, Limits()) if r["name"] == exercise_name]
    assert record["points"] == exercise.points, (kind, record["cases"])


def test_a_wrong_answer_still_fails_with_any_assumptions(rubrics):
    """Matching by name does not make every answer right: a factor 2 off is refused in both paths."""
    for kind in ASSUMPTIONS:
        lam, beta = _factory(kind)("lambda beta")
        wrong = 4 * (1 + beta) / ((1 - beta) * lam)
        result = hw.check_momentum_threshold(wrong, "ema momentum", *sp.symbols("lambda beta", positive=True))
        assert result.status == "incorrect" and "constant factor" in result.message
        exercise = rubrics["hw4_optimizers.md"]["4.1 Momentum as a running average"]
        (record,) = judge([exercise], {"ema_threshold": codec.encode(wrong)}, Limits())
        assert record["points"] == 0
