"""Hand grading end to end (issue 13): `make grade`, then nbgrader's formgrader on the grading run's course folder,
then `make export-grades` (autograder/export_grades.py): the final grades, automatic plus manual.

The class is nbgrader's own example course (ps1 of bitdiddle and hacker, from the installed nbgrader package):
problem1 has auto-graded test cells and a written answer (`sum_of_squares_equation`, 1 point), problem2 two
written answers. The browser test (Playwright in Debian's chromium, the helpers of tests/test_browser.py) opens
the formgrader, checks it lists both graded submissions, saves a manual score and a comment on bitdiddle's
written answer, and finds both in the exported csv. Screenshots under artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import export_grades  # noqa: E402
from report import Row, alembic_in_process, write_csv, write_gradebook, write_lms_csv  # noqa: E402

NBGRADER = Path(__import__("nbgrader").__file__).parent
USER_GUIDE = NBGRADER / "docs" / "source" / "user_guide"
SCREENSHOTS = Path(os.environ.get("COURSE_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WRITTEN = "sum_of_squares_equation"   # ps1/problem1's written answer, 1 point
COMMENT = "Right idea; write the sum with its bounds."


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ export_grades.py alone (fast, no browser)
def _tiny_gradebook(tmp_path: Path) -> tuple[str, dict, dict]:
    """A gradebook as generate_assignment leaves it: assignment `hw` with one notebook, an auto-graded test cell
    (2 points) and a written answer (1 point); then report.write_gradebook's rows for three students."""
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        gb.add_assignment("hw")
        gb.add_notebook("hw", "hw")
        gb.add_grade_cell("test_f", "hw", "hw", max_score=2, cell_type="code")
        gb.add_grade_cell("explain", "hw", "hw", max_score=1, cell_type="markdown")
        gb.add_solution_cell("f", "hw", "hw")
        gb.add_solution_cell("explain", "hw", "hw")
    release = {("hw", "hw"): {"cells": [
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": False, "solution": True, "grade_id": "f"}}},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_f",
                                                        "points": 2}}},
        {"cell_type": "markdown", "metadata": {"nbgrader": {"grade": True, "solution": True, "grade_id": "explain",
                                                            "points": 1}}}]}}
    rows = {("ada", "hw"): Row("ada", "hw", score=2, max_score=2, scores={"test_f": 2.0}, folder="ada",
                               lms_id="1001"),
            ("jos-1a2b", "hw"): Row("José García", "hw", score=0, max_score=2, scores={"test_f": 0.0},
                                    folder="jos-1a2b", lms_id="1002"),
            ("bob", "hw"): Row("bob", "hw", status="missing", max_score=2, scores={"test_f": 0.0}, folder="bob",
                               messages=["nothing submitted for hw"])}
    nb_scores = {("ada", "hw", "hw"): {"test_f": 2.0}, ("jos-1a2b", "hw", "hw"): {"test_f": 0.0}}
    # nbgrader's exchange leaves a timestamp.txt; a student's own may not parse (the formgrader would fail on it)
    for folder, text in (("ada", "2026-12-01 10:00:00.5 UTC"), ("jos-1a2b", "tomorrow <b>")):
        (tmp_path / "submitted" / folder / "hw").mkdir(parents=True)
        (tmp_path / "submitted" / folder / "hw" / "timestamp.txt").write_text(text)
    write_gradebook(db_url, rows, {"hw": ["hw"]}, release, nb_scores, submitted=tmp_path / "submitted")
    return db_url, rows, nb_scores


