"""`make export-grades GRADE_OUT=<dir>`: the final grades, automatic plus manual, after hand grading.

    python autograder/export_grades.py GRADE_OUT [--out DIR]

GRADE_OUT is the folder `make grade` wrote: its gradebook.db is the one the formgrader of GRADE_OUT/work/course
edits (manual scores, comments, extra credit). Reads it with nbgrader's own Gradebook API (a cell's score is
its manual score when the instructor gave one, else its automatic score, plus extra credit) and writes, beside
grades.csv (or under --out):

- final_grades.csv: one row per student and assignment: student (the id as the submission named it), assignment,
  score, max_score (every graded cell, written answers and tasks included), auto_score, manual_score,
  extra_credit, needs_manual_grade (the cells still waiting for a grader), status (from grades.csv), one column
  per graded cell (`<notebook>/<grade id>` when an assignment has several notebooks), comments (the grader's
  comments, `<grade id>: <text>`), folder;
- final_lms_grades.csv: the layout of lms_grades.csv (`Student`, `ID`, one column per assignment, the final
  score): Canvas and Moodle gradebooks import it as is.

Only reads the gradebook and the csv files of the grading run; nothing a student wrote is run or unpickled.
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from report import Row, scrub, write_lms_csv  # noqa: E402


@dataclass
class Final:
    student: str
    assignment: str
    folder: str
    lms_id: str = ""
    status: str = ""
    score: float = 0.0
    max_score: float = 0.0
    auto_score: float = 0.0
    manual_score: float = 0.0
    extra_credit: float = 0.0
    cells: dict = field(default_factory=dict)       # column -> final score of the cell
    waiting: list = field(default_factory=list)     # columns still needing a manual grade
    comments: list = field(default_factory=list)


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run_rows(grade_out: Path) -> tuple[dict, dict]:
    """From the grading run's csv files: {(folder, assignment): status} and {folder: (student, LMS id)}."""
    statuses, names = {}, {}
    lms_ids = {r.get("Student", ""): r.get("ID", "") for r in _read_csv(grade_out / "lms_grades.csv")}
    for r in _read_csv(grade_out / "grades.csv"):
        folder = r.get("folder") or r.get("student", "")
        statuses[(folder, r.get("assignment", ""))] = r.get("status", "")
        names[folder] = (r.get("student", folder), lms_ids.get(r.get("student", ""), ""))
    return statuses, names


def final_grades(db_url: str, statuses: dict, names: dict) -> list[Final]:
    """One Final per student and assignment of the gradebook (a student with nothing submitted scores 0)."""
    from nbgrader.api import Gradebook, MissingEntry

    warnings.filterwarnings("ignore", message=".*not in session.*")
    table = []
    with Gradebook(db_url) as gb:
        assignments = sorted(gb.assignments, key=lambda a: a.name)
        for student in sorted(gb.students, key=lambda s: s.id):
            shown, lms_id = names.get(student.id, (student.lms_user_id or student.id, ""))
            for assignment in assignments:
                several = len(assignment.notebooks) > 1
                row = Final(shown, assignment.name, student.id, lms_id, statuses.get((student.id, assignment.name),
                                                                                   ""))
                row.max_score = float(assignment.max_score or 0)
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row.status = row.status or "missing"
                    table.append(row)
                    continue
                for nb in sorted(submission.notebooks, key=lambda n: n.name):
                    for g in sorted(nb.grades, key=lambda g: g.name):
                        name = f"{nb.name}/{g.name}" if several else g.name
                        row.cells[name] = float(g.score or 0)
                        if g.manual_score is not None:
                            row.manual_score += float(g.manual_score)
                        elif g.auto_score is not None:
                            row.auto_score += float(g.auto_score)
                        row.extra_credit += float(g.extra_credit or 0)
                        if g.needs_manual_grade:
                            row.waiting.append(name)
                    for c in sorted(nb.comments, key=lambda c: c.name):
                        if c.manual_comment:
                            row.comments.append(f"{c.name}: {c.manual_comment}")
                row.score = round(float(submission.score or 0), 4)
                table.append(row)
    return table


def write_final_csv(path: Path, table: list[Final]) -> None:
    cells = list(dict.fromkeys(c for r in table for c in r.cells))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", "auto_score", "manual_score", "extra_credit",
                    "needs_manual_grade", "status", *cells, "comments", "folder"])
        for r in table:
            w.writerow(scrub([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}", f"{r.auto_score:g}",
                              f"{r.manual_score:g}", f"{r.extra_credit:g}", " ".join(r.waiting), r.status,
                              *[f"{r.cells[c]:g}" if c in r.cells else "" for c in cells],
                              " | ".join(r.comments), r.folder]))


def export(grade_out: Path, out: Path | None = None) -> list[Final]:
    """final_grades.csv and final_lms_grades.csv from GRADE_OUT's gradebook, under out (default: GRADE_OUT)."""
    grade_out = grade_out.resolve()
    db = grade_out / "gradebook.db"
    if not db.is_file():
        raise SystemExit(f"no gradebook in {grade_out}: run `make grade SUBMISSIONS=... GRADE_OUT={grade_out}` first")
    out = (out or grade_out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    table = final_grades(f"sqlite:///{db}", *run_rows(grade_out))
    write_final_csv(out / "final_grades.csv", table)
    write_lms_csv(out / "final_lms_grades.csv",
                  [Row(r.student, r.assignment, score=r.score, folder=r.folder, lms_id=r.lms_id) for r in table])
    waiting = sum(bool(r.waiting) for r in table)
    print(f"final grades: {out / 'final_grades.csv'} (LMS import: {out / 'final_lms_grades.csv'}); "
          f"{len(table)} rows, {waiting} still waiting for a manual grade")
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("grade_out", help="the folder `make grade` wrote (GRADE_OUT)")
    parser.add_argument("--out", default=None, help="where to write the final csv files (default: GRADE_OUT)")
    args = parser.parse_args(argv)
    export(Path(args.grade_out), Path(args.out) if args.out else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
