"""Prepare stage for a whole class, and the judge's results back into rows.

`plan_jobs` turns what collect.py found into one row per student and assignment and one job per gradable
notebook (a JSON-able dict: the student's cells, a private copy of the student's files, the instructor's source
and release notebooks, the limits); what cannot be graded gets its final row here. `merge` puts the results of
the run stage into the rows. One student's odd input is that row's message, never the batch's end."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from collect import Collected, printable
from instructor_course import expanded_test_sources
from prepare import prepare, unanswered
from report import Row, cap_outputs, points, scrub
from settings import Settings

MAX_EXTRA_BYTES = 100 * 2**20   # a submission's files copied into its sandbox, all together


@dataclass
class Batch:
    """What the stages pass on: the rows, the jobs to run, and per notebook the scores and feedback cells."""
    layout: dict                                      # assignment -> [notebook names]
    present: list                                     # assignments graded in this run
    release: dict = field(default_factory=dict)       # (assignment, notebook) -> release notebook
    points: dict = field(default_factory=dict)        # (assignment, notebook) -> {grade id: points}
    rows: dict = field(default_factory=dict)          # (folder, assignment) -> Row
    jobs: list = field(default_factory=list)          # ((folder, assignment, notebook), job dict)
    nb_scores: dict = field(default_factory=dict)     # (folder, assignment, notebook) -> {grade id: score}
    feedback: dict = field(default_factory=dict)      # (folder, assignment, notebook) -> path of capped cells

    def __post_init__(self):
        self.points = {key: points(nb) for key, nb in self.release.items()}

    def column(self, a: str, nb: str, gid: str) -> str:
        """The grades.csv column of a test cell: its grade id, prefixed by the notebook when the assignment has
        several (they may reuse grade ids)."""
        return gid if len(self.layout[a]) == 1 else f"{nb}/{gid}"


def plan_jobs(batch: Batch, found: Collected, settings: Settings, libdir: Path) -> None:
    common = {"libdir": str(libdir), "limits": asdict(settings.limits), "ignore_pattern": settings.ignore_pattern}
    test_sources = {}
    for a in batch.present:
        for nb in batch.layout[a]:
            source = json.loads((settings.course / "source" / a / f"{nb}.ipynb").read_text())
            test_sources[(a, nb)] = expanded_test_sources(settings.db_url, a, nb, source)
    for folder in sorted(found.folders):
        for a in batch.present:
            row = batch.rows[(folder, a)] = Row(printable(found.folders[folder]), a, folder=folder,
                                                lms_id=found.lms_ids.get(folder, ""))
            for nb in batch.layout[a]:
                for gid, pts in batch.points[(a, nb)].items():
                    row.max_score += pts
                    row.scores[batch.column(a, nb, gid)] = 0.0
            row.messages += found.messages.get((folder, None), []) + found.messages.get((folder, a), [])
            status = found.status.get((folder, a)) or found.status.get((folder, None))
            if status:
                row.status = status
                continue
            job_common = dict(common, tests_in_sandbox=a in settings.sandbox_tests)
            try:
                _plan_row(batch, row, settings.submitted / folder / a, settings.work, job_common, test_sources)
            except Exception as exc:  # noqa: BLE001
                row.status = "error"
                row.messages.append(f"grader error while reading the submission: {type(exc).__name__}: "
                                    f"{printable(str(exc))[:300]}")


def _submitted_files(folder: Path) -> list[Path]:
    """The regular files of a submission folder (collect.py copied no links), in a stable order."""
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()]


def _plan_row(batch: Batch, row: Row, folder: Path, work: Path, common: dict, test_sources: dict) -> None:
    a = row.assignment
    if not folder.is_dir():
        row.status = "missing"
        row.messages.append(f"nothing submitted for {a}")
        return
    files = _submitted_files(folder)
    nb_files = {f"{nb}.ipynb" for nb in batch.layout[a]}
    extra = [printable(str(p.relative_to(folder))) for p in files if p.name not in nb_files]
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
        for p in files:
            size = p.stat().st_size
            if size <= budget:
                budget -= size
                (scratch / p.relative_to(folder)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, scratch / p.relative_to(folder))
        trusted_dir = work / "trusted" / key
        trusted_dir.mkdir(parents=True)
        batch.jobs.append(((row.folder, a, nb), dict(
            common, source=str(work / "course" / "source" / a / f"{nb}.ipynb"),
            release=str(work / "course" / "release" / a / f"{nb}.ipynb"), student_cells=prepared.student_cells,
            test_sources=test_sources.get((a, nb), {}), scratch=str(scratch), trusted_dir=str(trusted_dir),
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
            if batch.column(a, nb, gid) in row.scores:
                row.scores[batch.column(a, nb, gid)] = score
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
        failed = [f"{batch.column(row.assignment, nb, gid)} {got:g}/{pts:g}"
                  for nb in batch.layout[row.assignment]
                  for gid, pts in batch.points[(row.assignment, nb)].items()
                  if (got := row.scores.get(batch.column(row.assignment, nb, gid), 0.0)) < pts]
        if failed:
            row.messages.append(f"failed checks: {', '.join(failed)}")
        row.messages = [scrub(m) for m in row.messages]
