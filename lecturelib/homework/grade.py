"""Grade a class's submissions of one homework set, and write a Gradescope autograder bundle.

``python -m lecturelib.homework grade SET SUBMISSIONS --out OUTDIR [--jobs N]`` and
``python -m lecturelib.homework gradescope SET OUTDIR`` (``--help`` lists the limits and their defaults).

What runs where (the README's "Grading" section says more, and what this does not protect against):

1. **The grader's process** reads the *instructor's* set (``--source``, default ``book/homework``) and runs its
   grading cells (:mod:`lecturelib.homework.rubric`): points, cases, hidden cases. Nothing from a submission ever
   runs here.
2. **A worker process per submission** (``--jobs`` of them at a time) starts a fresh IPython kernel
   (``lecturelib.homework.sandbox kernel``: memory limit, no network) inside the bubblewrap sandbox of
   ``lecturelib.homework.isolation`` (read-only system, Python environment and library; a private sized tmpfs;
   nothing else of the machine; its own PID namespace, so nothing it starts outlives it) and executes the
   submission's code cells one by one with nbclient, ignoring stored outputs; a raising cell does not stop the rest.
   After each cell that binds an answer name, it runs one more cell that prints those answers as plain data
   (:mod:`lecturelib.homework.codec`). Per-cell and per-notebook time limits end runaway code: the notebook's status
   is then ``timeout`` (or ``memory`` when a cell ran out of memory, ``crash`` when the kernel died), and the answers
   taken before count.
3. The worker then stops the kernel and **judges** each exercise in its own process with the same check code the
   notebook uses, on the decoded plain data. A student's function is called through a proxy in a separate
   **function sandbox** (``serve``: the same sandbox and limits) on the cases the checks draw.

Where the sandbox cannot be made, ``grade`` refuses before running anything, unless ``--no-isolation``; then every
output says the run was not isolated.

Outputs in OUTDIR, written after every run, each file atomically: ``grades.csv``; ``feedback/<student>.md``;
``gradescope/<student>/results.json``; ``skipped.txt`` when SUBMISSIONS holds anything else than
``<student id>.ipynb``; with ``--gradebook EXPORT.csv``, ``gradebook.csv`` and ``unmatched.txt``
(``lecturelib.homework.gradebook``).
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import math
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["Limits", "add_commands", "grade_class", "grade_submission", "load_rubric", "write_gradescope_bundle"]

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
STATUS_ORDER = ("ok", "timeout", "memory", "crash", "unreadable", "error")


@dataclass(frozen=True)
class Limits:
    """The limits of one submission's run (seconds, megabytes)."""

    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory_mb: int = 2048
    call_timeout: float = 10.0
    judge_timeout: float = 120.0
    scratch_mb: int = 256  # the sandbox's private /tmp
    isolated: bool = True  # student code runs in the bubblewrap sandbox (False: --no-isolation)


# ------------------------------------------------------------------------------------------------------------------
# The instructor's rubric
# ------------------------------------------------------------------------------------------------------------------


def find_set(name: str, source: Path | str | None) -> Path:
    """The instructor source of set ``name`` (stem or prefix such as ``hw1``) in ``source``."""
    from .export import find_sets, select_sets

    chosen = select_sets(find_sets(source), [name])
    if len(chosen) != 1:
        raise KeyError(f"{name!r} names {len(chosen)} sets; name one")
    return next(iter(chosen.values()))


def load_rubric(path: Path | str) -> list:
    """The :class:`~lecturelib.homework.rubric.Exercise` objects of a set, in order, from its grading cells."""
    import numpy as np
    import sympy as sp

    import lecturelib
    import lecturelib.homework as hw

    from .notebook import grading_cells, read_set
    from .rubric import Exercise

    namespace: dict[str, Any] = {"np": np, "sp": sp, "hw": hw, "lecturelib": lecturelib, "__name__": "grading"}
    exercises: list[Exercise] = []
    for cell in grading_cells(read_set(path)):
        exec(compile(cell.source, f"<grading cell of {Path(path).name}>", "exec"), namespace)
        for value in list(namespace.values()):
            if isinstance(value, Exercise) and all(value is not e for e in exercises):
                exercises.append(value)
    if not exercises:
        raise ValueError(f"{path} has no grading cells (code cells tagged 'grading' inside solutions)")
    names = [e.name for e in exercises]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: two grading cells name the same exercise")
    return exercises


