"""Tests of lecturelib.homework: the checks' verdicts, the notebook export, and that no solution leaks.

The instructor form of every set is executed by nbval (the sets live in ``book/homework``, which the root conftest
collects): every solution cell calls ``.assert_correct()``. Here:

- each check says "correct" for a right answer, names the mistake for a wrong one (sign, factor 2, shape, symmetry)
  without showing the expected answer, and says "not answered yet" for ``...``;
- the export CLI writes valid notebooks and fails cleanly on bad arguments, writing nothing;
- every student notebook runs end to end with every check "not answered yet";
- no line of any homework solution (parsed from the sources here, independently of the exporter) appears in a
  student notebook, and no line of any solution of the book (homework and lectures) anywhere in the student edition
  of the website (the session fixture ``built_site`` of
  ``tests/conftest.py``: a fresh build from clean, or the folder named by ``SITE_HTML``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import lecturelib
import lecturelib.homework as hw

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "book" / "homework"
SETS = sorted(SOURCE.glob("hw*.md"))
x, y = sp.symbols("x y", real=True)


# ------------------------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------------------------


def test_result_object_displays_and_raises_on_request():
    result = hw.CheckResult("incorrect", "entry (0, 1) has the wrong sign.")
    assert "incorrect" in repr(result) and "wrong sign" in result._repr_html_()
    assert "Not yet" in result._repr_markdown_()
    with pytest.raises(AssertionError, match="wrong sign"):
        result.assert_correct()
    assert hw.CheckResult("correct", "correct.").assert_correct().correct
    with pytest.raises(ValueError, match="status"):
        hw.CheckResult("maybe", "")


def test_placeholders_are_unanswered_never_errors():
    f = x**2 * y
    assert hw.check_hessian(..., f, (x, y)).status == "unanswered"
    assert hw.check_step_bound(..., f, (x, y), (1, 1)).status == "unanswered"
    assert hw.check_period2_orbit((..., ...), x**4, x, 0.1).status == "unanswered"
    assert hw.check_rate_experiment(...).status == "unanswered"
    assert hw.check_taylor_term_function(lambda e, v, p: ...).status == "unanswered"
    assert hw.check_gradient_function(lambda a, w: ..., lambda a, w: 0.0, [(2,), (2,)]).status == "unanswered"
    assert "Not answered yet" in hw.check_value(..., 1.0)._repr_markdown_()
    assert "Not answered yet" in str(hw.check_value(..., 1.0))


def test_student_code_that_raises_is_reported_not_crashing():
    def broken(expr, variables, point):
        raise ZeroDivisionError("oops")

    result = hw.check_taylor_term_function(broken)
    assert result.status == "incorrect" and "ZeroDivisionError" in result.message
    assert "return" in hw.check_taylor_term_function(lambda e, v, p: None).message


def test_hessian_check_compares_with_sympy_and_names_the_mistake():
    f = x**3 * y**2 - sp.sin(x * y)
    true = sp.hessian(f, (x, y))
    assert hw.check_hessian(true, f, (x, y)).status == "correct"
    wrong_sign = true.copy()
    wrong_sign[1, 1] = -wrong_sign[1, 1]
    result = hw.check_hessian(wrong_sign, f, (x, y))
    assert result.status == "incorrect" and "entry (1, 1) has the wrong sign" in result.message
    halved = true.copy()
    halved[0, 0] = halved[0, 0] / 2
    assert "factor of 2" in hw.check_hessian(halved, f, (x, y)).message
    asymmetric = true.copy()
    asymmetric[0, 1] = asymmetric[0, 1] + 1
    assert "not symmetric" in hw.check_hessian(asymmetric, f, (x, y)).message
    assert "shape mismatch" in hw.check_hessian(sp.ones(3, 3), f, (x, y)).message
    # The message never shows the expected entries.
    for entry in true:
        assert str(entry) not in result.message


@settings(max_examples=15, deadline=None)
@given(coefficients=st.lists(st.integers(-4, 4), min_size=5, max_size=5), i=st.integers(0, 1), j=st.integers(0, 1))
def test_hessian_check_for_every_polynomial(coefficients, i, j):
    """For every polynomial: sympy's Hessian is "correct"; a flipped or doubled entry is named, never shown."""
    a, b, c, d, e = coefficients
    f = a * x**3 + b * x**2 * y + c * x * y**2 + d * y**3 + e * sp.cos(x - y)
    true = sp.hessian(f, (x, y))
    assert hw.check_hessian(true, f, (x, y)).status == "correct"
    if true[i, j] == 0:
        return
    for wrong, message in ((-true[i, j], "wrong sign"), (2 * true[i, j], "factor of 2")):
        changed = true.copy()
        changed[i, j] = changed[j, i] = wrong
        result = hw.check_hessian(changed, f, (x, y))
        assert result.status == "incorrect" and message in result.message
        assert str(true[i, j]) not in result.message


def test_step_bound_and_taylor_checks():
    q = x**4 / 4 - x**2 + x * y + y**2
    assert hw.check_step_bound(4, q, (x, y), (1, 0)).status == "correct"
    assert "factor of 2" in hw.check_step_bound(2, q, (x, y), (1, 0)).message
    assert "upside down" in hw.check_step_bound(sp.Rational(1, 4), q, (x, y), (1, 0)).message
    assert hw.check_step_bound(sp.oo, q, (x, y), (sp.Rational(1, 2), 0)).status == "correct"
    assert hw.check_step_bound(sp.oo, q, (x, y), (1, 0)).status == "incorrect"
    f = sp.exp(x) * sp.cos(y) + x**2 * y
    term = x**3 / 6 + x**2 * y - x * y**2 / 2
    assert hw.check_taylor_term(term, f, (x, y), (0, 0), 3).status == "correct"
    assert "factorial" in hw.check_taylor_term(6 * term, f, (x, y), (0, 0), 3).message
    assert "whole polynomial" in hw.check_taylor_term(1 + x + (x**2 - y**2) / 2 + term, f, (x, y), (0, 0), 3).message
    assert hw.check_taylor_term(term + x * y**2, f, (x, y), (0, 0), 3).status == "incorrect"
    # Forgetting the multiplicity 3 of the mixed terms is named, without the coefficients.
    miscounted = hw.check_taylor_term(x**3 / 6 + x**2 * y / 3 - x * y**2 / 6, f, (x, y), (0, 0), 3)
    assert miscounted.status == "incorrect" and "mixed terms" in miscounted.message
    assert "1/2" not in miscounted.message and "x**2*y" not in miscounted.message
    # Around a point other than the origin the diagnosis works in the displacement h = (x - 1, y - 2).
    g = sp.exp(x) * y**2 + x**3 * y
    true = sp.expand(
        lecturelib.taylor_polynomial(g, (x, y), (1, 2), 3) - lecturelib.taylor_polynomial(g, (x, y), (1, 2), 2)
    )
    h1, h2 = x - 1, y - 2
    wrong = true + sp.expand(h1**2 * h2)  # a mixed coefficient changed, the pure powers kept
    assert "mixed terms" in hw.check_taylor_term(wrong, g, (x, y), (1, 2), 3).message
    assert "mixed terms" not in hw.check_taylor_term(true + sp.expand(h1**3), g, (x, y), (1, 2), 3).message


