"""The judge's backward slice (autograder/needed_cells.py): which instructor cells the trusted process may skip.
Skipping a cell a test depends on would change a fixture; each case names the dependency it must keep."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
from needed_cells import needed_cells  # noqa: E402


def _needed(*cells):
    return needed_cells([(kind, source) for kind, source in cells])


def test_a_cell_after_the_last_test_is_skipped_and_one_the_test_reads_is_kept():
    assert _needed(("ordinary", "import numpy as np\nx = np.arange(3)"),
                   ("ordinary", "plot_me = x * 2\nprint(plot_me)"),
                   ("test", "assert f(x).shape == (3,)"),
                   ("ordinary", "history = train(x)")) == [True, False, True, False]


@pytest.mark.parametrize("change", [
    "model.fit(x)",            # a method call may change its receiver
    "train(model, epochs=3)",  # a callee may mutate what it is given
    "model.weights[0] = 1",    # item assignment
    "model += 1",              # augmented assignment
    "del model",
    "for model in [1, 2]:\n    pass",
    "with open('f') as model:\n    pass",
])
def test_a_cell_that_may_change_a_name_a_test_reads_is_kept(change):
    assert _needed(("ordinary", "model = make()"), ("ordinary", change),
                   ("test", "assert model is not None"))[1] is True


@pytest.mark.parametrize("side_effect", [
    "np.random.seed(0)",                 # a module's state: a later fixture draws from it
    "import random\nrandom.seed(1)",
    "set_seeds(3)",                      # a bare function may change global state
    "%load_ext autoreload",              # a magic other than timing
    "!rm data.txt",                      # a shell line
    "def helper():\n    return 1",       # a definition a later cell may call
    "this is ( not python",
])
def test_a_cell_with_a_side_effect_before_a_test_is_kept(side_effect):
    assert _needed(("ordinary", "import numpy as np"), ("ordinary", side_effect),
                   ("test", "assert True"))[1] is True


def test_dependencies_are_followed_through_several_cells_and_into_function_bodies():
    cells = [("ordinary", "data = [1, 2, 3]"),              # read by make_x's body
             ("ordinary", "unused = [9]\nprint(unused)"),
             ("ordinary", "def make_x():\n    return data"),
             ("ordinary", "x = make_x()"),
             ("ordinary", "%%time\ny = [v * 2 for v in x]"),  # timing magic: still analysed
             ("test", "assert y == [2, 4, 6]")]
    assert _needed(*cells) == [True, False, True, True, True, True]


def test_display_only_cells_between_tests_are_skipped():
    cells = [("ordinary", "import matplotlib.pyplot as plt\nimport numpy as np\nx = np.ones(3)"),
             ("test", "assert x.sum() == 3"),
             ("ordinary", "fig, ax = plt.subplots()\nax.plot(x)\nplt.show()\nprint(len(x))"),
             ("test", "assert x.shape == (3,)")]
    assert _needed(*cells) == [True, True, False, True]


@pytest.mark.parametrize("assignment", ["03_backprop_by_hand", "10_hand_signs"])
def test_on_the_course_the_slow_cells_after_the_last_test_are_skipped(assignment):
    nb = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    kinds = ["test" if c["metadata"].get("nbgrader", {}).get("grade") and not
             c["metadata"]["nbgrader"].get("solution") else "other" for c in code]
    needed = needed_cells([(k, "".join(c["source"])) for k, c in zip(kinds, code)])
    last_test = max(i for i, k in enumerate(kinds) if k == "test")
    assert all(needed[i] for i, k in enumerate(kinds) if k == "test")
    assert not any(needed[last_test + 1:]) and len(needed) > last_test + 1
