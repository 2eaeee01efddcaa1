"""How long the grader takes per submission, and its overhead above executing the notebook once.

Run from the repository root::

    PYTHONPATH=$PWD python3 benchmarks/bench_grader.py [--students 60] [--jobs 2] [--set hw1]

A synthetic class of ``--students`` submissions of one set is made from its exported notebooks: alternately the
instructor notebook (every answer right) and the student notebook (every answer blank). It is graded with
``grade_class`` (``--jobs`` at a time), and a sample of the same notebooks is executed once with plain nbclient (a
default kernel, no limits, no answer extraction, no judging). Printed: wall seconds per submission for the class,
the median seconds of one submission graded alone (run + judge) and of one plain execution, and their ratio, per
kind of submission. No assertion: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def plain_execution(path: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    started = time.monotonic()
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--set", default="hw1")
    parser.add_argument("--sample", type=int, default=3, help="notebooks of each kind timed alone")
    args = parser.parse_args()

    from lecturelib.homework.grade import Limits, find_set, grade_class, grade_submission

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "export").mkdir()
        subprocess.run(
            [sys.executable, "-m", "lecturelib.homework", "export", str(tmp / "export"), args.set],
            check=True,
            capture_output=True,
        )
        stem = find_set(args.set, None).stem
        kinds = {
            "right": tmp / "export" / "instructor" / f"{stem}.ipynb",
            "blank": tmp / "export" / "student" / f"{stem}.ipynb",
        }
        submissions = tmp / "class"
        submissions.mkdir()
        for number in range(args.students):
            kind = "right" if number % 2 == 0 else "blank"
            (submissions / f"s{number:03d}_{kind}.ipynb").write_bytes(kinds[kind].read_bytes())

        alone: dict[str, list[float]] = {kind: [] for kind in kinds}
        plain: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(args.sample):
            for kind, path in kinds.items():
                plain[kind].append(plain_execution(path))
                started = time.monotonic()
                grade_submission(find_set(args.set, None), path, Limits())
                alone[kind].append(time.monotonic() - started)

        started = time.monotonic()
        records = grade_class(args.set, submissions, tmp / "out", jobs=args.jobs)
        wall = time.monotonic() - started

    print(
        f"set {stem}: {len(records)} submissions graded with --jobs {args.jobs} in {wall:.1f} s: "
        f"{wall / len(records):.2f} s per submission (wall)"
    )
    statuses = {status: sum(r["status"] == status for r in records) for status in {r["status"] for r in records}}
    print(f"statuses: {statuses}")
    for kind in kinds:
        graded, executed = statistics.median(alone[kind]), statistics.median(plain[kind])
        print(
            f"{kind:5s} notebooks, median of {args.sample}: graded alone {graded:.1f} s, executed once with "
            f"nbclient {executed:.1f} s, ratio {graded / executed:.2f}, overhead {graded - executed:+.1f} s"
        )


if __name__ == "__main__":
    main()
