"""The figures: described, numbered, cited, legible at the size the site shows them, readable in dark mode.

Three kinds of checks:

- the chapters' sources: every cell that draws a figure carries alt text, a caption and a name (myst-nb's
  ``mystnb: image: alt:`` and ``mystnb: figure:`` cell metadata), the prose cites each figure with ``{numref}``,
  and no cell sets a font smaller than the course style's smallest;
- the course style (``lecturelib.plots``): every colour of its palette keeps a contrast of at least 3:1 (WCAG's
  floor for graphics) against the page, in light mode and, after the site's dark-mode filter, in dark mode;
- the built site, in Chromium (``built_site`` from ``tests/conftest.py``, or ``SITE_HTML``):

  * **legibility**: for every image in a page, the size on screen of the style's smallest font,
    ``MIN_FONT_SIZE / 72 * dpi * displayed width / natural width`` CSS px (the dpi read from the PNG), must be at
    least ``LEGIBLE_FRACTION`` (0.8) of the page's small text (the computed size of a ``<small>`` in the article);
  * **dark mode**: with ``localStorage.theme = "dark"`` every figure is photographed; the figure's ink (the most
    common colour among its neutral, non-background pixels: axes, ticks and text) must have a contrast of at least
    4.5:1 (WCAG's floor for text) against the page colour around it. The same in light mode.
"""

from __future__ import annotations

import base64
import io
import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jupytext
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from test_site import CHROMIUM, CHROMIUM_ARGS, _pages, _serve

from lecturelib.explorable import FRAME_DPI
from lecturelib.plots import MIN_FONT_SIZE, PALETTE, PHONE_SCREEN

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md")) + sorted((ROOT / "book" / "homework").glob("*.md"))

LEGIBLE_FRACTION = 0.8  # the smallest text in a figure, on screen, against the page's small text
TEXT_CONTRAST = 4.5  # WCAG 2.1 AA for (normal-size) text
GRAPHICS_CONTRAST = 3.0  # WCAG 2.1 AA for graphical objects (1.4.11)
# pydata-sphinx-theme's page background in its two modes ("foundation" white and black).
PAGE_LIGHT, PAGE_DARK = "#ffffff", "#14181e"


# ---------------------------------------------------------------------------------------------------------------
# Colour arithmetic (WCAG 2.1 relative luminance and contrast ratio; the CSS filter of the dark mode)


def luminance(rgb) -> float:
    c = np.asarray(rgb, dtype=float)
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def dark_mode_filter(rgb) -> np.ndarray:
    """``filter: invert(1) hue-rotate(180deg)`` on an sRGB colour, as the Filter Effects spec defines both."""
    inverted = 1 - np.asarray(rgb, dtype=float)
    cos, sin = -1.0, 0.0  # 180 degrees
    matrix = np.array(
        [
            [0.213 + cos * 0.787 - sin * 0.213, 0.715 - cos * 0.715 - sin * 0.715, 0.072 - cos * 0.072 + sin * 0.928],
            [0.213 - cos * 0.213 + sin * 0.143, 0.715 + cos * 0.285 + sin * 0.140, 0.072 - cos * 0.072 - sin * 0.283],
            [0.213 - cos * 0.213 - sin * 0.787, 0.715 - cos * 0.715 + sin * 0.715, 0.072 + cos * 0.928 + sin * 0.072],
        ]
    )
    return np.clip(matrix @ inverted, 0, 1)


def test_contrast_arithmetic_matches_wcag_examples():
    assert contrast((0, 0, 0), (1, 1, 1)) == pytest.approx(21.0)
    assert contrast(to_rgb("#767676"), (1, 1, 1)) == pytest.approx(4.54, abs=0.01)  # the classic AA grey
    np.testing.assert_allclose(dark_mode_filter((0, 0, 0)), (1, 1, 1))  # black ink becomes white


@pytest.mark.parametrize("colour", PALETTE)
def test_palette_is_readable_on_both_themes(colour):
    rgb = to_rgb(colour)
    assert contrast(rgb, to_rgb(PAGE_LIGHT)) >= GRAPHICS_CONTRAST, colour
    assert contrast(dark_mode_filter(rgb), to_rgb(PAGE_DARK)) >= GRAPHICS_CONTRAST, colour


# A class colour of a map (a figure coloured cell by cell) against the page: a lone pixel of a colour closer to the
# page than this reads as a hole in the map.
MAP_CLASS_CONTRAST = 2.0


