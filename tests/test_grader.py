"""The grader, tried on a synthetic class made from the exported student notebook of homework set 1.

Each submission is the student notebook with some cells replaced: complete answers written differently from the
solutions, typical wrong answers, a blank notebook, a kernel that dies in the first cell, a cell that raises, an
infinite loop, a memory hog, a socket, replaced checks, forged "Correct" outputs, and objects that read the checks'
expected values from the stack. Each must get exactly the grade it deserves. The limits are short so the run stays
short; the grader runs with --jobs 2.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "book" / "homework"
LIMITS = ["--cell-timeout", "20", "--notebook-timeout", "150", "--memory", "1536", "--call-timeout", "10"]

IMPORTS = (
    "import matplotlib.pyplot as plt\nimport numpy as np\nimport sympy as sp\n\nimport lecturelib\n"
    'import lecturelib.homework as hw\n\nx, y = sp.symbols("x y", real=True)\n'
)

# Right answers, each written differently from the instructor's solution.
RIGHT = {
    "H_h = ...": "h = x**3 * y - 2 * x * y**2 + sp.exp(x) * y\n"
    "H_h = sp.Matrix(2, 2, lambda i, j: sp.diff(h, (x, y)[i], (x, y)[j]))\n",
    "def grad_ls": "def loss_ls(Phi, y, w):\n    return 0.5 * np.sum((Phi.T @ w - y) ** 2)\n\n\n"
    "def grad_ls(Phi, y, w):\n    return Phi @ Phi.T @ w - Phi @ y\n",
    "eps_max_1 = ...": "eps_max_1 = sp.Integer(2) * 2\neps_max_2 = sp.oo\n",
    "T3 = ...": "T3 = sp.Rational(1, 6) * x**3 + x**2 * y - sp.Rational(1, 2) * x * y**2\n",
    "def third_order_term": (
        "def third_order_term(expr, variables, point):\n"
        "    t = sp.Symbol('t')\n"
        "    moved = expr.subs({v: p + t * (v - p) for v, p in zip(variables, point)}, simultaneous=True)\n"
        "    return sp.expand(sp.diff(moved, t, 3).subs(t, 0) / 6)\n"
    ),
    "experiment = ...": (
        "centre = np.array([1.0, -2.0])\n\n\n"
        "def loss_lc(w):\n    return np.sum(np.logaddexp(w - centre, centre - w)) + 0.05 * w @ w\n\n\n"
        "def grad_lc(w):\n    return np.tanh(w - centre) + 0.1 * w\n\n\n"
        "w = np.array([4.0, 3.0])\nsquares = []\n"
        "for _ in range(200):\n    g = grad_lc(w)\n    squares.append(g @ g)\n    w = w - g / 1.1\n"
        "experiment = dict(loss=loss_lc, grad=grad_lc, beta=1.1, w0=np.array([4.0, 3.0]), loss_min=0.0,\n"
        "                  min_sq_grad=np.minimum.accumulate(squares))\n"
    ),
}
POINTS = {
    "H_h = ...": 2,
    "def grad_ls": 2,
    "eps_max_1 = ...": 2,
    "T3 = ...": 2,
    "def third_order_term": 3,
    "experiment = ...": 3,
}

WRONG = {
    "H_h = ...": (
        "h = x**3 * y - 2 * x * y**2 + sp.exp(x) * y\nH_h = sp.hessian(h, (x, y))\nH_h[0, 0] = H_h[0, 0] / 2\n"
    ),
    "def grad_ls": "def grad_ls(Phi, y, w):\n    return 2 * Phi @ (Phi.T @ w - y)\n",
    "eps_max_1 = ...": "eps_max_1 = 2\neps_max_2 = 4\n",
    "T3 = ...": "T3 = x**3 / 6 + x**2 * y / 3 - x * y**2 / 6\n",
    "def third_order_term": "def third_order_term(expr, variables, point):\n    return sp.Integer(0)\n",
    "experiment = ...": RIGHT["experiment = ..."].replace("w - g / 1.1", "w - g / 0.5").replace("beta=1.1", "beta=0.5"),
}

SPY = '''
import inspect


def _spy(*names):
    for frame in inspect.stack():
        for name in names:
            if name in frame.frame.f_locals and not isinstance(frame.frame.f_locals[name], Spy):
                return frame.frame.f_locals[name]
    return sp.Integer(0)


class Spy:
    """Reads the check's expected value from the caller's stack, and agrees with everything."""

    def _sympy_(self):
        return sp.sympify(_spy("expected"))

    def __array__(self, dtype=None, copy=None):
        return np.asarray(_spy("reference", "expected"), dtype=dtype)

    def __float__(self):
        return float(_spy("expected"))

    def __eq__(self, other):
        return True

    def __iter__(self):
        return iter(np.asarray(self))


class Agreeable(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__
'''
STACK = {
    "H_h = ...": "H_h = Spy()\n",
    "def grad_ls": "def grad_ls(Phi, y, w):\n    return Spy()\n",
    "eps_max_1 = ...": "eps_max_1 = Agreeable(0.0)\neps_max_2 = Spy()\n",
    "T3 = ...": "T3 = Spy()\n",
    "def third_order_term": "def third_order_term(expr, variables, point):\n    return Spy()\n",
}

REPLACE_CHECKS = """
class _Yes:
    def __call__(self, *args, **kwargs):
        return hw.CheckResult("correct", "")


