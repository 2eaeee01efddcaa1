r"""Perturbed starts: the rounding harness, and ensembles of nearby starts.

Chaotic and edge-of-stability dynamics turn a difference in the last bits of a start into a different outcome, so a
number read off one trajectory depends on the machine's rounding (its BLAS kernel, its thread count). Two tools make
that visible instead of hidden.

**The harness.** With the environment variable ``LECTURELIB_PERTURB`` set to a non-negative integer seed, every
function of the library that iterates a map from a starting state (:func:`lecturelib.gd.descend`,
:func:`lecturelib.gd.run`, :func:`lecturelib.gd.bifurcation`, :func:`lecturelib.linear_nets.train`,
:func:`lecturelib.linear_nets.train_scalar`, :func:`lecturelib.relu_nets.train`,
:func:`lecturelib.relu_nets.train_trajectory` and so :func:`lecturelib.relu_nets.sweep`,
:func:`lecturelib.curvature.track_sharpness` with any optimizer of :mod:`lecturelib.optimizers`,
:func:`lecturelib.curvature.top_hessian_eigenvalue`, and :func:`lecturelib.stepsizes.adgd`) multiplies its start
elementwise by

.. math:: 1 + 2^{-44} z, \qquad z \sim \mathcal N(0, I),

with :math:`z` drawn from ``numpy.random.default_rng([seed, k])``, where :math:`k` counts the perturbed calls of this
process (so repeated calls differ, and re-running a notebook in a fresh kernel repeats its draws). The relative
change, about :math:`6 \cdot 10^{-14}`, is far below every tolerance the course states and far above one unit in the
last place: a claim that survives it does not hang on the rounding of one machine. Unset (or empty), every result is
bit-for-bit what it is without the harness. The test command runs every notebook under several such seeds.

**Ensembles.** :func:`perturbed_starts` makes the same kind of perturbation explicitly, many times: the chapters state
a claim about a chaotic trajectory as a fraction of such an ensemble.

Introduced in :ref:`ch-edge_of_stability` (ensembles of perturbed starts); used by every chapter's tests.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from lecturelib._checks import MAX_ELEMENTS, FloatArray, integer_at_least, positive_number, real_array, within_budget

__all__ = ["SCALE", "VARIABLE", "exact", "perturb_start", "perturbed_starts", "seed"]

#: The environment variable that switches the harness on; its value is the seed (a non-negative integer).
VARIABLE = "LECTURELIB_PERTURB"
#: The relative size of the perturbation: the start is multiplied by ``1 + SCALE * z`` with ``z`` standard normal.
SCALE = 2.0**-44

_counter = itertools.count()
_lock = threading.Lock()
_exact_depth = 0


def seed() -> int | None:
    """The harness's seed from ``LECTURELIB_PERTURB``, or ``None`` when the variable is unset or empty.

    Raises
    ------
    ValueError
        If the variable holds anything but a non-negative integer (in decimal digits).
    """
    text = os.environ.get(VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"{VARIABLE} must be unset, empty or a non-negative integer seed, got {text!r}")
    return int(text)


def perturb_start(x: ArrayLike) -> FloatArray:
    """The start ``x`` as the harness hands it to an iteration.

    With ``LECTURELIB_PERTURB`` unset, ``x`` itself as a float array (no copy when it already is one, so results are
    bit-for-bit unchanged); otherwise a new array ``x * (1 + SCALE * z)``, with ``z`` standard normal drawn from
    ``numpy.random.default_rng([seed, k])`` for the ``k``-th perturbed call of this process.

    Parameters
    ----------
    x : array_like
        A finite real start of any shape (numbers, not bools or strings).

    Returns
    -------
    numpy.ndarray
        The (possibly perturbed) start, float64, of the shape of ``x``.
    """
    start = real_array(x, "x")
    s = seed()
    if s is None or _exact_depth > 0:
        return start
    with _lock:
        k = next(_counter)
    z = np.random.default_rng([s, k]).standard_normal(start.shape)
    return np.asarray(start * (1.0 + SCALE * z), dtype=float)  # an array also for a 0-d start


@contextlib.contextmanager
def exact() -> Iterator[None]:
    """A block in which the harness leaves every start as it is, whatever ``LECTURELIB_PERTURB`` says.

    For the few claims that are about particular floating-point numbers themselves (the double nearest a point that
    reaches 0 exactly, layers that stay bit-for-bit equal), not about a trajectory: perturbing their start would
    change the question, not test the answer. Calls inside the block take no draw, so later calls draw as if they had
    not been made. Say in the text why the block is there.

    Introduced in :ref:`ch-three_examples`.
    """
    global _exact_depth
    with _lock:
        _exact_depth += 1
    try:
        yield
    finally:
        with _lock:
            _exact_depth -= 1


def perturbed_starts(x0: ArrayLike, count: int, seed: int, *, scale: float = SCALE) -> FloatArray:
    r"""An ensemble of ``count`` starts near ``x0``: row :math:`i` is :math:`x_0 \odot (1 + \text{scale}\, z_i)`.

    Row 0 is ``x0`` itself (unperturbed), so the run a chapter shows is one member of its ensemble.

    Parameters
    ----------
    x0 : array_like
        A finite real start of any shape.
    count : int
        The ensemble's size, at least 1.
    seed : int
        Seed of ``numpy.random.default_rng`` for the :math:`z_i`, non-negative.
    scale : float, keyword-only, default ``SCALE`` (:math:`2^{-44}`)
        The relative size of the perturbation, positive and at most 1.

    Returns
    -------
    numpy.ndarray
        Shape ``(count, *x0.shape)``.

    Examples
    --------
    >>> from lecturelib.perturbation import perturbed_starts
    >>> starts = perturbed_starts([1.0, -2.0], 3, seed=0)
    >>> starts.shape, bool((starts[0] == [1.0, -2.0]).all())
    ((3, 2), True)
    """
    start = real_array(x0, "x0")
    n = integer_at_least(count, "count", 1, MAX_ELEMENTS)
    s = integer_at_least(seed, "seed", 0)
    size = positive_number(scale, "scale")
    if size > 1.0:
        raise ValueError(f"scale must be at most 1 (a relative perturbation), got {size!r}")
    within_budget(n * max(start.size, 1), "count and the size of x0 together")
    z = np.random.default_rng(s).standard_normal((n, *start.shape))
    z[0] = 0.0
    return start[None, ...] * (1.0 + size * z)
