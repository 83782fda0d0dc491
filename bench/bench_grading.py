"""Grading throughput: stock `nbgrader autograde` against our pipeline (autograder/grade.py), same submissions,
same run, same machine.

Cases (each graded by both pipelines, one after the other):
- `03` and `09` (by default; any course notebook by its number): N perfect submissions of the course notebooks
  03_backprop_by_hand and 09_convolutions (the student notebook with the instructor's answers, as
  tests/test_grading_course.py builds them);
- `tiny`: N submissions of the autograder's NumPy-only fixture (tests/fixtures/autograder), half perfect (5/5)
  and half partial (2/5).

Prints per case both throughputs and their ratio, the machine they ran on, and checks that each pipeline graded
every submission exactly once with the expected score (exit status 1 otherwise).

    python bench/bench_grading.py [--n N] [--tiny-n N] [--cases 03,09,tiny]

`make bench` runs it with its small defaults (N=2 course submissions, 8 tiny ones); the figures in
autograder/README.md were measured with them.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
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
from report import points  # noqa: E402

TINY_SOURCE = ROOT / "tests" / "fixtures" / "autograder" / "solutions"
TINY = "90_tiny"
ADD = "import numpy as np\n\n\ndef add_one(x):\n    return np.asarray(x, dtype=np.float64) + 1.0\n"
MEANS = "def row_means(a):\n    return np.asarray(a, dtype=np.float64).mean(axis=1)\n"
WRONG = "def row_means(a):\n    return np.asarray(a).sum(axis=1)\n"
# every course notebook by its number ("03", "09", ...): `--cases 00,01,...,12` compares them all
COURSE = {p.name[:2]: p.name for p in sorted((ROOT / "solutions").iterdir()) if p.is_dir() and p.name[:2].isdigit()}
CELL_TIMEOUT = 900  # a cell of 09 trains a CNN: minutes on a busy 2-core machine, for both pipelines


def _with_answers(student_nb: dict, answers: dict) -> dict:
    """A copy of the notebook whose cells named in answers (by grade id) hold those sources."""
    return dict(student_nb, cells=[
        dict(c, source=answers.get(c["metadata"].get("nbgrader", {}).get("grade_id"), c["source"]))
        for c in copy.deepcopy(student_nb["cells"])])


def _write(folder: Path, student: str, assignment: str, nb: dict) -> None:
    target = folder / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(nb))


def tiny_submissions(release_nb: dict, folder: Path, n: int) -> dict[str, float]:
    expected = {}
    for i in range(n):
        student = f"s{i:03d}"
        _write(folder, student, TINY, _with_answers(release_nb, {"t90_add_one": ADD,
                                                                 "t90_row_means": MEANS if i % 2 == 0 else WRONG}))
        expected[student] = 5.0 if i % 2 == 0 else 2.0
    return expected


def course_submissions(assignment: str, release_nb: dict, folder: Path, n: int) -> dict[str, float]:
    """N perfect submissions: the student notebook (notebooks/) with the instructor's answers (solutions/)."""
    source = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    student_nb = json.loads((ROOT / "notebooks" / assignment / f"{assignment}.ipynb").read_text())
    full = sum(points(release_nb).values())
    for i in range(n):
        _write(folder, f"s{i:03d}", assignment, _with_answers(student_nb, answers))
    return {f"s{i:03d}": full for i in range(n)}


