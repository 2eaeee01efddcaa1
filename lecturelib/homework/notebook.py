"""Read a homework set (a MyST Markdown notebook) and split it into a student and an instructor notebook.

The Markdown is parsed by the parser the book is built with (markdown-it-py with myst-parser's plugins), so a fence
is a directive exactly when the site says it is.

**What a solution is.** One definition, used by the site editions (``book/_ext/homework_editions.py``), the export and
the grader: the body of a ``{solution}`` directive, and everything (Markdown and code cells) from a
``{solution-start}`` directive to its ``{solution-end}``. The student site cuts it, the student notebook replaces it by
a "your solution" cell, and only there may a set keep its grading cells (code cells tagged ``grading``: the points
and the hidden cases of an exercise, see :mod:`lecturelib.homework.rubric`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "GATED_SOLUTION",
    "GRADING_TAG",
    "SOLUTION_DIRECTIVE",
    "Cell",
    "grading_cells",
    "label_titles",
    "read_set",
    "split_notebook",
]

SOLUTION_DIRECTIVE = "solution"
GATED_SOLUTION = ("solution-start", "solution-end")
EXERCISE_DIRECTIVE = "exercise"
GRADING_TAG = "grading"
STUDENT_PLACEHOLDER = (
    "**Your solution.** Work it out here: add Markdown cells for the derivation and code cells for the code, and "
    "put your answer in the answer cell above, whose check says when it is right."
)
NAME_CELL = "**Name:** …  \n**Student id:** …\n\n(Double-click this cell and fill in both before you hand in.)"


@dataclass
class Cell:
    kind: str  # "markdown", "code" or "raw"
    source: str
    metadata: dict = field(default_factory=dict)
    solution: bool = False  # inside a solution (instructor only)


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    config = MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "amsmath", "deflist"})
    return create_md_parser(config, RendererHTML)


def _directive(token: Any) -> tuple[str, str, dict, list[str]] | None:
    """``(name, argument, options, body lines)`` of a directive fence token, else None."""
    if token.type not in ("fence", "colon_fence") or not token.info.startswith("{"):
        return None
    name, _, argument = token.info[1:].partition("}")
    from docutils.parsers.rst import Directive, directives
    from myst_parser.parsers.directives import parse_directive_text

    class AnyDirective(Directive):
        has_content = True
        optional_arguments = 1
        final_argument_whitespace = True
        option_spec: ClassVar[dict] = {
            "label": directives.unchanged,
            "class": directives.unchanged,
            "nonumber": directives.flag,
            "hidden": directives.flag,
        }

    parsed = parse_directive_text(AnyDirective, argument.strip(), token.content, validate_options=False)
    return name.strip(), argument.strip(), dict(parsed.options), list(parsed.body)


def _plain_roles(text: str, titles: dict[str, str]) -> str:
    """Replace MyST roles, which Jupyter does not render, by plain Markdown (cross-references by their titles)."""
    for token in _parser().parse(text):
        for child in token.children or []:
            if child.type != "myst_role":
                continue
            role, target = child.meta["name"], child.content
            markup = f"{{{role}}}`{target}`"
            if target.endswith(">") and "<" in target:
                plain = target[: target.rindex("<")].strip()
            elif role == "numref" and target not in titles:
                plain = "the figure"  # a figure's number exists only on the site; in Jupyter it sits beside the text
            elif role in ("ref", "prf:ref", "numref", "doc", "eq"):
                plain = titles.get(target, target)
            elif role == "cite":
                plain = f"[{target}]"
            elif role == "math":
                plain = f"${target}$"
            else:
                plain = f"`{target}`"
            text = text.replace(markup, plain)
    return text


def _inline_text(tokens: list[Any], index: int) -> str:
    return tokens[index + 1].content if index + 1 < len(tokens) and tokens[index + 1].type == "inline" else ""


def label_titles(paths: Sequence[Path]) -> tuple[dict[str, str], list[Path]]:
    """``{label: readable title}`` of the labelled headings and directives in ``paths``; also the unreadable files.

    A file that is not UTF-8 is skipped (and returned in the second list), not an error.
    """
    titles: dict[str, str] = {}
    skipped: list[Path] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            skipped.append(path)
            continue
        tokens = _parser().parse(text)
        for index, token in enumerate(tokens):
            if token.type == "myst_target" and index + 1 < len(tokens) and tokens[index + 1].type == "heading_open":
                titles[token.content] = f"“{_plain_roles(_inline_text(tokens, index + 1).strip(), {})}”"
            directive = _directive(token)
            if directive and "label" in directive[2]:
                name, argument, options, _ = directive
                kind = name.split(":")[-1].replace("-", " ")
                title = _plain_roles(argument, {})
                if not title:
                    titles[options["label"]] = kind
                elif title.lower().startswith(kind):
                    titles[options["label"]] = title
                else:
                    titles[options["label"]] = f"{kind} “{title}”"
    return titles, skipped


def read_set(path: Path | str) -> list[Cell]:
    """The cells of a homework set, each marked whether it lies inside a solution (see the module docstring).

    Markdown cells are split at directives, so every Markdown cell is either all solution or none of it.

    Raises
    ------
    ValueError
        For a ``{solution-start}`` never closed, or a ``{solution-end}`` without a start.
    """
    import jupytext

    notebook = jupytext.read(path)
    return _mark_solutions(notebook)


def _mark_solutions(notebook: Any) -> list[Cell]:
    cells: list[Cell] = []
    gated = False
    for source_cell in notebook.cells:
        metadata = dict(source_cell.get("metadata", {}))
        if source_cell.cell_type != "markdown":
            cells.append(Cell(source_cell.cell_type, source_cell.source, metadata, gated))
            continue
        lines = source_cell.source.split("\n")
        pending: list[str] = []

        def flush(pending: list[str], gated: bool) -> None:
            text = "\n".join(pending).strip("\n")
            if text.strip():
                cells.append(Cell("markdown", text, {}, gated))
            pending.clear()

        position = 0
        for token in _parser().parse(source_cell.source):
            if token.map is None or token.level != 0:
                continue
            start, end = token.map
            if start < position:
                continue
            directive = _directive(token)
            name = directive[0] if directive else None
            if (
                directive is None
                or token.type == "myst_target"
                or name not in (EXERCISE_DIRECTIVE, SOLUTION_DIRECTIVE, *GATED_SOLUTION)
            ):
                if start > position:
                    pending.extend(lines[position:start])
                if token.type != "myst_target":  # a label line means nothing in Jupyter
                    pending.extend(lines[start:end])
                position = end
                continue
            pending.extend(lines[position:start])
            position = end
            flush(pending, gated)
            _, argument, options, body = directive
            if name == GATED_SOLUTION[0]:
                if gated:
                    raise ValueError(f"a {{{name}}} directive inside another gated solution")
                gated = True
                cells.append(Cell("markdown", "\n".join(body).strip("\n"), {"homework": "solution-heading"}, True))
            elif name == GATED_SOLUTION[1]:
                if not gated:
                    raise ValueError("a {solution-end} directive without a {solution-start} before it")
                gated = False
            elif name == SOLUTION_DIRECTIVE:
                cells.append(Cell("markdown", "\n".join(body).strip("\n"), {"homework": "solution-heading"}, True))
            else:
                cells.append(
                    Cell(
                        "markdown",
                        "\n".join(body).strip("\n"),
                        {
                            "homework": "exercise",
                            "title": argument,
                            "nonumber": "nonumber" in options,
                            "label": options.get("label", ""),
                        },
                        gated,
                    )
                )
        pending.extend(lines[position:])
        flush(pending, gated)
    if gated:
        raise ValueError("a {solution-start} directive is never closed by a {solution-end}")
    return cells


def grading_cells(cells: Sequence[Cell]) -> list[Cell]:
    """The grading cells of a set (tagged ``grading``); one outside a solution would show hidden cases: refused."""
    found = [c for c in cells if c.kind == "code" and GRADING_TAG in c.metadata.get("tags", [])]
    outside = [c for c in found if not c.solution]
    if outside:
        raise ValueError(
            "a code cell tagged 'grading' lies outside a solution, so students would see it: "
            f"{outside[0].source[:60]!r}"
        )
    return found


def split_notebook(
    cells: Sequence[Cell] | Any, titles: dict[str, str] | None = None, install_note: str | None = None
) -> tuple[list[Cell], list[Cell], list[str]]:
    """Split a homework set into student cells, instructor cells and the text of its solutions.

    ``cells`` is the list :func:`read_set` returns (or a notebook, read the same way). In the student version each
    solution is replaced by one "your solution" Markdown cell of its own; a cell for the student's name and id follows
    the title, and ``install_note`` (Markdown), when given, is the first cell. In both versions the ``{exercise}``
    directives become plain Markdown that Jupyter renders, and MyST roles plain text (a cross-reference becomes the
    title ``titles`` gives its label). The third value lists the solutions' texts, one string per solution.

    Introduced in the homework sets.
    """
    if hasattr(cells, "cells"):
        cells = _mark_solutions(cells)
    titles = titles or {}
    student: list[Cell] = []
    instructor: list[Cell] = []
    solutions: list[str] = []
    exercise_number = 0
    in_solution = False
    for cell in cells:
        role = cell.metadata.get("homework")
        raw = cell.source
        if role == "exercise":
            exercise_number += 1
            title = cell.metadata["title"]
            if cell.metadata["nonumber"]:
                heading = f"**Exercise {title}.**" if title else "**Exercise.**"
            else:
                heading = f"**Exercise {exercise_number}" + (f" ({title})" if title else "") + ".**"
            cell = Cell("markdown", f"{heading}\n\n{cell.source}", {}, cell.solution)
        elif role == "solution-heading":
            cell = Cell("markdown", "**Solution.**" + (f"\n\n{cell.source}" if cell.source else ""), {}, True)
        if cell.kind == "markdown":
            cell = Cell("markdown", _plain_roles(cell.source, titles), {}, cell.solution)
        instructor.append(Cell(cell.kind, cell.source, dict(cell.metadata)))
        if cell.solution:
            if not in_solution or role == "solution-heading":
                solutions.append("")
                student.append(Cell("markdown", STUDENT_PLACEHOLDER, {"homework": "your-solution"}))
            solutions[-1] = (solutions[-1] + "\n" + raw).strip("\n")
        else:
            student.append(Cell(cell.kind, cell.source, dict(cell.metadata)))
        in_solution = cell.solution
    merged_student = _merge_markdown(student)
    if merged_student and merged_student[0].kind == "markdown":
        merged_student.insert(1, Cell("markdown", NAME_CELL, {"homework": "student"}))
    if install_note:
        merged_student.insert(0, Cell("markdown", install_note, {"homework": "install"}))
    return merged_student, _merge_markdown(instructor), solutions


def _merge_markdown(cells: list[Cell]) -> list[Cell]:
    """Join neighbouring Markdown cells (splitting at directives leaves fragments); cells with metadata stay apart."""
    merged: list[Cell] = []
    for cell in cells:
        if (
            merged
            and cell.kind == "markdown"
            and merged[-1].kind == "markdown"
            and not cell.metadata
            and not merged[-1].metadata
        ):
            merged[-1] = Cell("markdown", merged[-1].source + "\n\n" + cell.source, {})
        else:
            merged.append(cell)
    return merged
