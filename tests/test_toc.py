"""No chapter can drop out of the test run silently: nbval collects every notebook that the book lists."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def test_every_page_in_the_book_is_in_the_toc():
    listed = {f"{name}.md" for name in _toc_files()} | {f"{yaml.safe_load((ROOT / '_toc.yml').read_text())['root']}.md"}
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "book").rglob("*.md") if "_build" not in p.parts}
    missing = sorted(sources - listed)
    assert not missing, f"pages in book/ that _toc.yml does not list: {missing}"


# The API reference appendix: plain MyST pages whose content autodoc generates from lecturelib's docstrings. They hold
# no code to execute, so nbval has nothing to collect from them.
API_PAGES = "book/api/"


def test_api_pages_hold_no_code_cells():
    pages = [name for name in _toc_files() if name.startswith(API_PAGES)]
    assert pages, "_toc.yml lists no API reference page"
    for name in pages:
        text = (ROOT / f"{name}.md").read_text(encoding="utf-8")
        assert "{code-cell}" not in text, f"{name}.md is an API page with a code cell: make it a chapter notebook"


def test_nbval_collects_every_chapter_in_the_toc():
    files = [name for name in _toc_files() if not name.startswith(API_PAGES)]
    assert files, "_toc.yml lists no chapter"
    for name in files:
        kernel = jupytext.read(ROOT / f"{name}.md").metadata.get("kernelspec")
        assert kernel, f"{name}.md is in the TOC but is not a MyST notebook (no kernelspec in its header)"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--nbval-lax", "-p", "no:cacheprovider", "book"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    collected = {line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line}
    not_collected = [name for name in files if f"{name}.md" not in collected]
    assert not not_collected, f"chapters in _toc.yml that nbval does not execute: {not_collected}"
