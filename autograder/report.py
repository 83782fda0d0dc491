"""Report: the last stage of grading. grades.csv, an LMS import CSV, HTML feedback, nbgrader's gradebook and
the formgrader's autograded notebooks, the terminal summary and the score plot.

Everything here may hold strings a student controls (file names, ids, source, outputs, messages): they are
scrubbed of lone surrogates (`scrub`) before any file is written, HTML-escaped wherever they reach HTML outside a
code cell, and outputs are capped per cell and per notebook before they are kept in memory or written.
"""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from collect import printable
from needed_cells import is_test_cell

MAX_CELL_OUTPUT = 1 * 2**20        # characters of outputs kept per cell in the feedback
MAX_NOTEBOOK_OUTPUT = 8 * 2**20    # ... and per notebook
MAX_SOURCE = 200_000               # characters of a cell's source shown
_SURROGATE = re.compile("[\ud800-\udfff]")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")


@dataclass
class Row:
    student: str                                    # the id as the submission named it (printable)
    assignment: str
    status: str = "ok"
    score: float = 0.0
    max_score: float = 0.0
    scores: dict = field(default_factory=dict)      # column -> points (column: grade id, or notebook/grade id)
    messages: list = field(default_factory=list)
    seconds: float = 0.0
    folder: str = ""                                # the folder it was graded in (= student for plain ids)
    lms_id: str = ""


def scrub(value):
    """value with every lone surrogate (a student printing '\\ud800', a non-UTF-8 file name) replaced by U+FFFD,
    so that writing it as UTF-8 cannot fail."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub(v) for k, v in value.items()}
    return value


def _text_size(output: dict) -> int:
    return sum(len(v) for v in (output.get("data") or {}).values() if isinstance(v, str)) + \
        len(output.get("text") or "") + len(output.get("evalue") or "") + \
        sum(len(t) for t in output.get("traceback") or [] if isinstance(t, str))


def cap_outputs(cells: list) -> list:
    """Feedback cells with outputs in nbformat shape, at most MAX_CELL_OUTPUT per cell and MAX_NOTEBOOK_OUTPUT per
    notebook (the rest replaced by a note), an image only when its data is base64."""
    left, out = MAX_NOTEBOOK_OUTPUT, []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        cell = dict(cell)
        if isinstance(cell.get("source"), str) and len(cell["source"]) > MAX_SOURCE:
            cell["source"] = cell["source"][:MAX_SOURCE] + "\n# [... cut by the grader]"
        kept, room, dropped = [], MAX_CELL_OUTPUT, 0
        for o in cell.get("outputs") or []:
            if not isinstance(o, dict):
                continue
            data = o.get("data")
            if isinstance(data, dict) and not _BASE64.match(data.get("image/png", "") or ""):
                o = dict(o, data={k: v for k, v in data.items() if k != "image/png"})
            size = _text_size(o)
            if size > min(room, left):
                dropped += 1
                continue
            room, left = room - size, left - size
            kept.append(o)
        if dropped:
            kept.append({"output_type": "stream", "name": "stdout",
                         "text": f"[{dropped} output(s) not shown: the feedback keeps at most "
                                 f"{MAX_CELL_OUTPUT // 2**20} MB per cell and {MAX_NOTEBOOK_OUTPUT // 2**20} MB "
                                 "per notebook]\n"})
        if "outputs" in cell:
            cell["outputs"] = kept
        out.append(cell)
    return out


# ------------------------------------------------------------------ grades.csv and the LMS import
def columns(table: list[Row]) -> list[str]:
    return list(dict.fromkeys(g for r in table for g in r.scores))


def write_csv(path: Path, table: list[Row]) -> None:
    gids = columns(table)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", "status", *gids, "messages", "folder"])
        for r in table:
            w.writerow([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}", r.status,
                        *[f"{r.scores[g]:g}" if g in r.scores else "" for g in gids], " | ".join(r.messages),
                        r.folder])


def write_lms_csv(path: Path, table: list[Row]) -> None:
    """One row per student, one column per assignment (its score in points), the student ids as the LMS export
    named them, plus the LMS's numeric user id when its file names carried one: a CSV that Canvas ('Student',
    'ID') and Moodle (map 'Student' or 'ID' to a user field) gradebooks import as is."""
    assignments = sorted({r.assignment for r in table})
    students: dict[str, dict] = {}
    for r in table:
        entry = students.setdefault(r.folder or r.student, {"Student": r.student, "ID": r.lms_id})
        entry[r.assignment] = f"{r.score:g}"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["Student", "ID", *assignments])
        w.writeheader()
        for key in sorted(students):
            w.writerow(students[key])


def print_summary(table: list[Row]) -> None:
    width = max([len(r.student) for r in table] + [7])
    print(f"\n{'student':<{width}}  {'assignment':<24} {'score':>11}  status     messages")
    for r in table:
        msg = printable("; ".join(r.messages))
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
    ax.set_title(f"Score distribution per exercise ({len({r.folder or r.student for r in table})} students)")
    if by_ex:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------ gradebook and formgrader
def alembic_in_process() -> None:
    """Make nbgrader create new gradebooks without a second Python process. A new gradebook.db records nbgrader's
    schema version, which nbgrader 0.9.6 learns by running the `alembic heads` command: a fresh Python that
    imports nbgrader again (`script_location = nbgrader:alembic`), seconds on an idle machine and over a minute
    on a loaded one. The same answer comes from alembic's ScriptDirectory over nbgrader's own migration scripts,
    here, in well under a second once nbgrader is imported; nor does it need `alembic` on PATH."""
    import nbgrader.api
    from alembic.script import ScriptDirectory

    def head() -> str:
        return ScriptDirectory(str(Path(nbgrader.api.__file__).parent / "alembic")).get_current_head()

    nbgrader.api.get_alembic_version = head


def points(release_nb: dict) -> dict[str, float]:
    """{grade id: points} of the autograded test cells of a release notebook."""
    return {c["metadata"]["nbgrader"]["grade_id"]: float(c["metadata"]["nbgrader"].get("points", 0))
            for c in release_nb["cells"] if is_test_cell(c)}


def submission_timestamp(folder: Path):
    """The time a submission's timestamp.txt gives (nbgrader's exchange writes one), as nbgrader parses it, or None.
    The formgrader lists a submission as autograded only when the gradebook holds this same time, and fails on
    the whole assignment when a timestamp.txt does not parse: a student's unreadable or oversized one is removed
    from the work course's copy (never the original) and the submission has no time."""
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    if not path.is_file() or path.is_symlink():
        return None
    try:
        text = path.read_text(encoding="utf-8").strip() if path.stat().st_size <= 200 else None
        if text:
            return parse_utc(text)
    except (ValueError, OverflowError, TypeError, UnicodeDecodeError):
        pass
    path.unlink()
    return None


