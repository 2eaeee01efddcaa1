"""Checks of the homework set :ref:`hw-networks` (deep linear and ReLU networks)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from ..result import CheckResult, StudentError, UsageError, call_student, correct, guarded, incorrect
from .compare import as_float, compare_scalar, to_sympy, variables_of

__all__ = [
    "check_convergent_step",
    "check_run_diagnosis",
    "check_scalar_theorem1",
    "check_theorem1_function",
    "check_theorem4_lhs_function",
]


@guarded("check_scalar_theorem1")
def check_scalar_theorem1(answer: object, weights: Sequence[sp.Symbol]) -> CheckResult:
    r"""Check a formula for the largest stable step at an optimum of the scalar deep linear network.

    The loss is :math:`\tfrac12 (w_L \cdots w_1 - \lambda)^2`. At an optimum (:math:`\lambda = w_L \cdots w_1`) the
    reference is :math:`2 / \lambda_{\max}` of the Hessian, computed here by sympy from the loss itself: the Hessian
    there is the rank-one matrix :math:`J J^\top`, so :math:`\lambda_{\max}` is its trace.

    Introduced in :ref:`hw-networks`.
    """
    ws = variables_of(weights)
    target = sp.Symbol("lambda_target")
    product = sp.Mul(*ws)
    hessian_at_optimum = sp.hessian((product - target) ** 2 / 2, ws).subs(target, product)
    expected = sp.simplify(2 / hessian_at_optimum.trace())
    value = to_sympy(answer, "your bound")
    return compare_scalar("check_scalar_theorem1", value, expected, "your bound", "the reciprocal")


def _theorem1_index_shifts(weights: Sequence[np.ndarray]) -> list[float]:
    """Theorem 1's sum with the usual off-by-one slips (p_j for p_(j-1), or q_j for q_(j+1)), where defined."""
    from lecturelib import linear_nets

    U, _, Vt = np.linalg.svd(linear_nets.product(weights))
    u, v = U[:, 0], Vt[0]
    L = len(weights)
    p = [v]
    for W in weights:
        p.append(W @ p[-1])  # p[j] = W_j ... W_1 v
    q = [u]
    for W in reversed(weights):
        q.append(q[-1] @ W)
    q = q[::-1]  # q[j] = u^T W_L ... W_(j+1), i.e. q_(j+1) in the text
    out = []
    with np.errstate(all="ignore"):
        for pick in (
            (lambda j: p[j + 1], lambda j: q[j + 1]),  # p_j q_(j+1)
            (lambda j: p[j], lambda j: q[j]),
        ):  # p_(j-1) q_j
            total = sum(float(np.sum(pick[0](j) ** 2) * np.sum(pick[1](j) ** 2)) for j in range(L))
            if total > 0:
                out.append(2.0 / total)
    return out


