"""Submissions that attack the grader's machine, graded in one class beside honest ones (``--jobs 2``).

Every attacker answers every exercise right, then tries its attack in a last cell; whatever it manages to read makes
it spoil one of its own answers (so a leak costs it points), and whatever it manages to change is looked for on
disk. The class also carries a Canvas gradebook export, so the same run checks ``--gradebook``. The checks: each
attacker gets full marks (nothing it read), the honest submissions graded before and after get full marks, the
submissions folder, the course checkout (``git status`` and the library's bytes) and the output folder hold only
what they should, and no process any submission started is alive after ``grade`` returns.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_grader import LIMITS, RIGHT, replace, student_notebook

ROOT = Path(__file__).resolve().parents[1]
TOKEN_DAEMON = "8123.0625"  # sleep-like arguments no other process on the machine carries
TOKEN_FORKS = "8123.125"

# Each attack runs after the answers; a successful read appends to _breaches, which spoils the answer T3.
SPOIL = (
    "\nif _breaches:\n    print('breached:', _breaches)\n    T3 = sp.Integer(0)\nelse:\n    T3 = T3\n"
    "print('nothing breached')\n"
)


def attacks(submissions: Path, out: Path) -> dict[str, str]:
    library = ROOT / "lecturelib"
    return {
        "library": f"""
import glob, os, site, sys
import lecturelib
_breaches = []
_targets = glob.glob({str(library)!r} + '/**/*.py', recursive=True)
_targets += glob.glob(os.path.dirname(lecturelib.__file__) + '/**/*.py', recursive=True)
for _path in _targets:
    try:
        with open(_path, 'a') as _f:
            _f.write('\\nGRADER_PWNED = True\\n')
        _breaches.append(_path)
    except OSError:
        pass
for _folder in [*site.getsitepackages(), {str(ROOT)!r}, os.path.dirname(os.path.dirname(lecturelib.__file__))]:
    try:
        with open(os.path.join(_folder, 'sitecustomize.py'), 'w') as _f:
            _f.write('GRADER_PWNED = True\\n')
        # A folder under /tmp (a checkout there) is the sandbox's own scratch space inside: no breach.
        if os.stat(_folder).st_dev != os.stat('/tmp').st_dev:
            _breaches.append(_folder)
    except OSError:
        pass
""",
        "classmates": f"""
import glob, os
_breaches = []
for _path in glob.glob({str(submissions)!r} + '/*'):
    try:
        _breaches.append((_path, len(open(_path).read())))
    except OSError:
        pass
    try:
        open(_path, 'w').write('{{}}')
    except OSError:
        pass
    try:
        os.remove(_path)
    except OSError:
        pass
try:
    _breaches += os.listdir({str(submissions)!r})
except OSError:
    pass
""",
        "writer": f"""
import os
from ipykernel.connect import get_connection_file
_breaches = []
# Paths under /tmp land in the sandbox's own scratch space (the test looks for them on the real disk, and a checkout
# under /tmp is there too); the kernel's socket folder is the one folder of the grader's it can see, so a write there
# counts as a breach.
for _path in [{str(out / "grades.csv")!r}, {str(out / "evil.txt")!r}, {str(submissions / "evil.ipynb")!r},
              {str(submissions.parent / "evil.txt")!r}, {str(ROOT / "evil.txt")!r}, '../evil.txt', '/evil.txt',
              os.path.join(os.path.dirname(get_connection_file()), 'evil.txt')]:
    try:
        os.makedirs(os.path.dirname(os.path.abspath(_path)), exist_ok=True)
        with open(_path, 'w') as _f:
            _f.write('student,total\\nwriter,9999\\n')
        # A path on the scratch space's file system (anything under /tmp, a checkout there too) stays inside.
        if os.stat(_path).st_dev != os.stat('/tmp').st_dev or 'grade-' in _path:
            _breaches.append(_path)
    except OSError:
        pass
""",
        "home": f"""
import glob, os
_breaches = []
for _path in [os.path.expanduser('~root/.bashrc'), '/root/.gitconfig', '/etc/shadow',
              *glob.glob({str(ROOT / "book" / "homework")!r} + '/*.md'), {str(ROOT / "README.md")!r}]:
    try:
        _breaches.append((_path, len(open(_path).read())))
    except OSError:
        pass


