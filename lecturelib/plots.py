"""The course's figure style, and pictures of one-dimensional maps (the cobweb, or staircase, diagram).

:func:`use_course_style` is called in every chapter's imports cell (from :ref:`ch-descent_condition` on): one figure
style for the whole course, drawn for the width of the website's content column and readable on its light and dark
themes. The cobweb diagram is introduced in :ref:`ch-dynamical_system` and used again in the explorables of
:ref:`ch-three_examples`.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from binascii import b2a_base64
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec, SubplotSpec
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

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
    "PHONE_FIGURES_ENV",
    "PHONE_SCREEN",
    "PHONE_WIDTH",
    "cobweb",
    "cobweb_path",
    "phone_figures_wanted",
    "phone_png",
    "split_phone_png",
    "stack_for_phone",
    "use_course_style",
]

#: Width of the website's content column in inches of a figure: 6.88 in at 100 px per inch (``figure.dpi``) is the
#: 688 CSS px of the main column; a notebook output gets 672 px of it (Chromium, 1280 px window). A figure this wide
#: is shown at 97 % or more of its drawn size, a narrower one at its drawn size, so its text is as large on the page
#: as the style says (``tests/test_figures.py`` measures it).
COLUMN_WIDTH = 6.88

#: Width in inches of a figure's phone layout (:func:`stack_for_phone`): the 342 CSS px text column of a 390 px
#: wide phone screen at 100 px per inch, so that on a phone the figure's text is as large as the style says.
PHONE_WIDTH = 3.42

#: The widest screen (CSS px) that the website serves a figure's phone layout to; wider screens get the figure as
#: drawn for :data:`COLUMN_WIDTH`.
PHONE_SCREEN = 640

#: The environment variable that asks for phone layouts: set to ``1`` (the website's build sets it for the notebooks
#: it executes, ``book/_ext/phone_figures.py``), figures and explorables are drawn a second time for a phone. Unset,
#: nothing is drawn twice: in Jupyter, and in the tests' other executions, only the website would use them.
PHONE_FIGURES_ENV = "LECTURELIB_PHONE_FIGURES"


def phone_figures_wanted() -> bool:
    """Whether figures are drawn a second time in their phone layout (``LECTURELIB_PHONE_FIGURES=1``).

    Raises
    ------
    ValueError
        If the variable holds anything but ``0``, ``1`` or nothing.
    """
    value = os.environ.get(PHONE_FIGURES_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"{PHONE_FIGURES_ENV} must be 1 (draw phone layouts), 0 or unset, got {value!r}")
    return value == "1"


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


# The phone layout of a figure travels inside its PNG, in a private ancillary chunk (PNG 1.2, section 3.3: lower
# case first letter, ancillary; lower case second, private; upper case third, reserved; lower case fourth, safe to
# copy). Readers skip such a chunk (Jupyter, browsers, pdfTeX); the website's build takes it out and serves it as the
# ``<picture>`` source for narrow screens (book/_ext/phone_figures.py).
_PHONE_CHUNK = b"phOn"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG file, as (type, data) pairs; ValueError if it is not a whole PNG file."""
    if not isinstance(data, bytes | bytearray) or not data.startswith(_PNG_SIGNATURE):
        raise ValueError("data must be the bytes of a PNG file (it does not start with the PNG signature)")
    chunks, at = [], len(_PNG_SIGNATURE)
    while at < len(data):
        if at + 12 > len(data):
            raise ValueError("data: the PNG file is cut short inside a chunk header")
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = bytes(data[at + 4 : at + 8]), bytes(data[at + 8 : at + 8 + length])
        if len(body) != length or at + 12 + length > len(data):
            raise ValueError(f"data: the PNG file is cut short inside its {kind!r} chunk")
        chunks.append((kind, body))
        at += 12 + length
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise ValueError("data: a PNG file starts with its IHDR chunk and ends with IEND")
    return chunks


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    parts = [_PNG_SIGNATURE]
    for kind, body in chunks:
        parts.append(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body)))
    return b"".join(parts)


