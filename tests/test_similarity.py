"""The similarity report (autograder/similarity.py) on a class generated from 03_backprop_by_hand.

The class: alice submits the instructor's answers; bob copies her exactly, carol renames every local variable,
dave changes every comment, reformats the code and swaps the code of two cells (functions reordered); ivan
writes his own answers (tests/fixtures/similarity/independent_03.py) with helper functions, ivo copies him with
the functions reordered and other comments, ian with renamed variables and reformatted code; jun, kim and lea
wrote their own, different, correct answers; sam submits the untouched starter notebook. Every copy must rank
above every pair of independent authors, and sam must match nobody.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "similarity"))
import similarity  # noqa: E402
from copier_edits import (instructor_answers, recomment, reformat, rename_locals, reorder_functions,  # noqa: E402
                   write_notebook)
from independent_03 import AUTHORS  # noqa: E402

A = "03_backprop_by_hand"
RELEASE = json.loads((ROOT / "notebooks" / A / f"{A}.ipynb").read_text())
GROUPS = {"alice": "instructor", "bob": "instructor", "carol": "instructor", "dave": "instructor",
          "ivan": "ivan", "ivo": "ivan", "ian": "ivan", "jun": "jun", "kim": "kim", "lea": "lea", "sam": "sam"}


def _src(cell) -> str:
    return "".join(cell["source"])


def make_class(tmp_path: Path) -> Path:
    alice = instructor_answers()
    ivan = AUTHORS["ivan"]
    dave = {g: recomment(reformat(s)) for g, s in alice.items()}
    dave["n03_model_forward"], dave["n03_compute_loss"] = dave["n03_compute_loss"], dave["n03_model_forward"]
    answers = {
        "alice": alice, "bob": dict(alice), "carol": {g: rename_locals(s) for g, s in alice.items()}, "dave": dave,
        "ivan": ivan, "ivo": {g: recomment(reorder_functions(s)) for g, s in ivan.items()},
        "ian": {g: reformat(rename_locals(s)) for g, s in ivan.items()},
        "jun": AUTHORS["jun"], "kim": AUTHORS["kim"], "lea": AUTHORS["lea"], "sam": {},
    }
    root = tmp_path / "submitted"
    for student, cells in answers.items():
        write_notebook(root / student / A / f"{A}.ipynb", cells, RELEASE)
    return root


# ------------------------------------------------------------------ the fixtures are honest
def _namespace(cells: dict) -> dict:
    ns = {"np": np}
    for gid, src in instructor_answers().items():   # in notebook order; a student's own answer replaces it
        exec(compile(cells.get(gid, src), gid, "exec"), ns)  # noqa: S102 (our own fixtures, not student code)
    return ns


def test_every_fixture_answer_is_correct():
    """The independent authors' answers and the copiers' edited answers compute what the instructor's do."""
    ref = _namespace({})
    candidates = dict(AUTHORS)
    candidates["carol"] = {g: rename_locals(s) for g, s in instructor_answers().items()}
    candidates["ian"] = {g: reformat(rename_locals(s)) for g, s in AUTHORS["ivan"].items()}
    candidates["ivo"] = {g: recomment(reorder_functions(s)) for g, s in AUTHORS["ivan"].items()}
    rng = np.random.default_rng(7)
    X = rng.standard_normal((6, 4))
    Y = np.eye(3)[rng.integers(0, 3, 6)]
    for who, cells in candidates.items():
        ns = _namespace(cells)
        p_ref, p = ref["initialize_parameters"]([4, 5, 3], seed=3), ns["initialize_parameters"]([4, 5, 3], seed=3)
        assert p_ref.keys() == p.keys(), who
        for key in p_ref:
            np.testing.assert_allclose(p[key], p_ref[key], err_msg=f"{who} initialize_parameters")
        for act in ("relu", "sigmoid", "softmax"):
            np.testing.assert_allclose(ns["activation_forward"](X, p["W1"], p["b1"] + 0.1, act)[0],
                                       ref["activation_forward"](X, p["W1"], p["b1"] + 0.1, act)[0], rtol=1e-6,
                                       err_msg=f"{who} activation_forward {act}")
        AL, caches = ns["model_forward"](X, p)
        AL_ref, caches_ref = ref["model_forward"](X, p_ref)
        np.testing.assert_allclose(AL, AL_ref, rtol=1e-6, err_msg=f"{who} model_forward")
        assert ns["compute_loss"](AL, Y) == pytest.approx(ref["compute_loss"](AL_ref, Y), rel=1e-9), who
        dA = rng.standard_normal((6, 5))
        for act in ("relu", "sigmoid"):
            for got, want in zip(ns["activation_backward"](dA, caches[0], act),
                                 ref["activation_backward"](dA, caches_ref[0], act)):
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12, err_msg=f"{who} activation_backward")
        grads, grads_ref = ns["model_backward"](AL, Y, caches), ref["model_backward"](AL_ref, Y, caches_ref)
        assert grads.keys() == grads_ref.keys(), who
        for key in grads_ref:
            np.testing.assert_allclose(grads[key], grads_ref[key], rtol=1e-6, atol=1e-12, err_msg=f"{who} {key}")
        vel = {k: 0.1 * v for k, v in p_ref.items()}
        new, new_v = ns["update_parameters"]({k: v.copy() for k, v in p.items()}, grads,
                                             {k: v.copy() for k, v in vel.items()}, 0.05, 0.9)
        want, want_v = ref["update_parameters"]({k: v.copy() for k, v in p_ref.items()}, grads_ref,
                                                {k: v.copy() for k, v in vel.items()}, 0.05, 0.9)
        for key in want:
            np.testing.assert_allclose(new[key], want[key], err_msg=f"{who} update_parameters")
            np.testing.assert_allclose(new_v[key], want_v[key], err_msg=f"{who} update_parameters velocity")
        small = ns["initialize_parameters"]([4, 3, 3], seed=1)
        g = ns["model_backward"](Y, Y, ns["model_forward"](X, small)[1])  # any gradient: compare the returned gap
        assert ns["gradient_check"]({k: v.copy() for k, v in small.items()}, g, X, Y) == pytest.approx(
            ref["gradient_check"]({k: v.copy() for k, v in small.items()}, g, X, Y), rel=1e-4), who


