"""`make release`: the student bundle, a zip of what a student needs and nothing an instructor keeps.

    python autograder/release.py [--out dist/tf-course-student.zip]

In it, under tf-course/: the student notebooks (notebooks/), the `course` package, the set-up files (Makefile,
requirements*.txt, requirements.lock, environment.yml, pyproject.toml, datasets/manifest.json and the checksum
lists) and a student README. Never solutions/, autograder/, tests/, bench/ or CI files;
tests/test_autograder_release.py checks that no solution line and no hidden-test line is in it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP = "tf-course"
SETUP_FILES = ["Makefile", "requirements.txt", "requirements-cpu.txt", "requirements-gpu.txt", "requirements.lock",
               "environment.yml", "pyproject.toml", ".gitignore"]
NEVER = ("solutions", "autograder", "tests", "bench", ".ci", ".git", ".venv")


def _tracked(root: Path) -> set[str] | None:
    """Files git tracks (a release holds what the repository holds, not work in progress); None outside git."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(out.decode().split("\0")) - {""}


def bundle_files(root: Path = ROOT) -> dict[str, Path]:
    """{name in the zip: file on disk}."""
    files: dict[str, Path] = {}
    tracked = _tracked(root)
    for name in SETUP_FILES:
        if (root / name).is_file() and (tracked is None or name in tracked):
            files[name] = root / name
    for folder, patterns in (("notebooks", ("*.ipynb",)), ("course", ("*.py",)),
                             ("datasets", ("manifest.json", "*.sha256"))):
        for pattern in patterns:
            glob = (root / folder).rglob(pattern) if folder != "datasets" else (root / folder).glob(pattern)
            for path in glob:
                rel = path.relative_to(root)
                if any(part.startswith(".") or part in ("__pycache__", "cache") for part in rel.parts):
                    continue
                if tracked is None or str(rel) in tracked:
                    files[str(rel)] = path
    for name in files:
        assert name.split("/")[0] not in NEVER, name
    return dict(sorted(files.items()))


def build(out: Path, root: Path = ROOT) -> list[str]:
    files = bundle_files(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{TOP}/README.md", (Path(__file__).parent / "student_README.md").read_text(encoding="utf-8"))
        for name, path in files.items():
            zf.write(path, f"{TOP}/{name}")
    return ["README.md", *files]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="build the student bundle")
    parser.add_argument("--out", default=str(ROOT / "dist" / "tf-course-student.zip"))
    args = parser.parse_args(argv)
    names = build(Path(args.out))
    notebooks = sum(n.endswith(".ipynb") for n in names)
    print(f"wrote {args.out}: {len(names)} files, {notebooks} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
