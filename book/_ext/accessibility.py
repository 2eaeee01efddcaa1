"""Accessibility fixes for every page of the site (WCAG 2.1 AA, checked by axe-core in tests/test_accessibility.py).

A local Sphinx extension (registered in ``_config.yml`` under ``sphinx.local_extensions``). It

- adds the course's stylesheet ``accessibility_static/course-a11y.css``: contrast of links on the tinted boxes of
  theorems and exercises, homework check results readable in both colour themes, the proof index in dark mode.
  The folder is not a root ``_static`` (Jupyter Book 1 injects every css/js under a root ``_static`` into every
  page, a second time). The step-size sliders carry their own markup and styles (``lecturelib/explorable.py``);
- rewrites the bibliography's markup: docutils gives each entry ``role="doc-biblioentry"``, a role that ARIA 1.3
  deprecates and that is not a ``listitem`` of the ``role="list"`` around it. Each entry becomes a list item.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "accessibility_static"
STYLESHEET = "course-a11y.css"

# docutils' HTML writer (visit_citation) opens every bibliography entry with exactly this attribute.
_BIBLIOENTRY = re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry"')


def _add_static_path(app: Sphinx, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def _fix_bibliography(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body")
    if body and "doc-biblioentry" in body:
        context["body"] = _BIBLIOENTRY.sub(r'\1 role="listitem"', body)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _add_static_path)
    app.add_css_file(STYLESHEET)
    app.connect("html-page-context", _fix_bibliography)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
