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
import csv
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from sandbox import SANDBOX_FILES, Limits, bwrap_available  # noqa: E402

CONFIG_FILE = HERE / "nbgrader_config.py"
MAX_NOTEBOOK_BYTES = 50 * 2**20
MAX_EXTRA_BYTES = 100 * 2**20
MAX_ZIP_BYTES = 2 * 2**30
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


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
                        ignore=shutil.ignore_patterns(".*", "__pycache__"))
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    config.CourseDirectory.db_url = db_url
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for name in names:
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise SystemExit(f"nbgrader could not generate {name}:\n{result.get('error', '')}{result.get('log', '')}")


# ------------------------------------------------------------------ collecting submissions
def _safe_extract(archive: Path, dest: Path) -> list[str]:
    notes, total = [], 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = info.filename
            parts = Path(name).parts
            if info.is_dir() or name.startswith("/") or ".." in parts or "__MACOSX" in parts:
                continue
            total += info.file_size
            if total > MAX_ZIP_BYTES:
                notes.append("the zip holds more than 2 GB: the rest was skipped")
                break
            target = dest / Path(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    return notes


def _skip_links(folder, names):
    """Never follow a symlink out of a submission (it could point at solutions/ or another student's work)."""
    return [n for n in names if os.path.islink(os.path.join(folder, n))
            or n in (".ipynb_checkpoints", "__pycache__")]


def collect(submissions: Path, submitted: Path, layout: dict, config) -> list[str]:
    """Fill submitted/<student>/<assignment>/ from a folder or a zip; returns notes for the log."""
    notes = []
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        extracted = submitted.parent / "extracted"
        extracted.mkdir()
        notes += _safe_extract(submissions, extracted)
        submissions = extracted
    elif not submissions.is_dir():
        raise SystemExit(f"{submissions}: not a folder or a zip file")
    base = submissions / "submitted" if (submissions / "submitted").is_dir() else submissions
    nested = [p for p in base.iterdir() if p.is_dir() and any((p / a).is_dir() for a in layout)]
    if nested:
        for student in sorted(nested):
            if not STUDENT_ID.match(student.name):
                notes.append(f"skipped folder {student.name!r}: not a valid student id")
                continue
            for assignment in layout:
                if (student / assignment).is_dir():
                    shutil.copytree(student / assignment, submitted / student.name / assignment, symlinks=True,
                                    ignore=_skip_links)
        return notes
    # flat LMS export: <student>_<ids>_<notebook>.ipynb, matched with nbgrader's FileNameCollectorPlugin
    from nbgrader.plugins import FileNameCollectorPlugin

    plugin = FileNameCollectorPlugin(config=config)
    owner = {f"{nb}.ipynb": a for a, nbs in layout.items() for nb in nbs}
    for path in sorted(p for p in submissions.rglob("*") if p.is_file() and not p.is_symlink()):
        found = plugin.collect(path.name)
        if not found:
            notes.append(f"skipped {path.name}: its name does not match FileNameCollectorPlugin.named_regexp")
            continue
        file_id = re.sub(r"-\d+(\.ipynb)$", r"\1", found["file_id"])  # LMS resubmission suffix
        student = found["student_id"]
        if file_id not in owner or not STUDENT_ID.match(student):
            notes.append(f"skipped {path.name}: no assignment has a notebook {file_id}")
            continue
        target = submitted / student / owner[file_id] / file_id
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            notes.append(f"{student}: several files for {file_id}; the last in name order is graded")
        shutil.copyfile(path, target)
    return notes


# ------------------------------------------------------------------ checking a submitted notebook
@dataclass
class Prepared:
    student_cells: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    fatal: str | None = None


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src if isinstance(src, str) else ""


def unanswered(student_cells: dict, release_nb: dict) -> bool:
    """True when every autograded solution cell of the student notebook is still the release's stub."""
    stubs = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]).strip()
             for c in release_nb["cells"] if c["cell_type"] == "code"
             and c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    return bool(stubs) and all((student_cells.get(gid) or "").strip() in ("", stub) for gid, stub in stubs.items())