def _class_colours(path: Path, name: str = "colours") -> list[str]:
    """The list literal a chapter assigns to ``name`` (the class colours of a map)."""
    import ast

    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code" or f"{name} = [" not in cell.source:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
                return ast.literal_eval(node.value)
    raise AssertionError(f"{path.name} assigns no list to {name}")


def _course_rgb(colour: str) -> tuple[float, float, float]:
    import matplotlib as mpl

    from lecturelib.plots import COURSE_STYLE

    with mpl.rc_context(COURSE_STYLE):  # "C0".."C9" are the course palette's colours, as in the chapters
        return to_rgb(colour)


def _apart_in_both_themes(a, b) -> bool:
    """Two colours of a figure at least ``MAP_CLASS_CONTRAST`` apart on the light page and after the dark filter."""
    return (
        contrast(a, b) >= MAP_CLASS_CONTRAST
        and contrast(dark_mode_filter(a), dark_mode_filter(b)) >= MAP_CLASS_CONTRAST
    )


def _stands_out_from_the_page(colour: str) -> bool:
    rgb = _course_rgb(colour)
    return (
        contrast(rgb, to_rgb(PAGE_LIGHT)) >= MAP_CLASS_CONTRAST
        and contrast(dark_mode_filter(rgb), to_rgb(PAGE_DARK)) >= MAP_CLASS_CONTRAST
    )


# The maps of chapter 4, coloured cell by cell: the figure, the name of its list of class colours, how many classes.
CLASS_MAPS = [
    ("fig-f2-basins", "colours", 7),
    ("fig-f3-boundary", "boundary_colours", 2),
]


@pytest.mark.parametrize(("figure", "name", "classes"), CLASS_MAPS, ids=[name for _, name, _ in CLASS_MAPS])
def test_no_class_of_a_map_reads_as_a_hole(figure, name, classes):
    """The maps of chapter 4 (the basin map of f2 and the convergence map of f3) colour every pixel by its class,
    and their ragged bands and edges are full of lone pixels: each class's colour stands apart from the page in both
    themes, so none of them looks like the page showing through (for the basin map the chapter checks that no pixel
    is transparent). "Diverged" was #e8e8e8 once in both: 1.23:1 on the white page and, after the dark-mode filter,
    1.01:1 on the dark one. A grey class, told by its lightness alone (it has no hue), also stands 2:1 apart from
    every other class in both themes."""
    colours = _class_colours(ROOT / "book" / "04_three_examples.md", name)
    assert len(colours) == classes, colours
    assert not _stands_out_from_the_page("#e8e8e8")  # the detector's positive control
    close = [colour for colour in colours if not _stands_out_from_the_page(colour)]
    assert not close, f"{figure}: class colours that read as the page in a theme: {close}"
    greys = [colour for colour in colours if len(set(_course_rgb(colour))) == 1]
    assert greys, f"{figure}: no grey class"
    others = [colour for colour in colours if colour not in greys]
    alike = [(g, c) for g in greys for c in others if not _apart_in_both_themes(_course_rgb(g), _course_rgb(c))]
    assert not alike, f"{figure}: a grey class and another class closer than {MAP_CLASS_CONTRAST}:1 in a theme: {alike}"


# ---------------------------------------------------------------------------------------------------------------
# The chapters' sources

# A figure cell draws at its top level (a cell that only defines a drawing function draws nothing yet).
DRAWS = re.compile(r"^(?!def |\s).*(plt\.subplots\(|plt\.figure\(|step_explorer\()", re.MULTILINE)


def _figure_cells():
    for path in CHAPTERS:
        for index, cell in enumerate(jupytext.read(path).cells):
            if cell.cell_type == "code" and DRAWS.search(cell.source):
                yield path, index, cell


def test_every_figure_has_alt_text_a_caption_and_a_name_that_the_prose_cites():
    cells = list(_figure_cells())
    assert len(cells) >= 40, len(cells)  # 32 lecture figures, 3 sliders, 5 in homework solutions
    names, problems = [], []
    for path, index, cell in cells:
        where = f"{path.relative_to(ROOT)} cell {index}"
        meta = cell.metadata.get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        caption, name = str(figure.get("caption", "")), str(figure.get("name", ""))
        if len(caption) < 40:
            problems.append(f"{where}: no caption")
        if not name.startswith("fig-"):
            problems.append(f"{where}: no figure name fig-...")
        explorer = "step_explorer(" in cell.source
        alt = str(image.get("alt", ""))
        if not explorer and len(alt.split()) < 25:  # a slider's frames get their description from the explorable
            problems.append(f"{where}: alt text missing or too short to say what to notice ({len(alt.split())} words)")
        if "$" in alt or "\\" in alt:
            problems.append(f"{where}: alt text with TeX, which a screen reader would spell out")
        text = path.read_text(encoding="utf-8")
        if f"{{numref}}`{name}`" not in text:
            problems.append(f"{where}: {name} is never cited with {{numref}}")
        names.append(name)
    duplicates = [n for n, c in Counter(names).items() if c > 1]
    assert not problems and not duplicates, "\n".join(problems + [f"duplicate name {d}" for d in duplicates])


def test_no_figure_sets_a_font_smaller_than_the_style():
    small = []
    for path in CHAPTERS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for value in re.findall(r"fontsize\s*=\s*([\"']?[\w.-]+[\"']?)", line):
                value = value.strip("\"'")
                try:
                    too_small = float(value) < MIN_FONT_SIZE
                except ValueError:
                    too_small = value in {"xx-small", "x-small", "small", "smaller"}
                if too_small:
                    small.append(f"{path.relative_to(ROOT)}:{number}: fontsize={value}")
    assert not small, "\n".join(small)


# Text a figure shows: the strings given to matplotlib's text-setting calls and to the keyword arguments that become
# text (a label, a title). Mathematics goes between dollars (mathtext); an underscore outside them is printed as is.
TEXT_CALLS = {
    "set_xlabel", "set_ylabel", "set_title", "suptitle", "supxlabel", "supylabel", "text", "annotate", "figtext",
    "legend", "set_xticklabels", "set_yticklabels", "set_label", "set_text",
}  # fmt: skip
TEXT_KEYWORDS = {"label", "xlabel", "ylabel", "title", "labels", "s", "text"}


def _string_parts(node) -> list[str]:
    """The text of a string expression: a literal, an f-string (each replacement field as "{}"), the strings of a
    list, a tuple, a conditional or a concatenation."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [text for element in node.elts for text in _string_parts(element)]
    if isinstance(node, ast.IfExp):
        return _string_parts(node.body) + _string_parts(node.orelse)
    if isinstance(node, ast.BinOp):
        return _string_parts(node.left) + _string_parts(node.right)
    return []


def figure_texts(source: str) -> list[str]:
    """Every string the code passes to matplotlib as text to draw."""
    import ast

    texts = []
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call):
            continue
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        if name in TEXT_CALLS:
            texts += [text for argument in call.args for text in _string_parts(argument)]
        texts += [text for kw in call.keywords if kw.arg in TEXT_KEYWORDS for text in _string_parts(kw.value)]
    return texts


def raw_underscores(text: str) -> bool:
    """An underscore outside ``$...$``: a subscript meant ("x_k", "λ_max") but printed as a literal underscore."""
    return "_" in re.sub(r"\$[^$]*\$", "", text)


def _code_of(path: Path) -> str:
    if path.suffix == ".py":
        return path.read_text(encoding="utf-8")
    cells = [cell.source for cell in jupytext.read(path).cells if cell.cell_type == "code"]
    # IPython's magics and shell lines are not Python.
    return "\n".join(line for line in "\n".join(cells).splitlines() if not line.lstrip().startswith(("%", "!")))


def test_the_underscore_detector_finds_raw_subscripts():
    """The detector's positive control: each way a chapter writes figure text, with a raw underscore, is caught."""
    bad = """
ax.set(xlabel="step k", ylabel="x_k")
ax.set_ylabel("sharpness λ_max(∇²ℒ)")
ax.plot(x, y, label=f"2/δ_{k} (warmup)")
ax.legend(["a", "|x_k|"])
fig.suptitle("loss" + " of w_1")
ax.text(0, 1, "first" if flag else "T_3")
"""
    texts = figure_texts(bad)
    assert len(texts) == 10 and sum(map(raw_underscores, texts)) == 6, texts
    good = figure_texts('ax.set(ylabel="$x_k$", title=r"$\\lambda_{\\max}(H)$ at step {k}", xlabel="step")')
    assert len(good) == 3 and not any(map(raw_underscores, good))


def test_figure_text_has_no_raw_underscore():
    """No figure of the book prints an underscore meant as a subscript: mathematics in figures is mathtext."""
    sources = [*CHAPTERS, *sorted((ROOT / "lecturelib").rglob("*.py"))]
    texts = {path: figure_texts(_code_of(path)) for path in sources}
    assert sum(map(len, texts.values())) >= 250, "the detector finds almost no figure text to look at"
    raw = [
        f"{path.relative_to(ROOT)}: {text!r}"
        for path, found in texts.items()
        for text in found
        if raw_underscores(text)
    ]
    assert not raw, "raw underscores in figure text (write mathematics as $x_k$):\n" + "\n".join(raw)


# ---------------------------------------------------------------------------------------------------------------
# The built site, in Chromium


@pytest.fixture(scope="module")
def site_tools():
    return CHROMIUM, CHROMIUM_ARGS, _pages, _serve


@pytest.fixture(scope="module")
def figure_browser(browser):
    """The session's one Chromium (``tests/conftest.py``): two Playwright sync sessions cannot run at once."""
    return browser


def _figure_pages(pages, html: Path) -> list[Path]:
    """The pages whose article holds an image (the others, such as the API reference, have no figure to check and
    are not opened in the browser)."""
    found = []
    for page in pages(html):
        text = page.read_text(encoding="utf-8")
        start = text.find("<article")
        if start >= 0 and "<img" in text[start : text.find("</article>", start)]:
            found.append(page)
    return found


def _png_bytes(src: str, html: Path, page: Path) -> bytes:
    if src.startswith("data:"):
        return base64.b64decode(src.split(",", 1)[1])
    return (html / unquote(urlsplit(src).path).lstrip("/")).read_bytes()


def _open(browser, url: str, theme: str, width: int = 1280):
    # pydata-sphinx-theme keeps the chosen mode in localStorage ("mode", resolved into "theme"); "auto" would follow
    # the browser's colour scheme, so both are set.
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=theme)
    context.add_init_script(f"localStorage.setItem('mode', '{theme}'); localStorage.setItem('theme', '{theme}');")
    context.set_default_timeout(120_000)  # pages with animations are large, and the machine may be busy
    tab = context.new_page()
    tab.goto(url, wait_until="load")
    tab.wait_for_load_state("networkidle")
    return tab, context


