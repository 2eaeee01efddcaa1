"""Student and instructor editions of the website, and a notebook download on every homework page.

A local Sphinx extension (registered in ``_config.yml`` under ``sphinx.local_extensions``).

Edition. ``_config.yml`` configures the student edition (``hide_solutions: true``, ``html_copy_source: false``).
With the environment variable ``COURSE_EDITION=instructor`` this extension switches both back (solutions shown, in
the collapsed dropdowns their ``:class: dropdown`` asks for; page sources copied), so the instructor edition is one
command::

    COURSE_EDITION=instructor jupyter-book build . -W -n --keep-going --path-output _build/instructor

In the student edition it also:

- removes gated solutions entirely. sphinx-exercise's ``hide_solutions`` drops a ``{solution-start}`` directive but
  leaves the Markdown and code cells up to ``{solution-end}`` on the page; here everything from the start to the end
  marker is cut from the page before the search index, the images or the downloads see it;
- removes the theme's download button (it links to the page sources, which are not copied).

What a solution is comes from ``lecturelib.homework.notebook`` (the one definition the export and the grader use):
the ``{solution}`` directive, and everything from ``{solution-start}`` to ``{solution-end}``, which holds the
grading cells (points, hidden cases) too.

Numbering. A homework exercise is titled "1.1 · A Hessian by hand" in its source (the number the grader's rubric
uses). On the site and in print it reads "Exercise HW1.1 (A Hessian by hand)", as a lecture's reads "Exercise 2.1
(title)", with a number that cannot be taken for a chapter's (``NumberHomeworkExercises``); its solution follows.

Downloads. When the builder starts, ``lecturelib.homework.export`` writes the notebooks of every set in
``book/homework`` next to the build (``<build>/homework_notebooks/``), and each homework page gets a line near its
title offering its student notebook (and, in the instructor edition, its instructor notebook) as a Sphinx download,
served from the site's ``_downloads``. The same line offers the ``lecturelib`` wheel that runs the notebook without
the course repository, built then too (``lecturelib_wheel.build_wheel``, pip's ``pip wheel --no-deps``) into
``<build>/homework_notebooks/wheel/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import is_exercise_node, solution_end_node, solution_node

from lecturelib.homework.notebook import GATED_SOLUTION

EDITIONS = ("student", "instructor")
HOMEWORK_FOLDER = "book/homework"


def edition_of(app: Sphinx) -> str:
    return "student" if app.config.hide_solutions else "instructor"


class hidden_solution_start(nodes.Element):
    """Marks where a gated solution began on a page of the student edition; removed with the solution."""


class HidingSolutionStart(SolutionStartDirective):
    """``{solution-start}`` that, when solutions are hidden, leaves a marker so the gated content can be cut."""

    def run(self):
        result = super().run()
        if self.env.app.config.hide_solutions:
            return [hidden_solution_start()]
        return result


# A homework exercise's own number, at the start of its title: "1.1 · ".
_HOMEWORK_NUMBER = re.compile(r"^(\d+\.\d+) · ")


class NumberHomeworkExercises(SphinxPostTransform):
    """ "Exercise (1.1 · Title)" becomes "Exercise HW1.1 (Title)", in an exercise's title and in its solution's.

    Runs after sphinx-exercise has resolved the titles (its post-transforms have priorities 20 and 21).
    """

    default_priority = 25

    def run(self, **kwargs) -> None:
        for node in self.document.findall(lambda n: is_exercise_node(n) or isinstance(n, solution_node)):
            title = node.next_node(nodes.title)
            if title is None:
                continue
            texts = list(title.findall(nodes.Text))
            numbered = next((text for text in texts if _HOMEWORK_NUMBER.match(str(text))), None)
            word = next((text for text in texts if str(text).rstrip().endswith("Exercise")), None)
            if numbered is None or word is None:
                continue
            number = _HOMEWORK_NUMBER.match(str(numbered))[1]
            numbered.parent.replace(numbered, nodes.Text(_HOMEWORK_NUMBER.sub("", str(numbered), count=1)))
            word.parent.replace(word, nodes.Text(f"{str(word).rstrip()} HW{number}"))


def choose_edition(app: Sphinx, config) -> None:
    edition = os.environ.get("COURSE_EDITION", "student")
    if edition not in EDITIONS:
        raise ExtensionError(f"COURSE_EDITION must be one of {EDITIONS}, got {edition!r}")
    if edition == "instructor":
        config.hide_solutions = False
        config.html_copy_source = True
    else:
        config.hide_solutions = True
        config.html_copy_source = False
        config.html_theme_options = {**config.html_theme_options, "use_download_button": False}


def notebooks_folder(app: Sphinx) -> Path:
    return Path(app.doctreedir).parent / "homework_notebooks"


def export_notebooks(app: Sphinx) -> None:
    from lecturelib.homework.export import export_notebooks

    source = Path(app.srcdir) / HOMEWORK_FOLDER
    folder = notebooks_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    editions = ("student",) if edition_of(app) == "student" else ("student", "instructor")
    export_notebooks(folder, source=source, editions=editions, overwrite=True)
    build_student_wheel(app)


def wheel_folder(app: Sphinx) -> Path:
    return notebooks_folder(app) / "wheel"


def build_student_wheel(app: Sphinx) -> None:
    """Build the lecturelib wheel afresh for this build (the one ``tests/test_wheel.py`` installs and runs)."""
    from lecturelib_wheel import build_wheel  # beside this file, on the path Jupyter Book gives local extensions

    folder = wheel_folder(app)
    for old in folder.glob("*.whl"):
        old.unlink()
    try:
        build_wheel(Path(app.srcdir), folder)
    except RuntimeError as error:
        raise ExtensionError(f"could not build the lecturelib wheel for the homework pages: {error}") from error


def cut_hidden_solutions(doctree: nodes.document) -> None:
    for marker in list(doctree.findall(hidden_solution_start)):
        parent = marker.parent
        start = parent.index(marker)
        end = next((i for i in range(start + 1, len(parent)) if isinstance(parent[i], solution_end_node)), None)
        if end is None:
            raise ExtensionError(
                f"{doctree['source']}: a {{solution-start}} has no {{solution-end}} in the same section, so its "
                "solution cannot be hidden; keep headings out of solutions"
            )
        for child in list(parent.children[start : end + 1]):
            parent.remove(child)


def add_download_line(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    stem = Path(docname).name
    editions = ("student",) if edition_of(app) == "student" else ("student", "instructor")
    links = []
    for edition in editions:
        notebook = notebooks_folder(app) / edition / f"{stem}.ipynb"
        if not notebook.is_file():
            return
        target = "/" + Path(os.path.relpath(notebook, app.srcdir)).as_posix()
        text = f"{edition} notebook ({stem}.ipynb)"
        reference = addnodes.download_reference(
            "", "", refdoc=docname, reftarget=target, refexplicit=True, refdomain="", reftype="download"
        )
        reference += nodes.literal(text, text)
        links.append(reference)
    wheels = sorted(wheel_folder(app).glob("lecturelib-*.whl"))
    if len(wheels) != 1:
        raise ExtensionError(f"expected one lecturelib wheel in {wheel_folder(app)}, found {len(wheels)}")
    wheel = "/" + Path(os.path.relpath(wheels[0], app.srcdir)).as_posix()
    library = addnodes.download_reference(
        "", "", refdoc=docname, reftarget=wheel, refexplicit=True, refdomain="", reftype="download"
    )
    library += nodes.literal(wheels[0].name, wheels[0].name)
    paragraph = nodes.paragraph(classes=["homework-downloads"])  # differs between the editions
    paragraph += nodes.strong("Download:", "Download:")
    for number, reference in enumerate(links):
        paragraph += nodes.Text(" " if number == 0 else " · ")
        paragraph += reference
    paragraph += nodes.Text(", and the course library ")
    paragraph += library
    paragraph += nodes.Text(
        " (install it once with pip install and the file's name). Open the notebook in Jupyter "
        "and run every cell: each exercise's check tells you when your answer is right."
    )
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next((i for i, child in enumerate(section.children) if isinstance(child, nodes.title)), -1)
    section.insert(title + 1, paragraph)


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    if edition_of(app) == "student":
        cut_hidden_solutions(doctree)
    docname = app.env.docname
    if docname.startswith(HOMEWORK_FOLDER + "/"):
        add_download_line(app, doctree, docname)


def setup(app: Sphinx) -> dict:
    app.add_node(hidden_solution_start, html=(lambda self, node: None, lambda self, node: None))
    app.add_directive(GATED_SOLUTION[0], HidingSolutionStart, override=True)
    app.add_post_transform(NumberHomeworkExercises)
    app.connect("config-inited", choose_edition)
    app.connect("builder-inited", export_notebooks)
    # Before Sphinx's own collectors (priority 500) record images and downloads of the page.
    app.connect("doctree-read", on_doctree_read, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