def prepare(path: Path, release_nb: dict) -> Prepared:
    """Read a submission defensively: the solution cells' code by grade_id, and what is wrong with it."""
    import nbformat

    out = Prepared()
    if not path.is_file():
        out.fatal = f"missing notebook: {path.name} was not submitted"
        return out
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        out.fatal = f"the notebook is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_BYTES // 2**20} MB limit"
        return out
    text = path.read_bytes()
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        out.fatal = f"the notebook is not valid JSON ({str(exc)[:120]}): open it in Jupyter, save, resubmit"
        return out
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", []), list):
        out.fatal = "the file is JSON but not a notebook"
        return out
    version = raw.get("nbformat")
    if version != 4:
        try:
            raw = json.loads(nbformat.writes(nbformat.reads(text.decode(), as_version=4)))
            out.warnings.append(f"notebook format {version} was converted to format 4")
        except Exception:  # noqa: BLE001
            out.fatal = f"unsupported notebook format {version!r} (expected 4)"
            return out
    if not isinstance(raw.get("cells"), list):
        out.fatal = "the notebook has no list of cells"
        return out
    if size > 5 * 2**20:
        out.warnings.append(f"the notebook is {size / 2**20:.0f} MB (large outputs?): outputs are never graded")
    kernel = (raw.get("metadata") or {}).get("kernelspec", {}) or {}
    want = release_nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if isinstance(kernel, dict) and kernel.get("name") not in (None, want):
        out.warnings.append(f"kernel {kernel.get('name')!r} ignored: graded with the course kernel ({want})")
    by_gid: dict[str, list] = {}
    by_id: dict[str, dict] = {}
    for cell in raw["cells"]:
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        if isinstance(nbg.get("grade_id"), str):
            by_gid.setdefault(nbg["grade_id"], []).append(cell)
        if isinstance(cell.get("id"), str):
            by_id[cell["id"]] = cell
    ids_changed = False
    for cell in release_nb["cells"]:
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        gid = nbg.get("grade_id")
        if not gid:
            continue
        found = by_gid.get(gid, [])
        if not found and cell.get("id") in by_id:
            found = [by_id[cell["id"]]]
            out.warnings.append(f"cell {gid} lost its nbgrader metadata; matched by its cell id")
        if len(found) > 1:
            out.warnings.append(f"cell {gid} appears {len(found)} times (duplicated cell): the first one is used")
        if found and found[0].get("id") != cell.get("id"):
            ids_changed = True
        if nbg.get("solution"):
            if not found:
                out.warnings.append(f"solution cell {gid} is missing (deleted?): its tests score 0")
            elif found[0].get("cell_type") != cell["cell_type"]:
                out.warnings.append(f"solution cell {gid} was changed from {cell['cell_type']} to "
                                    f"{found[0].get('cell_type')}: it cannot be graded")
            else:
                out.student_cells[gid] = _source(found[0])
        elif nbg.get("grade") or nbg.get("locked"):
            if not found or found[0].get("cell_type") != cell["cell_type"] or _source(found[0]) != _source(cell):
                what = "deleted" if not found else "changed"
                out.warnings.append(f"read-only cell {gid} was {what}: the original was used")
    if ids_changed:
        out.warnings.append("cell ids differ from the released notebook: cells were matched by nbgrader grade_id")
    return out


# ------------------------------------------------------------------ the batch
@dataclass
class Row:
    student: str
    assignment: str
    status: str = "ok"
    score: float = 0.0
    max_score: float = 0.0
    scores: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    seconds: float = 0.0


