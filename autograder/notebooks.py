"""Make and check the student notebooks: `python autograder/notebooks.py format|generate|check`.

- format:   normalize every notebook under solutions/ in place (stable JSON, no outputs).
- generate [NN_topic ...]: format, then run nbgrader's generate_assignment for every solution
            notebook (or only those named) into notebooks/, and normalize what it wrote. This is `make notebooks`, the only way to
            make student notebooks.
- check:    fail (exit 1) when a solution is not normalized or notebooks/ differs from what
            generate would write. `make test` runs it.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
CONFIG_FILE = ROOT / "autograder" / "nbgrader_config.py"
KERNELSPEC = {"name": "tf-course", "display_name": "Python (TF course)", "language": "python"}
ASSIGNMENT_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")
# Cell metadata worth keeping; everything else (collapsed, scrolled, execution timings...) is noise.
KEPT_CELL_METADATA = ("nbgrader", "tags", "editable", "deletable")


def normalize(nb: dict) -> dict:
    """The stored form of a notebook: no outputs or counts, minimal metadata, the course kernel."""
    nb = json.loads(json.dumps(nb))
    nb["metadata"] = {"kernelspec": dict(KERNELSPEC),
                      "language_info": {"name": "python"}}
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k in KEPT_CELL_METADATA}
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        if cell["cell_type"] != "markdown" or not cell.get("attachments"):
            cell.pop("attachments", None)
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def read(path: Path) -> dict:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def assignments() -> list[str]:
    names = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and not p.name.startswith("."))
    for name in names:
        if not ASSIGNMENT_NAME.match(name):
            raise SystemExit(f"solutions/{name}: assignment folders are named NN_topic (snake_case)")
        if not (SOLUTIONS / name / f"{name}.ipynb").is_file():
            raise SystemExit(f"solutions/{name}: expected the notebook solutions/{name}/{name}.ipynb")
    return names


def unnormalized(folder: Path) -> list[Path]:
    """Notebooks under folder whose stored text is not their normalized form."""
    return [p for p in sorted(folder.glob("*/*.ipynb"))
            if p.read_text(encoding="utf-8") != dumps(normalize(read(p)))]


def format_solutions() -> None:
    for path in unnormalized(SOLUTIONS):
        path.write_text(dumps(normalize(read(path))), encoding="utf-8")
        print(f"normalized {path.relative_to(ROOT)}")


def generate(release_dir: Path, names: list[str]) -> None:
    """nbgrader generate_assignment for each assignment into release_dir, then normalize the output."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    # nbgrader runs the `alembic` command it installed: make the environment's bin folder findable.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    config = PyFileConfigLoader(CONFIG_FILE.name, str(CONFIG_FILE.parent)).load_config()
    with tempfile.TemporaryDirectory(prefix="tf-course-gen-") as work:
        config.CourseDirectory.root = str(ROOT)
        config.CourseDirectory.release_directory = str(release_dir)
        config.CourseDirectory.db_url = f"sqlite:///{work}/gradebook.db"
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        for name in names:
            result = api.generate_assignment(name, force=True)
            if not result["success"]:
                raise SystemExit(f"nbgrader could not generate {name}:\n{result.get('error', '')}"
                                 f"\n{result.get('log', '')}")
    for path in sorted(release_dir.glob("*/*.ipynb")):
        path.write_text(dumps(normalize(read(path))), encoding="utf-8")


def generate_all(only: list[str]) -> None:
    """Regenerate the named assignments (all when none are named); student folders of removed
    solutions are deleted only on a full run."""
    format_solutions()
    known = assignments()
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise SystemExit(f"no such assignment in solutions/: {', '.join(unknown)}")
    names = only or known
    with tempfile.TemporaryDirectory(prefix="tf-course-release-") as tmp:
        generate(Path(tmp), names)
        NOTEBOOKS.mkdir(exist_ok=True)
        stale = [p for p in NOTEBOOKS.iterdir() if p.is_dir() and (p.name in names or not only)]
        for folder in stale:
            shutil.rmtree(folder)
        for name in names:
            shutil.copytree(Path(tmp) / name, NOTEBOOKS / name)
            print(f"generated notebooks/{name}/{name}.ipynb")


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two folder trees (missing on either side included)."""
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__", ".ipynb_checkpoints", "logs"])  # logs/: a run's output
    out = [f"only in {a.name}: {n}" for n in cmp.left_only] + [f"only in notebooks/: {n}" for n in cmp.right_only]
    out += [f"differs: {n}" for n in cmp.diff_files if not filecmp.cmp(a / n, b / n, shallow=False)]
    for sub in cmp.common_dirs:
        out += [f"{sub}/{d}" for d in differences(a / sub, b / sub)]
    return out


def check() -> int:
    problems = [f"{p.relative_to(ROOT)} is not normalized" for p in unnormalized(SOLUTIONS)]
    with tempfile.TemporaryDirectory(prefix="tf-course-check-") as tmp:
        expected = Path(tmp) / "generated"
        expected.mkdir()
        generate(expected, assignments())
        if not NOTEBOOKS.is_dir():
            problems.append("notebooks/ is missing")
        else:
            problems += [f"notebooks/ is stale: {d}" for d in differences(expected, NOTEBOOKS)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("Run `make notebooks` to regenerate the student notebooks, then commit them.", file=sys.stderr)
        return 1
    print(f"notebooks/ is up to date with solutions/ ({len(assignments())} assignments)")
    return 0


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "format":
        format_solutions()
    elif command == "generate":
        generate_all(argv[2:])
    elif command == "check":
        return check()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
