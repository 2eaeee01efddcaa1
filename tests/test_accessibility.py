"""Accessibility of the website (WCAG 2.1 AA), checked in the same headless Chromium as tests/test_site.py.

- axe-core (the copy bundled by the pip package ``axe-playwright-python``), with the WCAG 2.0/2.1 A and AA rules, in
  light and in dark mode: no violation on any page of the student edition, nor in what the instructor edition adds
  (its solutions, and its frame);
- the step-size sliders: labelled, moved by the keyboard, announcing the step they show, frames described and sharp;
- phones: at 390 px no page of the student edition scrolls sideways, and no slider overflows its column;
- mathematics: every typeset formula carries assistive MathML, and MathJax's explorer (speech) works offline.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_site import _pages, _serve

pytestmark = pytest.mark.site

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}


def _content_pages(html: Path) -> list[Path]:
    """Every page of a built site except the root's redirect (a bare meta refresh to book/index.html)."""
    pages = [p for p in _pages(html) if 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")[:300]]
    assert (html / "book" / "index.html") in pages, "the landing page is missing"
    return pages


def _open(browser, url: str, site: Path, page: Path, mode: str = "light", viewport: dict | None = None):
    """Open a page in a colour mode with MathJax typeset; return (tab, context, requests that left the site).

    The colour mode is what the theme's switch stores: ``localStorage.mode`` and ``localStorage.theme`` (the
    theme's early script reads ``theme``, its main script ``mode``), set before the page's scripts run.
    """
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    context.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(url):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    tab = context.new_page()
    tab.route("**/*", route)
    tab.goto(f"{url}/{page.relative_to(site).as_posix()}", wait_until="networkidle", timeout=120_000)
    tab.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    theme = tab.evaluate("() => document.documentElement.dataset.theme")
    assert theme == mode, f"{page.name}: asked for {mode} mode, the page shows data-theme={theme!r}"
    return tab, context, outside


# Open what starts collapsed (the instructor edition's solutions, hidden code cells) so that axe checks it too, and
# wait for the themes' 0.3 s fade-in to end (half-faded text would be measured with the wrong contrast).
EXPAND = """async () => {
  document.querySelectorAll('details:not([open])').forEach(d => { d.open = true; });
  document.querySelectorAll('button.toggle-button').forEach(b => {
    const box = b.closest('.toggle');
    if (box && box.classList.contains('toggle-hidden')) b.click();
  });
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const finite = document.getAnimations().filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity);
  await Promise.all(finite.map(a => a.finished.catch(() => null)));
}"""


# Turn an open page dark with the theme's switch button, as a reader does (it cycles light -> auto -> dark when the
# browser prefers light), and wait for the colour transitions to end; returns the theme the page then shows.
SWITCH_TO_DARK = """async () => {
  const button = document.querySelector('.theme-switch-button');
  for (let i = 0; button && i < 3 && document.documentElement.dataset.theme !== 'dark'; i++) button.click();
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const finite = document.getAnimations().filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity);
  await Promise.all(finite.map(a => a.finished.catch(() => null)));
  return document.documentElement.dataset.theme;
}"""


def _axe_violations(tab, page_name: str, mode: str, context: dict | None = None) -> list[str]:
    """axe-core's WCAG A/AA violations on the open page (or on the part of it that ``context`` selects)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result = Axe().run(tab, context=context, options=options).response
    lines = []
    for rule in result["violations"]:
        for node in rule["nodes"]:
            why = next((c["message"] for c in node.get("any", []) + node.get("all", []) + node.get("none", [])), "")
            lines.append(
                f"{page_name} [{mode}] {rule['id']} ({rule['impact']}): {' '.join(map(str, node['target']))}\n    {why}"
            )
    return lines


#: The parts of a page that differ between the editions: the solutions (shown to instructors only) and, on a
#: homework page, the download line (instructors also get the instructor notebook).
EDITION_PARTS = ("div.solution", "p.homework-downloads")


class _Common(HTMLParser):
    """The tags and text of a page's HTML outside the parts that differ between the editions (``EDITION_PARTS``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping: str | None = None  # the tag of the edition part we are in
        self.depth = 0  # how many such tags are open in it
        self.parts = 0
        self.items: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.skipping:
            self.depth += tag == self.skipping
        elif any(part == f"{tag}.{name}" for part in EDITION_PARTS for name in classes):
            self.skipping, self.depth, self.parts = tag, 1, self.parts + 1
        else:
            self.items.append(tag)

    def handle_endtag(self, tag):
        if self.skipping:
            self.depth -= tag == self.skipping
            self.skipping = self.skipping if self.depth else None
        else:
            self.items.append("/" + tag)

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.items.append(data.strip())


def _common(html: str) -> _Common:
    parser = _Common()
    parser.feed(html)
    parser.close()
    return parser


def _article(page: Path) -> str | None:
    """The page's ``<article>`` (its content; the rest is the theme's frame, the same template on every page)."""
    text = page.read_text(encoding="utf-8")
    start = text.find("<article")
    return text[start : text.find("</article>", start)] if start >= 0 else None


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_axe_finds_no_wcag_violation(browser, edition, request):
    """axe-core, WCAG 2.0/2.1 A and AA, every page of an edition, light and dark: zero violations.

    Each page is loaded once, in light mode, and checked; then the theme's own switch button turns it dark, as a
    reader would, and it is checked again. (Loading a page in dark mode is checked by the figure tests.)

    The instructor edition differs from the student edition only by its solutions, shown, and its homework download
    lines: the test first checks that, page by page (the same tags and text outside ``EDITION_PARTS``), then checks
    its landing page whole (the edition's frame) and, on every page that differs, those parts.
    """
    site = request.getfixturevalue("built_site" if edition == "student" else "instructor_site")
    pages = _content_pages(site)
    jobs: list[tuple[Path, dict | None]] = [(page, None) for page in pages]  # (page, the part axe checks)
    if edition == "instructor":
        student = request.getfixturevalue("built_site")
        differing = []
        for page in pages:
            twin = student / page.relative_to(site)
            assert twin.is_file(), f"{page.relative_to(site)} is in the instructor edition only"
            if _article(twin) != _article(page):
                ours, theirs = _common(_article(page) or ""), _common(_article(twin) or "")
                assert ours.items == theirs.items and ours.parts > 0, (
                    f"{page.relative_to(site)}: the instructor page differs from the student page outside "
                    f"{' and '.join(EDITION_PARTS)}, so checking only those would miss something"
                )
                differing.append(page)
        assert len(differing) >= 13, f"only {len(differing)} instructor pages differ from the student edition"
        landing = site / "book" / "index.html"
        jobs = [(landing, None)] + [(page, {"include": [[part] for part in EDITION_PARTS]}) for page in differing]
    problems: list[str] = []
    checked = 0
    with _serve(site) as url:
        for page, part in jobs:
            name = page.relative_to(site).as_posix() + (" (the edition's parts)" if part else "")
            tab, context, outside = _open(browser, url, site, page, "light")
            try:
                tab.evaluate(EXPAND)
                problems += _axe_violations(tab, name, "light", part)
                theme = tab.evaluate(SWITCH_TO_DARK)
                assert theme == "dark", f"{name}: the theme's switch gave data-theme={theme!r}, not dark"
                problems += _axe_violations(tab, name, "dark", part)
                checked += 2
            finally:
                context.close()
            problems += [f"{name}: request left the site: {u}" for u in outside]
    assert checked >= 2 * 14, f"only {checked} page views were checked"
    assert not problems, f"{len(problems)} accessibility violations in the {edition} edition:\n" + "\n".join(problems)


def _explorer_pages(site: Path) -> list[Path]:
    return [p for p in _content_pages(site) if "_anim_slider" in p.read_text(encoding="utf-8")]


SLIDER_STATE = """slider => {
  const id = slider.id.replace('_anim_slider', '');
  const image = document.getElementById('_anim_img' + id);
  const output = document.getElementById('_anim_value' + id);
  return {value: slider.value, valuetext: slider.getAttribute('aria-valuetext'),
          labels: [...slider.labels].map(l => l.textContent.trim()),
          announced: output && output.textContent.trim(), live: output && output.getAttribute('aria-live'),
          src: image.src, alt: image.alt, natural: image.naturalWidth, shown: image.getBoundingClientRect().width};
}"""


def test_sliders_are_labelled_keyboard_operable_and_announce_the_step(browser, built_site: Path):
    pages = _explorer_pages(built_site)
    assert len(pages) >= 3, "chapters 2, 4 and 5 each have a step-size slider"
    problems = []
    with _serve(built_site) as url:
        for page in pages:
            tab, context, outside = _open(browser, url, built_site, page)
            try:
                sliders = tab.locator("input[type=range][id^=_anim_slider]")
                for i in range(sliders.count()):
                    slider = sliders.nth(i)
                    where = f"{page.name} slider {i}"
                    slider.scroll_into_view_if_needed()
                    start = slider.evaluate(SLIDER_STATE)
                    assert start["announced"], f"{where}: no live region shows the step: {start}"
                    symbol = start["announced"].split(" = ")[0]
                    assert start["labels"] == [f"Step size {symbol}"], f"{where}: label {start['labels']}"
                    assert start["live"] == "polite", f"{where}: the step shown is not a live region"
                    assert start["announced"] == start["valuetext"], f"{where}: {start}"
                    assert start["alt"] and symbol in start["alt"], f"{where}: frame alt text {start['alt']!r}"
                    # sharp on a screen with 2 device pixels per CSS pixel
                    assert start["natural"] >= 2 * start["shown"] - 1, (
                        f"{where}: {start['natural']} px shown at {start['shown']}"
                    )
                    slider.focus()
                    tab.keyboard.press("ArrowRight")
                    moved = slider.evaluate(SLIDER_STATE)
                    assert int(moved["value"]) == int(start["value"]) + 1, f"{where}: ArrowRight did not move it"
                    assert moved["src"] != start["src"], f"{where}: ArrowRight did not change the frame"
                    assert moved["announced"] != start["announced"], f"{where}: the announced step did not change"
                    assert moved["valuetext"] == moved["announced"], f"{where}: {moved}"
                    assert moved["alt"] != start["alt"], f"{where}: the frame's alt text did not follow the step"
                    tab.keyboard.press("End")
                    last = slider.evaluate(SLIDER_STATE)
                    assert int(last["value"]) == int(slider.get_attribute("max")), f"{where}: End did not go to the end"
            finally:
                context.close()
            problems += [f"{page.name}: request left the site: {u}" for u in outside]
    assert not problems, "\n".join(problems)


def test_sliders_open_on_the_step_the_chapter_asks_for(browser, built_site: Path):
    """Chapter 5 asks for δ = 0.5: its slider opens there (the nearest position, 0.512), not on the first step."""
    page = built_site / "book" / "05_deep_linear.html"
    with _serve(built_site) as url:
        tab, context, _ = _open(browser, url, built_site, page)
        try:
            state = tab.locator("input[type=range][id^=_anim_slider]").first.evaluate(SLIDER_STATE)
        finally:
            context.close()
    assert state["announced"] == "δ = 0.512", state


def test_no_page_scrolls_sideways_on_a_phone(browser, built_site: Path):
    """At 390 px no page scrolls sideways (code, tables and formulas may scroll inside their own box)."""
    problems = []
    with _serve(built_site) as url:
        for page in _content_pages(built_site):
            tab, context, _ = _open(browser, url, built_site, page, viewport=PHONE)
            try:
                width = tab.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
                if width[0] > width[1]:
                    problems.append(f"{page.name}: {width[0]} px wide in a {width[1]} px window")
                for i, box in enumerate(
                    tab.evaluate("""() => [...document.querySelectorAll('.animation')].map(e => {
                        const column = e.closest('.cell_output') || e.parentElement;
                        return [e.getBoundingClientRect().right, column.getBoundingClientRect().right,
                                column.scrollWidth, column.clientWidth]; })""")
                ):
                    if box[0] > box[1] + 0.5 or box[2] > box[3]:
                        problems.append(f"{page.name}: slider {i} overflows its column on a phone: {box}")
            finally:
                context.close()
    assert not problems, "\n".join(problems)


def test_every_formula_has_assistive_mathml(page_visits: list[dict]):
    """Every typeset formula carries assistive MathML (or a label), read on the one visit of each page."""
    formulas = sum(v["typeset"] for v in page_visits)
    problems = [
        f"{v['page']}: {v['bare']} of {v['typeset']} formulas have neither assistive MathML nor a label"
        for v in page_visits
        if v["bare"]
    ]
    assert formulas > 100, f"only {formulas} formulas were typeset"
    assert not problems, "\n".join(problems)


def test_mathjax_explorer_speaks_offline(browser, built_site: Path):
    """Switched on in MathJax's menu (saved in localStorage), the explorer loads from the site and labels formulas."""
    page = built_site / "book" / "01_descent_condition.html"
    with _serve(built_site) as url:
        context = browser.new_context()
        context.add_init_script("localStorage.setItem('MathJax-Menu-Settings', JSON.stringify({explorer: true}));")
        outside: list[str] = []
        tab = context.new_page()
        tab.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(url) else (outside.append(r.request.url), r.abort()),
        )
        try:
            tab.goto(f"{url}/{page.relative_to(built_site).as_posix()}", wait_until="networkidle", timeout=120_000)
            tab.evaluate("() => MathJax.startup.promise")
            tab.wait_for_function(
                "() => document.querySelectorAll('mjx-container[aria-label]').length"
                " === document.querySelectorAll('mjx-container').length",
                timeout=60_000,
            )
            labels = tab.evaluate(
                "() => [...document.querySelectorAll('mjx-container')].map(c => c.getAttribute('aria-label'))"
            )
        finally:
            context.close()
    assert len(labels) > 50 and all(label.strip() for label in labels)
    assert not outside, f"the explorer fetched from outside the site: {outside}"