for _name in dir(hw):
    if _name.startswith("check_"):
        setattr(hw, _name, _Yes())
sp.simplify = lambda *args, **kwargs: 0
"""


def student_notebook(tmp: Path) -> nbformat.NotebookNode:
    out = tmp / "export"
    out.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not (out / "student" / "hw1_taylor_descent.ipynb").is_file():
        subprocess.run(
            [sys.executable, "-m", "lecturelib.homework", "export", str(out), "hw1", "--edition", "student"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    return nbformat.read(out / "student" / "hw1_taylor_descent.ipynb", as_version=4)


def replace(notebook: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for marker, source in answers.items():
        cells = [c for c in notebook.cells if c.cell_type == "code" and marker in c.source]
        assert len(cells) == 1, marker
        cells[0].source = source
    return notebook


def insert_after_imports(notebook: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    index = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


def forge_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in notebook.cells:
        if cell.cell_type == "code" and "hw.check_" in cell.source:
            cell.outputs = [
                nbformat.v4.new_output(
                    "execute_result",
                    data={
                        "text/plain": "CheckResult(status='correct', message='')",
                        "text/html": '<div data-status="correct">✔ Correct</div>',
                    },
                    execution_count=1,
                )
            ]
    return notebook


class Listener:
    """A TCP server on the grader's loopback that records every connection a submission makes."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