def phone_png(wide: bytes, phone: bytes) -> bytes:
    """The PNG ``wide`` carrying ``phone`` (the same figure laid out for a phone) inside it, in a private chunk.

    Any PNG reader shows ``wide`` as before; :func:`split_phone_png` takes the two apart again.
    """
    _chunks(phone)  # both must be PNG files
    chunks = [c for c in _chunks(wide) if c[0] != _PHONE_CHUNK]
    return _png([*chunks[:-1], (_PHONE_CHUNK, bytes(phone)), chunks[-1]])


def split_phone_png(data: bytes) -> tuple[bytes, bytes | None]:
    """A PNG made by :func:`phone_png`, taken apart: the wide PNG without the chunk, and the phone PNG (or ``None``).

    A PNG without a phone layout comes back unchanged, with ``None``.
    """
    chunks = _chunks(data)
    phones = [body for kind, body in chunks if kind == _PHONE_CHUNK]
    if not phones:
        return bytes(data), None
    return _png([c for c in chunks if c[0] != _PHONE_CHUNK]), phones[0]


def _slot_heights(fig: Figure, cells: list[SubplotSpec]) -> list[float]:
    """The height (inches) of the band of the figure that each top-level cell occupies, margins included."""
    height = float(fig.get_size_inches()[1])
    slots = []
    for cell in cells:
        grid = cell.get_gridspec()
        ratios = np.asarray(grid.get_height_ratios() or [1.0] * grid.nrows, dtype=float)
        rows = cell.rowspan
        slots.append(height * float(ratios[rows.start : rows.stop].sum() / ratios.sum()))
    return slots


def stack_for_phone(fig: Figure, width: float = PHONE_WIDTH) -> Callable[[], None] | None:
    """Lay ``fig`` out for a phone, in place: ``width`` inches wide, its panels in one column in reading order.

    Panels side by side are put one under the other (left to right, then top to bottom), each as tall as before,
    or less when it was wider than ``width`` (its height shrinks with the square root of its width); a panel whose
    tick labels were hidden because it shares an axis with its left neighbour gets them back, and its neighbour's
    axis label. The figure's text keeps its size, so on a phone's screen it is as large as on a wide screen. A
    figure laid out once (``fig.tight_layout()``) or by hand gets the tight layout for its phone layout.

    Returns
    -------
    callable or None
        A function that restores the layout as it was, or ``None`` (and the figure as it was) when the figure has
        no phone layout: subfigures, axes placed by hand rather than on a grid, or text that does not fit the
        width (a title or label longer than the phone is wide, or labels the layout engine cannot make room for).

    Introduced with :func:`use_course_style`; the explorables of :mod:`lecturelib.explorable` use it for their
    frames.
    """
    instance_of(fig, "fig", Figure, "a matplotlib Figure")
    width = positive_number(width, "width")
    if fig.subfigs:
        return None
    axes = [ax for ax in fig.axes if ax.get_visible()]
    specs = {ax: ax.get_subplotspec() for ax in axes}
    if not axes or any(spec is None for spec in specs.values()):
        return None
    # The top-level cells, each with its axes, in reading order (top to bottom, then left to right).
    cells: dict[tuple, SubplotSpec] = {}
    owner: dict[Axes, tuple] = {}
    for ax, spec in specs.items():
        top = spec.get_topmost_subplotspec()  # type: ignore[union-attr]
        key = (id(top.get_gridspec()), top.rowspan.start, top.rowspan.stop, top.colspan.start, top.colspan.stop)
        cells.setdefault(key, top)
        owner[ax] = key
    order = sorted(cells, key=lambda k: (-cells[k].get_position(fig).y1, cells[k].get_position(fig).x0))
    side_by_side = len(order) > 1 and (
        any(cells[k].get_gridspec().ncols > 1 for k in order) or len({k[0] for k in order}) > 1
    )
    if side_by_side and any(specs[ax] is not cells[owner[ax]] for ax in axes):
        return None  # a panel holding a nested grid (a colour bar beside it, say) cannot be moved whole

    old_size = (float(fig.get_size_inches()[0]), float(fig.get_size_inches()[1]))
    old_engine = fig.get_layout_engine()
    old_params = {k: getattr(fig.subplotpars, k) for k in ("left", "bottom", "right", "top", "wspace", "hspace")}
    relabel: list[Callable[[], object]] = []
    slots = _slot_heights(fig, [cells[k] for k in order])
    new_slots = []
    for key, slot in zip(order, slots, strict=True):
        cell = cells[key]
        ratios = np.asarray(cell.get_gridspec().get_width_ratios() or [1.0] * cell.get_gridspec().ncols, dtype=float)
        cell_width = old_size[0] * float(ratios[cell.colspan.start : cell.colspan.stop].sum() / ratios.sum())
        new_slots.append(slot * float(np.sqrt(width / max(cell_width, width))))
    if side_by_side:
        grid = GridSpec(len(order), 1, figure=fig, height_ratios=new_slots)
        for ax in axes:
            ax.set_subplotspec(grid[order.index(owner[ax]), 0])
        _show_shared_labels(axes, relabel)
    fig.set_size_inches(width, sum(new_slots))
    if old_engine is None or isinstance(old_engine, PlaceHolderLayoutEngine):  # laid out once, or by hand
        try:
            fig.set_layout_engine("tight")
        except RuntimeError:  # a colour bar placed for another engine: matplotlib refuses to switch
            fig.set_size_inches(*old_size)
            for ax, spec in specs.items():
                ax.set_subplotspec(spec)  # type: ignore[arg-type]
            for step in reversed(relabel):
                step()
            return None

    def restore() -> None:
        # The tight layout adjusts the figure's subplot parameters, which place every panel of a plain grid: put
        # them back, then each panel on its old cell (which places it by those parameters).
        fig.set_layout_engine(old_engine or "none")
        fig.set_size_inches(*old_size)
        fig.subplotpars.update(**old_params)
        for step in reversed(relabel):
            step()
        for ax, spec in specs.items():
            ax.set_subplotspec(spec)  # type: ignore[arg-type]

    # Lay out twice: the first layout at the new size changes which ticks show (a log axis gains labels), the
    # second one (when the figure is drawn) makes room for them. A layout engine that cannot fit the panels'
    # labels into the phone's width says so in a warning: then there is no phone layout.
    _fit_texts(fig, relabel)
    if not _lays_out_cleanly(fig) or not _inside(fig):
        restore()
        return None
    return restore