@guarded("check_theorem1_function")
def check_theorem1_function(function: object, *, n_cases: int = 6, seed: int = 0) -> CheckResult:
    r"""Check a student's implementation ``function(weights)`` of Theorem 1's bound for matrix layers.

    On random deep linear networks (depth 1 to 4, square and rectangular layers) the result is compared with
    :func:`lecturelib.linear_nets.theorem1_bound`, and, at the optimum :math:`R = W_L \cdots W_1`, it must not be
    below :math:`2/\lambda_{\max}` of the exact Hessian (:func:`lecturelib.linear_nets.hessian`), as the theorem's
    lemma guarantees.

    Introduced in :ref:`hw-networks`.
    """
    from lecturelib import linear_nets

    name = "check_theorem1_function"
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        depth = 1 + case % 4
        sizes = [int(v) for v in rng.integers(1, 4, size=depth + 1)]
        weights = [rng.standard_normal((sizes[j + 1], sizes[j])) for j in range(depth)]
        value = call_student(function, [w.copy() for w in weights])
        try:
            value = float(value)
        except (TypeError, ValueError) as err:
            raise StudentError(f"your function must return a number, got {type(value).__name__}.") from err
        reference = linear_nets.theorem1_bound(weights)
        if math.isclose(value, reference, rel_tol=1e-8):
            top = float(np.linalg.eigvalsh(linear_nets.hessian(linear_nets.product(weights), weights)).max())
            if value < 2 / top * (1 - 1e-8):
                return incorrect(name, "your bound is below 2/λ_max of the Hessian at an optimum.")
            continue
        for factor, message in ((2.0, "is off by a factor of 2"), (0.5, "is off by a factor of 2")):
            if math.isclose(value, factor * reference, rel_tol=1e-8):
                return incorrect(name, f"case {case + 1} (depth {depth}): your bound {message}.")
        if value != 0 and math.isclose(1 / value, reference, rel_tol=1e-8):
            return incorrect(name, f"case {case + 1} (depth {depth}): your bound is upside down.")
        top = float(np.linalg.eigvalsh(linear_nets.hessian(linear_nets.product(weights), weights)).max())
        if top > 0 and math.isclose(value, 2 / top, rel_tol=1e-6):
            return incorrect(
                name,
                f"case {case + 1} (depth {depth}): your value is 2/λ_max of the exact Hessian, not "
                "Theorem 1's bound, which comes from the lemma's lower bound on λ_max (built from p and "
                "q only).",
            )
        for shifted in _theorem1_index_shifts(weights):
            if math.isclose(value, shifted, rel_tol=1e-8):
                return incorrect(
                    name,
                    f"case {case + 1} (depth {depth}): an index is off by one: term j of the sum "
                    "pairs the product of the layers before layer j with the product of the layers "
                    "after it.",
                )
        return incorrect(
            name,
            f"case {case + 1} of {n_cases} (a random network of depth {depth}, layer sizes "
            f"{sizes}): your bound is not right. Are p₀ = v and q_(L+1) = uᵀ, with u, v the top "
            "singular vectors of the product?",
        )
    return correct(name, f"correct on {n_cases} random networks.")


@guarded("check_convergent_step")
def check_convergent_step(
    answer: object,
    R: ArrayLike,
    depth: int,
    init: str | Sequence[ArrayLike] = "identity",
    *,
    margin: float = 0.02,
    n_steps: int = 4000,
    tol: float = 1e-10,
) -> CheckResult:
    r"""Check a claimed largest step at which gradient descent on a deep linear network converges, by training.

    Training with :func:`lecturelib.linear_nets.train` from ``init`` must reach loss below ``tol`` at
    ``(1 - margin)`` times the answer and must not at ``(1 + margin)`` times it.

    Introduced in :ref:`hw-networks`.
    """
    from lecturelib import linear_nets

    name = "check_convergent_step"
    delta = as_float(to_sympy(answer, "your step"), "your step")
    if not (delta > 0 and math.isfinite(delta)):
        return incorrect(name, "a step size is a positive, finite number.")

    def converges(step: float) -> bool:
        result = linear_nets.train(R, depth, step, n_steps, init=init)
        return (not result.diverged) and result.losses[-1] < tol

    if not converges(delta * (1 - margin)):
        return incorrect(name, f"too large: training does not converge at a step {margin:.0%} below yours.")
    if converges(delta * (1 + margin)):
        return incorrect(name, f"too small: training still converges at a step {margin:.0%} above yours.")
    return correct(name, f"training converges {margin:.0%} below your step and not {margin:.0%} above it.")


