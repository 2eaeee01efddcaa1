"""The website, built from clean and opened in a real headless browser.

Every page must load without a script error, typeset its mathematics with the MathJax that the site itself
serves, fetch nothing from outside the local server, and link only to pages and anchors that exist. Every
step-size explorable (a matplotlib ``to_jshtml`` animation) must respond to its slider.

The site comes from the ``built_site`` fixture in ``tests/conftest.py``: one build from clean per test session.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: without the background-networking ones Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.site


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output readable
        pass


@contextlib.contextmanager
def _serve(directory: Path) -> Iterator[str]:
    """A local HTTP server for a built site; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="session")
def server(built_site: Path) -> Iterator[str]:
    with _serve(built_site) as url:
        yield url


def _pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if tag in ("a", "link", "script", "img", "iframe", "source") and attrs.get(key):
                self.links.append(attrs[key])
                if tag != "a":
                    self.assets.append(attrs[key])


@functools.cache
def _parse(path: Path) -> _LinkParser:
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_site_has_every_chapter(built_site: Path):
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = [line.split("file:", 1)[1].strip() for line in toc.splitlines() if "file:" in line]
    assert files, "the table of contents lists no chapter"
    for name in files:
        assert (built_site / f"{name}.html").exists(), f"{name} is in _toc.yml but has no page in the site"


