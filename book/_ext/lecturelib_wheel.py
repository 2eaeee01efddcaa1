"""Build the ``lecturelib`` wheel that students install to run a downloaded homework notebook.

Used by the site build (``homework_editions`` puts the wheel next to the homework notebooks) and by
``tests/test_wheel.py`` (which installs it into a fresh virtual environment), so the site serves the wheel the test
checked. The wheel is built with pip's ordinary command, ``pip wheel SRC --no-deps -w DEST``, from a copy of the
repository in a temporary folder: building in the repository itself would leave setuptools' ``build/`` and
``*.egg-info`` folders there. What goes into the wheel is decided by ``pyproject.toml`` (only the ``lecturelib``
package: no chapter, homework source or solution).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Never copied: build outputs, caches, version control and the course's virtual environment (``./course`` makes it
# in .venv/; none of them is an input of the wheel).
_SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "_build",
    "build",
    "*.egg-info",
    "__pycache__",
    ".jupyter_cache",
    ".hypothesis",
    ".pytest_cache",
    ".ipynb_checkpoints",
)


def build_wheel(root: Path, dest: Path) -> Path:
    """Build the wheel of the repository at ``root`` into the folder ``dest``; return the wheel's path."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lecturelib-wheel-") as work:
        source = Path(work) / "src"
        shutil.copytree(root, source, ignore=_SKIP, symlinks=True)
        before = set(dest.glob("lecturelib-*.whl"))
        # pip's cache stays in the temporary folder: a build caches nothing outside it.
        env = {**os.environ, "PIP_CACHE_DIR": str(Path(work) / "pip-cache")}
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dest)],
            capture_output=True,
            text=True,
            env=env,
        )
    if result.returncode != 0:
        raise RuntimeError(f"pip wheel failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    wheels = sorted(dest.glob("lecturelib-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(
            f"expected one lecturelib wheel in {dest}, found {[w.name for w in wheels]} "
            f"(before the build: {sorted(w.name for w in before)})"
        )
    return wheels[0]