# ------------------------------------------------------------------------------------------------------------------
# Running a submission
# ------------------------------------------------------------------------------------------------------------------


def _bound_names(source: str) -> set[str] | None:
    """Names a cell binds at top level; None when it cannot tell (IPython syntax, exec, globals(), ...)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                return None
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            return None
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("exec", "eval", "globals", "vars", "setattr", "locals", "__import__")
        ):
            return None
        elif isinstance(node, ast.Attribute) and node.attr in ("__dict__", "f_globals", "user_ns"):
            return None
    return names


def _make_kernel_manager(sockets: Path, limits: Limits, report: Path) -> Any:
    """A kernel manager whose kernel runs in the sandbox; it talks to it through Unix sockets in ``sockets``."""
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            argv = [sys.executable, "-m", "lecturelib.homework.sandbox", "kernel", "--memory", str(limits.memory_mb)]
            if not limits.isolated:
                return [*argv, "--report", str(report), "-f", self.connection_file]
            from .isolation import command

            return command(
                [*argv, "--isolated", "-f", self.connection_file], scratch_mb=limits.scratch_mb, writable=[sockets]
            )

    manager = SandboxedKernelManager(kernel_name="python3", transport="ipc")
    manager.ip = str(sockets / "kernel")
    manager.connection_file = str(sockets / "connection.json")
    return manager


@dataclass
class Run:
    answers: dict[str, Any]  # encoded answers (plain JSON), the latest taken for each name
    status: str
    notes: list[str]
    network: str
    seconds: float


def run_submission(path: Path, names: Sequence[str], limits: Limits) -> Run:
    """Execute a submission's code cells in a sandboxed kernel; take the answers ``names`` out as plain data."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    started = time.monotonic()
    notes: list[str] = []
    try:
        submitted = nbformat.read(path, as_version=4)
        sources = [
            cell.source if isinstance(cell.source, str) else "".join(cell.source)
            for cell in submitted.cells
            if cell.get("cell_type") == "code"
        ]
    except Exception as err:  # not a notebook: nothing to run
        return Run({}, "unreadable", [f"the file is not a readable notebook ({type(err).__name__})"], "", 0.0)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    slot = len(notebook.cells)  # where the extraction cells run (nbclient stores each executed cell at its index)
    notebook.cells.append(nbformat.v4.new_code_cell(""))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    marker = f"@@grader-{secrets.token_hex(8)}@@"
    answers: dict[str, Any] = {}
    status = "ok"
    with tempfile.TemporaryDirectory(prefix="grade-") as folder:
        workdir = Path(folder)
        (workdir / "run").mkdir()
        (workdir / "sockets").mkdir()
        report = workdir / "network.txt"
        manager = _make_kernel_manager(workdir / "sockets", limits, report)
        client = NotebookClient(
            notebook,
            km=manager,
            timeout=limits.cell_timeout,
            allow_errors=True,
            startup_timeout=120,
            kernel_name="python3",
            interrupt_on_timeout=False,
            resources={"metadata": {"path": str(workdir / "run")}},
            record_timing=False,
        )
        deadline = time.monotonic() + limits.notebook_timeout

        def execute(cell: Any, index: int) -> None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CellTimeoutError("notebook time limit")
            client.timeout = max(1, int(min(limits.cell_timeout, remaining)))
            client.execute_cell(cell, index)

        def extract(wanted: Sequence[str]) -> None:
            cell = nbformat.v4.new_code_cell(
                "import lecturelib.homework.codec as _grader_codec\n"
                f"print(_grader_codec.dumps_answers(globals(), {list(wanted)!r}, {marker!r}))\n"
                "del _grader_codec"
            )
            execute(cell, slot)
            for output in cell.get("outputs", []):
                text = output.get("text", "") if output.get("output_type") == "stream" else ""
                for line in text.splitlines():
                    if line.startswith(marker) and len(line) < 300 * 1024 * 1024:
                        try:
                            payload = json.loads(line[len(marker) :])
                        except ValueError:
                            continue
                        if isinstance(payload, dict):
                            for name in wanted:
                                value = payload.get(name)
                                if isinstance(value, (dict, bool)) or value is None:
                                    if not (isinstance(value, dict) and "missing" in value):
                                        answers[name] = value

        try:
            with client.setup_kernel():
                if limits.isolated:  # the kernel has made its sockets: from here on it cannot write there
                    from .isolation import seal

                    seal(workdir / "sockets")
                for index, cell in enumerate(notebook.cells[:slot]):
                    execute(cell, index)
                    for output in cell.get("outputs", []):
                        if output.get("output_type") == "error":
                            notes.append(f"code cell {index + 1} raised {output.get('ename', 'an error')}")
                            if output.get("ename") == "MemoryError":
                                status = "memory"
                    bound = _bound_names(cell.source)
                    wanted = [n for n in names if bound is None or n in bound]
                    if wanted:
                        extract(wanted)
        except CellTimeoutError:
            status = "timeout"
            notes.append(
                "the time limit ended the run (per cell "
                f"{limits.cell_timeout:g} s, per notebook {limits.notebook_timeout:g} s)"
            )
        except DeadKernelError:
            status = "memory" if status == "memory" else "crash"
            notes.append("the kernel died (the process ended: out of memory, or the code ended it)")
        except Exception as err:  # the kernel could not be started or talked to
            status = "crash"
            notes.append(f"the notebook could not be run ({type(err).__name__})")
        finally:
            try:
                if manager.has_kernel:
                    from jupyter_core.utils import run_sync

                    run_sync(manager.shutdown_kernel)(now=True)
            except Exception:  # already gone
                pass
        if limits.isolated:
            network = "network isolated (bubblewrap sandbox)"
        else:
            network = report.read_text(encoding="utf-8") if report.is_file() else "network: kernel did not start"
    return Run(answers, status, notes, network, time.monotonic() - started)