def grade_notebook(job: dict, timeout: float) -> dict:
    job_path = Path(job["out"]).with_suffix(".job.json")
    job_path.write_text(json.dumps(job))
    try:
        proc = subprocess.run([sys.executable, str(HERE / "trusted.py"), str(job_path)], cwd=job["trusted_dir"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
        if Path(job["out"]).is_file():
            return json.loads(Path(job["out"]).read_text())
        return {"status": "error", "messages": [f"grader crashed: {proc.stdout.decode(errors='replace')[-500:]}"],
                "scores": {}, "feedback_cells": []}
    except subprocess.TimeoutExpired:
        return {"status": "limit", "messages": [f"time limit exceeded: the notebook ran longer than {timeout:.0f} s"],
                "scores": {}, "feedback_cells": []}


def _points(release_nb: dict) -> dict[str, float]:
    return {c["metadata"]["nbgrader"]["grade_id"]: float(c["metadata"]["nbgrader"].get("points", 0))
            for c in release_nb["cells"]
            if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c["cell_type"] == "code"
            and not c["metadata"]["nbgrader"].get("solution")}


def run(args) -> list[Row]:
    import nbformat

    config = load_config()
    out = Path(args.out).resolve()
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty")
    work = out / "work"
    course = work / "course"
    course.mkdir(parents=True)
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    clock = {"start": time.perf_counter()}
    source_dir = Path(args.source).resolve()
    layout = course_layout(source_dir)
    submitted = course / "submitted"
    submitted.mkdir()
    notes = collect(Path(args.submissions).resolve(), submitted, layout, config)
    for note in notes:
        print("note:", note)
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir())
    present = sorted({a.name for s in submitted.iterdir() for a in s.iterdir() if a.is_dir()})
    if not students:
        raise SystemExit("no submission found")
    prepare_course(source_dir, course, db_url, config, present)
    clock["prepare"] = time.perf_counter()
    libdir = work / "sandbox_lib"
    libdir.mkdir()
    for name in SANDBOX_FILES:
        shutil.copy(HERE / name, libdir / name)
    libdir.chmod(0o755)
    limits = Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                    memory_mb=args.memory_mb, processes=args.processes)
    ignore = str(config.IgnorePattern.pattern) if "IgnorePattern" in config else ""
    release = {(a, nb): json.loads((course / "release" / a / f"{nb}.ipynb").read_text())
               for a in present for nb in layout[a]}
    # Assignments whose tests must run inside the sandbox: the course's list (autograder/nbgrader_config.py,
    # measured: their tests hand TensorFlow graphs or Keras objects to the student's code) and --tests-in-sandbox.
    sandbox_tests = set(args.tests_in_sandbox)
    if "CourseGrader" in config and "tests_in_sandbox" in config.CourseGrader:
        sandbox_tests |= set(config.CourseGrader.tests_in_sandbox)
    rows: dict[tuple, Row] = {}
    jobs = []
    for student in students:
        for a in present:
            row = rows[(student, a)] = Row(student, a)
            folder = submitted / student / a
            if not folder.is_dir():
                row.status, row.messages = "missing", [f"nothing submitted for {a}"]
            nb_files = {f"{nb}.ipynb" for nb in layout[a]}
            extra = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                           and p.name not in nb_files) if folder.is_dir() else []
            if extra:
                row.messages.append(f"extra files (copied next to the notebook, not graded): {', '.join(extra[:10])}")
            for nb in layout[a]:
                points = _points(release[(a, nb)])
                row.max_score += sum(points.values())
                for gid in points:
                    row.scores[gid] = 0.0
                if not folder.is_dir():
                    continue
                prepared = prepare(folder / f"{nb}.ipynb", release[(a, nb)])
                row.messages += prepared.warnings
                if prepared.fatal:
                    row.status = "missing" if prepared.fatal.startswith("missing") else "malformed"
                    row.messages.append(prepared.fatal)
                    continue
                if unanswered(prepared.student_cells, release[(a, nb)]):
                    # nothing to run: every answer is still the stub (grading it would score 0 at full cost)
                    row.messages.append(f"{nb}: no exercise answered (every solution cell still holds its stub)")
                    continue
                key = f"{student}__{a}__{nb}"
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
                jobs.append(((student, a, nb), {
                    "source": str(course / "source" / a / f"{nb}.ipynb"),
                    "release": str(course / "release" / a / f"{nb}.ipynb"),
                    "student_cells": prepared.student_cells, "scratch": str(scratch), "libdir": str(libdir),
                    "trusted_dir": str(trusted_dir), "limits": asdict(limits), "ignore_pattern": ignore,
                    "tests_in_sandbox": a in sandbox_tests,
                    "out": str(work / "results" / f"{key}.json")}))
    (work / "results").mkdir()
    results = _run_jobs(jobs, args.jobs, limits)
    clock["grade"] = time.perf_counter()
    feedback_nbs = {}
    for (student, a, nb), result in results.items():
        row = rows[(student, a)]
        for gid, (score, _max) in result.get("scores", {}).items():
            row.scores[gid] = score
        if result["status"] != "ok":
            row.status = result["status"]
        row.messages += result.get("messages", [])
        row.seconds += result.get("seconds", 0.0)
        feedback_nbs[(student, a, nb)] = result.get("feedback_cells", [])
    for row in rows.values():
        row.score = round(sum(row.scores.values()), 4)
    write_gradebook(db_url, rows, layout, release)
    clock["gradebook"] = time.perf_counter()
    write_feedback(out / "feedback", rows, layout, feedback_nbs, release)
    clock["feedback"] = time.perf_counter()
    table = sorted(rows.values(), key=lambda r: (r.assignment, r.student))
    write_csv(out / "grades.csv", table)
    print_summary(table)
    plot(out / "score_distribution.png", table)
    marks = list(clock.items())
    print("\ntimes: " + ", ".join(f"{name} {t - marks[i][1]:.1f} s" for i, (name, t) in enumerate(marks[1:])))
    print(f"grades: {out / 'grades.csv'}\nfeedback: {out / 'feedback'}\nplot: {out / 'score_distribution.png'}"
          f"\ngradebook: {out / 'gradebook.db'}")
    if not args.keep_work:
        shutil.rmtree(work / "scratch", ignore_errors=True)
        shutil.rmtree(work / "trusted", ignore_errors=True)
    return table


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