IMAGES = """() => Array.from(document.querySelectorAll('article img')).map((img, i) => {
  img.setAttribute('data-figure-index', i);
  const box = img.getBoundingClientRect();
  let scroller = null;  // the nearest box around the image that scrolls sideways
  for (let up = img.parentElement; up && up.tagName !== 'ARTICLE'; up = up.parentElement) {
    if (up.scrollWidth > up.clientWidth + 1 && getComputedStyle(up).overflowX !== 'visible') { scroller = up; break; }
  }
  return {index: i, src: img.currentSrc || img.src, natural: img.naturalWidth, shown: box.width,
          visible: box.width > 0 && getComputedStyle(img).display !== 'none',
          phone: (img.currentSrc || img.src).endsWith('-phone.png') || img.classList.contains('step-explorer-phone'),
          scrolls: scroller !== null, alt: img.getAttribute('alt') || ''};
})"""

SMALL_TEXT = """() => {
  const small = document.createElement('small');
  small.textContent = 'x';
  document.querySelector('article').appendChild(small);
  const size = parseFloat(getComputedStyle(small).fontSize);
  small.remove();
  return size;
}"""


@pytest.mark.site
@pytest.mark.parametrize("width", [1280, 390])
def test_figure_text_is_legible_at_the_size_shown(figure_browser, site_tools, built_site: Path, width: int):
    """At a wide screen's 1280 px and at a phone's 390 px, every figure (static, and each slider's frame)."""
    from PIL import Image

    _, _, pages, serve = site_tools
    rows, failures, served = [], [], []
    with serve(built_site) as server:
        for page in _figure_pages(pages, built_site):
            url = f"{server}/{page.relative_to(built_site).as_posix()}"
            tab, context = _open(figure_browser, url, "light", width)
            try:
                images = tab.evaluate(IMAGES)
                if not images:
                    continue
                small_px = tab.evaluate(SMALL_TEXT)
                for image in images:
                    if not image["visible"] or not image["natural"]:
                        continue  # an animation's hidden frame buffer, or a collapsed solution
                    png = Image.open(io.BytesIO(_png_bytes(image["src"], built_site, page)))
                    dpi = float(png.info.get("dpi", (72, 72))[0])
                    # The file's own pixels: a phone source declared "2x" reports half of them as naturalWidth.
                    px_per_point = dpi / 72 * image["shown"] / png.size[0]
                    smallest_px = MIN_FONT_SIZE * px_per_point
                    ratio = smallest_px / small_px
                    name = f"{page.relative_to(built_site).as_posix()} image {image['index']}"
                    served.append((name, image["phone"], image["scrolls"]))
                    rows.append((ratio, name, smallest_px, small_px, image["natural"], image["shown"], dpi))
                    if ratio < LEGIBLE_FRACTION:
                        failures.append(
                            f"{name}: smallest text {smallest_px:.1f} px on screen < {LEGIBLE_FRACTION} x the page's "
                            f"small text {small_px:.1f} px (drawn {image['natural']} px at {dpi:.0f} dpi, "
                            f"shown {image['shown']:.0f} px)"
                        )
            finally:
                context.close()
    assert len(rows) >= 30, f"only {len(rows)} figures found"
    assert sum(abs(row[6] - FRAME_DPI) < 1 for row in rows) >= 3, "the sliders' frames were not measured"
    worst = min(rows)
    phones = sum(phone for _, phone, _ in served)
    print(
        f"\n{width} px: {len(rows)} figures, {phones} in their phone layout; worst: {worst[1]}: smallest text "
        f"{worst[2]:.1f} px = {worst[0]:.2f} x small text ({worst[3]:.1f} px)"
    )
    assert not failures, "\n".join(failures)
    if width <= PHONE_SCREEN:
        # Every figure, static and slider, is drawn for the phone and shown whole: nothing to scroll sideways.
        assert not [name for name, phone, _ in served if not phone], "figures without a phone layout on a phone"
        assert not [name for name, _, scrolls in served if scrolls], "figures that scroll sideways on a phone"
    else:
        assert phones == 0, "a wide screen is served a phone layout"