def test_internal_links_and_anchors_resolve(built_site: Path):
    broken = []
    for page in _pages(built_site):
        for link in _parse(page).links:
            if urlsplit(link).scheme or link.startswith(("mailto:", "javascript:", "data:", "//")):
                continue
            parts = urlsplit(link)
            target, fragment = parts.path, parts.fragment
            path = page if not target else (page.parent / unquote(target)).resolve()
            if path.parent == (built_site.parent / "slides").resolve():
                continue  # a lecture's slides, built after the site: tests/test_slides.py checks these links
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page.relative_to(built_site)}: {link} (no such file)")
            elif fragment and path.suffix == ".html" and unquote(fragment) not in _parse(path).ids:
                broken.append(f"{page.relative_to(built_site)}: {link} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_no_external_urls_are_loaded_by_markup(built_site: Path):
    """No page pulls a script, stylesheet, font or image from another host (links to read elsewhere are fine)."""
    offenders = []
    for page in _pages(built_site):
        for asset in _parse(page).assets:
            if urlsplit(asset).scheme in ("http", "https") or asset.startswith("//"):
                offenders.append(f"{page.relative_to(built_site)}: {asset}")
    assert not offenders, "pages load assets from other hosts:\n" + "\n".join(offenders)


def _visit(browser, server: str, built_site: Path, page: Path):
    """Open one page; return (script errors, outside requests, failed local requests, the Playwright page)."""
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    failed: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    def route(r):
        if r.request.url.startswith(server):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    tab.route("**/*", route)
    tab.on("response", lambda resp: failed.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)
    url = f"{server}/{page.relative_to(built_site).as_posix()}"
    tab.goto(url, wait_until="load")
    tab.wait_for_load_state("networkidle")
    return errors, outside, failed, tab, context


# What each visit reads off a page once MathJax has typeset it: the elements that hold TeX, the formulas typeset,
# MathJax's error boxes, and the formulas with neither assistive MathML nor a label (for a screen reader).
MATH_COUNTS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const typeset = [...document.querySelectorAll('mjx-container')];
  return {
    tex: document.querySelectorAll('.math, span.math, div.math').length,
    typeset: typeset.length,
    merror: document.querySelectorAll('mjx-merror').length,
    bare: typeset.filter(c => !c.querySelector('mjx-assistive-mml math') && !c.getAttribute('aria-label')).length,
  };
}"""


def visit_every_page(browser, built_site: Path) -> list[dict]:
    """Open every page of a built site once, at desktop width; return what the page checks need of each.

    One pass serves ``test_every_page_in_a_real_browser`` here and the MathML test in ``test_accessibility.py``
    (through the session fixture ``page_visits``), instead of opening every page once per test.
    """
    visits = []
    with _serve(built_site) as url:
        for page in _pages(built_site):
            errors, outside, failed, tab, context = _visit(browser, url, built_site, page)
            try:
                math = tab.evaluate(MATH_COUNTS)
            finally:
                context.close()
            name = page.relative_to(built_site).as_posix()
            visits.append({"page": name, "errors": errors, "outside": outside, "failed": failed, **math})
    return visits


def test_every_page_in_a_real_browser(page_visits: list[dict]):
    problems = []
    assert len(page_visits) >= 3
    for v in page_visits:
        if v["tex"] and not v["typeset"]:
            problems.append(f"{v['page']}: has math but MathJax typeset nothing")
        if v["merror"]:
            problems.append(f"{v['page']}: {v['merror']} MathJax errors")
        problems += [f"{v['page']}: script error: {e}" for e in v["errors"]]
        problems += [f"{v['page']}: request left the site: {u}" for u in v["outside"]]
        problems += [f"{v['page']}: failed request: {f}" for f in v["failed"]]
    assert sum(v["typeset"] > 0 for v in page_visits) >= 1, "no page typeset any mathematics"
    assert not problems, "\n".join(problems)


def test_mathjax_is_served_by_the_site(built_site: Path):
    index = (built_site / "book" / "index.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in index
    assert (built_site / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_explorable_sliders_change_the_figure(browser, server: str, built_site: Path):
    """Each step-size explorable responds to its slider on the static site, with no kernel and no network."""
    moved = 0
    for page in _pages(built_site):
        if "_anim_slider" not in page.read_text(encoding="utf-8"):
            continue
        errors, outside, _failed, tab, context = _visit(browser, server, built_site, page)
        try:
            sliders = tab.locator("input[type=range][id^=_anim_slider]")
            for i in range(sliders.count()):
                slider = sliders.nth(i)
                anim_id = slider.get_attribute("id").removeprefix("_anim_slider")
                image = tab.locator(f"#_anim_img{anim_id}")
                slider.scroll_into_view_if_needed()
                before = image.get_attribute("src")
                top = int(slider.get_attribute("max"))
                assert top >= 1, f"{page.name}: explorable {i} has a single frame"
                slider.fill(str(top // 2 + 1))  # fires the input event, like a reader dragging it
                after = image.get_attribute("src")
                assert after != before, f"{page.name}: moving slider {i} did not change the figure"
                moved += 1
        finally:
            context.close()
        assert not errors and not outside, f"{page.name}: {errors} {outside}"
    toc_chapters = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    if "04_three_examples" in toc_chapters:
        assert moved >= 1, "chapter 4 promises a step-size explorable, but no slider was found"


def test_instructor_solutions_start_collapsed_and_open_on_click(browser, instructor_site: Path):
    page = instructor_site / "book" / "homework" / "hw1_taylor_descent.html"
    with _serve(instructor_site) as url:
        errors, outside, failed, tab, context = _visit(browser, url, instructor_site, page)
        try:
            solutions = tab.locator(".solution.dropdown")
            assert solutions.count() >= 4
            first = solutions.first
            body = first.locator(":scope > :not(.admonition-title)").first
            assert not body.is_visible(), "a solution is visible before the reader asks for it"
            first.locator("button.toggle-button").first.click()
            body.wait_for(state="visible", timeout=5000)
        finally:
            context.close()
    assert not errors and not outside and not failed, f"{errors} {outside} {failed}"


def test_homework_pages_offer_the_library_wheel(server: str, built_site: Path):
    """Each homework page links the lecturelib wheel from the site's downloads, and the site serves that wheel."""
    import urllib.request
    import zipfile
    from io import BytesIO

    pages = sorted((built_site / "book" / "homework").glob("*.html"))
    assert pages, "the site has no homework page"
    for page in pages:
        wheels = [link for link in _parse(page).links if link.endswith(".whl")]
        assert len(wheels) == 1, f"{page.name} links {len(wheels)} wheels, not the one lecturelib wheel"
        assert "_downloads/" in wheels[0] and unquote(wheels[0]).rsplit("/", 1)[-1].startswith("lecturelib-")
        url = f"{server}/{(page.parent / unquote(wheels[0])).resolve().relative_to(built_site).as_posix()}"
        with urllib.request.urlopen(url) as response:
            assert response.status == 200
            archive = zipfile.ZipFile(BytesIO(response.read()))
        assert "lecturelib/__init__.py" in archive.namelist(), f"{url} is not the lecturelib wheel"


def test_every_page_has_a_favicon_drawn_by_the_build(built_site: Path):
    """Browsers ask every page for an icon: each page links one, and it is a PNG the build wrote (no 404)."""
    import re

    from PIL import Image

    pages = _pages(built_site)
    icons = set()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in text[:300]:
            continue
        found = re.search(r'<link rel="icon" href="([^"]+)"', text)
        assert found, f"{page.relative_to(built_site)}: no favicon link"
        icons.add((page.parent / unquote(found[1])).resolve())
    assert len(icons) == 1, icons
    with Image.open(icons.pop()) as icon:
        assert icon.format == "PNG" and icon.size[0] == icon.size[1] >= 32
        assert len(icon.convert("RGBA").getcolors(1 << 16) or []) > 10, "the icon is blank"


def test_one_search_box_on_a_wide_screen(browser, server: str):
    """At 1280 px the page offers one search control (the sidebar's field), not a field and a button."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(f"{server}/book/02_smoothness_rate.html", wait_until="load")
        visible = tab.evaluate(
            """() => [...document.querySelectorAll('.search-button, .search-button-field, input[type=search]')]
                 .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
                 .map(e => e.className || e.id)"""
        )
    finally:
        context.close()
    assert len(visible) == 1, f"search controls shown at 1280 px: {visible}"
