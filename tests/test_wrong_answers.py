"""Every exercise grades its skill: the plausible wrong answers kept in tests/wrong_answers/<assignment>.py are
graded by the real grader (each notebook in the mode the course configures) and must get exactly the points the
file says, usually 0, while every other test of the same submission keeps its full marks (a wrong answer in one
exercise must not cost points in another).

A file holds `WRONG_ANSWERS`, a list of dicts:
    exercise  grade id of the solution cell the wrong answer replaces
    name      a short label (the table's row)
    source    the cell's whole new source
    scores    {test grade id: points it must get}; every test not named must get full marks
    says      (optional) text the feedback of the first test named must contain: the message that teaches
    also      (optional) {grade id: source} of other solution cells replaced in the same submission, for a wrong
              answer that needs its partners (constant activations with zero derivatives: a test that took the
              student's own functions as its reference would pass them together)

Each submission is the perfect one with wrong answers swapped in, at most one per exercise and no two naming the
same test, so a batch of a few submissions per notebook covers them all. The table (notebook, exercise, wrong answer,
points, the feedback's message) is printed (`make wrong-answers`) and written to the grader's output folder.
WRONG_ANSWERS="04 06" (notebook number prefixes) grades only those notebooks, for authors.

Slow (every notebook is graded a few times), so `make test` runs it on its own after the parallel run.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import runpy
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import grade  # noqa: E402

WRONG_DIR = ROOT / "tests" / "wrong_answers"
FIELDS = {"exercise", "name", "source", "scores", "says", "also"}
# numpy.testing's first line; the test's own err_msg, when it has one, is the line after it
NUMPY_HEADERS = ("Not equal to tolerance", "Arrays are not equal", "Arrays are not almost equal")


def _cells(assignment: str, folder: str) -> list:
    return json.loads((ROOT / folder / assignment / f"{assignment}.ipynb").read_text())["cells"]


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _load_cases() -> list[dict]:
    only = re.split(r"[ ,]+", os.environ.get("WRONG_ANSWERS", "").strip())
    cases = []
    for path in sorted(WRONG_DIR.glob("[0-9][0-9]_*.py")):
        assignment = path.stem
        if any(only) and not any(p and assignment.startswith(p) for p in only):
            continue
        for i, case in enumerate(runpy.run_path(str(path))["WRONG_ANSWERS"]):
            assert set(case) <= FIELDS and {"exercise", "name", "source", "scores"} <= set(case), (path, i)
            assert case["exercise"] not in case.get("also", {}), (path, i)
            cases.append(dict(case, assignment=assignment, key=f"{assignment[:2]}-{case['exercise']}-{i}"))
    return cases


CASES = _load_cases()


@functools.cache  # read-only; asked once per wrong answer and per table row
def _points(assignment: str) -> dict:
    return {_grade_id(c): c["metadata"]["nbgrader"].get("points", 0) for c in _cells(assignment, "solutions")
            if c["metadata"].get("nbgrader", {}).get("grade") and c["cell_type"] == "code"}


def _exercises(case: dict) -> set:
    """The solution cells a wrong answer replaces."""
    return {case["exercise"], *case.get("also", {})}


def _submissions(cases: list[dict]) -> dict:
    """assignment -> [[case, ...] per submission]: first fit, one wrong answer per exercise and per test."""
    plan: dict = {}
    for case in cases:
        subs = plan.setdefault(case["assignment"], [])
        for sub in subs:
            if all(not _exercises(c) & _exercises(case) and not set(c["scores"]) & set(case["scores"]) for c in sub):
                sub.append(case)
                break
        else:
            subs.append([case])
    return plan


def _text(outputs: list) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
            parts += out.get("traceback", [])
        else:
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else str(text))
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))


def _message(outputs: list) -> str:
    """What the student reads first: the error's line, else the last line printed."""
    for out in outputs:
        if out.get("output_type") == "error":
            said = [line.strip() for line in _text([{"text": out.get("evalue", "")}]).splitlines()
                    if line.strip() and not line.startswith(NUMPY_HEADERS)] or [""]
            if said[0].startswith(("Mismatch", "Max ", "ACTUAL", "DESIRED", "x:", "y:")):
                said = [out.get("evalue", "").strip().splitlines()[0]]
            if said[0]:
                return f"{out.get('ename', '')}: {said[0]}"
            told = [line.strip() for line in _text([{"text": "\n".join(out.get("traceback", []))}]).splitlines()
                    if line.strip()]
            return told[-1] if told else out.get("ename", "")
    lines = [line for line in _text(outputs).splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    plan = _submissions(CASES)
    subs = tmp_path_factory.mktemp("wrong_subs") / "submitted"
    who = {}
    for a, groups in plan.items():
        solution = {_grade_id(c): c["source"] for c in _cells(a, "solutions")
                    if c["metadata"].get("nbgrader", {}).get("solution")}
        student = {"cells": _cells(a, "notebooks"), **{k: v for k, v in json.loads(
            (ROOT / "notebooks" / a / f"{a}.ipynb").read_text()).items() if k != "cells"}}
        for k, group in enumerate(groups):
            answers = dict(solution, **{k: v for c in group for k, v in c.get("also", {}).items()},
                           **{c["exercise"]: c["source"] for c in group})
            assert all(_exercises(c) <= set(solution) for c in group), [_exercises(c) for c in group]
            nb = copy.deepcopy(student)
            for cell in nb["cells"]:
                if _grade_id(cell) in answers and cell["metadata"]["nbgrader"].get("solution"):
                    cell["source"] = answers[_grade_id(cell)]
            folder = f"wrong{k}"
            (subs / folder / a).mkdir(parents=True)
            (subs / folder / a / f"{a}.ipynb").write_text(json.dumps(nb))
            for c in group:
                who[c["key"]] = folder
    out = tmp_path_factory.mktemp("wrong_grades") / "out"
    rows = grade.run(grade.build_parser().parse_args(
        [str(subs), "--out", str(out), "--cell-timeout", "900", "--notebook-timeout", "1800"]))
    rows = {(r.folder, r.assignment): r for r in rows}
    feedback = {}
    for (folder, a) in rows:
        path = out / "work" / "course" / "autograded" / folder / a / f"{a}.ipynb"
        cells = json.loads(path.read_text())["cells"] if path.exists() else []
        feedback[(folder, a)] = {_grade_id(c): c.get("outputs", []) for c in cells if _grade_id(c)}
    result = {"plan": plan, "who": who, "rows": rows, "feedback": feedback}
    table = _table(result)
    (out / "wrong_answers.md").write_text(table)
    print("\n" + table)
    return result


def _table(graded: dict) -> str:
    lines = ["| notebook | exercise | wrong answer | points | the feedback says |", "|---|---|---|---|---|"]
    for case in CASES:
        folder = graded["who"][case["key"]]
        row = graded["rows"][(folder, case["assignment"])]
        points = _points(case["assignment"])
        got = ", ".join(f"{row.scores.get(t, 0):g}/{points.get(t, 0):g}" for t in case["scores"])
        first = next(iter(case["scores"]))
        says = _message(graded["feedback"][(folder, case["assignment"])].get(first, []))[:110].replace("|", "\\|")
        lines.append(f"| {case['assignment'][:2]} | {case['exercise']} | {case['name']} | {got} | {says} |")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c["key"] for c in CASES])
