"""Speed of recording a deep linear network's training path: chapter 6's trajectory cell, before and after gd.descend.

Chapter 6 follows the Theorem 3 runs (a 3x3 target with eigenvalues 1.8, 0.6, -0.9, depths 2 and 3, 3000 steps each)
and reads three distances from the layers after every step. Two ways to get the layers of every step, measured in the
same run (minimum and median of repeats, in seconds for both depths):

- one step at a time: ``linear_nets.train(R, L, step, 1, init=weights)`` called 3000 times (the chapter before);
- recorded: ``gd.descend(linear_nets.flat_gradient(R, L), ...)``, one call that returns the whole path (the chapter
  now).

Both are timed alone ("training") and with the chapter's distances after every step ("cell"), which dominate.

Run:  PYTHONPATH=. python benchmarks/bench_descend.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from lecturelib import gd, linear_nets

rng = np.random.default_rng(3)
Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
R = Q @ np.diag([1.8, 0.6, -0.9]) @ Q.T
P = linear_nets.closest_psd(R)
N_STEPS = 3000
REPEATS = 5


def layers_one_step_at_a_time(L: int) -> np.ndarray:
    step, weights, out = linear_nets.theorem3_step(R, L), [np.eye(3)] * L, []
    for _ in range(N_STEPS):
        weights = linear_nets.train(R, L, step, 1, init=weights).weights
        out.append(weights)
    return np.array(out)


def layers_recorded(L: int) -> np.ndarray:
    start = np.array([np.eye(3)] * L).ravel()
    path = gd.descend(linear_nets.flat_gradient(R, L), start, linear_nets.theorem3_step(R, L), N_STEPS)
    return path[1:].reshape(N_STEPS, L, 3, 3)


def distances(layers: np.ndarray) -> np.ndarray:
    products = [linear_nets.product(w) for w in layers]
    return np.array(
        [
            (np.linalg.norm(p - P), np.linalg.norm(p - R), linear_nets.invariant_set_distance(R, w))
            for p, w in zip(products, layers, strict=True)
        ]
    )


def timed(function) -> list[float]:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for L in (2, 3):
            function(L)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    layers_one_step_at_a_time(2)  # compile train's loop once
    cases = {
        "training, one step at a time": layers_one_step_at_a_time,
        "training, recorded by descend": layers_recorded,
        "cell, one step at a time": lambda L: distances(layers_one_step_at_a_time(L)),
        "cell, recorded by descend": lambda L: distances(layers_recorded(L)),
    }
    for name, function in cases.items():
        times = timed(function)
        print(f"{name:32s} min {min(times):.3f} s, median {statistics.median(times):.3f} s ({REPEATS} repeats)")


if __name__ == "__main__":
    main()
