"""Notebook hygiene: `python autograder/lint_notebooks.py` exits 1 and lists every problem found.

Checks, for solutions/ and notebooks/ (see ../shared/NOTEBOOK_CONVENTIONS.md):
- stored notebooks are normalized (stable JSON, no outputs, no execution counts);
- numbering is contiguous (00, 01, 02, ...) and both folders hold the same assignments;
- the first cell is the header: a `# NN · Title` heading, objectives, estimated time, what it builds on;
- the first code cell is the set-up cell calling course.setup.start();
- every exercise: a unique grade_id across the course, points > 0 on grade cells, hidden tests in the
  solution's grade cells, a `### Exercise` heading for each solution cell;
- every cell that draws a chart also labels both axes; every cell that shows an image gives it a title.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebooks as pipeline  # noqa: E402

# Calls that draw a chart with axes, and calls that show a picture. The course's own plot helpers
# (course.plots) label themselves, so they are not listed.
CHART_CALL = re.compile(r"\.(plot|scatter|bar|barh|hist|errorbar|fill_between|semilogy|semilogx|loglog|step|stem)\(")
IMAGE_CALL = re.compile(r"\.(imshow|matshow|pcolormesh|contourf?)\(")
XLABEL = re.compile(r"(set_xlabel|xlabel)\(|set\([^)]*xlabel=")
YLABEL = re.compile(r"(set_ylabel|ylabel)\(|set\([^)]*ylabel=")
TITLE = re.compile(r"(set_title|title|suptitle)\(|set\([^)]*title=")
PANDAS_PLOT = re.compile(r"\.plot\([^)]*(xlabel|ylabel)=")


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def lint_notebook(path: Path, student: bool) -> list[str]:
    """Problems of one notebook (solution version unless `student`)."""
    problems = []
    where = str(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        return [f"{where}: not a readable notebook: {err}"]
    if not nb.get("cells"):
        return [f"{where}: has no cells"]
    normalized = pipeline.normalize(nb)
    if pipeline.dumps(normalized) != path.read_text(encoding="utf-8"):
        problems.append(f"{where}: not normalized (run `make notebooks`)")
    cells = normalized["cells"]  # the checks below read sources as strings, whatever the stored form

    header = cells[0]["source"] if cells[0]["cell_type"] == "markdown" else ""
    number = path.parent.name[:2]
    if not re.match(rf"#\s+{number}\s+·\s+\S", header):
        problems.append(f"{where}: the first cell must be a markdown heading `# {number} · Title`")
    for needed, label in (("able to", "objectives ('After this notebook you will be able to')"),
                          ("estimated time", "an estimated time"), ("builds on", "what it builds on")):
        if needed not in header.lower():
            problems.append(f"{where}: the header cell lacks {label}")

    code_cells = [c for c in cells if c["cell_type"] == "code"]
    if not code_cells or "start(" not in code_cells[0]["source"] or "course.setup" not in code_cells[0]["source"]:
        problems.append(f"{where}: the first code cell must be the set-up cell: "
                        "`from course.setup import start` then `env = start(...)`")

    markdown_so_far = ""
    for index, cell in enumerate(cells):
        source = cell["source"]
        meta = _nbgrader(cell)
        if cell["cell_type"] == "markdown":
            markdown_so_far = source
        if meta.get("solution") and cell["cell_type"] == "code":
            if "### Exercise" not in markdown_so_far:
                problems.append(f"{where}: cell {index} ({meta.get('grade_id')}) is a solution cell "
                                "without an `### Exercise N: ... (P points)` cell before it")
        if meta.get("grade"):
            if not meta.get("points", 0) > 0:
                problems.append(f"{where}: grade cell {meta.get('grade_id')} has no points")
            if not student and cell["cell_type"] == "code" and "### BEGIN HIDDEN TESTS" not in source:
                problems.append(f"{where}: grade cell {meta.get('grade_id')} has no hidden tests")
        if cell["cell_type"] != "code":
            continue
        if CHART_CALL.search(source) and not PANDAS_PLOT.search(source):
            if not (XLABEL.search(source) and YLABEL.search(source)):
                problems.append(f"{where}: cell {index} draws a chart without labelling both axes in the same cell")
        if IMAGE_CALL.search(source) and not TITLE.search(source):
            problems.append(f"{where}: cell {index} shows an image without a title in the same cell")
    return problems


def grade_ids(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [_nbgrader(c)["grade_id"] for c in nb["cells"] if _nbgrader(c).get("grade_id")]


def lint_course(solutions: Path = pipeline.SOLUTIONS, notebooks: Path = pipeline.NOTEBOOKS) -> list[str]:
    problems = []
    names = sorted(p.name for p in solutions.iterdir() if p.is_dir() and not p.name.startswith("."))
    numbers = [int(n[:2]) for n in names if n[:2].isdigit()]
    if numbers != list(range(len(names))):
        problems.append(f"{solutions}: numbering is not contiguous from 00: {', '.join(names)}")
    student_names = sorted(p.name for p in notebooks.iterdir() if p.is_dir()) if notebooks.is_dir() else []
    if student_names != names:
        problems.append(f"{notebooks} holds {student_names}, solutions/ holds {names}")

    seen: dict[str, str] = {}
    for name in names:
        path = solutions / name / f"{name}.ipynb"
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        problems += lint_notebook(path, student=False)
        ids = grade_ids(path)
        if not any(_nbgrader(c).get("grade") for c in json.loads(path.read_text())["cells"]):
            problems.append(f"{path}: has no graded exercise")
        for grade_id in ids:
            if grade_id in seen:
                problems.append(f"{path}: grade_id {grade_id!r} is also used in {seen[grade_id]}")
            seen[grade_id] = name
        student = notebooks / name / f"{name}.ipynb"
        if student.is_file():
            problems += lint_notebook(student, student=True)
    return problems


def main() -> int:
    problems = lint_course()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} notebook problem(s)", file=sys.stderr)
        return 1
    print("notebook lint: no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
