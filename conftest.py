"""Project-wide pytest hooks for nbval's runs of the notebooks: no cell may print a TensorFlow log line,
and how long each notebook took is printed at the end."""

import json
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from course.setup import TF_LOG_LINE

_notebook_seconds = defaultdict(float)
_started = time.monotonic()


def _kernel_watching_native_output(start_new_kernel):
    """nbval's kernel starts inside a pytest run, so its environment holds PYTEST_CURRENT_TEST, and ipykernel
    then leaves file descriptors 1 and 2 alone: what C++ code writes there (TensorFlow's log) goes to nbval's
    /dev/null instead of the cell's output, where a student sees it. Start the kernel without that variable."""
    def start(*args, **kwargs):
        kwargs.setdefault("env", {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
        return start_new_kernel(*args, **kwargs)
    return start


def pytest_configure(config):
    if config.pluginmanager.hasplugin("nbval"):
        import nbval.kernel

        if not getattr(nbval.kernel.start_new_kernel, "__wrapped_by_course__", False):
            nbval.kernel.start_new_kernel = _kernel_watching_native_output(nbval.kernel.start_new_kernel)
            nbval.kernel.start_new_kernel.__wrapped_by_course__ = True


def tensorflow_log_lines(outputs) -> list[str]:
    """The lines of a cell's outputs, as the kernel sent them, that are absl/TensorFlow log lines."""
    found = []
    for out in outputs or []:
        if out.get("output_type") == "stream":
            text = out.get("text", "")
        elif out.get("output_type") == "error":
            text = "\n".join(out.get("traceback", []))
        else:
            text = (out.get("data") or {}).get("text/plain", "")
        if isinstance(text, list):
            text = "".join(text)
        found += [line for line in text.splitlines() if TF_LOG_LINE.match(line)]
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail an nbval cell whose output holds a TensorFlow log line: a student would see it as a red block.
    nbval compares outputs only where a cell asks for it; this check looks at every cell's output."""
    result = yield
    lines = tensorflow_log_lines(getattr(item, "test_outputs", None)) if type(item).__name__ == "IPyNbCell" else []
    if lines:
        pytest.fail("the cell printed TensorFlow log lines (find their cause; see course.setup):\n"
                    + "\n".join(lines[:5]), pytrace=False)
    return result


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
    how = ("one at a time, as a student runs them" if workers == 1 else
           f"each while {workers} pytest workers shared the machine: slower than a student's run")
    terminalreporter.write_line(f"{total:8.1f} s  sum of the notebooks' times ({total / 60:.1f} min, {how}; "
                                f"budget for the course: 15 min on 2 cores)")
    terminalreporter.write_line(f"{wall:8.1f} s  wall-clock of this pytest run ({wall / 60:.1f} min)")
    out = Path(os.environ.get("COURSE_ARTIFACTS", "artifacts"))
    out.mkdir(exist_ok=True)
    (out / "notebook_times.json").write_text(json.dumps(
        {"notebooks": dict(sorted(_notebook_seconds.items())), "sum_s": round(total, 1), "wall_s": round(wall, 1),
         "workers": workers}, indent=1))
