"""Grading time of the two modes, per course notebook: the tests in the student's sandbox against the tests in the
trusted process, same perfect submission, same run, one right after the other.

Issue 12 moved every course notebook's tests out of the sandbox into the trusted process (autograder/README.md,
"Two modes"). The trusted process re-runs the instructor's cells the tests depend on (side by side with the
student's), so it costs more; this prints how much, as a ratio per notebook.

For each notebook: one perfect submission (the student notebook with the instructor's answers, as
tests/test_grading_course.py builds it), graded by grade.py with one worker (`--jobs 1`) twice: with
`--tests-in-sandbox <notebook>` (how 04-08 and 10-12 were graded before issue 12) and without it (how all are
graded now). Exit status 1 when a grade is not full marks.

    python bench/bench_grading_modes.py [--cases 04,12]      (`make bench`: 04 and 12, the last two moved)
    python bench/bench_grading_modes.py --cases all          (every course notebook: about 25 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grading import COURSE, CELL_TIMEOUT, ROOT, code_state, course_submissions, grade, machine  # noqa: E402


def graded(submissions: Path, out: Path, assignment: str, in_sandbox: bool) -> tuple[float, float, str]:
    """Seconds, score and mode of grading the one submission in `submissions`."""
    argv = [str(submissions), "--out", str(out), "--jobs", "1", "--cell-timeout", str(CELL_TIMEOUT)]
    if in_sandbox:
        argv += ["--tests-in-sandbox", assignment]
    start = time.perf_counter()
    rows = grade.run(grade.build_parser().parse_args(argv))
    seconds = time.perf_counter() - start
    (row,) = rows
    return seconds, row.score, row.status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="04,12", help="notebook numbers, or all")
    args = parser.parse_args(argv)
    if args.cases == "all":
        args.cases = ",".join(COURSE)
    results, ok = {}, True
    for case in [c for c in args.cases.split(",") if c]:
        assignment = COURSE[case]
        with tempfile.TemporaryDirectory(prefix=f"bench-modes-{case}-") as tmp:
            tmp = Path(tmp)
            course = tmp / "course"
            grade.prepare_course(ROOT / "solutions", course, f"sqlite:///{course / 'gradebook.db'}",
                                 grade.load_config(), [assignment])
            release_nb = json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text())
            expected = course_submissions(assignment, release_nb, tmp / "submitted", 1)["s000"]
            sandbox = graded(tmp / "submitted", tmp / "sandbox", assignment, True)
            trusted = graded(tmp / "submitted", tmp / "trusted", assignment, False)
        for mode, (_, score, status) in (("sandbox", sandbox), ("trusted", trusted)):
            if score != expected:
                print(f"  {assignment}, tests in the {mode}: {score} of {expected} ({status})  <- not full marks")
                ok = False
        results[assignment] = (expected, sandbox, trusted)
        print(f"{assignment}: sandbox {sandbox[0]:.1f} s, trusted {trusted[0]:.1f} s", flush=True)
    print(f"\ngrading one perfect submission, tests in the sandbox vs in the trusted process, same run: "
          f"{machine()}\n{code_state()}")
    print(f"{'notebook':<28} {'points':>6} {'sandbox':>9} {'trusted':>9}  trusted/sandbox")
    total = [0.0, 0.0]
    for assignment, (points, sandbox, trusted) in results.items():
        total[0] += sandbox[0]
        total[1] += trusted[0]
        print(f"{assignment:<28} {points:>6g} {sandbox[0]:7.1f} s {trusted[0]:7.1f} s  {trusted[0] / sandbox[0]:5.2f}x")
    if results:
        print(f"{'all':<28} {'':>6} {total[0]:7.1f} s {total[1]:7.1f} s  {total[1] / total[0]:5.2f}x")
    print("(grade.py, one worker, sandboxed student process, feedback, csv and plot included; each time is the whole "
          "grade.py run for one submission)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
