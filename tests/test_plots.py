"""Tests of lecturelib.plots: the geometry of the cobweb diagram."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lecturelib import cobweb, cobweb_path, run


def logistic(z):
    return 3.3 * z * (1 - z)


def test_cobweb_path_alternates_graph_and_diagonal():
    path = cobweb_path(logistic, 0.2, 12)
    assert path.shape == (25, 2)
    diagonal, on_graph = path[0::2], path[1::2]
    np.testing.assert_array_equal(diagonal[:, 0], diagonal[:, 1])  # (x_k, x_k)
    np.testing.assert_allclose(on_graph[:, 1], logistic(on_graph[:, 0]))  # (x_k, u(x_k))
    segments = np.diff(path, axis=0)
    assert np.all(segments[0::2, 0] == 0)  # vertical: diagonal -> graph
    assert np.all(segments[1::2, 1] == 0)  # horizontal: graph -> diagonal
    # The diagonal corners are the iterates of the map, the same as gradient descent computes them:
    # u(x) = x - step * f'(x) with f' = x - 3.3 x (1 - x) and step 1.
    iterates = run(lambda z: z - logistic(z), 0.2, 1.0, 12)
    np.testing.assert_allclose(diagonal[:, 0], iterates, rtol=1e-12)


def test_cobweb_path_stops_at_divergence_and_at_zero_steps():
    path = cobweb_path(lambda z: 3 * z, 1.0, 50, escape=100.0)
    np.testing.assert_array_equal(path[-1], [81.0, 81.0])  # 243 > 100 is not drawn
    assert cobweb_path(logistic, 0.3, 0).shape == (1, 2)
    with np.errstate(all="raise"):
        path = cobweb_path(lambda z: z * z, 10.0, 20)  # overflows to inf: stops, no warning raised
    assert np.all(np.isfinite(path))


def test_cobweb_draws_graph_diagonal_and_the_same_path():
    fig, ax = plt.subplots()
    path = cobweb(ax, logistic, 0.2, 10, xlim=(0, 1))
    lines = ax.get_lines()
    graph, diagonal, web = lines[0], lines[1], lines[2]
    np.testing.assert_allclose(graph.get_ydata(), logistic(graph.get_xdata()))
    np.testing.assert_array_equal(diagonal.get_xdata(), diagonal.get_ydata())
    np.testing.assert_array_equal(np.column_stack([web.get_xdata(), web.get_ydata()]), path)
    assert ax.get_xlim() == (0, 1) and ax.get_ylim() == (0, 1)
    plt.close(fig)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((3.0, 0.1, 5), TypeError, "update"),
        ((logistic, float("nan"), 5), ValueError, "x0"),
        ((logistic, 0.1, -1), ValueError, "n"),
        ((logistic, 0.1, 2.5), TypeError, "n"),  # a float count is the wrong type (lecturelib._checks)
    ],
)
def test_cobweb_path_rejects_bad_input(args, error, name):
    with pytest.raises(error, match=name):
        cobweb_path(*args)


def test_cobweb_rejects_empty_interval():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="xlim"):
        cobweb(ax, logistic, 0.2, 3, xlim=(1, 0))
    plt.close(fig)


def test_course_style_fonts_column_width_and_sharp_png():
    import base64
    import io

    import matplotlib as mpl
    from PIL import Image

    from lecturelib.plots import (
        COLUMN_WIDTH,
        MIN_FONT_SIZE,
        PALETTE,
        _png_for_the_column,
        use_course_style,
    )

    with mpl.rc_context():
        use_course_style()
        keys = [
            key for key in mpl.rcParams if key == "font.size" or key.endswith(("fontsize", "labelsize", "titlesize"))
        ]
        sizes = [mpl.rcParams[key] for key in keys]
        points = [mpl.font_manager.FontProperties(size=s).get_size_in_points() for s in sizes]
        assert min(points) >= MIN_FONT_SIZE  # no relative size ("small") below the stated smallest
        assert [mpl.colors.to_hex(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]] == list(PALETTE)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label="a line")
        ax.set(xlabel="x", ylabel="y", title="a title")
        ax.legend()
        data, meta = _png_for_the_column(fig)
        png = Image.open(io.BytesIO(base64.b64decode(data)))
        plt.close(fig)
    assert png.mode == "RGBA" and png.getpixel((0, 0))[3] == 0  # transparent background
    assert png.info["dpi"][0] == pytest.approx(200, abs=0.01)  # twice the 100 px per inch of the layout
    assert meta == {"width": png.size[0] // 2}  # declared at its drawn size; no height, so it scales without distortion
    assert 0.9 * COLUMN_WIDTH * 100 <= meta["width"] <= COLUMN_WIDTH * 100 + 1  # a default figure fills the column


# The phone layout: panels stacked in one column drawn for a phone's width, carried inside the figure's PNG.


def _two_panels(sharey: bool = True):
    fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.4), sharey=sharey)
    for ax, step in zip(axes, (0.5, 1.5), strict=True):
        ax.plot((1 - step) ** np.arange(12), "o-", label="iterates")
        ax.set(title=f"δ = {step}", xlabel="step k")
    axes[0].set_ylabel("$x_k$")
    axes[0].legend()
    fig.tight_layout()
    return fig, axes


def _png(fig) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_phone_layout_stacks_panels_in_reading_order_and_restores_the_figure_bit_for_bit():
    from lecturelib.plots import PHONE_WIDTH, stack_for_phone

    fig, (left, right) = _two_panels()
    before = _png(fig)
    positions = [ax.get_position().bounds for ax in (left, right)]
    restore = stack_for_phone(fig)
    assert restore is not None
    assert fig.get_size_inches()[0] == pytest.approx(PHONE_WIDTH)
    fig.draw_without_rendering()
    top, bottom = left.get_position(), right.get_position()
    assert top.y0 > bottom.y1, "the left panel comes first, above the right one"
    assert top.x0 == pytest.approx(bottom.x0) and top.width == pytest.approx(bottom.width)
    box = fig.get_tightbbox()
    assert box.x0 >= -0.01 and box.x1 <= PHONE_WIDTH + 0.01, "every label inside the phone's width"
    # The right panel shared its y axis, so its tick labels were hidden; stacked, it shows them and the label.
    assert right.yaxis.get_tick_params()["labelleft"] and right.get_ylabel() == "$x_k$"
    restore()
    assert [ax.get_position().bounds for ax in (left, right)] == positions
    assert not right.yaxis.get_tick_params()["labelleft"] and right.get_ylabel() == ""
    assert _png(fig) == before
    plt.close(fig)


def test_one_column_figure_only_narrows_and_a_hand_placed_one_has_no_phone_layout():
    from lecturelib.plots import PHONE_WIDTH, stack_for_phone

    fig, (ax, bx) = plt.subplots(2, 1, figsize=(6.8, 6.0))
    restore = stack_for_phone(fig)
    assert restore is not None
    width, height = fig.get_size_inches()
    assert width == pytest.approx(PHONE_WIDTH) and height == pytest.approx(6.0 * np.sqrt(PHONE_WIDTH / 6.8))
    assert ax.get_position().y0 > bx.get_position().y1
    restore()
    assert tuple(fig.get_size_inches()) == (6.8, 6.0)
    plt.close(fig)
    fig = plt.figure()
    fig.add_axes((0.1, 0.1, 0.8, 0.8))
    assert stack_for_phone(fig) is None
    plt.close(fig)


def test_long_titles_and_wide_legends_are_fitted_to_the_phone_and_given_back():
    from lecturelib.plots import PHONE_WIDTH, stack_for_phone

    title = "a title far too long for a phone, around $w_0 = (1/4, 1/8)$ with words"
    fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.0))
    axes[0].set_title(title)
    for k in range(4):
        axes[1].plot([0, 1], [k, k + 1], label=f"line number {k}")
    axes[1].legend(ncols=4, loc="upper left", bbox_to_anchor=(1.02, 1))  # beside the axes, four columns
    before = _png(fig)
    restore = stack_for_phone(fig)
    assert restore is not None
    assert axes[0].get_title() == "a title far too long for a phone,\naround $w_0 = (1/4, 1/8)$ with words"
    box = fig.get_tightbbox()
    assert box.x0 >= -0.02 and box.x1 <= PHONE_WIDTH + 0.02
    legend = axes[1].get_legend().get_window_extent()
    assert legend.y1 < axes[1].bbox.y0, "the legend beside the axes went under them"
    restore()
    assert axes[0].get_title() == title and _png(fig) == before
    plt.close(fig)


def test_a_figure_whose_text_cannot_fit_a_phone_has_no_phone_layout():
    from lecturelib.plots import stack_for_phone

    for label in ("set_title", "set_xlabel"):
        fig, axes = plt.subplots(1, 2, figsize=(6.8, 3.0))
        getattr(axes[0], label)("$" + "+".join(f"x_{{{k}}}" for k in range(40)) + "$")  # one formula: no break
        before = _png(fig)
        assert stack_for_phone(fig) is None, label
        assert _png(fig) == before, "the figure is left as it was"
        plt.close(fig)


def test_phone_layouts_are_drawn_only_when_asked_for(monkeypatch):
    import base64

    import matplotlib as mpl

    from lecturelib.plots import PHONE_FIGURES_ENV, _png_for_the_column, phone_figures_wanted, split_phone_png

    with mpl.rc_context():
        fig, _ = _two_panels()
        for value, wanted in (("", False), ("0", False), ("1", True)):
            monkeypatch.setenv(PHONE_FIGURES_ENV, value)
            assert phone_figures_wanted() is wanted
            data, _ = _png_for_the_column(fig)
            assert (split_phone_png(base64.b64decode(data))[1] is not None) is wanted, value
        monkeypatch.delenv(PHONE_FIGURES_ENV)
        assert not phone_figures_wanted()
        monkeypatch.setenv(PHONE_FIGURES_ENV, "yes")
        with pytest.raises(ValueError, match=PHONE_FIGURES_ENV):
            phone_figures_wanted()
        plt.close(fig)


def test_the_phone_layout_travels_inside_the_png_and_comes_out_whole(monkeypatch):
    import base64
    import io

    import matplotlib as mpl
    from PIL import Image

    from lecturelib.plots import PHONE_WIDTH, _png_for_the_column, phone_png, split_phone_png, use_course_style

    monkeypatch.setenv("LECTURELIB_PHONE_FIGURES", "1")
    with mpl.rc_context():
        use_course_style()
        fig, _ = _two_panels()
        data, meta = _png_for_the_column(fig)
        plt.close(fig)
    carried = base64.b64decode(data)
    wide, phone = split_phone_png(carried)
    assert phone is not None
    shown = Image.open(io.BytesIO(carried))  # any PNG reader shows the wide figure
    assert shown.size == Image.open(io.BytesIO(wide)).size and shown.size[0] // 2 == meta["width"]
    narrow = Image.open(io.BytesIO(phone))
    assert narrow.info["dpi"][0] == pytest.approx(200, abs=0.01)
    assert narrow.size[0] <= 2 * (PHONE_WIDTH + 0.05) * 100 and narrow.size[1] > shown.size[1]
    assert split_phone_png(wide) == (wide, None)
    assert split_phone_png(phone_png(wide, phone)) == (wide, phone)
    assert phone_png(phone_png(wide, phone), phone) == phone_png(wide, phone), "one phone layout, not two"


@pytest.mark.parametrize("data", [b"", b"GIF89a", b"\x89PNG\r\n\x1a\n\x00\x00", "\x89PNG", None])
def test_split_phone_png_refuses_what_is_not_a_png(data):
    from lecturelib.plots import split_phone_png

    with pytest.raises(ValueError, match="data"):
        split_phone_png(data)
