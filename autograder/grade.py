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
import queue
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from collect import Collected, collect, printable  # noqa: E402
from prepare import MAX_NOTEBOOK_BYTES, Prepared, prepare, unanswered  # noqa: E402,F401 (grade.prepare is API)
from report import (Row, cap_outputs, feedback_exporter, load_result, plot, points, print_summary,  # noqa: E402
                    scrub, write_autograded, write_csv, write_feedback, write_gradebook, write_lms_csv)
from sandbox import SANDBOX_FILES, Limits, bwrap_available  # noqa: E402

CONFIG_FILE = HERE / "nbgrader_config.py"
MAX_EXTRA_BYTES = 100 * 2**20


def load_config():
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE.name, str(CONFIG_FILE.parent)).load_config()


# ------------------------------------------------------------------ course set-up (nbgrader does this)
def course_layout(source_dir: Path) -> dict[str, list[str]]:
    """{assignment: [notebook names]} of the instructor's folder (solutions/)."""
    return {p.name: sorted(nb.stem for nb in p.glob("*.ipynb"))
            for p in sorted(source_dir.iterdir()) if p.is_dir() and not p.name.startswith(".")}


def prepare_course(source_dir: Path, course: Path, db_url: str, config, names: list[str] | None = None) -> None:
    """Copy the instructor notebooks of the named assignments to course/source and let nbgrader generate
    course/release and fill the gradebook."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    names = sorted(course_layout(source_dir)) if names is None else names
    for name in names:
        shutil.copytree(source_dir / name, course / "source" / name,
                        ignore=shutil.ignore_patterns(".*", "__pycache__", "logs"))
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    config.CourseDirectory.db_url = db_url
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for name in names:
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise SystemExit(f"nbgrader could not generate {name}:\n{result.get('error', '')}{result.get('log', '')}")


# ------------------------------------------------------------------ course set-up, continued
def give_cell_ids(course: Path, assignment: str, nb: str) -> None:
    """nbformat 4.0-4.4 notebooks have no cell ids, and the judge matches the release's cells to the source's by
    id: give both copies in the work course the same ids, by position (generate_assignment keeps every cell)."""
    paths = [course / kind / assignment / f"{nb}.ipynb" for kind in ("source", "release")]
    nbs = [json.loads(p.read_text()) for p in paths]
    if all(c.get("id") for n in nbs for c in n["cells"]) or len(nbs[0]["cells"]) != len(nbs[1]["cells"]):
        return
    for path, notebook in zip(paths, nbs):
        for i, cell in enumerate(notebook["cells"]):
            cell["id"] = f"cell-{i}"
        notebook["nbformat_minor"] = max(5, notebook.get("nbformat_minor", 0))
        path.write_text(json.dumps(notebook))


# ------------------------------------------------------------------ the batch
def grade_notebook(job: dict, timeout: float) -> dict:
    job_path = Path(job["out"]).with_suffix(".job.json")
    job_path.write_text(json.dumps(job))
    try:
        proc = subprocess.run([sys.executable, str(HERE / "trusted.py"), str(job_path)], cwd=job["trusted_dir"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
        if Path(job["out"]).is_file():
            return load_result(Path(job["out"]))
        return {"status": "error", "messages": [f"grader crashed: {proc.stdout.decode(errors='replace')[-500:]}"],
                "scores": {}, "feedback_cells": []}
    except subprocess.TimeoutExpired:
        return {"status": "limit", "messages": [f"time limit exceeded: the notebook ran longer than {timeout:.0f} s"],
                "scores": {}, "feedback_cells": []}
    except Exception as exc:  # noqa: BLE001 (one notebook's failure is its row's, never the batch's)
        return {"status": "error", "messages": [f"grader error: {type(exc).__name__}: {printable(str(exc))[:300]}"],
                "scores": {}, "feedback_cells": []}


@dataclass
class Batch:
    """What the stages pass on: the rows, the jobs to run, and per notebook the scores and feedback cells."""
    layout: dict
    present: list
    release: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)          # (folder, assignment) -> Row
    jobs: list = field(default_factory=list)          # ((folder, assignment, notebook), job dict)
    nb_scores: dict = field(default_factory=dict)     # (folder, assignment, notebook) -> {grade id: score}
    feedback: dict = field(default_factory=dict)      # (folder, assignment, notebook) -> path of capped cells


def column(batch: Batch, a: str, nb: str, gid: str) -> str:
    """The grades.csv column of a test cell: its grade id, prefixed by the notebook when the assignment has several
    (they may reuse grade ids)."""
    return gid if len(batch.layout[a]) == 1 else f"{nb}/{gid}"


def plan_jobs(batch: Batch, found: Collected, submitted: Path, work: Path, common: dict, sandbox_tests: set) -> None:
    """Prepare: a job per gradable notebook; a final row for what cannot be graded. One student's odd input is
    that row's message, never the batch's end."""
    for folder in sorted(found.folders):
        for a in batch.present:
            row = batch.rows[(folder, a)] = Row(printable(found.folders[folder]), a, folder=folder,
                                                lms_id=found.lms_ids.get(folder, ""))
            for nb in batch.layout[a]:
                for gid, pts in points(batch.release[(a, nb)]).items():
                    row.max_score += pts
                    row.scores[column(batch, a, nb, gid)] = 0.0
            row.messages += found.messages.get((folder, None), []) + found.messages.get((folder, a), [])
            status = found.status.get((folder, a)) or found.status.get((folder, None))
            if status:
                row.status = status
                continue
            try:
                _plan_row(batch, row, submitted / folder / a, work, common, a in sandbox_tests)
            except Exception as exc:  # noqa: BLE001
                row.status = "error"
                row.messages.append(f"grader error while reading the submission: {type(exc).__name__}: "
                                    f"{printable(str(exc))[:300]}")


def _plan_row(batch: Batch, row: Row, folder: Path, work: Path, common: dict, tests_in_sandbox: bool) -> None:
    a = row.assignment
    if not folder.is_dir():
        row.status = "missing"
        row.messages.append(f"nothing submitted for {a}")
        return
    nb_files = {f"{nb}.ipynb" for nb in batch.layout[a]}
    extra = sorted(printable(str(p.relative_to(folder))) for p in folder.rglob("*") if p.is_file()
                   and p.name not in nb_files)
    if extra:
        row.messages.append(f"extra files (copied next to the notebook, not graded): {', '.join(extra[:10])}")
    for nb in batch.layout[a]:
        release_nb = batch.release[(a, nb)]
        prepared = prepare(folder / f"{nb}.ipynb", release_nb)
        row.messages += prepared.warnings
        if prepared.fatal:
            row.status = "missing" if prepared.fatal.startswith("missing") else "malformed"
            row.messages.append(prepared.fatal)
            continue
        if unanswered(prepared.student_cells, release_nb):
            # nothing to run: every answer is still the stub (grading it would score 0 at full cost)
            row.messages.append(f"{nb}: no exercise answered (every solution cell still holds its stub)")
            continue
        key = f"{row.folder}__{a}__{nb}"
        scratch = work / "scratch" / key
        scratch.mkdir(parents=True)
        budget = MAX_EXTRA_BYTES
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.is_symlink() and p.stat().st_size <= budget:
                budget -= p.stat().st_size
                (scratch / p.relative_to(folder)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, scratch / p.relative_to(folder))
        trusted_dir = work / "trusted" / key
        trusted_dir.mkdir(parents=True)
        batch.jobs.append(((row.folder, a, nb), dict(
            common, source=str(work / "course" / "source" / a / f"{nb}.ipynb"),
            release=str(work / "course" / "release" / a / f"{nb}.ipynb"), student_cells=prepared.student_cells,
            scratch=str(scratch), trusted_dir=str(trusted_dir), tests_in_sandbox=tests_in_sandbox,
            out=str(work / "results" / f"{key}.json"))))


def merge(batch: Batch, results: dict, work: Path) -> None:
    """Judge results into rows; each notebook's capped feedback cells go to a file, not memory."""
    cells_dir = work / "feedback_cells"
    cells_dir.mkdir(exist_ok=True)
    for (folder, a, nb), result in results.items():
        row = batch.rows[(folder, a)]
        scores = batch.nb_scores[(folder, a, nb)] = {}
        for gid, value in (result.get("scores") or {}).items():
            try:
                score = float(value[0])
            except (TypeError, ValueError, IndexError):
                continue
            scores[gid] = score
            if column(batch, a, nb, gid) in row.scores:
                row.scores[column(batch, a, nb, gid)] = score
        if result.get("status", "error") != "ok":
            row.status = str(result.get("status", "error"))
        row.messages += [str(m) for m in result.get("messages") or []]
        row.seconds += float(result.get("seconds", 0.0) or 0.0)
        path = cells_dir / f"{folder}__{a}__{nb}.json"
        path.write_text(json.dumps(cap_outputs(result.get("feedback_cells") or [])))
        batch.feedback[(folder, a, nb)] = path
    for row in batch.rows.values():
        row.score = round(sum(row.scores.values()), 4)
        if row.status in ("missing",) or not batch.release:
            continue
        failed = []
        for nb in batch.layout[row.assignment]:
            for gid, pts in points(batch.release[(row.assignment, nb)]).items():
                got = row.scores.get(column(batch, row.assignment, nb, gid), 0.0)
                if got < pts:
                    failed.append(f"{column(batch, row.assignment, nb, gid)} {got:g}/{pts:g}")
        if failed:
            row.messages.append(f"failed checks: {', '.join(failed)}")
        row.messages = [scrub(m) for m in row.messages]


