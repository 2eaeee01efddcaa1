"""The course's figure style, and pictures of one-dimensional maps (the cobweb, or staircase, diagram).

:func:`use_course_style` is called in every chapter's imports cell (from :ref:`ch-descent_condition` on): one figure
style for the whole course, drawn for the width of the website's content column and readable on its light and dark
themes. The cobweb diagram is introduced in :ref:`ch-dynamical_system` and used again in the explorables of
:ref:`ch-three_examples`.
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lecturelib._checks import (
    FloatArray,
    function,
    instance_of,
    integer_at_least,
    positive_number,
    real_array,
    real_number,
    real_pair,
    returned_number,
)

#: The largest number of steps :func:`cobweb_path` draws (two vertices each; a picture needs far fewer).
MAX_COBWEB_STEPS = 1_000_000

__all__ = [
    "COLUMN_WIDTH",
    "COURSE_STYLE",
    "MIN_FONT_SIZE",
    "PALETTE",
    "cobweb",
    "cobweb_path",
    "use_course_style",
]

#: Width of the website's content column in inches of a figure: 6.88 in at 100 px per inch (``figure.dpi``) is the
#: 688 CSS px of the main column; a notebook output gets 672 px of it (Chromium, 1280 px window). A figure this wide
#: is shown at 97 % or more of its drawn size, a narrower one at its drawn size, so its text is as large on the page
#: as the style says (``tests/test_figures.py`` measures it).
COLUMN_WIDTH = 6.88

#: The colour cycle ``C0``-``C9``: matplotlib's ten "tab" hues, darkened where needed so that every colour has a
#: contrast of at least 4:1 against the white page, and (after the site's dark-mode filter, ``invert(1)
#: hue-rotate(180deg)``, which keeps hues and flips lightness) at least 5:1 against the dark page.
PALETTE = (
    "#1f77b4",  # blue
    "#b35900",  # orange
    "#2a7f2a",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#c2378f",  # pink
    "#6b6b6b",  # grey
    "#7a7a00",  # olive
    "#00808f",  # cyan
)

#: The smallest font size (points) the style uses; chapters pass no smaller ``fontsize``.
MIN_FONT_SIZE = 9.5

#: The rcParams of the course style: column-wide figures at 100 px per inch (shown in a notebook as PNG at twice
#: that, for high-density screens), laid out to fit their labels and legends, font sizes that stay at least as large
#: as the site's small text, a transparent background, dark text and the palette above.
COURSE_STYLE = {
    "figure.figsize": (COLUMN_WIDTH, 3.6),
    "figure.autolayout": True,
    "figure.dpi": 100,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "legend.facecolor": "white",
    "legend.framealpha": 0.85,
    "font.size": 10.0,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10.0,
    "figure.titlesize": 11.0,
    "xtick.labelsize": MIN_FONT_SIZE,
    "ytick.labelsize": MIN_FONT_SIZE,
    "legend.fontsize": MIN_FONT_SIZE,
    "legend.title_fontsize": MIN_FONT_SIZE,
    "text.color": "black",
    "axes.labelcolor": "black",
    "axes.edgecolor": "black",
    "xtick.color": "black",
    "ytick.color": "black",
    "axes.prop_cycle": cycler(color=list(PALETTE)),
    "image.cmap": "viridis",
}


def _png_for_the_column(fig: Figure) -> tuple[str, dict] | None:
    """A figure as a PNG at twice its ``dpi`` (sharp on high-density screens), declared at its drawn width.

    Only the width goes into the output's metadata (no height), so that a narrow screen can scale the image down
    without distorting it.
    """
    from IPython.core.pylabtools import print_figure

    data = print_figure(fig, fmt="retina")
    if data is None:
        return None
    width = int.from_bytes(data[16:20], "big")  # the PNG header's IHDR width
    return b2a_base64(data, newline=False).decode("ascii"), {"width": width // 2}


def use_course_style() -> None:
    """Use the course's figure style from now on (called in each chapter's imports cell).

    Sets :data:`COURSE_STYLE` in ``matplotlib.rcParams``. In a notebook with the inline backend, figures are then
    shown as PNG files at twice the figure's dpi whose declared width is the drawn width, so that a
    :data:`COLUMN_WIDTH`-wide figure fills the website's column at 1 CSS px per 1/100 inch and stays sharp on a
    high-density screen.

    Introduced in :ref:`ch-descent_condition`.
    """
    mpl.rcParams.update(COURSE_STYLE)  # type: ignore[arg-type]  # the stub's keys are Literals; rcParams checks ours
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook tools
        return
    shell = get_ipython()
    if shell is None or "inline" not in str(mpl.get_backend()):
        return
    import matplotlib_inline.backend_inline  # noqa: F401  (configures the inline formatters first, then we replace png)

    shell.display_formatter.formatters["image/png"].for_type(Figure, _png_for_the_column)


def cobweb_path(update: Callable[[float], float], x0: float, n: int, *, escape: float = 1e6) -> FloatArray:
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

    Introduced in :ref:`ch-dynamical_system`.
    """
    function(update, "update", "x -> x+")
    x = real_number(x0, "x0")
    n = integer_at_least(n, "n", 0, MAX_COBWEB_STEPS)
    escape = positive_number(escape, "escape")
    points = [(x, x)]
    with np.errstate(all="ignore"):
        for _ in range(n):
            y = returned_number(update(x), "update")
            if not (abs(y) <= escape):
                break
            points.append((x, y))
            points.append((y, y))
            x = y
    return np.array(points)


def cobweb(
    ax: Axes,
    update: Callable[[Any], Any],  # called on a float (the path) and on an array (the graph); both results checked
    x0: float,
    n: int,
    *,
    xlim: tuple[float, float] | None = None,
    color: str = "C3",
    label: str | None = "iterates",
) -> FloatArray:
    r"""Draw the cobweb diagram of :math:`x_{k+1} = u(x_k)` on ``ax``: the graph of :math:`u`, the diagonal, the path.

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

    Introduced in :ref:`ch-dynamical_system`.
    """
    instance_of(ax, "ax", Axes, "a matplotlib Axes")
    if label is not None:
        instance_of(label, "label", str)
    path = cobweb_path(update, x0, n)
    if xlim is None:
        lo, hi = float(path.min()), float(path.max())
        pad = 0.1 * (hi - lo) if hi > lo else max(1.0, 0.1 * abs(hi))
        xlim = (lo - pad, hi + pad)
        if not np.all(np.isfinite(xlim)):
            raise ValueError(f"x0: the path from x0 = {x0!r} reaches the end of the float range; pass xlim")
    lo, hi = real_pair(xlim, "xlim")
    if not hi > lo or not np.isfinite(hi - lo):
        raise ValueError(f"xlim must be an increasing pair (lo, hi) with a finite width, got {xlim!r}")
    grid = np.linspace(lo, hi, 400)
    with np.errstate(all="ignore"):
        values = real_array(update(grid), "update(x) on an array x", finite=False) * np.ones_like(grid)
    ax.plot(grid, values, color="C0", lw=1.5, label=r"$x^+ = x - \delta f'(x)$")
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--", label="$x^+ = x$")
    ax.plot(path[:, 0], path[:, 1], color=color, lw=0.9, label=label)
    ax.plot(path[0, 0], path[0, 1], "o", color=color, ms=4)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("$x_k$")
    ax.set_ylabel("$x_{k+1}$")
    return path
