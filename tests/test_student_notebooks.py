"""Every student notebook runs up to its first exercise without error, and stops there with
NotImplementedError: what a student sees on opening it and pressing Run All."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import ROOT

STUDENT_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))


def _role(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return "solution" if meta.get("solution") else "grade" if meta.get("grade") else "other"


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=[p.parent.name for p in STUDENT_NOTEBOOKS])
def test_student_notebook_runs_up_to_its_first_exercise(path: Path):
    nb = nbformat.read(path, as_version=4)
    roles = [_role(c) for c in nb.cells]
    assert "solution" in roles and "grade" in roles, "a student notebook without an exercise"
    first_grade = roles.index("grade")
    client = NotebookClient(nb, kernel_name="tf-course", timeout=600,
                            resources={"metadata": {"path": str(path.parent)}})
    stopped = None
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells[: first_grade + 1]):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                seen_solution = "solution" in roles[: index + 1]
                assert seen_solution, f"cell {index} fails before the first exercise:\n{err}"
                assert err.ename == "NotImplementedError", f"cell {index} raised {err.ename}, not NotImplementedError"
                stopped = index
                break
    assert stopped is not None, "the first exercise's check passed although no solution was written"


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=[p.parent.name for p in STUDENT_NOTEBOOKS])
def test_every_solution_cell_is_a_stub(path: Path):
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if _role(cell) == "solution" and cell["cell_type"] == "code":
            assert "raise NotImplementedError()" in cell["source"], cell["metadata"]["nbgrader"]["grade_id"]
