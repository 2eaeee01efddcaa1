"""Solve times of ``lecturelib.stepsizes.pep_worst_case`` (PEPit building the semidefinite program, cvxpy handing it
to Clarabel), for the sizes chapter 10 and homework 5 use.

For each case the script prints the median wall time of a few solves and its ratio to the baseline measured in the
same run: the one-step program (N = 1), whose time is mostly PEPit's and cvxpy's fixed cost of building a problem.
The issue's target is N = 7 (constant step, and the silver schedule) in under 10 s; the line for it says whether the
median met it on this machine, at this load. The worst case itself is printed next to its closed form where one is
known (a constant step), with the relative deviation, so the timing is of a correct solve. The silver schedule of
length 31 (too slow for the chapter's page) is solved here, and its worst case printed.

Run:  python benchmarks/bench_pep.py
"""

from __future__ import annotations

import statistics
import time

from lecturelib import stepsizes

REPEATS = 3
TARGET_N7 = 10.0  # seconds


def _median_time(steps, repeats: int = REPEATS) -> tuple[float, float]:
    times, value = [], float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        value = stepsizes.pep_worst_case(steps)
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    stepsizes.pep_worst_case([1.0])  # import PEPit and cvxpy once, outside the timings
    baseline, _ = _median_time([1.0], repeats=5)
    print(f"baseline: N = 1, h = 1: median {baseline * 1e3:.1f} ms over 5 solves")
    print(f"{'case':<28} {'median s':>9} {'x baseline':>11} {'worst case':>12} {'closed form':>12} {'rel. dev.':>10}")
    cases = [(f"constant h = 1.5, N = {n}", [1.5] * n) for n in (3, 7, 10, 15)]
    cases += [(f"silver, n = {n}", list(stepsizes.silver_schedule(n))) for n in (7, 15)]
    for name, steps in cases:
        seconds, value = _median_time(steps)
        if name.startswith("constant"):
            closed = stepsizes.tight_constant_rate(1.5, len(steps))
            extra = f"{closed:12.8f} {abs(value / closed - 1):10.1e}"
        else:
            extra = f"{'':>12} {'':>10}"
        print(f"{name:<28} {seconds:9.3f} {seconds / baseline:11.1f} {value:12.8f} {extra}")
        if len(steps) == 7:
            verdict = "met" if seconds < TARGET_N7 else "MISSED"
            print(f"{'':<28} target N = 7 under {TARGET_N7:.0f} s: {verdict}")
    seconds, value = _median_time(list(stepsizes.silver_schedule(31)), repeats=1)
    print(f"{'silver, n = 31 (one solve)':<28} {seconds:9.3f} {seconds / baseline:11.1f} {value:12.8f}")


if __name__ == "__main__":
    main()