BACKGROUND = """(index) => {
  let element = document.querySelector(`img[data-figure-index='${index}']`);
  for (; element; element = element.parentElement) {
    const colour = getComputedStyle(element).backgroundColor;
    if (colour && colour !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(colour)) return colour;
  }
  return 'rgb(255, 255, 255)';
}"""


def _ink_contrast(shot: np.ndarray, background: tuple) -> tuple[float, tuple]:
    """The figure's ink and its contrast against the background it is shown on.

    The ink is the neutral (grey-level) colour, among those covering at least 100 pixels of the photographed
    figure, that contrasts most with the background: the colour of the axes, ticks and labels (drawn in one solid
    colour whose antialiased strokes reach it), not of grey data such as a shaded map or a pale thick line.
    """
    rgb = shot[..., :3].reshape(-1, 3).astype(int)
    neutral = rgb[(rgb.max(axis=1) - rgb.min(axis=1)) < 24]
    levels, counts = np.unique(neutral // 8, axis=0, return_counts=True)
    candidates = [
        tuple(np.median(neutral[np.all(neutral // 8 == level, axis=1)], axis=0) / 255)
        for level, count in zip(levels, counts, strict=True)
        if count >= 100
    ]
    assert candidates, "no text or axes found in the figure"
    ink = max(candidates, key=lambda colour: contrast(colour, background))
    return contrast(ink, background), ink


@pytest.mark.site
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_figures_keep_their_contrast_in_both_themes(figure_browser, site_tools, built_site: Path, theme: str, tmp_path):
    from PIL import Image

    _, _, pages, serve = site_tools
    results, failures = [], []
    with serve(built_site) as server:
        for page in _figure_pages(pages, built_site):
            url = f"{server}/{page.relative_to(built_site).as_posix()}"
            tab, context = _open(figure_browser, url, theme)
            try:
                assert tab.evaluate("() => document.documentElement.dataset.theme") == theme
                for image in tab.evaluate(IMAGES):
                    if not image["visible"] or not image["natural"]:
                        continue
                    element = tab.locator(f"img[data-figure-index='{image['index']}']")
                    element.scroll_into_view_if_needed()
                    shot = np.array(Image.open(io.BytesIO(element.screenshot())).convert("RGB"))
                    css = tab.evaluate(BACKGROUND, image["index"])
                    background = tuple(int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
                    ratio, ink = _ink_contrast(shot, background)
                    name = f"{page.relative_to(built_site).as_posix()} image {image['index']}"
                    results.append((ratio, name))
                    if ratio < TEXT_CONTRAST:
                        failures.append(f"{name}: ink {np.round(ink, 2)} on {np.round(background, 2)}: {ratio:.2f}:1")
            finally:
                context.close()
    assert len(results) >= 30, f"only {len(results)} figures found"
    worst = min(results)
    print(f"\n{theme}: {len(results)} figures; lowest ink contrast {worst[0]:.2f}:1 ({worst[1]})")
    assert not failures, "\n".join(failures)
