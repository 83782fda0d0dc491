"""Grading throughput: stock `nbgrader autograde` against our pipeline (autograder/grade.py), same submissions.

40 submissions of one small notebook (the autograder's NumPy-only fixture, tests/fixtures/autograder), half
perfect (5/5) and half partial (2/5). Prints both throughputs and their ratio, and checks that each pipeline
graded every submission exactly once with the expected score. `python bench/bench_grading.py [N]`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "autograder"))
import grade  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "autograder" / "solutions"
A = NB = "90_tiny"
ADD = "import numpy as np\n\n\ndef add_one(x):\n    return np.asarray(x, dtype=np.float64) + 1.0\n"
MEANS = "def row_means(a):\n    return np.asarray(a, dtype=np.float64).mean(axis=1)\n"
WRONG = "def row_means(a):\n    return np.asarray(a).sum(axis=1)\n"


def make_submissions(release_nb: dict, folder: Path, n: int) -> dict[str, float]:
    expected = {}
    for i in range(n):
        student = f"s{i:03d}"
        nb = copy.deepcopy(release_nb)
        for cell in nb["cells"]:
            gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if gid == "t90_add_one":
                cell["source"] = ADD
            elif gid == "t90_row_means":
                cell["source"] = MEANS if i % 2 == 0 else WRONG
        target = folder / student / A / f"{NB}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(nb))
        expected[student] = 5.0 if i % 2 == 0 else 2.0
    return expected


def stock(course: Path, submissions: Path) -> tuple[float, dict[str, float]]:
    shutil.copytree(submissions, course / "submitted")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = %r\nc.CourseDirectory.db_url = %r\n"
        "c.CourseDirectory.source_directory = 'source'\nc.CourseDirectory.release_directory = 'release'\n"
        % (str(course), f"sqlite:///{course / 'gradebook.db'}"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", A, "--force"],
                          cwd=course, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        print(proc.stderr[-2000:])
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(
            "SELECT student.id, SUM(grade.auto_score) FROM grade JOIN submitted_notebook ON grade.notebook_id ="
            " submitted_notebook.id JOIN submitted_assignment ON submitted_notebook.assignment_id ="
            " submitted_assignment.id JOIN student ON submitted_assignment.student_id = student.id"
            " GROUP BY submitted_assignment.id").fetchall()
    scores: dict[str, float] = {}
    for student, score in rows:
        scores[student] = scores.get(student, 0) + 1000 if student in scores else float(score or 0)
    return seconds, scores


def ours(submissions: Path, out: Path) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    rows = grade.run(grade.build_parser().parse_args([str(submissions), "--out", str(out), "--source",
                                                      str(FIXTURES)]))
    seconds = time.perf_counter() - start
    scores: dict[str, float] = {}
    for r in rows:
        scores[r.student] = scores.get(r.student, 0) + 1000 if r.student in scores else r.score
    return seconds, scores


def check(name: str, scores: dict, expected: dict) -> bool:
    lost = sorted(set(expected) - set(scores))
    wrong = sorted(s for s in expected if s in scores and scores[s] != expected[s])
    ok = not lost and not wrong and len(scores) == len(expected)
    print(f"{name}: {len(scores)} graded, lost {len(lost)}, duplicated or wrong {len(wrong)}"
          + ("" if ok else f"  <- {lost[:5]} {wrong[:5]}"))
    return ok


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        course = tmp / "course"
        grade.prepare_course(FIXTURES, course, f"sqlite:///{course / 'gradebook.db'}", grade.load_config(), [A])
        release_nb = json.loads((course / "release" / A / f"{NB}.ipynb").read_text())
        expected = make_submissions(release_nb, tmp / "submitted", n)
        t_stock, s_stock = stock(course, tmp / "submitted")
        t_ours, s_ours = ours(tmp / "submitted", tmp / "ours")
    print(f"\n{n} submissions of {A} on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})")
    print(f"stock nbgrader autograde : {t_stock:7.1f} s  {n / t_stock * 60:6.1f} submissions/min")
    print(f"autograder/grade.py      : {t_ours:7.1f} s  {n / t_ours * 60:6.1f} submissions/min"
          f"  (sandboxed, {os.cpu_count()} workers, with feedback, csv and plot)")
    print(f"speed-up                 : {t_stock / t_ours:.2f}x")
    ok = check("stock", s_stock, expected) & check("ours", s_ours, expected)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
