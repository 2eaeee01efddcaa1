"""The API reference appendix (``book/api/``), generated from lecturelib's docstrings by the site build.

- every public module of lecturelib has a page, and every name of its ``__all__`` is documented there (an anchor
  with the object's full name); the package's own ``__all__`` is listed on the appendix's first page, each name
  linked to the page that documents it;
- docstrings name a chapter by its label (``:ref:`ch-dynamical_system```), never by a typed number, and in the
  built pages such a reference is a link to the chapter's page.

The site comes from the ``built_site`` fixture (``tests/conftest.py``): one strict build from clean per session.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import lecturelib

ROOT = Path(__file__).resolve().parents[1]
API = "book/api"


class _Anchors(HTMLParser):
    """The ids of a page, and the links of each documented object (``<dt id=...>`` up to the next one)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.links_of: dict[str, list[str]] = {}
        self._current: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
            if tag == "dt" and "sig-object" in (attrs.get("class") or ""):
                self._current = attrs["id"]
                self.links_of.setdefault(self._current, [])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
            if self._current is not None:
                self.links_of[self._current].append(attrs["href"])


def _parse(page: Path) -> _Anchors:
    assert page.is_file(), f"{page} was not built"
    parser = _Anchors()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def public_modules() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(lecturelib.__path__) if not info.name.startswith("_"))


def test_the_appendix_has_a_page_per_public_module():
    """Source side (no build): a new module of lecturelib gets its page and its place in the table of contents."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    modules = public_modules()
    assert len(modules) >= 10, modules
    for name in modules:
        assert (ROOT / API / f"{name}.md").is_file(), f"lecturelib.{name} has no page {API}/{name}.md"
        assert f"file: {API}/{name}" in toc, f"{API}/{name} is not in _toc.yml"


def _chapter_labels() -> dict[str, str]:
    """Each ``(label)=`` target of the book's pages, with the page (docname) that holds it."""
    labels = {}
    for path in sorted((ROOT / "book").rglob("*.md")):
        for label in re.findall(r"^\(([\w-]+)\)=$", path.read_text(encoding="utf-8"), re.M):
            labels[label] = path.relative_to(ROOT).with_suffix("").as_posix()
    return labels


def test_docstrings_name_chapters_by_label_not_by_number():
    """Source side: no "chapter 3" in the library, and every chapter label a docstring cites exists in the book."""
    labels = _chapter_labels()
    cited = 0
    for path in sorted((ROOT / "lecturelib").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        typed = re.findall(r".*\b[Cc]hapters? \d.*", text)
        assert not typed, f"{path.relative_to(ROOT)} names a chapter by number: {typed[0].strip()!r}"
        for label in re.findall(r":ref:`((?:ch|hw)-\w+)`", text):
            assert label in labels, f"{path.relative_to(ROOT)} cites :ref:`{label}`, which no book page defines"
            cited += 1
    assert cited >= 70, f"only {cited} chapter references in the docstrings"


@pytest.mark.site
@pytest.mark.parametrize("module", public_modules())
def test_every_public_name_is_documented_on_its_page(built_site: Path, module: str):
    page = _parse(built_site / API / f"{module}.html")
    package = importlib.import_module(f"lecturelib.{module}")
    assert f"module-lecturelib.{module}" in page.ids
    missing = []
    for name in package.__all__:
        obj = getattr(package, name)
        if inspect.ismodule(obj):  # lecturelib.homework.rubric: documented on the same page, with its own names
            missing += [] if f"module-{obj.__name__}" in page.ids else [obj.__name__]
            missing += [f"{obj.__name__}.{n}" for n in obj.__all__ if f"{obj.__name__}.{n}" not in page.ids]
        elif f"lecturelib.{module}.{name}" not in page.ids:
            missing.append(name)
    assert not missing, f"lecturelib.{module}: in __all__ but not documented on {API}/{module}.html: {missing}"


@pytest.mark.site
def test_the_first_page_links_every_name_that_import_lecturelib_offers(built_site: Path):
    page = _parse(built_site / API / "lecturelib.html")
    missing = []
    for name in lecturelib.__all__:
        module = getattr(lecturelib, name).__module__
        target = f"{module.removeprefix('lecturelib.')}.html#{module}.{name}"
        if target not in page.links:
            missing.append(name)
            continue
        assert f"{module}.{name}" in _parse(built_site / API / target.split("#")[0]).ids
    assert not missing, f"lecturelib.__all__ names not linked from {API}/lecturelib.html: {missing}"


@pytest.mark.site
def test_a_docstrings_chapter_reference_is_a_link_to_the_chapter(built_site: Path):
    """Each documented object's links include the page of every chapter label its own docstring cites."""
    labels = _chapter_labels()
    checked = 0
    for module in public_modules():
        page = _parse(built_site / API / f"{module}.html")
        package = importlib.import_module(f"lecturelib.{module}")
        for name in package.__all__:
            obj = getattr(package, name)
            anchor = f"lecturelib.{module}.{name}"
            cited = re.findall(r":ref:`((?:ch|hw)-\w+)`", inspect.getdoc(obj) or "")
            if inspect.ismodule(obj) or not cited:
                continue
            links = {href.split("#")[0] for href in page.links_of.get(anchor, [])}
            for label in cited:
                assert f"../{labels[label].removeprefix('book/')}.html" in links, (
                    f"{anchor} cites :ref:`{label}`, but its entry has no link to {labels[label]}.html: {sorted(links)}"
                )
                checked += 1
    assert checked >= 60, f"only {checked} chapter references checked"
    # The one reference the issue names: the explorable's sliders come from chapter 2, not chapter 4.
    explorable = _parse(built_site / API / "explorable.html")
    assert "../02_smoothness_rate.html" in {
        h.split("#")[0] for h in explorable.links_of["lecturelib.explorable.step_explorer"]
    }


@pytest.mark.site
def test_no_docstring_role_is_left_as_text(built_site: Path):
    """A role that napoleon hands on inside text it does not parse (a paragraph in a Parameters section) is printed
    as ``:ref:`ch-...``` instead of a link; no build warning says so."""
    for page in sorted((built_site / API).glob("*.html")):
        raw = re.findall(r":(?:ref|func|class|meth|mod|data|attr|exc|obj|math):`", page.read_text(encoding="utf-8"))
        assert not raw, f"{page.name}: {len(raw)} roles printed as text, e.g. {raw[0]}"