def _itself(text: Any) -> Any:
    return text


def _entry(legend: Any, index: int) -> Any:
    """A legend's entry, looked up again (rebuilding a legend's box makes new entries)."""
    return legend.get_texts()[index]


def _set_text(find: Callable[[], Any], text: str) -> None:
    find().set_text(text)


def _break_line(text: str) -> str | None:
    """``text`` with its last line broken in two at the space nearest its middle that is outside ``$...$`` (mathtext
    cannot span lines), or ``None`` if it has no such space."""
    head, _, line = text.rpartition("\n")
    spaces, math = [], False
    for i, char in enumerate(line):
        if char == "$" and (i == 0 or line[i - 1] != "\\"):
            math = not math
        elif char == " " and not math and 0 < i < len(line) - 1:
            spaces.append(i)
    if not spaces:
        return None
    cut = min(spaces, key=lambda i: abs(i - len(line) / 2))
    return (head + "\n" if head else "") + line[:cut] + "\n" + line[cut + 1 :]


def _fit_texts(fig: Figure, undo: list[Callable[[], object]], rounds: int = 4) -> None:
    """Make the figure's text fit its (phone's) width: move a legend that sticks out of its axes under them, give a
    legend wider than the figure one column, and break titles, axis labels, annotations and legend entries that are
    wider than the figure, or stick out of it, into lines. Each change is undone by ``undo`` (in reverse order)."""
    limit = 0.98 * fig.bbox.width
    moved: dict[int, float] = {}  # legends put under their axes: their drop below the axes (inches)
    for _ in range(rounds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a layout on the way may not fit yet: the end is checked
            fig.draw_without_rendering()
        renderer = None  # each artist measures itself with the figure's own renderer
        if _fit_legends(fig, renderer, limit, undo, moved):
            continue  # lay out again before looking at the text
        changed = False
        texts: list[tuple[Any, Callable[[], Any]]] = []  # each text, and how to find it again after a rebuild
        if fig._suptitle is not None:  # type: ignore[attr-defined]
            texts.append((fig._suptitle, partial(getattr, fig, "_suptitle")))  # type: ignore[attr-defined]
        for ax in fig.axes:
            for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts):  # type: ignore
                texts.append((text, partial(_itself, text)))
        entries = []
        for legend in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
            if legend is not None:
                for i, text in enumerate(legend.get_texts()):
                    entries.append(text)
                    texts.append((text, partial(_entry, legend, i)))
        for text, find in texts:
            if not text.get_visible() or not text.get_text():
                continue
            box = text.get_window_extent(renderer)
            # A legend entry leaves room for its handle and the frame: at most 0.7 of the width.
            widest = 0.7 * fig.bbox.width if text in entries else limit
            if max(box.width, box.height) <= widest and box.x0 >= 0 and box.x1 <= fig.bbox.width:
                continue
            broken = _break_line(text.get_text())
            if broken is not None:
                old = text.get_text()
                text.set_text(broken)
                undo.append(partial(_set_text, find, old))
                changed = True
        if not changed:
            return


