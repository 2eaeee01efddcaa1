"""Step-size explorables: one figure, one slider, live in Jupyter and still interactive on the static website.

Introduced in :ref:`ch-smoothness_rate` and used wherever a chapter lets the reader move the step size.

A :class:`StepExplorer` wraps a drawing function ``draw(fig, step)``. Displayed in Jupyter it is an ipywidgets
slider that redraws the figure on each move; in the static website (which has no kernel) the same output cell
carries a matplotlib ``to_jshtml`` animation of precomputed frames, one per slider position, that a reader can scrub
offline. The book's configuration gives the widget view no priority in HTML, so the website shows the animation
and Jupyter shows the live widget.

On the website the slider is labelled, works with the keyboard (arrow keys, Home, End), and announces the step it
shows (``aria-valuetext`` and a visible live region "δ = …" beside it); each frame carries alt text. Frames are cropped
to one box that holds everything any frame draws (legends and labels outside the axes included, as the inline
backend's ``bbox_inches="tight"`` does for a static figure) and drawn at twice the resolution they are shown at, so
they stay sharp on high-density screens.

Every frame is checked as it is drawn (:func:`check_frame`): after the figure's layout, everything it draws (axes,
tick labels, axis labels, titles, legends) lies inside the frame's crop, and every data artist is clipped to its axes,
so no position of the slider shows a cut-off axis or data running over a legend outside the axes. A frame that fails
raises ``ValueError`` naming the step, so the website build fails instead of showing it.

On a phone (a screen at most ``PHONE_SCREEN`` CSS px wide) the website shows a second set of frames, drawn for the
phone's text column with the panels stacked (:func:`lecturelib.plots.stack_for_phone`), checked the same way, so
that the frames' text is as large on a phone as on a wide screen. They are drawn when the website's build asks for
them (:func:`lecturelib.plots.phone_figures_wanted`).

In print (the PDF edition) the explorable is a few frames stacked, each one drawn whole: ``print_steps`` chooses
them (by default the first, the initial and the last position).
"""

from __future__ import annotations

import html
import io
import json
import re
import tempfile
import time
from binascii import b2a_base64
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, HTMLWriter
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.spines import Spine
from matplotlib.transforms import Bbox
from numpy.typing import ArrayLike
from PIL import Image

from lecturelib._checks import FloatArray, function, instance_of, integer_at_least, real_array, real_number, real_pair
from lecturelib.plots import PHONE_SCREEN, PHONE_WIDTH, phone_figures_wanted, stack_for_phone

#: The most slider positions :func:`step_explorer` accepts (the website precomputes one frame per position).
MAX_POSITIONS = 1000

__all__ = ["StepExplorer", "check_frame", "step_explorer"]

# matplotlib's jshtml template links Font Awesome from a CDN for its button icons; the book theme serves Font
# Awesome itself, so the link is dropped and the site stays offline.
_CDN_LINK = re.compile(r"<link[^>]+href=\"https?://[^\"]+\"[^>]*>\s*")

# The website shows a frame at CSS size (96 CSS px per inch of figure, never wider than the text column) and draws it
# at twice that, so that it is sharp on a screen with two device pixels per CSS pixel.
CSS_PX_PER_INCH = 96
FRAME_DPI = 2 * CSS_PX_PER_INCH
# Padding around the cropped frames, as savefig's bbox_inches="tight" uses.
_PAD_INCHES = 0.1
# How far (inches) a frame's content may reach past its crop: half a pixel of the website's frames, for rounding.
_CROP_TOLERANCE = 0.5 / FRAME_DPI


def _data_artists(ax: Axes) -> list[Artist]:
    """What an axes draws from data: lines, collections (scatter, fills, meshes), patches and images."""
    kinds = (Line2D, Collection, Patch, AxesImage)
    return [
        a
        for a in ax.get_children()
        if isinstance(a, kinds) and not isinstance(a, Spine) and a is not ax.patch and a.get_visible()
    ]


def _freeze_layout(fig: Figure) -> None:
    """Lay the figure out now and keep that layout: saving a frame cropped to a box would otherwise lay it out again
    for the cropped size (matplotlib resizes the figure to the box while it saves), moving a legend out of the crop."""
    fig.draw_without_rendering()
    fig.set_layout_engine("none")


