"""Grading on a Dask cluster (issue 17): the same class graded locally and on a localhost cluster, and what 300
submissions of each course notebook would take on 1, 10 and 50 workers.

1. N submissions of the autograder's tiny fixture (half 5/5, half 2/5) graded by `grade.py` on this machine
   (`--jobs W`) and by `grade.py --scheduler` on a cluster started here (a scheduler and W one-thread workers on
   127.0.0.1, processes of their own, always stopped); throughputs printed, every grade checked (none lost, none
   twice, each as expected; exit status 1 otherwise).
2. A table of the expected wall time of 300 submissions of each course notebook on 1, 10 and 50 workers (a worker:
   one Dask worker thread, grading one notebook at a time at the speed measured here), from a cost per notebook:
   its nbval run time in artifacts/notebook_times.json (written by `make test`; a notebook there is run once, and
   grading runs it once in the sandbox while the trusted process runs the ordinary cells beside it), or, with
   `--measure 03,09`, the grading seconds of one perfect submission graded here; plus the per-job overhead measured
   in step 1 (process starts, sandbox, packing). The model:
       wall(W) = set-up + ceil(300 / W) x (cost + overhead) + 300 x (reports per submission), all but the cost
   measured in step 1 on the cluster (set-up: nbgrader's release and gradebook; reports: merge, csv, feedback,
   similarity).

    python bench/bench_cluster.py [--n 12] [--workers 2] [--measure 03,09] [--times artifacts/notebook_times.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "autograder"))
sys.path.insert(0, str(ROOT / "bench"))
import cluster  # noqa: E402
import grade  # noqa: E402
from bench_grading import TINY, TINY_SOURCE, check, course_submissions, machine, tiny_submissions  # noqa: E402

CLASS_SIZE = 300
WORKERS = (1, 10, 50)


def run_grade(submissions: Path, out: Path, source: Path, *extra: str) -> tuple[float, dict, dict, list]:
    """grade.run as `make grade` calls it: (wall seconds, {student: score}, its stage times, rows)."""
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        rows = grade.run(grade.build_parser().parse_args([str(submissions), "--out", str(out), "--source",
                                                          str(source), *extra]))
    seconds = time.perf_counter() - start
    scores: dict = {}
    for r in rows:
        scores[r.student] = scores[r.student] + 1000 if r.student in scores else r.score
    stages = {name: float(s) for name, s in re.findall(r"(\w+) ([\d.]+) s", printed.getvalue().split("times:")[-1])}
    return seconds, scores, stages, rows


def release_of(assignment: str, source: Path, tmp: Path) -> dict:
    course = tmp / f"course-{assignment}"
    grade.prepare_course(source, course, f"sqlite:///{course / 'gb.db'}", grade.load_config(), [assignment])
    return json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text())


def costs(times_file: Path, measure: list[str], tmp: Path) -> dict[str, tuple[float, str]]:
    """{notebook: (seconds, where the figure comes from)}."""
    out: dict = {}
    if times_file.is_file():
        for path, seconds in json.loads(times_file.read_text()).get("notebooks", {}).items():
            if path.startswith("solutions/"):
                out[Path(path).stem] = (float(seconds), f"nbval run ({times_file.name})")
    for prefix in measure:
        assignment = next(p.name for p in sorted((ROOT / "solutions").iterdir()) if p.name.startswith(prefix))
        subs = tmp / f"measure-{assignment}"
        expected = course_submissions(assignment, release_of(assignment, ROOT / "solutions", tmp), subs, 1)
        _wall, scores, _stages, rows = run_grade(subs, tmp / f"measure-out-{assignment}", ROOT / "solutions",
                                                 "--jobs", "1", "--cell-timeout", "900")
        check(f"perfect {assignment}", scores, expected)
        out[assignment] = (rows[0].seconds, "graded here (one perfect submission)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=12, help="submissions of the tiny fixture")
    parser.add_argument("--workers", type=int, default=2, help="local jobs, and one-thread workers of the cluster")
    parser.add_argument("--measure", default="", help="course notebooks to grade once for their cost, e.g. 03,09")
    parser.add_argument("--times", default=str(ROOT / "artifacts" / "notebook_times.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp_name:
        tmp = Path(tmp_name)
        expected = tiny_submissions(release_of(TINY, TINY_SOURCE, tmp), tmp / "submitted", args.n)
        t_local, s_local, st_local, _ = run_grade(tmp / "submitted", tmp / "local", TINY_SOURCE,
                                                  "--jobs", str(args.workers))
        started = time.perf_counter()
        with cluster.localhost_cluster(workers=args.workers, nthreads=1, logs=tmp) as address:
            t_start = time.perf_counter() - started
            t_cluster, s_cluster, st_cluster, _rows = run_grade(tmp / "submitted", tmp / "cluster", TINY_SOURCE,
                                                               "--scheduler", address)
        print(f"\n{args.n} submissions of {TINY}, {machine()}")
        ok = check("local", s_local, expected) & check("cluster", s_cluster, expected)
        ok &= s_local == s_cluster
        for name, wall, stages in (("local", t_local, st_local), ("cluster", t_cluster, st_cluster)):
            print(f"  {name:<8} {wall:7.1f} s  {args.n / wall * 60:6.1f} submissions/min  (stages: "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) + ")")
        print(f"  (the localhost cluster took {t_start:.1f} s to start: a scheduler and {args.workers} workers)")
        grading, fixed = st_cluster.get("grade", t_cluster), st_cluster.get("prepare", 0.0)
        overhead = grading * args.workers / args.n  # seconds of one worker per job of a notebook that is tiny
        submitting = (t_cluster - grading - fixed) / args.n  # merge, csv, feedback, similarity: per submission
        table = costs(Path(args.times), [m for m in args.measure.split(",") if m], tmp)
    print(f"\nexpected wall time of {CLASS_SIZE} submissions: {fixed:.0f} s of set-up (nbgrader), then per job the "
          f"notebook's cost + {overhead:.1f} s (measured above on the cluster), then {submitting:.2f} s per "
          "submission on the submitting side (reports)")
    print(f"{'notebook':<28} {'cost':>8}  " + "".join(f"{f'{w} worker' + ('s' if w > 1 else ''):>12}" for w in WORKERS)
          + "  cost from")
    for nb, (seconds, source) in sorted(table.items()):
        walls = [fixed + math.ceil(CLASS_SIZE / w) * (seconds + overhead) + CLASS_SIZE * submitting
                 for w in WORKERS]
        print(f"{nb:<28} {seconds:6.1f} s  " + "".join(f"{_human(t):>12}" for t in walls) + f"  {source}")
    missing = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and p.name not in table)
    if missing:
        print(f"no cost for: {', '.join(missing)} (run `make test` for artifacts/notebook_times.json, or --measure)")
    return 0 if ok else 1


def _human(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


if __name__ == "__main__":
    sys.exit(main())
