"""What the sandbox costs: grading time per submission without isolation and in bubblewrap, on the same class.

Run from the repository root (it grades the class twice: about 10 minutes on 2 busy cores)::

    PYTHONPATH=$PWD nice python3 benchmarks/bench_grader.py [--students 30] [--jobs 2] [--set hw1] [--start-only]

First, the cost of the sandbox alone: starting Python and importing the grader's codec, plainly and in bubblewrap,
alternated, median of 15 each (``--start-only`` stops there). Then the class.
A synthetic class of ``--students`` submissions of one set is made from its exported notebooks: alternately the
instructor notebook (every answer right, so the function sandbox runs too) and the student notebook (every answer
blank). It is graded with ``grade_class`` (``--jobs`` at a time) twice, first with ``--no-isolation`` and then in the
bubblewrap sandbox. Printed per run: the wall seconds per submission of the class, and the median over the class of
one submission's seconds (notebook run and judging, measured in its worker), per kind and overall; then the ratio
isolated / not isolated of those medians. No assertion: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--set", default="hw1")
    parser.add_argument("--start-only", action="store_true", help="only time starting a process in the sandbox")
    args = parser.parse_args()

    from lecturelib.homework.grade import Limits, find_set, grade_class
    from lecturelib.homework.isolation import command

    probe = [sys.executable, "-c", "import lecturelib.homework.codec"]
    starts: dict[str, list[float]] = {"plain": [], "bubblewrap": []}
    for _ in range(15):  # alternated, so that both see the same load
        for label, argv in (("plain", probe), ("bubblewrap", command(probe, scratch_mb=256))):
            started = time.monotonic()
            subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
            starts[label].append(time.monotonic() - started)
    plain, boxed = statistics.median(starts["plain"]), statistics.median(starts["bubblewrap"])
    print(
        f"starting python + lecturelib.homework.codec, median of 15: plain {plain:.3f} s, in bubblewrap {boxed:.3f} s, "
        f"ratio {boxed / plain:.2f} ({boxed - plain:+.3f} s per process; a submission starts two); "
        f"load {os.getloadavg()[1]:.1f}"
    )
    if args.start_only:
        return

    medians: dict[str, float] = {}
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
        for label, isolated in (("not isolated", False), ("bubblewrap", True)):
            started = time.monotonic()
            records = grade_class(
                args.set,
                submissions,
                tmp / label.replace(" ", "_"),
                jobs=args.jobs,
                limits=replace(Limits(), isolated=isolated),
            )
            wall = time.monotonic() - started
            load = os.getloadavg()[1]  # the machine's load over the last 5 minutes: timings are only comparable alike
            statuses = sorted({r["status"] for r in records})
            totals = sorted({sum(x["points"] for x in r["exercises"]) for r in records})
            seconds = {kind: [r["graded_seconds"] for r in records if r["student"].endswith(kind)] for kind in kinds}
            medians[label] = statistics.median(r["graded_seconds"] for r in records)
            print(
                f"{label:12s}: {len(records)} submissions of {stem}, --jobs {args.jobs}: {wall:.1f} s wall, "
                f"{wall / len(records):.2f} s per submission; statuses {statuses}, totals {totals}; load {load:.1f}"
            )
            for kind, values in seconds.items():
                print(f"{'':14s}{kind} ({len(values)}): median {statistics.median(values):.2f} s per submission")
            print(f"{'':14s}all ({len(records)}): median {medians[label]:.2f} s per submission")
    ratio = medians["bubblewrap"] / medians["not isolated"]
    print(
        f"median seconds per submission: bubblewrap {medians['bubblewrap']:.2f} / not isolated "
        f"{medians['not isolated']:.2f} = ratio {ratio:.2f} ({medians['bubblewrap'] - medians['not isolated']:+.2f} s)"
    )


if __name__ == "__main__":
    main()
