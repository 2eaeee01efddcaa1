"""The PDF edition, built by the README's commands and read back with poppler's ``pdftotext`` and ``pdfimages``.

Each PDF is built into the same folder as the website build of the same edition (the session fixtures
``built_site`` and ``instructor_site`` of ``tests/conftest.py``), so it reuses that build's execution cache and no
notebook runs twice. The checks compare the PDF with the website it is printed from:

- every chapter of ``_toc.yml`` is there with its title and number (lectures "Chapter 1" on, as the site
  numbers them; homework sets "Appendix A" on, then the API reference as the last appendix, one section per module
  of lecturelib, its docstrings' chapter references printed as the chapters' titles);
- every theorem, lemma, definition, ... number the site shows ("Theorem 5.1") is in the PDF;
- mathematics is typeset: no raw TeX (``$``, ``\\frac``, ``\\begin``, ...) is left in the text;
- every figure the site shows is embedded, chapter by chapter;
- the code cells the site folds away (``hide-input``) are not printed;
- the running foot of every page is one line, its page number clear of the chapter's or section's mark;
- the student PDF holds no solution text and the instructor PDF all of it (the detector of the website's leak
  test, ``tests/test_homework.py``, on the solution lines that hold no mathematics).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import jupytext
import pytest
from test_homework import BOOK_SOURCES, solution_lines, tokens

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("pdftotext", "pdfimages", "xelatex", "latexmk")

pytestmark = [pytest.mark.site, pytest.mark.pdf]


def _toc_files() -> list[str]:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return [line.split("file:", 1)[1].strip() for line in toc.splitlines() if "file:" in line]


LECTURES = [name for name in _toc_files() if not name.startswith(("book/homework/", "book/api/"))]
HOMEWORK = [name for name in _toc_files() if name.startswith("book/homework/")]
# The API reference is the last appendix: its first page is the appendix, each module's page a section of it.
API = "book/api/lecturelib"
APPENDICES = [*HOMEWORK, API]


def _title(docname: str) -> str:
    text = (ROOT / f"{docname}.md").read_text(encoding="utf-8")
    return re.search(r"^# (.+)$", text, re.M)[1].strip()


def build_pdf(html: Path, edition: str) -> tuple[Path, float]:
    """Build the PDF of ``edition`` next to the website in ``html`` (``<out>/_build/html``); return it and its time."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    assert not missing, f"{missing} not found: run the README's test command, which installs TeX Live and poppler-utils"
    out = html.parent.parent
    started = time.perf_counter()
    result = subprocess.run(
        [
            shutil.which("jupyter-book") or "jupyter-book",
            "build",
            str(ROOT),
            "--builder",
            "pdflatex",
            "--path-output",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COURSE_EDITION": edition},
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, f"the {edition} PDF build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    name = "step-size-matters.pdf" if edition == "student" else "step-size-matters-instructor.pdf"
    pdf = out / "_build" / "latex" / name
    assert pdf.is_file(), f"the {edition} build wrote no {name}: {sorted(p.name for p in pdf.parent.glob('*.pdf'))}"
    # The figure for the report (not asserted: no timing assertion in a test).
    print(f"\n{edition} PDF: {_page_count(pdf)} pages, built in {seconds:.0f} s ({pdf})")
    return pdf, seconds


def _page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])