# ------------------------------------------------------------------ the report ranks copies first
@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("similarity")
    results = similarity.write_similarity(make_class(tmp), tmp / "out")
    return tmp / "out", results[A]


def _split(pairs):
    copies = [p for p in pairs if GROUPS[p.a] == GROUPS[p.b]]
    independent = [p for p in pairs if GROUPS[p.a] != GROUPS[p.b]]
    return copies, independent


def test_every_copy_ranks_above_every_independent_pair(report):
    _, pairs = report
    copies, independent = _split(pairs)
    assert len(copies) == 6 + 3 and len(independent) == 55 - 9
    weakest = min(copies, key=lambda p: p.similarity)
    closest = max(independent, key=lambda p: p.similarity)
    print(f"\nweakest copy {weakest.a}/{weakest.b} {weakest.similarity:.3f}; "
          f"closest independent pair {closest.a}/{closest.b} {closest.similarity:.3f}")
    assert weakest.similarity > closest.similarity + 0.2, (weakest, closest)
    assert [GROUPS[p.a] == GROUPS[p.b] for p in pairs[:9]] == [True] * 9   # the ranking itself
    exact = [p for p in pairs if {p.a, p.b} == {"alice", "bob"}][0]
    assert exact.similarity > 0.9


def test_the_ranking_holds_per_exercise(report):
    """Within each exercise, the copied cells rank above the independent ones (dave swapped the code of two
    cells: those two cells are left out for his pairs; they count in the whole-assignment score)."""
    _, pairs = report
    copies, independent = _split(pairs)
    swapped = ("n03_model_forward", "n03_compute_loss")
    for ex in instructor_answers():
        copied = [p.per_exercise.get(ex, 0.0) for p in copies if not ("dave" in (p.a, p.b) and ex in swapped)]
        indep = [p.per_exercise.get(ex, 0.0) for p in independent]
        assert min(copied) > max(indep) + 0.2, (ex, min(copied), max(indep))


def test_the_untouched_starter_notebook_matches_nobody(report):
    _, pairs = report
    sams = [p for p in pairs if "sam" in (p.a, p.b)]
    assert len(sams) == 10 and all(p.similarity == 0.0 and p.exercise == "" for p in sams)


