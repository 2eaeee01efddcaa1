"""Execute one MyST Markdown notebook in a fresh kernel and report which BLAS kernel and perturbation seed ran it.

Used by ``tests/test_portability.py`` (and handy by hand): the kernel inherits this process's environment, so

    OPENBLAS_CORETYPE=Prescott OPENBLAS_NUM_THREADS=1 LECTURELIB_PERTURB=7 \\
        python3 tests/run_notebook.py book/08_edge_of_stability.md

runs chapter 8 on OpenBLAS's Prescott kernels with one thread, every start of an iteration perturbed by the rounding
harness with seed 7 (``lecturelib.perturbation``). The notebook is read with jupytext (as nbval and the book build
read it) and executed with nbclient in the notebook's own folder; a last cell, added here and never saved, prints
``threadpoolctl.threadpool_info()`` of the kernel, the harness's seed as the kernel reads it
(``lecturelib.perturbation.seed()``, ``null`` when unset) and how many starts it perturbed, so a caller can check that
the requested kernel and seed really ran. On success the script prints one JSON line ``{"threadpools": [...],
"perturb_seed": ..., "perturbed_calls": ..., "seconds": ...}`` and exits 0; on a cell error it prints the error and
exits 1. With a second argument it also writes the executed notebook there (to compare the numbers a page prints
under two kernels).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat

#: What jupyter_client raises when a kernel exits before answering its first message (no cell has run yet).
KERNEL_DIED_AT_START = "Kernel died before replying to kernel_info"
MARKER = "KERNEL_REPORT="
#: The last cell: what the kernel ran on. ``perturbed_calls`` reads the harness's call counter (an ``itertools.count``,
#: whose repr is ``count(k)``) without advancing it: the number of starts this kernel perturbed (0 when unset).
PROBE = f"""\
import json as _json, threadpoolctl as _tpc, lecturelib.perturbation as _perturbation
print({MARKER!r} + _json.dumps({{
    "threadpools": _tpc.threadpool_info(),
    "perturb_seed": _perturbation.seed(),
    "perturbed_calls": int(repr(_perturbation._counter)[len("count(") : -1]),
}}))"""


def execute(path: Path, timeout: int = 900, save: Path | None = None) -> dict:
    """Execute the notebook at ``path``; return the kernel's report (the module docstring) and the seconds it took."""
    notebook = jupytext.read(path)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    start = time.perf_counter()
    for attempt in (1, 2):
        client = nbclient.NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        try:
            client.execute()
            break
        except RuntimeError as err:
            # A kernel that dies before its first reply has run no cell: start another one, once, and say so.
            if KERNEL_DIED_AT_START not in str(err) or attempt == 2:
                raise
            print(f"{path.name}: the kernel died at its start; starting another", file=sys.stderr)
    seconds = time.perf_counter() - start
    if save is not None:
        nbformat.write(notebook, save)
    text = "".join(out.get("text", "") for out in notebook.cells[-1].outputs if out.get("output_type") == "stream")
    line = next(line for line in text.splitlines() if line.startswith(MARKER))
    return {**json.loads(line[len(MARKER) :]), "seconds": round(seconds, 1)}


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python3 tests/run_notebook.py NOTEBOOK.md [EXECUTED.ipynb]", file=sys.stderr)
        return 2
    try:
        report = execute(Path(argv[0]).resolve(), save=Path(argv[1]) if len(argv) == 2 else None)
    except nbclient.exceptions.CellExecutionError as error:
        print(str(error)[-4000:])
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
