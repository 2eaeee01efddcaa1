"""Shared fixtures: the website, built once per test session from clean."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from hypothesis import settings
from run_notebook import KERNEL_DIED_AT_START

ROOT = Path(__file__).resolve().parents[1]

# In CI the property-based tests draw the same examples every run (a failure there is reproducible, never a fluke
# of the draw); locally they explore new examples each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _before_traceback(stderr: str, limit: int = 3000) -> str:
    """The head of a build's stderr, up to its first traceback: what the kernels and Sphinx printed of their own."""
    return stderr.split("Traceback (most recent call last)", 1)[0][-limit:].strip() or "(nothing)"


def build_site(out: Path, edition: str, reuse: Path | None = None) -> Path:
    """Build one edition of the website into ``out``; return its ``html`` folder.

    The build is from clean, except that with ``reuse`` (a folder holding ``_build/.jupyter_cache``, the execution
    cache of a build made from clean earlier in the same session, from the same sources) it starts from a copy of it,
    so no notebook is executed twice: the cache is keyed by the code of each notebook, so it answers only for
    notebooks that build already executed without error (``allow_errors: false``), and any other notebook is
    executed afresh.
    """
    if reuse is not None:
        cache = reuse / "_build" / ".jupyter_cache"
        assert cache.is_dir(), f"no execution cache to reuse in {reuse}"
        shutil.copytree(cache, out / "_build" / ".jupyter_cache")
    command = [shutil.which("jupyter-book") or "jupyter-book", "build", str(ROOT), "-W", "-n", "--keep-going"]
    command += ["--path-output", str(out)]
    # Unperturbed whatever the session's environment says: the published pages show the unperturbed runs, and the
    # other two executions of every notebook (nbval, tests/test_portability.py) run under their own seeds.
    env = {k: v for k, v in os.environ.items() if k != "LECTURELIB_PERTURB"}
    env["COURSE_EDITION"] = edition
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode != 0 and KERNEL_DIED_AT_START in result.stderr:
        # A kernel that dies before it answers its first message has run no cell, so no notebook is at fault; the
        # execution cache keeps every notebook executed before it, and the second build executes only the rest.
        # A warning, so the session's summary says so (with what the kernel printed) even when the second build passes.
        warnings.warn(
            f"the {edition} build lost a kernel at its start and was run again; its stderr before the traceback:\n"
            f"{_before_traceback(result.stderr)}",
            stacklevel=1,
        )
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0, (
        f"the {edition} build failed:\n{result.stdout[-6000:]}\n--- stderr before the traceback:\n"
        f"{_before_traceback(result.stderr)}\n--- the end of stderr:\n{result.stderr[-6000:]}"
    )
    return out / "_build" / "html"


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (created if missing), held across the processes of one test session."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _session_folder(tmp_path_factory) -> Path:
    """A folder shared by every process of this test session: under pytest-xdist, each worker has its own base
    temporary folder, and their parent is common to the session."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once_per_session(tmp_path_factory, name: str, make) -> Path:
    """``make(folder)`` run once per test session, whichever worker asks first; every worker gets its result.

    The first caller builds into ``<session folder>/<name>`` while holding a lock; a caller that arrives during the
    build waits for it, and later callers reuse the folder. A failed build is recorded, so every caller fails with
    its message instead of building again.
    """
    root = _session_folder(tmp_path_factory)
    folder, done, failed = root / name, root / f"{name}.done", root / f"{name}.failed"
    with _locked(root / f"{name}.lock"):
        if failed.exists():
            pytest.fail(failed.read_text(encoding="utf-8"), pytrace=False)
        if not done.exists():
            folder.mkdir()
            try:
                result = make(folder)
            except BaseException as err:
                failed.write_text(f"{name}: {err}", encoding="utf-8")
                raise
            done.write_text(str(result), encoding="utf-8")
        return Path(done.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The ``html`` folder of the student edition, built from clean with warnings as errors.

    The build goes to a temporary folder (``jupyter-book build --path-output``) with its own execution cache, so a
    stale ``_build`` can never hide a failure, and it is built once per test session even when several pytest-xdist
    workers need it. Set ``SITE_HTML`` to the ``html`` folder of a fresh build to check that build instead.
    """
    given = os.environ.get("SITE_HTML")
    if given:
        return Path(given)

    def make(out: Path) -> Path:
        html = build_site(out, "student")
        # A snapshot of the execution cache for the instructor edition, taken before anything else (the PDF build
        # of this folder, maybe in another worker at the same time) can touch it.
        shutil.copytree(out / "_build" / ".jupyter_cache", out.parent / "site-cache" / "_build" / ".jupyter_cache")
        return html

    return once_per_session(tmp_path_factory, "site", make)


@pytest.fixture(scope="session")
def instructor_site(tmp_path_factory, request) -> Path:
    """The ``html`` folder of the instructor edition (the README's command).

    It reuses the execution cache of the student edition built from clean in this session (the ``built_site``
    fixture, which it waits for or builds), so the notebooks are executed once for both editions; with ``SITE_HTML``
    set there is no such build, and the instructor edition is built from clean.
    """
    given = os.environ.get("INSTRUCTOR_SITE_HTML")
    if given:
        return Path(given)
    reuse = None
    if not os.environ.get("SITE_HTML"):
        student_html = request.getfixturevalue("built_site")  # <session folder>/site/_build/html
        reuse = student_html.parents[2] / "site-cache"
    return once_per_session(tmp_path_factory, "instructor", lambda out: build_site(out, "instructor", reuse=reuse))


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium (through pip playwright) for every browser test of the session.

    Shared here rather than defined in a test module: two Playwright sync sessions cannot run at once.
    """
    playwright = pytest.importorskip("playwright.sync_api")
    from test_site import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def page_visits(browser, built_site: Path) -> list[dict]:
    """Every page of the student edition opened once in Chromium (``test_site.visit_every_page``), for the tests
    that read the same things off every page: script errors, outside requests, MathJax's output."""
    from test_site import visit_every_page

    return visit_every_page(browser, built_site)
