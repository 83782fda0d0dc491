"""The grader's batch, collect and report stages (issue 12 items 4-5, issue 13 report side).

A batch always finishes: every odd input below gets its own row with the status and score it must get, and the
rest of the class is graded. Strings a student controls never become markup in the feedback; symlinks are never
followed; every student id gets a row; the latest LMS resubmission wins; reports (feedback template, gradebook,
formgrader layout, LMS CSV) work for task cells, several notebooks per assignment and notebooks without cell ids.
Uses the tiny fixture assignment of tests/test_autograder.py (add_one: 2 points, row_means: 3).
"""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from test_autograder import (A, ADD, FIXTURES, MEANS, NB, WRONG_MEANS, assert_row, grade, notebook,  # noqa: F401
                             release_nb, solved, write_submissions)

import collect  # noqa: E402  (autograder/ is on sys.path through test_autograder)
import report  # noqa: E402

pytestmark = pytest.mark.skipif(not grade.bwrap_available(), reason="bubblewrap missing: run `make grade-deps`")

XSS = "<img src=y onerror=alert(1)>"


def _set(gid, key, value):
    def edit(nb):
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == gid:
                cell[key] = value
    return edit


def _nb_meta_list(nb):
    nb["metadata"] = []


def _display_big(n, mb):
    return ("ip = get_ipython()\nfrom IPython.display import display\nblob = 'A' * (%d * 2**20)\n"
            "for _ in range(%d):\n    display({'image/png': blob}, raw=True)\n" % (mb, n)) + ADD


def _hold(where):
    """A solution cell that holds up to 1.2 GB outside any process's resident memory (until a size-limited tmpfs is
    full), then waits for the watchdog."""
    store = {"memfd": "fd = os.memfd_create(f'm{i}')\n    os.write(fd, chunk)\n    kept.append(fd)",
             "shm": "open(f'/dev/shm/f{i}', 'wb').write(chunk)", "tmp": "open(f'/tmp/f{i}', 'wb').write(chunk)",
             "home": "open(f'/home/student/f{i}', 'wb').write(chunk)"}[where]
    return ("import os, time\nkept = []\nchunk = b'x' * (100 * 2**20)\nfor i in range(12):\n    try:\n        "
            + store.replace("\n    ", "\n        ") + "\n    except OSError:\n        break\ntime.sleep(8)\n" + ADD)


def _forged_reply(body_expr: str):
    """An add_one that writes a reply frame of its own making (8-byte size, then the body) straight into the
    channel to the trusted process (the student process's argv[2]) before returning the right value."""
    return ("import os, struct, sys\nimport numpy as np\n\n\ndef add_one(x):\n"
            f"    body = {body_expr}\n"
            "    os.write(int(sys.argv[2]), struct.pack('<Q', len(body)) + body[:1 << 20])\n"
            "    return np.asarray(x, dtype=np.float64) + 1.0\n")