def grad_ls(Phi, y, w):  # run by the grader's function server: the same attacks from there
    import glob
    for path in glob.glob({str(ROOT / "lecturelib")!r} + '/*.py'):
        try:
            with open(path, 'a') as handle:
                handle.write('GRADER_PWNED = True')
        except OSError:
            pass
    for path in ['/root/.bashrc', *glob.glob({str(ROOT / "book" / "homework")!r} + '/*.md')]:
        try:
            open(path).read()
            return 0 * w  # a wrong gradient when the read worked
        except OSError:
            pass
    return Phi @ Phi.T @ w - Phi @ y
""",
        "daemon": f"""
import subprocess, sys
_code = '''
import time
end = time.time() + 60
while time.time() < end:
    try:
        with open({str(out / "grades.csv")!r}, "w") as f:
            f.write("student,total\\ndaemon,9999\\n")
    except OSError:
        pass
    time.sleep(0.2)
'''
_launcher = (  # a child that starts the daemon in a new session and exits: the daemon is nobody's child
    "import subprocess, sys; subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]], "
    "start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
)
subprocess.run([sys.executable, '-c', _launcher, _code, {TOKEN_DAEMON!r}], check=True)
_breaches = []
""",
        "forks": f"""
import subprocess
_children = []
for _ in range(100):
    try:
        _children.append(subprocess.Popen(['sleep', {TOKEN_FORKS!r}], start_new_session=True))
    except OSError:
        break
print(len(_children), 'sleepers')
_breaches = []
""",
        "filler": """
import os
_breaches = []
_written = 0
for _folder in ('/tmp', '/dev/shm', '.'):
    for _number in range(1000):
        try:
            with open(os.path.join(_folder, f'fill{_number}'), 'wb') as _f:
                _f.write(b'x' * (8 * 1024 * 1024))
            _written += 8
        except OSError:
            break
