"""Let nbval execute the book's MyST Markdown notebooks in place, on OpenBLAS's Prescott kernel.

nbval collects only ``.ipynb`` files. The chapters are ``.md`` files with a jupytext header, so this collector reads
them with jupytext and hands the notebook to nbval's own collector. The kernel starts in the chapter's folder, as in
the book build. Plain Markdown pages (no kernelspec in the header) are not notebooks and are not collected.

The kernel nbval starts is the ``python3`` kernel with ``OPENBLAS_CORETYPE=Prescott`` and the rounding harness on
with seed 1 (``LECTURELIB_PERTURB=1``, see ``lecturelib.perturbation``), a kernelspec written for the session, so that
the test run executes every notebook in one more floating-point environment instead of twice in the machine's own:
the site build executes them on the machine's kernel, unperturbed (the published pages show those runs), nbval on
Prescott with seed 1, and ``tests/test_portability.py`` on the remaining kernels the standards name, each with its
own seed. The seeds are the first integers, fixed before any notebook ran under them (never chosen because they
pass). ``--nbval-kernel-name python3`` (or ``--nbval-current-env``) runs nbval on the machine's own kernel instead,
with the environment of the session (unperturbed unless ``LECTURELIB_PERTURB`` is set there).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
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


#: The kernelspec nbval runs the notebooks with, the OpenBLAS kernel and the perturbation seed it sets (see the module
#: docstring).
NBVAL_KERNEL = "python3-prescott"
NBVAL_CORETYPE = "Prescott"
NBVAL_SEED = 1

#: What jupyter_client raises when a kernel process exits before answering its first message (no cell has run).
KERNEL_DIED_AT_START = "Kernel died before replying to kernel_info"


def parse_seeds(text: str) -> list[int]:
    """The perturbation seeds that ``text`` lists: comma-separated integers and inclusive ranges (``"1,2,5-7"``).

    Raises ``ValueError`` naming what is wrong: a seed that is not a non-negative integer, a range that runs backwards,
    a seed listed twice, or nothing at all.
    """
    seeds: list[int] = []
    for part in (piece.strip() for piece in text.split(",")):
        low, dash, high = part.partition("-")
        bounds = (low.strip(), high.strip()) if dash else (part, part)
        if not all(b.isdigit() and b.isascii() for b in bounds):
            raise ValueError(f"perturbation seeds are non-negative integers or ranges such as 101-110, got {part!r}")
        first, last = int(bounds[0]), int(bounds[1])
        if last < first:
            raise ValueError(f"the seed range {part!r} runs backwards")
        seeds += range(first, last + 1)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a perturbation seed is listed twice in {text!r}")
    return seeds


#: The environment variable that gives ``tests/test_portability.py`` extra perturbation seeds (``--perturb-seeds``).
PERTURB_SEEDS_VARIABLE = "PERTURB_SEEDS"


def pytest_addoption(parser):
    parser.addoption(
        "--perturb-seeds",
        default=os.environ.get(PERTURB_SEEDS_VARIABLE, ""),
        help=(
            "extra perturbation seeds (LECTURELIB_PERTURB) under which tests/test_portability.py runs every notebook "
            f"again, e.g. 1,2,3 or 101-110 (default: ${PERTURB_SEEDS_VARIABLE}, else none)"
        ),
    )


def pytest_configure(config):
    text = config.getoption("--perturb-seeds")
    try:
        config.perturb_seeds = parse_seeds(text) if text.strip() else []
    except ValueError as err:
        raise pytest.UsageError(f"--perturb-seeds (or ${PERTURB_SEEDS_VARIABLE}): {err}") from None
    option = config.option
    if not (option.nbval or option.nbval_lax) or option.nbval_kernel_name or option.nbval_current_env:
        return
    folder = Path(tempfile.mkdtemp(prefix="nbval-kernels-"))
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 (OpenBLAS {NBVAL_CORETYPE}, perturbation seed {NBVAL_SEED})",
        "language": "python",
        "env": {"OPENBLAS_CORETYPE": NBVAL_CORETYPE, "LECTURELIB_PERTURB": str(NBVAL_SEED)},
    }
    (folder / "kernels" / NBVAL_KERNEL).mkdir(parents=True)
    (folder / "kernels" / NBVAL_KERNEL / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("JUPYTER_PATH")]))
    option.nbval_kernel_name = NBVAL_KERNEL
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


class MarkdownNotebook(nbval.plugin.IPyNbFile):
    """nbval's notebook collector, reading the notebook through jupytext instead of nbformat."""

    def collect(self):
        notebook = jupytext.read(self.path)
        with mock.patch.object(nbval.plugin.nbformat, "read", return_value=notebook):
            yield from super().collect()

    def setup(self):
        """Start the kernel (nbval's own setup); start it once more if it dies before its first reply.

        Such a kernel has run no cell, so no notebook is at fault (CI lost one at start once, in the site build, with
        other kernels starting at the same time). A warning tells the session's summary that it happened.
        """
        try:
            super().setup()
        except RuntimeError as err:
            if KERNEL_DIED_AT_START not in str(err):
                raise
            warnings.warn(f"{self.path.name}: nbval's kernel died at its start and was started again", stacklevel=1)
            super().setup()