def _fit_legends(
    fig: Figure, renderer: Any, limit: float, undo: list[Callable[[], object]], moved: dict[int, float]
) -> bool:
    """Move legends beside their axes, or wider than them, under them; give a legend wider than ``limit`` one column.
    True if any changed."""
    changed = False
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        if id(legend) in moved:
            # Under its axes, clear of the x axis's labels, which the last layout may have changed.
            drop = _drop_below(ax, renderer)
            if abs(drop - moved[id(legend)]) * fig.dpi > 0.5:
                moved[id(legend)] = drop
                _anchor_below(legend, drop)
                changed = True
        elif box.x0 < ax.bbox.x0 - 1 or box.x1 > ax.bbox.x1 + 1:
            # Beside its axes, or wider than them, it takes the width a phone does not have: under them it takes
            # height instead.
            moved[id(legend)] = _legend_below(legend, renderer, undo)
            changed = True
    for legend in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        columns = getattr(legend, "_ncols", 1)
        if (box.width > limit or box.x0 < -1 or box.x1 > fig.bbox.width + 1) and columns > 1:
            if _legend_columns(legend, 1):
                undo.append(partial(_legend_columns, legend, columns))
                changed = True
    return changed


def _legend_columns(legend: Any, columns: int) -> bool:
    """Lay a drawn legend's entries out in ``columns`` columns; False if this matplotlib cannot.

    ``Legend.set_ncols`` only takes effect when the legend's box is built, which matplotlib does once, when the
    legend is made; so the box is built again here (its title and entries kept), with matplotlib's own builder.
    """
    build = getattr(legend, "_init_legend_box", None)
    if build is None:
        return False
    title = legend.get_title()
    text, props = title.get_text(), title.get_fontproperties().copy()
    labels = [label.get_text() for label in legend.get_texts()]
    legend.set_ncols(columns)
    build(list(legend.legend_handles), labels)
    legend._set_loc(legend._loc)  # places the new box where the old one was placed
    legend.set_title(text or None, prop=props)
    return True


def _drop_below(ax: Axes, renderer: Any) -> float:
    """How far (inches) the x axis's tick labels and label reach below the axes, plus a small gap."""
    below = ax.xaxis.get_tightbbox(renderer)
    reach = ax.bbox.y0 - below.y0 if below is not None else 0.0
    return max(reach, 0.0) / ax.figure.dpi + 0.05


def _anchor_below(legend: Any, drop: float) -> None:
    """Hang the legend centred on the figure, ``drop`` inches below its axes (a distance the layout keeps)."""
    ax = legend.axes
    fig = ax.figure
    where = blended_transform_factory(fig.transFigure, ax.transAxes) + ScaledTranslation(0, -drop, fig.dpi_scale_trans)
    legend.set_bbox_to_anchor((0.5, 0.0), transform=where)


