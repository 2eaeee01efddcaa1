"""Pictures of one-dimensional maps: the cobweb (staircase) diagram.

Introduced in chapter 3 and used again in chapter 4's explorables.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.axes import Axes

from lecturelib._checks import integer_at_least, positive_number, real_number

#: The largest number of steps :func:`cobweb_path` draws (two vertices each; a picture needs far fewer).
MAX_COBWEB_STEPS = 1_000_000

__all__ = ["cobweb", "cobweb_path"]


def cobweb_path(update: Callable[[float], float], x0: float, n: int, *, escape: float = 1e6) -> np.ndarray:
    r"""The vertices of the cobweb of :math:`x_{k+1} = u(x_k)` from :math:`x_0`, for :math:`n` steps.

    The path starts on the diagonal at :math:`(x_0, x_0)` and alternates a vertical segment to the graph,
    :math:`(x_k, x_k) \to (x_k, x_{k+1})`, and a horizontal one back to the diagonal,
    :math:`(x_k, x_{k+1}) \to (x_{k+1}, x_{k+1})`. It stops early at the first iterate with
    :math:`|x| > \text{escape}` or that is not finite (that is how divergence shows: a shorter path, no warning).
    ``n`` is at most :data:`MAX_COBWEB_STEPS`; ``update`` must return a real number.

    Returns
    -------
    numpy.ndarray
        Shape ``(2m + 1, 2)``, ``m <= n`` the number of steps drawn.

    Introduced in chapter 3.
    """
    if not callable(update):
        raise TypeError(f"update must be a callable x -> x+, got {type(update).__name__}")
    x = real_number(x0, "x0")
    n = integer_at_least(n, "n", 0, MAX_COBWEB_STEPS)
    escape = positive_number(escape, "escape")
    points = [(x, x)]
    with np.errstate(all="ignore"):
        for _ in range(n):
            value = update(x)
            if isinstance(value, (bool, np.bool_)) or np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "iuf":
                raise TypeError(f"update must return a real number, got {value!r} of type {type(value).__name__}")
            y = float(value)
            if not (abs(y) <= escape):
                break
            points.append((x, y))
            points.append((y, y))
            x = y
    return np.array(points)


def cobweb(
    ax: Axes,
    update: Callable[[float], float],
    x0: float,
    n: int,
    *,
    xlim: tuple[float, float] | None = None,
    color: str = "C3",
    label: str | None = "iterates",
) -> np.ndarray:
    r"""Draw the cobweb diagram of :math:`x_{k+1} = u(x_k)` on ``ax``: the graph of :math:`u`, the diagonal and the path.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    update : callable
        The map :math:`u`, e.g. ``lambda x: x - step * fprime(x)``; it must accept numpy arrays (to draw its graph).
    x0 : float
        The start.
    n : int
        Number of steps drawn.
    xlim : (float, float), optional
        The interval on which the graph is drawn and the axes limits (both axes); by default the range of the path,
        padded.
    color, label
        Colour and legend label of the path.

    Returns
    -------
    numpy.ndarray
        The path's vertices, as from :func:`cobweb_path`. Fixed points of :math:`u` are where its graph crosses the
        diagonal.

    Introduced in chapter 3.
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    path = cobweb_path(update, x0, n)
    if xlim is None:
        lo, hi = float(path.min()), float(path.max())
        pad = 0.1 * (hi - lo) if hi > lo else max(1.0, 0.1 * abs(hi))
        xlim = (lo - pad, hi + pad)
        if not np.all(np.isfinite(xlim)):
            raise ValueError(f"x0: the path from x0 = {x0!r} reaches the end of the float range; pass xlim")
    if isinstance(xlim, (str, bytes)) or not hasattr(xlim, "__len__") or len(xlim) != 2:
        raise TypeError(f"xlim must be a pair (lo, hi) of finite numbers, got {xlim!r}")
    lo, hi = real_number(xlim[0], "xlim[0]"), real_number(xlim[1], "xlim[1]")
    if not hi > lo or not np.isfinite(hi - lo):
        raise ValueError(f"xlim must be an increasing pair (lo, hi) with a finite width, got {xlim!r}")
    grid = np.linspace(lo, hi, 400)
    with np.errstate(all="ignore"):
        values = np.asarray(update(grid), dtype=float) * np.ones_like(grid)
    ax.plot(grid, values, color="C0", lw=1.5, label=r"$x^+ = x - \delta f'(x)$")
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--", label="$x^+ = x$")
    ax.plot(path[:, 0], path[:, 1], color=color, lw=0.9, label=label)
    ax.plot(path[0, 0], path[0, 1], "o", color=color, ms=4)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("$x_k$")
    ax.set_ylabel("$x_{k+1}$")
    return path