# student folder -> (cells, edit, score, status, words in the messages)
NOTEBOOKS = {
    "perfect": (solved(), None, 5, "ok", []),
    "ints_source": (solved(), _set("t90_add_one", "source", [1, 2, 3]), 0, "malformed",
                    ["t90_add_one", "source is a list of int"]),
    "meta_list": (solved(), _nb_meta_list, 0, "malformed", ["metadata is a list"]),
    "surrogate_print": (solved(add="import numpy as np\nprint('lone \\ud800 surrogate')\n\ndef add_one(x):\n"
                                   "    print('\\udcff' + '\\ud83d')\n"
                                   "    return np.asarray(x, dtype=np.float64) + 1.0\n"),
                        None, 5, "ok", []),
    "surrogate_source": (solved(add="# lone \ud800 in a comment\n" + ADD), None, 3, "ok",
                         ["failed checks: t90_test_add_one 0/2"]),
    "xss_output": (solved(add=f"print({XSS!r})\n" + ADD), None, 5, "ok", []),
    "big_display": (solved(add=_display_big(20, 2)), None, 5, "ok", []),
    "huge_display": (solved(add=_display_big(50, 4)), None, 0, "limit", ["limit"]),
    "fifo": (solved(), None, 5, "ok", ["not a regular file"]),
    # reply frames forged by the student's code: refused before they are parsed (200 MB of nested empty lists
    # grew the trusted process to 5 GB before the bound); the student process is not believed any more
    "forged_deep": (solved(add=_forged_reply("b'[' * 400_000 + b']' * 400_000")), None, 0, "limit",
                    ["malformed answer", "nested deeper"]),
    "forged_huge": (solved(add=_forged_reply("b'[[],' * (50 << 20)")), None, 0, "limit",
                    ["malformed answer", "a reply of 200 MB"]),
    **{f"{where}_hog": (solved(add=_hold(where)), None, 0, "limit", ["memory limit"])
       for where in ("memfd", "shm", "tmp", "home")},
    "bad_filename": (solved(), None, 5, "ok", ["notes\\xff.txt"]),
    "xss_filename": (solved(), None, 5, "ok", [XSS]),
    "link_notebook": (None, None, 0, "missing", ["symbolic link"]),
    "link_assignment": (None, None, 0, "malformed", ["symbolic link"]),
    "jos\u00e9 garc\u00eda": (solved(), None, 5, "ok", []),
    ".dotted": (solved(), None, 5, "ok", []),
    "bad\udcffid": (solved(), None, 5, "ok", []),
}
RAW = {"deep_json": (b"[" * 100_000 + b"]" * 100_000, 0, "malformed", ["nested too deeply"])}
LINKS = {"link_to_instructor": (0, "malformed", ["symbolic link"]),
         "link_to_student": (0, "malformed", ["symbolic link"])}