# ------------------------------------------------------------------------------------------------------------------
# Judging
# ------------------------------------------------------------------------------------------------------------------


class _JudgeTimeout(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _JudgeTimeout


def judge(exercises: list, encoded: dict[str, Any], limits: Limits) -> list[dict]:
    """Each exercise's points and case messages, judged here on the decoded answers."""
    from . import codec
    from .result import CheckResult
    from .sandbox import FunctionSandbox

    blobs: dict[str, str] = {}
    sandbox = FunctionSandbox(
        blobs,
        memory_mb=limits.memory_mb,
        call_timeout=limits.call_timeout,
        isolated=limits.isolated,
        scratch_mb=limits.scratch_mb,
    )

    def function_factory(blob: str) -> Any:
        key = f"f{len(blobs)}"
        blobs[key] = blob
        return sandbox.proxy(key)

    decoded: dict[str, Any] = {}
    unreadable: set[str] = set()
    for name, value in encoded.items():
        try:
            decoded[name] = codec.decode(value, function_factory)
        except (codec.DecodeError, ValueError, TypeError, OverflowError, RecursionError):
            unreadable.add(name)
    results = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for exercise in exercises:
            record = {"name": exercise.name, "max": exercise.points, "points": 0.0, "cases": []}
            missing = [n for n in exercise.answers if n not in decoded and n not in unreadable]
            if missing:
                record["cases"].append(
                    {
                        "status": "unanswered",
                        "hidden": False,
                        "message": f"no answer: {', '.join(missing)} not defined when the notebook ran.",
                    }
                )
            elif any(n in unreadable for n in exercise.answers):
                record["cases"].append(
                    {"status": "incorrect", "hidden": False, "message": "the answer could not be read as plain data."}
                )
            else:
                signal.setitimer(signal.ITIMER_REAL, limits.judge_timeout)
                try:
                    cases = exercise.cases(decoded)
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    share = exercise.points / len(cases)
                    for number, case in enumerate(cases, start=1):
                        result: CheckResult = case.result
                        if case.hidden:
                            message = f"hidden case {number}: " + ("correct." if result.correct else "not right.")
                        else:
                            message = result.message
                        record["cases"].append({"status": result.status, "hidden": case.hidden, "message": message})
                        if result.correct:
                            record["points"] += share
                except _JudgeTimeout:
                    record["cases"] = [
                        {
                            "status": "incorrect",
                            "hidden": False,
                            "message": f"checking the answer took longer than {limits.judge_timeout:g} s.",
                        }
                    ]
                    record["points"] = 0.0
                except Exception as err:  # the rubric failed on this answer: no points, say so
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    record["cases"] = [
                        {
                            "status": "incorrect",
                            "hidden": False,
                            "message": f"the answer could not be checked ({type(err).__name__}).",
                        }
                    ]
                    record["points"] = 0.0
            record["points"] = round(record["points"], 4)
            results.append(record)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sandbox.close()
    return results


def grade_submission(set_path: Path | str, submission: Path | str, limits: Limits = Limits()) -> dict:
    """Grade one submission: ``{"student", "status", "exercises", "notes", "network", "seconds", ...}``.

    Raises ``lecturelib.homework.isolation.IsolationUnavailable`` when ``limits.isolated`` and the sandbox
    cannot be made here.
    """
    if limits.isolated:
        from .isolation import check

        check([Path(submission).parent, Path(set_path).parent, Path.cwd()], scratch_mb=limits.scratch_mb)
    return _grade(set_path, submission, limits)


def _grade(set_path: Path | str, submission: Path | str, limits: Limits) -> dict:
    started = time.monotonic()
    exercises = load_rubric(set_path)
    names = sorted({n for e in exercises for n in e.answers})
    submission = Path(submission)
    try:
        run = run_submission(submission, names, limits)
        exercises_graded = judge(exercises, run.answers, limits)
    except Exception as err:  # the grader itself failed on this submission: report, do not stop the class
        run = Run({}, "error", [f"grading failed: {type(err).__name__}: {err}"], "", 0.0)
        exercises_graded = [{"name": e.name, "max": e.points, "points": 0.0, "cases": []} for e in exercises]
    return {
        "student": submission.stem,
        "status": run.status,
        "exercises": exercises_graded,
        "notes": run.notes,
        "network": run.network,
        "seconds": run.seconds,  # running the notebook
        "graded_seconds": time.monotonic() - started,  # running and judging
        "isolated": limits.isolated,
    }


def _grade_job(job: tuple[str, str, Limits]) -> dict:
    return _grade(job[0], job[1], job[2])


# ------------------------------------------------------------------------------------------------------------------
# A class
# ------------------------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def grade_class(
    set_name: str,
    submissions: Path | str,
    outdir: Path | str,
    *,
    source: Path | str | None = None,
    jobs: int = 1,
    limits: Limits = Limits(),
    gradebook: Any = None,
) -> list[dict]:
    """Grade every ``<student id>.ipynb`` in ``submissions``; write the outputs into ``outdir``; return the records.

    Student code runs in the sandbox of ``lecturelib.homework.isolation`` unless ``limits.isolated`` is False;
    where the sandbox cannot be made, this raises
    ``lecturelib.homework.isolation.IsolationUnavailable`` before running any submission. The outputs are
    written after every run, each file atomically (written aside, then renamed into place); ``submissions`` is only
    read. ``gradebook``: a parsed export (``lecturelib.homework.gradebook.read_gradebook``) to fill as
    ``outdir/gradebook.csv``.
    """
    set_path = find_set(set_name, source)
    exercises = load_rubric(set_path)
    folder = Path(submissions)
    if not folder.is_dir():
        raise FileNotFoundError(f"the submissions folder {folder} does not exist")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    out = Path(outdir)
    if any(a.resolve() == b.resolve() or b.resolve() in a.resolve().parents for a, b in ((out, folder), (folder, out))):
        raise ValueError(f"the output folder {out} and the submissions folder {folder} must not hold one another")
    if limits.isolated:
        from .isolation import check

        check([folder, out, set_path.parent, Path.cwd()], scratch_mb=limits.scratch_mb)
    chosen, skipped = [], []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix == ".ipynb" and STUDENT_ID.match(path.stem):
            chosen.append(path)
        else:
            skipped.append(path.name)
    from .gradebook import notebook_id

    ids = {path.stem: notebook_id(path) for path in chosen}  # read before any student code runs
    records: list[dict]
    job_list = [(str(set_path), str(path), limits) for path in chosen]
    if jobs == 1 or len(chosen) <= 1:
        records = [_grade_job(job) for job in job_list]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            records = list(pool.map(_grade_job, job_list))
    records.sort(key=lambda r: r["student"])
    for record in records:
        record["id"] = ids[record["student"]]
    out.mkdir(parents=True, exist_ok=True)
    _write_outputs(out, set_path.stem, exercises, records, skipped, gradebook)
    return records