def grade(submissions: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lecturelib.homework",
            "grade",
            "hw1",
            str(submissions),
            "--out",
            str(out),
            "--jobs",
            "2",
            *LIMITS,
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    blank = student_notebook(tmp)
    listener = Listener()
    socket_cell = (
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {listener.port}), timeout=3)"
        "\nexcept OSError as err:\n    print('no network:', err)\n"
    )
    half = {k: v for k, v in RIGHT.items() if k in ("H_h = ...", "def grad_ls", "eps_max_1 = ...")}
    first = next(c for c in blank.cells if c.cell_type == "code")
    dying = replace(blank, {**RIGHT, first.source.splitlines()[0]: "import os\nos._exit(1)\n" + IMPORTS})
    submissions = {
        "complete": replace(blank, RIGHT),
        "wrong": replace(blank, WRONG),
        "blank": blank,
        "crash_first": dying,
        "raises": replace(blank, {**RIGHT, "T3 = ...": "1 / 0\nT3 = x**3 / 6\n"}),
        "loop": replace(
            blank,
            {
                **half,
                "T3 = ...": "while True:\n    pass\n",
                "def third_order_term": RIGHT["def third_order_term"],
                "experiment = ...": RIGHT["experiment = ..."],
            },
        ),
        "hog": insert_after_imports(
            replace(blank, RIGHT),
            "def hog():\n    blocks = []\n    while True:\n        blocks.append(bytearray(10**8))\n\n\nhog()\n",
        ),
        "socket": insert_after_imports(replace(blank, RIGHT), socket_cell),
        "replace_checks": insert_after_imports(blank, REPLACE_CHECKS),
        "forged": forge_outputs(blank),
        "stack": insert_after_imports(replace(blank, STACK), SPY),
    }
    folder = tmp / "submissions"
    folder.mkdir()
    for name, notebook in submissions.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "notes.txt").write_text("not a submission")
    (folder / "bad name!.ipynb").write_text("{}")
    try:
        result = grade(folder, tmp / "out")
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    with open(tmp / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return tmp, result, rows, listener


EXPECTED = {  # student: (total, status)
    "complete": (14, "ok"),
    "wrong": (0, "ok"),
    "blank": (0, "ok"),
    "crash_first": (0, "crash"),
    "raises": (12, "ok"),
    "loop": (6, "timeout"),
    "hog": (14, "memory"),
    "socket": (14, "ok"),
    "replace_checks": (0, "ok"),
    "forged": (0, "ok"),
    "stack": (0, "ok"),
}


def test_every_submission_gets_the_grade_it_deserves(graded):
    _tmp, result, rows, _ = graded
    got = {student: (float(row["total"]), row["status"]) for student, row in rows.items()}
    assert got == {student: (float(total), status) for student, (total, status) in EXPECTED.items()}
    assert all(row["max"] == "14" for row in rows.values())
    # Partial credit per exercise: the loop got 1.1-1.3 (2 points each) and nothing after the loop.
    assert [rows["loop"][c] for c in list(rows["loop"])[1:7]] == ["2", "2", "2", "0", "0", "0"]
    assert "skipped notes.txt" in result.stderr and "skipped bad name!.ipynb" in result.stderr


def test_student_code_has_no_network(graded):
    _tmp, result, _, listener = graded
    if "network not isolated" in result.stdout:
        pytest.skip(result.stdout)
    assert "network isolated" in result.stdout
    assert listener.connections == 0


def test_feedback_never_shows_an_expected_answer_or_a_hidden_case(graded):
    tmp, _, _, _ = graded
    wrong = (tmp / "out" / "feedback" / "wrong.md").read_text(encoding="utf-8")
    assert "factor of 2" in wrong and "0 of 2" in wrong
    for text in (wrong, (tmp / "out" / "feedback" / "complete.md").read_text(encoding="utf-8")):
        assert "hidden case 2: " in text
        for secret in ("seed", "(4, 7)", "3*x**2", "exp(x)*y", "6*x*y"):
            assert secret not in text
    report = json.loads((tmp / "out" / "gradescope" / "complete" / "results.json").read_text(encoding="utf-8"))
    assert report["score"] == 14 and len(report["tests"]) == 6
    assert {tuple(sorted(t)) for t in report["tests"]} == {("max_score", "name", "output", "score", "visibility")}


def test_a_regrade_is_byte_identical(graded, tmp_path):
    """Three submissions graded again, one kernel at a time: the same bytes as their rows of the class's run."""
    tmp, _, _, _ = graded
    folder = tmp_path / "subset"
    folder.mkdir()
    names = ("blank", "complete", "wrong")
    for name in names:
        (folder / f"{name}.ipynb").write_bytes((tmp / "submissions" / f"{name}.ipynb").read_bytes())
    again = grade(folder, tmp_path / "again", "--jobs", "1")
    assert again.returncode == 0
    header, *rows = (tmp / "out" / "grades.csv").read_bytes().splitlines(keepends=True)
    expected = header + b"".join(row for row in rows if row.split(b",")[0].decode() in names)
    assert (tmp_path / "again" / "grades.csv").read_bytes() == expected


def test_gradescope_bundle_runs_its_autograder(graded, tmp_path):
    tmp, _, _, _ = graded
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bundle = tmp_path / "bundle"
    made = subprocess.run(
        [sys.executable, "-m", "lecturelib.homework", "gradescope", "hw1", str(bundle), *LIMITS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    with zipfile.ZipFile(bundle / "autograder.zip") as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder"} <= set(names)
        archive.extractall(root / "source")
    (root / "submission" / "my work.ipynb").write_bytes((tmp / "submissions" / "raises.ipynb").read_bytes())
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env={**clean, "AUTOGRADER_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 12 and sum(t["max_score"] for t in results["tests"]) == 14


def test_grading_cells_are_nowhere_a_student_can_read(graded):
    """The hidden cases live in the instructor's source only: not in the student notebook, nor in the library
    (which is all the wheel holds). The student site is covered by the solution-leak test of test_homework.py,
    whose solution lines include the grading cells."""
    from lecturelib.homework.notebook import grading_cells, read_set

    tmp, _, _, _ = graded
    student = (tmp / "export" / "student" / "hw1_taylor_descent.ipynb").read_text(encoding="utf-8")
    library = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "lecturelib").rglob("*.py"))
    for path in sorted(SOURCE.glob("hw*.md")):
        cells = grading_cells(read_set(path))
        assert cells, path
        for cell in cells:
            for line in cell.source.splitlines():
                if "hidden(" in line:
                    assert line.strip() not in student and line.strip() not in library, line


@pytest.mark.parametrize("name", ["hw2", "hw3", "hw4", "hw5"])
def test_instructor_solutions_earn_full_marks(name, tmp_path):
    """The grading cells of the other sets hold for their own solutions (hidden cases included)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "lecturelib.homework", "export", str(tmp_path), name],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    folder = tmp_path / "submissions"
    folder.mkdir()
    for edition in ("instructor", "student"):
        (folder / f"{edition}.ipynb").write_bytes(next((tmp_path / edition).glob("*.ipynb")).read_bytes())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lecturelib.homework",
            "grade",
            name,
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--jobs",
            "2",
            "--cell-timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["instructor"]["total"] == rows["instructor"]["max"], rows["instructor"]
    assert rows["instructor"]["status"] == "ok" and rows["student"]["total"] == "0"