def report(batch: Batch, out: Path, course: Path, db_url: str) -> list[Row]:
    """grades.csv, lms_grades.csv, feedback HTML, autograded notebooks + gradebook for the formgrader, summary,
    plot. A notebook whose feedback fails to render gets a plain page; the other reports are still written."""
    write_gradebook(db_url, batch.rows, batch.layout, batch.release, batch.nb_scores)
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
    config = load_config()
    out = Path(args.out).resolve()
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty")
    work = out / "work"
    course = work / "course"
    submitted = course / "submitted"
    submitted.mkdir(parents=True)
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    clock = {"start": time.perf_counter()}
    source_dir = Path(args.source).resolve()
    layout = course_layout(source_dir)
    found = collect(Path(args.submissions).resolve(), submitted, layout, config)
    for note in found.notes:
        print("note:", printable(note))
    if not found.folders:
        raise SystemExit("no submission found")
    present = sorted({p.name for s in submitted.iterdir() for p in s.iterdir() if p.is_dir()}
                     | {a for (_f, a) in found.messages if a}) or sorted(layout)
    prepare_course(source_dir, course, db_url, config, present)
    for a in present:
        for nb in layout[a]:
            give_cell_ids(course, a, nb)
    batch = Batch(layout, present, release={(a, nb): json.loads((course / "release" / a / f"{nb}.ipynb").read_text())
                                            for a in present for nb in layout[a]})
    clock["prepare"] = time.perf_counter()
    libdir = work / "sandbox_lib"
    libdir.mkdir()
    for name in SANDBOX_FILES:
        shutil.copy(HERE / name, libdir / name)
    libdir.chmod(0o755)
    limits = Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                    memory_mb=args.memory_mb, processes=args.processes)
    ignore = str(config.IgnorePattern.pattern) if "IgnorePattern" in config else ""
    # Assignments whose tests must run inside the sandbox: the course's list (autograder/nbgrader_config.py,
    # measured: their tests hand TensorFlow graphs or Keras objects to the student's code) and --tests-in-sandbox.
    sandbox_tests = set(args.tests_in_sandbox)
    if "CourseGrader" in config and "tests_in_sandbox" in config.CourseGrader:
        sandbox_tests |= set(config.CourseGrader.tests_in_sandbox)
    common = {"libdir": str(libdir), "limits": asdict(limits), "ignore_pattern": ignore}
    plan_jobs(batch, found, submitted, work, common, sandbox_tests)
    (work / "results").mkdir()
    results = _run_jobs(batch.jobs, args.jobs, limits)
    clock["grade"] = time.perf_counter()
    merge(batch, results, work)
    table = report(batch, out, course, db_url)
    clock["report"] = time.perf_counter()
    write_similarity_report(submitted, out, course, found)
    clock["similarity"] = time.perf_counter()
    marks = list(clock.items())
    print("\ntimes: " + ", ".join(f"{name} {t - marks[i][1]:.1f} s" for i, (name, t) in enumerate(marks[1:])))
    print(f"grades: {out / 'grades.csv'} (LMS import: {out / 'lms_grades.csv'})\nfeedback: {out / 'feedback'}"
          f"\nsimilarity: {out / 'similarity.html'}"
          f"\nplot: {out / 'score_distribution.png'}\ngradebook: {out / 'gradebook.db'} (formgrader course: {course})")
    if not args.keep_work:
        for name in ("scratch", "trusted", "feedback_cells"):
            shutil.rmtree(work / name, ignore_errors=True)
    return table