def _legend_below(legend: Any, renderer: Any, undo: list[Callable[[], object]]) -> float:
    """Move a legend placed beside its axes to below them, centred on the figure; return its drop (inches)."""
    # The anchor as stored (set_bbox_to_anchor would wrap a stored, transformed box in a second transform).
    old_loc, old_anchor = legend._loc, legend._bbox_to_anchor
    legend.set_loc("upper center")
    drop = _drop_below(legend.axes, renderer)
    _anchor_below(legend, drop)
    # The figure grows by the legend's height, so that its axes keep theirs (stack_for_phone restores the size).
    fig = legend.axes.figure
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + legend.get_window_extent(renderer).height / fig.dpi + drop)

    def back() -> None:
        legend.set_loc(old_loc)
        legend._bbox_to_anchor = old_anchor
        legend.stale = True

    undo.append(back)
    return drop


def _inside(fig: Figure, tolerance: float = 0.02) -> bool:
    """Whether everything the figure draws lies within its width (inches, up to ``tolerance``): no title or label
    sticks out of the phone's width, which no layout engine shrinks. (Height is free: the picture is cropped to what
    is drawn, and a phone scrolls down.)"""
    box = fig.get_tightbbox()
    return box is not None and box.x0 >= -tolerance and box.x1 <= float(fig.get_size_inches()[0]) + tolerance


def _lays_out_cleanly(fig: Figure) -> bool:
    """Lay the figure out (twice, as ticks follow the axes' size); False if its layout engine warned that it could not
    fit the labels."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.draw_without_rendering()
        fig.draw_without_rendering()
    return not any(issubclass(w.category, UserWarning) and "layout" in str(w.message).lower() for w in caught)


def _show_shared_labels(axes: list[Axes], restore_steps: list[Callable[[], object]]) -> None:
    """Give back the tick labels (and the axis label) that sharing an axis with a neighbour had hidden."""
    for ax in axes:
        pairs: tuple[tuple[Literal["x", "y"], str], ...] = (("y", "labelleft"), ("x", "labelbottom"))
        for name, side in pairs:
            axis = ax.yaxis if name == "y" else ax.xaxis
            shared = ax.get_shared_y_axes() if name == "y" else ax.get_shared_x_axes()
            siblings = [s for s in shared.get_siblings(ax) if s is not ax and s in axes]
            if not siblings:
                continue
            if axis.get_tick_params().get(side) is False:
                ax.tick_params(axis=name, **{side: True})
                restore_steps.append(partial(ax.tick_params, axis=name, **{side: False}))
            if not axis.get_label_text():
                labels = [(s.yaxis if name == "y" else s.xaxis).get_label_text() for s in siblings]
                labels = [text for text in labels if text]
                if labels:
                    axis.set_label_text(labels[0])
                    restore_steps.append(partial(axis.set_label_text, ""))


def _png_for_the_column(fig: Figure) -> tuple[str, dict] | None:
    """A figure as a PNG at twice its ``dpi`` (sharp on high-density screens), declared at its drawn width.

    Only the width goes into the output's metadata (no height), so that a narrow screen can scale the image down
    without distorting it. For the website (:func:`phone_figures_wanted`) the PNG carries the figure's phone layout
    (:func:`stack_for_phone`, :func:`phone_png`) when the figure has one that fits a phone's width.
    """
    from IPython.core.pylabtools import print_figure

    data = print_figure(fig, fmt="retina")
    if data is None:
        return None
    width = int.from_bytes(data[16:20], "big")  # the PNG header's IHDR width
    phone = _phone_layout_png(fig) if phone_figures_wanted() else None
    if phone is not None:
        data = phone_png(data, phone)
    return b2a_base64(data, newline=False).decode("ascii"), {"width": width // 2}


def _phone_layout_png(fig: Figure) -> bytes | None:
    """The figure drawn in its phone layout, as the inline backend draws it; ``None`` if it has none that fits."""
    from IPython.core.pylabtools import print_figure

    restore = stack_for_phone(fig)
    if restore is None:
        return None
    try:
        if not _lays_out_cleanly(fig):
            return None
        data = print_figure(fig, fmt="retina")
    finally:
        restore()
    if data is None:
        return None
    # Cropped to what it draws (bbox_inches="tight", which pads it on both sides): stack_for_phone has checked that
    # everything lies inside the figure, so this holds unless the crop changed.
    shown = int.from_bytes(data[16:20], "big") / (2 * fig.dpi)
    return data if shown <= PHONE_WIDTH + 2 * float(mpl.rcParams["savefig.pad_inches"]) + 0.01 else None


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