# Every box of a page that can scroll sideways: figures, slider frames, tables, display formulas, code.
SCROLL_BOXES = """() => {
  const selector = ['pre', 'div.cell_output figure > a.image-reference', 'div.cell_output', '.step-explorer-view',
                    '.pst-scrollable-table-container', 'div.math', "mjx-container[display='true']"].join(', ');
  return [...document.querySelectorAll('article ' + selector.split(', ').join(', article '))]
    .filter(box => box.getClientRects().length && !box.closest('details:not([open])')
                   && box.scrollWidth > box.clientWidth + 1)
    .map((box, i) => {
      box.setAttribute('data-scroll-box', i);
      return {i, tag: box.tagName.toLowerCase(), cls: box.className, focusable: box.tabIndex >= 0,
              cue: box.classList.contains('course-scrolls') && /gradient/.test(getComputedStyle(box).backgroundImage),
              overflow: getComputedStyle(box).overflowX};
    });
}"""


def test_on_a_phone_what_scrolls_sideways_shows_it_and_takes_the_keyboard(browser, built_site: Path):
    """At 390 px: every box wider than its column (a table, a formula, code; a figure, were one too wide) scrolls
    inside itself, shows edge shadows (a visible cue that it scrolls), and can be focused and scrolled with the arrow
    keys."""
    pages = [built_site / "book" / name for name in ("01_descent_condition.html", "07_relu_networks.html")]
    pages += [built_site / "book" / "api" / "lecturelib.html", built_site / "book" / "api" / "gd.html"]
    problems, seen, kinds = [], 0, set()
    with _serve(built_site) as url:
        for page in pages:
            tab, context, _ = _open(browser, url, built_site, page, viewport=PHONE)
            try:
                tab.wait_for_timeout(1500)  # the resize observers' first rounds, after MathJax has typeset
                boxes = tab.evaluate(SCROLL_BOXES)
                for box in boxes:
                    where = f"{page.name}: {box['tag']}.{box['cls']}"
                    if box["overflow"] not in ("auto", "scroll"):
                        problems.append(f"{where} is wider than its column and does not scroll")
                    elif not box["focusable"] or not box["cue"]:
                        problems.append(f"{where}: focusable {box['focusable']}, scroll cue {box['cue']}")
                    kinds.add(box["tag"] if box["tag"] != "div" else box["cls"].split()[0])
                seen += len(boxes)
                if boxes:  # the keyboard scrolls the first one
                    element = tab.locator(f"[data-scroll-box='{boxes[0]['i']}']")
                    element.focus()
                    before = element.evaluate("e => e.scrollLeft")
                    tab.keyboard.press("ArrowRight")
                    tab.wait_for_timeout(200)
                    if element.evaluate("e => e.scrollLeft") <= before:
                        problems.append(f"{page.name}: ArrowRight does not scroll {boxes[0]}")
            finally:
                context.close()
    print(f"\n{seen} boxes scroll sideways at 390 px, of kinds {sorted(kinds)}")
    # Figures do not scroll on a phone: they are served in their phone layout (tests/test_figures.py holds that).
    assert seen >= 10 and {"pre", "mjx-container", "pst-scrollable-table-container"} <= kinds, (
        f"only {seen} scrolling boxes ({kinds}): the check missed a kind (code, formula, table)"
    )
    assert not problems, "\n".join(problems)