def test_export_grades_adds_the_manual_score_and_comment_to_the_automatic_ones(tmp_path, monkeypatch):
    import nbgrader.api
    from nbgrader.api import Gradebook

    # a new gradebook asks alembic for nbgrader's schema version here, not with the `alembic` command
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", nbgrader.api.get_alembic_version)  # restored after
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    alembic_in_process()
    db_url, rows, _ = _tiny_gradebook(tmp_path)
    table = sorted(rows.values(), key=lambda r: r.folder)
    write_csv(tmp_path / "grades.csv", table)
    write_lms_csv(tmp_path / "lms_grades.csv", table)
    with Gradebook(db_url) as gb:
        # as make grade leaves it: the auto-scored cell is not flagged for manual grading, the written answer is
        for student in ("ada", "jos-1a2b"):
            assert not gb.find_grade("test_f", "hw", "hw", student).needs_manual_grade
            assert gb.find_grade("explain", "hw", "hw", student).needs_manual_grade
        version = gb.db.execute(__import__("sqlalchemy").text("SELECT version_num FROM alembic_version")).scalar()
        assert version == "e43177bfe90b"  # nbgrader 0.9.6's schema, as its `alembic heads` names it
        assert str(gb.find_submission("hw", "ada").timestamp) == "2026-12-01 10:00:00.500000"
        assert gb.find_submission("hw", "jos-1a2b").timestamp is None
        assert not (tmp_path / "submitted" / "jos-1a2b" / "hw" / "timestamp.txt").exists()
        # what the formgrader saves: ada's written answer 0.5 with a comment, José's test cell overridden to 1
        grade = gb.find_grade("explain", "hw", "hw", "ada")
        grade.manual_score, grade.needs_manual_grade = 0.5, False
        gb.find_comment("explain", "hw", "hw", "ada").manual_comment = COMMENT
        grade = gb.find_grade("test_f", "hw", "hw", "jos-1a2b")
        grade.manual_score, grade.extra_credit = 1.0, 0.25
        gb.db.commit()
    out = tmp_path / "final"
    assert subprocess.run([sys.executable, str(ROOT / "autograder" / "export_grades.py"), str(tmp_path),
                           "--out", str(out)], capture_output=True, text=True, timeout=300).returncode == 0
    final = {r["student"]: r for r in _csv(out / "final_grades.csv")}
    assert set(final) == {"ada", "José García", "bob"}
    ada, jose, bob = final["ada"], final["José García"], final["bob"]
    assert (ada["score"], ada["max_score"], ada["auto_score"], ada["manual_score"]) == ("2.5", "3", "2", "0.5")
    assert (ada["test_f"], ada["explain"], ada["needs_manual_grade"], ada["status"]) == ("2", "0.5", "", "ok")
    assert ada["comments"] == f"explain: {COMMENT}"
    # a manual override replaces the automatic score of its cell; extra credit adds; the written answer waits
    assert (jose["score"], jose["auto_score"], jose["manual_score"], jose["extra_credit"]) == ("1.25", "0", "1",
                                                                                              "0.25")
    assert (jose["needs_manual_grade"], jose["folder"]) == ("explain", "jos-1a2b")
    assert (bob["score"], bob["status"], bob["needs_manual_grade"]) == ("0", "missing", "")
    lms = {r["Student"]: r for r in _csv(out / "final_lms_grades.csv")}
    assert list(_csv(out / "final_lms_grades.csv")[0]) == ["Student", "ID", "hw"]
    assert {s: (r["ID"], r["hw"]) for s, r in lms.items()} == {
        "ada": ("1001", "2.5"), "José García": ("1002", "1.25"), "bob": ("", "0")}