def test_answers_in_symbols_without_assumptions_are_compared_by_name():
    """A student's own sp.symbols("x y") (no real=True) print like the notebook's symbols and must count as them."""
    plain_x, plain_y = sp.symbols("x y")
    h = x**3 * y - 2 * x * y**2
    student = sp.hessian(plain_x**3 * plain_y - 2 * plain_x * plain_y**2, (plain_x, plain_y))
    assert hw.check_hessian(student, h, (x, y)).status == "correct"
    flipped = student.copy()
    flipped[1, 1] = -flipped[1, 1]
    assert "wrong sign" in hw.check_hessian(flipped, h, (x, y)).message
    f = sp.exp(x) * sp.cos(y) + x**2 * y
    term = plain_x**3 / 6 + plain_x**2 * plain_y - plain_x * plain_y**2 / 2
    assert hw.check_taylor_term(term, f, (x, y), (0, 0), 3).status == "correct"
    assert "mixed terms" in hw.check_taylor_term(term + plain_x**2 * plain_y, f, (x, y), (0, 0), 3).message


def test_taylor_function_check_uses_independent_reference():
    def by_lecturelib(expr, variables, point):
        from lecturelib import taylor_polynomial

        return taylor_polynomial(expr, variables, point, 3) - taylor_polynomial(expr, variables, point, 2)

    assert hw.check_taylor_term_function(by_lecturelib).status == "correct"
    assert hw.check_taylor_term_function(lambda e, v, p: 2 * by_lecturelib(e, v, p)).status == "incorrect"


def test_gradient_function_check():
    def loss(phi, target, w):
        return 0.5 * np.sum((phi.T @ w - target) ** 2)

    shapes = [(3, 5), (5,), (3,)]
    assert hw.check_gradient_function(lambda p, t, w: p @ (p.T @ w - t), loss, shapes).status == "correct"
    assert "factor of 2" in hw.check_gradient_function(lambda p, t, w: 2 * p @ (p.T @ w - t), loss, shapes).message
    assert "wrong sign" in hw.check_gradient_function(lambda p, t, w: p @ (t - p.T @ w), loss, shapes).message
    assert "shape" in hw.check_gradient_function(lambda p, t, w: p.T @ w - t, loss, shapes).message


def _quadratic_experiment(smoothness: float, n_steps: int = 50) -> dict:
    """A quadratic plus a log-cosh term (so its Hessian is not constant): curvature at most 1.1 along (1, 0)."""
    a = np.diag([1.0, 0.1])

    def loss(v):
        return 0.5 * v @ a @ v + 0.1 * np.sum(np.logaddexp(v, -v))

    def grad(v):
        return a @ v + 0.1 * np.tanh(v)

    w, squares = np.array([2.0, -1.0]), []
    for _ in range(n_steps):
        g = grad(w)
        squares.append(g @ g)
        w = w - g / smoothness
    return dict(
        loss=loss,
        grad=grad,
        beta=smoothness,
        w0=np.array([2.0, -1.0]),
        loss_min=0.1 * 2 * np.log(2),
        min_sq_grad=np.minimum.accumulate(squares),
    )


def test_rate_experiment_reads_the_first_release_key_L_as_beta():
    """Notebooks of the course's first release hand in the smoothness constant as ``L``: it still grades the same."""
    for smoothness in (1.1, 0.6):
        new = _quadratic_experiment(smoothness)
        old = {("L" if key == "beta" else key): value for key, value in new.items()}
        a, b = hw.check_rate_experiment(new), hw.check_rate_experiment(old)
        assert (a.status, a.message) == (b.status, b.message)
    neither = {k: v for k, v in _quadratic_experiment(1.1).items() if k != "beta"}
    assert "missing the keys ['beta']" in hw.check_rate_experiment(neither).message


def test_rate_experiment_check_reruns_the_experiment():
    assert hw.check_rate_experiment(_quadratic_experiment(1.1)).status == "correct"
    assert "beta is too small" in hw.check_rate_experiment(_quadratic_experiment(0.6)).message
    tampered = _quadratic_experiment(1.1)
    tampered["min_sq_grad"] = tampered["min_sq_grad"] / 2
    assert "re-run" in hw.check_rate_experiment(tampered).message
    # An L that bounds the curvature along the run but not everywhere is caught: for the logistic loss the Hessian
    # is largest at the origin, which this run never visits.
    rng = np.random.default_rng(1)
    a = rng.standard_normal((60, 3))
    labels = np.where(a @ np.array([1.0, -2.0, 0.5]) + 0.8 * rng.standard_normal(60) > 0, 1.0, -1.0)

    def loss(w):
        return np.mean(np.logaddexp(0.0, -labels * (a @ w)))

    def grad(w):
        return a.T @ (-labels / (1 + np.exp(labels * (a @ w)))) / len(labels)

    smooth = np.linalg.eigvalsh(a.T @ a).max() / (4 * len(labels))  # attained at w = 0
    for factor, verdict in ((1.0, "correct"), (0.5, "incorrect")):
        w, squares = np.array([3.0, 3.0, -3.0]), []
        for _ in range(100):
            g = grad(w)
            squares.append(g @ g)
            w = w - g / (factor * smooth)
        result = hw.check_rate_experiment(
            dict(
                loss=loss,
                grad=grad,
                beta=factor * smooth,
                w0=np.array([3.0, 3.0, -3.0]),
                loss_min=0.0,
                min_sq_grad=np.minimum.accumulate(squares),
            )
        )
        assert result.status == verdict, result
        if verdict == "incorrect":
            assert "beta is too small" in result.message and f"{smooth:.3}" not in result.message
    wrong_grad = _quadratic_experiment(1.1)
    wrong_grad["grad"] = lambda v: 2 * v
    assert "not the gradient" in hw.check_rate_experiment(wrong_grad).message