def check_frame(fig: Figure, crop: Bbox, where: str = "the frame") -> None:
    """Check one drawn frame: laid out, everything inside ``crop`` (inches), every data artist clipped to its axes.

    Raises
    ------
    ValueError
        Naming ``where`` and what is outside or unclipped.
    """
    fig.draw_without_rendering()  # runs the layout engine, as saving the frame does
    box = fig.get_tightbbox()
    if box is None:
        raise ValueError(f"{where}: nothing is drawn")
    outside = [
        side
        for side, over in (
            ("left", crop.x0 - box.x0),
            ("bottom", crop.y0 - box.y0),
            ("right", box.x1 - crop.x1),
            ("top", box.y1 - crop.y1),
        )
        if over > _CROP_TOLERANCE
    ]
    if outside:
        raise ValueError(
            f"{where}: the drawing reaches past the frame's crop on the {', '.join(outside)} ({box} vs {crop})"
        )
    for ax in fig.get_axes():
        for artist in _data_artists(ax):
            clipped = artist.get_clip_on() and (artist.get_clip_box() is not None or artist.get_clip_path() is not None)
            if not clipped:
                raise ValueError(f"{where}: {artist!r} is not clipped to its axes (clip_on=False)")


# Styles of the explorer's own markup: the slider row wraps instead of overflowing a phone's screen, the nine buttons
# stay on one row (they shrink to 28 px each on a 390 px screen), the frame shrinks with the text column (on a phone
# it keeps its size and its view scrolls sideways, as every figure does: book/_assets/figures/course-figures.css),
# and in dark mode the widget sits on the page's own background with the theme's colours (the theme draws every HTML
# output on a light grey panel, #ced6dd, meant for tables).
_STYLE = """<style>
.step-explorer { display: block; max-width: 100%; }
.step-explorer .step-explorer-view { max-width: 100%; }
.step-explorer .step-explorer-frame { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.step-explorer .step-explorer-row { display: flex; flex-wrap: wrap; align-items: center; justify-content: center;
  gap: 0.25rem 0.75rem; margin-top: 0.5rem; }
.step-explorer input[type=range].anim-slider { width: 20rem; max-width: 100%; margin: 0; }
.step-explorer .step-explorer-value { min-width: 6.5em; font-variant-numeric: tabular-nums; }
.step-explorer .anim-buttons { display: flex; flex-wrap: nowrap; justify-content: center; gap: 0.25rem;
  max-width: 100%; }
.step-explorer .anim-buttons button { flex: 0 1 2.25rem; width: auto; min-width: 1.75rem; min-height: 2rem; }
html[data-theme="dark"] .bd-content div.cell_output div.output.text_html:has(.step-explorer) {
  background-color: transparent; color: var(--pst-color-text-base); padding: 0; }
html[data-theme="dark"] .bd-content div.cell_output .step-explorer img.step-explorer-frame { padding: 0; }
html[data-theme="dark"] .step-explorer button { background-color: var(--pst-color-surface);
  color: var(--pst-color-text-base); border: 1px solid var(--pst-color-border); }
html[data-theme="dark"] .step-explorer input { accent-color: var(--pst-color-primary); }
</style>
"""

# Keeps the live region, the slider's aria-valuetext and the frame's alt text in step with the frame shown, whatever
# moved it (the slider, a button, the play loop), and opens on the initial step. matplotlib creates ``anim<id>`` in a
# zero-delay timeout, so this waits for it (up to 10 s).
_SCRIPT = """<script>
(function () {
  var id = %(id)s, values = %(values)s, alts = %(alts)s, initial = %(initial)d, tries = 0;
  var phone = %(phone)s, size = %(size)s, phoneSize = %(phone_size)s;
  function hook() {
    var anim = window["anim" + id];
    if (!anim) { if (++tries < 1000) setTimeout(hook, 10); return; }
    var slider = document.getElementById("_anim_slider" + id);
    var output = document.getElementById("_anim_value" + id);
    var image = document.getElementById("_anim_img" + id);
    var setFrame = anim.set_frame.bind(anim);
    anim.set_frame = function (frame) {
      setFrame(frame);
      slider.setAttribute("aria-valuetext", values[frame]);
      output.textContent = values[frame];
      image.alt = alts[frame];
    };
    if (phone) {
      // A phone gets the frames drawn for its width (panels stacked), a wide screen the frames drawn for the column.
      var query = window.matchMedia(%(query)s), wide = anim.frames;
      var narrow = phone.map(function (src) { var frame = new Image(); frame.src = src; return frame; });
      var fit = function () {
        var small = query.matches, box = small ? phoneSize : size;
        anim.frames = small ? narrow : wide;
        image.width = box[0];
        image.height = box[1];
        image.classList.toggle("step-explorer-phone", small);
        anim.set_frame(anim.current_frame);
      };
      query.addEventListener("change", fit);
      anim.current_frame = initial;
      fit();
    }
    anim.set_frame(initial);
  }
  hook();
})();
</script>
"""


