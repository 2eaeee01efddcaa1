"""Speed of lecturelib.gd.bifurcation on f2 = (x^2 + 1)(x - 1)^2 (x - 2)^2.

The target problem: 2000 step sizes in [0.01, 0.6] x 200 starts in [0, 3] x 2000 steps (8e8 updates). Three ways to
do the same updates x <- x - step * f2'(x), measured in the same run, in nanoseconds per update (median of repeats):

- plain Python: a triple loop over steps, time and starts calling f2' (sympy-lambdified to the ``math`` module), on a
  slice of the step sizes, scaled per update;
- vectorized NumPy: ``bifurcation`` with f2' as a numpy callable, on a slice of the step sizes;
- compiled: ``bifurcation`` with f2 as a sympy expression (derived by sympy, compiled by numba), on the full problem.

The compiled path's first call also compiles; that one-time cost is reported separately.

Run:  PYTHONPATH=. python benchmarks/bench_bifurcation.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import sympy as sp

from lecturelib import bifurcation

x = sp.Symbol("x")
F2 = (x**2 + 1) * (x - 1) ** 2 * (x - 2) ** 2
STEPS = np.linspace(0.01, 0.6, 2000)
STARTS = np.linspace(0.0, 3.0, 200)
N_TRANSIENT, N_KEEP = 1900, 100
N_ITER = N_TRANSIENT + N_KEEP


def plain_python(steps, starts, n_transient, n_keep, escape=1e6):
    grad = sp.lambdify(x, sp.diff(F2, x), "math")
    out = np.empty((len(steps), len(starts), n_keep))
    for i, d in enumerate(steps):
        xs = [float(s) for s in starts]
        for t in range(n_transient + n_keep):
            for j in range(len(xs)):
                xj = xs[j]
                if xj == xj:
                    xj = xj - d * grad(xj)
                    if not abs(xj) <= escape:
                        xj = float("nan")
                    xs[j] = xj
                if t >= n_transient:
                    out[i, j, t - n_transient] = xj
    return out


def median_ns_per_update(fn, n_updates, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / n_updates * 1e9, result


def main() -> None:
    grad_numpy = sp.lambdify(x, sp.diff(F2, x), "numpy")

    start = time.perf_counter()
    bifurcation(F2, STEPS[:2], STARTS[:2], 1, 1)
    compile_seconds = time.perf_counter() - start

    python_slice = STEPS[::400]  # 5 step sizes
    ns_python, slow = median_ns_per_update(
        lambda: plain_python(python_slice, STARTS, N_TRANSIENT, N_KEEP), len(python_slice) * len(STARTS) * N_ITER, 3
    )
    numpy_slice = STEPS[::20]  # 100 step sizes
    ns_numpy, vectorized = median_ns_per_update(
        lambda: bifurcation(grad_numpy, numpy_slice, STARTS, N_TRANSIENT, N_KEEP),
        len(numpy_slice) * len(STARTS) * N_ITER,
        3,
    )
    ns_compiled, full = median_ns_per_update(
        lambda: bifurcation(F2, STEPS, STARTS, N_TRANSIENT, N_KEEP), len(STEPS) * len(STARTS) * N_ITER, 5
    )

    # The three paths compute the same numbers (chaotic orbits agree too: the arithmetic is the same).
    agree_python = np.allclose(slow, full[::400], equal_nan=True, rtol=1e-9, atol=1e-12)
    agree_numpy = np.allclose(vectorized, full[::20], equal_nan=True, rtol=1e-9, atol=1e-12)

    print(
        f"problem: {len(STEPS)} steps x {len(STARTS)} starts x {N_ITER} iterations = "
        f"{len(STEPS) * len(STARTS) * N_ITER:.1e} updates"
    )
    print(f"numba compile (first call, once per process): {compile_seconds:.2f} s")
    print(f"plain Python     : {ns_python:8.1f} ns/update  (slice of {len(python_slice)} steps, median of 3)")
    print(f"vectorized NumPy : {ns_numpy:8.2f} ns/update  (slice of {len(numpy_slice)} steps, median of 3)")
    print(
        f"compiled (numba) : {ns_compiled:8.3f} ns/update  (full problem, median of 5: "
        f"{ns_compiled * len(STEPS) * len(STARTS) * N_ITER * 1e-9:.2f} s)"
    )
    print(f"speed-up over plain Python: {ns_python / ns_compiled:7.0f}x   over NumPy: {ns_numpy / ns_compiled:5.1f}x")
    print(f"results agree: python={agree_python} numpy={agree_numpy}")


if __name__ == "__main__":
    main()
