"""`make grade SUBMISSIONS=<folder or zip>`: autograde every submission, sandboxed and in parallel.

    python autograder/grade.py SUBMISSIONS [--out DIR] [--source DIR] [--jobs N] [--cell-timeout S]
                               [--notebook-timeout S] [--memory-mb MB] [--processes N]

SUBMISSIONS is nbgrader's layout (`<folder>/[submitted/]<student>/<assignment>/<notebook>.ipynb`) or a zip
holding that layout or files named like an LMS export (nbgrader's zip_collect convention:
FileNameCollectorPlugin.named_regexp in nbgrader_config.py). Everything is written under --out (default
autograder/work/grades-<time>/): grades.csv, feedback/<student>/<assignment>/<notebook>.html,
score_distribution.png, gradebook.db (nbgrader's, for the formgrader) and the work folders. Nothing in the
course directory changes. See autograder/README.md for the design and its guarantees.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from batch import Batch, merge, plan_jobs  # noqa: E402
from collect import Collected, collect, printable  # noqa: E402,F401 (grade.collect, grade.printable are API)
from instructor_course import course_layout, give_cell_ids, prepare_course  # noqa: E402
from jobs import grade_notebook, run_jobs  # noqa: E402,F401 (grade.grade_notebook is API)
from prepare import prepare  # noqa: E402,F401 (grade.prepare is API)
from report import (Row, feedback_exporter, plot, print_summary, write_autograded, write_csv,  # noqa: E402
                    write_feedback, write_gradebook, write_lms_csv)
from sandbox import SANDBOX_FILES, Limits, bwrap_available  # noqa: E402
from settings import Settings, load_config  # noqa: E402,F401 (grade.load_config is API)


# ------------------------------------------------------------------ the stages
def collect_stage(settings: Settings, layout: dict) -> Collected:
    """Collect: every student's files into the work course's submitted/ folder (links never followed)."""
    if settings.out.exists() and any(settings.out.iterdir()):
        raise SystemExit(f"{settings.out} exists and is not empty")
    settings.submitted.mkdir(parents=True)
    found = collect(settings.submissions, settings.submitted, layout, settings.config)
    for note in found.notes:
        print("note:", printable(note))
    if not found.folders:
        raise SystemExit("no submission found")
    return found


def prepare_stage(settings: Settings, layout: dict, found: Collected) -> Batch:
    """Prepare: nbgrader generates the release of each submitted assignment into the work course and fills the
    gradebook; then a row per student and assignment and a job per gradable notebook."""
    submitted = settings.submitted
    present = sorted({p.name for s in submitted.iterdir() for p in s.iterdir() if p.is_dir()}
                     | {a for (_f, a) in found.messages if a}) or sorted(layout)
    prepare_course(settings.source_dir, settings.course, settings.db_url, settings.config, present)
    for a in present:
        for nb in layout[a]:
            give_cell_ids(settings.course, a, nb)
    batch = Batch(layout, present, release={
        (a, nb): json.loads((settings.course / "release" / a / f"{nb}.ipynb").read_text())
        for a in present for nb in layout[a]})
    libdir = settings.work / "sandbox_lib"  # the student process's code, read-only in the sandbox
    libdir.mkdir()
    for name in SANDBOX_FILES:
        shutil.copy(HERE / name, libdir / name)
    libdir.chmod(0o755)
    plan_jobs(batch, found, settings, libdir)
    (settings.work / "results").mkdir()
    return batch


def report_stage(batch: Batch, settings: Settings) -> list[Row]:
    """grades.csv, lms_grades.csv, feedback HTML, autograded notebooks + gradebook for the formgrader, summary,
    plot. A notebook whose feedback fails to render gets a plain page; the other reports are still written."""
    out, course, db_url = settings.out, settings.course, settings.db_url
    write_gradebook(db_url, batch.rows, batch.layout, batch.release, batch.nb_scores, submitted=settings.submitted)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.db_url = {db_url!r}\n")
    exporter = feedback_exporter()
    for (folder, a), row in batch.rows.items():
        for nb in batch.layout[a]:
            path = batch.feedback.get((folder, a, nb))
            cells = json.loads(path.read_text()) if path else []
            metadata = batch.release[(a, nb)]["metadata"]
            write_feedback(exporter, out / "feedback" / folder / a / f"{nb}.html", row, nb, cells, metadata)
            if cells:
                write_autograded(course / "autograded" / folder / a / f"{nb}.ipynb", cells, metadata)
    table = sorted(batch.rows.values(), key=lambda r: (r.assignment, r.folder))
    write_csv(out / "grades.csv", table)
    write_lms_csv(out / "lms_grades.csv", table)
    print_summary(table)
    plot(out / "score_distribution.png", table)
    return table


def run(args) -> list[Row]:
    """collect -> prepare -> run (sandbox + judge, in parallel) -> report."""
    settings = Settings.from_args(args)
    layout = course_layout(settings.source_dir)
    clock = [("start", time.perf_counter())]
    found = collect_stage(settings, layout)
    batch = prepare_stage(settings, layout, found)
    clock.append(("prepare", time.perf_counter()))
    results = run_jobs(batch.jobs, settings)
    clock.append(("grade", time.perf_counter()))
    merge(batch, results, settings.work)
    table = report_stage(batch, settings)
    clock.append(("report", time.perf_counter()))
    write_similarity_report(settings, found)
    clock.append(("similarity", time.perf_counter()))
    print("\ntimes: " + ", ".join(f"{name} {t - clock[i][1]:.1f} s" for i, (name, t) in enumerate(clock[1:])))
    out = settings.out
    print(f"grades: {out / 'grades.csv'} (LMS import: {out / 'lms_grades.csv'})\nfeedback: {out / 'feedback'}"
          f"\nsimilarity: {out / 'similarity.html'}\nplot: {out / 'score_distribution.png'}"
          f"\ngradebook: {out / 'gradebook.db'} (formgrader course: {settings.course})")
    if not settings.keep_work:
        for name in ("scratch", "trusted", "feedback_cells"):
            shutil.rmtree(settings.work / name, ignore_errors=True)
    return table


def write_similarity_report(settings: Settings, found: Collected) -> None:
    """similarity.csv and similarity.html beside grades.csv (similarity.py). Only reads the notebooks, never
    runs them; a failure here is reported and never costs the grades already written."""
    try:
        import similarity

        similarity.write_similarity(settings.submitted, settings.out, settings.course / "release",
                                    names={f: printable(o) for f, o in found.folders.items()})
    except Exception as exc:  # noqa: BLE001
        print(f"similarity report failed: {printable(str(exc))}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("submissions")
    parser.add_argument("--out", default=str(ROOT / "autograder" / "work" / time.strftime("grades-%Y%m%d-%H%M%S")))
    parser.add_argument("--source", default=str(ROOT / "solutions"), help="instructor notebooks (solutions/)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_seconds)
    parser.add_argument("--notebook-timeout", type=float, default=Limits.notebook_seconds)
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb)
    parser.add_argument("--processes", type=int, default=Limits.processes)
    parser.add_argument("--keep-work", action="store_true", help="keep the scratch and trusted folders")
    parser.add_argument("--tests-in-sandbox", default=[], type=lambda text: [a for a in text.split(",") if a],
                        help="comma-separated assignments whose test cells run inside the student's sandbox "
                             "(for tests that cannot cross a process boundary; lower assurance)")
    parser.add_argument("--scheduler", default="", help="grade on the Dask cluster of this scheduler, "
                        "tcp://HOST:8786 (workers: make grade-worker; see autograder/README.md)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not args.scheduler and not bwrap_available():  # on a cluster, only the workers run submissions
        print("bubblewrap (bwrap) is required to sandbox submissions: `sudo apt-get install bubblewrap`"
              " (make grade-deps as root)", file=sys.stderr)
        return 2
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
