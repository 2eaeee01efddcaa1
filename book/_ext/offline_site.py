"""Small fixes that keep every page of the static site offline and free of script errors.

- Jupyter Book 1 always loads sphinx-thebe, which declares its configuration script twice on every page (a
  ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``) and points at a CDN. The course has no
  live-kernel buttons (the site works offline), so thebe's scripts and stylesheet are dropped from every page.
- pydata-sphinx-theme logs "Got invalid theme mode" on every page when no default colour mode is configured.
- Figures in dark mode: ``book/_assets/figures/course-figures.css`` shows the notebooks' figures (transparent, drawn
  by ``lecturelib.plots.use_course_style``) inverted with their hues kept, instead of dimmed on a white box.
- A favicon (browsers ask for one on every page; without it each page logs a 404): drawn by matplotlib when the
  build starts, in the build folder (never a file in the repository): gradient descent's zigzag across a valley, in the
  course palette's blue and orange.
- One search box: at 1280 px the theme shows both the sidebar's search field and the header's search button (the
  theme hides the button only from 992 px up, and the article header is laid out narrower); the button stays for
  narrow screens, where the sidebar is folded away.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

_FIGURE_ASSETS = Path(__file__).resolve().parents[1] / "_assets" / "figures"


def _set_default_mode(app: Sphinx, config) -> None:
    config.html_context = {**(config.html_context or {}), "default_mode": "auto"}


def _drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    def keep(asset) -> bool:
        name = str(getattr(asset, "filename", asset) or "")
        body = str(getattr(asset, "attributes", {}).get("body", ""))
        return "thebe" not in name and "THEBE_JS_URL" not in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if keep(asset)]


def _figure_css(app: Sphinx, config) -> None:
    config.html_static_path = [*config.html_static_path, str(_FIGURE_ASSETS)]
    app.add_css_file("course-figures.css")


FAVICON = "favicon.png"


def draw_favicon(path: Path) -> Path:
    """A 64 px icon: a parabola (the loss) and a zigzag of iterates descending into it."""
    import numpy as np
    from matplotlib.figure import Figure

    from lecturelib.plots import PALETTE

    fig = Figure(figsize=(1, 1), dpi=64)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    x = np.linspace(-1.05, 1.05, 100)
    ax.plot(x, x**2, color=PALETTE[0], lw=5, solid_capstyle="round")
    iterates = 0.95 * (-0.7) ** np.arange(5)
    ax.plot(iterates, iterates**2 + 0.04, "o-", color=PALETTE[1], lw=2.5, ms=5)
    ax.set(xlim=(-1.15, 1.15), ylim=(-0.1, 1.2))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, transparent=True)
    return path


def _favicon(app: Sphinx, config) -> None:
    if config.html_favicon:
        return
    # Beside the build's doctrees (``<build>/.doctrees``), outside the sources.
    config.html_favicon = str(draw_favicon(Path(app.doctreedir).parent / "favicon" / FAVICON))


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _set_default_mode)
    app.connect("config-inited", _favicon)
    app.connect("config-inited", _figure_css)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