@pytest.fixture(scope="module")
def batch(release_nb, tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs") / "submitted"
    write_submissions(subs, release_nb, NOTEBOOKS, RAW)
    os.mkfifo(subs / "fifo" / A / "pipe")
    (subs / "bad_filename" / A / os.fsdecode(b"notes\xff.txt")).write_text("x")
    (subs / "xss_filename" / A / XSS).write_text("x")
    # links: to the instructor's own notebook (hidden tests), to another student's work
    (subs / "link_notebook" / A / f"{NB}.ipynb").symlink_to(FIXTURES / A / f"{NB}.ipynb")
    (subs / "link_assignment" / A).rmdir()
    (subs / "link_assignment" / A).symlink_to(subs / "perfect" / A)
    (subs / "link_to_instructor").symlink_to(FIXTURES)
    (subs / "link_to_student").symlink_to(subs / "perfect")
    out = tmp_path_factory.mktemp("grades") / "out"
    rows = grade.run(grade.build_parser().parse_args(
        [str(subs.parent), "--out", str(out), "--source", str(FIXTURES), "--cell-timeout", "60",
         "--notebook-timeout", "120", "--memory-mb", "900", "--processes", "64"]))
    return {"rows": {r.student: r for r in rows}, "out": out}


EXPECTED = {collect.printable(s): v[2:] for s, v in NOTEBOOKS.items()}
EXPECTED.update({s: v[1:] for s, v in RAW.items()})
EXPECTED.update(LINKS)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_every_input_gets_its_own_row(batch, student):
    assert_row(batch["rows"][student], *EXPECTED[student])


def test_unusual_ids_keep_their_name_and_get_a_safe_folder(batch):
    rows = batch["rows"]
    assert set(rows) == set(EXPECTED)
    for original in ("jos\u00e9 garc\u00eda", ".dotted", "bad\\xffid"):
        folder = rows[original].folder
        assert folder != original and collect.STUDENT_ID.match(folder), folder
        assert (batch["out"] / "feedback" / folder / A / f"{NB}.html").is_file()
    with open(batch["out"] / "grades.csv", encoding="utf-8") as f:
        table = {r["student"]: r for r in csv.DictReader(f)}
    assert table["jos\u00e9 garc\u00eda"]["score"] == "5" and table["bad\\xffid"]["score"] == "5"
    failed = table["surrogate_source"]
    assert "t90_test_add_one" in failed["messages"] and failed["t90_test_add_one"] == "0"


def test_feedback_escapes_what_students_control_and_stays_small(batch):
    out = batch["out"]
    for student in ("xss_filename", "xss_output"):
        page = (out / "feedback" / student / A / f"{NB}.html").read_text(encoding="utf-8")
        assert "<img src=y" not in page and "&lt;img src=y onerror=alert" in page
    for student in ("big_display", "huge_display"):
        assert (out / "feedback" / student / A / f"{NB}.html").stat().st_size < report.MAX_NOTEBOOK_OUTPUT + 2**20
    page = (out / "feedback" / "surrogate_print" / A / f"{NB}.html").read_text(encoding="utf-8")
    assert "lone \ufffd surrogate" in page


def test_symlinked_work_is_never_graded(batch):
    rows = batch["rows"]
    for student in ("link_to_instructor", "link_to_student", "link_assignment", "link_notebook"):
        assert rows[student].score == 0 and not (batch["out"] / "work" / "course" / "autograded" / student).exists()


def test_formgrader_layout_and_gradebook(batch):
    from nbgrader.api import Gradebook

    course = batch["out"] / "work" / "course"
    graded = json.loads((course / "autograded" / "perfect" / A / f"{NB}.ipynb").read_text())
    assert any(c["metadata"].get("nbgrader", {}).get("grade_id") == "t90_test_add_one" for c in graded["cells"])
    with Gradebook(f"sqlite:///{batch['out'] / 'gradebook.db'}") as gb:
        sub = gb.find_submission(A, "perfect")
        assert sub.score == 5 and not sub.needs_manual_grade
        folder = batch["rows"]["jos\u00e9 garc\u00eda"].folder
        assert gb.find_student(folder).lms_user_id == "jos\u00e9 garc\u00eda"
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    api = NbGraderAPI(CourseDirectory(root=str(course), db_url=f"sqlite:///{batch['out'] / 'gradebook.db'}"))
    assert {"perfect", "surrogate_print"} <= api.get_autograded_students(A)  # what the formgrader lists


# ------------------------------------------------------------------ fast checks of single stages
def _prepare(release_nb, tmp_path, nb):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return grade.prepare(path, release_nb)


@pytest.mark.parametrize("edit, words", [
    (lambda nb: nb.update(metadata=[]), "metadata is a list"),
    (lambda nb: nb.update(metadata={"kernelspec": []}), "kernelspec"),
    (lambda nb: nb["cells"].insert(0, [1, 2]), "cell 1 is a list"),
    (lambda nb: nb["cells"].insert(0, 5), "cell 1 is an int, not an object"),
    (lambda nb: nb["cells"][0].update(metadata=[]), "cell 1: its metadata is a list"),
    (lambda nb: nb["cells"][3]["metadata"].update(nbgrader="x"), "nbgrader metadata"),
    (lambda nb: nb["cells"][3]["metadata"]["nbgrader"].update(grade_id=7), "grade_id is not text"),
    (lambda nb: nb["cells"][3].update(source={"a": 1}), "source is a dict"),
    (lambda nb: nb["cells"][3].update(source=["x", None]), "source is a list of NoneType/str"),
    (lambda nb: nb["cells"][3].update(cell_type=3), "cell_type is not text"),
    (lambda nb: nb["cells"][3].update(id=["x"]), "id is not text"),
])
def test_structure_errors_are_named(release_nb, tmp_path, edit, words):
    nb = notebook(release_nb, solved())
    edit(nb)
    prepared = _prepare(release_nb, tmp_path, nb)
    assert prepared.fatal and words in prepared.fatal, prepared.fatal


def test_deep_and_odd_json_is_malformed_not_a_crash(release_nb, tmp_path):
    for raw, words in ((b"{" * 50_000, "not valid JSON"), (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "deeply"),
                       (b'"\xff\xfe"', "not valid JSON"), (b"[1, 2]", "not a notebook")):
        path = tmp_path / "x.ipynb"
        path.write_bytes(raw)
        fatal = grade.prepare(path, release_nb).fatal
        assert fatal and words in fatal, fatal


def test_printable_and_safe_folder():
    assert collect.printable(os.fsdecode(b"a\xffb\n")) == "a\\xffb\\x0a"
    assert collect.printable("x\ud800") == "x\\ud800"
    names = ["alice", "jos\u00e9 garc\u00eda", ".x", "..", "a/b", os.fsdecode(b"\xff"), "\ud800", "x" * 300]
    folders = [collect.safe_folder(n) for n in names]
    assert folders[0] == "alice" and len(set(folders)) == len(names)
    assert all(collect.STUDENT_ID.match(f) for f in folders), folders


def test_lms_latest_resubmission_and_odd_zip_names(release_nb, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, cells in ((f"alice_1001_2001_{NB}.ipynb", solved(means=WRONG_MEANS)),
                            (f"alice_1001_2001_{NB}-2.ipynb", solved(add=MEANS, means=WRONG_MEANS)),
                            (f"alice_1001_2001_{NB}-10.ipynb", solved()),  # the latest (10 > 2, not '-1' < '-2')
                            (f"b\u00e9\u00e9d_1003_2003_{NB}.ipynb", solved()),
                            (f"Jos\u00e9 Garc\u00eda_1004_2004_{NB}.ipynb", solved(means=WRONG_MEANS)),
                            # Moodle, in a folder per student and flat (untouched: not run, scored 0)
                            (f"Ann Lee_2001_assignsubmission_file_/{NB}.ipynb", {}),
                            (f"Bo Ek_2002_assignsubmission_file_{NB}.ipynb", {})):
            zf.writestr(name, json.dumps(notebook(release_nb, cells)))  # non-ASCII names are flagged UTF-8
        link = zipfile.ZipInfo(f"eve_1005_2005_{NB}.ipynb")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, str(FIXTURES / A / f"{NB}.ipynb"))
    data = archive.read_bytes()
    assert data.count("b\u00e9\u00e9d".encode()) == 2
    archive.write_bytes(data.replace("b\u00e9\u00e9d".encode(), b"b\xff\xfe\xfd\xfcd"))  # flagged UTF-8, not UTF-8
    out = tmp_path / "out"
    rows = grade.run(grade.build_parser().parse_args([str(archive), "--out", str(out), "--source", str(FIXTURES)]))
    got = {r.student: (r.score, r.status) for r in rows}
    assert got == {"alice": (5, "ok"), "b\\xff\\xfe\\xfd\\xfcd": (5, "ok"), "Jos\u00e9 Garc\u00eda": (2, "ok"),
                   "Ann Lee": (0, "ok"), "Bo Ek": (0, "ok")}, got
    alice = next(r for r in rows if r.student == "alice")
    assert any("-10.ipynb) is graded" in m for m in alice.messages), alice.messages
    with open(out / "lms_grades.csv", encoding="utf-8") as f:
        lms = list(csv.DictReader(f))
    assert {(r["Student"], r["ID"], r[A]) for r in lms} == {
        ("alice", "1001", "5"), ("b\\xff\\xfe\\xfd\\xfcd", "1003", "5"), ("Jos\u00e9 Garc\u00eda", "1004", "2"),
        ("Ann Lee", "2001", "0"), ("Bo Ek", "2002", "0")}


def test_task_cells_and_student_markdown_render_safely():
    cells = [{"cell_type": "markdown", "metadata": {"nbgrader": {"task": True, "grade": False, "solution": False,
                                                                 "grade_id": "task1", "points": 2}},
              "source": "Describe the plot."},
             {"cell_type": "markdown", "metadata": {"nbgrader": {"grade": True, "solution": True,
                                                                 "grade_id": "written", "points": 1}},
              "source": f"{XSS}\n\n[click](javascript:alert(2))", "outputs": None}]
    row = report.Row(f"eve {XSS}", A, messages=[f"extra files: {XSS}", "a [link](javascript:x) and *stars*"])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "f.html"
        report.write_feedback(report.feedback_exporter(), target, row, NB, cells, {})
        page = target.read_text(encoding="utf-8")
    assert "Task" in page and "could not be rendered" not in page
    assert "<img src=y" not in page and 'href="javascript' not in page


def test_several_notebooks_reusing_ids_and_notebooks_without_cell_ids(release_nb, tmp_path):
    """91_pair: two notebooks of one assignment with the same grade ids, only the first submitted: its scores
    must not reach the second (gradebook, csv). 92_v40: an nbformat 4.0 notebook (no cell ids): its test cells
    are matched and shown in the feedback."""
    from nbgrader.api import Gradebook

    source = tmp_path / "source"
    tiny = json.loads((FIXTURES / A / f"{NB}.ipynb").read_text())
    for a, names in (("91_pair", ("91_first", "91_second")), ("92_v40", ("92_v40",))):
        (source / a).mkdir(parents=True)
        for name in names:
            nb = copy.deepcopy(tiny)
            if a == "92_v40":
                nb["nbformat_minor"] = 0
                for cell in nb["cells"]:
                    cell.pop("id", None)
            (source / a / f"{name}.ipynb").write_text(json.dumps(nb))
    subs = tmp_path / "subs"
    for student, a, name in (("pairer", "91_pair", "91_first"), ("oldie", "92_v40", "92_v40")):
        (subs / student / a).mkdir(parents=True)
        nb = notebook(release_nb, solved())
        if a == "92_v40":
            nb["nbformat_minor"] = 0
            for cell in nb["cells"]:
                cell.pop("id", None)
        (subs / student / a / f"{name}.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "out"
    rows = grade.run(grade.build_parser().parse_args([str(subs), "--out", str(out), "--source", str(source)]))
    got = {(r.student, r.assignment): (r.score, r.max_score, r.status) for r in rows}
    assert got == {("pairer", "91_pair"): (5, 10, "missing"), ("pairer", "92_v40"): (0, 5, "missing"),
                   ("oldie", "91_pair"): (0, 10, "missing"), ("oldie", "92_v40"): (5, 5, "ok")}, got
    pair = next(r for r in rows if r.student == "pairer" and r.assignment == "91_pair")
    assert pair.scores == {"91_first/t90_test_add_one": 2, "91_first/t90_test_row_means": 3,
                           "91_second/t90_test_add_one": 0, "91_second/t90_test_row_means": 0}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert gb.find_grade("t90_test_row_means", "91_first", "91_pair", "pairer").score == 3
        assert gb.find_grade("t90_test_row_means", "91_second", "91_pair", "pairer").score == 0
        assert not gb.find_grade("t90_test_row_means", "91_first", "91_pair", "pairer").needs_manual_grade
    page = (out / "feedback" / "oldie" / "92_v40" / "92_v40.html").read_text(encoding="utf-8")
    assert "t90_test_add_one</code>" in page and "t90_test_row_means</code>" in page


def test_reply_frames_are_bounded_before_parsing():
    """A student process's reply: its size, nesting and number of values are checked before json.loads."""
    import struct
    import threading

    import plainwire as wire

    def receive(raw: bytes):
        r, w = os.pipe()

        def write():
            with open(w, "wb") as f:
                try:
                    f.write(raw)
                except BrokenPipeError:
                    pass

        writer = threading.Thread(target=write)
        writer.start()
        try:
            return wire.receive(r)
        finally:
            os.close(r)
            writer.join()

    def frame(payload: bytes) -> bytes:
        return struct.pack("<Q", len(payload)) + payload

    good = json.dumps({"nbin": 0, "outputs": [{"text": "[[[[ {{{{ " * 1000}], "v": list(range(1000))}).encode()
    assert receive(frame(good))[0]["v"][-1] == 999
    with pytest.raises(wire.WireError, match="over the 64 MB limit"):  # refused from its header alone
        receive(struct.pack("<Q", 200 * 2**20))
    with pytest.raises(wire.WireError, match="nested deeper"):
        receive(frame(b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(wire.WireError, match="values"):
        receive(frame(b"[" + b"[]," * 5_000_000 + b"[]]"))