@guarded("check_theorem4_lhs_function")
def check_theorem4_lhs_function(function: object, *, n_cases: int = 4, seed: int = 0) -> CheckResult:
    r"""Check a student's ``function(net, X)`` computing :math:`\max_i \|x_i\|_2 \|\hat f(x_i)\|_2` (Theorem 4).

    Compared on random two-layer ReLU networks with several inputs and outputs against a direct computation here.

    Introduced in :ref:`hw-networks`.
    """
    from lecturelib import relu_nets

    name = "check_theorem4_lhs_function"
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        m, n, r = (int(v) for v in rng.integers(1, 4, size=3))
        if case == 0:
            m, n = 3, 2  # the first network always has several outputs and inputs (norms, not absolute values)
        net = relu_nets.random_net(m, n, r, int(rng.integers(1 << 30)))
        X = rng.standard_normal((7, n))
        raw = call_student(function, net, X.copy())
        if np.ndim(raw) != 0:
            raise StudentError(
                f"your function must return one number, got an array of shape {np.shape(raw)}: "
                "take the maximum over the samples."
            )
        try:
            value = float(raw)
        except (TypeError, ValueError) as err:
            raise StudentError(f"your function must return a number, got {type(raw).__name__}.") from err
        x_norm = np.linalg.norm(X, axis=1)

        def out_norm(pre: np.ndarray, relu: bool = True, W: np.ndarray = net.W) -> np.ndarray:
            hidden = np.maximum(pre, 0.0) if relu else pre
            return np.linalg.norm(hidden @ W.T, axis=1)

        f_norm = out_norm(X @ net.V.T - net.b)
        reference = float(np.max(x_norm * f_norm))
        if math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-12):
            continue
        if math.isclose(value, reference**2, rel_tol=1e-9) or math.isclose(value**2, reference, rel_tol=1e-9):
            return incorrect(name, "off by a square: use norms, not squared norms (or the reverse).")
        mistakes = (
            (float(np.max(x_norm * out_norm(X @ net.V.T + net.b))), "the bias enters with the wrong sign."),
            (float(np.max(x_norm * out_norm(X @ net.V.T))), "the bias is missing."),
            (float(np.max(x_norm * out_norm(X @ net.V.T - net.b, relu=False))), "the ReLU is missing."),
            (float(np.max(f_norm)), "the factor ‖x_i‖ is missing."),
            (float(np.max(x_norm)), "the factor ‖f̂(x_i)‖ is missing."),
            (
                float(np.max(x_norm) * np.max(f_norm)),
                "the two maxima are taken separately; the maximum is over samples of the product for the same sample.",
            ),
            (float(np.sum(x_norm * f_norm)), "you summed over the samples instead of taking the maximum."),
            (float(np.mean(x_norm * f_norm)), "you averaged over the samples instead of taking the maximum."),
        )
        for wrong, message in mistakes:
            if math.isclose(value, wrong, rel_tol=1e-9, abs_tol=1e-12):
                return incorrect(name, f"case {case + 1} of {n_cases} ({m} outputs, {n} inputs): {message}")
        if m > 1:
            for k in range(m):
                first = np.abs((np.maximum(X @ net.V.T - net.b, 0.0) @ net.W.T)[:, k])
                if math.isclose(value, float(np.max(x_norm * first)), rel_tol=1e-9, abs_tol=1e-12):
                    return incorrect(
                        name,
                        f"case {case + 1} of {n_cases} ({m} outputs): you used one output; "
                        "‖f̂(x_i)‖ is the norm of the whole output vector.",
                    )
        return incorrect(
            name,
            f"case {case + 1} of {n_cases} ({m} outputs, {n} inputs, {r} hidden units): not "
            "right. Is the maximum over samples of the product of the two norms, with the bias "
            "subtracted inside the ReLU?",
        )
    return correct(name, f"correct on {n_cases} random networks.")


_RUN_LABELS = ("fixed point", "period 2", "period 4", "other")
#: The share of an ensemble's runs that must agree for :func:`check_run_diagnosis` to take their label as the verdict.
ENSEMBLE_AGREEMENT = 0.8


