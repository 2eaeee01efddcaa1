"""The instructor's solution of every homework set earns full marks from the grader, whatever the rounding.

No check that awards points may hang on the last bits of a chaotic run, so the instructor's own solution must earn
every point on every floating-point environment the test command knows. Every set found in ``book/homework``
(``lecturelib.homework.export.find_sets``, so a new set is graded with no edit here) is exported once as its
instructor notebook (``python -m lecturelib.homework export OUT --edition instructor``) and graded by the real
grader (``python -m lecturelib.homework grade SET DIR --out OUT``) in each environment of
``tests/test_portability.py``, with that environment's perturbation seed (``LECTURELIB_PERTURB``): Haswell with
seed 3, SandyBridge with one BLAS thread with seed 2, Prescott with seed 1. One grading run is one set in one
environment; two run at a time (``PORTABILITY_JOBS=1`` for one), each grading one notebook.

The environment is set on the grader's command, so it reaches the grader's own process (which judges the answers,
and reruns whatever a check reruns) and, through the sandbox that starts the student kernel, the kernel that runs the
submission. That second step is the grader's business, so the test does not take it on trust: a probe cell appended
to the submission (after every cell of the solution, so it changes nothing they compute) raises an exception whose
class name carries what the kernel sees (``OPENBLAS_CORETYPE``, the BLAS kernel and threads threadpoolctl reports,
``lecturelib.perturbation.seed()``, how many starts the harness perturbed). The grader reports a raising cell in the
feedback by that name ("code cell N raised ..."), and the test checks it against the environment asked for.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from test_portability import ENVIRONMENTS, JOBS, _environment

from lecturelib.homework.export import find_sets

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

PROBE_NAME = "GraderProbe"
PROBE = f"""\
import json as _json, os as _os, numpy as _np, threadpoolctl as _tpc, lecturelib.perturbation as _perturbation
_seen = {{
    "coretype": _os.environ.get("OPENBLAS_CORETYPE"),
    "blas": [
        [pool["architecture"], pool["num_threads"]]
        for pool in _tpc.threadpool_info()
        if pool["internal_api"] == "openblas" and "numpy" in pool["filepath"]
    ],
    "seed": _perturbation.seed(),
    "perturbed_calls": int(repr(_perturbation._counter)[len("count(") : -1]),
}}
raise type({PROBE_NAME!r} + " " + _json.dumps(_seen, separators=(",", ":")), (Exception,), {{}})()
"""
PROBE_NOTE = re.compile(rf"code cell \d+ raised {PROBE_NAME} (\{{.*\}})")


@pytest.fixture(scope="module")
def instructor_notebooks(tmp_path_factory) -> dict[str, Path]:
    """Every set's instructor notebook, exported once: ``{set stem: notebook}``."""
    sets = find_sets(ROOT / "book" / "homework")
    assert len(sets) >= 4, f"found only the homework sets {sorted(sets)}"
    out = tmp_path_factory.mktemp("export")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "lecturelib.homework", "export", str(out), "--edition", "instructor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    notebooks = {stem: out / "instructor" / f"{stem}.ipynb" for stem in sets}
    assert sorted(p.name for p in (out / "instructor").iterdir()) == sorted(p.name for p in notebooks.values())
    return notebooks


def _grade(job: tuple[str, str, Path, Path]) -> tuple[str, str, subprocess.CompletedProcess, float]:
    """Grade the instructor notebook of one set, with the probe appended, in one environment."""
    name, stem, notebook, folder = job
    submissions = folder.with_name(folder.name + "-submissions")  # beside OUT: the grader refuses one inside the other
    submissions.mkdir(parents=True)
    submission = nbformat.read(notebook, as_version=4)
    submission.cells.append(nbformat.v4.new_code_cell(PROBE))
    nbformat.write(submission, submissions / "instructor.ipynb")
    command = [sys.executable, "-m", "lecturelib.homework", "grade", stem, str(submissions), "--out", str(folder)]
    # Generous limits: this test is about rounding, and the CI machine builds the site at the same time.
    command += ["--cell-timeout", "300", "--notebook-timeout", "1500"]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=_environment(name), capture_output=True, text=True, timeout=1800)
    return name, stem, result, time.perf_counter() - start


def _verdict(name: str, stem: str, result: subprocess.CompletedProcess, folder: Path) -> tuple[str, list[str]]:
    """The grade ("12 / 12") and what is wrong with this run: points lost, a failed run, a kernel elsewhere."""
    if result.returncode != 0 or not (folder / "grades.csv").is_file():
        return "grader failed", [f"the grader exited {result.returncode}:\n{result.stderr[-3000:]}"]
    with open(folder / "grades.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    feedback = (folder / "feedback" / "instructor.md").read_text(encoding="utf-8")
    problems = []
    if row["status"] != "ok":
        problems.append(f"status {row['status']}")
    if float(row["total"]) != float(row["max"]):
        lost = re.findall(r"^## (.+): ([\d.]+) of ([\d.]+)$", feedback, flags=re.MULTILINE)
        lost = [f"{ex} {got} of {of}" for ex, got, of in lost if float(got) != float(of)]
        problems.append(f"points lost: {'; '.join(lost)}")
    notes = [line for line in feedback.splitlines() if line.startswith("- code cell") and PROBE_NAME not in line]
    if notes:
        problems.append("cells of the solution raised: " + "; ".join(notes))
    probe = PROBE_NOTE.search(feedback)
    if probe is None:
        problems.append("the probe cell did not report (the grader ran no cell after the solution's)")
    else:
        seen = json.loads(probe.group(1))
        env = _environment(name)
        _, _, architecture, threads = ENVIRONMENTS[name]
        wanted = {"coretype": env["OPENBLAS_CORETYPE"], "seed": int(env["LECTURELIB_PERTURB"])}
        if seen["coretype"] != wanted["coretype"] or seen["seed"] != wanted["seed"]:
            problems.append(f"the student kernel saw {seen}, not {wanted}: the environment did not reach it")
        blas = seen["blas"]
        if len(blas) != 1 or blas[0][0] != architecture or (threads is not None and blas[0][1] != threads):
            problems.append(f"the student kernel ran numpy's OpenBLAS as {blas}, not {architecture}/{threads}")
    return f"{row['total']} / {row['max']}", problems


def test_instructor_solutions_earn_full_marks_under_every_kernel_and_seed(instructor_notebooks, tmp_path):
    jobs = [
        (name, stem, notebook, tmp_path / f"{stem}-{index}")
        for stem, notebook in sorted(instructor_notebooks.items())
        for index, name in enumerate(ENVIRONMENTS)
    ]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        runs = list(pool.map(_grade, jobs))
    failures, table = [], {}
    for (_, _, _, folder), (name, stem, result, seconds) in zip(jobs, runs, strict=True):
        grade, problems = _verdict(name, stem, result, folder)
        table[stem, name] = f"{grade}{' (!)' if problems else ''}, {seconds:.0f} s"
        failures += [f"{stem} under {name} (seed {_environment(name)['LECTURELIB_PERTURB']}): {p}" for p in problems]
    names = list(ENVIRONMENTS)
    lines = ["| set | " + " | ".join(f"{n}, seed {_environment(n)['LECTURELIB_PERTURB']}" for n in names) + " |"]
    for stem in sorted(instructor_notebooks):
        lines.append(f"| {stem} | " + " | ".join(table[stem, n] for n in names) + " |")
    print(f"\n{len(jobs)} grading runs in {time.perf_counter() - start:.0f} s, {JOBS} at a time\n" + "\n".join(lines))
    assert not failures, "\n".join(failures)
