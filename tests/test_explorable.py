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


def draw_with_outside_legend(fig, step):
    """Like chapter 5: a legend to the right of the axes and an x label, both outside the axes."""
    ax = fig.subplots()
    ax.plot([0, 1], [0, step], label=f"a line of slope {step:.2f} with a long legend entry")
    ax.set(xlabel="$w_1$", ylabel="$w_2$")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))


def _frames(page):
    import base64
    import io

    from PIL import Image

    found = re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]+)"', page)
    return [Image.open(io.BytesIO(base64.b64decode(f.replace("\\n", "")))) for f in found]


def test_frames_hold_what_is_drawn_outside_the_axes_and_are_drawn_at_twice_their_css_size():
    from matplotlib.figure import Figure

    from lecturelib.explorable import CSS_PX_PER_INCH, FRAME_DPI

    explorer = step_explorer(draw_with_outside_legend, STEPS, figsize=(4, 3))
    page = explorer.to_jshtml()
    frames = _frames(page)
    assert len({f.size for f in frames}) == 1, "every frame has the same size"
    width, height = frames[0].size
    for step in STEPS:  # what matplotlib draws for this step, legend and labels included, fits in the frame
        fig = Figure(figsize=(4, 3))
        draw_with_outside_legend(fig, step)
        drawn = fig.get_tightbbox()
        assert drawn.x1 > 4, "the test's legend does reach past the figure's edge"
        assert width >= drawn.width * FRAME_DPI and height >= drawn.height * FRAME_DPI
    css = re.search(r'<img id="_anim_img\w+" class="step-explorer-frame" width="(\d+)" height="(\d+)"', page)
    assert css, "the frame image has no CSS size"
    assert width >= 2 * int(css.group(1)) - 1 and FRAME_DPI == 2 * CSS_PX_PER_INCH
    assert frames[0].convert("RGB").getpixel((1, 1)) == (255, 255, 255), "the palette keeps white white"


def test_static_slider_is_labelled_announces_its_step_and_describes_each_frame():
    explorer = step_explorer(draw_iterates, STEPS, initial=0.5, alt=lambda s: f"Iterates (1 - {s:.1f})^k.")
    page = explorer.to_jshtml()
    anim = re.search(r'id="_anim_slider(\w+)"', page).group(1)
    assert f'<label for="_anim_slider{anim}">Step size δ</label>' in page
    slider = re.search(r"<input id=\"_anim_slider\w+\"[^>]*>", page).group(0)
    assert 'aria-valuetext="δ = 0.5"' in slider and 'value="2"' in slider and 'max="4"' in slider
    live = re.search(r"<output[^>]*>([^<]*)</output>", page)
    assert 'aria-live="polite"' in live.group(0) and live.group(1) == "δ = 0.5"
    assert 'alt="Iterates (1 - 0.5)^k."' in page
    for step in STEPS:  # the script switches to each frame's own alt text and value
        assert f"Iterates (1 - {step:.1f})^k." in page and f"δ = {step:.4g}" in page
    assert "var id = " in page and "initial = 2" in page


def test_alt_text_string_is_completed_with_the_step_and_bad_alt_is_named():
    explorer = step_explorer(draw_iterates, STEPS, label="ε", alt="Iterates of gradient descent.")
    assert explorer.alt_text(0.3) == "Iterates of gradient descent. Shown for ε = 0.3."
    with pytest.raises(TypeError, match="alt"):
        step_explorer(draw_iterates, STEPS, alt=3)


def test_live_figure_is_cropped_to_what_is_drawn():
    import io

    from PIL import Image

    explorer = step_explorer(draw_with_outside_legend, STEPS, figsize=(4, 3))
    width, _ = Image.open(io.BytesIO(explorer.png())).size
    assert width > 4 * explorer.dpi, "the legend right of the axes is in the live figure"


def draw_unclipped(fig, step):
    """A line drawn past its axes on purpose: what a slider's frame must never show."""
    ax = fig.subplots()
    ax.plot((1 + step) ** np.arange(40), clip_on=False)
    ax.set_ylim(0, 5)


def draw_laid_out(fig, step):
    """Long tick labels and a legend outside the axes, in a figure whose tight layout moves the axes when drawn."""
    fig.set_layout_engine("tight")
    ax_left, ax_right = fig.subplots(1, 2)
    ax_left.plot(np.arange(10) * 1e6 * step, label="iterates")
    ax_left.set(ylabel="a long label of the vertical axis", xlabel="step k")
    ax_left.legend(loc="upper left", bbox_to_anchor=(0, -0.25))
    ax_right.plot(np.arange(10), -np.arange(10) * step)
    ax_right.set(ylim=(-4, 4), xlabel="step k", ylabel="value")
    fig.suptitle(f"step {step:.3f}")


def test_every_frame_is_checked_whole_and_clipped():
    import base64
    import io

    from PIL import Image

    from lecturelib.explorable import check_frame

    explorer = step_explorer(draw_laid_out, STEPS)
    html = explorer.to_jshtml()  # every frame is checked as it is drawn; none fails
    frames = re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]+)"', html)
    assert len(frames) == len(STEPS)
    # What is saved is what was checked: every frame keeps the crop's blank margin on all four sides (a frame laid out
    # again while it is saved moved its legend below the axes out of the picture).
    for frame in frames:
        pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(frame))).convert("RGB"))
        margin = int(0.08 * 192)
        for side in (pixels[:margin], pixels[-margin:], pixels[:, :margin], pixels[:, -margin:]):
            assert (side == 255).all(), "something is drawn in the frame's margin: cut at the edge"
    crop = explorer.crop_box()
    width, height = explorer._size()
    # The crop holds the laid-out frames: the axes' labels at the left edge are inside it (and inside the figure).
    assert crop.x0 < 0.5 and crop.x1 <= width + 0.2 and crop.y0 >= -0.2 and crop.y1 <= height + 0.2
    # A crop that cuts a frame is found: the crop without its left half inch.
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    fig = Figure(figsize=explorer._size())
    draw_laid_out(fig, float(STEPS[-1]))
    check_frame(fig, crop)
    with pytest.raises(ValueError, match="left"):
        check_frame(fig, Bbox.from_extents(crop.x0 + 0.5, crop.y0, crop.x1, crop.y1), "cut")
    # Data drawn past its axes is found, and the step is named.
    with pytest.raises(ValueError, match=r"δ = 0\.1: .*not clipped"):
        step_explorer(draw_unclipped, STEPS).to_jshtml()


