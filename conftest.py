"""Project-wide pytest hooks: print how long each notebook took when nbval runs the solutions."""

import json
import os
import time
from collections import defaultdict
from pathlib import Path

_notebook_seconds = defaultdict(float)
_started = time.monotonic()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds or hasattr(terminalreporter.config, "workerinput"):
        return
    terminalreporter.section("notebook run times (nbval)")
    for path, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    total = sum(_notebook_seconds.values())
    wall = time.monotonic() - _started
    workers = terminalreporter.config.getoption("numprocesses", None) or 1
    terminalreporter.write_line(f"{total:8.1f} s  sum of the notebooks' times ({total / 60:.1f} min; each measured "
                                f"while {workers} worker(s) shared the machine)")
    terminalreporter.write_line(f"{wall:8.1f} s  wall-clock of this whole run, unit tests included "
                                f"({wall / 60:.1f} min; budget for the course: 15 min on 2 cores)")
    out = Path(os.environ.get("COURSE_ARTIFACTS", "artifacts"))
    out.mkdir(exist_ok=True)
    (out / "notebook_times.json").write_text(json.dumps(
        {"notebooks": dict(sorted(_notebook_seconds.items())), "sum_s": round(total, 1), "wall_s": round(wall, 1),
         "workers": workers}, indent=1))