def pages(pdf: Path) -> list[str]:
    """The text of each page, in the order it was typeset (``-raw``: a code comment set flush right stays on the
    line of its code); pdftotext separates pages by form feeds."""
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def images_per_page(pdf: Path) -> dict[int, int]:
    """How many images each page draws (``pdfimages -list``; soft masks are the alpha channels, not images)."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    counts: dict[int, int] = {}
    for row in listing.splitlines()[2:]:
        fields = row.split()
        if len(fields) > 2 and fields[2] == "image":
            counts[int(fields[0])] = counts.get(int(fields[0]), 0) + 1
    return counts


@pytest.fixture(scope="session")
def student_pdf(built_site: Path) -> Path:
    return build_pdf(built_site, "student")[0]


@pytest.fixture(scope="session")
def instructor_pdf(instructor_site: Path) -> Path:
    return build_pdf(instructor_site, "instructor")[0]


def _heading(docname: str) -> str:
    if docname in LECTURES:
        return f"Chapter {LECTURES.index(docname) + 1}"
    return f"Appendix {'ABCDEFGHIJ'[APPENDICES.index(docname)]}"


def _flat(text: str) -> str:
    return " ".join(text.split())


def chapter_pages(pdf: Path) -> dict[str, list[str]]:
    """The pages of each chapter: from its opening page (its heading, then its title) to the next one's."""
    texts = pages(pdf)
    starts = {}
    for docname in LECTURES + APPENDICES:
        # The chapter heading is set in capitals ("CHAPTER 1", "APPENDIX A").
        opening = f"{_heading(docname)} {_flat(_title(docname))}".lower()
        found = [number for number, text in enumerate(texts) if _flat(text).lower().startswith(opening)]
        assert len(found) == 1, f"{docname}: {len(found)} pages open with {opening!r}"
        starts[docname] = found[0]
    order = sorted(starts, key=starts.get)
    assert order == LECTURES + APPENDICES, f"chapters out of order: {order}"
    bounds = [starts[name] for name in order] + [len(texts)]
    return {name: texts[bounds[i] : bounds[i + 1]] for i, name in enumerate(order)}


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_chapters_are_numbered_as_on_the_site(edition, request):
    pdf = request.getfixturevalue(f"{edition}_pdf")
    chapters = chapter_pages(pdf)
    contents = _flat(" ".join(pages(pdf)[:6]))
    for number, docname in enumerate(LECTURES, start=1):
        # The table of contents lists the lecture with its number; the running foot names it on its later pages.
        assert f"{number} {_flat(_title(docname))}" in contents, f"{docname} not in the contents as number {number}"
        assert any(f"Chapter {number}. " in page for page in chapters[docname][1:]), f"{docname}: no running foot"
    assert f"Chapter {len(LECTURES) + 1}" not in _flat(" ".join(pages(pdf))), "a chapter number past the lectures"
    # The landing page (index.md) has no number: the first lecture is chapter 1.
    assert "Step Size Matters" in pages(pdf)[0]


def test_api_reference_is_the_last_appendix_with_a_section_per_module(student_pdf):
    from test_api_docs import public_modules

    text = _flat("\n".join(chapter_pages(student_pdf)[API]))
    letter = _heading(API).split()[-1]
    for module in public_modules():
        assert re.search(rf"{letter}\.\d+ lecturelib\.{module} ", text), f"no section for lecturelib.{module}"
    # A docstring's :ref:`ch-...` is printed as the chapter's title, never as the label.
    assert text.count("Introduced in ") >= 60, "the docstrings' chapter references are missing"
    labels = re.findall(r"\b(?:ch|hw)-[a-z]+_[a-z_]+\b", text)
    assert not labels, f"chapter labels printed instead of titles: {labels[:3]}"
    assert "Introduced in Gradient descent as a dynamical system" in text


