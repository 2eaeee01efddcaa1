"""The front page states no count or list that the table of contents does not back.

Every expectation here is read from ``_toc.yml`` (its *Lectures* and *Homework* parts) and from the label at the top
of each page it lists, so that a chapter or a homework set added to the TOC fails this test until the front page
says so too.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FRONT = ROOT / "book" / "index.md"
NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _part(caption: str) -> list[str]:
    """The files of the TOC part with this caption, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    parts = [part for part in toc["parts"] if part.get("caption") == caption]
    assert len(parts) == 1, f"_toc.yml has {len(parts)} parts captioned {caption!r}"
    return [chapter["file"] for chapter in parts[0]["chapters"]]


def _label(file: str) -> str:
    """The page's own label, the ``(label)=`` target before its title."""
    text = (ROOT / f"{file}.md").read_text(encoding="utf-8")
    match = re.search(r"^\(([\w-]+)\)=\s*$", text, flags=re.MULTILINE)
    assert match, f"{file}.md has no (label)= target"
    return match.group(1)


def _section(title: str) -> str:
    """The text of the front page's section with this title, up to the next section."""
    text = FRONT.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"the front page has no section {title!r}"
    return match.group(1)


def _refs(text: str) -> list[str]:
    return re.findall(r"\{ref\}`([\w-]+)`", text)


def test_what_you_will_learn_covers_every_lecture():
    lectures = [_label(file) for file in _part("Lectures")]
    assert len(lectures) >= 9
    cited = _refs(_section("What you will learn"))
    missing = [label for label in lectures if label not in cited]
    assert not missing, f"'What you will learn' cites no bullet for the lectures {missing}"
    assert cited == sorted(set(cited), key=lectures.index), "its bullets cite the lectures out of reading order"


def test_the_homework_count_and_list_match_the_toc():
    homework = [_label(file) for file in _part("Homework")]
    assert len(homework) >= 4
    text = _section("How to use it")
    paragraph = text[text.index("**Do the homework.**") :].split("\n\n**")[0]
    count = re.search(r"\*\*Do the homework\.\*\* (\w+) homework sets? follows? the lectures", paragraph)
    assert count, "the homework paragraph no longer says how many sets follow the lectures"
    assert count.group(1).lower() == NUMBER_WORDS[len(homework)], (
        f"the front page says {count.group(1)!r} homework sets; _toc.yml lists {len(homework)}"
    )
    listed = _refs(paragraph)
    assert listed == homework, f"the front page lists the homework sets {listed}; _toc.yml lists {homework}"


def test_a_sentence_about_the_last_lecture_cites_the_tocs_last_lecture():
    # "The last lecture ..." went stale once (it described chapter 8 after chapter 9 was added): a sentence that
    # speaks of the last lecture must cite it by its label, and that must be the TOC's last lecture.
    text = FRONT.read_text(encoding="utf-8")
    last = _label(_part("Lectures")[-1])
    for match in re.finditer(r"[Tt]he last (?:lecture|chapter)[^.]*\.", text):
        assert f"{{ref}}`{last}`" in match.group(0), f"{match.group(0)!r} does not cite the last lecture, {last}"
