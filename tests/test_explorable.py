"""The step-size explorable: one frame per step on the static site, a live slider in Jupyter, clear errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lecturelib.explorable import step_explorer

STEPS = np.linspace(0.1, 0.9, 5)


def draw_iterates(fig, step):
    """Gradient descent on x^2/2 from x0 = 1: the iterates (1 - step)^k."""
    ax = fig.subplots()
    ax.plot((1 - step) ** np.arange(10), "o-")
    ax.set_title(f"step {step:.2f}")


def test_static_animation_has_one_distinct_frame_per_step_and_no_external_link():
    html = step_explorer(draw_iterates, STEPS).to_jshtml()
    frames = re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]+)"', html)
    assert len(frames) == len(STEPS)
    assert len(set(frames)) == len(STEPS), "different steps must give different frames"
    assert not re.search(r"(href|src)=\"(https?:)?//", html), "the animation must not load anything from the web"


def test_live_slider_redraws_the_figure_at_the_nearest_step():
    explorer = step_explorer(draw_iterates, STEPS, initial=0.3)
    widget = explorer.widget
    slider, image = widget.children
    assert explorer.step == pytest.approx(0.3)
    first = image.value
    slider.value = float(STEPS[-1])
    assert explorer.step == pytest.approx(STEPS[-1])
    assert image.value != first
    explorer.set_step(0.52)  # nearest position is 0.5
    assert explorer.step == pytest.approx(0.5)
    assert explorer.last_redraw_seconds > 0


def test_display_offers_the_live_widget_and_the_static_fallback():
    bundle = step_explorer(draw_iterates, STEPS)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "_anim_slider" in bundle["text/html"]
    # The printed edition (LaTeX) takes the figure at the current step.
    assert bundle["image/png"].startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("steps", "kwargs", "error", "words"),
    [
        ([0.1], {}, ValueError, "steps"),
        ([0.2, 0.1], {}, ValueError, "increasing"),
        ([0.1, np.nan], {}, ValueError, "finite"),
        ([[0.1, 0.2]], {}, ValueError, "steps"),
        ([0.1, 0.2], {"dpi": 5}, ValueError, "dpi"),
    ],
)
def test_bad_arguments_are_named(steps, kwargs, error, words):
    with pytest.raises(error, match=words):
        step_explorer(draw_iterates, steps, **kwargs)


def test_draw_must_be_callable():
    with pytest.raises(TypeError, match="draw"):
        step_explorer("not a function", STEPS)
