"""The notebooks are written the way CONTRIBUTING.md says: short visible cells, few visible asserts, one import style.

A visible cell is a code cell without the ``remove-cell`` tag (``hide-input`` cells count: they are one click away).
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import jupytext
import pytest

import lecturelib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("0*.md")) + sorted((ROOT / "book" / "homework").glob("hw*.md"))
LIBRARY_IMPORT = re.compile(r"^\s*(from\s+lecturelib\b.*|import\s+lecturelib\b.*)$", re.MULTILINE)
ALLOWED_IMPORT = re.compile(r"^\s*from lecturelib import (\w+(?: as hw)?(?:, \w+)*)\s*$")


def _visible(path: Path) -> list[list[str]]:
    cells = []
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code" and "remove-cell" not in cell.metadata.get("tags", []):
            cells.append([line for line in cell.source.splitlines() if line.strip()])
    return cells


def _library_modules() -> set[str]:
    import pkgutil

    return {info.name for info in pkgutil.iter_modules(lecturelib.__path__) if not info.name.startswith("_")}


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 13


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_visible_cells_are_short(path):
    sizes = [len(lines) for lines in _visible(path)]
    long = [n for n in sizes if n >= 20]
    assert not long, f"{path.name}: visible cells of {long} non-blank lines (split them, see CONTRIBUTING.md)"
    assert statistics.median(sizes) <= 6, f"{path.name}: the median visible cell has {statistics.median(sizes)} lines"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_few_visible_asserts(path):
    asserts = [line.strip() for lines in _visible(path) for line in lines if re.match(r"\s*assert\b", line)]
    assert len(asserts) <= 4, f"{path.name}: {len(asserts)} visible asserts (guards belong in remove-cell cells)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_import_style_for_the_library(path):
    modules = _library_modules()
    text = "\n".join(cell.source for cell in jupytext.read(path).cells if cell.cell_type == "code")
    for line in LIBRARY_IMPORT.findall(text):
        match = ALLOWED_IMPORT.match(line)
        assert match, f"{path.name}: {line.strip()!r} (import the library's modules by name: from lecturelib import gd)"
        for item in match.group(1).split(", "):
            name, _, alias = item.partition(" as ")
            assert name in modules, f"{path.name}: {line.strip()!r} imports {name!r}, which is not a module"
            allowed = not alias or (name, alias) == ("homework", "hw")
            assert allowed, f"{path.name}: {line.strip()!r}: the one alias is hw"
