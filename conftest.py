"""Let nbval execute the book's MyST Markdown notebooks in place.

nbval collects only ``.ipynb`` files. The chapters are ``.md`` files with a jupytext header, so this collector reads
them with jupytext and hands the notebook to nbval's own collector. The kernel starts in the chapter's folder, as in
the book build. Plain Markdown pages (no kernelspec in the header) are not notebooks and are not collected.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import jupytext
import nbval.plugin

BOOK = Path(__file__).parent / "book"


def is_notebook(path: Path) -> bool:
    """True for a MyST Markdown notebook: a ``.md`` file whose jupytext header names a kernel."""
    if path.suffix != ".md":
        return False
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    header = text.split("---", 2)[1]
    return "kernelspec:" in header


class MarkdownNotebook(nbval.plugin.IPyNbFile):
    """nbval's notebook collector, reading the notebook through jupytext instead of nbformat."""

    def collect(self):
        notebook = jupytext.read(self.path)
        with mock.patch.object(nbval.plugin.nbformat, "read", return_value=notebook):
            yield from super().collect()


def pytest_collect_file(file_path: Path, parent):
    option = parent.config.option
    if (option.nbval or option.nbval_lax) and BOOK in file_path.parents and is_notebook(file_path):
        return MarkdownNotebook.from_parent(parent, path=file_path)
    return None