def test_export_grades_without_a_gradebook_says_what_to_run(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "autograder" / "export_grades.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "make grade" in run.stderr


# ------------------------------------------------------------------ a graded class in the formgrader
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """ps1 of bitdiddle and hacker, graded by `make grade`'s grade.py: (GRADE_OUT, its rows)."""
    import grade

    if not USER_GUIDE.is_dir():
        pytest.skip("nbgrader's user guide (ps1) is not installed")
    tmp = tmp_path_factory.mktemp("formgrader")
    shutil.copytree(USER_GUIDE / "source", tmp / "source", ignore=shutil.ignore_patterns("header.ipynb"))
    for student in ("bitdiddle", "hacker"):
        shutil.copytree(USER_GUIDE / "submitted" / student, tmp / "submitted" / student)
    out = tmp / "out"
    rows = grade.run(grade.build_parser().parse_args(
        [str(tmp / "submitted"), "--out", str(out), "--source", str(tmp / "source"), "--cell-timeout", "60",
         "--notebook-timeout", "300"]))
    return out, {r.student: r for r in rows}


def test_make_grade_leaves_a_course_folder_for_the_formgrader(graded):
    from nbgrader.api import Gradebook

    out, rows = graded
    course = out / "work" / "course"
    assert {s: r.score for s, r in rows.items()} == {"bitdiddle": 1.5, "hacker": 3.0}
    config = (course / "nbgrader_config.py").read_text()
    assert f"c.CourseDirectory.db_url = 'sqlite:///{out / 'gradebook.db'}'" in config
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for student in rows:
            for nb in ("problem1", "problem2"):
                assert (course / "autograded" / student / "ps1" / f"{nb}.ipynb").is_file()
                flagged = {g.name: g.needs_manual_grade for g in gb.find_submission_notebook(nb, "ps1", student).grades}
                manual = {WRITTEN, "sum_of_squares_application"} if nb == "problem1" else {"part-a", "part-b"}
                assert {name for name, flag in flagged.items() if flag} >= manual, flagged
                # auto-scored cells are never flagged (a task cell, problem1's last, waits for the grader too)
                assert not any(flagged[g] for g in ("correct_squares", "squares_invalid_input") if nb == "problem1")


@contextlib.contextmanager
def _page(browser, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        yield page
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(SCREENSHOTS / f"{name}_FAILED.png"), full_page=True)
        raise
    finally:
        page.close()


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium (make test does so as root)")
def test_formgrader_lists_the_graded_class_and_a_manual_score_reaches_the_export(graded, tmp_path):
    from nbgrader.api import Gradebook
    from playwright.sync_api import expect, sync_playwright
    from test_browser import _serve

    out, rows = graded
    course = out / "work" / "course"
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        submission_id = gb.find_submission_notebook("problem1", "ps1", "bitdiddle").id
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with _serve(course, env, tmp_path) as (base, token), sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        try:
            with _page(chromium, "formgrader_submissions") as page:
                # log in where the instructor enters the formgrader (the login cookie's path is the URL's folder)
                page.goto(f"{base}/formgrader/manage_assignments?token={token}")
                page.get_by_text("ps1", exact=True).first.wait_for(timeout=120_000)
                page.goto(f"{base}/formgrader/manage_submissions/ps1")
                table = page.locator("table")
                for student in ("bitdiddle", "hacker"):
                    table.get_by_text(student, exact=True).first.wait_for(timeout=120_000)
            with _page(chromium, "formgrader_manual_grade") as page:
                page.goto(f"{base}/formgrader/manage_assignments?token={token}")
                page.get_by_text("ps1", exact=True).first.wait_for(timeout=120_000)
                page.goto(f"{base}/formgrader/submissions/{submission_id}/")
                score = page.locator(f"input.score#{WRITTEN}")
                score.wait_for(timeout=120_000)
                # the autograded notebook, with its outputs and the auto-scored cells' points (stock's too)
                for gid, points in (("correct_squares", "0"), ("squares_invalid_input", "1"),
                                    ("sum_of_squares_uses_squares", "0.5")):  # the automatic score: the placeholder
                    expect(page.locator(f"input.score#{gid}")).to_have_attribute("placeholder", points,
                                                                                   timeout=60_000)
                assert page.get_by_text("[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]").count() >= 1  # an output
                score.fill("0.5")
                score.press("Tab")
                comment = page.locator(f"textarea#{WRITTEN}-comment")
                comment.fill(COMMENT)
                comment.press("Tab")
                page.wait_for_function(
                    f"document.activeElement !== document.getElementById('{WRITTEN}-comment')", timeout=30_000)
                for _ in range(60):  # the formgrader saves through its REST API: wait for the gradebook
                    with Gradebook(db_url) as gb:
                        saved = (gb.find_grade(WRITTEN, "problem1", "ps1", "bitdiddle").manual_score,
                                 gb.find_comment(WRITTEN, "problem1", "ps1", "bitdiddle").manual_comment)
                    if saved == (0.5, COMMENT):
                        break
                    page.wait_for_timeout(500)
                assert saved == (0.5, COMMENT)
        finally:
            chromium.close()
    # the second command: make export-grades GRADE_OUT=<out> runs this
    run = subprocess.run([sys.executable, str(ROOT / "autograder" / "export_grades.py"), str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    final = {r["student"]: r for r in _csv(out / "final_grades.csv")}
    assert final["bitdiddle"][f"problem1/{WRITTEN}"] == "0.5"
    assert final["bitdiddle"]["comments"] == f"{WRITTEN}: {COMMENT}"
    assert (final["bitdiddle"]["score"], final["bitdiddle"]["manual_score"]) == ("2", "0.5")  # 1.5 automatic
    assert final["hacker"]["score"] == "3" and f"problem1/{WRITTEN}" in final["hacker"]["needs_manual_grade"].split()
    assert {r["Student"]: r["ps1"] for r in _csv(out / "final_lms_grades.csv")} == {"bitdiddle": "2", "hacker": "3"}
