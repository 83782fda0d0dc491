"""autograder/lint_notebooks.py: the course passes, and each kind of defect is caught."""

import copy
import json
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import lint_notebooks  # noqa: E402
import notebooks as pipeline  # noqa: E402


def test_the_course_passes_the_linter():
    assert lint_notebooks.lint_course() == []


GOOD = json.loads((ROOT / "solutions" / "00_getting_started" / "00_getting_started.ipynb").read_text())


def _write(folder, nb, name="00_getting_started", normalize=True):
    path = folder / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(pipeline.dumps(pipeline.normalize(nb)) if normalize else json.dumps(nb))
    return path


def _grade_cell(nb):
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade"))


def _first_code(nb):
    return next(c for c in nb["cells"] if c["cell_type"] == "code")


def _defect(kind):
    nb = copy.deepcopy(GOOD)
    if kind == "no header":
        nb["cells"][0]["source"] = "Some notes"
    elif kind == "no estimated time":
        nb["cells"][0]["source"] = nb["cells"][0]["source"].replace("Estimated time", "Time")
    elif kind == "no set-up cell":
        _first_code(nb)["source"] = "import numpy as np"
    elif kind == "no points":
        _grade_cell(nb)["metadata"]["nbgrader"]["points"] = 0
    elif kind == "no hidden tests":
        cell = _grade_cell(nb)
        cell["source"] = cell["source"].split("### BEGIN HIDDEN TESTS")[0]
    elif kind == "unlabelled chart":
        nb["cells"].insert(5, {"cell_type": "code", "id": "plot1", "metadata": {}, "outputs": [],
                               "execution_count": None, "source": "plt.plot([1, 2])\nplt.xlabel('x')"})
    elif kind == "untitled image":
        nb["cells"].insert(5, {"cell_type": "code", "id": "img1", "metadata": {}, "outputs": [],
                               "execution_count": None, "source": "ax.imshow(x_train[0])"})
    elif kind == "exercise without heading":
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = cell["source"].replace("### Exercise", "### Task")
    return nb


@pytest.mark.parametrize("kind, message", [
    ("no header", "markdown heading"), ("no estimated time", "estimated time"),
    ("no set-up cell", "set-up cell"), ("no points", "has no points"), ("no hidden tests", "no hidden tests"),
    ("unlabelled chart", "without labelling both axes"), ("untitled image", "image without a title"),
    ("exercise without heading", "without an `### Exercise"),
])
def test_each_defect_is_reported(tmp_path, kind, message):
    path = _write(tmp_path, _defect(kind))
    problems = lint_notebooks.lint_notebook(path, student=False)
    assert any(message in p for p in problems), problems
    assert lint_notebooks.lint_notebook(_write(tmp_path / "good", GOOD), student=False) == []


def test_unnormalized_gaps_duplicates_and_missing_student_versions(tmp_path):
    solutions, students = tmp_path / "solutions", tmp_path / "notebooks"
    _write(solutions, GOOD)
    twin = copy.deepcopy(GOOD)
    twin["cells"][0]["source"] = twin["cells"][0]["source"].replace("# 00 ·", "# 02 ·")
    _write(solutions, twin, name="02_twin", normalize=False)
    _write(students, GOOD)
    problems = "\n".join(lint_notebooks.lint_course(solutions, students))
    assert "numbering is not contiguous" in problems
    assert "not normalized" in problems
    assert "grade_id 'n00_flatten_and_scale' is also used" in problems
    assert "solutions/ holds" in problems
