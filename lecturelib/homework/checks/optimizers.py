"""Checks of the homework set :ref:`hw-optimizers`: thresholds, edge levels, mean-square radii, warmup.

Introduced in :ref:`hw-optimizers`. Each check tests a property of the answer (a
simulated linear map, an independently computed radius, a training run it repeats itself) and never shows the
expected answer. Results are :class:`lecturelib.homework.CheckResult` objects.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from lecturelib.homework.checks.compare import align_symbols
from lecturelib.homework.result import CheckResult, is_unanswered
from lecturelib.homework.result import correct as _correct
from lecturelib.homework.result import incorrect as _incorrect
from lecturelib.homework.result import unanswered as _unanswered

__all__ = [
    "check_edge_level",
    "check_edge_run",
    "check_momentum_threshold",
    "check_radius_function",
    "check_stable_batch",
    "check_warmup_diagnosis",
]

METHODS = ("heavy ball", "nesterov", "ema momentum")


def _linear_map(method: str, c: float, b: float) -> np.ndarray:
    """The 2×2 linearized map along an eigen-direction, with c = δλ, built from the update rule."""
    if method == "heavy ball":  # x+ = x − δλ x + β (x − x−), state (x, x−)
        return np.array([[1 + b - c, -b], [1.0, 0.0]])
    if method == "nesterov":  # y = x + β(x − x−), x+ = y − δλ y
        return np.array([[(1 - c) * (1 + b), -(1 - c) * b], [1.0, 0.0]])
    # m+ = β m + (1 − β) λ x, x+ = x − δ m+, state (x, m), with c = δλ and m scaled by δ
    return np.array([[1 - (1 - b) * c, -b], [(1 - b) * c, b]])


def _radius(method: str, c: float, b: float) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(_linear_map(method, c, b)))))


def _largest_stable(method: str, lam: float, b: float) -> float:
    """The supremum of stable δ, found by bisection on the spectral radius (no formula)."""
    lo, hi = 0.0, 1.0
    while _radius(method, hi, b) < 1:
        hi *= 2
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if mid > 0 and _radius(method, mid, b) < 1:
            lo = mid
        else:
            hi = mid
    return lo / lam


def check_momentum_threshold(answer: object, method: str, lam: sp.Symbol, beta: sp.Symbol) -> CheckResult:
    """Check a symbolic threshold step (in ``lam`` and ``beta``; the supremum of the stable steps) of a momentum method
    at a minimum of curvature ``lam > 0``.

    The answer's symbols are matched to ``lam`` and ``beta`` by name (whatever their assumptions). It is evaluated at
    8 curvatures and momenta drawn afresh at every call and compared with the supremum of the steps at which the
    method's linearized map (built from its update rule) has spectral radius below 1, found by bisection. Typical
    slips are named: gradient descent's :math:`2/\\lambda`, another method's threshold, a missing factor.

    Introduced in :ref:`hw-optimizers`.
    """
    name = "check_momentum_threshold"
    if is_unanswered(answer):
        return _unanswered(name)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    try:
        expr = sp.sympify(answer)
    except (sp.SympifyError, TypeError):
        return _incorrect(name, "your threshold must be a sympy expression in the curvature and the momentum.")
    if not isinstance(expr, sp.Expr):
        return _incorrect(name, "your threshold must be a sympy expression in the curvature and the momentum.")
    # Symbols are matched by name: a student's sp.symbols("lambda beta") (no assumptions) are the notebook's positive
    # ones for the reader, and the grader rebuilds them from their srepr text, assumptions and all.
    expr = align_symbols(expr, sp.Tuple(lam, beta))
    extra = expr.free_symbols - {lam, beta}
    if extra:
        return _incorrect(
            name, f"your threshold contains symbols other than {lam} and {beta}: {', '.join(sorted(map(str, extra)))}."
        )
    f = sp.lambdify((lam, beta), expr, "numpy")
    rng = np.random.default_rng()  # fresh points at every call, as the other checks draw them
    points = [(float(rng.uniform(0.2, 5.0)), float(rng.uniform(0.05, 0.95))) for _ in range(8)]
    ratio_list: list[float] = []
    for lv, bv in points:
        try:
            value = complex(f(lv, bv))
        except (ZeroDivisionError, TypeError, ValueError, OverflowError):
            return _incorrect(name, "your threshold cannot be evaluated at some curvature and momentum in (0, 1).")
        if not (math.isfinite(value.real) and abs(value.imag) < 1e-12 and value.real > 0):
            return _incorrect(
                name, "a step-size threshold is a positive, finite number for every λ > 0 and β in (0, 1)."
            )
        ratio_list.append(value.real / _largest_stable(method, lv, bv))
    ratios = np.array(ratio_list)
    if np.allclose(ratios, 1.0, rtol=1e-7):
        return _correct(
            name,
            "below your threshold the linearized map contracts, above it an eigenvalue leaves the "
            "unit circle, at every curvature and momentum tried.",
        )
    others = {m: np.array([_largest_stable(m, lv, bv) for lv, bv in points]) for m in METHODS if m != method}
    values = ratios * np.array([_largest_stable(method, lv, bv) for lv, bv in points])
    if np.allclose(values, [2 / lv for lv, _ in points], rtol=1e-7):
        return _incorrect(name, "that is the threshold of plain gradient descent: the momentum term changes it.")
    for other, reference in others.items():
        if np.allclose(values, reference, rtol=1e-7):
            return _incorrect(name, f"that is the threshold of {other}, not of {method}: the two update rules differ.")
    if np.allclose(ratios, ratios[0], rtol=1e-7):
        return _incorrect(name, "off by a constant factor: the dependence on λ and β is right.")
    if np.all(ratios > 1):
        return _incorrect(
            name,
            "too large at every point tried: just below your threshold the map already has an "
            "eigenvalue outside the unit circle.",
        )
    if np.all(ratios < 1):
        return _incorrect(name, "too small at every point tried: the map still contracts just above your threshold.")
    return _incorrect(name, "not right: too large at some (λ, β) and too small at others.")


def check_edge_level(answer: object, method: str, step: float, beta: float) -> CheckResult:
    """Check a predicted edge-of-stability level (a number): the sharpness at which ``step`` is the threshold step
    (the supremum of the stable steps) of ``method`` (``"gd"``, ``"heavy ball"``, ``"nesterov"``) with momentum
    ``beta``, found by bisection on the linearized map.

    Introduced in :ref:`hw-optimizers`.
    """
    name = "check_edge_level"
    if is_unanswered(answer):
        return _unanswered(name)
    try:
        value = float(answer)  # type: ignore[arg-type]  # any student object: float() refusing it is reported below
    except (TypeError, ValueError):
        return _incorrect(name, "your level must be a number (a sharpness).")
    if not (math.isfinite(value) and value > 0):
        return _incorrect(name, "a sharpness level is a positive, finite number.")
    level = _largest_stable(method, 1.0, beta) / step if method != "gd" else 2.0 / step
    if math.isclose(value, level, rel_tol=1e-6):
        return _correct(name, "that is the sharpness at which this step is the threshold of stability.")
    if method != "gd" and math.isclose(value, 2.0 / step, rel_tol=1e-6):
        return _incorrect(name, "that is gradient descent's edge 2/δ; the momentum changes the level.")
    for other in ("heavy ball", "nesterov"):
        if other != method and math.isclose(value, _largest_stable(other, 1.0, beta) / step, rel_tol=1e-6):
            return _incorrect(name, f"that is the level of {other}, not of {method}.")
    if math.isclose(value * level, 1.0, rel_tol=1e-6) or math.isclose(value, 1.0 / level, rel_tol=1e-6):
        return _incorrect(name, "upside down: you computed a step, the question asks for a sharpness.")
    return _incorrect(name, "too high." if value > level else "too low.")


def check_edge_run(run: object, level: float, *, band: tuple[float, float] = (0.92, 1.3)) -> CheckResult:
    """Check that a :class:`lecturelib.curvature.SharpnessRun` reached ``level`` and then hovered at it: the median of
    sharpness/level over the measurements after the first one at or above ``level`` lies in ``band``.

    Feedback only (no grading cell calls it: the run is chaotic). The band is set by the runs of homework 4.2
    (Nesterov, :math:`\\beta = 0.5`, :math:`\\delta = 0.2`, level 7.5): over 20 perturbed starts (seed 0) the median
    ratio at the right level was between 1.03 and 1.13 (at least 12% inside the band), and at gradient descent's
    level 10 between 0.77 and 0.86 (at least 7% below it), so the band separates the two levels for every run of
    that ensemble; ``tests/test_hw4_checks.py`` repeats the measurement on an ensemble.

    Introduced in :ref:`hw-optimizers`.
    """
    name = "check_edge_run"
    if is_unanswered(run):
        return _unanswered(name)
    sharpness = getattr(run, "sharpness", None)
    diverged = getattr(run, "diverged", None)
    if sharpness is None or diverged is None:
        return _incorrect(name, "pass the SharpnessRun returned by track_sharpness.")
    sharpness = np.asarray(sharpness, dtype=float)
    if diverged:
        return _incorrect(name, "the run diverged: check the step and the optimizer you passed to track_sharpness.")
    reached = np.nonzero(sharpness >= level)[0]
    if reached.size == 0:
        return _incorrect(
            name,
            f"the sharpness never reached the level (largest {np.nanmax(sharpness):.3g}): run "
            "longer, or check the level.",
        )
    after = sharpness[reached[0] :] / level
    if after.size < 5:
        return _incorrect(name, "the level is reached only at the very end: run longer to see whether it hovers.")
    median = float(np.median(after))
    if not (band[0] <= median <= band[1]):
        return _incorrect(
            name,
            f"after reaching the level the sharpness does not hover at it (median ratio "
            f"{median:.2f}): is the level the one of the optimizer you ran?",
        )
    return _correct(name, f"the sharpness reached the level and hovered at it (median ratio {median:.3f}).")


@np.errstate(all="ignore")
def check_radius_function(function: object, *, n_cases: int = 12, seed: int = 0) -> CheckResult:
    """Check a student's ``function(curvatures, step, batch)`` for the mean-square radius of one-dimensional
    mini-batch SGD (batches drawn with replacement) against :func:`lecturelib.optimizers.sgd_mean_square_radius` on
    random cases, naming the usual slips (no batch factor, the sample variance, the full-batch radius only, the
    without-replacement radius). The random cases include batches larger than 1 (where the two sampling models differ).

    Introduced in :ref:`hw-optimizers`.
    """
    from lecturelib.optimizers import sgd_mean_square_radius

    name = "check_radius_function"
    if is_unanswered(function):
        return _unanswered(name)
    if not callable(function):
        return _incorrect(name, f"expected a function, got {type(function).__name__}.")
    rng = np.random.default_rng(seed)
    slips = {
        "it ignores the batch size (the variance is divided by B)": lambda h, d, B: (
            (1 - d * h.mean()) ** 2 + d**2 * h.var()
        ),
        "it uses the sample variance (ddof=1); with replacement the population variance (ddof=0) is the right one": (
            lambda h, d, B: (1 - d * h.mean()) ** 2 + d**2 * h.var(ddof=1) / B
        ),
        "it is gradient descent's radius: the spread of the curvatures is missing": lambda h, d, B: (
            (1 - d * h.mean()) ** 2
        ),
        "the variance term needs δ², not δ": lambda h, d, B: (1 - d * h.mean()) ** 2 + d * h.var() / B,
        "this is the without-replacement radius (variance factor (n - B)/(B(n - 1))); the exercise draws the batch "
        "with replacement, where the factor is 1/B": lambda h, d, B: (
            (1 - d * h.mean()) ** 2 + d**2 * h.var() * (h.size - B) / (B * (h.size - 1))
        ),
    }
    wrong = {message: 0 for message in slips}
    for _case in range(n_cases):
        h = rng.uniform(0.0, 4.0, size=int(rng.integers(2, 12)))
        step = float(rng.uniform(0.05, 1.0))
        batch = int(rng.integers(2, 9)) if _case == 0 else int(rng.integers(1, 9))
        try:
            value = function(h.copy(), step, batch)
        except Exception as err:  # the student's code failed: report it
            return _incorrect(name, f"your function raised {type(err).__name__}: {err}")
        if is_unanswered(value):
            return _unanswered(name)
        try:
            value = float(value)
        except (TypeError, ValueError):
            return _incorrect(name, "your function must return one number.")
        reference = sgd_mean_square_radius(h[:, None, None], step, batch)
        if math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-12):
            continue
        for message, slip in slips.items():
            if math.isclose(value, float(slip(h, step, batch)), rel_tol=1e-9, abs_tol=1e-12):
                wrong[message] += 1
        named = [message for message, count in wrong.items() if count]
        return _incorrect(
            name,
            f"not right for {len(h)} curvatures, δ = {step:.3g}, B = {batch}" + (f": {named[0]}." if named else "."),
        )
    return _correct(name, f"agrees with the exact second-moment map on {n_cases} random cases.")


def check_stable_batch(answer: object, curvatures: ArrayLike, step: float) -> CheckResult:
    """Check the smallest batch size at which mini-batch SGD with ``step`` (batches drawn with replacement) is stable
    in mean square for the given one-dimensional ``curvatures``: its radius must be at most 1 and the radius one batch
    size smaller above 1. An integral float (``3.0``) counts as the integer. An answer that is right for batches drawn
    without replacement only is named as that slip.

    Introduced in :ref:`hw-optimizers`.
    """
    from lecturelib.optimizers import sgd_mean_square_radius

    name = "check_stable_batch"
    if is_unanswered(answer):
        return _unanswered(name)
    if isinstance(answer, (float, np.floating)) and math.isfinite(answer) and float(answer).is_integer():
        answer = int(answer)  # 3.0 is the integer answer 3
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, np.integer)) or answer < 1:
        return _incorrect(name, "a batch size is a positive integer.")
    h = np.asarray(curvatures, dtype=float)[:, None, None]
    if sgd_mean_square_radius(h, step, int(answer)) > 1:
        n = h.shape[0]
        if answer <= n and sgd_mean_square_radius(h, step, int(answer), replace=False) <= 1:
            return _incorrect(
                name,
                "too small: that batch is stable in mean square only for batches drawn without replacement; the "
                "exercise draws them with replacement.",
            )
        return _incorrect(name, "too small: at this batch size the mean-square radius is still above 1.")
    if answer > 1 and sgd_mean_square_radius(h, step, int(answer) - 1) <= 1:
        return _incorrect(name, "stable, but not the smallest: a smaller batch is stable too.")
    return _correct(name, "stable in mean square, and one example fewer per batch is not.")


#: The size of the ensemble of perturbed starts behind a warmup verdict (:func:`check_warmup_diagnosis`).
WARMUP_ENSEMBLE = 20
#: A warmup length's verdict is "diverges" when at least this many of the ensemble's runs diverge, "trains" when at
#: most ``WARMUP_ENSEMBLE - WARMUP_MAJORITY`` do; in between the ensemble is split and gives no verdict.
WARMUP_MAJORITY = 14


def warmup_ensemble(step: float, seed: int, warmup: int, n_steps: int) -> int:
    """How many of ``WARMUP_ENSEMBLE`` perturbed starts near the initialization ``seed`` of the tanh network of
    :ref:`ch-edge_of_stability` diverge within ``n_steps`` of gradient descent to ``step`` with a linear warmup of
    ``warmup`` steps (the starts of :func:`lecturelib.perturbation.perturbed_starts`, seed ``seed``)."""
    from lecturelib.curvature import track_sharpness
    from lecturelib.mlp import TanhMLP
    from lecturelib.optimizers import GD
    from lecturelib.perturbation import perturbed_starts

    net = TanhMLP((1, 16, 16, 1))
    X = np.linspace(-1, 1, 40)[:, None]
    Y = 0.8 * np.sin(3 * np.pi * X) + 0.3 * X
    diverged = 0
    for start in perturbed_starts(net.init(seed=seed), WARMUP_ENSEMBLE, seed):
        run = track_sharpness(
            lambda t: net.loss(t, X, Y),
            lambda t: net.grad(t, X, Y),
            start,
            step,
            n_steps,
            every=n_steps + 1,  # no sharpness needed: only whether the run diverges
            optimizer=GD(warmup=warmup),
        )
        diverged += bool(run.diverged)
    return diverged


def check_warmup_diagnosis(
    answer: object, step: float, seed: int, lengths: tuple[int, ...], *, n_steps: int = 1000
) -> CheckResult:
    """Check a prediction ``{W: "diverges" or "trains"}`` for gradient descent on the tanh network of
    :ref:`ch-edge_of_stability` and :ref:`ch-beyond_gd` (initialization ``seed``), with peak ``step`` and a linear
    warmup of ``W`` steps, for each ``W`` in ``lengths``.

    One training run is chaotic: its outcome can change with the last bits of the start, so the check never grades
    one run. For each ``W`` it trains an ensemble of ``WARMUP_ENSEMBLE`` perturbed starts
    (``warmup_ensemble``, ``n_steps`` steps each) and takes the ensemble's verdict: "diverges" when at least
    ``WARMUP_MAJORITY`` of them diverge, "trains" when at most ``WARMUP_ENSEMBLE - WARMUP_MAJORITY`` do. The
    homework's settings are chosen so that the verdicts are unanimous (20 of 20 either way, measured also under the
    rounding harness); a verdict flips only if at least 7 of 20 runs change outcome, which for an ensemble whose runs
    agree with probability 0.9 each has probability below 0.3% (binomial). A split ensemble (neither verdict) gives
    no verdict for that length, and the prediction for it is not graded; the message says so.

    Introduced in :ref:`hw-optimizers`.
    """
    name = "check_warmup_diagnosis"
    if is_unanswered(answer):
        return _unanswered(name)
    if not isinstance(answer, dict) or set(answer) != set(lengths):
        return _incorrect(name, f"give a dict with one entry for each warmup length {list(lengths)}.")
    allowed = {"diverges", "trains"}
    if not all(isinstance(value, str) and value in allowed for value in answer.values()):
        return _incorrect(name, 'each entry must be "diverges" or "trains".')
    wrong, split = [], []
    for W in lengths:
        diverged = warmup_ensemble(step, seed, W, n_steps)
        if diverged >= WARMUP_MAJORITY:
            verdict = "diverges"
        elif diverged <= WARMUP_ENSEMBLE - WARMUP_MAJORITY:
            verdict = "trains"
        else:
            split.append(W)
            continue
        if answer[W] != verdict:
            wrong.append(W)
    note = f" The ensemble is split for W = {', '.join(map(str, split))}: no verdict, not graded." if split else ""
    if wrong:
        return _incorrect(
            name,
            f"the ensemble of {WARMUP_ENSEMBLE} perturbed starts disagrees with your prediction for {len(wrong)} of "
            f"the {len(lengths)} warmup lengths, including W = {wrong[0]}.{note}",
        )
    return _correct(
        name,
        f"an ensemble of {WARMUP_ENSEMBLE} perturbed starts agrees with your prediction for every warmup length."
        + note,
    )
