"""Grades into a gradebook export: Canvas's format and a plain id roster (no grading here: records are given)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lecturelib.homework.grade import _number
from lecturelib.homework.gradebook import notebook_id, read_gradebook

CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (11),HW1 Taylor descent (12),HW10 (13),Current Score\n"
    "    Points Possible,,,,,5,14,9,(read only)\n"
    '"Lovelace, Ada",101,S101,ada@uni.edu,A,5,,9,80\n'
    '"Turing, Alan",102,S102,alan@uni.edu,A,4,3,8,70\n'
    '"Noether, Emmy",103,S103,emmy@uni.edu,B,3,,7,60\n'
    '"Student, Test",104,,,A,,,,\n'
)


def records(*rows: tuple[str, str | None, float]) -> list[dict]:
    return [{"student": student, "id": ident, "total": total} for student, ident, total in rows]


def test_canvas_export_gets_this_sets_column_and_only_the_identity_columns(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(CANVAS, encoding="utf-8")
    book = read_gradebook(export, "hw1_taylor_descent")
    assert (book.kind, book.column) == ("canvas", "HW1 Taylor descent (12)")  # not HW10
    text, unmatched = book.fill(
        records(
            ("ada", None, 14),  # the file name is the login
            ("x7", "S102", 12.5),  # the id cell holds the SIS user id
            ("stranger", "999", 3),
            ("dup1", "103", 1),
            ("dup2", "emmy@uni.edu", 2),
        ),
        14,
        _number,
    )
    table = list(csv.reader(io.StringIO(text)))
    assert table == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW1 Taylor descent (12)"],
        ["    Points Possible", "", "", "", "", "14"],
        ["Lovelace, Ada", "101", "S101", "ada@uni.edu", "A", ""],  # "ada" is not the login "ada@uni.edu"
        ["Turing, Alan", "102", "S102", "alan@uni.edu", "A", "12.5"],
        ["Noether, Emmy", "103", "S103", "emmy@uni.edu", "B", ""],  # two submissions claim her: filled by none
        ["Student, Test", "104", "", "", "A", ""],  # no submission: empty, not 0
    ]
    assert unmatched == [
        "ada.ipynb: id 'ada' matches no student",
        "stranger.ipynb: id '999' matches no student",
        "dup1.ipynb: its student is also matched by dup2.ipynb",
        "dup2.ipynb: its student is also matched by dup1.ipynb",
    ]


def test_canvas_column_is_new_when_no_header_names_the_set_and_chosen_when_asked(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(CANVAS.replace("HW1 Taylor descent", "Homework one"), encoding="utf-8")
    assert read_gradebook(export, "hw1_taylor_descent").column == "hw1_taylor_descent"
    assert read_gradebook(export, "hw1_taylor_descent", "Homework one (12)").column == "Homework one (12)"
    export.write_text(CANVAS.replace("Quiz 1", "HW1 retake"), encoding="utf-8")
    with pytest.raises(ValueError, match="--gradebook-column"):
        read_gradebook(export, "hw1")


def test_a_roster_gets_id_points_in_its_order(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,ID\nAda,101\nAlan,102\n,\nEmmy,103\n", encoding="utf-8")
    book = read_gradebook(roster, "hw1")
    text, unmatched = book.fill(records(("s1", "103", 7), ("s2", "101", 0)), 14, _number)
    assert text == "id,points\n101,0\n102,\n103,7\n"
    assert unmatched == []


def test_an_export_that_is_neither_is_refused(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("name,score\nAda,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="neither"):
        read_gradebook(other, "hw1")
    with pytest.raises(FileNotFoundError):
        read_gradebook(tmp_path / "missing.csv", "hw1")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("**Name:** Ada  \n**Student id:** 101\n", "101"),
        ("**Name:** Ada  \n**Student id:** `s-101`  \n", "s-101"),
        ("**Name:** …  \n**Student id:** …\n\n(Double-click this cell)", None),
        ("**Student id:**\n", None),
        ("no id here", None),
    ],
)
def test_the_id_cell_is_read_without_running_anything(tmp_path, source, expected):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": source, "metadata": {}}]}))
    assert notebook_id(path) == expected
    path.write_text("not json")
    assert notebook_id(path) is None