def test_wrong_answer_gets_the_points_it_deserves(graded, case):
    folder = graded["who"][case["key"]]
    row = graded["rows"][(folder, case["assignment"])]
    points = _points(case["assignment"])
    for test, want in case["scores"].items():
        assert test in points, f"{test} is not a test cell of {case['assignment']}"
        assert row.scores.get(test) == want, (case["name"], test, row.scores, row.messages)
    if "says" in case:
        shown = _text(graded["feedback"][(folder, case["assignment"])].get(next(iter(case["scores"])), []))
        assert case["says"] in shown, (case["name"], shown[-2000:])


@pytest.mark.parametrize("assignment", sorted({c["assignment"] for c in CASES}))
def test_other_exercises_keep_full_marks(graded, assignment):
    points = _points(assignment)
    for k, group in enumerate(graded["plan"][assignment]):
        row = graded["rows"][(f"wrong{k}", assignment)]
        named = {t for c in group for t in c["scores"]}
        lost = {t: row.scores.get(t) for t, p in points.items() if t not in named and row.scores.get(t) != p}
        assert not lost, (f"wrong answers {[c['name'] for c in group]} cost points in tests they do not name", lost,
                          row.messages)


def test_every_file_names_real_cells():
    for path in sorted(WRONG_DIR.glob("*.py")):
        a = path.stem
        assert (ROOT / "solutions" / a / f"{a}.ipynb").exists(), f"{path.name}: no notebook solutions/{a}"
        solutions = {_grade_id(c) for c in _cells(a, "solutions") if c["metadata"].get("nbgrader", {}).get("solution")}
        points = _points(a)
        for case in runpy.run_path(str(path))["WRONG_ANSWERS"]:
            assert _exercises(case) <= solutions, (path.name, _exercises(case))
            assert case["scores"] and all(t in points and 0 <= s < points[t] for t, s in case["scores"].items()), \
                (path.name, case["name"], case["scores"])
