"""Step-size explorables: one figure, one slider, live in Jupyter and still interactive on the static website.

Introduced in chapter 4 and used wherever a chapter lets the reader move the step size.

A :class:`StepExplorer` wraps a drawing function ``draw(fig, step)``. Displayed in Jupyter it is an ipywidgets
slider that redraws the figure on each move; in the static website (which has no kernel) the same output cell
carries a matplotlib ``to_jshtml`` animation of precomputed frames, one per slider position, that a reader can scrub
offline. The book's configuration gives the widget view no priority in HTML, so the website shows the animation
and Jupyter shows the live widget.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from lecturelib._checks import integer_at_least, positive_number, real_array, real_number

#: The most slider positions :func:`step_explorer` accepts (the website precomputes one frame per position).
MAX_POSITIONS = 1000

__all__ = ["StepExplorer", "step_explorer"]

# matplotlib's jshtml template links Font Awesome from a CDN for its button icons; the book theme serves Font
# Awesome itself, so the link is dropped and the site stays offline.
_CDN_LINK = re.compile(r"<link[^>]+href=\"https?://[^\"]+\"[^>]*>\s*")


class StepExplorer:
    """A figure redrawn for a chosen step size; see :func:`step_explorer`."""

    def __init__(
        self,
        draw: Callable[[Figure, float], None],
        steps: np.ndarray,
        index: int,
        label: str,
        figsize: tuple[float, float],
        dpi: int,
    ) -> None:
        self._draw = draw
        self.steps = steps
        self.label = label
        self.dpi = dpi
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.index = index
        self.last_redraw_seconds = float("nan")
        self._widget = None

    @property
    def step(self) -> float:
        """The step size currently drawn."""
        return float(self.steps[self.index])

    def _render(self, step: float) -> None:
        self.figure.clear()
        self._draw(self.figure, step)

    def png(self) -> bytes:
        """The current figure as PNG bytes (light compression: encoding is most of a live redraw's time)."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi, pil_kwargs={"compress_level": 1})
        return buffer.getvalue()

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
    def widget(self):
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

    def to_jshtml(self, fps: float = 4) -> str:
        """A self-contained HTML animation with one frame per step and a slider, with no external links."""
        fps = positive_number(fps, "fps")
        fig = plt.figure(figsize=self.figure.get_size_inches(), dpi=self.dpi)
        try:
            animation = FuncAnimation(
                fig,
                lambda i: self._draw_into(fig, float(self.steps[i])),
                frames=len(self.steps),
                init_func=lambda: self._draw_into(fig, float(self.steps[0])),
                repeat=False,
            )
            html = animation.to_jshtml(fps=fps, default_mode="once")
        finally:
            plt.close(fig)
        return _CDN_LINK.sub("", html)

    def _draw_into(self, fig: Figure, step: float) -> list:
        fig.clear()
        self._draw(fig, step)
        return []

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.to_jshtml()
        bundle.setdefault("text/plain", f"StepExplorer({self.label}, {len(self.steps)} steps)")
        return bundle


def step_explorer(
    draw: Callable[[Figure, float], None],
    steps: Sequence[float] | np.ndarray,
    *,
    initial: float | None = None,
    label: str = "δ",
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
        The slider's label.
    figsize, dpi
        Figure size in inches (each in ``(0, 100]``) and resolution of the frames (an integer from 20 to 1000).

    Returns
    -------
    StepExplorer
        Display it as the last expression of a cell.

    Introduced in chapter 4.
    """
    if not callable(draw):
        raise TypeError(f"draw must be a callable draw(fig, step), got {type(draw).__name__}")
    grid = real_array(steps, "steps", finite=False)
    if grid.ndim != 1 or grid.size < 2 or grid.size > MAX_POSITIONS:
        raise ValueError(
            f"steps must be a 1-D sequence of 2 to {MAX_POSITIONS} step sizes, got shape {grid.shape}"
        )
    with np.errstate(all="ignore"):
        increasing = np.all(np.isfinite(grid)) and np.all(np.diff(grid) > 0)
    if not increasing:
        raise ValueError("steps must be finite and strictly increasing")
    dpi = integer_at_least(dpi, "dpi", 20, 1000)
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    if isinstance(figsize, (str, bytes)) or not hasattr(figsize, "__len__") or len(figsize) != 2:
        raise TypeError(f"figsize must be a pair (width, height) of positive numbers in inches, got {figsize!r}")
    size = (real_number(figsize[0], "figsize[0]", above=0.0, at_most=100.0),
            real_number(figsize[1], "figsize[1]", above=0.0, at_most=100.0))
    if initial is None:
        index = 0
    else:
        start = real_number(initial, "initial")
        with np.errstate(all="ignore"):
            index = int(np.argmin(np.abs(grid - start)))
    return StepExplorer(draw, grid, index, label, size, dpi)
