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


def build_site(out: Path, edition: str) -> Path:
    """Build one edition of the website from clean into ``out``; return its ``html`` folder."""
    result = subprocess.run(
        [shutil.which("jupyter-book") or "jupyter-book", "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", str(out)],
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
def instructor_site(tmp_path_factory) -> Path:
    """The ``html`` folder of the instructor edition (the README's command), built from clean."""
    given = os.environ.get("INSTRUCTOR_SITE_HTML")
    if given:
        return Path(given)
    return build_site(tmp_path_factory.mktemp("instructor"), "instructor")


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