def write_gradebook(db_url: str, rows: dict, layout: dict, release: dict, nb_scores: dict,
                    submitted: Path | None = None) -> None:
    """nbgrader's gradebook, written from this one process. Scores are keyed per notebook (two notebooks of an
    assignment may reuse grade ids); auto-scored cells are not flagged for manual grading (nbgrader's
    SaveAutoGrades rule), while written answers, manually graded code and tasks are (as stock flags them, for
    the formgrader); the student's original id is kept as lms_user_id when it differs from the folder. Each
    submission gets the time of its timestamp.txt in `submitted` (default: the course folder grade.py lays out
    beside the gradebook, work/course/submitted), as `nbgrader autograde` records it."""
    import warnings

    from nbgrader.api import Gradebook

    warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own autoflush notices
    if submitted is None:
        submitted = Path(db_url.removeprefix("sqlite:///")).parent / "work" / "course" / "submitted"
    with Gradebook(db_url) as gb:
        for (folder, a), row in rows.items():
            extra = {"lms_user_id": row.student} if row.student != folder else {}
            gb.update_or_create_student(folder, **extra)
            if row.status == "missing" and not any(row.scores.values()):
                continue
            gb.update_or_create_submission(a, folder, timestamp=submission_timestamp(submitted / folder / a))
            for nb in layout[a]:
                scores = nb_scores.get((folder, a, nb), {})
                auto = points(release[(a, nb)])
                for grade in gb.find_submission_notebook(nb, a, folder).grades:
                    if grade.name in auto:
                        grade.auto_score = float(scores.get(grade.name, 0.0))
                        grade.needs_manual_grade = grade.manual_score is not None
                    else:  # a written answer, a manually graded code answer, a task: the formgrader's job
                        grade.needs_manual_grade = True
            gb.db.commit()