class _FrameFigure(Figure):
    """A figure whose every saved frame is cropped to one box (``crop``, in inches), so all frames match in size."""

    crop: Bbox | None = None

    def savefig(self, fname: Any, **kwargs: Any) -> None:  # matplotlib's own signature: any target, any options
        if self.crop is None:
            return super().savefig(fname, **kwargs)
        kwargs["bbox_inches"] = self.crop
        if to_rgba(self.get_facecolor())[3] == 0:
            # A transparent figure (the course style) keeps a transparent frame: matplotlib's animation writer
            # composites every frame onto white, which the website's dark mode would turn into a black box.
            kwargs["facecolor"] = "none"
            kwargs["transparent"] = True
        buffer = io.BytesIO()
        super().savefig(buffer, **kwargs)
        with Image.open(buffer) as opened:
            _save_frame(opened.convert("RGBA"), fname, opened.info.get("dpi"))
        return None


def _save_frame(image: Image.Image, target: Any, dpi: tuple[float, float] | None) -> None:
    """Save one frame as a PNG with a palette.

    A plot has few colours: a 256-colour palette keeps it visually the same (no channel off by more than a few
    levels, white stays white) at about a third of the bytes. Transparent frames keep their alpha channel. The frame
    keeps the resolution it was drawn at in its pHYs chunk, as matplotlib's own PNGs do.
    """
    if image.getchannel("A").getextrema()[0] == 255:
        frame = image.convert("RGB").quantize(256, method=Image.Quantize.MAXCOVERAGE)
    else:
        frame = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    frame.save(target, format="png", optimize=True, **({"dpi": dpi} if dpi else {}))


