"""Every chapter and homework notebook runs, and every number its prose states stays true, under other rounding.

numpy's OpenBLAS picks its kernels for the CPU it runs on, and kernels for different CPUs round differently in the
last bits; chaotic and edge-of-stability dynamics amplify those bits. The kernels are a small sample of rounding, not
its range, so every execution of a notebook in the test command also gets its own seed of the rounding harness
(``LECTURELIB_PERTURB``, ``lecturelib.perturbation``: every start of an iteration multiplied by ``1 + 2**-44 z``).
The rest of the suite executes the notebooks in this session's environment unperturbed (the site build) and on
Prescott with seed 1 (nbval, the root ``conftest.py``). This test executes each of them again, in a fresh kernel,
under each other environment below with its seed, and fails on any cell error (the notebooks assert what their prose
states). Each run reports from inside its kernel ``threadpoolctl.threadpool_info()`` and
``lecturelib.perturbation.seed()``, and the test checks that the requested kernel, thread count and seed really ran,
so it cannot pass on an environment variable that OpenBLAS or the harness ignored.

The environments are the ones the project's standards name: OpenBLAS's Haswell, SandyBridge and Prescott kernels
(``OPENBLAS_CORETYPE``; threadpoolctl calls Prescott's "Katmai") and one BLAS thread, which is combined with
SandyBridge to keep the run short. Their seeds are the first integers (Prescott 1, SandyBridge 2, Haswell 3), fixed
before any notebook ran under them. The environment this session itself runs in (the CI machine sets Haswell) is
covered by the rest of the suite (nbval and the site builds) and skipped here; on a machine that sets no kernel, the
session runs the CPU's own kernel and all three run here. Two notebooks run at a time (the CI machine has two cores).

By hand, ``--perturb-seeds 101-110`` (or ``1,2,3``, or the environment variable ``PERTURB_SEEDS``) runs every
notebook once more under each seed listed, in this session's own BLAS environment
(``test_every_notebook_runs_under_extra_perturbation_seeds``, skipped without seeds), and prints a table of the
failures per notebook and seed; ``PORTABILITY_JOBS=1`` runs one notebook at a time instead of two.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).with_name("run_notebook.py")
# The root conftest's test for a MyST notebook (what nbval collects), loaded under its own name.
_spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
_root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root_conftest)
is_notebook = _root_conftest.is_notebook

pytestmark = pytest.mark.slow

# name -> (variables to set, variables to remove, the architecture threadpoolctl must report, threads or None)
# Each sets its own perturbation seed; Prescott's is the one nbval's kernelspec sets (the same environment).
ENVIRONMENTS = {
    "Haswell": ({"OPENBLAS_CORETYPE": "Haswell", "LECTURELIB_PERTURB": "3"}, (), "Haswell", None),
    "SandyBridge, 1 thread": (
        {"OPENBLAS_CORETYPE": "SandyBridge", "OPENBLAS_NUM_THREADS": "1", "LECTURELIB_PERTURB": "2"},
        (),
        "Sandybridge",
        1,
    ),
    "Prescott": (
        {"OPENBLAS_CORETYPE": "Prescott", "LECTURELIB_PERTURB": str(_root_conftest.NBVAL_SEED)},
        (),
        "Katmai",
        None,
    ),
}
#: How many notebooks run at a time (the CI machine has two cores); ``PORTABILITY_JOBS=1`` for a busy machine.
JOBS = int(os.environ.get("PORTABILITY_JOBS", "2"))


def _notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*.md") if "_ext" not in p.parts and is_notebook(p))


def _environment(name: str) -> dict[str, str]:
    """The environment of a run: one of ``ENVIRONMENTS``, or ``"seed N"`` (this session's BLAS, harness seed N)."""
    if name.startswith("seed "):
        setting, removing = {"LECTURELIB_PERTURB": name.removeprefix("seed ")}, ()
    else:
        setting, removing, _, _ = ENVIRONMENTS[name]
    env = {k: v for k, v in os.environ.items() if k not in removing}
    env.update(setting)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def _seed(name: str) -> int:
    return int(_environment(name)["LECTURELIB_PERTURB"])


def _blas(pools: list[dict]) -> dict:
    """numpy's OpenBLAS among the kernel's thread pools (scipy may bring a second one along)."""
    numpy_pools = [p for p in pools if p["internal_api"] == "openblas" and "numpy" in p["filepath"]]
    assert len(numpy_pools) == 1, f"expected numpy's OpenBLAS once among the thread pools, got {pools}"
    return numpy_pools[0]


def _covered(session) -> set[str]:
    """The environments that the rest of this session executes every notebook in, so this test skips them.

    Only when this session collected the notebooks (nbval, the root ``conftest.py``) and builds the site: nbval runs
    them on its own kernelspec (``OPENBLAS_CORETYPE=Prescott``), the site build in this session's environment (the
    machine's own kernel, or Haswell where the machine sets it, as the CI machine does).
    """
    # By class name: this module loads the root conftest under another name, so its classes are other objects.
    notebook_cells = [item for item in session.items if type(item.parent).__name__ == "MarkdownNotebook"]
    collected = {Path(str(item.path)) for item in notebook_cells}
    if not set(_notebooks()) <= collected:
        return set()
    covered = set()
    if session.config.option.nbval_kernel_name == _root_conftest.NBVAL_KERNEL:
        covered.add(_root_conftest.NBVAL_CORETYPE)
    site = any(item.get_closest_marker("site") is not None for item in session.items)
    if site and os.environ.get("OPENBLAS_CORETYPE") == "Haswell" and "OPENBLAS_NUM_THREADS" not in os.environ:
        covered.add("Haswell")
    return covered


def _execute(job: tuple[str, Path]) -> tuple[str, Path, subprocess.CompletedProcess]:
    name, notebook = job
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(notebook)],
        env=_environment(name),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    return name, notebook, result


