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
import pytest

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


# Under pytest-xdist (the README's test command runs ``-n auto --dist loadgroup``) a test goes to any worker unless it
# carries an ``xdist_group`` mark; a group runs whole on one worker. Two kinds of tests must stay together:
# - the cells of one notebook, which nbval runs in order in one kernel;
# - the tests of the built website and PDFs (marked ``site``): they share the session fixtures ``built_site`` and
#   ``instructor_site`` (one build of each edition, the second reusing the first's execution cache) and ``browser``,
#   and a session fixture is per worker.
# The longest units go first (the site, then the portability run, which keeps both cores busy by itself), so that no
# worker is left with a long unit at the end; ``--no-loadscope-reorder`` keeps this order.
FIRST = ("site", "tests/test_portability.py")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if isinstance(item.parent, MarkdownNotebook):
            item.add_marker(pytest.mark.xdist_group(f"notebook {item.parent.path.relative_to(BOOK).as_posix()}"))
        elif item.get_closest_marker("site") is not None:
            item.add_marker(pytest.mark.xdist_group("site"))

    def rank(item) -> int:
        if item.get_closest_marker("site") is not None:
            return 0
        if item.nodeid.startswith(FIRST[1]):
            return 1
        return 2

    items.sort(key=rank)  # stable: the order inside each rank is the collection order
