"""`make release` (autograder/release.py): the student bundle holds what students need and no secret.

A secret line is a line of a solution notebook between `### BEGIN SOLUTION` / `### END SOLUTION` or
`### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`. None may appear in any file under notebooks/ nor in any file
of the bundle (longer than 12 characters in notebooks, 30 in other files, and not also a public line of some
notebook or a bare import, which are not secrets).
"""

from __future__ import annotations

import json
import re
import sys
import zipfile

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import release  # noqa: E402

MARKERS = ("SOLUTION", "HIDDEN TESTS")


def _sources(path):
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError):
        return []
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def secret_and_public_lines():
    secret, public = set(), set()
    for nb in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for source in _sources(nb):
            inside = None
            for line in source.splitlines():
                text = line.strip()
                begin = next((m for m in MARKERS if text.startswith(f"### BEGIN {m}")), None)
                if begin:
                    inside = begin
                elif inside and text.startswith(f"### END {inside}"):
                    inside = None
                elif inside:
                    secret.add(text)
                else:
                    public.add(text)
    for nb in sorted((ROOT / "notebooks").glob("*/*.ipynb")):
        for source in _sources(nb):
            public.update(line.strip() for line in source.splitlines())
    bare_import = re.compile(r"^(import [\w.]+( as \w+)?|from [\w.]+ import [\w, ]+)$")
    return {s for s in secret if len(s) > 12 and s not in public and not bare_import.match(s)}, public


def _leaks(name: str, text: str, secret: set[str]) -> list[str]:
    if name.endswith(".ipynb"):
        try:
            nb = json.loads(text)
            text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                             for c in nb["cells"]) + "\n" + json.dumps([c.get("outputs", []) for c in nb["cells"]])
        except (ValueError, KeyError):
            pass
    lines = {line.strip() for line in text.splitlines()}
    # Other files (the course package, set-up files) share short generic lines with solutions by chance
    # (`images = np.asarray(images)`): there, only distinctive lines count.
    shortest = 12 if name.endswith(".ipynb") else 30
    return [f"{name}: {s}" for s in secret if s in lines and len(s) > shortest]


@pytest.fixture(scope="module")
def secret():
    lines, _ = secret_and_public_lines()
    assert lines, "no solution notebook with secret lines"
    return lines


def test_no_secret_line_anywhere_under_notebooks(secret):
    leaks = []
    for path in sorted((ROOT / "notebooks").rglob("*")):
        if path.is_file():
            leaks += _leaks(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8", errors="replace"), secret)
    assert leaks == []


def test_bundle_has_what_students_need_and_no_secret(tmp_path, secret):
    out = tmp_path / "student.zip"
    names = release.build(out)
    with zipfile.ZipFile(out) as zf:
        members = zf.namelist()
        assert all(m.startswith("tf-course/") for m in members)
        rel = [m.removeprefix("tf-course/") for m in members]
        assert not [m for m in rel if m.split("/")[0] in release.NEVER]
        for needed in ("README.md", "Makefile", "pyproject.toml", "requirements.txt", "requirements.lock",
                       "environment.yml", "datasets/manifest.json", "course/__init__.py", "course/data.py"):
            assert needed in rel, needed
        assert any(m.endswith(".sha256") for m in rel)
        tracked_notebooks = {p for p in release._tracked(release.ROOT) or [] if p.startswith("notebooks/")
                             and p.endswith(".ipynb")}
        assert {m for m in rel if m.startswith("notebooks/")} == tracked_notebooks
        leaks = []
        for m in members:
            leaks += _leaks(m, zf.read(m).decode("utf-8", errors="replace"), secret)
        assert leaks == []
        assert "solutions/" not in zf.read("tf-course/README.md").decode()
    assert sorted(names) == sorted(rel)


def test_secret_scan_catches_a_planted_leak(secret):
    line = max(secret, key=len)
    assert _leaks("planted.py", f"x = 1\n    {line}\n", secret)
