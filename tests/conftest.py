"""Shared fixtures: the website, built once per test session from clean."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# In CI the property-based tests draw the same examples every run (a failure there is reproducible, never a fluke
# of the draw); locally they explore new examples each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def build_site(out: Path, edition: str, reuse: Path | None = None) -> Path:
    """Build one edition of the website into ``out``; return its ``html`` folder.

    The build is from clean, except that with ``reuse`` (the ``out`` folder of a build made from clean earlier in the
    same session, from the same sources) it starts from a copy of that build's execution cache, so no notebook is
    executed twice: the cache is keyed by the code of each notebook, so it answers only for notebooks that build
    already executed without error (``allow_errors: false``), and any other notebook is executed afresh.
    """
    if reuse is not None:
        cache = reuse / "_build" / ".jupyter_cache"
        assert cache.is_dir(), f"no execution cache to reuse in {reuse}"
        shutil.copytree(cache, out / "_build" / ".jupyter_cache")
    result = subprocess.run(
        [
            shutil.which("jupyter-book") or "jupyter-book",
            "build",
            str(ROOT),
            "-W",
            "-n",
            "--keep-going",
            "--path-output",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COURSE_EDITION": edition},
    )
    assert result.returncode == 0, f"the {edition} build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The ``html`` folder of the student edition, built from clean with warnings as errors.

    The build goes to a temporary folder (``jupyter-book build --path-output``) with its own execution cache, so a
    stale ``_build`` can never hide a failure. Set ``SITE_HTML`` to the ``html`` folder of a fresh build to check
    that build instead.
    """
    given = os.environ.get("SITE_HTML")
    if given:
        return Path(given)
    return build_site(tmp_path_factory.mktemp("site"), "student")


@pytest.fixture(scope="session")
def instructor_site(tmp_path_factory, request) -> Path:
    """The ``html`` folder of the instructor edition (the README's command).

    It reuses the execution cache of the student edition built from clean in this session (the ``built_site``
    fixture), so the notebooks are executed once for both editions; with ``SITE_HTML`` set there is no such build, and
    the instructor edition is built from clean.
    """
    given = os.environ.get("INSTRUCTOR_SITE_HTML")
    if given:
        return Path(given)
    reuse = None
    if not os.environ.get("SITE_HTML"):
        student_html = request.getfixturevalue("built_site")
        reuse = student_html.parents[1]  # <out>/_build/html -> <out>
    return build_site(tmp_path_factory.mktemp("instructor"), "instructor", reuse=reuse)


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
