"""Accessibility fixes for every page of the site (WCAG 2.1 AA, checked by axe-core in tests/test_accessibility.py).

A local Sphinx extension (registered in ``_config.yml`` under ``sphinx.local_extensions``). It

- adds the course's stylesheet ``accessibility_static/course-a11y.css``: contrast of links on the tinted boxes of
  theorems and exercises, homework check results readable in both colour themes, the proof index in dark mode.
  The folder is not a root ``_static`` (Jupyter Book 1 injects every css/js under a root ``_static`` into every
  page, a second time). The step-size sliders carry their own markup and styles (``lecturelib/explorable.py``);
- rewrites the bibliography's markup: docutils gives each entry ``role="doc-biblioentry"``, a role that ARIA 1.3
  deprecates and that is not a ``listitem`` of the ``role="list"`` around it. Each entry becomes a list item;
- gives the reference list its own heading, "References" (a section of the page, in its table of contents), on the
  website; the PDF prints the list at the end of the book under the same name (``_config.yml``'s ``\bibname``);
- makes code blocks that scroll sideways focusable, so that a keyboard user can reach and scroll them (axe's
  scrollable-region-focusable): ``tabindex="0"`` in the markup (for readers without scripts), and
  ``accessibility_static/course-a11y.js``, which judges each block again when its size changes. The theme's own
  script judges blocks only when the page loads, when a block inside a collapsed solution has no size, and marks
  it unfocusable for good.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "accessibility_static"
STYLESHEET = "course-a11y.css"
SCRIPT = "course-a11y.js"

# docutils' HTML writer (visit_citation) opens every bibliography entry with exactly this attribute.
_BIBLIOENTRY = re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry"')


def _add_static_path(app: Sphinx, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def _fix_bibliography(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body")
    if body and "doc-biblioentry" in body:
        context["body"] = _BIBLIOENTRY.sub(r'\1 role="listitem"', body)


# Sphinx's highlighter opens every code block with exactly this markup.
_CODE_BLOCK = '<div class="highlight"><pre>'


def _focusable_code(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body")
    if body and _CODE_BLOCK in body:
        context["body"] = body.replace(_CODE_BLOCK, '<div class="highlight"><pre tabindex="0">')


def _references_heading(app: Sphinx, doctree) -> None:
    """Move each page's reference list into a section "References" at the end of the page (HTML builders only)."""
    if app.builder.format != "html":
        return
    from docutils import nodes
    from sphinxcontrib.bibtex.nodes import bibliography

    for found in list(doctree.findall(bibliography)):
        page = next(iter(doctree.findall(nodes.section)), None)
        if page is None:
            continue
        section = nodes.section("", ids=["references"], names=["references"])
        section += nodes.title("References", "References")
        found.parent.remove(found)
        section += found
        page += section


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _add_static_path)
    app.add_css_file(STYLESHEET)
    app.add_js_file(SCRIPT)
    app.connect("html-page-context", _fix_bibliography)
    # Before Sphinx's collectors (priority 500) record the page's sections for its table of contents.
    app.connect("doctree-read", _references_heading, priority=450)
    app.connect("html-page-context", _focusable_code)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
