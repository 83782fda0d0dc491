"""Project-wide pytest hooks: print how long each notebook took when nbval runs the solutions."""

import json
import os
from collections import defaultdict
from pathlib import Path

_notebook_seconds = defaultdict(float)


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
    terminalreporter.write_line(f"{total:8.1f} s  total ({total / 60:.1f} min; budget 15 min on 2 cores)")
    out = Path(os.environ.get("COURSE_ARTIFACTS", "artifacts"))
    out.mkdir(exist_ok=True)
    (out / "notebook_times.json").write_text(json.dumps(dict(sorted(_notebook_seconds.items())), indent=1))