# ------------------------------------------------------------------ outputs
def write_gradebook(db_url: str, rows: dict, layout: dict, release: dict) -> None:
    """nbgrader's gradebook, written from this one process: one submission per row, auto scores per test."""
    import warnings

    from nbgrader.api import Gradebook

    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own autoflush notices
    with Gradebook(db_url) as gb:
        for (student, a), row in rows.items():
            if row.status == "missing" and not any(row.scores.values()):
                gb.update_or_create_student(student)
                continue
            gb.update_or_create_student(student)
            gb.update_or_create_submission(a, student)
            for nb in layout[a]:
                for gid in _points(release[(a, nb)]):
                    grade = gb.find_grade(gid, nb, a, student)
                    grade.auto_score = row.scores.get(gid, 0.0)
            gb.db.commit()


def write_feedback(folder: Path, rows: dict, layout: dict, feedback_nbs: dict, release: dict) -> None:
    import nbformat
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    import nbgrader

    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c = Config()
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = [str(base / "templates")]
    c.HTMLExporter.extra_template_paths = [str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    exporter = HTMLExporter(config=c)
    for (student, a), row in rows.items():
        for nb in layout[a]:
            cells = feedback_nbs.get((student, a, nb)) or []
            head = [f"**Grader report for {student}, {a}**: {row.score:g} / {row.max_score:g} points"
                    f" (status: {row.status})."]
            head += [f"- {m}" for m in row.messages]
            nb_dict = {"nbformat": 4, "nbformat_minor": 5, "metadata": release[(a, nb)]["metadata"],
                       "cells": [{"cell_type": "markdown", "metadata": {}, "source": "\n".join(head)}]
                       + [_clean_cell(c) for c in cells]}
            node = nbformat.from_dict(nb_dict)
            for i, cell in enumerate(node.cells):
                cell.setdefault("id", f"cell-{i}")
            resources = {"nbgrader": {"notebook": nb, "score": row.score, "max_score": row.max_score,
                                      "late_penalty": 0}}
            html, _ = exporter.from_notebook_node(node, resources=resources)
            target = folder / student / a / f"{nb}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")


def _clean_cell(cell: dict) -> dict:
    cell = dict(cell)
    if cell.get("cell_type") == "code":
        cell["outputs"] = cell.get("outputs") or []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    meta = cell.get("metadata") or {}
    nbg = meta.get("nbgrader")
    if nbg and nbg.get("grade"):
        nbg = dict(nbg)
        nbg.setdefault("score", 0.0 if nbg.get("solution") is False else None)
        nbg["score"] = nbg["score"] if nbg["score"] is not None else 0.0
        nbg.setdefault("points", 0.0)
        meta = dict(meta, nbgrader=nbg)
    cell["metadata"] = meta
    return cell


def write_csv(path: Path, table: list[Row]) -> None:
    gids = list(dict.fromkeys(g for r in table for g in r.scores))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", "status", *gids, "messages"])
        for r in table:
            w.writerow([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}", r.status,
                        *[f"{r.scores[g]:g}" if g in r.scores else "" for g in gids], " | ".join(r.messages)])


def print_summary(table: list[Row]) -> None:
    width = max([len(r.student) for r in table] + [7])
    print(f"\n{'student':<{width}}  {'assignment':<24} {'score':>11}  status     messages")
    for r in table:
        msg = "; ".join(r.messages)
        print(f"{r.student:<{width}}  {r.assignment:<24} {r.score:>5g} / {r.max_score:<3g}  {r.status:<9}  "
              f"{msg[:100] + ('…' if len(msg) > 100 else '')}")
    by_ex: dict[str, list[float]] = {}
    for r in table:
        for g, s in r.scores.items():
            by_ex.setdefault(g, []).append(s)
    if by_ex:
        print(f"\n{'exercise (test cell)':<40} {'mean':>6} {'min':>5} {'max':>5}  n")
        for g, s in by_ex.items():
            print(f"{g:<40} {sum(s) / len(s):>6.2f} {min(s):>5g} {max(s):>5g}  {len(s)}")


def plot(path: Path, table: list[Row]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    by_ex: dict[str, list[float]] = {}
    for r in table:
        for g, s in r.scores.items():
            by_ex.setdefault(f"{r.assignment}\n{g}", []).append(s)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(by_ex)), 4.5))
    rng = np.random.default_rng(0)
    for i, (name, scores) in enumerate(by_ex.items()):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(scores)), scores, alpha=0.6, label=None)
        ax.plot([i - 0.3, i + 0.3], [np.mean(scores)] * 2, color="black", lw=2,
                label="mean" if i == 0 else None)
    ax.set_xticks(range(len(by_ex)), list(by_ex), fontsize=7)
    ax.set_xlabel("exercise (test cell)")
    ax.set_ylabel("score (points)")
    ax.set_title(f"Score distribution per exercise ({len({r.student for r in table})} students)")
    if by_ex:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


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