def pytest_collect_file(file_path: Path, parent):
    option = parent.config.option
    if (option.nbval or option.nbval_lax) and BOOK in file_path.parents and is_notebook(file_path):
        return MarkdownNotebook.from_parent(parent, path=file_path)
    return None


# Under pytest-xdist (the README's test command runs ``-n auto --dist loadgroup``) a test goes to any worker unless it
# carries an ``xdist_group`` mark; a group runs whole on one worker, in collection order. What must stay together:
# - the cells of one notebook, which nbval runs in order in one kernel;
# - the tests of one edition of the built website and its PDF: they share a session fixture (the build, the PDF, a
#   browser). Each edition is built once per session whichever worker asks first (``tests/conftest.py``), and the
#   instructor edition reuses the student edition's execution cache.
# - the tests of a module whose module-scoped fixture is expensive (the grader grades a class once; the wheel is built
#   once; the homework export is written once): split over two workers, it would be made twice.
# The order in which the groups are handed out keeps both cores busy: the student site (its build comes first, and the
# other site groups wait for it) on one worker; on the other the portability run, the grader, the README's build
# command in a fresh clone (which reuses the student build's execution cache), the instructor solutions graded under
# every kernel (tests/test_instructor_grades.py) and the sandbox's attacks, then the student edition's axe run, the
# slide decks and the instructor edition, which by then find the student build done; then the short units. A
# worker takes its next unit when it has two tests or fewer left (``--no-loadscope-reorder`` keeps this order).
MODULE_GROUPS = (
    "tests/test_portability.py",
    "tests/test_grader.py",
    "tests/test_grader_attacks.py",
    "tests/test_readme_commands.py",
    "tests/test_instructor_grades.py",
    "tests/test_wheel.py",
    "tests/test_homework.py",
)


def _site_group(item) -> str | None:
    if item.get_closest_marker("site") is None:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    if params.get("edition") == "instructor" or "instructor" in item.originalname:
        return "site instructor"
    if item.originalname == "test_axe_finds_no_wcag_violation":
        return "site student axe"
    if item.path.name == "test_slides.py":
        return "site slides"
    return "site student"


ORDER = (
    "site student",
    "tests/test_portability.py",
    "tests/test_grader.py",
    "tests/test_readme_commands.py",
    "tests/test_instructor_grades.py",
    "tests/test_grader_attacks.py",
    "site student axe",
    "site slides",
    "site instructor",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    ranks = {}
    for item in items:
        group = _site_group(item) or next((m for m in MODULE_GROUPS if item.nodeid.startswith(m + "::")), None)
        if isinstance(item.parent, MarkdownNotebook):
            item.add_marker(pytest.mark.xdist_group(f"notebook {item.parent.path.relative_to(BOOK).as_posix()}"))
        elif group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
        ranks[item] = ORDER.index(group) if group in ORDER else len(ORDER)
    items.sort(key=ranks.__getitem__)  # stable: the order inside each rank is the collection order
