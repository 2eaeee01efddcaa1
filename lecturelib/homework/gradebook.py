"""Grades into the gradebook: one assignment's column of a CSV exported from the learning management system.

``python -m lecturelib.homework grade SET SUBMISSIONS --out OUTDIR --gradebook EXPORT.csv`` reads ``EXPORT.csv``
before grading anything and, after grading, writes ``OUTDIR/gradebook.csv`` ready to import back:

- a **Canvas** export (header ``Student, ID, SIS User ID, SIS Login ID[, Section]``, then one column per
  assignment; a ``Points Possible`` row under it in Canvas's own exports) gives a Canvas file: the identity columns
  and this assignment's column only (Canvas leaves the columns a file does not hold alone), every row of the export
  in its order, the points in the column whose header names the set (``--gradebook-column`` to name it; a new
  column when none does), the set's maximum in the ``Points Possible`` row;
- any other CSV whose header has an ``id`` column (a roster) gives ``id,points``, one row per id in its order.

A submission belongs to the student whose id (Canvas: ``ID``, ``SIS User ID`` or ``SIS Login ID``) is the one
written in the notebook's id cell (``**Student id:** ...``), or, when that cell is empty, the file's name. A student
with no submission gets an empty cell, not 0; submissions that match no student, or a student another submission
also matches, are listed in ``OUTDIR/unmatched.txt`` and on stderr, and fill nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Gradebook", "notebook_id", "read_gradebook"]

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID")
CANVAS_KEYS = ("ID", "SIS User ID", "SIS Login ID")
ID_LINE = re.compile(r"\*\*\s*Student id\s*:?\s*\*\*\s*:?(.*)", re.IGNORECASE)
PLACEHOLDERS = {"", "…", "...", "-"}


def notebook_id(path: Path | str) -> str | None:
    """The student id written in a submission's id cell (``**Student id:** 12345``), or None when it is empty.

    Reads the notebook as JSON only: nothing in it runs.
    """
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(cells, list):
        return None
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        for line in text.splitlines():
            found = ID_LINE.search(line)
            if found:
                value = found.group(1).strip().strip("`*_'\" \t")
                return None if value in PLACEHOLDERS or len(value) > 100 else value
    return None


def _key(value: str) -> str:
    return value.strip().casefold()


@dataclass
class Gradebook:
    """A parsed export: its header, its rows, and how its students are named."""

    path: Path
    kind: str  # "canvas" or "roster"
    header: list[str]
    rows: list[list[str]]
    column: str  # the assignment's column (Canvas) or "points"
    keys: list[set[str]] = field(default_factory=list)  # per row: the ids that name its student (casefolded)

    def fill(
        self, records: Sequence[dict], maximum: float, number: Callable[[float], str] = str
    ) -> tuple[str, list[str]]:
        """The file to import (text) and the lines listing submissions that fill nothing.

        ``records``: ``{"student": file stem, "id": id cell or None, "total": points}``.
        """
        owners: dict[int, list[str]] = {}
        unmatched: list[str] = []
        chosen: dict[str, int] = {}
        for record in records:
            name = record["id"] or record["student"]
            rows = [i for i, keys in enumerate(self.keys) if _key(name) in keys]
            if len(rows) != 1:
                unmatched.append(
                    f"{record['student']}.ipynb: id {name!r} "
                    + ("matches no student" if not rows else f"matches {len(rows)} students")
                )
                continue
            owners.setdefault(rows[0], []).append(record["student"])
            chosen[record["student"]] = rows[0]
        points: dict[int, str] = {}
        for record in records:
            owner = chosen.get(record["student"])
            if owner is None:
                continue
            if len(owners[owner]) > 1:
                unmatched.append(
                    f"{record['student']}.ipynb: its student is also matched by "
                    + ", ".join(f"{s}.ipynb" for s in owners[owner] if s != record["student"])
                )
                continue
            points[owner] = number(record["total"])
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n" if self.kind == "canvas" else "\n")
        if self.kind == "canvas":
            identity = [c for c in self.header if c in (*CANVAS_IDENTITY, "Section")]
            where = [self.header.index(c) for c in identity]
            writer.writerow([*identity, self.column])
            for index, row in enumerate(self.rows):
                cells = [row[i] if i < len(row) else "" for i in where]
                if not self.keys[index]:  # Points Possible, Manual Posting, ...: not a student
                    label = row[0].strip() if row else ""
                    writer.writerow([*cells, number(maximum) if label == "Points Possible" else ""])
                else:
                    writer.writerow([*cells, points.get(index, "")])
        else:
            where_id = [c.strip().casefold() for c in self.header].index("id")
            writer.writerow(["id", "points"])
            for index, row in enumerate(self.rows):
                writer.writerow([row[where_id] if where_id < len(row) else "", points.get(index, "")])
        return buffer.getvalue(), unmatched


def read_gradebook(path: Path | str, set_name: str, column: str | None = None) -> Gradebook:
    """Parse an export (Canvas, or a roster with an ``id`` column); ``set_name`` picks the Canvas column.

    Raises ValueError when the file is neither, or when the column is ambiguous.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"the gradebook export {path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        table = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if not table:
        raise ValueError(f"the gradebook export {path} is empty")
    header, rows = [cell.strip() for cell in table[0]], table[1:]
    if header[: len(CANVAS_IDENTITY)] == list(CANVAS_IDENTITY):
        where = [header.index(c) for c in CANVAS_KEYS]
        keys = [{_key(row[i]) for i in where if i < len(row) and row[i].strip()} for row in rows]
        for index, row in enumerate(rows):  # Canvas's "Points Possible" row has no ids but may carry text
            if row and row[0].strip() in ("Points Possible", "Manual Posting"):
                keys[index] = set()
        return Gradebook(path, "canvas", header, rows, _canvas_column(header, set_name, column), keys)
    lowered = [c.casefold() for c in header]
    if "id" in lowered:
        where_id = lowered.index("id")
        keys = [{_key(row[where_id])} if where_id < len(row) and row[where_id].strip() else set() for row in rows]
        return Gradebook(path, "roster", header, rows, "points", keys)
    raise ValueError(
        f"{path} is neither a Canvas gradebook export (header starting {', '.join(CANVAS_IDENTITY)}) nor a roster "
        "with an 'id' column"
    )


def _canvas_column(header: list[str], set_name: str, column: str | None) -> str:
    assignments = [c for c in header[len(CANVAS_IDENTITY) :] if c != "Section"]
    if column is not None:
        if not column.strip():
            raise ValueError("--gradebook-column must name a column, got an empty name")
        return column
    short = set_name.split("_")[0].casefold()  # hw1_taylor_descent -> hw1
    pattern = re.compile(rf"(?<![a-z0-9]){re.escape(short)}(?![0-9])", re.IGNORECASE)
    found = [c for c in assignments if pattern.search(c.replace(" ", "")) or pattern.search(c)]
    if len(found) > 1:
        raise ValueError(
            f"{len(found)} columns of the gradebook export name {short}: {', '.join(found)}; choose one with "
            "--gradebook-column"
        )
    return found[0] if found else set_name
