"""Lecture slides: one reveal.js deck per lecture chapter, made from the built website, and the links to them.

Run after the site build (README, "Slides")::

    jupyter-book build . -W -n --keep-going
    python book/_ext/slides.py            # -> _build/slides/<chapter>.html and <chapter>.pdf

Where the content comes from. A deck is cut from the chapter's page of the built (student) website,
``_build/html/book/<chapter>.html``: the definitions and theorems as the book numbers and typesets them, the figures
with their alt text, the step-size explorers with their slider, the glued numbers, all from the one execution of
the notebooks that made the site. Nothing is executed again and nothing is written twice: the chapters' sources
stay as they are, and what goes on the slides is chosen in a short outline per chapter, ``book/slides/<chapter>.yml``,
by the labels the chapter already has (``:label:`` of a definition or theorem, ``name:`` of a figure, the anchor of
a section). A label an outline names that the page lacks stops the build with its name.

Each outline entry is one slide, a mapping with one of

- ``item: <label>``: a definition, theorem, lemma, proposition, corollary or exercise, titled with its number in
  the book;
  with ``reveal: true`` its statement appears block by block (each paragraph, display equation or list item a
  fragment), as an argument builds up on the authors' slides;
- ``figure: <label>``: a figure, or a step-size explorer (its slider works from the keyboard), filling the slide;
  its caption goes to the speaker notes, its alt text is the book's;
  with ``split: true`` a figure of panels stacked one above the other that would be too small on one slide is
  cut at the blank band between its panels into two slides (the top, then the bottom), each with the book's alt
  text;
- ``points: <section anchor>``: the bold (key) sentences of a section, one per step, their paragraphs in the notes;
- ``list: <section anchor>``: the first list of a section (``pick: 1``: the second), one item per step; with
  ``key: true`` only each item's bold sentence is shown (the whole item goes to the notes);
- ``math: <section anchor>``: the display equations of a section (``pick: [0, 2]``: those, counted from 0), one per
  step (the key equations), with the sentences that introduce them in the notes.

``title:`` overrides a slide's heading. The deck adds a title slide (chapter, course, version, licence), a contents
slide (the chapter's sections) and a summary slide (the chapter's Summary section, one point per step). Every
content slide carries speaker notes taken from the book: the paragraph after an item, the paragraphs that cite it
or the figure (with their glued numbers), a figure's caption, and the paragraphs of the slide's section that hold
glued values.

Offline. reveal.js is installed from npm at build time (``npm install reveal.js@4.6.0`` into
``_build/.slides-npm``, never committed) and copied beside the decks with the site's own MathJax
(``sphinx-mathjax-offline``), so a deck requests nothing from another host. Each deck is printed to PDF by headless
Chromium (reveal.js's ``?print-pdf`` view, one page per fragment step). Dark mode follows the system's colour
scheme, ``?theme=dark`` or the D key.

As a Sphinx extension (``_config.yml``), this module puts a line under the title of every lecture chapter's page
linking its deck and the deck's PDF (``../slides/<chapter>.html`` from the site's root).

Tested by ``tests/test_slides.py``.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUTLINES = ROOT / "book" / "slides"
LECTURES_CAPTION = "Lectures"
REVEAL_VERSION = "4.6.0"
WIDTH, HEIGHT = 1280, 720
SLIDE_COUNT = (15, 30)  # the slides a lecture's deck has, title and summary included
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ENTRY_KINDS = ("item", "figure", "list", "math", "points")
ENTRY_OPTIONS = {"title", "reveal", "key", "pick", "split"}
# The blocks of sphinx-proof the ``item`` slides show (its ``prf:`` directives) and of a theorem-like block's content.
PROOF_CLASSES = ("definition", "theorem", "lemma", "proposition", "corollary", "conjecture", "axiom", "criterion")
# sphinx-exercise's exercises (a question for the room; their solutions are never shown: the student site has none).
ITEM_CLASSES = (*PROOF_CLASSES, "exercise")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class OutlineError(ValueError):
    """An outline that names a label the chapter does not have, or that is not an outline."""


def lecture_chapters(root: Path = ROOT) -> list[str]:
    """The docnames (``book/04_three_examples``) of the Lectures part of ``_toc.yml``, in its order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        if part.get("caption") == LECTURES_CAPTION:
            return [chapter["file"] for chapter in part.get("chapters", [])]
    raise OutlineError(f"_toc.yml has no part captioned {LECTURES_CAPTION!r}")


