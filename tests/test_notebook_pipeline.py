"""autograder/notebooks.py: normalization, staleness detection, and what the student version hides."""

import json
import re
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import notebooks  # noqa: E402


def _messy_notebook():
    return {"nbformat": 4, "nbformat_minor": 4,
            "metadata": {"kernelspec": {"name": "python3"}, "widgets": {"x": 1}},
            "cells": [{"cell_type": "code", "id": "a1", "execution_count": 7, "source": ["x = 1\n", "x"],
                       "metadata": {"scrolled": True, "tags": ["t"]},
                       "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"},
                                    "metadata": {}, "execution_count": 7}]},
                      {"cell_type": "markdown", "id": "b2", "source": "# Title", "metadata": {"collapsed": False}}]}


def test_normalize_strips_outputs_counts_and_noise_and_is_idempotent():
    once = notebooks.normalize(_messy_notebook())
    code, markdown = once["cells"]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["source"] == "x = 1\nx" and code["metadata"] == {"tags": ["t"]}
    assert markdown["metadata"] == {}
    assert once["metadata"]["kernelspec"]["name"] == "tf-course"
    assert notebooks.dumps(notebooks.normalize(once)) == notebooks.dumps(once)


def test_differences_finds_stale_missing_and_extra_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "01_x").mkdir(parents=True)
        (root / "01_x" / "01_x.ipynb").write_text("same")
    (a / "01_x" / "01_x.ipynb").write_text("new")
    (a / "02_y").mkdir()
    (b / "01_x" / "extra.txt").write_text("")
    found = notebooks.differences(a, b)
    assert "01_x/differs: 01_x.ipynb" in found
    assert "only in a: 02_y" in found
    assert "01_x/only in notebooks/: extra.txt" in found


def test_stored_notebooks_are_normalized():
    for folder in (notebooks.SOLUTIONS, notebooks.NOTEBOOKS):
        assert notebooks.unnormalized(folder) == []


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()))
def test_student_version_hides_solutions_and_hidden_tests(name):
    def cells(path):
        return json.loads(path.read_text())["cells"]

    student = "\n".join(c["source"] for c in cells(ROOT / "notebooks" / name / f"{name}.ipynb"))
    solution_cells = cells(ROOT / "solutions" / name / f"{name}.ipynb")
    assert "BEGIN SOLUTION" not in student and "BEGIN HIDDEN TESTS" not in student
    # An answer's line in a public cell gives it away, unless the notebook showed that line before the exercise
    # (an idiom it teaches, like `with tf.Graph().as_default():`). A hidden test may repeat the public check's
    # set-up lines: only lines found nowhere public are secret.
    secret_lines, public_lines, shown_before = {"SOLUTION": [], "HIDDEN TESTS": []}, set(), set()
    for cell in solution_cells:
        public = cell["source"]
        for marker in ("SOLUTION", "HIDDEN TESTS"):
            source = cell["source"]
            while f"### BEGIN {marker}" in source:
                start = source.index(f"### BEGIN {marker}")
                end = source.index(f"### END {marker}", start)
                secret = source[start:end]
                secret_lines[marker] += [ln.strip() for ln in secret.splitlines()[1:]
                                         if ln.strip() and (marker != "SOLUTION" or ln.strip() not in shown_before)]
                public = public.replace(secret, "")
                source = source[end + 1:]
        public_lines |= {ln.strip() for ln in public.splitlines()}
        shown_before |= {ln.strip() for ln in public.splitlines()}
        if cell["cell_type"] == "markdown":  # code the prose shows, e.g. a hint's `with strategy.scope():`
            shown_before |= {span.strip() for span in re.findall(r"`([^`]+)`", public)}
    assert secret_lines["SOLUTION"], f"{name} has no graded exercise"
    student_lines = {ln.strip() for ln in student.splitlines()}
    leaked = [ln for ln in secret_lines["SOLUTION"] if ln in student_lines and len(ln) > 12]
    leaked += [ln for ln in secret_lines["HIDDEN TESTS"]
               if ln in student_lines and ln not in public_lines and len(ln) > 12]
    assert leaked == []
    assert student.count("raise NotImplementedError()") >= 1
