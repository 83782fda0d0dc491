"""Grading on a Dask cluster (autograder/cluster.py, issue 17), on a real scheduler and two worker processes on
127.0.0.1 that the module starts and always stops (each in its own process group, killed in `finally`).

A small class of the tiny fixture assignment (tests/fixtures/autograder: add_one 2 points, row_means 3) graded on
the cluster gets exactly the grades of local grading; a worker killed by its pid in the middle of a batch costs no
grade and duplicates none; a notebook that kills every worker it runs on ends as `error` after MAX_TRIES deaths,
and the rest of its batch is graded.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import cluster  # noqa: E402
import grade  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "autograder" / "solutions"
A, NB = "90_tiny", "90_tiny"
ADD = "import numpy as np\n\n\ndef add_one(x):\n    return np.asarray(x, dtype=np.float64) + 1.0\n"
MEANS = "def row_means(a):\n    return np.asarray(a, dtype=np.float64).mean(axis=1)\n"
CLASS = {  # student: (add_one cell, row_means cell, expected score)
    "ada": (ADD, MEANS, 5), "ben": (ADD, "def row_means(a):\n    return np.asarray(a).sum(axis=1)\n", 2),
    "cy": ("def add_one(x):\n    return x\n", MEANS, 3), "dee": ("def add_one(x):\n    raise ValueError\n", MEANS, 3),
    "eve": (ADD, MEANS, 5), "fox": ("import numpy as np\n\n\ndef add_one(x):\n    return np.asarray(x) + 2\n",
                                     "def row_means(a):\n    return np.asarray(a).mean(axis=0)\n", 0),
}
LIMITS = ["--cell-timeout", "20", "--notebook-timeout", "120", "--memory-mb", "400", "--processes", "64",
          "--jobs", "2"]

pytestmark = pytest.mark.skipif(not grade.bwrap_available(), reason="bubblewrap missing: run `make grade-deps`")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """tcp://127.0.0.1:PORT with two one-thread workers, each under a nanny (which restarts it if it dies);
    cluster.localhost_cluster kills every process group it started on the way out, whatever happened."""
    with cluster.localhost_cluster(workers=2, nthreads=1, logs=tmp_path_factory.mktemp("dask_logs")) as address:
        yield {"address": address}


@pytest.fixture(scope="module")
def release_nb(tmp_path_factory) -> dict:
    course = tmp_path_factory.mktemp("course")
    grade.prepare_course(FIXTURES, course, f"sqlite:///{course}/gb.db", grade.load_config(), [A])
    return json.loads((course / "release" / A / f"{NB}.ipynb").read_text())


def write_class(subs: Path, release_nb: dict, copies: int = 1) -> dict:
    """subs/<student>/90_tiny/90_tiny.ipynb for CLASS (copies > 1: `ada2`, ...), plus a malformed one and an
    untouched one; {student: expected score}."""
    expected = {}
    for n in range(1, copies + 1):
        for who, (add, means, score) in CLASS.items():
            student = who if n == 1 else f"{who}{n}"
            nb = json.loads(json.dumps(release_nb))
            for cell in nb["cells"]:
                gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
                cell["source"] = {"t90_add_one": add, "t90_row_means": means}.get(gid, cell["source"])
            (subs / student / A).mkdir(parents=True)
            (subs / student / A / f"{NB}.ipynb").write_text(json.dumps(nb))
            expected[student] = score
    (subs / "broken" / A).mkdir(parents=True)
    (subs / "broken" / A / f"{NB}.ipynb").write_text("{not json")
    (subs / "untouched" / A).mkdir(parents=True)
    (subs / "untouched" / A / f"{NB}.ipynb").write_text(json.dumps(release_nb))
    expected.update(broken=0, untouched=0)
    return expected


def _grade(subs: Path, out: Path, *extra: str) -> dict:
    rows = grade.run(grade.build_parser().parse_args([str(subs), "--out", str(out), "--source", str(FIXTURES),
                                                      *LIMITS, *extra]))
    assert len({r.student for r in rows}) == len(rows), "a student graded twice"
    return {r.student: r for r in rows}


def _comparable(row) -> tuple:
    return row.score, row.max_score, row.status, dict(row.scores), list(row.messages)


def test_cluster_grades_equal_local_grades(dask_cluster, release_nb, tmp_path):
    expected = write_class(tmp_path / "subs", release_nb)
    local = _grade(tmp_path / "subs", tmp_path / "local")
    remote = _grade(tmp_path / "subs", tmp_path / "cluster", "--scheduler", dask_cluster["address"])
    assert {s: r.score for s, r in local.items()} == expected
    assert {s: _comparable(r) for s, r in remote.items()} == {s: _comparable(r) for s, r in local.items()}
    for name in ("grades.csv", "lms_grades.csv"):
        assert (tmp_path / "cluster" / name).read_text() == (tmp_path / "local" / name).read_text()
    pages = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local" / "feedback").rglob("*.html"))
    assert len(pages) == len(expected)
    for page in pages:
        assert (tmp_path / "cluster" / page).read_bytes() == (tmp_path / "local" / page).read_bytes(), page


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(dask_cluster, release_nb, tmp_path):
    from distributed import Client

    expected = write_class(tmp_path / "subs", release_nb, copies=2)  # 12 notebooks to grade, 2 rows not run
    killed: list = []

    def kill_one_worker_mid_batch():
        with Client(dask_cluster["address"], timeout="10s") as client:
            seen: set = set()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = {w: [k for k in keys if str(k).startswith("grade-")]
                        for w, keys in client.processing().items()}
                seen |= {k for keys in busy.values() for k in keys}
                victims = [w for w, keys in busy.items() if keys]
                if len(seen) >= 4 and victims:  # a few notebooks done, one being graded now
                    pid = client.run(os.getpid, workers=[victims[0]])[victims[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append((victims[0], pid, busy[victims[0]]))
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_mid_batch)
    killer.start()
    rows = _grade(tmp_path / "subs", tmp_path / "out", "--scheduler", dask_cluster["address"])
    killer.join()
    assert killed, "no worker was killed: the batch ended before"
    wrong = {s: (r.score, r.status, r.messages) for s, r in rows.items()
             if (r.score, r.status) != (expected.get(s), "malformed" if s == "broken" else "ok")}
    assert not wrong and sorted(rows) == sorted(expected), (wrong, killed)
    with open(tmp_path / "out" / "grades.csv", newline="") as f:
        students = [r["student"] for r in csv.DictReader(f)]
    assert sorted(students) == sorted(expected)


def kill_on_fox(course, student, version):
    """Grades as the workers do, except that fox's notebook (add_one adds 2) kills the worker process running it.
    Sent by value: it imports the grader by name on the worker (the scheduler has no tests/ or autograder/)."""
    if "+ 2" in student["job"]["student_cells"].get("t90_add_one", ""):
        os.kill(os.getpid(), signal.SIGKILL)
    return __import__("cluster").grade_packed(course, student, version)


def test_a_notebook_that_kills_its_workers_ends_as_error_and_the_batch_goes_on(dask_cluster, release_nb,
                                                                                 tmp_path, monkeypatch):
    import cloudpickle

    # Sent by value (the scheduler and the workers cannot import this test module); a lambda, since Dask tries the
    # plain pickle first, which would send a module's function by name.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.setattr(cluster, "remote_grade", lambda course, student, version: kill_on_fox(course, student, version))
    expected = write_class(tmp_path / "subs", release_nb)
    rows = _grade(tmp_path / "subs", tmp_path / "out", "--scheduler", dask_cluster["address"])
    assert sorted(rows) == sorted(expected)
    assert rows["fox"].status == "error" and rows["fox"].score == 0
    assert any(f"died on each of {cluster.MAX_TRIES} tries" in m for m in rows["fox"].messages), rows["fox"].messages
    assert {s: r.score for s, r in rows.items()} == expected
    assert all(r.status == "ok" for s, r in rows.items() if s not in ("fox", "broken"))