def test_threshold_check_simulates_both_sides():
    double_well = (x**2 - 1) ** 2  # f''(1) = 8, so the threshold at x* = 1 is 1/4
    assert hw.check_threshold(sp.Rational(1, 4), double_well, x, 1).status == "correct"
    small = hw.check_threshold(sp.Rational(1, 8), double_well, x, 1)
    assert small.status == "incorrect" and "too small" in small.message and "factor of 2" in small.message
    assert "too large" in hw.check_threshold(0.3, double_well, x, 1).message
    assert "not exact" in hw.check_threshold(0.2505, double_well, x, 1).message
    bowl = x**2 + x * y + 2 * y**2  # Hessian eigenvalues 3 ± √2
    assert hw.check_threshold(2 / (3 + sp.sqrt(2)), bowl, (x, y), (0, 0)).status == "correct"
    smallest = hw.check_threshold(2 / (3 - sp.sqrt(2)), bowl, (x, y), (0, 0))
    assert smallest.status == "incorrect" and "not for the one that binds" in smallest.message
    assert "sqrt" not in smallest.message and "0.45" not in smallest.message


def _gd(f, delta):
    fp = sp.lambdify(x, sp.diff(f, x))
    return lambda v: v - delta * fp(v)


def test_period2_orbit_check_applies_the_map_twice():
    f = x**4 / 4  # T(x) = x - δx³; the period-2 orbit is ±sqrt(2/δ)
    delta = 0.5
    a = float(np.sqrt(2 / delta))
    assert hw.check_period2_orbit((a, -a), f, x, delta).status == "correct"
    assert "fixed point" in hw.check_period2_orbit((0.0, 1.0), f, x, delta).message
    assert "coincide" in hw.check_period2_orbit((a, a), f, x, delta).message
    assert hw.check_period2_orbit((a, a / 2), f, x, delta).status == "incorrect"
    T = _gd(f, delta)
    assert abs(T(T(a)) - a) < 1e-12


def test_bifurcation_check_verifies_orbits():
    f = (x**2 - 1) ** 2
    steps = np.linspace(0.05, 0.4, 6)
    starts = np.array([0.3, 1.4])
    fp = sp.lambdify(x, sp.diff(f, x))
    values = np.broadcast_to(starts, (steps.size, starts.size)).copy()
    kept = []
    with np.errstate(all="ignore"):
        for k in range(300):
            values = values - steps[:, None] * fp(values)
            values[np.abs(values) > 1e6] = np.nan
            if k >= 280:
                kept.append(values.copy())
    data = np.stack(kept, axis=-1)
    assert hw.check_bifurcation(data, f, x, steps, starts.size).status == "correct"
    assert "shape" in hw.check_bifurcation(data.transpose(1, 0, 2), f, x, steps, starts.size).message
    shuffled = data[:, :, ::-1]
    assert hw.check_bifurcation(shuffled, f, x, steps, starts.size).status == "incorrect"


def test_bifurcation_check_wants_settled_rows_of_descent():
    """Rows kept before the transient ends, or iterated with the wrong sign, are rejected; a correct diagram is not."""
    f = x**4 / 4 - sp.Rational(7, 3) * x**3 + 5 * x**2  # homework 2's quartic: minima at 0 and 5
    steps = np.linspace(0.02, 0.3, 60)
    starts = np.linspace(-1, 6, 12)
    fp = sp.lambdify(x, sp.diff(f, x), "numpy")
    good = lecturelib.run(fp, starts[None, :], steps[:, None], 600)
    assert hw.check_bifurcation(np.moveaxis(good[-32:], 0, -1), f, x, steps, starts.size).status == "correct"
    early = hw.check_bifurcation(np.moveaxis(good[:32], 0, -1), f, x, steps, starts.size)
    assert early.status == "incorrect" and "not settled" in early.message
    ascent = lecturelib.run(lambda v: -fp(v), starts[None, :], steps[:, None], 600)  # converges to the maximum 2
    wrong_sign = hw.check_bifurcation(np.moveaxis(ascent[-32:], 0, -1), f, x, steps, starts.size)
    assert wrong_sign.status == "incorrect" and "against the gradient" in wrong_sign.message
    # A row that diverges inside the kept window (numbers, then NaN) is legitimate; NaN back to numbers is not.
    revived = np.moveaxis(good[-32:], 0, -1).copy()
    diverged = np.all(np.isnan(revived), axis=-1)
    assert diverged.any()
    revived[np.nonzero(diverged)[0][0], np.nonzero(diverged)[1][0], -1] = 1.0
    assert "back to numbers" in hw.check_bifurcation(revived, f, x, steps, starts.size).message


def test_value_check():
    assert hw.check_value(np.array([1.0, 2.0]), [1.0, 2.0]).status == "correct"
    assert "factor of 2" in hw.check_value(2.0, 1.0).message
    assert "shape" in hw.check_value([1.0], [1.0, 2.0]).message
    assert "reciprocal" in hw.check_value(0.25, 4.0).message


# ------------------------------------------------------------------------------------------------------------------
# Export
# ------------------------------------------------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "lecturelib.homework", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export")
    result = run_cli("export", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_export_writes_one_valid_pair_per_set(exported):
    assert SETS, "no homework sets found"
    for edition in ("student", "instructor"):
        names = sorted(p.stem for p in (exported / edition).glob("*.ipynb"))
        assert names == [p.stem for p in SETS]
        for path in (exported / edition).glob("*.ipynb"):
            notebook = nbformat.read(path, as_version=4)
            nbformat.validate(notebook)
            assert notebook.metadata.kernelspec.name == "python3"
            assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    assert not list(exported.glob(".homework-export-*")), "the staging folder was left behind"


def test_export_cli_errors_write_nothing(tmp_path):
    missing = run_cli("export", str(tmp_path / "nope"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    unknown = run_cli("export", str(tmp_path), "hw99")
    assert unknown.returncode != 0 and "unknown homework set 'hw99'" in unknown.stderr
    assert list(tmp_path.iterdir()) == []
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert run_cli("export", str(a_file)).returncode != 0
    assert run_cli("frobnicate").returncode != 0
    bad_source = tmp_path / "src"
    bad_source.mkdir()
    (bad_source / "hw0_broken.md").write_text("# Broken\n\n```{solution-start} ex\n```\n\nno end\n")
    out = tmp_path / "out"
    out.mkdir()
    broken = run_cli("export", str(out), "--source", str(bad_source))
    assert broken.returncode != 0 and "never closed" in broken.stderr
    assert list(out.iterdir()) == []


def test_export_refuses_an_unwritable_folder(tmp_path, monkeypatch, capsys):
    import lecturelib.homework.export as export_module
    from lecturelib.homework.__main__ import main

    monkeypatch.setattr(export_module.os, "access", lambda path, mode: False)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tmp_path)])
    assert exit_info.value.code != 0
    assert "not writable" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_export_selects_sets_by_prefix(tmp_path):
    result = run_cli("export", str(tmp_path), "hw1", "--edition", "student")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (tmp_path / "student").iterdir()] == ["hw1_taylor_descent.ipynb"]
    assert not (tmp_path / "instructor").exists()


