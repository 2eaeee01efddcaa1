"""The project's metadata agrees with itself: one version, stated licences, shown on the site."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["version"]


def test_one_version_everywhere():
    version = project_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(rf"^version: {re.escape(version)}$", citation, re.M), (
        "CITATION.cff's version differs from pyproject"
    )
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{version}]" in changelog, "CHANGELOG.md has no section for the current version"


def test_licences_are_stated():
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    content = (ROOT / "LICENSE-CONTENT.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in content and "creativecommons.org/licenses/by/4.0" in content
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "MIT" in readme


@pytest.mark.site
def test_every_page_shows_licence_and_version(built_site):
    version = project_version()
    pages = [
        p
        for p in built_site.rglob("*.html")
        if "_static" not in p.parts and p.name not in {"search.html", "genindex.html"}
    ]
    assert len(pages) >= 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text or 'http-equiv="refresh"' in text:
            continue  # the root index.html only redirects
        assert f"version {version}" in text, f"{page.name}: no version in the footer"
        assert "creativecommons.org/licenses/by/4.0/" in text, f"{page.name}: no licence link in the footer"
