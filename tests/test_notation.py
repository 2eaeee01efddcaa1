"""The API reference writes the course's notation: the loss is :math:`\\mathcal{L}`, and :math:`L` is a depth.

The front page's Notation section reserves :math:`L` for the depth of a network and :math:`\\mathcal{L}` for a
training loss. The API reference is generated from lecturelib's docstrings, so this scans every docstring (module,
class, function, method) for the loss written as a plain :math:`L`: ``L(\\theta)``, ``L(θ)``, ``L(w)``, ``L(W, V)``,
``\\nabla L``, ``\\nabla^2 L`` or "a loss :math:`L`".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "lecturelib").rglob("*.py"))

#: The loss written with a plain L, in a docstring's text (after Python's own escapes are applied).
LOSS_AS_L = re.compile(
    r"(?<![\\\w{])L\s*\(\s*(?:\\theta|θ|w\b|W\b|\\mathbf)"  # L(\theta), L(θ), L(w), L(W, V)
    r"|\\nabla(?:\^2|\^\{2\})?\s*L\b"  # \nabla L, \nabla^2 L
    r"|∇²?\s*L\b"  # ∇L, ∇²L
    r"|loss\s+:math:`L`"  # "a loss :math:`L`"
)


def _docstrings(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            text = ast.get_docstring(node, clean=False)
            if text:
                found.append((getattr(node, "name", "module"), text))
    return found


def test_the_pattern_catches_the_old_spellings():
    for wrong in ("L(\\theta)", "L(θ)", "L(W, V)", "\\nabla L(\\theta_k)", "\\nabla^2 L", "∇²L", "a loss :math:`L` at"):
        assert LOSS_AS_L.search(wrong), wrong
    for right in ("\\mathcal{L}(\\theta)", "\\nabla \\mathcal{L}", "depth :math:`L \\ge 1`", "W_L \\cdots W_1", "1/L"):
        assert not LOSS_AS_L.search(right), right


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docstrings_write_the_loss_as_script_L(path):
    wrong = [
        f"{name}: ...{text[max(0, m.start() - 30) : m.end() + 10]!r}..."
        for name, text in _docstrings(path)
        for m in LOSS_AS_L.finditer(text)
    ]
    assert not wrong, f"{path.name} writes the loss as L (the Notation section reserves L for depth): {wrong}"