# ------------------------------------------------------------------ feedback HTML and autograded notebooks
def _inline(text: str) -> str:
    """Text for a one-line HTML block of a markdown cell: escaped, and no markdown syntax left to parse."""
    text = html.escape(printable(str(text)).replace("\\x0a", " "), quote=True)
    return re.sub(r"[\[\]()*_`~!#|\\]", lambda m: f"&#{ord(m.group())};", text)


def report_head(row: Row) -> dict:
    items = "".join(f"<li>{_inline(m)}</li>" for m in row.messages)
    body = (f'<div class="grader-report"><p><b>Grader report for {_inline(row.student)}, {_inline(row.assignment)}'
            f"</b>: {row.score:g} / {row.max_score:g} points (status: {_inline(row.status)}).</p>"
            + (f"<ul>{items}</ul>" if items else "") + "</div>")
    return {"cell_type": "markdown", "id": "grader-report", "metadata": {}, "source": body}


def clean_cell(cell: dict) -> dict:
    """A feedback cell in the shape nbgrader's feedback template needs. Every cell the template gives a score
    (graded cells and task cells) has `score` and `points`; a student's written (markdown) answer is shown as
    text in a code-style block, never rendered as markdown/HTML."""
    cell = dict(cell)
    meta = dict(cell.get("metadata") or {})
    nbg = meta.get("nbgrader")
    if cell.get("cell_type") == "markdown" and isinstance(nbg, dict) and nbg.get("solution"):
        cell["cell_type"] = "code"
        meta["magics_language"] = "text"
    if cell.get("cell_type") == "code":
        cell["outputs"] = cell.get("outputs") or []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    if isinstance(nbg, dict) and (nbg.get("grade") or nbg.get("task")):
        nbg = dict(nbg)
        if nbg.get("score") is None:
            nbg["score"] = 0.0
        nbg.setdefault("points", 0.0)
        meta["nbgrader"] = nbg
    cell["metadata"] = meta
    return cell


def feedback_exporter():
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    import nbgrader

    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c = Config()
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = [str(base / "templates")]
    c.HTMLExporter.extra_template_paths = [str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    return HTMLExporter(config=c)


def _notebook(cells: list, metadata: dict):
    import nbformat

    node = nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells})
    for i, cell in enumerate(node.cells):
        cell.setdefault("id", f"cell-{i}")
    return node


def write_feedback(exporter, target: Path, row: Row, nb: str, cells: list, metadata: dict) -> None:
    """One notebook's feedback HTML; if nbgrader's template fails on it, a plain escaped page (the batch goes on)."""
    node = _notebook([report_head(row)] + [clean_cell(c) for c in cells], metadata)
    resources = {"nbgrader": {"notebook": nb, "score": row.score, "max_score": row.max_score, "late_penalty": 0}}
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        page, _ = exporter.from_notebook_node(node, resources=resources)
    except Exception as exc:  # noqa: BLE001
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(nb)}</title></head><body>"
                f"{report_head(row)['source']}<p>(the full feedback could not be rendered: "
                f"{html.escape(type(exc).__name__)})</p></body></html>")
    target.write_text(scrub(page), encoding="utf-8")


def write_autograded(target: Path, cells: list, metadata: dict) -> None:
    """`autograded/<student>/<assignment>/<notebook>.ipynb` for nbgrader's formgrader: the cells as graded."""
    import nbformat

    target.parent.mkdir(parents=True, exist_ok=True)
    plain = []
    for cell in cells:
        cell = clean_cell(cell)
        nbg = (cell.get("metadata") or {}).get("nbgrader")
        if isinstance(nbg, dict):
            cell["metadata"] = dict(cell["metadata"], nbgrader={k: v for k, v in nbg.items()
                                                                 if k not in ("score",)})
        plain.append(cell)
    target.write_text(scrub(nbformat.writes(_notebook(plain, metadata))), encoding="utf-8")


def load_result(path: Path) -> dict:
    """A trusted process's result, scrubbed and capped, or an error result (never raises)."""
    try:
        result = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        if not isinstance(result, dict):
            raise ValueError("not an object")
    except Exception as exc:  # noqa: BLE001 (a crash mid-write, a result too deep)
        return {"status": "error", "messages": [f"grader crashed: its result could not be read ({type(exc).__name__})"],
                "scores": {}, "feedback_cells": []}
    result = scrub(result)
    result["feedback_cells"] = cap_outputs(result.get("feedback_cells") or [])
    return result
