import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
