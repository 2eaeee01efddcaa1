"""The code follows one style: ruff's lint rules and its formatter, and mypy's type check of lecturelib, all configured
in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing():
    result = _ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted_by_ruff():
    result = _ruff("format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    # files, strictness and the modules without type information are set in pyproject.toml's [tool.mypy]; no cache
    # is written (os.devnull), as ruff runs with --no-cache
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", os.devnull, "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout


USAGE = """
import numpy as np
from lecturelib import TanhMLP, run, track_sharpness
from lecturelib.optimizers import GD, Adam, HeavyBall, MiniBatchSGD


def loss(t: np.ndarray) -> float:
    return float(t @ t)


def grad(t: np.ndarray) -> np.ndarray:
    return 2 * t


for optimizer in (GD(), HeavyBall(0.9), Adam(), MiniBatchSGD(lambda t, i: t, 4, 2, 0)):
    track_sharpness(loss, grad, [1.0, 2.0], 0.1, 10, optimizer=optimizer)
reveal_type(run(lambda x: 2 * x, [0.5, 1.0], 0.1, 10))
net = TanhMLP((1, 4, 1))
reveal_type(net.loss(net.init(0), [[1.0]], [[0.0]]))
track_sharpness(loss, grad, [1.0], 0.1, 10, optimizer="adam")
"""


def test_the_hints_accept_what_the_course_passes_and_catch_a_wrong_call(tmp_path):
    # lists where arrays are accepted, every optimizer as track_sharpness's optimizer; a string optimizer is an error
    usage = tmp_path / "usage.py"
    usage.write_text(USAGE)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", os.devnull, "--config-file", str(ROOT / "pyproject.toml"), usage],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = result.stdout.splitlines()
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and '"optimizer" to "track_sharpness" has incompatible type "str"' in errors[0], lines
    revealed = [line.split("Revealed type is ")[1] for line in lines if "Revealed type is" in line]
    assert revealed == ['"numpy.ndarray[tuple[Any, ...], numpy.dtype[numpy.float64]]"', '"float"'], lines