# ------------------------------------------------------------------------------------------------------------------
# Student notebooks run, and say "not answered yet"
# ------------------------------------------------------------------------------------------------------------------

STATUS = re.compile(r"CheckResult\(status='(\w+)'")


@pytest.mark.parametrize("stem", [p.stem for p in SETS])
def test_student_notebook_runs_with_every_check_unanswered(exported, stem):
    from nbclient import NotebookClient

    path = exported / "student" / f"{stem}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    statuses = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{stem}: {output.get('ename')}: {output.get('evalue')}"
            statuses += STATUS.findall(output.get("data", {}).get("text/plain", ""))
    n_exercises = len(re.findall(r"^`{3,}\{exercise\}", (SOURCE / f"{stem}.md").read_text(), flags=re.M))
    assert len(statuses) >= n_exercises > 0
    assert set(statuses) == {"unanswered"}


# ------------------------------------------------------------------------------------------------------------------
# No solution leaks
# ------------------------------------------------------------------------------------------------------------------


def tokens(text: str) -> str:
    """Text as a sequence of lower-case alphanumeric words, so Markdown, HTML and code compare alike."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def solution_blocks(text: str) -> tuple[list[str], str]:
    """The solutions of a MyST source (plain and gated), and the source with them cut out; parsed independently."""
    lines = text.split("\n")
    solutions, rest = [], []
    index = 0
    while index < len(lines):
        opening = re.match(r"^(`{3,}|:{3,})\{(solution|solution-start)\}", lines[index])
        if not opening:
            rest.append(lines[index])
            index += 1
            continue
        fence = opening[1]
        closing = re.compile(re.escape(fence[0]) + f"{{{len(fence)},}}\\s*")
        close = next(i for i in range(index + 1, len(lines)) if closing.fullmatch(lines[i]))
        if opening[2] == "solution":
            solutions.append("\n".join(lines[index + 1 : close]))
            index = close + 1
            continue
        end = next(i for i in range(close, len(lines)) if re.match(r"^(`{3,}|:{3,})\{solution-end\}", lines[i]))
        solutions.append("\n".join(lines[close + 1 : end]))
        index = end + 2
    return solutions, "\n".join(rest)


BOOK_SOURCES = sorted(p for p in (ROOT / "book").rglob("*.md") if "_build" not in p.parts)


def _outside_solutions() -> str:
    """Every book source with its solutions cut out, as tokens: text that may legitimately appear anywhere."""
    return tokens("\n".join(solution_blocks(p.read_text(encoding="utf-8"))[1] for p in BOOK_SOURCES))


def _cell_text_lines(block: str, *, rendered: bool) -> list[str]:
    """The lines of a solution block that are text or code, not a code cell's metadata (its YAML header: figure alt
    text and captions live there, in a notebook's metadata rather than its source). With ``rendered``, also without
    the cells tagged ``remove-cell`` (the grading cells), which no edition of the site or the PDF shows."""
    kept, lines, i = [], block.split("\n"), 0
    while i < len(lines):
        if re.match(r"^`{3,}\{code-cell\}", lines[i]):
            cell = [lines[i]]
            i += 1
            while i < len(lines) and not re.fullmatch(r"`{3,}\s*", lines[i]):
                cell.append(lines[i])
                i += 1
            header_end = 0
            if len(cell) > 1 and cell[1].strip() == "---":
                header_end = next((k for k in range(2, len(cell)) if cell[k].strip() == "---"), len(cell) - 1)
            tags = " ".join(line for line in cell[: header_end + 2] if "tags" in line)
            if not (rendered and "remove-cell" in tags):
                kept.extend(cell[header_end + 1 :] if header_end else cell[1:])
            i += 1
            continue
        kept.append(lines[i])
        i += 1
    return kept


def solution_lines(paths: list[Path] | None = None, *, rendered: bool = False) -> dict[str, list[str]]:
    """Per source, the solution lines (as token strings) that say something no text outside a solution says.

    Lines of fewer than four words are skipped: a line such as ``return (a, -a)`` also occurs in the theme's minified
    scripts, and says nothing a student could copy. So are lines that also occur outside the solutions of the book
    (a plotting line shared with a lecture is not a leak), and the metadata of code cells. With ``rendered``, the
    lines of ``remove-cell`` cells are left out too: a positive control looks only for what an edition shows.
    """
    rest_tokens = _outside_solutions()
    result = {}
    for path in SETS if paths is None else paths:
        solutions, _ = solution_blocks(path.read_text(encoding="utf-8"))
        lines = []
        for block in solutions:
            for line in _cell_text_lines(block, rendered=rendered):
                if re.match(r"^\s*(`{3,}|:[\w-]+:)", line):
                    continue
                normalized = tokens(line)
                if len(normalized.split()) >= 4 and normalized not in rest_tokens:
                    lines.append(normalized)
        result[path.stem] = lines
    return result


def test_every_homework_set_has_solutions_to_check():
    for stem, lines in solution_lines().items():
        assert len(lines) >= 20, f"{stem}: only {len(lines)} solution lines to look for"


def notebook_text(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return tokens("\n".join(cell.source for cell in notebook.cells))


def test_no_solution_line_in_student_notebooks(exported):
    for stem, lines in solution_lines().items():
        student = notebook_text(exported / "student" / f"{stem}.ipynb")
        instructor = notebook_text(exported / "instructor" / f"{stem}.ipynb")
        leaked = [line for line in lines if line in student]
        assert not leaked, f"{stem}: solution lines in the student notebook: {leaked[:3]}"
        # The detector works: every solution line is found in the instructor notebook, except lines with a MyST role,
        # which the export rewrites as plain text (a cross-reference by its title, a figure as "the figure").
        source = (SOURCE / f"{stem}.md").read_text(encoding="utf-8")
        with_roles = {tokens(line) for line in source.splitlines() if re.search(r"\{[\w:-]+\}`", line)}
        missing = [line for line in lines if line not in instructor and line not in with_roles]
        assert not missing, f"{stem}: solution lines missing from the instructor notebook: {missing[:3]}"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def site_text(html_dir: Path) -> str:
    parts = []
    for path in [html_dir] if html_dir.is_file() else html_dir.rglob("*"):
        if not path.is_file() or path.suffix in (".png", ".jpg", ".svg", ".woff", ".woff2", ".ttf", ".eot", ".ico"):
            continue
        raw = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            parser = _Text()
            parser.feed(raw)
            raw = " ".join(parser.parts)
        elif path.suffix == ".ipynb":
            raw = "\n".join(
                cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                for cell in json.loads(raw)["cells"]
            )
        parts.append(raw)
    return tokens("\n".join(parts))


@pytest.mark.site
def test_no_solution_text_anywhere_in_the_student_site(built_site):
    student_site = built_site
    text = site_text(student_site)
    assert not (student_site / "_sources").exists()
    for stem, lines in solution_lines(BOOK_SOURCES).items():
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{stem}: solution text in the student site: {leaked[:3]}"
    for stem in (p.stem for p in SETS):
        page = site_text(student_site / "book" / "homework" / f"{stem}.html")
        # The detector reads the pages: the exercise statements are there, and the student notebook is offered.
        exercise = re.search(r"^`{3,}\{exercise\}.*\n(?::.*\n)*\n(.+)$", (SOURCE / f"{stem}.md").read_text(), re.M)
        assert tokens(exercise[1]) in page
        downloads = list((student_site / "_downloads").rglob(f"{stem}.ipynb"))
        assert downloads, f"{stem}: no student notebook offered for download"


@pytest.mark.site
def test_instructor_site_holds_every_solution_in_a_collapsed_dropdown(instructor_site):
    """The positive control of the leak test: the same detector finds every solution line in the instructor edition."""
    text = site_text(instructor_site)
    for stem, lines in solution_lines(BOOK_SOURCES, rendered=True).items():
        missing = [line for line in lines if line not in text]
        assert not missing, f"{stem}: solution text missing from the instructor site: {missing[:3]}"
    for stem in (p.stem for p in SETS):
        page = (instructor_site / "book" / "homework" / f"{stem}.html").read_text(encoding="utf-8")
        n_exercises = len(re.findall(r"^`{3,}\{exercise\}", (SOURCE / f"{stem}.md").read_text(), re.M))
        n_dropdowns = page.count('class="solution dropdown admonition"')
        assert n_dropdowns >= n_exercises, f"{stem}: {n_dropdowns} solution dropdowns for {n_exercises} exercises"


def test_export_never_looks_for_the_book_by_the_library_path(tmp_path):
    """Outside the repository, without --source, the export says where it looked instead of finding the book
    through the package's own path; with --source it works from any folder."""
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("export", str(out), "hw2", cwd=tmp_path)
    assert result.returncode != 0 and "--source" in result.stderr
    result = run_cli("export", str(out), "hw2", "--source", str(SOURCE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "student" / "hw2_stability.ipynb").is_file()


# ------------------------------------------------------------------------------------------------------------------
# Checks of set 3 (networks)
# ------------------------------------------------------------------------------------------------------------------


def test_network_checks():
    from lecturelib import linear_nets, relu_nets

    w = sp.symbols("w1:4", real=True)
    right = 2 / (w[1] ** 2 * w[2] ** 2 + w[0] ** 2 * w[2] ** 2 + w[0] ** 2 * w[1] ** 2)
    assert hw.check_scalar_theorem1(right, w).status == "correct"
    assert "factor of 2" in hw.check_scalar_theorem1(right / 2, w).message
    assert "upside down" in hw.check_scalar_theorem1(1 / right, w).message
    assert hw.check_theorem1_function(linear_nets.theorem1_bound).status == "correct"
    assert "factor of 2" in hw.check_theorem1_function(lambda ws: 2 * linear_nets.theorem1_bound(ws)).message
    assert hw.check_theorem4_lhs_function(relu_nets.theorem4_lhs).status == "correct"
    assert "square" in hw.check_theorem4_lhs_function(lambda n, X: relu_nets.theorem4_lhs(n, X) ** 2).message
    R = np.diag([2.5, 0.5])
    bound = linear_nets.corollary1_bound(R, 4)
    assert hw.check_convergent_step(0.999 * bound, R, 4).status == "correct"
    assert "too small" in hw.check_convergent_step(linear_nets.theorem2_step(R, 4), R, 4).message
    assert "too large" in hw.check_convergent_step(1.2 * bound, R, 4).message


def test_run_diagnosis_check():
    t = np.arange(20)[:, None]
    period2 = np.hstack([np.where(t % 2 == 0, 1.0, -1.0), np.ones_like(t, dtype=float)])
    assert hw.check_run_diagnosis("period 2", period2).status == "correct"
    assert hw.check_run_diagnosis("fixed point", period2).status == "incorrect"
    period4 = np.hstack([np.array([0.0, 1.0, 0.0, -1.0])[t % 4], np.zeros_like(t, dtype=float)])
    assert hw.check_run_diagnosis("period 4", period4).status == "correct"
    assert hw.check_run_diagnosis("period 2", period4).status == "incorrect"
    still = np.ones((20, 3))
    assert hw.check_run_diagnosis("fixed point", still).status == "correct"
    assert hw.check_run_diagnosis("chaos", still).status == "incorrect"
    assert hw.check_run_diagnosis(..., still).status == "unanswered"


def test_run_diagnosis_check_judges_an_ensemble_by_its_verdict():
    t = np.arange(20)[:, None]
    period2 = np.hstack([np.where(t % 2 == 0, 1.0, -1.0), np.ones_like(t, dtype=float)])
    still = np.ones((20, 2))
    mostly_period2 = np.array([period2] * 17 + [still] * 3)  # 85% agree: the verdict is period 2
    assert hw.check_run_diagnosis("period 2", mostly_period2).status == "correct"
    assert hw.check_run_diagnosis("fixed point", mostly_period2).status == "incorrect"
    split = np.array([period2] * 12 + [still] * 8)  # 60%: rounding decides, so the question is the instructor's error
    with pytest.raises(ValueError, match="no verdict"):
        hw.check_run_diagnosis("period 2", split)
    with pytest.raises(ValueError, match="at least 20 runs"):
        hw.check_run_diagnosis("period 2", np.array([period2] * 19))
    assert hw.check_run_diagnosis("period 2", split, agreement=0.6).status == "correct"


def test_exported_markdown_has_no_myst_roles(exported):
    """Jupyter does not render MyST roles: cross-references become titles, citations plain text."""
    for path in sorted((exported / "student").glob("*.ipynb")) + sorted((exported / "instructor").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                assert not re.search(r"\{[\w:-]+\}`", cell.source), f"{path.name}: {cell.source[:200]}"
                assert not re.search(r"^\([\w:.-]+\)=", cell.source, re.M), f"{path.name}: a MyST label line"
                assert "{exercise}" not in cell.source and "{solution" not in cell.source


# ------------------------------------------------------------------------------------------------------------------
# Set 3: every kind of wrong answer is named, never answered (review)
# ------------------------------------------------------------------------------------------------------------------


def _theorem4_reference(net, X):
    outputs = np.maximum(X @ net.V.T - net.b, 0.0) @ net.W.T
    return float(np.max(np.linalg.norm(X, axis=1) * np.linalg.norm(outputs, axis=1)))


def _norms(net, X, pre, relu=True):
    hidden = np.maximum(pre, 0.0) if relu else pre
    return np.linalg.norm(X, axis=1), np.linalg.norm(hidden @ net.W.T, axis=1)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda n, X: np.prod(_norms(n, X, X @ n.V.T + n.b), axis=0).max(), "wrong sign"),
        (lambda n, X: np.prod(_norms(n, X, X @ n.V.T), axis=0).max(), "bias is missing"),
        (lambda n, X: np.prod(_norms(n, X, X @ n.V.T - n.b, relu=False), axis=0).max(), "ReLU is missing"),
        (lambda n, X: _norms(n, X, X @ n.V.T - n.b)[1].max(), "‖x_i‖ is missing"),
        (lambda n, X: np.prod(_norms(n, X, X @ n.V.T - n.b), axis=0).sum(), "summed"),
        (lambda n, X: np.prod(_norms(n, X, X @ n.V.T - n.b), axis=0).mean(), "averaged"),
        (lambda n, X: np.prod([v.max() for v in _norms(n, X, X @ n.V.T - n.b)]), "maxima are taken separately"),
        (lambda n, X: np.prod(_norms(n, X, X @ n.V.T - n.b), axis=0), "one number"),
        (
            lambda n, X: float(
                np.max(np.linalg.norm(X, axis=1) * np.abs((np.maximum(X @ n.V.T - n.b, 0) @ n.W.T)[:, 0]))
            ),
            "one output",
        ),
    ],
)
def test_theorem4_check_names_each_mistake_without_the_answer(wrong, words):
    from lecturelib import relu_nets

    assert hw.check_theorem4_lhs_function(_theorem4_reference).status == "correct"
    result = hw.check_theorem4_lhs_function(wrong)
    assert result.status == "incorrect" and words in result.message, result.message
    net = relu_nets.random_net(3, 2, 2, 0)
    assert f"{_theorem4_reference(net, np.ones((1, 2))):.3g}" not in result.message


