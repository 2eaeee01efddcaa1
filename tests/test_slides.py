"""The lecture slides (``book/_ext/slides.py``): one deck per lecture chapter, checked in headless Chromium.

The decks are built once per test session from the session's site build (``built_site``, so nothing is executed
again) into ``<site build>/_build/slides``, beside the ``html`` folder, where the chapter pages' links point; set
``SLIDES_DIR`` to check decks built already (``python book/_ext/slides.py``) instead.

- outlines: every lecture chapter in ``_toc.yml`` has one; a label an outline names that the chapter lacks stops
  the build with that label's name; a chapter added to the table of contents without an outline has no deck;
- each deck in Chromium at 1280×720: it opens without a script error or a failed request, requests nothing outside
  the local server, has 15–30 slides, typesets its mathematics, loads its figures (alt text as in the book, the
  smallest text of the figure at least 18 px), fits every slide in the frame, carries speaker notes on every
  slide, builds up its fragments step by step, and its sliders move from the keyboard without leaving the slide;
- dark mode: the decks follow the system's colour scheme (MathJax typesets there too);
- axe-core finds no WCAG 2.1 A/AA violation on any slide (reveal.js's print view, which lays out every slide and
  every fragment step, in light and dark mode);
- the PDF of each deck has one page per slide and fragment step;
- no solution text (the homework leak test's detector) in any deck; every chapter page links its deck and PDF.
"""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from test_site import _serve

from conftest import once_per_session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import slides  # noqa: E402  (book/_ext is not a package)

from lecturelib.plots import MIN_FONT_SIZE  # noqa: E402

LEGIBLE_PX = 18  # the smallest figure text on a 1280×720 slide, in CSS px
VIEWPORT = {"width": slides.WIDTH, "height": slides.HEIGHT}
STEMS = [Path(d).name for d in slides.lecture_chapters()]


def test_every_lecture_chapter_has_an_outline():
    """Each chapter of the Lectures part of _toc.yml (whatever it lists now) has a well-formed outline."""
    assert len(STEMS) >= 9
    for docname in slides.lecture_chapters():
        assert slides.read_outline(slides.outline_path(docname)), f"{docname}: the outline names no slide"


def test_a_chapter_added_to_the_toc_without_an_outline_has_no_deck(tmp_path):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    lectures = next(part for part in toc["parts"] if part["caption"] == slides.LECTURES_CAPTION)
    lectures["chapters"].append({"file": "book/99_new"})
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc), encoding="utf-8")
    chapters = slides.lecture_chapters(tmp_path)
    assert chapters[:-1] == slides.lecture_chapters() and chapters[-1] == "book/99_new"
    with pytest.raises(slides.OutlineError, match="99_new"):
        slides.read_outline(slides.outline_path(chapters[-1]))


# ---------------------------------------------------------------------------------------------------------------
# The built decks


