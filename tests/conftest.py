import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# (assignment, mode, student, seconds) of each submission tests/test_grading_course.py graded, printed at the end
# of the run: the grading cost of a perfect submission of every course notebook in the mode it is graded in.
GRADING_TIMES = pytest.StashKey[list]()
SHARED = ROOT.parent / "shared" / "datasets"

# Tests read the real data from ../shared/datasets; a COURSE_DATA_DIR of the caller's must not change that.
os.environ.pop("COURSE_DATA_DIR", None)
os.environ.pop("COURSE_DATA_MIRROR", None)
sys.path.insert(0, str(ROOT))


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """A course.data whose search path is only empty folders under tmp_path (nothing shared, no cache)."""
    from course import data

    monkeypatch.setattr(data, "SHARED_DIR", tmp_path / "shared")
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(data, "DECODED_DIR", tmp_path / "cache" / "decoded")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data_dir"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    return data

# The notebooks under fixtures/ are the grader's test material (some fail on purpose, some import TensorFlow
# as a student might); nbval runs the course's notebooks, not these.
collect_ignore_glob = ["fixtures/*"]


def pytest_terminal_summary(terminalreporter, config):
    """The grading time of each course submission, when tests/test_grading_course.py ran."""
    times = config.stash.get(GRADING_TIMES, None)
    if not times:
        return
    terminalreporter.section("grading time per submission (tests/test_grading_course.py; two graded at a time)")
    for assignment, mode, student, seconds in times:
        terminalreporter.write_line(f"{seconds:8.1f} s  {assignment:<34} {student:<10} {mode}")