def _theorem1_shifted(weights, shift_p, shift_q):
    product = weights[0]
    for W in weights[1:]:
        product = W @ product
    U, _, Vt = np.linalg.svd(product)
    p, q = [Vt[0]], [U[:, 0]]
    for W in weights:
        p.append(W @ p[-1])
    for W in reversed(weights):
        q.append(q[-1] @ W)
    q = q[::-1]
    return 2.0 / sum(np.sum(p[j + shift_p] ** 2) * np.sum(q[j + 1 + shift_q] ** 2) for j in range(len(weights)))


def test_theorem1_check_names_the_exact_hessian_and_off_by_one_indices():
    from lecturelib import linear_nets

    def exact(weights):
        return 2 / np.linalg.eigvalsh(linear_nets.hessian(linear_nets.product(weights), weights)).max()

    assert hw.check_theorem1_function(lambda ws: _theorem1_shifted(ws, 0, 0)).status == "correct"
    assert "exact Hessian" in hw.check_theorem1_function(exact).message
    assert "off by one" in hw.check_theorem1_function(lambda ws: _theorem1_shifted(ws, 1, 0)).message
    assert "off by one" in hw.check_theorem1_function(lambda ws: _theorem1_shifted(ws, 0, -1)).message
    assert "not right" in hw.check_theorem1_function(lambda ws: 0.3).message


