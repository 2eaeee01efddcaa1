"""Small fixes that keep every page of the static site offline and free of script errors.

- Jupyter Book 1 always loads sphinx-thebe, which declares its configuration script twice on every page (a
  ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``) and points at a CDN. The course has no
  live-kernel buttons (the site works offline), so thebe's scripts and stylesheet are dropped from every page.
- pydata-sphinx-theme logs "Got invalid theme mode" on every page when no default colour mode is configured.
- Figures in dark mode: ``book/_assets/figures/course-figures.css`` shows the notebooks' figures (transparent, drawn
  by ``lecturelib.plots.use_course_style``) inverted with their hues kept, instead of dimmed on a white box.
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


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _set_default_mode)
    app.connect("config-inited", _figure_css)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
