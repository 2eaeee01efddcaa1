"""Cost of one training step of chapter 9's tanh network (widths 1, 16, 16, 1; 40 points; float64; full batch) with
heavy-ball momentum and with Adam.

Compares, in one run and on the same network and data, microseconds per step of

- lecturelib: ``TanhMLP.grad`` (hand-written, vectorized backpropagation) and the ``update`` of
  ``lecturelib.optimizers.HeavyBall`` / ``Adam``, exactly what ``track_sharpness(optimizer=...)`` runs per step;
- PyTorch written the way a user would: ``torch.nn`` layers, autograd on the same loss and ``torch.optim.SGD(momentum)``
  / ``torch.optim.Adam``, with torch's default number of threads and with one thread; the target (lecturelib at most
  0.3 times PyTorch's time per step) is checked against the faster of the two.

Each figure is the median over repeats of (time of a block of steps) / (steps in the block); the repeats of the
methods are interleaved, so a change in the machine's load affects them alike. Before timing, the script checks that
both sides compute the same iterates (largest parameter difference after 1 and 50 steps). For momentum they agree to
rounding; for Adam they agree to rounding after one step and drift apart afterwards (about 1e-4 after 50 steps here):
a few gradient components of this network are zero up to rounding (down to 1e-20), and Adam's normalized step
m / (sqrt(v) + eps) turns their last-bit differences into differences of order the step size.

PyTorch is a benchmark-only dependency and is NOT in requirements.txt. On the course machine install the CPU wheel
with ``pip install torch==2.13.0``; when torch is not importable the script says so and skips that comparison.

Run:  python benchmarks/bench_optimizers.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from lecturelib.mlp import TanhMLP
from lecturelib.optimizers import Adam, HeavyBall

WIDTHS = (1, 16, 16, 1)
STEP = {"momentum": 0.2, "adam": 0.01}
BETA = 0.5
REPEATS = 7
STEPS_PER_BLOCK = 400


def problem():
    net = TanhMLP(WIDTHS)
    X = np.linspace(-1, 1, 40)[:, None]
    Y = 0.8 * np.sin(3 * np.pi * X) + 0.3 * X
    return net, X, Y, net.init(seed=0)


def _optimizer(kind: str):
    return HeavyBall(BETA) if kind == "momentum" else Adam()


def _run_lecturelib(kind: str, net, X, Y, theta0, k: int) -> np.ndarray:
    opt = _optimizer(kind)

    def grad(theta):
        return net.grad(theta, X, Y)

    theta, state = theta0.copy(), opt.init(theta0)
    for i in range(k):
        theta, state = opt.update(i, theta, grad, STEP[kind], state)
    return theta


def _block_lecturelib(kind: str, net, X, Y, theta0):
    return lambda k: _run_lecturelib(kind, net, X, Y, theta0, k)


def _torch_model(net, theta0):
    import torch

    layers = []
    for k, (W, b) in enumerate(net.unflatten(theta0)):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W))
            linear.bias.copy_(torch.tensor(b))
        layers.append(linear)
        if k < len(WIDTHS) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def _run_torch(kind: str, net, X, Y, theta0, k: int, threads: int | None = None):
    import torch

    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads or default_threads)
    model = _torch_model(net, theta0)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    if kind == "momentum":
        opt = torch.optim.SGD(model.parameters(), lr=STEP[kind], momentum=BETA)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=STEP[kind])
    n = X.shape[0]
    for _ in range(k):
        opt.zero_grad()
        loss = 0.5 * ((model(Xt) - Yt) ** 2).sum() / n
        loss.backward()
        opt.step()
    torch.set_num_threads(default_threads)
    return model


def _block_torch(kind: str, net, X, Y, theta0, threads: int | None = None):
    return lambda k: _run_torch(kind, net, X, Y, theta0, k, threads)


def same_iterates(kind: str, net, X, Y, theta0, k: int) -> float:
    """Largest parameter difference between lecturelib and torch after k steps (they must compute the same run)."""
    ours = _run_lecturelib(kind, net, X, Y, theta0, k)
    model = _run_torch(kind, net, X, Y, theta0, k)
    theirs = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    return float(np.max(np.abs(ours - theirs)))


def measure(blocks: dict) -> dict:
    """Median microseconds per step of each block; the repeats are interleaved so every method sees the same load."""
    for block in blocks.values():
        block(5)  # warm-up
    times = {name: [] for name in blocks}
    for _ in range(REPEATS):
        for name, block in blocks.items():
            t0 = time.perf_counter()
            block(STEPS_PER_BLOCK)
            times[name].append((time.perf_counter() - t0) / STEPS_PER_BLOCK * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    net, X, Y, theta0 = problem()
    print(
        f"One training step of TanhMLP{WIDTHS} ({net.n_params} parameters), N = {X.shape[0]}, float64, full batch; "
        f"median of {REPEATS} repeats of {STEPS_PER_BLOCK} steps"
    )
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: skipping the PyTorch baseline (benchmark-only dependency, not in")
        print("requirements.txt; install the CPU wheel with `pip install torch==2.13.0`)")
    blocks = {}
    for kind in ("momentum", "adam"):
        blocks[f"lecturelib {kind}"] = _block_lecturelib(kind, net, X, Y, theta0)
        if torch is not None:
            blocks[f"torch {kind}"] = _block_torch(kind, net, X, Y, theta0)
            blocks[f"torch1 {kind}"] = _block_torch(kind, net, X, Y, theta0, threads=1)
    us = measure(blocks)
    for kind, label in (("momentum", f"heavy-ball momentum (β = {BETA})"), ("adam", "Adam (default betas, eps)")):
        ours = us[f"lecturelib {kind}"]
        print(f"{label}:")
        method = type(_optimizer(kind)).__name__
        print(f"  lecturelib (TanhMLP.grad + optimizers.{method}.update): {ours:8.1f} us/step")
        if torch is not None:
            # On a loaded machine torch's default thread pool can be slower than one thread on this tiny problem;
            # the target is checked against the faster of the two, the conservative choice.
            name = "SGD(momentum)" if kind == "momentum" else "Adam"
            fast = min(us[f"torch {kind}"], us[f"torch1 {kind}"])
            print(
                f"  torch {torch.__version__} autograd + optim.{name}, default threads ({torch.get_num_threads()}): "
                f"{us[f'torch {kind}']:8.1f} us/step"
            )
            print(f"  torch {torch.__version__} autograd + optim.{name}, 1 thread: {us[f'torch1 {kind}']:8.1f} us/step")
            ratio = ours / fast
            verdict = "met" if ratio <= 0.3 else "NOT met"
            print(f"  ratio lecturelib / faster torch: {ratio:6.3f}  (target <= 0.300: {verdict})")
            diffs = ", ".join(f"{same_iterates(kind, net, X, Y, theta0, k):.1e} after {k}" for k in (1, 50))
            print(f"  max |lecturelib - torch| over the parameters: {diffs} steps")


if __name__ == "__main__":
    main()