def test_run_diagnosis_names_the_mistake_and_rejects_a_tail_too_short_to_decide():
    t = np.arange(20)[:, None]
    period2 = np.hstack([np.where(t % 2 == 0, 1.0, -1.0), np.ones_like(t, dtype=float)])
    assert "orbit is shorter" in hw.check_run_diagnosis("period 4", period2).message
    assert "does not return" in hw.check_run_diagnosis("period 2", np.cumsum(np.ones((20, 2)), axis=0)).message
    assert "move" in hw.check_run_diagnosis("fixed point", period2).message
    assert hw.check_run_diagnosis("Period-2", period2).status == "correct"
    assert "answer with one of" in hw.check_run_diagnosis(2, period2).message
    with pytest.raises(ValueError, match="tail"):
        hw.check_run_diagnosis("period 2", period2[:3])


# ------------------------------------------------------------------------------------------------------------------
# Export: targets in the way, existing notebooks, a stray file next to the source (issue 10); the student cells
# ------------------------------------------------------------------------------------------------------------------


def test_export_refuses_targets_in_the_way_before_writing_anything(tmp_path):
    (tmp_path / "instructor").write_text("not a folder")
    result = run_cli("export", str(tmp_path), "hw1")
    assert result.returncode == 2 and "in the way" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instructor"]
    other = tmp_path / "other"
    (other / "student" / "hw1_taylor_descent.ipynb").mkdir(parents=True)
    result = run_cli("export", str(other), "hw1")
    assert result.returncode == 2 and "in the way" in result.stderr and "Traceback" not in result.stderr
    assert not (other / "instructor").exists()


def test_export_asks_before_overwriting(tmp_path):
    assert run_cli("export", str(tmp_path), "hw1").returncode == 0
    notebook = tmp_path / "student" / "hw1_taylor_descent.ipynb"
    notebook.write_text("my edits")
    again = run_cli("export", str(tmp_path), "hw1")
    assert again.returncode == 2 and "--force" in again.stderr and "exist already" in again.stderr
    assert notebook.read_text() == "my edits"
    assert run_cli("export", str(tmp_path), "hw1", "--force").returncode == 0
    nbformat.validate(nbformat.read(notebook, as_version=4))


