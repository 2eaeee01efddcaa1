"""Cost of one full-batch gradient-descent step of the paper's two-layer ReLU network (N = 1000, n = m = 1, r = 20).

Compares, in one run and on the same data, microseconds per step of

- PyTorch written the way a user would: autograd on the loss 1/2 sum (f(x) - y)^2 and ``torch.optim.SGD``,
  float64, full batch (the baseline of issue 5; target: lecturelib at most 1/5 of it), with torch's default number
  of threads and with one thread; the target is checked against the faster of the two;
- a straightforward vectorized NumPy step with the hand-written gradient (for reference);
- ``lecturelib.relu_nets.train`` (the fused numba loop the chapter uses).

Each figure is the median over repeats of (time of a block of steps) / (steps in the block); the repeats of the
three methods are interleaved, so a change in the machine's load affects them alike.

PyTorch is a benchmark-only dependency and is NOT in requirements.txt. On the course machine install the CPU wheel
with ``pip install torch==2.13.0``; when torch is not importable the script says so and skips that comparison.

Run:  python benchmarks/bench_relu_step.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from lecturelib.relu_nets import figure2_problem, train

STEP = 2e-4
REPEATS = 7
STEPS_PER_BLOCK = {"torch": 300, "torch1": 300, "numpy": 500, "lecturelib": 4000}


def _block_lecturelib(net, X, Y):
    return lambda k: train(net, X, Y, STEP, k)


def _block_numpy(net, X, Y):
    W0, V0, b = net.W.copy(), net.V.copy(), net.b

    def block(k: int) -> None:
        W, V = W0.copy(), V0.copy()
        for _ in range(k):
            Z = X @ V.T - b
            A = np.maximum(Z, 0.0)
            R = A @ W.T - Y
            gW = R.T @ A
            gV = ((R @ W) * (Z > 0)).T @ X
            W -= STEP * gW
            V -= STEP * gV

    return block


def _block_torch(net, X, Y, threads: int | None = None):
    import torch

    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    bt = torch.tensor(net.b)
    default_threads = torch.get_num_threads()

    def block(k: int) -> None:
        torch.set_num_threads(threads or default_threads)
        W = torch.nn.Parameter(torch.tensor(net.W))
        V = torch.nn.Parameter(torch.tensor(net.V))
        opt = torch.optim.SGD([W, V], lr=STEP)
        for _ in range(k):
            opt.zero_grad()
            loss = 0.5 * ((torch.relu(Xt @ V.T - bt) @ W.T - Yt) ** 2).sum()
            loss.backward()
            opt.step()
        torch.set_num_threads(default_threads)

    return block


def measure(blocks: dict) -> dict:
    """Median microseconds per step of each block; the repeats are interleaved so every method sees the same load."""
    for block in blocks.values():
        block(5)  # warm-up (and, for lecturelib, compilation)
    times = {name: [] for name in blocks}
    for _ in range(REPEATS):
        for name, block in blocks.items():
            k = STEPS_PER_BLOCK[name]
            t0 = time.perf_counter()
            block(k)
            times[name].append((time.perf_counter() - t0) / k * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def check_same_step(net, X, Y) -> float:
    """Largest parameter difference between lecturelib and torch after 50 steps (they must compute the same GD)."""
    import torch

    W = torch.nn.Parameter(torch.tensor(net.W))
    V = torch.nn.Parameter(torch.tensor(net.V))
    opt = torch.optim.SGD([W, V], lr=STEP)
    Xt, Yt, bt = torch.tensor(X), torch.tensor(Y), torch.tensor(net.b)
    for _ in range(50):
        opt.zero_grad()
        (0.5 * ((torch.relu(Xt @ V.T - bt) @ W.T - Yt) ** 2).sum()).backward()
        opt.step()
    ours = train(net, X, Y, STEP, 50)
    return max(np.abs(ours.W - W.detach().numpy()).max(), np.abs(ours.V - V.detach().numpy()).max())


def main() -> None:
    net, _, X, Y = figure2_problem(0)
    print(f"One GD step, N = {X.shape[0]}, n = m = 1, r = {net.r}, float64, full batch; median of {REPEATS} repeats")
    blocks = {"lecturelib": _block_lecturelib(net, X, Y), "numpy": _block_numpy(net, X, Y)}
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: skipping the PyTorch baseline (benchmark-only dependency, not in")
        print("requirements.txt; install the CPU wheel with `pip install torch==2.13.0`)")
    if torch is not None:
        blocks["torch"] = _block_torch(net, X, Y)
        blocks["torch1"] = _block_torch(net, X, Y, threads=1)
    us = measure(blocks)
    ours, numpy_us = us["lecturelib"], us["numpy"]
    if torch is not None:
        # On a loaded machine torch's default thread pool can be many times slower than one thread on this tiny
        # problem; the target is checked against the faster of the two, the conservative choice.
        torch_us = min(us["torch"], us["torch1"])
        threads = torch.get_num_threads()
        print(f"torch {torch.__version__} autograd + SGD, default threads ({threads}): {us['torch']:8.1f} us/step")
        print(f"torch {torch.__version__} autograd + SGD, 1 thread: {us['torch1']:8.1f} us/step")
    print(f"numpy (vectorized)           : {numpy_us:8.1f} us/step")
    print(f"lecturelib.relu_nets.train   : {ours:8.1f} us/step")
    print(f"ratio lecturelib / numpy     : {ours / numpy_us:8.3f}")
    if torch is not None:
        diff = check_same_step(net, X, Y)
        ratio = ours / torch_us
        print(
            f"ratio lecturelib / faster torch: {ratio:6.3f}  (target <= 0.200: {'met' if ratio <= 0.2 else 'NOT met'})"
        )
        print(f"max |lecturelib - torch| after 50 steps: {diff:.1e}")


if __name__ == "__main__":
    main()