NOT_ISOLATED = (
    "not isolated: graded with --no-isolation, so the student's code ran with the grader's permissions and "
    "could read and change its files"
)


def _status(record: dict) -> str:
    return record["status"] if record.get("isolated", True) else f"{record['status']} (not isolated)"


def _write(path: Path, text: str) -> None:
    """Write a file atomically: aside in the same folder, then renamed over ``path``."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False, newline=""
    ) as handle:
        handle.write(text)
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)


def _write_outputs(
    out: Path, set_name: str, exercises: list, records: list[dict], skipped: list[str], gradebook: Any = None
) -> None:
    maximum = sum(e.points for e in exercises)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *[e.name for e in exercises], "total", "max", "status"])
    for record in records:
        total = sum(x["points"] for x in record["exercises"])
        writer.writerow(
            [
                record["student"],
                *[_number(x["points"]) for x in record["exercises"]],
                _number(total),
                _number(maximum),
                _status(record),
            ]
        )
    _write(out / "grades.csv", buffer.getvalue())
    (out / "feedback").mkdir(exist_ok=True)
    (out / "gradescope").mkdir(exist_ok=True)
    for record in records:
        total = sum(x["points"] for x in record["exercises"])
        lines = [
            f"# {set_name}: feedback for {record['student']}",
            "",
            f"Total: {_number(total)} of {_number(maximum)} points. Status: {_status(record)}.",
            "",
        ]
        if not record.get("isolated", True):
            lines += [f"**{NOT_ISOLATED[0].upper()}{NOT_ISOLATED[1:]}.**", ""]
        lines += [f"- {note}" for note in record["notes"]]
        if record["notes"]:
            lines.append("")
        tests = []
        for exercise in record["exercises"]:
            lines.append(f"## {exercise['name']}: {_number(exercise['points'])} of {_number(exercise['max'])}")
            lines.append("")
            messages = [
                case["status"] + (f": {case['message']}" if case["message"] else "") for case in exercise["cases"]
            ]
            lines += [f"- {m}" for m in messages] + [""]
            tests.append(
                {
                    "name": exercise["name"],
                    "score": round(exercise["points"], 4),
                    "max_score": exercise["max"],
                    "output": "\n".join(messages),
                    "visibility": "visible",
                }
            )
        _write(out / "feedback" / f"{record['student']}.md", "\n".join(lines))
        isolation = "" if record.get("isolated", True) else f" {NOT_ISOLATED[0].upper()}{NOT_ISOLATED[1:]}."
        results = {
            "score": round(total, 4),
            "output": f"Status: {_status(record)}.{isolation} " + " ".join(record["notes"]),
            "tests": tests,
            "visibility": "visible",
        }
        (out / "gradescope" / record["student"]).mkdir(exist_ok=True)
        _write(
            out / "gradescope" / record["student"] / "results.json",
            json.dumps(results, indent=1, ensure_ascii=False) + "\n",
        )
    if skipped:
        _write(out / "skipped.txt", "".join(f"{name}\n" for name in skipped))
    if gradebook is not None:
        totals = [
            {"student": r["student"], "id": r.get("id"), "total": sum(x["points"] for x in r["exercises"])}
            for r in records
        ]
        text, unmatched = gradebook.fill(totals, maximum, _number)
        _write(out / "gradebook.csv", text)
        _write(out / "unmatched.txt", "".join(f"{line}\n" for line in unmatched))


# ------------------------------------------------------------------------------------------------------------------
# Gradescope
# ------------------------------------------------------------------------------------------------------------------

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this with the student's files in $ROOT/submission; it must write $ROOT/results/results.json.
# ROOT is /autograder on Gradescope (AUTOGRADER_ROOT overrides it, for a test).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
WORK="$(mktemp -d)"
mkdir -p "$WORK/submissions" "$ROOT/results"
notebooks=()
while IFS= read -r -d '' found; do notebooks+=("$found"); done < <(find "$ROOT/submission" -name '*.ipynb' -print0)
if [ "${#notebooks[@]}" -ne 1 ]; then
  printf '{"score": 0, "output": "Submit exactly one notebook (.ipynb); found %s.", "tests": []}\\n' \\
    "${#notebooks[@]}" > "$ROOT/results/results.json"
  exit 0
fi
cp "${notebooks[0]}" "$WORK/submissions/student.ipynb"
cd "$WORK"
export PYTHONPATH="$SOURCE${PYTHONPATH:+:$PYTHONPATH}"
# The bubblewrap sandbox where Gradescope's container lets it run (setup.sh installs it); where the container refuses
# the namespaces it needs, the container itself (one submission, thrown away after) is the sandbox, and the
# student's results say "not isolated".
ISOLATION=()
python3 -m lecturelib.homework.isolation >/dev/null || ISOLATION=(--no-isolation)
python3 -m lecturelib.homework grade __SET__ "$WORK/submissions" \\
  --out "$WORK/out" --source "$SOURCE/homework" __LIMITS__ "${ISOLATION[@]}"
cp "$WORK/out/gradescope/student/results.json" "$ROOT/results/results.json"
"""

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once to build the autograder image (Ubuntu with python3).
set -euo pipefail
apt-get update && apt-get install -y python3-pip bubblewrap
pip3 install -r /autograder/source/requirements.txt
"""


def write_gradescope_bundle(
    set_name: str,
    outdir: Path | str,
    *,
    source: Path | str | None = None,
    limits: Limits = Limits(),
    requirements: Path | str | None = None,
) -> Path:
    """Write ``outdir/autograder.zip`` and its files (``setup.sh``, ``run_autograder``, the set, lecturelib)."""
    import zipfile

    set_path = find_set(set_name, source)
    load_rubric(set_path)  # refuse a set without grading cells before writing anything
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    flags = (
        f"--cell-timeout {limits.cell_timeout:g} --notebook-timeout {limits.notebook_timeout:g} "
        f"--memory {limits.memory_mb} --call-timeout {limits.call_timeout:g}"
    )
    (out / "run_autograder").write_text(
        RUN_AUTOGRADER.replace("__SET__", set_path.stem).replace("__LIMITS__", flags), encoding="utf-8"
    )
    (out / "setup.sh").write_text(SETUP, encoding="utf-8")
    for script in ("run_autograder", "setup.sh"):
        (out / script).chmod(0o755)
    package = Path(__file__).resolve().parents[1]
    if (out / "lecturelib").exists():
        shutil.rmtree(out / "lecturelib")
    shutil.copytree(package, out / "lecturelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (out / "homework").mkdir(exist_ok=True)
    shutil.copy2(set_path, out / "homework" / set_path.name)
    pins = Path(requirements) if requirements else None
    lines = []
    if pins and pins.is_file():
        lines = [
            line
            for line in pins.read_text(encoding="utf-8").splitlines()
            if line.strip()
            and not line.startswith(("#", "-e", "nbval", "pytest", "playwright", "axe-", "hypothesis", "sphinx"))
        ]
    (out / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    bundle = out / "autograder.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(out.rglob("*")):
            if path.is_file() and path != bundle:
                archive.write(path, path.relative_to(out).as_posix())
    return bundle


# ------------------------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------------------------


def _limit_arguments(command: argparse.ArgumentParser) -> None:
    defaults = Limits()
    command.add_argument(
        "--cell-timeout",
        type=float,
        default=defaults.cell_timeout,
        help=f"seconds one cell may run (default {defaults.cell_timeout:g})",
    )
    command.add_argument(
        "--notebook-timeout",
        type=float,
        default=defaults.notebook_timeout,
        help=f"seconds the whole notebook may run (default {defaults.notebook_timeout:g})",
    )
    command.add_argument(
        "--memory",
        type=int,
        default=defaults.memory_mb,
        help=f"address space of the kernel and the function sandbox, MB (default {defaults.memory_mb})",
    )
    command.add_argument(
        "--call-timeout",
        type=float,
        default=defaults.call_timeout,
        help=f"seconds one call of a student's function may run (default {defaults.call_timeout:g})",
    )
    command.add_argument(
        "--scratch",
        type=int,
        default=defaults.scratch_mb,
        help=f"size of the sandbox's private /tmp, MB (default {defaults.scratch_mb})",
    )
    command.add_argument(
        "--no-isolation",
        action="store_true",
        help="run student code without the bubblewrap sandbox, with your own permissions (every output says so)",
    )
    command.add_argument(
        "--source",
        default=None,
        help="the folder of the instructor's homework sources (default: book/homework under the current folder)",
    )


def _limits(args: argparse.Namespace) -> Limits:
    for name in ("cell_timeout", "notebook_timeout", "call_timeout"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"--{name.replace('_', '-')} must be a positive number of seconds, got {value}")
    if args.memory < 256:
        raise ValueError(f"--memory must be at least 256 (MB), got {args.memory}")
    if args.scratch < 16:
        raise ValueError(f"--scratch must be at least 16 (MB), got {args.scratch}")
    return Limits(
        args.cell_timeout,
        args.notebook_timeout,
        args.memory,
        args.call_timeout,
        scratch_mb=args.scratch,
        isolated=not args.no_isolation,
    )


def _run_grade(args: argparse.Namespace) -> int:
    limits = _limits(args)
    gradebook = None
    if args.gradebook:  # read before grading: a wrong file stops here, not after an hour of grading
        from .gradebook import read_gradebook

        gradebook = read_gradebook(args.gradebook, find_set(args.set, args.source).stem, args.gradebook_column)
    if not limits.isolated:
        sys.stderr.write(f"WARNING: {NOT_ISOLATED}.\n")
    records = grade_class(
        args.set, args.submissions, args.out, source=args.source, jobs=args.jobs, limits=limits, gradebook=gradebook
    )
    skipped = Path(args.out) / "skipped.txt"
    if skipped.is_file():
        for name in skipped.read_text(encoding="utf-8").splitlines():
            sys.stderr.write(f"skipped {name}: not <student id>.ipynb\n")
    networks = sorted({r["network"] for r in records if r["network"]})
    for line in networks:
        sys.stdout.write(f"{line}\n")
    if gradebook is not None:
        unmatched = (Path(args.out) / "unmatched.txt").read_text(encoding="utf-8").splitlines()
        for line in unmatched:
            sys.stderr.write(f"not in the gradebook: {line}\n")
        sys.stdout.write(f"wrote {Path(args.out) / 'gradebook.csv'} ({gradebook.kind}, column {gradebook.column!r})\n")
    sys.stdout.write(f"graded {len(records)} submissions into {args.out}\n")
    if not limits.isolated:
        sys.stderr.write(f"WARNING: {NOT_ISOLATED}; every output says so.\n")
    return 0


def _run_gradescope(args: argparse.Namespace) -> int:
    requirements = Path.cwd() / "requirements.txt"
    bundle = write_gradescope_bundle(
        args.set,
        args.outdir,
        source=args.source,
        limits=_limits(args),
        requirements=requirements if requirements.is_file() else None,
    )
    sys.stdout.write(f"wrote {bundle}\n")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``grade`` and ``gradescope`` to the ``python -m lecturelib.homework`` command line."""
    command = commands.add_parser("grade", help="grade a folder of submitted notebooks of one set")
    command.add_argument("set", metavar="SET", help="the set, e.g. hw1 or hw1_taylor_descent")
    command.add_argument("submissions", metavar="SUBMISSIONS", help="a folder of <student id>.ipynb files")
    command.add_argument("--out", required=True, metavar="OUTDIR", help="where grades.csv and the feedback go")
    command.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    command.add_argument(
        "--gradebook",
        metavar="EXPORT.csv",
        default=None,
        help="a gradebook exported from Canvas (or a roster CSV with an 'id' column): write OUTDIR/gradebook.csv "
        "with this set's points, ready to import",
    )
    command.add_argument(
        "--gradebook-column",
        metavar="NAME",
        default=None,
        help="the export's column for this set (default: the one whose header names the set, e.g. hw1)",
    )
    _limit_arguments(command)
    command.set_defaults(run=_run_grade)
    command = commands.add_parser("gradescope", help="write a Gradescope autograder bundle for one set")
    command.add_argument("set", metavar="SET")
    command.add_argument("outdir", metavar="OUTDIR")
    _limit_arguments(command)
    command.set_defaults(run=_run_gradescope)