SLIDER_LOOK = """() => [...document.querySelectorAll('.step-explorer')].map(box => {
  const panel = box.closest('.output') || box.parentElement;
  const buttons = [...box.querySelectorAll('.anim-buttons button')].map(b => b.getBoundingClientRect().top);
  const button = box.querySelector('.anim-buttons button');
  return {panel: getComputedStyle(panel).backgroundColor, rows: new Set(buttons.map(Math.round)).size,
          count: buttons.length, button: getComputedStyle(button).backgroundColor,
          page: getComputedStyle(document.body).backgroundColor};
})"""


def test_sliders_take_the_theme_colours_and_keep_their_buttons_on_one_row(browser, built_site: Path):
    problems = []
    with _serve(built_site) as url:
        for page in _explorer_pages(built_site):
            for mode, viewport in (("dark", None), ("light", PHONE), ("dark", PHONE)):
                tab, context, _ = _open(browser, url, built_site, page, mode=mode, viewport=viewport)
                try:
                    for i, look in enumerate(tab.evaluate(SLIDER_LOOK)):
                        where = f"{page.name} slider {i} ({mode}, {(viewport or {}).get('width', 1280)} px)"
                        if look["count"] != 9 or look["rows"] != 1:
                            problems.append(f"{where}: {look['count']} buttons on {look['rows']} rows")
                        if mode == "dark" and look["panel"] not in ("rgba(0, 0, 0, 0)", look["page"]):
                            problems.append(f"{where}: the widget sits on a panel of {look['panel']}")
                        if mode == "dark" and look["button"] in ("rgb(239, 239, 239)", "rgb(255, 255, 255)"):
                            problems.append(f"{where}: light buttons {look['button']} on a dark page")
                finally:
                    context.close()
    assert not problems, "\n".join(problems)
