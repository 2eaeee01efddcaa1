"""lecturelib._checks: the one module every public function validates its arguments with (issue 14).

Each check returns the value in the form the caller computes with, or raises TypeError (wrong kind) / ValueError
(right kind, value not allowed) with a message that names the argument and says what is allowed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from matplotlib.figure import Figure

import lecturelib
import lecturelib.optimizers
import lecturelib.relu_nets
from lecturelib import _checks as checks


# ------------------------------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("value", [0.25, 1, np.float32(0.25), np.int64(3), sp.Rational(1, 4), sp.Integer(2)])
def test_probability_and_real_number_accept_every_kind_of_real(value):
    assert checks.real_number(value, "x") == float(value)


@pytest.mark.parametrize("value", [0.0, 0.5, 0.999, sp.Rational(9, 10)])
def test_probability_accepts_zero_up_to_one_excluded(value):
    assert checks.probability(value, "beta") == float(value)


@pytest.mark.parametrize(
    "value, error",
    [(1.0, ValueError), (-0.1, ValueError), (math.nan, ValueError), (True, TypeError), ("0.5", TypeError)],
)
def test_probability_refuses_the_rest_naming_the_argument_and_the_interval(value, error):
    with pytest.raises(error, match=r"beta must be .*>= 0 and < 1"):
        checks.probability(value, "beta")


def test_real_number_of_an_integer_beyond_the_float_range_is_infinite_or_refused():
    assert checks.real_number(10**400, "x", finite=False) == math.inf
    assert checks.real_number(-(10**400), "x", finite=False) == -math.inf
    with pytest.raises(ValueError, match="x must be a finite real number"):
        checks.real_number(10**400, "x")


def test_integer_at_least_returns_a_python_int():
    count = checks.integer_at_least(np.int64(5), "n", 0, 10)
    assert count == 5 and type(count) is int
    with pytest.raises(ValueError, match="n must be at most 10"):
        checks.integer_at_least(11, "n", 0, 10)


# ------------------------------------------------------------------------------------------------------- arrays
def test_real_array_refuses_integers_only_when_asked():
    assert checks.real_array([1, 2], "X").dtype == np.float64
    with pytest.raises(TypeError, match=r"X must be a real floating-point array, got dtype int"):
        checks.real_array(np.array([1, 2]), "X", integers=False)
    assert checks.real_array(np.array([1.0, 2.0], dtype=np.float32), "X", integers=False).dtype == np.float64


def test_real_matrix():
    assert checks.real_matrix(2.5, "R").shape == (1, 1)
    assert np.array_equal(checks.real_matrix([[1, 2], [3, 4]], "R"), [[1.0, 2.0], [3.0, 4.0]])
    for bad, error, words in [
        (np.ones(3), ValueError, "R must be a 2-D array"),
        (np.ones((0, 2)), ValueError, "R must not be empty"),
        (np.array([[1.0, np.inf]]), ValueError, "R must contain only finite numbers"),
        (np.array([[1j]]), TypeError, "R must be real"),
        ("R", TypeError, "R must be"),
    ]:
        with pytest.raises(error, match=words):
            checks.real_matrix(bad, "R")


def test_positive_array_quotes_the_first_bad_entry():
    assert np.array_equal(checks.positive_array([0.1, 2], "steps"), [0.1, 2.0])
    assert checks.positive_array([], "steps").size == 0
    for bad in ([0.1, 0.0, -1.0], [0.1, math.nan], [math.inf]):
        first = next(v for v in bad if not (math.isfinite(v) and v > 0))
        with pytest.raises(ValueError, match=rf"steps: every step must be a finite positive number, got {first}"):
            checks.positive_array(bad, "steps", entry="step")
    with pytest.raises(ValueError, match="steps must have 1 dimension"):
        checks.positive_array([[0.1]], "steps", ndim=1)
    with pytest.raises(TypeError, match="steps"):
        checks.positive_array([0.1 + 1j], "steps")


def test_integer_array():
    seeds = checks.integer_array([[0, 3], [5, 7]], "seeds", minimum=0)
    assert seeds.dtype == np.int64 and seeds.tolist() == [0, 3, 5, 7]
    with pytest.raises(ValueError, match="seeds must all be at least 0, got -1"):
        checks.integer_array([2, -1], "seeds", minimum=0)
    for bad in ([1.0, 2.0], [True], "12", [object()]):
        with pytest.raises(TypeError, match="seeds must be integers"):
            checks.integer_array(bad, "seeds", minimum=0)


# ------------------------------------------------------------------------------------------ pairs and sequences
def test_real_pair():
    assert checks.real_pair((1, 2.5), "figsize", above=0.0) == (1.0, 2.5)
    assert checks.real_pair(np.array([-1.0, 1.0]), "xlim") == (-1.0, 1.0)
    for bad, error, words in [
        ((1.0, 2.0, 3.0), TypeError, "figsize must be a pair"),
        ("ab", TypeError, "figsize must be a pair"),
        (3.0, TypeError, "figsize must be a pair"),
        ((0.0, 1.0), ValueError, r"figsize\[0\] must be a finite real number > 0"),
        ((1.0, 200.0), ValueError, r"figsize\[1\] must be .*<= 100"),
    ]:
        with pytest.raises(error, match=words):
            checks.real_pair(bad, "figsize", above=0.0, at_most=100.0)


def test_sequence():
    assert checks.sequence([1, 2], "widths", "a sequence of ints", min_length=2) == (1, 2)
    assert checks.sequence(np.array([3, 4]), "widths", "a sequence of ints") == (3, 4)
    with pytest.raises(TypeError, match="widths must be a sequence of ints, got str"):
        checks.sequence("12", "widths", "a sequence of ints")
    with pytest.raises(TypeError, match="widths must be a sequence of ints, got int"):
        checks.sequence(5, "widths", "a sequence of ints")
    with pytest.raises(ValueError, match="widths must have at least 2 entries"):
        checks.sequence([3], "widths", "a sequence of ints", min_length=2)


# ------------------------------------------------------------------------------------- callables and instances
def test_function_and_instance_of():
    assert checks.function(abs, "grad", "grad(x)") is abs
    with pytest.raises(TypeError, match=r"grad must be a callable grad\(x\), got 3 of type int"):
        checks.function(3, "grad", "grad(x)")
    fig = Figure()
    assert checks.instance_of(fig, "fig", Figure) is fig
    with pytest.raises(TypeError, match="fig must be a Figure, got str"):
        checks.instance_of("fig", "fig", Figure)
    with pytest.raises(TypeError, match="label must be a str or a NoneType, got int"):
        checks.instance_of(3, "label", (str, type(None)))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes, got Figure"):
        checks.instance_of(fig, "ax", int, "a matplotlib Axes")


def test_returned_number_and_array():
    assert checks.returned_number(np.float64(2.5), "loss") == 2.5
    assert math.isnan(checks.returned_number(math.nan, "loss"))  # a result: judged by the caller
    for bad in (True, np.ones(2), "1", 1j, None):
        with pytest.raises(TypeError, match="loss must return a real number"):
            checks.returned_number(bad, "loss")
    assert checks.returned_array([1, 2], "grad").dtype == np.float64
    with pytest.raises(TypeError, match=r"grad must return an array of real numbers, got dtype complex128 \(at x\)"):
        checks.returned_array(np.ones(2) * 1j, "grad", "at x")


def test_finite_result():
    value = np.array([1.0, 2.0])
    assert checks.finite_result(value, "never raised") is value
    assert checks.finite_result(3.0, "never raised") == 3.0
    with pytest.raises(ValueError, match="R and weights are too large"):
        checks.finite_result(np.array([1.0, math.inf]), "R and weights are too large")


# ------------------------------------------------------------------------ one wording across the public functions
NOT_CALLABLE = "not a function"


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: lecturelib.run(NOT_CALLABLE, 1.0, 0.1, 2), "grad"),
        (lambda: lecturelib.bifurcation(NOT_CALLABLE, [0.1], [1.0], 1, 1), "grad"),
        (lambda: lecturelib.cobweb_path(NOT_CALLABLE, 1.0, 2), "update"),
        (lambda: lecturelib.hessian_vector_product(NOT_CALLABLE, np.ones(2), np.ones(2)), "grad"),
        (lambda: lecturelib.top_hessian_eigenvalue(lambda t: t, np.ones(2), hvp=NOT_CALLABLE), "hvp"),
        (lambda: lecturelib.track_sharpness(NOT_CALLABLE, lambda t: t, np.ones(2), 0.1, 2), "loss"),
        (lambda: lecturelib.step_explorer(NOT_CALLABLE, [0.1, 0.2]), "draw"),
        (lambda: lecturelib.optimizers.MiniBatchSGD(NOT_CALLABLE, 4, 2, 0), "batch_grad"),
        (lambda: lecturelib.relu_nets.sweep([0.1], [0], 10, problem=NOT_CALLABLE), "problem"),
    ],
)
def test_every_callable_argument_is_checked_with_one_wording(call, name):
    with pytest.raises(TypeError, match=rf"^{name} must be a callable .*, got 'not a function' of type str$"):
        call()


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: lecturelib.run(lambda t: t, 1.0, [0.1, -0.2], 2), "step"),
        (lambda: lecturelib.bifurcation(lambda t: t, [0.1, 0.0], [1.0], 1, 1), "steps"),
        (lambda: lecturelib.relu_nets.sweep([0.1, -1.0], [0], 10), "steps"),
    ],
)
def test_every_array_of_step_sizes_is_checked_with_one_wording(call, name):
    with pytest.raises(
        ValueError, match=rf"^{name}: every step( size)? must be a finite positive number, got -?0?\.?\d"
    ):
        call()
