"""The PDF edition: the lecture notes and the homework statements as one book, through Sphinx's LaTeX builder.

A local Sphinx extension (registered in ``_config.yml`` under ``sphinx.local_extensions``); it changes nothing in
the HTML builds. The README's "PDF edition" paragraph gives the commands::

    # student edition: _build/latex/step-size-matters.pdf
    jupyter-book build . --builder pdflatex
    # instructor edition: _build/instructor/_build/latex/step-size-matters-instructor.pdf
    COURSE_EDITION=instructor jupyter-book build . --builder pdflatex --path-output _build/instructor

For the LaTeX builder only it

- leaves out the source of every code cell the site hides (``hide-input``, ``hide-cell``): on the site a reader
  can unfold it, on paper it would be pages of plotting code. ``remove-input`` and ``remove-cell`` cells are left
  out by myst-nb already;
- gives every theorem its number (see ``NameChapterSections``);
- numbers the chapters as the site does: the landing page is unnumbered front matter, the lectures are
  chapters numbered from 1 and the homework sets are appendices lettered from A (so a homework figure is "Fig. A.1",
  never a number of the last lecture);
- names the edition: the instructor PDF has its own file name and says "instructor edition" on its title page, so
  the copy with solutions is never handed out by mistake. Which edition it is comes from ``homework_editions``
  (``COURSE_EDITION``), which also removes the solutions from the student edition;
- prints the landing page as a preface before the contents: its sections become run-in headings (rubrics) of one
  unnumbered chapter instead of five chapters, and the contents follow it (``_config.yml`` leaves the contents out
  of the template's opening), so the first lecture starts within the first pages;
- leaves out what is made for the screen: the homework pages' "Download:" line and the "Not answered yet" line a
  homework check prints under an exercise that has no answer (the slider figures print as a few stacked frames,
  ``lecturelib.explorable``);
- titles proofs as the site does: sphinx-proof's LaTeX sets a proof as an admonition with an empty title bar and
  "Proof." as body text; here the proof is plain text that opens with "Proof." in bold, as on the site;
- breaks boxes across pages cleanly (``coursebreaks.sty`` beside this file, copied into the LaTeX folder and loaded
  after Sphinx's own packages): no piece of a code block or solution box runs over the running foot, and no title
  row or heading is left alone at the foot of a page;
- keeps the running foot on one line (``coursefoot.sty``, loaded the same way): a chapter's or section's mark that
  would run into the page number is its title's part before the colon ("Chapter 10. Choosing the step size"), or
  is cut after a word.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

from lecturelib.homework.result import CheckResult

LECTURE_PREFIX = "book/0"
HOMEWORK_PREFIX = "book/homework/"
TARGET = "step-size-matters"
# LaTeX packages beside this file, copied into the LaTeX folder and loaded after Sphinx's own.
PACKAGES = tuple(Path(__file__).with_name(name) for name in ("coursebreaks.sty", "coursefoot.sty"))


class DropHiddenInputs(SphinxPostTransform):
    """Remove the source of the code cells that the site shows folded (myst-nb's ``hide_mode``)."""

    default_priority = 199
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for cell in list(self.document.findall(nodes.container)):
            if cell.get("nb_element") != "cell_code" or cell.get("hide_mode") not in ("input", "input+output", "all"):
                continue
            for child in list(cell.children):
                if child.get("nb_element") == "cell_code_source":
                    cell.remove(child)
            if not cell.children:
                cell.parent.remove(cell)


class NameChapterSections(SphinxPostTransform):
    """Give each chapter's section its title as a name, so that sphinx-proof numbers its theorems in LaTeX.

    sphinx-proof finds the chapter of a theorem (for its number and its LaTeX label) by walking up to the section
    whose names hold the chapter title. A chapter with a section of the same title (chapter 1, "The descent
    condition", has a section "The descent condition") loses that name to docutils' duplicate-name rule, and its
    theorems came out as "Theorem" with no number and an undefined label.
    """

    default_priority = 198
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        titles = self.env.titles
        for chapter in self.document.findall(addnodes.start_of_file):
            section = next((child for child in chapter.children if isinstance(child, nodes.section)), None)
            docname = chapter["docname"]
            if section is None or docname not in titles:
                continue
            name = titles[docname].astext().lower()
            if name not in section["names"]:
                section["names"].append(name)


class DropScreenOnly(SphinxPostTransform):
    """Leave out of print what only a screen can use: download lines and unanswered checks' feedback."""

    default_priority = 199
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for paragraph in list(self.document.findall(nodes.paragraph)):
            if "homework-downloads" in paragraph["classes"]:
                paragraph.parent.remove(paragraph)
        unanswered = CheckResult("unanswered", "")._headline()  # "… Not answered yet", as the check prints it
        for output in list(self.document.findall(nodes.container)):
            if output.get("nb_element") == "cell_code_output" and output.astext().strip().startswith(unanswered):
                output.parent.remove(output)


class ProofsAsOnTheSite(SphinxPostTransform):
    """A proof as plain text opening with a bold "Proof." (sphinx-proof's LaTeX: an empty title bar above it)."""

    default_priority = 199
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for box in list(self.document.findall(nodes.admonition)):
            if "proof" not in box["classes"] or (box.children and isinstance(box[0], nodes.title)):
                continue
            first = box.next_node(nodes.paragraph)
            if first is not None and first.children and isinstance(first[0], nodes.Text):
                text = str(first[0])
                word, _, rest = text.partition(" ")
                if word.endswith("."):
                    first.replace(first[0], nodes.Text(" " + rest))
                    first.insert(0, nodes.strong(word, word))
            box.replace_self(nodes.container("", *box.children, classes=["proof"]))


def _raw(tex: str) -> nodes.raw:
    return nodes.raw("", tex + "\n", format="latex")


class NumberChaptersAsTheSite(SphinxPostTransform):
    """Front matter unnumbered, lectures numbered from 1, homework sets as appendices.

    Runs on the whole book (the LaTeX builder inlines every chapter into the root document before it applies the
    post-transforms). The chapter counter of LaTeX is not stepped by unnumbered chapters, so the first lecture is
    chapter 1, as on the site.
    """

    default_priority = 200
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        chapters = [
            node
            for node in self.document.findall(addnodes.start_of_file)
            if node.parent is not None and not isinstance(node.parent, addnodes.start_of_file)
        ]
        lectures = [node for node in chapters if node["docname"].startswith(LECTURE_PREFIX)]
        homework = [node for node in chapters if node["docname"].startswith(HOMEWORK_PREFIX)]
        if not lectures:
            return
        root = next(iter(self.document.findall(nodes.section)), None)
        if root is None:
            return
        # The landing page is the preface, before the contents: one unnumbered chapter whose sections are run-in
        # headings. Its pages are numbered in roman, the book from the first lecture on in arabic.
        for section in [child for child in root.children if isinstance(child, nodes.section)]:
            if next(iter(section.findall(addnodes.start_of_file)), None) is not None:
                continue
            heading = section[0].astext() if isinstance(section[0], nodes.title) else ""
            section.replace_self([nodes.rubric(heading, heading), *section.children[1:]])
        root.insert(1, _raw(r"\chapter*{Preface}\pagenumbering{roman}"))
        first = lectures[0]
        first.parent.insert(
            first.parent.index(first),
            _raw(r"\clearpage\begingroup\parskip 0pt\tableofcontents\endgroup\clearpage\pagenumbering{arabic}"),
        )
        if homework:
            first = homework[0]
            first.parent.insert(first.parent.index(first), _raw(r"\appendix"))


def name_the_edition(app: Sphinx, env) -> None:
    """File name and title page of the edition (the LaTeX builder reads ``latex_documents`` when it writes)."""
    if app.builder.format != "latex" or app.config.hide_solutions:
        return
    documents = []
    for start, target, title, author, theme, *rest in app.config.latex_documents:
        if target == f"{TARGET}.tex":
            target = f"{TARGET}-instructor.tex"
            title = f"{title} (instructor edition, with solutions)"
        documents.append((start, target, title, author, theme, *rest))
    app.config.latex_documents = documents


def add_packages(app: Sphinx, config) -> None:
    """Copy the ``PACKAGES`` into the LaTeX folder with the build (an absolute path is taken as it is)."""
    given = set(map(str, config.latex_additional_files))
    config.latex_additional_files = [*config.latex_additional_files, *(str(p) for p in PACKAGES if str(p) not in given)]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_packages)
    for package in PACKAGES:
        app.add_latex_package(package.stem)
    app.add_post_transform(DropHiddenInputs)
    app.add_post_transform(DropScreenOnly)
    app.add_post_transform(ProofsAsOnTheSite)
    app.add_post_transform(NameChapterSections)
    app.add_post_transform(NumberChaptersAsTheSite)
    app.connect("env-updated", name_the_edition)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