class StepExplorer:
    """A figure redrawn for a chosen step size; see :func:`step_explorer`."""

    def __init__(
        self,
        draw: Callable[[Figure, float], None],
        steps: FloatArray,
        index: int,
        label: str,
        figsize: tuple[float, float],
        dpi: int,
        alt: str | Callable[[float], str] | None = None,
    ) -> None:
        self._draw = draw
        self.steps = steps
        self.label = label
        self.alt = alt
        self.dpi = dpi
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.index = index
        self.last_redraw_seconds = float("nan")
        self._widget = None
        self._crop: Bbox | None = None

    @property
    def step(self) -> float:
        """The step size currently drawn."""
        return float(self.steps[self.index])

    def _render(self, step: float) -> None:
        self._draw_into(self.figure, step)

    def png(self) -> bytes:
        """The current figure as PNG bytes (light compression: encoding is most of a live redraw's time).

        Cropped to :meth:`crop_box`, so a legend or label outside the axes is not cut off and every step gives a
        picture of the same size.
        """
        buffer = io.BytesIO()
        self.figure.savefig(
            buffer, format="png", dpi=self.dpi, bbox_inches=self.crop_box(), pil_kwargs={"compress_level": 1}
        )
        return buffer.getvalue()

    def print_steps(self) -> list[float]:
        """The positions shown in print: the first, the initial and the last (each once)."""
        chosen = sorted({0, self.index, len(self.steps) - 1})
        return [float(self.steps[i]) for i in chosen]

    def _print_png(self) -> bytes:
        """For print: the frames at :meth:`print_steps`, stacked, each cropped to the frames' common box, 150 dpi."""
        dpi = 150
        crop = self.crop_box()
        frames = []
        for step in self.print_steps():
            fig = Figure(figsize=self._size(), dpi=dpi)
            self._draw_into(fig, step)
            check_frame(fig, crop, f"the printed frame at {self.value_text(step)}")
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=crop, facecolor="white", transparent=False)
            frames.append(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        gap = dpi // 8
        width = max(frame.width for frame in frames)
        sheet = Image.new("RGB", (width, sum(f.height for f in frames) + gap * (len(frames) - 1)), "white")
        top = 0
        for frame in frames:
            sheet.paste(frame, (0, top))
            top += frame.height + gap
        out = io.BytesIO()
        sheet.save(out, format="png", dpi=(dpi, dpi), optimize=True)
        return out.getvalue()

    def crop_box(self) -> Bbox:
        """The smallest box (inches) that holds everything any step draws, padded like ``bbox_inches="tight"``.

        The inline backend crops a static figure to its tight box; a slider's pictures need one box for all steps.
        Computed once, by drawing every step on a scratch figure, laid out (a figure's layout engine, such as the
        course style's tight layout, moves the axes only when the figure is drawn) and with that layout kept.
        """
        if self._crop is None:
            boxes = []
            scratch = Figure(figsize=self._size(), dpi=FRAME_DPI)
            for step in self.steps:
                self._draw_into(scratch, float(step))
                boxes.append(scratch.get_tightbbox())
            self._crop = Bbox.union(boxes).padded(_PAD_INCHES)
        return self._crop

    def _size(self) -> tuple[float, float]:
        """The live figure's size in inches."""
        width, height = self.figure.get_size_inches()
        return float(width), float(height)

    def value_text(self, step: float) -> str:
        """How the slider names a step: "δ = 0.3"."""
        return f"{self.label} = {step:.4g}"

    def alt_text(self, step: float) -> str:
        """The alt text of the frame drawn for ``step``: the description given to :func:`step_explorer`."""
        if callable(self.alt):
            text = str(self.alt(step))
        elif self.alt:
            text = f"{self.alt} Shown for {self.value_text(step)}."
        else:
            text = f"The figure for {self.value_text(step)}."
        return " ".join(text.split())

    def set_step(self, step: float) -> bytes:
        """Redraw at the slider position nearest to ``step``; return the PNG and time it in ``last_redraw_seconds``."""
        step = real_number(step, "step")
        start = time.perf_counter()
        self.index = int(np.argmin(np.abs(self.steps - step)))
        self._render(self.step)
        image = self.png()
        self.last_redraw_seconds = time.perf_counter() - start
        if self._widget is not None:
            self._widget.children[1].value = image
        return image

    @property
    def widget(self) -> Any:  # an ipywidgets VBox (ipywidgets has no type information)
        """The live ipywidgets control: a selection slider over the steps above the figure."""
        if self._widget is None:
            import ipywidgets as widgets

            slider = widgets.SelectionSlider(
                options=[(f"{s:.4g}", float(s)) for s in self.steps],
                value=self.step,
                description=self.label,
                continuous_update=True,
                layout=widgets.Layout(width="90%"),
            )
            image = widgets.Image(format="png")
            self._widget = widgets.VBox([slider, image])
            slider.observe(lambda change: self.set_step(change["new"]), names="value")
            self.set_step(self.step)
        return self._widget

    def to_jshtml(self, fps: int = 4) -> str:
        """A self-contained HTML animation with one frame per step and a labelled slider, with no external links.

        matplotlib's ``FuncAnimation`` HTML (its ``to_jshtml`` writer), with every frame cropped to the union of the
        frames' tight boxes and drawn at ``FRAME_DPI``; then the markup is made accessible (``_accessible``).
        """
        fps = integer_at_least(fps, "fps", 1, 1000)  # HTMLWriter takes an int: its frame interval is 1000 // fps ms
        fig = cast(_FrameFigure, plt.figure(FigureClass=_FrameFigure, figsize=self._size(), dpi=FRAME_DPI))
        try:
            fig.crop = self.crop_box()
            animation = FuncAnimation(
                fig,
                lambda i: self._draw_checked(fig, float(self.steps[i])),
                frames=len(self.steps),
                init_func=lambda: self._draw_into(fig, float(self.steps[0])),
                repeat=False,
            )
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "explorer.html"
                writer = HTMLWriter(fps=fps, embed_frames=True, default_mode="once")
                animation.save(str(path), writer=writer, dpi=FRAME_DPI)
                page = path.read_text(encoding="utf-8")
        finally:
            plt.close(fig)
        return self._accessible(
            _CDN_LINK.sub("", page), fig.crop, self._phone_frames() if phone_figures_wanted() else None
        )

    def _draw_for_phone(self, fig: Figure, step: float) -> bool:
        """Draw ``step`` on ``fig`` in its phone layout (laid out, and kept so); False if it has none."""
        fig.clear()
        fig.set_size_inches(*self._size())
        fig.set_layout_engine(None)
        self._draw(fig, step)
        if stack_for_phone(fig) is None:
            return False
        # stack_for_phone laid the figure out without a warning; keep that layout.
        fig.set_layout_engine("none")
        return True

    def _phone_frames(self) -> tuple[list[str], Bbox] | None:
        """The frames for a phone (PNG data URLs, cropped to one box), or ``None`` if the figure has no phone layout
        that fits a phone's text column.

        Each step is drawn once, in full, and checked (:func:`check_frame`, against its own tight box); then every
        picture is cropped to the union of those boxes.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = Figure(figsize=self._size(), dpi=FRAME_DPI)
        canvas = FigureCanvasAgg(fig)
        drawn: list[tuple[Image.Image, Bbox, tuple[float, float]]] = []
        for step in self.steps:
            if not self._draw_for_phone(fig, float(step)):
                return None
            box = fig.get_tightbbox()
            check_frame(fig, box.padded(_PAD_INCHES), f"the phone's frame at {self.value_text(float(step))}")
            canvas.draw()
            size = (float(fig.get_size_inches()[0]), float(fig.get_size_inches()[1]))
            drawn.append((Image.fromarray(np.asarray(canvas.buffer_rgba()).copy()), box, size))
        if len({size for _, _, size in drawn}) != 1:
            return None  # the figure's size changed with the step: its frames would not line up
        crop = Bbox.union([box for _, box, _ in drawn]).padded(_PAD_INCHES)
        if crop.width > PHONE_WIDTH + 2 * _PAD_INCHES:
            return None
        height = drawn[0][2][1]
        pixels = tuple(round(v * FRAME_DPI) for v in (crop.x0, height - crop.y1, crop.x1, height - crop.y0))
        frames = []
        for image, _, _ in drawn:
            buffer = io.BytesIO()
            _save_frame(image.crop(pixels), buffer, (FRAME_DPI, FRAME_DPI))
            frames.append("data:image/png;base64," + b2a_base64(buffer.getvalue(), newline=False).decode("ascii"))
        return frames, crop

    def _accessible(self, page: str, box: Bbox, phone: tuple[list[str], Bbox] | None = None) -> str:
        """Label the slider, announce the step it shows, describe each frame, start on the initial step; on a phone,
        show the ``phone`` frames (data URLs, and their crop box) instead."""
        found = re.search(r'id="_anim_img(\w+)"', page)
        if found is None:
            raise RuntimeError("matplotlib's animation HTML has changed: no frame image found")
        anim = found.group(1)
        values = [self.value_text(float(s)) for s in self.steps]
        alts = [self.alt_text(float(s)) for s in self.steps]
        start = self.index
        width, height = (round(v * CSS_PX_PER_INCH) for v in box.size)
        replacements = [
            ('<div class="animation">', '<div class="animation step-explorer">'),
            (
                f'<img id="_anim_img{anim}">',
                (
                    f'<div class="step-explorer-view"><img id="_anim_img{anim}" class="step-explorer-frame" '
                    f'width="{width}" height="{height}" data-dpi="{FRAME_DPI}" alt="{html.escape(alts[start])}"></div>'
                ),
            ),
            (
                f'<input id="_anim_slider{anim}"',
                (
                    f'<div class="step-explorer-row"><label for="_anim_slider{anim}">Step size '
                    f'{html.escape(self.label)}</label>\n    <input id="_anim_slider{anim}" '
                    f'aria-valuetext="{html.escape(values[start])}"'
                ),
            ),
            (
                f'oninput="anim{anim}.set_frame(parseInt(this.value));">',
                (
                    f'oninput="anim{anim}.set_frame(parseInt(this.value));">\n    '
                    f'<output id="_anim_value{anim}" class="step-explorer-value" for="_anim_slider{anim}" '
                    f'aria-live="polite">{html.escape(values[start])}</output></div>'
                ),
            ),
            (
                'name="points" min="0" max="1" step="1" value="0"',
                f'name="points" min="0" max="{len(self.steps) - 1}" step="1" value="{start}"',
            ),
        ]
        for old, new in replacements:
            if page.count(old) != 1:
                raise RuntimeError(f"matplotlib's animation HTML has changed: expected {old!r} once")
            page = page.replace(old, new)
        data = {
            "id": json.dumps(anim),
            "values": json.dumps(values, ensure_ascii=False),
            "alts": json.dumps(alts, ensure_ascii=False),
            "initial": start,
            "phone": json.dumps(phone[0] if phone else None),
            "size": json.dumps([width, height]),
            "phone_size": json.dumps([round(v * CSS_PX_PER_INCH) for v in phone[1].size] if phone else None),
            "query": json.dumps(f"(max-width: {PHONE_SCREEN}px)"),
        }
        script = _SCRIPT % {k: v.replace("</", "<\\/") if isinstance(v, str) else v for k, v in data.items()}
        return _STYLE + page + script

    def _draw_into(self, fig: Figure, step: float) -> list[Artist]:
        fig.clear()
        fig.set_layout_engine(None)  # the style's layout (rcParams) again: the last frame's was frozen
        self._draw(fig, step)
        _freeze_layout(fig)
        return []

    def _draw_checked(self, fig: Figure, step: float) -> list[Artist]:
        """Draw the website's frame for ``step`` and check it (:func:`check_frame`) before it is saved."""
        self._draw_into(fig, step)
        check_frame(fig, cast(Bbox, cast(_FrameFigure, fig).crop), f"the frame at {self.value_text(step)}")
        return []

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:  # IPython's protocol
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.to_jshtml()
        # For print (the PDF edition): the figure at the current step. HTML prefers the animation, Jupyter the widget.
        bundle["image/png"] = self._print_png()
        bundle.setdefault("text/plain", f"StepExplorer({self.label}, {len(self.steps)} steps)")
        return bundle


def step_explorer(
    draw: Callable[[Figure, float], None],
    steps: ArrayLike,
    *,
    initial: float | None = None,
    label: str = "δ",
    alt: str | Callable[[float], str] | None = None,
    figsize: tuple[float, float] = (8.0, 3.5),
    dpi: int = 72,
) -> StepExplorer:
    """A step-size explorable over the given slider positions.

    Parameters
    ----------
    draw : callable
        ``draw(fig, step)`` draws the picture for one step size on an empty :class:`matplotlib.figure.Figure`
        (add axes with ``fig.subplots``). It must not call ``plt.show``.
    steps : sequence of float
        The slider positions: 2 to :data:`MAX_POSITIONS` finite, strictly increasing values. The website precomputes
        one frame per position, so 20 to 60 positions are typical.
    initial : float, optional
        The step drawn first in Jupyter (the nearest position is used; a finite number); the smallest step by
        default.
    label : str
        The symbol of the step size: the slider is labelled "Step size δ" and announces "δ = 0.3".
    alt : str or callable, optional
        The alt text of the frames on the website, for a reader who cannot see them: a description of what is
        plotted and what to notice. A callable ``alt(step)`` describes the frame drawn for ``step``; a string is
        used for every frame, followed by "Shown for δ = ...".
    figsize, dpi
        Figure size in inches (each in ``(0, 100]``), and resolution of the live figure in Jupyter (an integer from
        20 to 1000; the website's frames are drawn at ``FRAME_DPI``).

    Returns
    -------
    StepExplorer
        Display it as the last expression of a cell.

    Introduced in :ref:`ch-smoothness_rate`.
    """
    function(draw, "draw", "draw(fig, step)")
    grid = real_array(steps, "steps", ndim=1)
    if grid.size < 2 or grid.size > MAX_POSITIONS:
        raise ValueError(f"steps must be a 1-D sequence of 2 to {MAX_POSITIONS} step sizes, got shape {grid.shape}")
    if not np.all(np.diff(grid) > 0):
        raise ValueError("steps must be finite and strictly increasing")
    dpi = integer_at_least(dpi, "dpi", 20, 1000)
    instance_of(label, "label", str)
    size = real_pair(figsize, "figsize", above=0.0, at_most=100.0)
    if alt is not None and not isinstance(alt, str):
        function(alt, "alt", "alt(step) -> str, or a string")
    if initial is None:
        index = 0
    else:
        start = real_number(initial, "initial")
        with np.errstate(all="ignore"):
            index = int(np.argmin(np.abs(grid - start)))
    return StepExplorer(draw, grid, index, label, size, dpi, alt)