def test_nbval_kernel_runs_on_prescott(request):
    """The kernelspec nbval runs the notebooks with really loads OpenBLAS's Prescott kernel ("Katmai") and switches the
    rounding harness on with its seed."""
    if request.config.option.nbval_kernel_name != _root_conftest.NBVAL_KERNEL:
        pytest.skip("nbval runs on a kernel chosen on the command line")
    from jupyter_client.manager import start_new_kernel

    outputs: list[dict] = []
    manager, client = start_new_kernel(kernel_name=_root_conftest.NBVAL_KERNEL, cwd=str(ROOT))
    try:
        reply = client.execute_interactive(
            "import json, numpy, threadpoolctl, lecturelib.perturbation as p\n"
            "print(json.dumps({'pools': threadpoolctl.threadpool_info(), 'seed': p.seed()}))",
            timeout=120,
            output_hook=outputs.append,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok"
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    report = json.loads(text)
    assert _blas(report["pools"])["architecture"] == "Katmai"
    assert report["seed"] == _root_conftest.NBVAL_SEED


def _run_all(jobs: list[tuple[str, Path]]) -> tuple[list[str], list[str], dict[tuple[str, Path], str]]:
    """Execute the jobs (``JOBS`` at a time); return the failures, one line per run, and each job's outcome."""
    failures, ran, outcome = [], [], {}
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        for name, notebook, result in pool.map(_execute, jobs):
            label = f"{notebook.relative_to(ROOT)} under {name}"
            error = f" ({_error_line(result.stdout)})" if result.returncode else ""
            print(f"{label}: exit {result.returncode}{error}", flush=True)  # progress, seen live with -s
            if result.returncode != 0:
                failures.append(f"{label}:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
                outcome[name, notebook] = _error_name(result.stdout)
                continue
            report = json.loads(result.stdout.strip().splitlines()[-1])
            blas = _blas(report["threadpools"])
            wrong = []
            if name in ENVIRONMENTS:
                _, _, architecture, threads = ENVIRONMENTS[name]
                if blas["architecture"] != architecture or (threads is not None and blas["num_threads"] != threads):
                    wrong.append(
                        f"asked for {architecture} with {threads or 'default'} threads, the kernel ran "
                        f"{blas['architecture']} with {blas['num_threads']}"
                    )
            if report["perturb_seed"] != _seed(name):
                wrong.append(f"asked for perturbation seed {_seed(name)}, the kernel read {report['perturb_seed']}")
            if wrong:
                failures.append(f"{label}: " + "; ".join(wrong))
                outcome[name, notebook] = "wrong environment"
                continue
            outcome[name, notebook] = "ok"
            again = " (its first kernel died at start)" if "died at its start" in result.stderr else ""
            ran.append(
                f"{label}: {blas['architecture']}/{blas['num_threads']} threads, seed {report['perturb_seed']} "
                f"({report['perturbed_calls']} starts perturbed), {report['seconds']} s{again}"
            )
    return failures, ran, outcome


def _error_line(stdout: str) -> str:
    """The line that names the exception that ended a failed run (``AssertionError: ...``) and, after ``at``, the last
    source line its traceback points at (``----> 4 assert ...``), cut to 300 characters."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", stdout)
    lines = re.findall(r"^\w*(?:Error|Exception|Warning)\b.*$", plain, flags=re.MULTILINE)
    pointed = re.findall(r"^-*> *\d+ (.*)$", plain, flags=re.MULTILINE)
    where = f" at {pointed[-1].strip()}" if pointed else ""
    return ((lines[-1] if lines else "error") + where)[:300]


def _error_name(stdout: str) -> str:
    """The exception that ended a failed run (the last ``SomethingError`` or assertion named in its traceback)."""
    return re.split(r"[^\w]", _error_line(stdout), maxsplit=1)[0] or "error"


def test_every_notebook_runs_under_other_blas_kernels(request):
    notebooks = _notebooks()
    assert len(notebooks) >= 10, f"found only {len(notebooks)} notebooks"
    covered = _covered(request.session)
    names = [name for name in ENVIRONMENTS if name not in covered]
    print(f"\ncovered by nbval and the site build: {sorted(covered)}; run here: {names}")
    # Longest first (the ReLU and edge-of-stability chapters), so two workers finish together.
    order = sorted(notebooks, key=lambda p: -p.stat().st_size)
    jobs = [(name, notebook) for notebook in order for name in names]
    failures, ran, _ = _run_all(jobs)
    print("\n".join(ran))
    assert not failures, "\n\n".join(failures)
    assert len(ran) == len(jobs)


def test_every_notebook_runs_under_extra_perturbation_seeds(request):
    """By hand: every notebook under each seed of ``--perturb-seeds`` (or ``$PERTURB_SEEDS``), in this session's
    BLAS environment; prints a table of the outcomes (notebook by seed) and fails on any failed run."""
    seeds = request.config.perturb_seeds
    if not seeds:
        pytest.skip("no --perturb-seeds (or PERTURB_SEEDS) given")
    notebooks = sorted(_notebooks(), key=lambda p: -p.stat().st_size)
    names = [f"seed {seed}" for seed in seeds]
    # Seed by seed, so a run stopped early has whole seeds done.
    jobs = [(name, notebook) for name in names for notebook in notebooks]
    failures, ran, outcome = _run_all(jobs)
    print("\n".join(ran))
    rows = ["| notebook | " + " | ".join(str(s) for s in seeds) + " | failed |", "|---" * (len(seeds) + 2) + "|"]
    for notebook in sorted(notebooks):
        cells = [outcome[name, notebook] for name in names]
        marks = ["ok" if c == "ok" else f"**{c}**" for c in cells]
        failed = sum(c != "ok" for c in cells)
        rows.append(f"| {notebook.relative_to(ROOT)} | " + " | ".join(marks) + f" | {failed} / {len(seeds)} |")
    table = f"{len(jobs)} executions, {len(failures)} failed\n" + "\n".join(rows)
    print("\n" + table)
    assert not failures, table + "\n\n" + "\n\n".join(failures)
    assert len(ran) == len(jobs)