def write_similarity_report(submitted: Path, out: Path, course: Path, found: Collected) -> None:
    """similarity.csv and similarity.html beside grades.csv (similarity.py). Only reads the notebooks, never
    runs them; a failure here is reported and never costs the grades already written."""
    try:
        import similarity

        similarity.write_similarity(submitted, out, course / "release",
                                    names={f: printable(o) for f, o in found.folders.items()})
    except Exception as exc:  # noqa: BLE001
        print(f"similarity report failed: {printable(str(exc))}")


def _run_jobs(jobs: list, n_workers: int, limits: Limits) -> dict:
    from tqdm import tqdm

    slots: queue.Queue = queue.Queue()
    for i in range(n_workers):
        slots.put(i)

    # One uid per worker slot AND per run: two grading runs at once (two instructors, or tests beside CI) never
    # share a uid, so neither's RLIMIT_NPROC budget is eaten by the other's fork bomb.
    uid_base = 100_000 + (os.getpid() % 100_000) * 64

    def one(job):
        slot = slots.get()
        try:
            return grade_notebook(dict(job, uid=uid_base + slot % 64), limits.notebook_seconds + 60)
        finally:
            slots.put(slot)

    results = {}
    with ThreadPoolExecutor(max_workers=n_workers) as pool, \
            tqdm(total=len(jobs), desc="grading", unit="nb", file=sys.stderr, disable=not jobs) as bar:
        futures = {pool.submit(one, job): key for key, job in jobs}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    return results


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
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not bwrap_available():
        print("bubblewrap (bwrap) is required to sandbox submissions: `sudo apt-get install bubblewrap`"
              " (make grade-deps as root)", file=sys.stderr)
        return 2
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