def outline_path(docname: str, outlines: Path = OUTLINES) -> Path:
    return outlines / f"{Path(docname).name}.yml"


def read_outline(path: Path) -> list[dict]:
    """The slide entries of an outline file, checked for form (not yet against the chapter)."""
    if not path.is_file():
        raise OutlineError(f"no slide outline {path} (every lecture chapter needs one)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("slides"), list):
        raise OutlineError(f"{path}: expected a mapping with a list under 'slides'")
    entries = []
    for number, entry in enumerate(data["slides"], start=1):
        if not isinstance(entry, dict):
            raise OutlineError(f"{path}: slide {number} is not a mapping")
        kinds = [k for k in ENTRY_KINDS if k in entry]
        unknown = set(entry) - set(ENTRY_KINDS) - ENTRY_OPTIONS
        if len(kinds) != 1 or unknown:
            raise OutlineError(f"{path}: slide {number} needs exactly one of {ENTRY_KINDS} (options {ENTRY_OPTIONS})")
        entries.append(entry)
    return entries


# ---------------------------------------------------------------------------------------------------------------
# Cutting the chapter's page into slides


@dataclass
class Slide:
    kind: str
    label: str
    heading: str
    body: str
    notes: list[str] = field(default_factory=list)
    steps: int = 0  # fragments (PDF pages beyond the first)


@dataclass
class Deck:
    docname: str
    number: str
    title: str
    slides: list[Slide]
    images: dict[str, tuple[str, tuple | None]]  # name on the slides: (the site's image, the box cut from it)

    @property
    def stem(self) -> str:
        return Path(self.docname).name


def _soup(text: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(text, "html.parser")


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


def _clean(element, *, keep_ids: bool = False):
    """A copy of a piece of the page fit for a slide: no permalink marks, links turned into their text (they point
    into the chapter's page), and no ids (the page's ids repeat on a slide deck that shows several of its blocks)."""
    element = copy.copy(element)
    for mark in element.select("a.headerlink"):
        mark.decompose()
    for link in element.find_all("a"):
        link.unwrap()
    if not keep_ids:
        for tag in [element, *element.find_all(True)]:
            tag.attrs.pop("id", None)
    return element


def _section(page, anchor: str):
    """The ``<section>`` a label or heading anchor names (a label before a heading is a span at its start)."""
    target = page.find(id=anchor)
    if target is None:
        return None
    return target if target.name == "section" else target.find_parent("section")


def _glued_paragraphs(section) -> list:
    """The paragraphs of a section (not of its subsections) that hold a glued value, as myst-nb pastes them."""
    if section is None:
        return []
    found = []
    for paragraph in section.find_all("p"):
        if paragraph.find_parent("section") is section and paragraph.select_one(".pasted-text, .pasted-inline"):
            found.append(paragraph)
    return found


def _citing_paragraphs(page, label: str, limit: int = 2) -> list:
    found = []
    for link in page.select(f'a[href="#{label}"]'):
        paragraph = link.find_parent(["p", "li"])
        if paragraph is not None and paragraph not in found and not paragraph.find_parent("figcaption"):
            found.append(paragraph)
    return found[:limit]


def _notes(parts: list) -> list[str]:
    seen, notes = set(), []
    for part in parts:
        if part is None:
            continue
        snippet = str(_clean(part))
        if snippet not in seen:
            seen.add(snippet)
            notes.append(snippet)
    return notes


def _fragment(tag, index: int | None = None) -> None:
    tag["class"] = [*tag.get("class", []), "fragment"]
    if index is not None:
        tag["data-fragment-index"] = str(index)


def _item_slide(page, label: str, entry: dict) -> Slide:
    block = page.find(id=label)
    if block is None or not any(c in block.get("class", []) for c in ITEM_CLASSES):
        raise OutlineError(f"no definition, theorem or exercise labelled {label!r}")
    title = block.select_one(".admonition-title")
    heading = entry.get("title") or _text(title)
    content = _clean(block.select_one("section") or block)
    content.name = "div"
    content["class"] = ["statement"]
    steps = 0
    if entry.get("reveal"):
        blocks = [child for child in content.children if getattr(child, "name", None)]
        for child in blocks[1:]:
            if child.name in ("ul", "ol"):
                for item in child.find_all("li", recursive=False):
                    _fragment(item)
                    steps += 1
            else:
                _fragment(child)
                steps += 1
    kind = next(c for c in ITEM_CLASSES if c in block.get("class", []))
    after = block.find_next_sibling("p")
    parts = [after, *_citing_paragraphs(page, label), *_glued_paragraphs(block.find_parent("section"))]
    notes = _notes(parts if kind != "exercise" else [content])
    if kind == "exercise":
        notes.append(
            f"<p>{html.escape(heading)} of the book, for the room: its solution is in the instructor edition of the "
            "course only (these student slides never show it).</p>"
        )
    body = f'<div class="proof-box {kind}">{content}</div>'
    return Slide("item", label, heading, body, notes, steps)


def _blank_band(image) -> tuple[int, int] | None:
    """The run of blank rows (transparent, or white without alpha) nearest the middle of a figure, within its middle
    half: where two stacked panels meet. ``None`` when there is none."""
    import numpy as np

    pixels = np.asarray(image.convert("RGBA"))
    blank = (pixels[..., 3] == 0).all(axis=1) | (pixels[..., :3] >= 250).all(axis=(1, 2))
    height = len(blank)
    runs, start = [], None
    for row in range(height + 1):
        if row < height and blank[row]:
            start = row if start is None else start
        elif start is not None:
            runs.append((start, row))
            start = None
    inside = [r for r in runs if height * 0.25 <= (r[0] + r[1]) / 2 <= height * 0.75 and r[1] - r[0] >= 4]
    return min(inside, key=lambda r: abs((r[0] + r[1]) / 2 - height / 2)) if inside else None


def _figure_slide(page, label: str, entry: dict, images: dict, site_images: Path | None) -> list[Slide]:
    figure = page.find(id=label)
    if figure is None or figure.name != "figure":
        raise OutlineError(f"no figure named {label!r}")
    caption = figure.find("figcaption")
    number = caption.select_one(".caption-number") if caption else None
    heading = entry.get("title") or (_text(number).rstrip(".: ") if number else label)
    caption_text = _clean(caption) if caption else None
    if caption_text is not None:
        caption_text.name = "p"
    notes = _notes([caption_text, *_citing_paragraphs(page, label), *_glued_paragraphs(figure.find_parent("section"))])
    explorer = figure.select_one(".step-explorer")
    if explorer is not None:
        # The explorer's own markup, ids and scripts included: its slider drives the frames by id.
        body = str(_clean(explorer.find_parent("div", class_="output") or explorer, keep_ids=True))
        return [Slide("explorer", label, heading, body, notes, 0)]
    image = figure.find("img")
    if image is None:
        raise OutlineError(f"figure {label!r} has no image")
    source = unquote(image["src"].split("_images/", 1)[-1])
    alt = html.escape(image.get("alt", ""), quote=True)
    if not entry.get("split"):
        images[source] = (source, None)
        body = f'<img class="slide-figure" src="_images/{html.escape(source)}" alt="{alt}">'
        return [Slide("figure", label, heading, body, notes, 0)]
    from PIL import Image

    if site_images is None:
        raise OutlineError(f"figure {label!r}: split needs the site's images")
    with Image.open(site_images / source) as whole:
        band = _blank_band(whole)
        width, height = whole.size
    if band is None:
        raise OutlineError(f"figure {label!r} has no blank band between panels to split at")
    stem, suffix = source.rsplit(".", 1)
    slides = []
    for part, box in (("top", (0, 0, width, band[0])), ("bottom", (0, band[1], width, height))):
        name = f"{stem}-{part}.{suffix}"
        images[name] = (source, box)
        body = f'<img class="slide-figure" src="_images/{html.escape(name)}" alt="{alt} (The {part} panel.)">'
        slides.append(Slide("figure", label, f"{heading}, {part}", body, notes, 0))
    return slides


def _points_slide(page, anchor: str, entry: dict) -> Slide:
    section = _section(page, anchor)
    if section is None:
        raise OutlineError(f"no section with the anchor {anchor!r}")
    keys, paragraphs = [], []
    for strong in section.find_all("strong"):
        paragraph = strong.find_parent(["li", "p"])
        if paragraph is None or paragraph.find_parent("section") is not section or paragraph.find_parent("figure"):
            continue
        keys.append(strong)
        paragraphs.append(paragraph)
    if not keys:
        raise OutlineError(f"section {anchor!r} has no bold sentence")
    heading = entry.get("title") or _text(_clean(section.find(["h1", "h2", "h3", "h4"])))
    items = []
    for index, key in enumerate(keys):
        item = _soup("<li></li>").li
        item.append(_clean(key))
        if index:
            _fragment(item)
        items.append(str(item))
    body = f'<ul class="key-points">{"".join(items)}</ul>'
    return Slide("points", anchor, heading, body, _notes(paragraphs + _glued_paragraphs(section)), len(keys) - 1)


def _list_slide(page, anchor: str, entry: dict) -> Slide:
    section = _section(page, anchor)
    if section is None:
        raise OutlineError(f"no section with the anchor {anchor!r}")
    lists = [found for found in section.find_all(["ul", "ol"]) if not found.find_parent(["ul", "ol"])]
    which = entry.get("pick", 0)
    if not isinstance(which, int) or not 0 <= which < len(lists):
        raise OutlineError(f"section {anchor!r} has {len(lists)} lists, not a list number {which!r} (from 0)")
    found = lists[which]
    heading = entry.get("title") or _text(_clean(section.find(["h1", "h2", "h3", "h4"])))
    shown = _clean(found)
    notes = []
    for item in shown.find_all("li", recursive=False):
        if entry.get("key"):
            key = item.find("strong")
            if key is None:
                raise OutlineError(f"section {anchor!r}: a list item has no bold sentence for key: true")
            notes.append(str(copy.copy(item)))
            item.clear()
            item.append(key)
    items = shown.find_all("li", recursive=False)
    for item in items[1:]:
        _fragment(item)
    steps = len(items) - 1
    if not entry.get("key"):
        # The section's own paragraphs (its key sentences); a section that is only a list (a summary) repeats it.
        own = [p for p in section.find_all("p") if p.find_parent("section") is section and not p.find_parent("li")]
        notes = _notes(own[:3] + _glued_paragraphs(section)) or [str(_clean(found))]
    else:
        notes = [f"<ol>{''.join(notes)}</ol>", *_notes(_glued_paragraphs(section))]
    return Slide("list", anchor, heading, str(shown), notes, steps)


def _math_slide(page, anchor: str, entry: dict) -> Slide:
    section = _section(page, anchor)
    if section is None:
        raise OutlineError(f"no section with the anchor {anchor!r}")
    equations = [m for m in section.select("div.math") if m.find_parent("section") is section]
    if not equations:
        raise OutlineError(f"section {anchor!r} has no display equation")
    pick = entry.get("pick")
    if pick is not None:
        if not all(isinstance(i, int) and 0 <= i < len(equations) for i in pick):
            raise OutlineError(
                f"section {anchor!r} has {len(equations)} display equations; pick {pick} is out of range"
            )
        equations = [equations[i] for i in pick]
    heading = entry.get("title") or _text(_clean(section.find(["h1", "h2", "h3", "h4"])))
    parts, notes = [], []
    for index, equation in enumerate(equations):
        shown = _clean(equation)
        if index:
            _fragment(shown)
        parts.append(str(shown))
        notes += [equation.find_previous_sibling("p"), equation.find_next_sibling("p")]
    if not any(notes):  # equations straight under the heading: the section's first paragraph introduces them
        notes = [p for p in section.find_all("p") if p.find_parent("section") is section][:2]
    return Slide("math", anchor, heading, "".join(parts), _notes(notes + _glued_paragraphs(section)), len(parts) - 1)


def _contents_slide(page) -> Slide:
    """The chapter's sections, as the lecture's plan; the notes hold the chapter's opening paragraph."""
    top = page.find("section")
    skip = {"overview", "summary", "exercises"}
    titles = []
    for section in top.find_all("section", recursive=False):
        if section.get("id") in skip:
            continue
        heading = section.find(["h2", "h3"])
        if heading is not None:
            titles.append(f"<li>{html.escape(_text(_clean(heading)))}</li>")
    overview = _section(page, "overview")
    opening = overview.find("p") if overview is not None else None
    return Slide(
        "contents", "contents", "This lecture", f'<ol class="contents">{"".join(titles)}</ol>', _notes([opening])
    )


def _summary_slide(page) -> Slide:
    section = page.find(id="summary")
    if section is None:
        raise OutlineError("the chapter has no Summary section (id 'summary') for the deck's last slide")
    return _list_slide(page, "summary", {"title": "Summary"})


def cut_deck(page_html: Path, docname: str, entries: list[dict], site_images: Path | None = None) -> Deck:
    """The slides an outline asks for, cut from a chapter's page of the built site."""
    page = _soup(page_html.read_text(encoding="utf-8"))
    article = page.select_one("article") or page
    title = _text(_clean(article.find("h1")))
    # The chapter's number as the site's navigation shows it ("4. Three examples: ...").
    current = page.select_one("nav a.current") or page.select_one("a.current")
    found = re.match(r"(\d+(?:\.\d+)*)\.\s", _text(current)) if current else None
    number = found[1] if found else ""
    if number and title.startswith(f"{number}. "):
        title = title[len(number) + 2 :]
    images: dict[str, tuple[str, tuple | None]] = {}
    slides = [_contents_slide(article)]
    for index, entry in enumerate(entries, start=1):
        kind = next(k for k in ENTRY_KINDS if k in entry)
        label = str(entry[kind])
        try:
            if kind == "item":
                slides.append(_item_slide(article, label, entry))
            elif kind == "figure":
                slides.extend(_figure_slide(article, label, entry, images, site_images))
            elif kind == "points":
                slides.append(_points_slide(article, label, entry))
            elif kind == "list":
                slides.append(_list_slide(article, label, entry))
            else:
                slides.append(_math_slide(article, label, entry))
        except OutlineError as error:
            raise OutlineError(f"{docname}, slide {index} ({kind}: {label}): {error}") from None
    slides.append(_summary_slide(article))
    return Deck(docname, number, title, slides, images)


# ---------------------------------------------------------------------------------------------------------------
# Writing a deck

_STYLE = """
:root { --r-main-font-size: 30px; --r-heading-font-size-2: 42px; --r-link-color: #1a5fb4;
  --r-link-color-hover: #0b3d80; --r-heading-text-transform: none; --proof-tint: #eef3fb; }
html[data-theme="dark"] { --r-background-color: #14181e; --r-main-color: #ced6dd; --r-heading-color: #e8edf2;
  --r-link-color: #8cb8ff; --r-link-color-hover: #b8d4ff; --proof-tint: #1f2733; }
html[data-theme="dark"] body { background: #14181e; }
.reveal .slides section { height: 720px; box-sizing: border-box; padding: 28px 48px; text-align: left; }
.reveal h1, .reveal h2 { text-align: left; margin-bottom: 0.5em; }
.reveal h2 { font-size: 42px; }
.reveal .title-slide h1 { font-size: 56px; margin-top: 140px; }
.reveal .title-slide p { margin: 0.4em 0; }
.reveal .title-slide .chapter { font-size: 34px; color: var(--r-heading-color); }
.reveal .proof-box { background: var(--proof-tint); border-left: 6px solid #1a5fb4; padding: 0.4em 0.8em; }
.reveal .proof-box p, .reveal .proof-box li { line-height: 1.35; }
.reveal ul, .reveal ol { display: block; margin-left: 1.2em; }
.reveal li { margin: 0.35em 0; line-height: 1.3; }
.reveal div.math { margin: 0.5em 0; }
.reveal section.figure-slide { display: flex !important; flex-direction: column; align-items: center;
  padding: 8px 16px; }
.reveal section.figure-slide h2 { align-self: flex-start; font-size: 28px; margin: 0 0 6px 0; }
.reveal img.slide-figure { flex: 1 1 auto; min-height: 0; max-height: 668px; max-width: 1248px; width: auto;
  height: 668px; object-fit: contain; margin: 0; background: transparent; }
.reveal .step-explorer .step-explorer-frame { max-height: 520px; width: auto; height: 520px; }
.reveal .step-explorer { font-size: 24px; }
.reveal .step-explorer .step-explorer-row { margin-top: 4px; }
.reveal .step-explorer input[type=range].anim-slider { width: 24rem; }
.reveal .step-explorer button { font-size: 18px; }
.reveal .step-explorer .anim-state { font-size: 18px; }
.reveal ol.contents li { margin: 0.2em 0; }
.reveal .contents-entry ol { font-size: 28px; }
.reveal .slide-number { background-color: #222; color: #fff; font-size: 18px; }
html[data-theme="dark"] .reveal img.slide-figure,
html[data-theme="dark"] .reveal .step-explorer img { filter: invert(1) hue-rotate(180deg); }
.reveal .course-line { font-size: 24px; }
.reveal a { text-decoration: underline; }
@media print { html[data-theme="dark"] { --r-background-color: #fff; } }
/* reveal.js breaks the page after every printed slide, the last one too: Chromium then adds a blank last page. */
html.print-pdf .reveal .slides .pdf-page:last-child { page-break-after: avoid; break-after: avoid; }
/* reveal.js's print view drops the slides' padding; the slides keep theirs. */
html.print-pdf .reveal .slides section { padding: 28px 48px !important; }
html.print-pdf .reveal .slides section.figure-slide { padding: 8px 16px !important; }
"""

_THEME_SCRIPT = """(function () {
  var asked = new URLSearchParams(location.search).get("theme");
  var dark = asked ? asked === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
})();
"""

# Escape on a slider hands the arrow keys back to the deck (reveal.js ignores keys while an input has the focus).
_INIT_SCRIPT = """
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (event.key === "Escape" && target && target.matches && target.matches("input[type=range]")) {
    target.blur();
    event.stopPropagation();
  }
}, true);
// Content a little too long for the frame is set smaller, down to 22 px, rather than cut off.
function fitSlides() {
  document.querySelectorAll(".reveal .slides > section").forEach(function (slide) {
    var display = slide.style.display, hidden = slide.hidden;
    slide.style.display = "block";  // slides away from the current one are not laid out
    slide.hidden = false;
    var size = parseFloat(getComputedStyle(slide).fontSize);
    while (slide.scrollHeight > slide.clientHeight + 1 && size > 22) {
      size -= 1;
      slide.style.fontSize = size + "px";
    }
    slide.style.display = display;
    slide.hidden = hidden;
  });
}
Reveal.initialize({
  hash: true, width: %(width)d, height: %(height)d, margin: 0, center: false, transition: "none",
  controls: true, progress: true, slideNumber: "c/t", pdfSeparateFragments: true, pdfMaxPagesPerSlide: 1,
  plugins: [RevealNotes],
  keyboard: { 68: function () {
    var root = document.documentElement;
    root.dataset.theme = root.dataset.theme === "dark" ? "light" : "dark";
  } }
}).then(function () {
  var typeset = window.MathJax && MathJax.startup && MathJax.startup.promise;
  return (typeset || Promise.resolve()).then(fitSlides);
});
"""


def _mathjax_config(site_page: str) -> str:
    """The MathJax configuration script of the site's page (so that slides typeset as the site does)."""
    page = _soup(site_page)
    for script in page.find_all("script"):
        if script.string and "MathJax" in script.string and "window.MathJax" in script.string:
            return script.string
    return ""


def _slide_html(slide: Slide) -> str:
    notes = "".join(slide.notes)
    classes = {"figure": "figure-slide", "explorer": "figure-slide explorer-slide"}.get(slide.kind, "")
    return (
        f'<section class="{slide.kind}-entry {classes}" data-label="{html.escape(slide.label)}">\n'
        f"<h2>{html.escape(slide.heading)}</h2>\n{slide.body}\n"
        f'<aside class="notes">{notes}</aside>\n</section>\n'
    )


def render_deck(deck: Deck, mathjax_config: str, version: str) -> str:
    chapter = f"Chapter {deck.number}" if deck.number else "Chapter"
    title_notes = (
        f"<p>{html.escape(chapter)}: {html.escape(deck.title)}. Every slide is cut from the book's chapter page; "
        "the notes hold its sentences and the numbers the chapter computes. Keys: S opens the speaker view, D "
        "switches light and dark, Escape on a slider gives the arrow keys back to the slides.</p>"
    )
    title = (
        '<section class="title-slide">\n'
        f'<p class="chapter">{html.escape(chapter)}</p>\n<h1>{html.escape(deck.title)}</h1>\n'
        f'<p class="course-line">Step Size Matters, version {html.escape(version)} — lecture slides</p>\n'
        f'<p class="course-line">The course content is licensed under <a href="{LICENCE_URL}">CC BY 4.0</a>; '
        "the code under the MIT licence.</p>\n"
        f'<aside class="notes">{title_notes}</aside>\n</section>\n'
    )
    slides = title + "".join(_slide_html(s) for s in deck.slides)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(chapter)}. {html.escape(deck.title)} — Step Size Matters slides</title>
<script>{_THEME_SCRIPT}</script>
<link rel="stylesheet" href="_static/reveal.js/dist/reset.css">
<link rel="stylesheet" href="_static/reveal.js/dist/reveal.css">
<link rel="stylesheet" href="_static/reveal.js/dist/theme/white.css">
<style>{_STYLE}</style>
<script>{mathjax_config}</script>
<script defer src="_static/mathjax/tex-chtml.js"></script>
<script defer src="_static/fontawesome.js"></script>
</head>
<body>
<main class="reveal" aria-label="{html.escape(chapter)} slides"><div class="slides">
{slides}</div></main>
<script src="_static/reveal.js/dist/reveal.js"></script>
<script src="_static/reveal.js/plugin/notes/notes.js"></script>
<script>{_INIT_SCRIPT % {"width": WIDTH, "height": HEIGHT}}</script>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------------------------
# The build


def install_reveal(cache: Path) -> Path:
    """reveal.js from npm into ``cache`` (once); returns its package folder."""
    package = cache / "node_modules" / "reveal.js"
    manifest = package / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text())["version"] == REVEAL_VERSION:
        return package
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install reveal.js for the slides (apt-get install npm)")
    cache.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache), f"reveal.js@{REVEAL_VERSION}"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not manifest.is_file():
        raise RuntimeError(f"npm install reveal.js@{REVEAL_VERSION} failed:\n{result.stdout}\n{result.stderr}")
    return package


