"""The README's build command builds the website from a fresh clone with the system's externally managed Python.

Debian 12, Ubuntu 23.04 and later (and Homebrew) mark their Python as externally managed (PEP 668): ``pip install``
into it is refused. The README's command (``./course build``) must work there all the same, by making the course's
own virtual environment in the checkout. This test clones the repository's HEAD into a temporary folder (uncommitted
changes are not in the clone), puts the system's Python (``/usr/bin/python3``) first on ``PATH`` with no
``PYTHONPATH``, runs the README's build command there exactly as the README gives it, and checks that the website is
built, that the environment was made from that Python, and that the build's kernel and ``lecturelib`` are the
environment's and the clone's. Then it runs the command again and checks that nothing was installed the second time.

Cost: pip installs ``requirements.txt`` from its download cache (the user's, as a new user's command would: the test
command has filled it by then). The notebooks are not executed a second time in the session when the session's own
student build (the ``built_site`` fixture of ``tests/conftest.py``) has started: the clone's execution cache is seeded
with a copy of that build's, which answers only for notebooks whose code is the same (any other is executed afresh).
Run alone, the clone's build executes every notebook.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")

pytestmark = pytest.mark.slow


def _readme_build_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)[0]


def _externally_managed_system_python() -> Path:
    """The system's Python if it is externally managed and new enough for the course; else skip, saying why."""
    if not SYSTEM_PYTHON.exists():
        pytest.skip(f"this machine has no system Python at {SYSTEM_PYTHON}")
    probe = (
        "import os, sys, sysconfig; "
        "print(os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')), "
        "'%d.%d' % sys.version_info[:2], sys.version_info >= (3, 11))"
    )
    managed, version, recent = subprocess.run(
        [str(SYSTEM_PYTHON), "-I", "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    if managed != "True":
        pytest.skip(f"{SYSTEM_PYTHON} (Python {version}) is not marked externally managed (PEP 668)")
    if recent != "True":
        pytest.skip(f"{SYSTEM_PYTHON} is Python {version}; the course needs 3.11 or later (./course refuses it)")
    return SYSTEM_PYTHON


def _session_folder(tmp_path_factory) -> Path:
    # as tests/conftest.py's: under pytest-xdist the workers' base temporary folders share their parent
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _session_execution_cache(request, tmp_path_factory) -> Path | None:
    """The execution cache of this session's student build, if that build has started (waiting for it to end)."""
    if os.environ.get("SITE_HTML") or not (_session_folder(tmp_path_factory) / "site.lock").exists():
        return None
    html = request.getfixturevalue("built_site")  # <session folder>/site/_build/html
    cache = html.parents[2] / "site-cache" / "_build" / ".jupyter_cache"
    return cache if cache.is_dir() else None


def _site_packages(venv: Path) -> dict[str, int]:
    """Every entry of the environment's site-packages with its modification time (an install changes them)."""
    (folder,) = venv.glob("lib/python3.*/site-packages")
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def _toc_pages(node) -> list[str]:
    if isinstance(node, dict):
        return ([node["file"]] if "file" in node else []) + [
            page for key in ("parts", "chapters", "sections") for page in _toc_pages(node.get(key, []))
        ]
    return [page for item in node for page in _toc_pages(item)]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    assert result.returncode == 0, (
        f"{args[:3]} failed in the clone ({seconds:.0f} s):\n{result.stdout[-5000:]}\n--- stderr:\n"
        f"{result.stderr[-8000:]}"
    )
    return result, seconds


def test_readme_build_command_builds_the_site_from_a_fresh_clone_with_the_system_python(
    request, tmp_path_factory, tmp_path: Path
):
    python = _externally_managed_system_python()
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout (or git is missing): there is no HEAD to clone")
    command = _readme_build_command()

    clone = tmp_path / "clone"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "--detach", head.stdout.strip()], check=True)
    cache = _session_execution_cache(request, tmp_path_factory)
    if cache is not None:
        shutil.copytree(cache, clone / "_build" / ".jupyter_cache")

    # A new user's shell: the system's Python first on PATH, nothing pointing at this checkout or an environment.
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "JUPYTER_PATH", "COURSE_EDITION", "PYENV_VERSION")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    assert shutil.which("python3", path=env["PATH"]) == str(python)

    first, first_seconds = _run(["bash", "-c", command], clone, env)
    venv = clone / ".venv"
    assert "installing requirements.txt" in first.stderr, first.stderr[-3000:]
    config = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    assert f"home = {python.parent}" in config.splitlines(), config
    html = clone / "_build" / "html"
    toc = yaml.safe_load((clone / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"], *_toc_pages(toc)]
    missing = [page for page in pages if not (html / f"{page}.html").is_file()]
    assert not missing, f"the build made no page for {missing}"

    # The build's kernel is the environment's Python, and it imports the clone's lecturelib (installed editable).
    probe = (
        "import nbclient, nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("
        "'import sys, lecturelib; print(sys.executable); print(lecturelib.__file__)')])\n"
        "nbclient.NotebookClient(nb, kernel_name='python3').execute()\n"
        "print(nb.cells[0].outputs[0]['text'], end='')\n"
    )
    kernel, _ = _run(["./course", "run", "python", "-c", probe], clone, env)
    executable, module = kernel.stdout.splitlines()[-2:]
    assert Path(executable) == venv / "bin" / "python", executable
    assert Path(module) == clone / "lecturelib" / "__init__.py", module

    # The second time, the environment is reused as it is: pip does not run, no installed file changes.
    before = _site_packages(venv)
    stamp = (venv / ".course-stamp").stat().st_mtime_ns
    second, second_seconds = _run(["bash", "-c", command], clone, env)
    assert "is up to date with requirements.txt and pyproject.toml" in second.stderr, second.stderr[-3000:]
    assert "installing requirements.txt" not in second.stderr and "Collecting" not in second.stdout
    assert (venv / ".course-stamp").stat().st_mtime_ns == stamp
    assert _site_packages(venv) == before
    executed = (first.stdout + first.stderr).count("Executed notebook")
    print(
        f"{command!r} from a fresh clone with {python}: {first_seconds:.0f} s (execution cache "
        f"{'seeded from this session' if cache else 'empty'}, {executed} notebooks executed), again: "
        f"{second_seconds:.0f} s"
    )
