"""The repository keeps its promises: CI runs the README's test command, and chapters carry no outputs."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _two_commands() -> tuple[str, str]:
    """The README's two commands, build and test: the bash blocks of its section "The two commands", in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)
    assert len(commands) == 2, f"the README's section 'The two commands' must hold two bash blocks, not {commands}"
    return commands[0], commands[1]


def test_ci_runs_exactly_the_readme_test_command():
    _, test = _two_commands()
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci_lines == [test], f".ci/run runs {ci_lines}, the README says {test}"


def test_readme_commands_run_the_strict_build_and_pytest_from_the_course_environment():
    """The two commands call ./course, which runs the strict build and pytest with the environment's programs."""
    build, test = _two_commands()
    assert build == "./course build" and test == "./course test", (build, test)
    script = (ROOT / "course").read_text(encoding="utf-8")
    assert 'build) cd "$ROOT" && exec jupyter-book build . -W -n --keep-going "$@"' in script
    assert 'test) cd "$ROOT" && exec python -m pytest "$@"' in script
    assert 'export PATH="$VENV/bin:$PATH"' in script
    assert "-m pip install --disable-pip-version-check -r requirements.txt" in script


def test_the_course_environment_stays_out_of_git_and_the_book():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/.venv/" in ignored
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert ".venv" in config["exclude_patterns"], "Sphinx would read the .md and .rst files of the installed packages"


def test_chapters_are_text_without_outputs():
    for path in sorted((ROOT / "book").rglob("*.md")):
        if "_ext" in path.parts:
            continue
        notebook = jupytext.read(path)
        for cell in notebook.cells:
            assert not cell.get("outputs"), f"{path.name} stores outputs"
        assert "sys.path" not in path.read_text(encoding="utf-8"), f"{path.name} edits sys.path"
