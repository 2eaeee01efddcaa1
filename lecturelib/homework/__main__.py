"""The command line: ``python -m lecturelib.homework export|grade|gradescope ...`` (``--help`` for each)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m lecturelib.homework",
        description="Export the homework sets as student and instructor notebooks; grade a class's submissions.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = commands.add_parser("export", help="write OUTDIR/student/*.ipynb and OUTDIR/instructor/*.ipynb")
    command.add_argument("outdir", metavar="OUTDIR", help="an existing, writable folder")
    command.add_argument(
        "sets", nargs="*", metavar="SET", help="set names (e.g. hw1 or hw1_taylor_descent); default: every set"
    )
    command.add_argument(
        "--source",
        default=None,
        help="the folder of the homework .md sources (default: book/homework under the current folder)",
    )
    command.add_argument(
        "--edition",
        choices=("student", "instructor", "both"),
        default="both",
        help="which notebooks to write (default: both)",
    )
    command.add_argument("--force", action="store_true", help="replace notebooks that exist already")
    _add_grading_commands(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            return _export(args)
        return args.run(args)
    except (FileNotFoundError, FileExistsError, PermissionError, NotADirectoryError, ValueError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except KeyError as err:
        parser.exit(2, f"{parser.prog}: error: {err.args[0]}\n")
    except RuntimeError as err:  # the sandbox cannot be made: say why and how to fix it, grade nothing
        from .isolation import IsolationUnavailable

        if not isinstance(err, IsolationUnavailable):
            raise
        parser.exit(3, f"{parser.prog}: error: nothing was graded: {err}\n")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export_notebooks

    editions = ("student", "instructor") if args.edition == "both" else (args.edition,)
    written = export_notebooks(args.outdir, args.sets, args.source, editions, overwrite=args.force)
    for edition, paths in written.items():
        for path in paths:
            sys.stdout.write(f"wrote {path} ({edition})\n")
    return 0


def _add_grading_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    try:
        from .grade import add_commands
    except ImportError:  # pragma: no cover - the grader's modules are part of the package
        return
    add_commands(commands)


if __name__ == "__main__":
    sys.exit(main())