def test_heat_map_order_puts_copy_groups_together(report):
    _, pairs = report
    order = similarity.heat_order(sorted(GROUPS), pairs)
    assert order[:7] in (["ian", "ivan", "ivo", "alice", "bob", "carol", "dave"],
                         ["alice", "bob", "carol", "dave", "ian", "ivan", "ivo"])
    assert order[7:] == ["jun", "kim", "lea", "sam"]


def test_csv_and_html(report):
    out, pairs = report
    with open(out / "similarity.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 55
    assert set(rows[0]) >= {"assignment", "student_a", "student_b", "similarity", "exercise"}
    top = rows[0]
    assert top["assignment"] == A and GROUPS[top["student_a"]] == GROUPS[top["student_b"]]
    assert top["exercise"].startswith("n03_") and 0 < float(top["similarity"]) <= 1
    page = (out / "similarity.html").read_text()
    assert "data:image/png;base64," in page and 'class="m"' in page and page.count("<details>") >= 10


def test_published_code_is_not_evidence():
    """The release notebook's own code (stubs, examples, public tests) leaves nothing to compare; a student who
    pasted a public test into a solution cell shares nothing with another who did the same."""
    published = similarity.published_prints(RELEASE)
    code_cells = [c for c in RELEASE["cells"] if c["cell_type"] == "code"]  # not the written answers
    test_cell = next(_src(c) for c in code_cells if c["metadata"].get("nbgrader", {}).get("grade"))
    stub = next(_src(c) for c in code_cells if c["metadata"].get("nbgrader", {}).get("solution"))
    for code in (test_cell, stub):
        prints = set(similarity.fingerprint(code).prints)
        assert prints and not prints - published


def test_normalisation():
    """Comments, names, formatting and function order change nothing; a different algorithm changes a lot."""
    fp = lambda s: set(similarity.fingerprint(s).prints)  # noqa: E731
    base = "def f(x, n):\n    total = 0\n    for i in range(n):\n        total += x[i] * i\n    return total\n\n" \
           "def g(y):\n    return [v * 2 for v in y if v > 0]\n"
    variants = [
        "def f(x, n):\n    # sum it\n    acc = 0\n    for k in range(n):  # loop\n        acc += x[k] * k\n"
        "    return acc\n"
        "\n\ndef g(y):\n    '''doubles'''\n    return [w * 2 for w in y if w > 0]\n",
        "def g(vals):\n  return [v*2 for v in vals if v>0]\ndef f(arr, count):\n  s = 0\n"
        "  for j in range(count):\n    s += arr[j]*j\n  return s\n",
    ]
    for v in variants:
        assert fp(v) == fp(base)
    other = "def f(x, n):\n    return sum(a * b for a, b in zip(x, range(n)))\n"
    assert len(fp(other) & fp(base)) <= len(fp(base)) // 4


# ------------------------------------------------------------------ hostile and broken submissions
def write_release_copy(path: Path, cells: dict) -> None:
    write_notebook(path, cells, RELEASE)


def test_broken_and_hostile_submissions_never_crash_or_run(tmp_path, monkeypatch, capsys):
    import prepare

    monkeypatch.setattr(prepare, "MAX_NOTEBOOK_BYTES", 2_000_000)  # where prepare() reads it
    root = tmp_path / "submitted"
    alice = instructor_answers()
    broken = dict(alice, n03_linear_backward="def linear_backward(dZ, cache):\n    A_prev, W, b = cache\n"
                  "    dW = A_prev.T @ dZ\n    db = dZ.sum(axis=0\n    dA_prev = dZ @ W.T\n"
                  "    return dA_prev, dW, db\n")
    marker = tmp_path / "pwned"
    evil = dict(alice, n03_linear_forward=f"open({str(marker)!r}, 'w').write('x')\n"
                f"def linear_forward(A_prev, W, b):\n    return '</pre><script>alert(1)</script>', 0\n"
                "%timeit linear_forward(1, 2, 3)\n")
    write_release_copy(root / "ann" / A / f"{A}.ipynb", broken)
    write_release_copy(root / "ben" / A / f"{A}.ipynb", broken)          # copies ann's syntax error too
    write_release_copy(root / "eve" / A / f"{A}.ipynb", evil)
    write_release_copy(root / "eva" / A / f"{A}.ipynb", evil)            # shown side by side: escaped
    write_release_copy(root / "hugo" / A / f"{A}.ipynb", dict(alice, n03_compute_loss="x = 1\n" * 30_000))
    (root / "jay" / A).mkdir(parents=True)
    (root / "jay" / A / f"{A}.ipynb").write_text('{"cells": [')       # malformed JSON
    (root / "max" / A).mkdir(parents=True)
    (root / "max" / A / f"{A}.ipynb").write_bytes(b"{" + b" " * 2_100_000 + b"}")   # over the size limit
    (root / "nat" / A).mkdir(parents=True)
    (root / "nat" / A / f"{A}.ipynb").write_text('["not", "a", "notebook"]')
    write_release_copy(root / "zed" / A / f"{A}.ipynb",
                   dict(alice, n03_compute_loss="def compute_loss(AL, Y):\n    return " + "(" * 5000 + ")" * 5000))
    out = tmp_path / "out"
    pairs = similarity.write_similarity(root, out)[A]
    assert not marker.exists()
    names = {n for p in pairs for n in (p.a, p.b)}
    assert names == {"ann", "ben", "eva", "eve", "hugo", "zed"}
    top = {frozenset((p.a, p.b)): p for p in pairs[:2]}    # the only code not shared by the whole class
    assert top.keys() == {frozenset(("ann", "ben")), frozenset(("eva", "eve"))}
    assert top[frozenset(("ann", "ben"))].exercise == "n03_linear_backward"
    assert min(p.similarity for p in top.values()) > 0.5
    page = (out / "similarity.html").read_text()
    assert "<script>" not in page and "&lt;/pre&gt;&lt;script&gt;" in page
    for who in ("jay", "max", "nat"):
        assert f"{who}: {A} not compared" in page
    assert "over the 1 MB limit" in page  # max: refused for its size, before any parsing
    assert "compared as tokens" in page and "over 100000" in page
    printed = capsys.readouterr().out
    assert "ann: n03_linear_backward does not parse" in printed


def test_a_list_of_notebooks_and_odd_student_ids(tmp_path):
    """write_similarity also takes (student, assignment, notebook) tuples; ids a spreadsheet would run as a
    formula are quoted in the csv, and every id is escaped in the HTML."""
    alice = instructor_answers()
    entries = []
    for i, student in enumerate(("=HYPERLINK(1)", "<b>x</b>", "plain")):
        path = tmp_path / f"s{i}" / f"{A}.ipynb"
        write_release_copy(path, alice if i < 2 else AUTHORS["kim"])
        entries.append((student, A, path))
    pairs = similarity.write_similarity(entries, tmp_path / "out")[A]
    assert len(pairs) == 3 and {pairs[0].a, pairs[0].b} == {"=HYPERLINK(1)", "<b>x</b>"}
    with open(tmp_path / "out" / "similarity.csv", encoding="utf-8") as fh:
        first = list(csv.DictReader(fh))[0]
    assert {first["student_a"], first["student_b"]} == {"'=HYPERLINK(1)", "<b>x</b>"}
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_command_line_and_make_target(tmp_path):
    root = make_class(tmp_path)
    out = tmp_path / "cli"
    assert similarity.main([str(root.parent), "--out", str(out)]) == 0
    assert (out / "similarity.csv").is_file() and (out / "similarity.html").is_file()
    archive = shutil.make_archive(str(tmp_path / "class"), "zip", root.parent)   # an LMS-style zip of the folder
    assert similarity.main([archive, "--out", str(tmp_path / "zip")]) == 0
    assert (tmp_path / "zip" / "similarity.csv").read_text() == (out / "similarity.csv").read_text()
    dry = subprocess.run(["make", "-n", "similarity", f"SUBMISSIONS={root}", f"SIMILARITY_OUT={out}"], cwd=ROOT,
                         capture_output=True, text=True)
    assert dry.returncode == 0 and "autograder/similarity.py" in dry.stdout, dry.stdout + dry.stderr
    grade_dry = subprocess.run(["make", "-n", "grade", f"SUBMISSIONS={root}"], cwd=ROOT, capture_output=True,
                               text=True)
    assert "similarity.py" not in grade_dry.stdout
