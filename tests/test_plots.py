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