def test_export_reads_only_the_book_next_to_the_source(tmp_path):
    """A non-UTF-8 Markdown file in the book folder is skipped, and sub-folders of the book (a _build, another
    course) are not scanned at all."""
    book = tmp_path / "book"
    (book / "homework").mkdir(parents=True)
    (book / "homework" / "hw1_taylor_descent.md").write_text((SOURCE / "hw1_taylor_descent.md").read_text())
    (book / "latin1.md").write_bytes("caf\xe9 (label)=\n".encode("latin-1"))
    (book / "deep" / "deeper").mkdir(parents=True)
    (book / "deep" / "deeper" / "bad.md").write_bytes(b"\xff\xfe\x00bad")
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("export", str(out), "--source", str(book / "homework"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "student" / "hw1_taylor_descent.ipynb").is_file()


def test_student_notebook_cells_install_name_and_separate_placeholders(exported):
    for stem in (p.stem for p in SETS):
        cells = nbformat.read(exported / "student" / f"{stem}.ipynb", as_version=4).cells
        assert cells[0].cell_type == "markdown"
        assert re.search(r"pip install lecturelib-[\w.]+-py3-none-any\.whl", cells[0].source)
        assert cells[1].source.lstrip().startswith("# ")
        assert "Student id" in cells[2].source
        placeholders = [c for c in cells if "**Your solution.**" in c.source]
        assert placeholders and all(
            c.source.startswith("**Your solution.**") and "Exercise" not in c.source for c in placeholders
        )
        instructor = nbformat.read(exported / "instructor" / f"{stem}.ipynb", as_version=4).cells
        assert not any("pip install" in c.source for c in instructor)


def test_reader_uses_the_myst_parser_for_fences(tmp_path):
    """A fence longer than its closing line, a directive inside a code example and a colon fence are read as the
    site reads them."""
    from lecturelib.homework.notebook import read_set, split_notebook

    source = tmp_path / "hw9_x.md"
    header = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n---\n\n"
    source.write_text(
        header + "# T\n\n:::{exercise} 9.1\n:label: e\n\nDo it.\n:::\n\n"
        "`````{solution-start} e\n:class: dropdown\n`````\n\nSecret ```{solution-end}``` words.\n\n"
        "`````{solution-end}\n`````\n\nAfter.\n"
    )
    student, instructor, solutions = split_notebook(read_set(source))
    text = "\n".join(c.source for c in student)
    assert "Secret" not in text and "After." in text and "Do it." in text
    assert solutions == ["Secret ```{solution-end}``` words."]
    assert "Secret" in "\n".join(c.source for c in instructor)


# ------------------------------------------------------------------------------------------------------------------
# Checks that are right (issue 12): each wrong answer the review found is refused, each right one accepted
# ------------------------------------------------------------------------------------------------------------------

P2 = x**4 / 4 - sp.Rational(7, 3) * x**3 + 5 * x**2  # homework 2's quartic


def test_bifurcation_check_runs_descent_from_the_starts():
    steps = np.linspace(0.02, 0.3, 60)
    starts = np.linspace(-1, 6, 12)
    fp = sp.lambdify(x, sp.diff(P2, x), "numpy")
    good = np.moveaxis(lecturelib.run(fp, starts[None, :], steps[:, None], 600)[-32:], 0, -1)
    assert hw.check_bifurcation(good, P2, x, steps, starts).status == "correct"
    for constant in (5.0, 0.0):  # a critical point everywhere is a fixed point of the map, but not where runs end
        result = hw.check_bifurcation(np.full(good.shape, constant), P2, x, steps, starts)
        assert result.status == "incorrect" and "where gradient descent from their start ends" in result.message
    nan_but_one = np.full(good.shape, np.nan)
    nan_but_one[0] = good[0]
    assert hw.check_bifurcation(nan_but_one, P2, x, steps, starts).status == "incorrect"
    single = hw.check_bifurcation(good.astype(np.float32), P2, x, steps, starts)
    assert "float64" in single.message and "axes" not in single.message


def _repelling_orbit_at_014():
    delta = sp.Rational(14, 100)
    T = x - delta * sp.diff(P2, x)
    quotient, _ = sp.div(sp.expand(T.subs(x, T) - x), sp.expand(T - x), x)
    roots = sorted(float(sp.re(r)) for r in sp.Poly(quotient, x).nroots() if abs(sp.im(r)) < 1e-12)
    a = min(roots, key=lambda r: abs(r + 2.1697))
    return a, float(T.subs(x, a))


def test_period2_orbit_check_refuses_overflow_repelling_and_rounded_orbits():
    assert "overflows" in hw.check_period2_orbit((1e200, 2e200), P2, x, 0.14).message
    repelling = _repelling_orbit_at_014()
    assert abs(repelling[1] - 6.9111) < 1e-3
    assert hw.check_period2_orbit(repelling, P2, x, 0.14).status == "correct"  # it is an orbit ...
    result = hw.check_period2_orbit(repelling, P2, x, 0.14, attracting=True)  # ... but not the one GD ends on
    assert result.status == "incorrect" and "repels" in result.message
    a = float(np.sqrt(2 / 0.3))
    assert hw.check_period2_orbit((a, -a), x**4 / 4, x, 0.3).status == "correct"
    rounded = hw.check_period2_orbit((round(a, 6), -round(a, 6)), x**4 / 4, x, 0.3)
    assert rounded.status == "incorrect" and "full precision" in rounded.message


def test_symbolic_checks_decide_equality_beyond_a_fixed_sample():
    assert hw.check_expression(2 * x + sp.Piecewise((0, x < 2), (1, True)), 2 * x).status == "incorrect"
    f = sp.exp(x) * sp.cos(y) + x**2 * y
    term = x**3 / 6 + x**2 * y - x * y**2 / 2
    assert hw.check_taylor_term(term + sp.Heaviside(x - 2) * x**3, f, (x, y), (0, 0), 3).status == "incorrect"
    h = x**3 * y - 2 * x * y**2
    wrong = sp.hessian(h, (x, y))
    wrong[0, 0] = wrong[0, 0] + sp.Piecewise((0, x < 2), (x, True))
    assert hw.check_hessian(wrong, h, (x, y)).status == "incorrect"
    # The same expressions in another form, or with an Abs that sympy can remove, are still right.
    assert hw.check_expression(sp.sqrt(x**2) * 0 + 2 * x, 2 * x).status == "correct"
    assert hw.check_expression(sp.Abs(x) ** 2, x**2).status == "correct"


def test_checks_answer_not_right_for_any_kind_of_answer():
    f = x**3 * y
    odd = [True, {"a": 1}, "x**2", 1 + 2j, object(), None, [1, "a"]]
    for answer in odd:
        for result in (
            hw.check_value(answer, 1.0),
            hw.check_hessian(answer, f, (x, y)),
            hw.check_step_bound(answer, f, (x, y), (1, 1)),
            hw.check_threshold(answer, P2, x, 0),
            hw.check_period2_orbit(answer, P2, x, 0.14),
            hw.check_expression(answer, x),
            hw.check_rate_experiment(answer),
            hw.check_run_diagnosis(answer, np.ones((8, 2))),
            hw.check_bifurcation(answer, P2, x, np.ones(3), 2),
        ):
            assert isinstance(result, hw.CheckResult) and result.status == "incorrect", (answer, result)
    assert "imaginary" in hw.check_value(1 + 2j, 1.0).message


def test_checks_accept_the_keyword_names_their_signature_advertises():
    import inspect

    def loss(phi, target, w):
        return 0.5 * np.sum((phi.T @ w - target) ** 2)

    assert next(iter(inspect.signature(hw.check_gradient_function).parameters)) == "grad"
    result = hw.check_gradient_function(grad=lambda p, t, w: p @ (p.T @ w - t), loss=loss, shapes=[(3, 5), (5,), (3,)])
    assert result.status == "correct"
    assert hw.check_taylor_term_function(function=lambda e, v, p: ...).status == "unanswered"
    with pytest.raises(ValueError, match="check_value"):
        hw.check_value(1.0)  # the notebook's author forgot the reference: a usage error, raised


def test_messages_say_something_useful():
    q = x**4 / 4 - x**2 + x * y + y**2
    assert "close but not equal" in hw.check_step_bound(3.99, q, (x, y), (1, 0)).message
    assert "is 0" in hw.check_step_bound(0, q, (x, y), (1, 0)).message
    right = hw.check_step_bound(4, q, (x, y), (1, 0))
    assert str(right) == "✔ Correct" and "correct." not in right._repr_markdown_().lower().replace("**✔ correct**", "")
    html = hw.check_value(..., 1.0)._repr_html_()
    assert "`" not in html and "<code>...</code>" in html


def _rate(loss, grad, smoothness, w0, loss_min, n=60):
    w, squares = np.array(w0, dtype=float), []
    for _ in range(n):
        g = np.atleast_1d(np.asarray(grad(w), dtype=float))
        squares.append(float(g @ g))
        w = w - g / smoothness
    return dict(
        loss=loss,
        grad=grad,
        beta=smoothness,
        w0=np.array(w0, dtype=float),
        loss_min=loss_min,
        min_sq_grad=np.minimum.accumulate(squares),
    )


def test_rate_experiment_refuses_the_reviews_wrong_experiments():
    def soft(w):  # curvature 1 near the run (|w| < 1), 10 beyond |w| = 5
        return 0.5 * np.sum(w**2) + 4.5 * np.sum(np.maximum(np.abs(w) - 5, 0) ** 2) + 0.1 * np.sum(np.logaddexp(w, -w))

    def soft_grad(w):
        return w + 9 * np.sign(w) * np.maximum(np.abs(w) - 5, 0) + 0.1 * np.tanh(w)

    assert "beta is too small" in hw.check_rate_experiment(_rate(soft, soft_grad, 1.1, [1.0, -0.5], 0.0)).message
    right = _rate(soft, soft_grad, 10.1, [1.0, -0.5], 0.1 * 2 * np.log(2))
    assert hw.check_rate_experiment(right).status == "correct", hw.check_rate_experiment(right)
    assert "not a lower bound" in hw.check_rate_experiment(_rate(soft, soft_grad, 10.1, [1.0, -0.5], 0.3)).message
    assert "lower bound" in hw.check_rate_experiment(_rate(soft, soft_grad, 10.1, [1.0, -0.5], -1e9)).message
    assert "tighter beta" in hw.check_rate_experiment(_rate(soft, soft_grad, 1e6, [1.0, -0.5], 0.0)).message
    quadratic = _rate(lambda w: 0.5 * w @ w, lambda w: w, 1.0, [1.0, 2.0], 0.0)
    assert "plain quadratic" in hw.check_rate_experiment(quadratic).message


def test_rate_experiment_accepts_a_one_element_loss_and_a_large_loss():
    def loss(w):  # returns a 1-element array
        return np.array([np.logaddexp(w[0], -w[0]) + 0.05 * w[0] ** 2])

    def grad(w):
        return np.array([np.tanh(w[0]) + 0.1 * w[0]])

    assert hw.check_rate_experiment(_rate(loss, grad, 1.1, [3.0], 0.0)).status == "correct"

    def big(w):  # a large constant offset: finite differences lose digits to rounding
        return 1e9 + np.sum(np.logaddexp(w, -w)) + 0.05 * np.sum(w**2)

    def big_grad(w):
        return np.tanh(w) + 0.1 * w

    result = hw.check_rate_experiment(_rate(big, big_grad, 1.1, [3.0, -2.0], 1e9))
    assert "not the gradient" not in result.message and result.status == "correct", result


def test_minima_and_threshold_function_checks():
    assert hw.check_minima([0, 5], P2, x).status == "correct"
    assert "not a minimum" in hw.check_minima([0, 2, 5], P2, x).message
    assert "missing" in hw.check_minima([5], P2, x).message
    assert "smaller first" in hw.check_minima([5, 0], P2, x).message

    def right(f, x, x_star):
        return 2 / sp.diff(f, x, 2).subs(x, x_star)

    assert hw.check_threshold_function(right, cases=[(P2, 0), (P2, 5)]).status == "correct"
    assert hw.check_threshold_function(right, seed=12345).status == "correct"
    # A function that knows only p's two answers (what bracketing with check_threshold yields) fails other quartics.
    known = hw.check_threshold_function(
        lambda f, x, m: sp.Rational(1, 5) if m == 0 else sp.Rational(2, 15), cases=[(P2, 0), (P2, 5)]
    )
    assert known.status == "incorrect" and "case 3" in known.message
    assert "not a critical point" in hw.check_threshold(sp.Rational(1, 5), P2, x, 1).message
