"""The lecturelib wheel installs on its own and runs a student's homework notebook without the course repository.

The wheel is built as the website builds it (``book/_ext/lecturelib_wheel.py``: ``pip wheel SRC --no-deps``), then
installed into a fresh virtual environment without the system's site packages, with its dependencies coming from the
package registry, plus only what a student's Jupyter needs to run a notebook (a kernel and a notebook runner). A
student notebook exported with the instructors' command is executed there, top to bottom, by that environment's own
kernel. Everything (the wheel, the environment, pip's cache) lives in pytest's temporary folders.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a student's Jupyter needs to execute a notebook, at the versions the course is tested with.
JUPYTER_FOR_STUDENTS = ["ipykernel==7.4.0", "nbclient==0.11.0"]
KERNEL = "lecturelib-wheel-test"

pytestmark = pytest.mark.slow


def _load_builder():
    spec = importlib.util.spec_from_file_location("lecturelib_wheel", ROOT / "book" / "_ext" / "lecturelib_wheel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _load_builder().build_wheel(ROOT, tmp_path_factory.mktemp("dist"))


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_wheel_holds_only_the_library(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    modules = sorted(n for n in names if not n.startswith("lecturelib-"))
    metadata = [n for n in names if n.startswith("lecturelib-")]
    source = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "lecturelib").rglob("*.py"))
    assert modules == source, modules
    assert all(n.split("/", 1)[0].endswith(".dist-info") for n in metadata), metadata
    # no chapter, homework source, test or solution travels with the library
    assert not any(n.endswith((".md", ".ipynb", ".bib")) or n.startswith(("book/", "tests/")) for n in names)
    print(f"{wheel.name}: {wheel.stat().st_size} bytes, {len(modules)} modules")


def test_wheel_declares_every_runtime_import(wheel: Path):
    """Every third-party module that lecturelib imports is a dependency the wheel declares."""
    archive = zipfile.ZipFile(wheel)
    metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    requires = {
        re.split(r"[<>=!~;\[ ]", line.split(":", 1)[1].strip())[0].lower()
        for line in archive.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    }
    imported = set()
    for path in (ROOT / "lecturelib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # module level and inside functions
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    imported -= set(sys.stdlib_module_names) | {"lecturelib", "__future__"}
    assert imported, "found no import in lecturelib"
    # an import name is not always its distribution's name (PIL is pillow, markdown_it is markdown-it-py)
    distributions = importlib.metadata.packages_distributions()
    imported = {distributions.get(name, [name])[0].lower().replace("_", "-") for name in imported}
    requires = {name.replace("_", "-") for name in requires}
    assert imported <= requires, f"imported but not declared in pyproject.toml: {sorted(imported - requires)}"


def test_student_notebook_runs_with_only_the_wheel_installed(wheel: Path, tmp_path: Path):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    # A clean environment: no PYTHONPATH (it would find the repository's lecturelib), pip's cache in tmp, and a
    # Jupyter data folder of its own, so only the kernel installed below can run the notebook.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")}
    env.update(PIP_CACHE_DIR=str(tmp_path / "pip-cache"), JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"))
    _run([sys.executable, "-m", "venv", str(venv)], env=env)
    config = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = false" in config
    _run(
        [str(python), "-m", "pip", "install", "-q", "--no-compile", str(wheel), *JUPYTER_FOR_STUDENTS],
        env=env,
        cwd=tmp_path,
    )
    _run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", KERNEL], env=env, cwd=tmp_path)

    # The instructors' command, from the repository, exactly as the README gives it.
    out = tmp_path / "export"
    out.mkdir()
    _run([sys.executable, "-m", "lecturelib.homework", "export", str(out), "hw1"], cwd=ROOT)
    notebooks = sorted((out / "student").glob("*.ipynb"))
    assert len(notebooks) == 1, notebooks

    runner = r"""
import json, sys
import nbclient, nbformat
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
n = len(nb.cells)
nb.cells.append(nbformat.v4.new_code_cell(
    "import json, sys, lecturelib; print('PROBE=' + json.dumps([sys.prefix, lecturelib.__file__]))"))
nbclient.NotebookClient(nb, timeout=600, kernel_name=sys.argv[2],
                        resources={"metadata": {"path": sys.argv[3]}}).execute()
text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
print(json.dumps({"probe": json.loads(text.split("PROBE=", 1)[1]), "cells": n, "errors": len(errors)}))
"""
    result = _run([str(python), "-c", runner, str(notebooks[0]), KERNEL, str(tmp_path)], env=env, cwd=tmp_path)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    prefix, module = report["probe"]
    # The kernel that ran the notebook is the fresh environment's, with the wheel's lecturelib, not the repository's.
    assert Path(prefix).resolve() == venv.resolve(), prefix
    assert Path(module).resolve().is_relative_to(venv.resolve()), module
    assert report["cells"] > 10 and report["errors"] == 0, report
