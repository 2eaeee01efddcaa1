"""Write the student and instructor notebooks of the homework sets.

``python -m lecturelib.homework export OUTDIR [SET ...] [--source DIR] [--force]`` writes
``OUTDIR/student/<set>.ipynb`` (solutions replaced by a placeholder, no outputs) and ``OUTDIR/instructor/<set>.ipynb``
(with solutions) for every homework set in the source folder, or for the named ones (a set is named by its file stem,
e.g. ``hw1_taylor_descent``, or by the prefix before the first underscore, ``hw1``). The sets are read from
``--source``, by default ``book/homework`` under the current directory.

Nothing is written unless every requested notebook can be: a folder or file in the way of a target, or an existing
notebook (without ``--force``), is reported before anything is written; the notebooks are assembled in a temporary
folder inside ``OUTDIR`` and moved into place at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .notebook import Cell, label_titles, read_set, split_notebook

__all__ = ["default_source", "export_notebooks", "find_sets", "install_note", "select_sets"]

EDITIONS = ("student", "instructor")


def default_source() -> Path:
    """``book/homework`` under the current directory (the library never looks for the book by its own path)."""
    return Path.cwd() / "book" / "homework"


def find_sets(source: Path | str | None = None) -> dict[str, Path]:
    """The homework sets (``hw*.md``) in ``source`` (default :func:`default_source`): ``{stem: path}``, by name.

    Introduced in the homework sets.
    """
    folder = Path(source) if source is not None else default_source()
    if not folder.is_dir():
        hint = "" if source is not None else " (run from the course repository, or give --source)"
        raise FileNotFoundError(f"the homework source folder {folder} does not exist{hint}")
    return {path.stem: path for path in sorted(folder.glob("hw*.md")) if path.is_file()}


def select_sets(sets: dict[str, Path], names: Sequence[str]) -> dict[str, Path]:
    """The sets named by ``names`` (stem or prefix such as ``hw1``); all of them when ``names`` is empty."""
    if not names:
        return dict(sets)
    chosen = {}
    for name in names:
        matches = [stem for stem in sets if stem == name or stem.split("_", 1)[0] == name]
        if not matches:
            raise KeyError(f"unknown homework set {name!r}; the sets are: {', '.join(sets) or '(none)'}")
        for stem in matches:
            chosen[stem] = sets[stem]
    return chosen


def install_note() -> str:
    """The first cell of every student notebook: how to install lecturelib offline from the downloaded wheel."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("lecturelib")
    except PackageNotFoundError:
        number = "<version>"
    wheel = f"lecturelib-{number}-py3-none-any.whl"
    return (
        "**Before you start: install `lecturelib`.** Download the wheel file `" + wheel + "` from the course website "
        "(next to this notebook), put it in this notebook's folder and run, in a terminal in that folder,\n\n"
        f"```\npip install {wheel}\n```\n\n"
        "No internet connection is needed beyond the download; then restart the kernel and run every cell."
    )


def _to_notebook(cells: list[Cell], kernelspec: dict) -> Any:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata = nbformat.from_dict({"kernelspec": kernelspec, "language_info": {"name": "python"}})
    for number, cell in enumerate(cells):
        if cell.kind == "code":
            new = nbformat.v4.new_code_cell(cell.source, metadata=cell.metadata)
        elif cell.kind == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=cell.metadata)
        new.id = f"cell-{number}"
        notebook.cells.append(new)
    nbformat.validate(notebook)
    return notebook


def _book_titles(folder: Path) -> tuple[dict[str, str], list[Path]]:
    """Labels the sets refer to: the ``.md`` files of ``folder`` and of its parent (the book), not recursively."""
    paths = sorted(set(folder.glob("*.md")) | set(folder.parent.glob("*.md")))
    return label_titles([p for p in paths if p.is_file()])


def export_notebooks(
    outdir: Path | str,
    names: Sequence[str] = (),
    source: Path | str | None = None,
    editions: Sequence[str] = EDITIONS,
    *,
    overwrite: bool = False,
) -> dict[str, list[Path]]:
    """Write ``outdir/<edition>/<set>.ipynb`` for each chosen set and edition; return the written paths.

    Raises
    ------
    FileNotFoundError
        When ``outdir`` or ``source`` does not exist, or holds no set.
    PermissionError
        When ``outdir`` is not writable.
    FileExistsError
        When a target is in the way (a file where an edition's folder goes, a folder where a notebook goes), or a
        notebook exists and ``overwrite`` is false. Checked before anything is written.
    KeyError
        When a name matches no set.

    Introduced in the homework sets.
    """
    import nbformat

    target = Path(outdir)
    if not target.is_dir():
        raise FileNotFoundError(f"the output folder {target} does not exist (create it first)")
    if not os.access(target, os.W_OK | os.X_OK):
        raise PermissionError(f"the output folder {target} is not writable")
    unknown = [e for e in editions if e not in EDITIONS]
    if unknown:
        raise ValueError(f"editions must be 'student' or 'instructor', got {unknown}")
    folder = Path(source) if source is not None else default_source()
    chosen = select_sets(find_sets(source), names)
    if not chosen:
        raise FileNotFoundError(f"no homework sets (hw*.md) in {folder}")
    in_the_way: list[Path] = []
    existing: list[Path] = []
    for edition in editions:
        if (target / edition).exists() and not (target / edition).is_dir():
            in_the_way.append(target / edition)
            continue
        for stem in chosen:
            final = target / edition / f"{stem}.ipynb"
            if final.exists() or final.is_symlink():
                (existing if final.is_file() and not final.is_symlink() else in_the_way).append(final)
    if in_the_way:
        raise FileExistsError(
            "something other than a notebook is in the way of "
            + ", ".join(str(p) for p in in_the_way)
            + "; move it and run again"
        )
    if existing and not overwrite:
        raise FileExistsError(
            "these notebooks exist already (give --force to replace them): " + ", ".join(str(p) for p in existing)
        )
    titles, _ = _book_titles(folder)
    note = install_note()
    staging = Path(tempfile.mkdtemp(prefix=".homework-export-", dir=target))
    written: dict[str, list[Path]] = {edition: [] for edition in editions}
    try:
        for stem, path in chosen.items():
            import jupytext

            kernelspec = dict(
                jupytext.read(path).metadata.get("kernelspec")
                or {"name": "python3", "display_name": "Python 3", "language": "python"}
            )
            student, instructor, _ = split_notebook(read_set(path), titles, install_note=note)
            for edition, cells in (("student", student), ("instructor", instructor)):
                if edition not in editions:
                    continue
                (staging / edition).mkdir(exist_ok=True)
                nbformat.write(_to_notebook(cells, kernelspec), staging / edition / f"{stem}.ipynb")
        for edition in editions:
            (target / edition).mkdir(exist_ok=True)
            for built in sorted((staging / edition).glob("*.ipynb")):
                final = target / edition / built.name
                os.replace(built, final)
                written[edition].append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
