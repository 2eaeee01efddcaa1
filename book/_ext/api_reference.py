"""The API reference appendix (``book/api/``): a summary table of what a package exports.

The module pages themselves are plain ``automodule`` directives (``sphinx.ext.autodoc`` with ``sphinx.ext.napoleon``
for the numpy-style docstrings; configured in ``_config.yml``). A package such as ``lecturelib`` re-exports names
that its submodules define, and each object is documented once, on its module's page; the directive

    .. lecturelib-exports:: lecturelib

writes the package's ``__all__`` as ``autosummary`` tables, one per module that defines the names, whose rows link to
those pages (an object is documented as ``<its __module__>.<name>``). A name added to ``__all__`` appears without
editing the page.

Two adjustments of napoleon's reading of the course's docstrings (``autodoc-process-docstring``):

- a docstring ends with the paragraph that names the chapter introducing the object ("Introduced in
  :ref:`ch-...`."), often after its Parameters/Returns/Raises sections, where napoleon would read it as one more
  returned value or exception: it is moved before the first section (``help()`` keeps reading it last);
- the docstring of a constant or property is prose, not napoleon's ``type: description`` form: a colon in its first
  line stays text instead of turning the words before it into a type.

and the fields of a ``NamedTuple`` are not listed a second time ("Alias for field number 0"): the class's Attributes
section describes them; a default value that is a function shows as its name. The stylesheet
``api_reference_static/api-reference.css`` lets long names and formulas of these pages wrap or scroll in their own
box on a phone.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


class LecturelibExports(SphinxDirective):
    """An autosummary table of a package's ``__all__``, each name linked to the page that documents it."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        package = importlib.import_module(self.arguments[0])
        self.env.note_dependency(inspect.getsourcefile(package))
        # One table per defining module, parsed in that module's context, so that a summary line's relative
        # reference (":func:`track_sharpness`") resolves as on the module's own page.
        homes: dict[str, list[str]] = {}
        for name in package.__all__:
            obj = getattr(package, name)
            module = obj.__name__ if inspect.ismodule(obj) else obj.__module__
            homes.setdefault(module, []).append(obj.__name__ if inspect.ismodule(obj) else name)
        lines = []
        for module, names in homes.items():
            lines += [f".. currentmodule:: {module}", "", f"From :mod:`{module}`:", "", ".. autosummary::", ""]
            lines += [f"   {name}" for name in names] + [""]
        lines += [".. currentmodule:: None", ""]
        container = nodes.container(classes=["lecturelib-exports"])
        nested_parse_with_titles(self.state, StringList(lines, source=self.get_source_info()[0]), container)
        return [container]


# The paragraph that says where the object comes into the course (see CONTRIBUTING.md, "Documenting a function").
COURSE_NOTE = re.compile(r"^(Introduced in|Used by|Used in|No set calls)\b")
SECTION_RULE = re.compile(r"^-{3,}$")


def move_course_note(app: Sphinx, what: str, name: str, obj, options, lines: list[str]) -> None:
    """Move a trailing unindented "Introduced in ..." paragraph before the first numpydoc section (before napoleon)."""
    sections = [i for i in range(len(lines) - 1) if lines[i].strip() and SECTION_RULE.match(lines[i + 1])]
    if not sections:
        return
    first = sections[0]
    i = first + 2
    while i < len(lines):
        if COURSE_NOTE.match(lines[i]) and (i == 0 or not lines[i - 1].strip()):
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            paragraph = lines[i:end]
            del lines[i:end]
            lines[first:first] = [*paragraph, ""]
            return
        i += 1


def keep_first_line_as_text(app: Sphinx, what: str, name: str, obj, options, lines: list[str]) -> None:
    """Undo napoleon's ``type: description`` split of a constant's or property's docstring (after napoleon)."""
    if what not in ("data", "attribute", "property") or len(lines) < 2:
        return
    last = lines[-1]
    if last.startswith(":type: ") and not lines[-2].strip():
        start = next(i for i, line in enumerate(lines) if line.strip())
        lines[start] = f"{last[len(':type: ') :]}: {lines[start]}"
        del lines[-2:]


FUNCTION_REPR = re.compile(r"<function (\w+)(?: at 0x[0-9a-f]+)?>")


def name_function_defaults(app: Sphinx, what, name, obj, options, signature, return_annotation):
    """A default that is a function shows as its name (``problem=figure2_problem``), not as ``<function ...>``, which
    is no Python: Sphinx could not parse the signature and printed it as one unbreakable line."""
    if signature and FUNCTION_REPR.search(signature):
        return FUNCTION_REPR.sub(r"\1", signature), return_annotation
    return None


def skip_namedtuple_fields(app: Sphinx, what: str, name: str, obj, skip: bool, options) -> bool | None:
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


STATIC = Path(__file__).parent / "api_reference_static"
STYLESHEET = "api-reference.css"


def _add_static_path(app: Sphinx, config) -> None:
    # Not a root _static: Jupyter Book 1 would inject its files into every page a second time.
    config.html_static_path = [*config.html_static_path, str(STATIC)]


# The theme's sidebar opens the list of an entry's sub-pages (the API reference's module pages) with a <summary> that
# holds only a chevron icon: axe-core's summary-name rule asks for a name that a screen reader can read.
_BARE_TOGGLE = '<summary><span class="toctree-toggle" role="presentation">'
_NAMED_TOGGLE = '<summary aria-label="Pages in this section"><span class="toctree-toggle" role="presentation">'


def _name_sidebar_toggles(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "names_toggles", False):
        return

    def generate_named(*args, **kwargs):
        return str(generate(*args, **kwargs)).replace(_BARE_TOGGLE, _NAMED_TOGGLE)

    generate_named.names_toggles = True
    context["generate_toctree_html"] = generate_named


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _add_static_path)
    app.add_css_file(STYLESHEET)
    app.setup_extension("sphinx.ext.autosummary")
    app.setup_extension("sphinx.ext.napoleon")
    app.add_directive("lecturelib-exports", LecturelibExports)
    # napoleon converts the docstrings at the default priority (500): one hook runs before it, one after.
    app.connect("autodoc-process-docstring", move_course_note, priority=400)
    app.connect("autodoc-process-docstring", keep_first_line_as_text, priority=600)
    app.connect("autodoc-skip-member", skip_namedtuple_fields)
    app.connect("autodoc-process-signature", name_function_defaults)
    # After the theme has put its toctree function into the page context (default priority 500).
    app.connect("html-page-context", _name_sidebar_toggles, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
