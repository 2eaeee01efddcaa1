"""The repository keeps its promises: CI runs the README's test command, and chapters carry no outputs."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    commands = _readme_commands()
    test_commands = [c for c in commands if "pytest" in c]
    assert len(test_commands) == 1, "the README must give exactly one test command"
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci_lines == test_commands, f".ci/run runs {ci_lines}, the README says {test_commands}"


def test_readme_build_command_builds_strictly():
    build = [c for c in _readme_commands() if "jupyter-book build . " in c and "pytest" not in c]
    assert build and "-W" in build[0] and "requirements.txt" in build[0]


def test_chapters_are_text_without_outputs():
    for path in sorted((ROOT / "book").rglob("*.md")):
        if "_ext" in path.parts:
            continue
        notebook = jupytext.read(path)
        for cell in notebook.cells:
            assert not cell.get("outputs"), f"{path.name} stores outputs"
        assert "sys.path" not in path.read_text(encoding="utf-8"), f"{path.name} edits sys.path"
