"""The autograder (autograder/grade.py): fair scores, hostile and malformed submissions, LMS zips.

One batch of purpose-made submissions of the tiny fixture assignment (tests/fixtures/autograder, NumPy only) is
graded once, in parallel and sandboxed, with tight limits; each test then checks the grade its submission must
get. Exercise 1 (add_one) is worth 2 points, exercise 2 (row_means) 3.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import grade  # noqa: E402
import trusted  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "autograder" / "solutions"
A, NB = "90_tiny", "90_tiny"
ADD = "import numpy as np\n\n\ndef add_one(x):\n    return np.asarray(x, dtype=np.float64) + 1.0\n"
MEANS = "def row_means(a):\n    return np.asarray(a, dtype=np.float64).mean(axis=1)\n"
WRONG_MEANS = "def row_means(a):\n    return np.asarray(a).sum(axis=1)\n"

pytestmark = pytest.mark.skipif(not grade.bwrap_available(), reason="bubblewrap missing: run `make grade-deps`")


def _tree_digest(*folders: Path) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and "work" not in p.relative_to(folder).parts:
                h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def release_nb(tmp_path_factory) -> dict:
    course = tmp_path_factory.mktemp("course")
    grade.prepare_course(FIXTURES, course, f"sqlite:///{course}/gb.db", grade.load_config(), [A])
    return json.loads((course / "release" / A / f"{NB}.ipynb").read_text())


def notebook(release_nb, cells: dict | None = None, edit=None) -> dict:
    nb = copy.deepcopy(release_nb)
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cells and gid in cells:
            cell["source"] = cells[gid]
    if edit:
        edit(nb)
    return nb


def solved(add=ADD, means=MEANS) -> dict:
    return {"t90_add_one": add, "t90_row_means": means}


def _drop_tests(nb):
    nb["cells"] = [c for c in nb["cells"] if not c["metadata"].get("nbgrader", {}).get("grade")]


def _retype_solution(nb):
    for c in nb["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "t90_add_one":
            c["cell_type"] = "markdown"
            c.pop("outputs", None)
            c.pop("execution_count", None)


def _duplicate_solution(nb):
    cells = nb["cells"]
    i = next(i for i, c in enumerate(cells) if c["metadata"].get("nbgrader", {}).get("grade_id") == "t90_row_means")
    dup = copy.deepcopy(cells[i])
    dup["source"], dup["id"] = WRONG_MEANS, "dup-cell"
    cells.insert(i + 1, dup)


def _new_ids(nb):
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"renamed-{i}"


def _python3_kernel(nb):
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _huge_outputs(nb):
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * 7_000_000}]
            break


# What each student submits, and the grade it must get: (score, status, words the messages must contain).
CASES = {
    # fair scores
    "perfect": (solved(), None, 5, "ok", []),
    "untouched": ({}, None, 0, "ok", ["no exercise answered"]),  # not run: nothing but stubs
    "one_answer": ({"t90_row_means": MEANS}, None, 3, "ok", []),  # run: the other stub raises NotImplementedError
    "partial": (solved(means=WRONG_MEANS), None, 2, "ok", []),
    "warnings": (solved(add="import sys, warnings\nimport numpy as np\n\n\ndef add_one(x):\n"
                            "    warnings.warn('this is deprecated', DeprecationWarning)\n"
                            "    print('W0000 tensorflow: oneDNN custom operations are on', file=sys.stderr)\n"
                            "    return np.asarray(x, dtype=np.float64) + 1.0\n"), None, 5, "ok", []),
    # hostile: tricks that fool stock nbgrader get no points here
    "patch_numpy": (solved(add="import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                                "np.testing.assert_array_equal = lambda *a, **k: None\n"
                                "class FakeNp:\n    testing = np.testing\n    asarray = np.asarray\n"
                                "    float64 = np.float64\n    ndarray = np.ndarray\nnp = FakeNp()\n\n"
                                "def add_one(x):\n    return np.asarray(x, dtype=np.float64)\n"), None, 3, "ok", []),
    "always_equal": (solved(add="class Anything:\n    def __eq__(self, other):\n        return True\n"
                                 "    __array_priority__ = 1e9\n\n\ndef add_one(x):\n    return Anything()\n"),
                     None, 3, "ok", []),
    "patch_builtins": (solved(add="import builtins\nbuiltins.all = lambda *a: True\nbuiltins.abs = lambda x: 0\n"
                                   "builtins.AssertionError = type('Nope', (Exception,), {})\n"
                                   "import numpy as np\n\ndef add_one(x):\n    return np.zeros(np.shape(x))\n"),
                       None, 3, "ok", []),
    # the runner itself patched (sandbox mode's hole): the student process stops running cells, the checks still run
    "patch_runner": (solved(means=WRONG_MEANS + "import sys\nsys.modules['cellshell'].CellShell.run = "
                                                "lambda *a, **k: None\nget_ipython().run_cell = lambda *a, **k: None\n"),
                     None, 2, "ok", []),
    # patching isinstance breaks the student's own process (IPython, json): no points, and the batch goes on
    "break_builtins": (solved(add="import builtins\nbuiltins.isinstance = lambda *a: True\n" + ADD), None, 0,
                       "error", ["exited"]),
    "showtraceback": (solved(add="ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
                                  "ip._showtraceback = lambda *a, **k: None\n"
                                  "import numpy as np\n\ndef add_one(x):\n    return np.asarray(x) * 0.0\n"),
                      None, 3, "ok", []),
    "sys_exit": (solved(add="import sys\n\ndef add_one(x):\n    sys.exit(0)\n"), None, 3, "ok", []),
    "os_exit": (solved(means="import os\n\ndef row_means(a):\n    os._exit(0)\n"), None, 2, "error",
                ["exited"]),
    "reads_secrets": (solved(add="import glob, numpy as np\n\ndef add_one(x):\n"
                                  "    found = glob.glob('/work/**/gradebook.db', recursive=True)"
                                  " + glob.glob('/work/*/solutions/*') + glob.glob('/work/*/autograder/*')"
                                  " + glob.glob('/work/*/tests/fixtures/*/*/*/*.ipynb')"
                                  " + glob.glob('/tmp/**/source/**/*.ipynb', recursive=True)"
                                  " + glob.glob('/home/*/../*/*/submitted/*')\n"
                                  "    for path in ['" + str(FIXTURES) + "/90_tiny/planted.txt', '"
                                  + str(ROOT) + "/planted.txt']:\n"
                                  "        try:\n            open(path, 'w').write('x')\n"
                                  "            found.append(path)\n        except OSError:\n            pass\n"
                                  "    import urllib.request\n    try:\n"
                                  "        urllib.request.urlopen('http://1.1.1.1', timeout=2)\n"
                                  "        found.append('network')\n    except Exception:\n        pass\n"
                                  "    if found:\n        print(found)\n        return np.asarray(x, dtype=np.float64) + 1.0\n"
                                  "    return np.zeros(np.shape(x))\n"), None, 3, "ok", []),
    "symlink_secret": (solved(add="import numpy as np\n\ndef add_one(x):\n    try:\n"
                                   "        secret = open('solution_link.ipynb').read()\n    except OSError:\n"
                                   "        secret = ''\n    if 'HIDDEN' in secret:\n"
                                   "        return np.asarray(x, dtype=np.float64) + 1.0\n"
                                   "    return np.zeros(np.shape(x))\n"), None, 3, "ok", []),
    "shadow_data": (solved(means="data = np.zeros((2, 3))\n\ndef row_means(a):\n    return np.zeros(len(a))\n"),
                    None, 2, "ok", []),
    "fork_bomb": (solved(add="import os, time\nfor _ in range(100000):\n    if os.fork() == 0:\n"
                              "        time.sleep(120)\n        os._exit(0)\n"), None, 3, "ok", []),
    "memory_hog": (solved(add="import time, numpy as np\nhog = []\nfor _ in range(40):\n"
                               "    hog.append(np.ones(50 * 2**20 // 8))\n    time.sleep(0.05)\n" + ADD),
                   None, 0, "limit", ["memory limit"]),
    "endless_loop": (solved(add="def add_one(x):\n    while True:\n        pass\n"), None, 0, "limit",
                     ["time limit"]),
    "huge_print": (solved(add="print('y' * 30_000_000)\n" + ADD), None, 5, "ok", []),
    # malformed
    "deleted_tests": (solved(), _drop_tests, 5, "ok", ["deleted"]),
    "retyped_cell": (solved(), _retype_solution, 3, "ok", ["changed from code to markdown"]),
    "duplicated_cell": (solved(), _duplicate_solution, 5, "ok", ["duplicated"]),
    "new_cell_ids": (solved(), _new_ids, 5, "ok", ["cell ids differ"]),
    "other_kernel": (solved(), _python3_kernel, 5, "ok", ["kernel 'python3'"]),
    "huge_outputs": (solved(), _huge_outputs, 5, "ok", ["outputs are never graded"]),
}
RAW = {  # submissions written as raw bytes
    "bad_json": (b'{"cells": [', 0, "malformed", ["not valid JSON"]),
    "bad_nbformat": (json.dumps({"nbformat": 99, "nbformat_minor": 0, "metadata": {}, "cells": []}).encode(),
                     0, "malformed", ["format"]),
}


def write_submissions(subs: Path, release_nb: dict, cases: dict, raw: dict) -> None:
    """subs/<student>/90_tiny/90_tiny.ipynb: the release edited per case (cells None: an empty folder), or raw bytes."""
    for student, (cells, edit, *_rest) in cases.items():
        folder = subs / student / A
        folder.mkdir(parents=True)
        if cells is not None:
            (folder / f"{NB}.ipynb").write_text(json.dumps(notebook(release_nb, cells, edit)))
    for student, (data, *_rest) in raw.items():
        (subs / student / A).mkdir(parents=True)
        (subs / student / A / f"{NB}.ipynb").write_bytes(data)


@pytest.fixture(scope="module")
def batch(release_nb, tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs") / "submitted"
    write_submissions(subs, release_nb, CASES, RAW)
    (subs / "perfect" / A / "notes.txt").write_text("extra file")
    (subs / "symlink_secret" / A / "solution_link.ipynb").symlink_to(FIXTURES / A / f"{NB}.ipynb")
    (subs / "missing_nb" / A).mkdir(parents=True)
    (subs / "missing_nb" / A / "other.ipynb").write_text("{}")
    # (solutions/ is not hashed: other authors may be changing it while the tests run)
    before = _tree_digest(FIXTURES, ROOT / "autograder")
    out = tmp_path_factory.mktemp("grades") / "out"
    rows = grade.run(grade.build_parser().parse_args(
        [str(subs.parent), "--out", str(out), "--source", str(FIXTURES), "--cell-timeout", "15",
         "--notebook-timeout", "120", "--memory-mb", "400", "--processes", "64"]))
    after = _tree_digest(FIXTURES, ROOT / "autograder")
    return {"rows": {r.student: r for r in rows}, "out": out, "unchanged": before == after}


EXPECTED = {s: (score, status, words) for s, (_c, _e, score, status, words) in CASES.items()}
EXPECTED.update({s: (score, status, words) for s, (_r, score, status, words) in RAW.items()})
EXPECTED["missing_nb"] = (0, "missing", ["missing notebook"])


def assert_row(row, score, status, words, max_score=5):
    """The grade a submission must get: its score and status, and words its messages must contain."""
    assert (row.score, row.status) == (score, status), row.messages
    assert row.max_score == max_score
    for word in words:
        assert any(word in m for m in row.messages), row.messages


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_gets_its_grade(batch, student):
    assert_row(batch["rows"][student], *EXPECTED[student])


def test_outputs_csv_feedback_plot_and_gradebook(batch):
    out = batch["out"]
    with open(out / "grades.csv") as f:
        table = list(csv.DictReader(f))
    assert sorted(r["student"] for r in table) == sorted(EXPECTED)
    perfect = next(r for r in table if r["student"] == "perfect")
    assert (perfect["score"], perfect["t90_test_add_one"], perfect["t90_test_row_means"]) == ("5", "2", "3")
    assert "extra files" in perfect["messages"]
    for student in EXPECTED:
        html = (out / "feedback" / student / A / f"{NB}.html").read_text()
        assert "Grader report" in html
        assert "default_rng" not in html and "HIDDEN TESTS" not in html  # hidden tests stay hidden
    assert (out / "feedback" / "huge_print" / A / f"{NB}.html").stat().st_size < 2_000_000
    assert (out / "score_distribution.png").read_bytes()[:4] == b"\x89PNG"
    with open(out / "similarity.csv") as f:  # make grade's similarity step, beside the grades
        pairs = list(csv.DictReader(f))
    assert {frozenset((r["student_a"], r["student_b"])) for r in pairs} >= {frozenset(("perfect", "partial"))}
    assert "<html" in (out / "similarity.html").read_text().lower()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "perfect").score == 5
        assert gb.find_submission(A, "partial").score == 2


def test_course_directory_is_untouched_and_nothing_planted(batch):
    assert batch["unchanged"]
    assert not (FIXTURES / A / "planted.txt").exists() and not (ROOT / "planted.txt").exists()


def test_lms_zip_is_collected(release_nb, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"alice_1001_2001_{NB}.ipynb", json.dumps(notebook(release_nb, solved())))
        zf.writestr(f"bob_late_1002_2002_{NB}-1.ipynb",
                    json.dumps(notebook(release_nb, solved(means=WRONG_MEANS))))
        zf.writestr("readme.txt", "not a submission")
        zf.writestr("../evil.ipynb", "{}")
    rows = grade.run(grade.build_parser().parse_args(
        [str(archive), "--out", str(tmp_path / "out"), "--source", str(FIXTURES)]))
    assert {r.student: r.score for r in rows} == {"alice": 5, "bob": 2}
    assert not (tmp_path / "evil.ipynb").exists()


def test_grade_rule_matches_nbgrader():
    from nbformat import from_dict
    from nbgrader.utils import determine_grade

    meta = {"nbgrader": {"grade": True, "solution": False, "points": 3, "grade_id": "g"}}
    cases = [[], [{"output_type": "stream", "name": "stdout", "text": "ok"}],
             [{"output_type": "stream", "name": "stderr", "text": "oops"}],
             [{"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}],
             [{"output_type": "execute_result", "data": {"text/plain": "1.5"}, "metadata": {}, "execution_count": 1}],
             [{"output_type": "execute_result", "data": {"text/plain": "'text'"}, "metadata": {},
               "execution_count": 1}]]
    for outputs in cases:
        cell = {"cell_type": "code", "metadata": meta, "source": "", "outputs": outputs, "execution_count": 1}
        assert trusted.determine_grade(cell) == tuple(float(x) for x in determine_grade(from_dict(cell))), outputs


def test_defined_names_of_an_instructor_cell():
    names, imports = trusted.defined_names("# GRADED\nimport numpy as np\nfrom math import pi as PI\n"
                                           "%time x = 1\nW, b = 1, 2\ndef f():\n    inner = 1\nclass C: pass\n"
                                           "for i in range(2):\n    total = i\n")
    assert names == ["W", "b", "f", "C", "i", "total"]
    assert len(imports) == 2


def test_tests_in_sandbox_mode_grades_and_hides_hidden_tests(release_nb, tmp_path):
    subs = tmp_path / "submitted"
    for who, cells in (("perfect", solved()), ("partial", solved(means=WRONG_MEANS)),
                       # walks up the stack to the runner's copy of the test cell and prints it everywhere
                       ("leaker", solved(means="import sys\n\ndef row_means(a):\n    found = []\n"
                                               "    f = sys._getframe()\n    while f is not None:\n"
                                               "        found += [str(v) for k, v in f.f_locals.items()"
                                               " if k in ('code', 'request')]\n        f = f.f_back\n"
                                               "    text = ' '.join(found)\n    print(text)\n"
                                               "    print(text, file=sys.stderr)\n"
                                               "    raise AssertionError(text)\n")),
                       # searches every container the process holds for the hidden tests' text, shows it in its
                       # output and in an error of its own making
                       ("gc_leaker", solved(means="import gc, sys\n\ndef row_means(a):\n    found = []\n"
                                                  "    for o in gc.get_objects():\n"
                                                  "        items = o.values() if isinstance(o, dict) else o"
                                                  " if isinstance(o, (list, tuple)) else ()\n"
                                                  "        found += [v for v in items if isinstance(v, str)"
                                                  " and 'default_rng' in v][:3]\n"
                                                  "    text = ' '.join(found)\n    print(text)\n"
                                                  "    print(text, file=sys.stderr)\n"
                                                  "    raise AssertionError(text)\n")),
                       # wrong code that disables the checks: earns the points in this mode, by design (README,
                       # "--tests-in-sandbox": lower assurance); the same answer gets 3 in the trusted process
                       ("patcher", solved(means=WRONG_MEANS + "\nnp.testing.assert_allclose = lambda *a, **k: None\n"))):
        (subs / who / A).mkdir(parents=True)
        (subs / who / A / f"{NB}.ipynb").write_text(json.dumps(notebook(release_nb, cells)))
    out = tmp_path / "out"
    rows = grade.run(grade.build_parser().parse_args(
        [str(subs), "--out", str(out), "--source", str(FIXTURES), "--tests-in-sandbox", A]))
    assert {r.student: r.score for r in rows} == {"perfect": 5, "partial": 2, "leaker": 2, "gc_leaker": 2,
                                                  "patcher": 5}
    assert all(any("inside the sandbox" in m for m in r.messages) for r in rows)
    for who in ("leaker", "gc_leaker"):
        html = (out / "feedback" / who / A / f"{NB}.html").read_text()
        assert "default_rng(1)" not in html and "np.ones((2, 9))" not in html, who


def test_plainwire_round_trip_keeps_shapes_types_and_refuses_objects():
    import numpy as np

    import plainwire as wire

    values = [np.array(0.5), np.float32(2.0), np.int64(3), np.arange(6.0).reshape(2, 3).T, [1, (2.5, "x")],
              {"a": np.zeros(2), 3: None}, float("nan"), 2**70, b"\x00\x01", np.float32, np.dtype("<f4"),
              slice(1, None, 2), {1, 2}]
    for value in values:
        arrays: list[bytes] = []
        back = wire.decode(wire.encode(value, arrays, lambda o: {"t": "ref", "h": 1}), arrays, lambda r: "REF")
        assert type(back) is type(value), (value, back)
        if isinstance(value, np.ndarray):
            assert back.shape == value.shape and back.dtype == value.dtype
            np.testing.assert_array_equal(back, value)
    arrays = []
    assert wire.encode(np.array([object()], dtype=object), arrays, lambda o: {"t": "ref", "h": 7})["t"] == "ref"

    class Sneaky(int):
        def __eq__(self, other):
            return True

    assert wire.encode(Sneaky(1), [], lambda o: {"t": "ref", "h": 9}) == {"t": "ref", "h": 9}
    import io
    import pickle

    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.decode({"t": "nd", "i": 0}, [buf.getvalue()], None)
    with pytest.raises(wire.WireError):
        wire.decode({"t": "nd", "i": 0}, [pickle.dumps(np.zeros(2))], None)
