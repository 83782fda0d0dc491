"""The grader on the course's own notebooks: a perfect submission of EVERY assignment in solutions/ gets full
marks and an untouched one gets 0, each with the mode the course configures for it (autograder/nbgrader_config.py).

Slow (every notebook runs in the sandbox, and in the trusted process when its tests run there), so `make test`
runs this file on its own after the parallel run: grading two notebooks at a time beside nbval would slow both
and make the notebooks' own timing checks flaky.
"""

from __future__ import annotations

import copy
import json
import sys

import pytest

from conftest import GRADING_TIMES, ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import grade  # noqa: E402

ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if (ROOT / "notebooks" / p.name).is_dir())


def _submission(student_nb: dict, answers: dict) -> dict:
    nb = copy.deepcopy(student_nb)
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


@pytest.fixture(scope="module")
def course_grades(tmp_path_factory, pytestconfig):
    subs = tmp_path_factory.mktemp("course_subs") / "submitted"
    for a in ASSIGNMENTS:
        source = json.loads((ROOT / "solutions" / a / f"{a}.ipynb").read_text())
        answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source["cells"]
                   if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
        student = json.loads((ROOT / "notebooks" / a / f"{a}.ipynb").read_text())
        for who, cells in (("perfect", answers), ("untouched", {})):
            (subs / who / a).mkdir(parents=True)
            (subs / who / a / f"{a}.ipynb").write_text(json.dumps(_submission(student, cells)))
    out = tmp_path_factory.mktemp("course_grades") / "out"
    # the notebooks' own limits: a cell may train a network for minutes on a busy 2-core machine
    rows = grade.run(grade.build_parser().parse_args(
        [str(subs), "--out", str(out), "--cell-timeout", "900", "--notebook-timeout", "1800"]))
    configured = set(grade.load_config().CourseGrader.tests_in_sandbox)
    pytestconfig.stash[GRADING_TIMES] = [
        (r.assignment, "tests in the sandbox" if r.assignment in configured else "tests in the trusted process",
         r.student, r.seconds) for r in sorted(rows, key=lambda r: (r.assignment, r.student))]
    return {(r.student, r.assignment): r for r in rows}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_perfect_submission_gets_full_marks(course_grades, assignment):
    row = course_grades[("perfect", assignment)]
    assert row.max_score > 0
    assert (row.score, row.status) == (row.max_score, "ok"), (row.scores, row.messages)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_submission_gets_zero(course_grades, assignment):
    row = course_grades[("untouched", assignment)]
    assert (row.score, row.status) == (0, "ok"), (row.scores, row.messages)
    assert any("no exercise answered" in m for m in row.messages)


def test_sandboxed_tests_are_the_configured_ones_and_say_so(course_grades):
    configured = set(grade.load_config().CourseGrader.tests_in_sandbox)
    assert configured <= set(ASSIGNMENTS)
    for a in ASSIGNMENTS:
        said = any("inside the sandbox" in m for m in course_grades[("perfect", a)].messages)
        assert said == (a in configured), a