print(_written, 'MB written')
""",
    }


def identified(notebook: nbformat.NotebookNode, student_id: str) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    cell = next(c for c in notebook.cells if c.cell_type == "markdown" and "Student id:" in c.source)
    cell.source = f"**Name:** Ada  \n**Student id:** {student_id}\n"
    return notebook


CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,HW1: Taylor and descent (4521),HW2 (4522)\n"
    "    Points Possible,,,,,14.00,10.00\n"
    '"Lovelace, Ada",1001,A1001,ada,Sec 1,,7\n'
    '"Turing, Alan",1002,A1002,z_honest,Sec 1,,8\n'
    '"Noether, Emmy",1003,A1003,emmy,Sec 2,3,9\n'
)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacked")
    blank = student_notebook(tmp)
    right = replace(blank, RIGHT)
    submissions, out = tmp / "submissions", tmp / "out"
    submissions.mkdir()
    notebooks = {"a_honest": identified(right, "1001"), "z_honest": right}
    for name, source in attacks(submissions, out).items():
        notebook = nbformat.from_dict(json.loads(json.dumps(right)))
        notebook.cells.append(nbformat.v4.new_code_cell(source + SPOIL))
        notebooks[name] = notebook
    for name, notebook in notebooks.items():
        nbformat.write(notebook, submissions / f"{name}.ipynb")
    export = tmp / "canvas.csv"
    export.write_text(CANVAS, encoding="utf-8")
    before = {"submissions": digest(submissions), "library": digest(ROOT / "lecturelib"), "git": git_status()}
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "lecturelib.homework", "grade", "hw1", str(submissions), "--out", str(out)),
            *("--jobs", "2", *LIMITS, "--scratch", "64", "--gradebook", str(export)),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    seconds = time.monotonic() - started
    alive = {token: processes_with(token) for token in (TOKEN_DAEMON, TOKEN_FORKS)}
    grades = (out / "grades.csv").read_bytes() if (out / "grades.csv").is_file() else b""
    time.sleep(3)  # the daemon would have rewritten grades.csv by now
    after = {"submissions": digest(submissions), "library": digest(ROOT / "lecturelib"), "git": git_status()}
    print(f"attack class graded in {seconds:.0f} s")
    return {"tmp": tmp, "result": result, "before": before, "after": after, "alive": alive, "grades": grades}


def rows(attacked) -> dict[str, dict]:
    with open(attacked["tmp"] / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_every_attacker_gets_what_its_answers_deserve_and_honest_neighbours_full_marks(attacked):
    assert attacked["result"].returncode == 0, attacked["result"].stderr
    got = {student: (row["total"], row["status"]) for student, row in rows(attacked).items()}
    names = ["a_honest", "classmates", "daemon", "filler", "forks", "home", "library", "writer", "z_honest"]
    assert got == {name: ("14", "ok") for name in names}
    assert "network isolated (bubblewrap sandbox)" in attacked["result"].stdout


def test_nothing_outside_the_sandbox_changed(attacked):
    assert attacked["after"]["submissions"] == attacked["before"]["submissions"]
    assert attacked["after"]["library"] == attacked["before"]["library"]
    assert attacked["after"]["git"] == attacked["before"]["git"]
    tmp = attacked["tmp"]
    assert sorted(p.name for p in tmp.iterdir()) == ["canvas.csv", "export", "out", "submissions"]
    assert not (ROOT / "evil.txt").exists()
    out = tmp / "out"
    expected = {"grades.csv", "gradebook.csv", "unmatched.txt"}
    expected |= {f"feedback/{p.stem}.md" for p in (tmp / "submissions").glob("*.ipynb")}
    expected |= {f"gradescope/{p.stem}/results.json" for p in (tmp / "submissions").glob("*.ipynb")}
    assert {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} == expected


def test_no_process_of_a_submission_outlives_the_grading(attacked):
    assert attacked["alive"] == {TOKEN_DAEMON: [], TOKEN_FORKS: []}
    assert (attacked["tmp"] / "out" / "grades.csv").read_bytes() == attacked["grades"]
    assert b"9999" not in attacked["grades"]


def test_the_gradebook_gets_this_sets_column(attacked):
    text = (attacked["tmp"] / "out" / "gradebook.csv").read_text(encoding="utf-8")
    assert text.splitlines() == [
        "Student,ID,SIS User ID,SIS Login ID,Section,HW1: Taylor and descent (4521)",
        "    Points Possible,,,,,14",
        '"Lovelace, Ada",1001,A1001,ada,Sec 1,14',  # the id cell
        '"Turing, Alan",1002,A1002,z_honest,Sec 1,14',  # the file name
        '"Noether, Emmy",1003,A1003,emmy,Sec 2,',  # no submission: empty, not 0
    ]
    unmatched = (attacked["tmp"] / "out" / "unmatched.txt").read_text(encoding="utf-8").splitlines()
    attackers = ["classmates", "daemon", "filler", "forks", "home", "library", "writer"]
    assert unmatched == [f"{name}.ipynb: id {name!r} matches no student" for name in attackers]
    assert all(f"not in the gradebook: {line}" in attacked["result"].stderr for line in unmatched)


def test_without_bubblewrap_nothing_is_graded(tmp_path):
    """No bwrap on PATH: grade stops before running anything, says how to fix it, and writes nothing."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    nbformat.write(student_notebook(tmp_path), folder / "blank.ipynb")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)}
    command = [sys.executable, "-m", "lecturelib.homework", "grade", "hw1", str(folder), "--out", str(tmp_path / "out")]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 3
    assert "nothing was graded" in result.stderr and "apt-get install bubblewrap" in result.stderr
    assert "--no-isolation" in result.stderr
    assert not (tmp_path / "out").exists()

    unconfined = subprocess.run(
        [*command, "--no-isolation", *LIMITS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert unconfined.returncode == 0, unconfined.stderr
    assert "WARNING: not isolated" in unconfined.stderr
    out = tmp_path / "out"
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines()[1].endswith(",0,14,ok (not isolated)")
    assert "Not isolated: graded with --no-isolation" in (out / "feedback" / "blank.md").read_text(encoding="utf-8")
    results = json.loads((out / "gradescope" / "blank" / "results.json").read_text(encoding="utf-8"))
    assert "Not isolated" in results["output"]


def test_the_sandbox_refuses_to_mount_a_folder_holding_what_it_hides(tmp_path):
    from lecturelib.homework.isolation import IsolationUnavailable, check

    with pytest.raises(IsolationUnavailable, match="inside"):
        check([Path(sys.prefix) / "submissions"])
    with pytest.raises(IsolationUnavailable, match="inside"):
        check([ROOT / "lecturelib" / "homework"])
    check([tmp_path, ROOT / "book" / "homework", ROOT])  # what the sandbox mounts holds none of these