def expected_pages(deck_html: str) -> int:
    """Pages of a deck's PDF: one per slide, and one more per fragment step (fragments sharing an index are one)."""
    page = _soup(deck_html)
    total = 0
    for section in page.select("div.slides > section"):
        indices, loose = set(), 0
        for fragment in section.select(".fragment"):
            if fragment.has_attr("data-fragment-index"):
                indices.add(fragment["data-fragment-index"])
            else:
                loose += 1
        total += 1 + len(indices) + loose
    return total


def print_pdfs(out: Path, stems: list[str]) -> None:
    """Each deck printed by headless Chromium through reveal.js's print view, to ``<stem>.pdf``."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
            for stem in stems:
                tab = context.new_page()
                tab.goto(f"{base}/{stem}.html?print-pdf&theme=light", wait_until="networkidle", timeout=120_000)
                tab.evaluate(READY)
                tab.pdf(path=str(out / f"{stem}.pdf"), prefer_css_page_size=True, print_background=True)
                tab.close()
            browser.close()
    finally:
        httpd.shutdown()


#: Waits until a deck is ready: MathJax has typeset and reveal.js has laid the slides out.
READY = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  if (!Reveal.isReady()) await new Promise(r => Reveal.on('ready', r));
  if (Reveal.isPrintingPDF()) {  // the print view lays its pages out after 'ready'
    while (!document.querySelector('.pdf-page')) await new Promise(r => setTimeout(r, 50));
  }
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""


def _save_crop(source: Path, box: tuple, target: Path) -> None:
    """Part of a figure, trimmed of blank rows, saved with the figure's resolution (its dpi)."""
    from PIL import Image

    with Image.open(source) as whole:
        part = whole.crop(box)
        dpi = whole.info.get("dpi")
    bounds = part.convert("RGBA").getbbox() if part.mode == "RGBA" else None
    if bounds:
        part = part.crop((0, bounds[1], part.width, bounds[3]))
    part.save(target, dpi=dpi) if dpi else part.save(target)