def _scores(db_path: Path) -> dict[str, float]:
    """Automatic score per student in a gradebook; a student graded twice scores +1000 (seen as wrong)."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT student.id, SUM(grade.auto_score) FROM grade JOIN submitted_notebook ON grade.notebook_id ="
            " submitted_notebook.id JOIN submitted_assignment ON submitted_notebook.assignment_id ="
            " submitted_assignment.id JOIN student ON submitted_assignment.student_id = student.id"
            " GROUP BY submitted_assignment.id").fetchall()
    scores: dict[str, float] = {}
    for student, score in rows:
        scores[student] = scores[student] + 1000 if student in scores else round(float(score or 0), 4)
    return scores


def stock(course: Path, submissions: Path, assignment: str) -> tuple[float, dict[str, float]]:
    """`nbgrader autograde` as an instructor runs it: the course's nbgrader settings (IgnorePattern included),
    one Jupyter kernel per notebook, sequential, no sandbox."""
    shutil.copytree(submissions, course / "submitted")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(ROOT / 'autograder' / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(course / 'gradebook.db')!r}\n"
        "c.CourseDirectory.source_directory = 'source'\nc.CourseDirectory.release_directory = 'release'\n"
        f"c.Execute.timeout = {CELL_TIMEOUT}\n")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", assignment, "--force"],
                          cwd=course, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        print(proc.stderr[-2000:])
    return seconds, _scores(course / "gradebook.db")


def ours(submissions: Path, out: Path, source: Path) -> tuple[float, dict[str, float]]:
    """`make grade`: grade.py with its defaults (one worker per core), feedback, csv, plot and similarity
    included."""
    start = time.perf_counter()
    rows = grade.run(grade.build_parser().parse_args(
        [str(submissions), "--out", str(out), "--source", str(source), "--cell-timeout", str(CELL_TIMEOUT)]))
    seconds = time.perf_counter() - start
    scores: dict[str, float] = {}
    for r in rows:
        scores[r.student] = scores[r.student] + 1000 if r.student in scores else r.score
    return seconds, scores


def check(name: str, scores: dict, expected: dict) -> bool:
    lost = sorted(set(expected) - set(scores))
    wrong = sorted(s for s in expected if s in scores and scores[s] != expected[s])
    ok = not lost and not wrong and len(scores) == len(expected)
    print(f"  {name}: {len(scores)} graded, lost {len(lost)}, duplicated or wrong {len(wrong)}"
          + ("" if ok else f"  <- {lost[:5]} {[(s, scores[s], expected[s]) for s in wrong[:5]]}"))
    return ok


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({model}), load average {os.getloadavg()[0]:.1f}"


def code_state() -> str:
    """The commit measured, and the grader files that differ from it (a shared working tree)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "autograder"], cwd=ROOT, capture_output=True,
                               text=True, timeout=30).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "code: unknown (no git)"
    changed = sorted(Path(line[3:]).name for line in dirty if line[3:].endswith(".py"))
    return f"code: {head or 'unknown'}" + (f" + uncommitted {', '.join(changed)}" if changed else "")


def bench_case(case: str, n: int, tmp: Path) -> tuple[float, float, bool]:
    assignment, source = (TINY, TINY_SOURCE) if case == "tiny" else (COURSE[case], ROOT / "solutions")
    course = tmp / "stock"
    grade.prepare_course(source, course, f"sqlite:///{course / 'gradebook.db'}", grade.load_config(), [assignment])
    release_nb = json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text())
    if case == "tiny":
        expected = tiny_submissions(release_nb, tmp / "submitted", n)
    else:
        expected = course_submissions(assignment, release_nb, tmp / "submitted", n)
    t_stock, s_stock = stock(course, tmp / "submitted", assignment)
    t_ours, s_ours = ours(tmp / "submitted", tmp / "ours", source)
    print(f"\n{case}: {n} submissions of {assignment}")
    ok = check("stock", s_stock, expected) & check("ours", s_ours, expected)
    return t_stock, t_ours, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2, help="perfect submissions per course notebook")
    parser.add_argument("--tiny-n", type=int, default=8, help="submissions of the tiny fixture")
    parser.add_argument("--cases", default="03,09,tiny")
    args = parser.parse_args(argv)
    results, ok = {}, True
    for case in [c for c in args.cases.split(",") if c]:
        n = args.tiny_n if case == "tiny" else args.n
        with tempfile.TemporaryDirectory(prefix=f"bench-grading-{case}-") as tmp:
            t_stock, t_ours, good = bench_case(case, n, Path(tmp))
        results[case] = (n, t_stock, t_ours)
        ok &= good
    print(f"\ngrading throughput, same submissions, same run: {machine()}\n{code_state()}")
    print(f"{'case':<6} {'n':>3} {'stock nbgrader autograde':>28} {'grade.py (make grade)':>28}  ratio")
    for case, (n, t_stock, t_ours) in results.items():
        print(f"{case:<6} {n:>3} {t_stock:8.1f} s {n / t_stock * 60:7.1f} subs/min   {t_ours:8.1f} s "
              f"{n / t_ours * 60:7.1f} subs/min  {t_stock / t_ours:5.2f}x")
    print("(grade.py: sandboxed, one worker per core, feedback HTML, csv, plot and similarity included; stock: "
          "sequential, one Jupyter kernel per notebook, no sandbox)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