@pytest.fixture(scope="session")
def decks(tmp_path_factory, built_site: Path) -> Path:
    given = os.environ.get("SLIDES_DIR")
    if given:
        return Path(given)

    def make(_folder: Path) -> Path:
        # In a process of its own, as the README runs it: the decks are printed with Playwright's sync API, which
        # refuses to start inside this session's running browser (its asyncio loop).
        out = built_site.parent / "slides"
        command = [
            sys.executable,
            str(ROOT / "book" / "_ext" / "slides.py"),
            "--site",
            str(built_site),
            "--out",
            str(out),
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, f"the slides build failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
        return out

    return once_per_session(tmp_path_factory, "slides", make)


pytestmark = pytest.mark.site


def test_a_missing_label_stops_the_build_with_its_name(built_site: Path):
    docname = slides.lecture_chapters()[0]
    entries = slides.read_outline(slides.outline_path(docname))
    page = built_site / f"{docname}.html"
    images = built_site / "_images"
    slides.cut_deck(page, docname, entries, images)  # the real outline works
    for kind in slides.ENTRY_KINDS:
        with pytest.raises(slides.OutlineError, match="no-such-label"):
            slides.cut_deck(page, docname, [*entries, {kind: "no-such-label"}], images)


def _deck_markup(decks: Path, stem: str):
    return slides._soup((decks / f"{stem}.html").read_text(encoding="utf-8"))


def _expected_pages(markup) -> int:
    """One page per slide, and one per fragment step (fragments that share an index appear together)."""
    total = 0
    for section in markup.select("div.slides > section"):
        fragments = section.select(".fragment")
        indices = {f["data-fragment-index"] for f in fragments if f.has_attr("data-fragment-index")}
        total += 1 + len(indices) + sum(not f.has_attr("data-fragment-index") for f in fragments)
    return total


def test_every_chapter_has_a_deck_and_a_pdf_with_a_page_per_step(decks: Path):
    for stem in STEMS:
        assert (decks / f"{stem}.html").is_file(), f"{stem} has no deck"
        pdf = decks / f"{stem}.pdf"
        assert pdf.is_file(), f"{stem} has no PDF"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
        markup = _deck_markup(decks, stem)
        assert pages == _expected_pages(markup), f"{stem}.pdf has {pages} pages"
        assert abs(float(size[1]) / float(size[2]) - 16 / 9) < 0.01, f"{stem}.pdf pages are not 16:9"


def test_chapter_pages_link_their_deck_and_pdf(built_site: Path, decks: Path):
    for docname in slides.lecture_chapters():
        page = slides._soup((built_site / f"{docname}.html").read_text(encoding="utf-8"))
        line = page.select_one("p.lecture-slides")
        assert line is not None, f"{docname}.html does not link its slides"
        targets = {Path(unquote(a["href"])).name for a in line.find_all("a")}
        stem = Path(docname).name
        assert targets == {f"{stem}.html", f"{stem}.pdf"}
        for link in line.find_all("a"):
            target = ((built_site / docname).parent / unquote(link["href"])).resolve()
            assert target == (decks / Path(link["href"]).name).resolve() and target.is_file(), link["href"]


def test_student_decks_hold_no_solution_text(decks: Path):
    from test_homework import BOOK_SOURCES, site_text, solution_lines

    lines = solution_lines(BOOK_SOURCES)
    assert sum(map(len, lines.values())) >= 20, "the detector has no solution lines to look for"
    for stem in STEMS:
        text = site_text(decks / f"{stem}.html")
        for source, found in lines.items():
            leaked = [line for line in found if line in text]
            assert not leaked, f"{stem}: solution text of {source} in the deck: {leaked[:3]}"


# What a test reads off an open deck: per slide, its kind, notes, fit, images and math; and the deck's totals.
DECK_FACTS = """() => {
  const slides = [...document.querySelectorAll('.reveal .slides > section')];
  return {
    total: Reveal.getTotalSlides(),
    typeset: document.querySelectorAll('mjx-container').length,
    tex: document.querySelectorAll('.math').length,
    untypeset: [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container')).length,
    merror: document.querySelectorAll('mjx-merror').length,
    slides: slides.map(s => ({
      cls: s.className,
      label: s.dataset.label || '',
      notes: (s.querySelector('aside.notes') || {textContent: ''}).textContent.trim().length,
      pasted: s.querySelectorAll('aside.notes .pasted-text, aside.notes .pasted-inline').length,
      fragments: s.querySelectorAll('.fragment').length,
    })),
  };
}"""


def _open(browser, url: str, *, scheme: str = "light", query: str = ""):
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    tab = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    failed: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("response", lambda resp: failed.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)
    base = url.rsplit("/", 1)[0]

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    tab.route("**/*", route)
    tab.goto(url + query, wait_until="networkidle", timeout=120_000)
    tab.evaluate(slides.READY)
    return tab, context, errors, outside, failed


def _png_dpi(data: bytes) -> float:
    from PIL import Image

    dpi = Image.open(io.BytesIO(data)).info.get("dpi")
    assert dpi, "a figure PNG carries no dpi"
    return float(dpi[0])


def _image_bytes(tab, decks: Path, src: str) -> bytes:
    if src.startswith("data:"):
        return base64.b64decode(src.split(",", 1)[1])
    return (decks / "_images" / unquote(src.rsplit("/_images/", 1)[1])).read_bytes()


def _check_figure(tab, decks: Path, stem: str, index: int, problems: list[str]) -> None:
    """The figure on the current slide: loaded, described, inside the frame, and its smallest text at least 18 px."""
    images = tab.evaluate(
        """() => [...Reveal.getCurrentSlide().querySelectorAll('img')].map(i => {
             const r = i.getBoundingClientRect();
             return {src: i.currentSrc || i.src, alt: i.alt, complete: i.complete, natural: i.naturalWidth,
                     width: r.width, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
           })"""
    )
    where = f"{stem} slide {index}"
    if not images:
        problems.append(f"{where}: no figure")
    for image in images:
        if not image["complete"] or not image["natural"]:
            problems.append(f"{where}: the figure did not load")
            continue
        if len(image["alt"]) < 40:
            problems.append(f"{where}: the figure's alt text is missing or short: {image['alt']!r}")
        if image["left"] < -1 or image["top"] < -1 or image["right"] > VIEWPORT["width"] + 1:
            problems.append(f"{where}: the figure leaves the slide")
        if image["bottom"] > VIEWPORT["height"] + 1:
            problems.append(f"{where}: the figure leaves the slide at the bottom ({image['bottom']:.0f} px)")
        dpi = _png_dpi(_image_bytes(tab, decks, image["src"]))
        smallest = MIN_FONT_SIZE / 72 * dpi * image["width"] / image["natural"]
        if smallest < LEGIBLE_PX:
            problems.append(f"{where}: the smallest figure text is {smallest:.1f} px (at least {LEGIBLE_PX})")


def _check_explorer(tab, stem: str, index: int, problems: list[str]) -> None:
    """The slider of the explorer on the current slide moves from the keyboard, and the deck stays on the slide."""
    slider = tab.locator(".present input[type=range]")
    if slider.count() != 1:
        problems.append(f"{stem} slide {index}: {slider.count()} sliders")
        return
    slider.focus()
    image = tab.locator(".present img[id^=_anim_img]")
    before, value = image.get_attribute("src"), slider.input_value()
    tab.keyboard.press("ArrowRight" if slider.input_value() != slider.get_attribute("max") else "ArrowLeft")
    after = image.get_attribute("src")
    if slider.input_value() == value or after == before:
        problems.append(f"{stem} slide {index}: the slider did not move the figure from the keyboard")
    if tab.evaluate("() => Reveal.getIndices().h") != index:
        problems.append(f"{stem} slide {index}: an arrow key on the slider left the slide")
    # Escape gives the arrow keys back to the deck (and does not open reveal.js's overview).
    tab.keyboard.press("Escape")
    focus = tab.evaluate("() => document.activeElement.tagName + ' ' + Reveal.isOverview()")
    if focus != "BODY false":
        problems.append(f"{stem} slide {index}: after Escape on the slider: {focus}")


def test_every_deck_in_a_real_browser(browser, decks: Path):
    problems: list[str] = []
    counts = {}
    with _serve(decks) as url:
        for stem in STEMS:
            tab, context, errors, outside, failed = _open(browser, f"{url}/{stem}.html")
            try:
                facts = tab.evaluate(DECK_FACTS)
                counts[stem] = facts["total"]
                low, high = slides.SLIDE_COUNT
                if not low <= facts["total"] <= high:
                    problems.append(f"{stem}: {facts['total']} slides, not {low}–{high}")
                if not facts["typeset"] or facts["untypeset"] or facts["merror"]:
                    problems.append(
                        f"{stem}: math: {facts['typeset']} typeset, {facts['untypeset']} left as TeX, "
                        f"{facts['merror']} errors"
                    )
                kinds = [s["cls"].split()[0] if s["cls"] else "" for s in facts["slides"]]
                assert kinds[0] == "title-slide" and facts["slides"][-1]["label"] == "summary", kinds
                for index, slide in enumerate(facts["slides"]):
                    if slide["notes"] < 80:
                        problems.append(f"{stem} slide {index} ({slide['label']}): no speaker notes")
                if not any(s["fragments"] for s in facts["slides"]):
                    problems.append(f"{stem}: nothing is revealed step by step")
                glued = decks.parent / "html" / "book" / f"{stem}.html"
                if glued.is_file() and "pasted-" in glued.read_text(encoding="utf-8"):
                    if not any(s["pasted"] for s in facts["slides"]):
                        problems.append(f"{stem}: the chapter glues numbers, the notes show none")
                for index in range(facts["total"]):
                    tab.evaluate(f"() => Reveal.slide({index}, 0, -1)")
                    fits = tab.evaluate(
                        "() => { const s = Reveal.getCurrentSlide(); return s.scrollHeight <= s.clientHeight + 1; }"
                    )
                    if not fits:
                        problems.append(f"{stem} slide {index}: the content overflows the slide")
                    kind = kinds[index]
                    if kind in ("figure-entry", "explorer-entry"):
                        _check_figure(tab, decks, stem, index, problems)
                    if kind == "explorer-entry":
                        _check_explorer(tab, stem, index, problems)
                    if facts["slides"][index]["fragments"]:
                        # Fragments appear one step at a time, from the keyboard.
                        tab.evaluate(f"() => Reveal.slide({index}, 0, -1)")
                        shown = "() => Reveal.getCurrentSlide().querySelectorAll('.fragment.visible').length"
                        tab.keyboard.press("ArrowRight")
                        if tab.evaluate(shown) != 1 or tab.evaluate("() => Reveal.getIndices().h") != index:
                            problems.append(f"{stem} slide {index}: the first step did not reveal one fragment")
            finally:
                context.close()
            problems += [f"{stem}: script error: {e}" for e in errors]
            problems += [f"{stem}: request left the local server: {u}" for u in outside]
            problems += [f"{stem}: failed request: {f}" for f in failed]
    print("slides per deck:", counts)
    assert not problems, "\n".join(problems)


def test_decks_in_dark_mode(browser, decks: Path):
    with _serve(decks) as url:
        for stem in STEMS:
            tab, context, errors, outside, failed = _open(browser, f"{url}/{stem}.html", scheme="dark")
            try:
                theme = tab.evaluate("() => document.documentElement.dataset.theme")
                background = tab.evaluate("() => getComputedStyle(document.querySelector('.reveal')).backgroundColor")
                typeset = tab.evaluate("() => document.querySelectorAll('mjx-container').length")
                tab.keyboard.press("d")  # the D key switches to light
                switched = tab.evaluate("() => document.documentElement.dataset.theme")
            finally:
                context.close()
            assert theme == "dark" and switched == "light", f"{stem}: {theme} then {switched}"
            assert background in ("rgb(20, 24, 30)", "rgba(0, 0, 0, 0)"), f"{stem}: background {background}"
            assert typeset > 0 and not errors and not outside and not failed, f"{stem}: {errors} {outside} {failed}"


def test_axe_finds_no_wcag_violation_on_any_slide(browser, decks: Path):
    """axe-core on reveal.js's print view, which lays every slide out at once with its fragments shown (one page per
    slide here, not per step: the steps add no markup). All WCAG 2.1 A/AA rules in light mode; in dark mode the
    rules about colour, the only thing the dark mode changes."""
    from axe_playwright_python.sync_playwright import Axe
    from test_accessibility import WCAG_TAGS

    colour_rules = ["color-contrast", "link-in-text-block"]
    lines: list[str] = []
    with _serve(decks) as url:
        for stem in STEMS:
            for mode in ("light", "dark"):
                query = f"?print-pdf&pdfSeparateFragments=false&theme={mode}"
                tab, context, errors, outside, failed = _open(browser, f"{url}/{stem}.html", scheme=mode, query=query)
                try:
                    pages = tab.evaluate("() => document.querySelectorAll('.pdf-page').length")
                    assert pages == len(_deck_markup(decks, stem).select("div.slides > section")), f"{stem}: {pages}"
                    assert tab.evaluate("() => document.documentElement.dataset.theme") == mode
                    # What the deck itself did (axe-core then fetches the stylesheets it reads, reveal.js's theme
                    # @import resolved against the page: a 404 of axe's, not of the deck's).
                    lines += [f"{stem} [{mode}]: {problem}" for problem in errors + outside + failed]
                    if mode == "light":
                        options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
                    else:
                        options = {"runOnly": {"type": "rule", "values": colour_rules}, "resultTypes": ["violations"]}
                    result = Axe().run(tab, options=options).response
                finally:
                    context.close()
                for rule in result["violations"]:
                    for node in rule["nodes"]:
                        checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
                        why = next((c["message"] for c in checks), "")
                        lines.append(f"{stem} [{mode}] {rule['id']}: {' '.join(map(str, node['target']))}: {why}")
    assert not lines, "\n".join(lines)