@guarded("check_run_diagnosis")
def check_run_diagnosis(answer: object, tail: ArrayLike, *, agreement: float = ENSEMBLE_AGREEMENT) -> CheckResult:
    r"""Check a diagnosis of a run from its last iterates ``tail`` (rows :math:`\theta_k`, oldest first).

    ``answer`` is one of ``"fixed point"``, ``"period 2"``, ``"period 4"``, ``"other"`` (``"diverged"`` for a run
    with non-finite iterates). Decided here from the moves: a fixed point when the largest move
    :math:`\max_k\|\theta_{k+1}-\theta_k\|` is below :math:`10^{-8}` of the size of :math:`\theta`; period :math:`p`
    when every :math:`\|\theta_{k+p} - \theta_k\|` is below :math:`10^{-3}` of the largest move.

    ``tail`` may also be an *ensemble*, shape ``(n_runs, n_iterates, n_params)``: the tails of at least 20 runs from
    perturbed starts (:func:`lecturelib.perturbation.perturbed_starts`). The answer is then judged against the
    ensemble's verdict, the label of at least a share ``agreement`` of its runs, so that a grader that reruns the
    training judges what the dynamics decide, not what the last bits of one machine decide. An ensemble with no
    such verdict is the instructor's mistake (a question whose answer rounding decides): a UsageError.

    Introduced in :ref:`hw-networks`.
    """
    name = "check_run_diagnosis"
    if not isinstance(answer, str):
        raise StudentError(f"answer with one of {', '.join(map(repr, _RUN_LABELS))}.")
    label = answer.strip().lower().replace("-", " ")
    tail = np.asarray(tail, dtype=float)
    if tail.ndim == 3:
        if tail.shape[0] < 20:
            raise UsageError(f"an ensemble of tails needs at least 20 runs, got {tail.shape[0]}")
        if not 0.5 < agreement <= 1:
            raise UsageError(f"agreement must be in (0.5, 1], got {agreement!r}")
        labels = [_diagnose(run) for run in tail]
        truth = max(set(labels), key=labels.count)
        if labels.count(truth) < agreement * len(labels):
            shares = ", ".join(f"{x}: {labels.count(x)}" for x in sorted(set(labels)))
            raise UsageError(f"the ensemble has no verdict ({shares} of {len(labels)} runs): rounding decides it")
    else:
        truth = _diagnose(tail)
    if label not in (*_RUN_LABELS, "diverged"):
        raise StudentError(f"answer with one of {', '.join(map(repr, _RUN_LABELS))}.")
    if label == truth:
        return correct(name)
    hints = {
        "fixed point": "the parameters still move by much more than roundoff at every step.",
        "period 2": "θ_(k+2) does not return to θ_k.",
        "period 4": "θ_(k+4) does not return to θ_k, or the orbit is shorter.",
        "other": "look again at ‖θ_(k+1) − θ_k‖, ‖θ_(k+2) − θ_k‖ and ‖θ_(k+4) − θ_k‖.",
        "diverged": "every iterate in the tail is finite.",
    }
    return incorrect(name, f"not {label}: {hints[label]}")


def _diagnose(tail: np.ndarray) -> str:
    """The label of one run's tail (2-d, rows oldest first), as :func:`check_run_diagnosis` decides it."""
    if tail.ndim != 2 or tail.shape[0] < 6:
        raise UsageError(f"tail must be a 2-d array of at least 6 iterates (rows), got shape {tail.shape}")
    if not np.all(np.isfinite(tail)):
        return "diverged"
    moves = np.linalg.norm(np.diff(tail, axis=0), axis=1)
    largest = moves.max()
    if largest <= 1e-8 * (1 + np.linalg.norm(tail, axis=1).max()):
        return "fixed point"
    if np.linalg.norm(tail[2:] - tail[:-2], axis=1).max() <= 1e-3 * largest:
        return "period 2"
    if np.linalg.norm(tail[4:] - tail[:-4], axis=1).max() <= 1e-3 * largest:
        return "period 4"
    return "other"
