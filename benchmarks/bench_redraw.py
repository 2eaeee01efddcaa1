"""Time of one live redraw of chapter 4's step-size explorer (what the slider does in Jupyter).

Chapter 4's explorer draws, for the chosen step size, the cobweb of x <- x - step * f2'(x) from x0 = 1.7 and the same
60-step run against the step number, with a fixed layout and few ticks so that a redraw stays interactive. This
script builds the same picture with ``lecturelib.step_explorer`` and reports, over repeated redraws at the
chapter's slider positions, the CPU time of one redraw (``time.process_time``: on a shared machine the wall-clock
time also counts the wait for a free core) and the wall-clock time the explorer records itself
(``StepExplorer.last_redraw_seconds``). Medians and best of the repeats; the target is well under 0.1 s, so that the
picture follows the slider. This is a measurement, not a test: the chapter asserts no timing.

Run:  PYTHONPATH=. python benchmarks/bench_redraw.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import sympy as sp

from lecturelib import cobweb, run, step_explorer

x = sp.Symbol("x")
F2 = (x**2 + 1) * (x - 1) ** 2 * (x - 2) ** 2
F2_PRIME = sp.lambdify(x, sp.diff(F2, x), "numpy")
TICKS = [0.5, 1.0, 1.5, 2.0, 2.5]
STEPS = np.round(np.linspace(0.02, 0.6, 30), 3)


def draw_f2(fig, step):
    left, right = fig.subplots(1, 2, gridspec_kw=dict(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25))
    cobweb(left, lambda z: z - step * F2_PRIME(z), 1.7, 60, xlim=(0.4, 2.6))
    left.set(title=f"cobweb, δ = {step:.3f}", xticks=TICKS, yticks=TICKS)
    trajectory = run(F2_PRIME, 1.7, step, 60)
    right.plot(trajectory, ".-", ms=3, lw=0.8, color="C3")
    right.axhline(1, color="C0", ls=":", lw=1)
    right.axhline(2, color="C2", ls=":", lw=1)
    right.set(xlabel="step k", ylabel="x_k", ylim=(0.4, 2.6), title="trajectory", xticks=[0, 20, 40, 60], yticks=TICKS)


def main(repeats: int = 5) -> None:
    explorer = step_explorer(draw_f2, STEPS, initial=0.3, figsize=(8, 3.4))
    explorer.set_step(0.3)  # warm-up: fonts, caches
    cpu, wall = [], []
    for _ in range(repeats):
        for step in (0.15, 0.25, 0.45, 0.3, 0.55, 0.1, 0.35, 0.5):
            start = time.process_time()
            explorer.set_step(step)
            cpu.append(time.process_time() - start)
            wall.append(explorer.last_redraw_seconds)
    print(f"chapter 4 explorer, {len(cpu)} redraws")
    print(f"  CPU time per redraw:  median {statistics.median(cpu) * 1e3:6.1f} ms, best {min(cpu) * 1e3:6.1f} ms")
    print(f"  wall time per redraw: median {statistics.median(wall) * 1e3:6.1f} ms, best {min(wall) * 1e3:6.1f} ms")
    print(
        f"  target: well under 100 ms ({'met' if statistics.median(cpu) < 0.1 else 'NOT met'} by the median CPU time)"
    )


if __name__ == "__main__":
    main()