def test_print_shows_the_first_the_initial_and_the_last_frame_stacked():
    import io

    from PIL import Image

    explorer = step_explorer(draw_laid_out, STEPS, initial=0.5)
    assert explorer.print_steps() == [0.1, 0.5, 0.9]
    sheet = Image.open(io.BytesIO(explorer._print_png()))
    one = explorer.crop_box()
    assert sheet.width == pytest.approx(one.width * 150, abs=2)
    assert sheet.height > 3 * one.height * 150  # three frames and the gaps between them
    assert step_explorer(draw_laid_out, STEPS).print_steps() == [0.1, 0.9]  # the initial step is the first


def test_frames_of_a_transparent_figure_stay_transparent():
    """In the course style (transparent figures) the website's frames are transparent too, as static figures are, so
    dark mode shows them on the page's own colour; matplotlib's animation writer alone would make them white."""
    import base64
    import io

    import matplotlib as mpl
    from PIL import Image

    with mpl.rc_context({"figure.facecolor": "none", "savefig.transparent": True}):
        html = step_explorer(draw_iterates, STEPS).to_jshtml()
    frame = re.search(r'frames\[0\] = "data:image/png;base64,([^"]+)"', html)[1]
    alpha = Image.open(io.BytesIO(base64.b64decode(frame))).convert("RGBA").getchannel("A")
    assert alpha.getextrema()[0] == 0, "the frame's background is opaque"
    opaque = step_explorer(draw_iterates, STEPS).to_jshtml()  # matplotlib's default: a white figure stays white
    frame = re.search(r'frames\[0\] = "data:image/png;base64,([^"]+)"', opaque)[1]
    assert Image.open(io.BytesIO(base64.b64decode(frame))).convert("RGBA").getchannel("A").getextrema() == (255, 255)


def draw_side_by_side(fig, step):
    """Like chapter 4's slider: two panels side by side, placed by hand (no layout engine)."""
    fig.set_layout_engine("none")
    left, right = fig.subplots(1, 2, gridspec_kw=dict(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25))
    left.plot((1 - step) ** np.arange(10), "o-")
    left.set(title=f"δ = {step:.2f}", xlabel="step k", ylabel="$x_k$")
    right.semilogy(np.abs(1 - step) ** np.arange(10) + 1e-9)
    right.set(title="distance", xlabel="step k")


def _phone(page):
    import base64
    import io
    import json

    from PIL import Image

    found = re.search(r"var phone = (\[.*?\]|null), size = (\[.*?\]), phoneSize = (\[.*?\]|null);", page)
    assert found, "the page's script declares no phone frames"
    phone, size, phone_size = (json.loads(group) for group in found.groups())
    frames = [Image.open(io.BytesIO(base64.b64decode(f.split(",", 1)[1]))) for f in phone or []]
    return frames, size, phone_size


def test_a_phone_gets_its_own_frames_stacked_for_its_width(monkeypatch):
    from lecturelib.explorable import FRAME_DPI
    from lecturelib.plots import PHONE_SCREEN, PHONE_WIDTH

    monkeypatch.setenv("LECTURELIB_PHONE_FIGURES", "1")
    page = step_explorer(draw_side_by_side, STEPS, figsize=(6.8, 3.4)).to_jshtml()
    frames, size, phone_size = _phone(page)
    assert len(frames) == len(STEPS) and len({f.size for f in frames}) == 1
    width, height = frames[0].size
    assert width <= (PHONE_WIDTH + 0.2) * FRAME_DPI, "a phone frame fits the phone's text column"
    assert height > width, "the two panels are stacked"
    assert abs(phone_size[0] - width / 2) <= 1 and abs(phone_size[1] - height / 2) <= 1, "shown at half its pixels"
    assert size[0] > phone_size[0]
    assert len({f.tobytes() for f in frames}) == len(STEPS), "each step its own phone frame"
    assert f'"(max-width: {PHONE_SCREEN}px)"' in page, "the phone frames are swapped in on narrow screens"


def test_an_explorable_whose_text_cannot_fit_a_phone_keeps_one_set_of_frames(monkeypatch):
    def draw_long_title(fig, step):
        ax = fig.subplots()
        ax.plot([0, 1], [0, step])
        ax.set_title("$" + "+".join(f"x_{{{k}}}" for k in range(40)) + "$")  # one formula: it cannot be broken

    monkeypatch.setenv("LECTURELIB_PHONE_FIGURES", "1")
    page = step_explorer(draw_long_title, STEPS, figsize=(6.8, 3.0)).to_jshtml()
    frames, size, phone_size = _phone(page)
    assert frames == [] and phone_size is None and size[0] > 0
    monkeypatch.setenv("LECTURELIB_PHONE_FIGURES", "0")  # not asked for: one set of frames, none for a phone
    frames, _, phone_size = _phone(step_explorer(draw_side_by_side, STEPS, figsize=(6.8, 3.4)).to_jshtml())
    assert frames == [] and phone_size is None