def build_decks(
    site: Path, out: Path, *, npm_cache: Path | None = None, pdf: bool = True, only: list[str] | None = None
) -> dict[str, int]:
    """Build every lecture's deck (or those of the chapter stems ``only``) from the built site ``site`` (its
    ``html`` folder) into ``out``.

    Returns the number of slides of each deck, by chapter stem.
    """
    from course_meta import course_version  # beside this file

    chapters = [d for d in lecture_chapters() if not only or Path(d).name in only]
    missing = [d for d in chapters if not (site / f"{d}.html").is_file()]
    if missing:
        raise RuntimeError(f"{site} has no page for {missing}: build the site first (jupyter-book build .)")
    reveal = install_reveal(npm_cache or ROOT / "_build" / ".slides-npm")
    out.mkdir(parents=True, exist_ok=True)
    static = out / "_static"
    shutil.rmtree(static, ignore_errors=True)
    for part in ("dist", "plugin/notes"):
        shutil.copytree(reveal / part, static / "reveal.js" / part)
    shutil.copytree(site / "_static" / "mathjax", static / "mathjax")
    # The theme's Font Awesome (a script that draws the icons), for the explorers' play buttons.
    shutil.copy2(site / "_static" / "scripts" / "fontawesome.js", static / "fontawesome.js")
    (out / "_images").mkdir(exist_ok=True)
    version = course_version(ROOT)
    counts = {}
    for docname in chapters:
        page_html = site / f"{docname}.html"
        deck = cut_deck(page_html, docname, read_outline(outline_path(docname)), site / "_images")
        for name, (source, box) in deck.images.items():
            if box is None:
                shutil.copy2(site / "_images" / source, out / "_images" / name)
            else:
                _save_crop(site / "_images" / source, box, out / "_images" / name)
        text = render_deck(deck, _mathjax_config(page_html.read_text(encoding="utf-8")), version)
        (out / f"{deck.stem}.html").write_text(text, encoding="utf-8")
        counts[deck.stem] = len(deck.slides) + 1
    if pdf:
        print_pdfs(out, list(counts))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the lecture slides from the built website.")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html", help="the built site's html folder")
    parser.add_argument("--out", type=Path, help="where the decks go (default: the site's ../slides)")
    parser.add_argument("--no-pdf", action="store_true", help="skip printing the decks to PDF")
    parser.add_argument("--only", nargs="+", metavar="CHAPTER", help="build only these chapters' decks (file stems)")
    args = parser.parse_args(argv)
    out = args.out or args.site.parent / "slides"
    start = time.perf_counter()
    try:
        counts = build_decks(args.site, out, pdf=not args.no_pdf, only=args.only)
    except (OutlineError, RuntimeError) as error:
        print(f"slides: {error}", file=sys.stderr)
        return 1
    for stem, count in counts.items():
        print(f"{stem}: {count} slides")
    print(f"{len(counts)} decks in {out} ({time.perf_counter() - start:.1f} s)")
    return 0


# ---------------------------------------------------------------------------------------------------------------
# The site's side: a line under each lecture chapter's title linking its deck and PDF


def _deck_links(app, doctree) -> None:
    from docutils import nodes

    docname = app.env.docname
    if docname not in lecture_chapters(Path(app.srcdir)):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    up = "../" * docname.count("/")
    stem = Path(docname).name
    line = (
        '<p class="lecture-slides"><strong>Lecture slides:</strong> '
        f'<a href="{up}../slides/{stem}.html">the deck (reveal.js, speaker notes with the S key)</a> · '
        f'<a href="{up}../slides/{stem}.pdf">the deck as PDF</a></p>'
    )
    title = next((i for i, child in enumerate(section.children) if isinstance(child, nodes.title)), -1)
    section.insert(title + 1, nodes.raw("", line, format="html"))


def setup(app) -> dict:
    app.connect("doctree-read", _deck_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # run as a script, its folder (with course_meta) is first on the path already
    sys.exit(main())