class _Captions(HTMLParser):
    """The numbers of the theorem-like boxes of a page (sphinx-proof's and sphinx-exercise's captions)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = 0
        self.numbers: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "span" and "caption-number" in (dict(attrs).get("class") or ""):
            self.inside = 1

    def handle_data(self, data):
        if self.inside:
            self.numbers.append(" ".join(data.split()))
            self.inside = 0


def site_numbers(html: Path, docname: str, kinds: str) -> list[str]:
    parser = _Captions()
    parser.feed((html / f"{docname}.html").read_text(encoding="utf-8"))
    return [n for n in parser.numbers if re.fullmatch(rf"({kinds}) \d+(\.\d+)*", n)]


# sphinx-proof's kinds, sphinx-exercise's exercises and captioned figures ("Fig. 3.1").
PROOF_KINDS = (
    r"Theorem|Lemma|Corollary|Proposition|Definition|Conjecture|Axiom|Criterion|Algorithm|Remark|Example"
    r"|Exercise|Fig\."
)


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_theorem_numbers_are_those_of_the_site(edition, request):
    pdf = request.getfixturevalue(f"{edition}_pdf")
    html = request.getfixturevalue("built_site" if edition == "student" else "instructor_site")
    chapters = chapter_pages(pdf)
    total = 0
    for docname in LECTURES:
        expected = site_numbers(html, docname, PROOF_KINDS)
        text = "\n".join(chapters[docname])
        # The box itself carries the number (its title line: "Theorem 5.1" or "Theorem 5.1 (Title)"; a caption
        # "Fig. 5.1: ..."), not only a reference to it.
        missing = [n for n in expected if not re.search(rf"^{re.escape(n)}( \(|:|$)", text, re.M)]
        assert not missing, f"{docname}: numbered on the site but not in the PDF: {missing}"
        total += len(expected)
    assert total >= 20, f"only {total} numbered theorems, lemmas and definitions found on the site"


RAW_TEX = re.compile(
    r"\$|\\(frac|begin|end|math\w*|varepsilon|delta|lambda|top|left|right|le|ge|sum|tfrac|"
    r"operatorname|text|nabla|lVert|rVert|bigl|bigr|cdot|quad)\b|[_^]\{"
)


def _folded_code_lines() -> set[str]:
    """The lines of the code cells the site folds (``hide-input``) that say something no printed cell or text says."""
    lines, printed = set(), []
    for path in BOOK_SOURCES:
        for cell in jupytext.read(path).cells:
            if cell.cell_type == "code" and "hide-input" in cell.metadata.get("tags", []):
                lines |= {tokens(line) for line in cell.source.splitlines() if len(tokens(line).split()) >= 5}
            else:
                printed.append(cell.source)
    printed_tokens = tokens("\n".join(printed))
    return {line for line in lines if line not in printed_tokens}


def _visible_code() -> str:
    """The source of every code cell printed in the PDF (neither folded nor removed), as one text."""
    hidden = {"hide-input", "remove-input", "remove-cell"}
    return "\n".join(
        cell.source
        for path in BOOK_SOURCES
        for cell in jupytext.read(path).cells
        if cell.cell_type == "code" and not hidden & set(cell.metadata.get("tags", []))
    )


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_math_is_typeset_and_folded_code_is_not_printed(edition, request):
    pdf = request.getfixturevalue(f"{edition}_pdf")
    text = "\n".join(pages(pdf))
    # Raw TeX may stand only in code the PDF prints on purpose (a plot label in a visible cell): a line of text
    # with raw TeX must be a piece of such code.
    code = tokens(_visible_code())
    raw = [line for line in text.splitlines() if RAW_TEX.search(line) and tokens(line) not in code]
    assert not raw, f"raw TeX in the {edition} PDF:\n" + "\n".join(raw[:10])
    printed = tokens(text)
    folded = [line for line in _folded_code_lines() if line in printed]
    assert not folded, f"code the site folds away is printed in the {edition} PDF: {folded[:3]}"
    assert len(_folded_code_lines()) >= 50, "the detector of folded code has almost nothing to look for"


def _site_figures(html: Path, docname: str) -> int:
    page = (html / f"{docname}.html").read_text(encoding="utf-8")
    article = page[page.index("<article") : page.index("</article>")]
    return len(re.findall(r"<img\b", article))


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_every_figure_of_the_site_is_embedded(edition, request):
    pdf = request.getfixturevalue(f"{edition}_pdf")
    html = request.getfixturevalue("built_site" if edition == "student" else "instructor_site")
    chapters = chapter_pages(pdf)
    first_page = {name: 1 + pages(pdf).index(texts[0]) for name, texts in chapters.items()}
    per_page = images_per_page(pdf)
    order = list(chapters)
    total = 0
    for i, docname in enumerate(order):
        last = first_page[order[i + 1]] - 1 if i + 1 < len(order) else len(pages(pdf))
        in_pdf = sum(count for page, count in per_page.items() if first_page[docname] <= page <= last)
        on_site = _site_figures(html, docname)
        assert in_pdf == on_site, f"{docname}: {on_site} figures on the site, {in_pdf} images in the {edition} PDF"
        total += on_site
    assert total >= 30, f"only {total} figures in the book"
    assert sum(per_page.values()) == total, "images outside the chapters (title page, contents)"


RUNNING_FOOT = re.compile(r"(\d+ )?(Chapter \d+|Appendix [A-Z]|[\dA-Z]+(\.\d+)+)\. .*?( \d+)?")


def _pdf_tokens(pdf: Path) -> str:
    """The text as tokens, without the running heads and foots (a code line wrapped across a page break is whole
    again), and with words hyphenated at a line end both joined and split (either may be right)."""
    texts = pages(pdf)
    head = Counter(page.split("\n")[0] for page in texts).most_common(1)[0][0]
    assert head.startswith("Step Size Matters"), f"unexpected running head {head!r}"
    text = "\n".join(
        line for page in texts for line in page.split("\n") if line != head and not RUNNING_FOOT.fullmatch(line)
    )
    return tokens(re.sub(r"(\w)-\n(\w)", r"\1\2", text)) + tokens(text)


def _checkable_solution_lines() -> dict[str, list[str]]:
    """Solution lines without mathematics or roles: typeset math and a resolved ``{ref}`` read differently from their
    source, prose and code do not. Lines of ``remove-cell`` cells (the grading cells) are in no edition."""
    sources = {path.stem: path.read_text(encoding="utf-8") for path in BOOK_SOURCES}
    result = {}
    for stem, lines in solution_lines(BOOK_SOURCES, rendered=True).items():
        raw_lines = [
            line
            for line in sources[stem].splitlines()
            if "$" not in line and "\\" not in line and not re.search(r"\{[\w:-]+\}`", line)
        ]
        plain = {tokens(line) for line in raw_lines}
        folded = _folded_code_lines()  # folded code is left out of the PDF on purpose
        result[stem] = [line for line in lines if line in plain and line not in folded]
    return result


def test_student_pdf_has_no_solution_text(student_pdf):
    text = _pdf_tokens(student_pdf)
    for stem, lines in _checkable_solution_lines().items():
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{stem}: solution text in the student PDF: {leaked[:3]}"


def test_instructor_pdf_has_every_solution(instructor_pdf):
    """The positive control of the leak test: the same detector finds every solution line in the instructor PDF."""
    text = _pdf_tokens(instructor_pdf)
    checked = 0
    for stem, lines in _checkable_solution_lines().items():
        missing = [line for line in lines if line not in text]
        assert not missing, f"{stem}: solution text missing from the instructor PDF: {missing[:3]}"
        checked += len(lines)
    assert checked >= 100, f"only {checked} solution lines to look for"
    assert "instructor edition" in pages(instructor_pdf)[0]


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_no_overfull_vbox_in_the_latex_log(edition, request):
    """No page is taller than the page: a figure and its caption, or a box, never run over the running foot."""
    pdf = request.getfixturevalue(f"{edition}_pdf")
    log = pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert "Output written on" in log, f"{pdf.with_suffix('.log')} is not the log of the finished run"
    overfull = [line for line in log.splitlines() if line.startswith("Overfull \\vbox")]
    assert not overfull, f"{edition}: {len(overfull)} pages overfull: {overfull[:5]}"


def words_per_page(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """The words of each page with their boxes in points (``pdftotext -bbox``): ``(x_min, y_min, x_max, y_max, word)``,
    y measured down from the top of the page."""
    text = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
    return [
        [(float(a), float(b), float(c), float(d), html.unescape(w)) for a, b, c, d, w in word.findall(page)]
        for page in text.split("<page ")[1:]
    ]


PAGE_NUMBER = re.compile(r"\d+|[ivxlc]+")
# The least room between the page number and the running mark beside it: about an em of the foot's 10 pt font.
FOOT_GAP = 10.0


def foot_faults(pdf: Path) -> tuple[list[str], int]:
    """What is wrong with the running foot of each page, and how many pages have a mark beside their number.

    The foot is what stands at or below the foot's line: the lowest line of most pages (the body never runs over
    it, ``test_no_overfull_vbox_in_the_latex_log``). On every page it is one line, the page number is a word of its
    own at one end of it, and the mark beside the number keeps at least ``FOOT_GAP`` from it."""
    pages_words = words_per_page(pdf)
    line = Counter(round(max(w[1] for w in words), 1) for words in pages_words if words).most_common(1)[0][0]
    faults, marked = [], 0
    for number, words in enumerate(pages_words, start=1):
        foot = sorted((w for w in words if w[3] > line), key=lambda w: w[0])
        if not foot:
            continue
        text = " ".join(w[4] for w in foot)
        if max(w[1] for w in foot) >= min(w[3] for w in foot):  # a word below another one (not an exponent)
            faults.append(f"page {number}: the foot is more than one line: {text!r}")
            continue
        ends = [i for i in (0, len(foot) - 1) if PAGE_NUMBER.fullmatch(foot[i][4])]
        if not ends:
            faults.append(f"page {number}: no page number of its own at either end of the foot: {text!r}")
            continue
        if len(foot) == 1:
            continue
        marked += 1
        # The gap beside the number (if the mark also ends in a number, "... Homework 1", the wider of the two).
        gap = max(foot[1][0] - foot[0][2] if i == 0 else foot[i][0] - foot[i - 1][2] for i in ends)
        if gap < FOOT_GAP:
            faults.append(f"page {number}: the page number and the mark {gap:.1f} pt apart: {text!r}")
    return faults, marked


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_the_running_foot_is_one_line_clear_of_the_page_number(edition, request):
    """A chapter's or section's title as a running mark never runs into the page number or onto a second line (it
    did: "106Chapter 10. Choosing the step size: line search, ..." over "steps"); book/_ext/coursefoot.sty."""
    pdf = request.getfixturevalue(f"{edition}_pdf")
    faults, marked = foot_faults(pdf)
    assert not faults, f"{edition}: {len(faults)} pages with a bad foot:\n" + "\n".join(faults[:10])
    assert marked >= 100, f"{edition}: only {marked} pages with a running mark beside the page number"


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_the_pdf_opens_like_a_book(edition, request):
    """Title page, a preface of a page or two, the contents, and chapter 1 within the first 8 pages."""
    pdf = request.getfixturevalue(f"{edition}_pdf")
    texts = pages(pdf)
    first_lecture = 1 + texts.index(chapter_pages(pdf)[LECTURES[0]][0])
    preface = [n for n, text in enumerate(texts[:first_lecture], 1) if _flat(text).lower().startswith("preface")]
    contents = [n for n, text in enumerate(texts[:first_lecture], 1) if _flat(text).lower().startswith("contents")]
    print(f"\n{edition}: preface on page {preface}, contents on page {contents}, chapter 1 on page {first_lecture}")
    assert first_lecture <= 8, f"{edition}: chapter 1 starts on page {first_lecture}"
    assert len(preface) == 1 and len(contents) == 1 and preface[0] < contents[0], (preface, contents)
    # The landing page's sections are headings of the preface, not chapters of their own.
    front = _flat(" ".join(texts[preface[0] - 1 : contents[0] - 1]))
    for heading in ("Who this course is for", "What you will learn", "How to use it"):
        assert heading in front, f"{heading!r} is not in the preface"
    assert "Chapter 1 " not in _flat(" ".join(texts[: contents[0] - 1]))


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_print_has_no_screen_wording_and_titles_as_the_site(edition, request):
    pdf = request.getfixturevalue(f"{edition}_pdf")
    text = _flat(" ".join(pages(pdf)))
    # The captions and prose of the slider figures and the homework pages' lines.
    for screen in ("move the slider", "set by the slider"):
        assert screen not in text.replace("- ", "").lower(), f"{edition}: {screen!r} is printed"
    for screen in ("Download:", "Not answered yet"):  # as the pages print them (the API appendix quotes the words)
        assert screen not in text.replace("- ", ""), f"{edition}: {screen!r} is printed"
    # The download line's file names (the preface's "lecturelib-….whl" names no file).
    assert not re.search(r"lecturelib-\d[\w.+-]*\.whl|\w+\.ipynb\)", text), f"{edition}: a download line is printed"
    # Proofs open with "Proof." as on the site (not an empty title bar above the word).
    lines = [line.strip() for page in pages(pdf) for line in page.splitlines()]
    assert sum(line.startswith("Proof. ") for line in lines) >= 10
    # Homework exercises are numbered HW1.1, ..., never as a chapter's exercise ("Exercise 1.1").
    assert re.search(r"Exercise HW1\.1 \(", text), "homework exercise 1.1 is not titled Exercise HW1.1"
    appendix = _flat(" ".join(" ".join(chapter_pages(pdf)[name]) for name in HOMEWORK))
    assert not re.search(r"Exercise \(?\d+\.\d+", appendix), "a homework exercise numbered like a chapter's"
    # The index (and the text) never break the library's name: "lecture-" / "lib.homework".
    broken = re.findall(r"lecture-\s*\nlib", "\n".join(pages(pdf)))
    assert not broken, f"{edition}: lecturelib hyphenated {len(broken)} times"
    # One citation style: the labels cited are the labels of the list, under the heading "References".
    references = [n for n, page in enumerate(pages(pdf)) if _flat(page).startswith("References")]
    assert references, "no References heading"
    listed = set(re.findall(r"^\[([A-Za-z+]+\d\d)\]", "\n".join(pages(pdf)[references[0] :]), re.M))
    cited = set(re.findall(r"\[([A-Z][A-Za-z]*\+?\d\d)\]", text))
    assert len(listed) >= 10 and cited and cited <= listed, (sorted(cited - listed), sorted(listed))
