"""The instructor's side of a grading run, prepared once: nbgrader generates the release of each assignment into
the work course (never the course directory) and fills the gradebook; the expanded test sources come back out."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from needed_cells import is_test_cell


def course_layout(source_dir: Path) -> dict[str, list[str]]:
    """{assignment: [notebook names]} of the instructor's folder (solutions/)."""
    return {p.name: sorted(nb.stem for nb in p.glob("*.ipynb"))
            for p in sorted(source_dir.iterdir()) if p.is_dir() and not p.name.startswith(".")}


def prepare_course(source_dir: Path, course: Path, db_url: str, config, names: list[str] | None = None) -> None:
    """Copy the instructor notebooks of the named assignments to course/source and let nbgrader generate
    course/release and fill the gradebook."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    names = sorted(course_layout(source_dir)) if names is None else names
    for name in names:
        shutil.copytree(source_dir / name, course / "source" / name,
                        ignore=shutil.ignore_patterns(".*", "__pycache__", "logs"))
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    config.CourseDirectory.db_url = db_url
    from report import alembic_in_process

    alembic_in_process()  # the new gradebook's schema version without a second Python importing nbgrader again
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for name in names:
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise SystemExit(f"nbgrader could not generate {name}:\n{result.get('error', '')}{result.get('log', '')}")


def give_cell_ids(course: Path, assignment: str, nb: str) -> None:
    """nbformat 4.0-4.4 notebooks have no cell ids, and the judge matches the release's cells to the source's by
    id: give both copies in the work course the same ids, by position (generate_assignment keeps every cell)."""
    paths = [course / kind / assignment / f"{nb}.ipynb" for kind in ("source", "release")]
    nbs = [json.loads(p.read_text()) for p in paths]
    if all(c.get("id") for n in nbs for c in n["cells"]) or len(nbs[0]["cells"]) != len(nbs[1]["cells"]):
        return
    for path, notebook in zip(paths, nbs):
        for i, cell in enumerate(notebook["cells"]):
            cell["id"] = f"cell-{i}"
        notebook["nbformat_minor"] = max(5, notebook.get("nbformat_minor", 0))
        path.write_text(json.dumps(notebook))


def expanded_test_sources(db_url: str, assignment: str, nb: str, source_nb: dict) -> dict[str, str]:
    """{grade id: source} of the test cells whose source nbgrader changed while generating the release:
    `### AUTOTEST` / `### HASHED AUTOTEST` lines replaced by the asserts nbgrader wrote for them. nbgrader saves
    every locked cell's source in the gradebook after expanding them and before removing hidden tests, so these
    are the tests the student must pass; the source notebook holds them as comments only."""
    from nbgrader.api import Gradebook, MissingEntry

    tests = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source_nb["cells"] if is_test_cell(c)}
    tests = {gid: "".join(src) if isinstance(src, list) else src for gid, src in tests.items()}
    changed = {}
    with Gradebook(db_url) as gb:
        for gid, source in tests.items():
            if "AUTOTEST" not in source:
                continue
            try:
                saved = gb.find_source_cell(gid, nb, assignment).source
            except MissingEntry:
                continue
            if saved != source:
                changed[gid] = saved
    return changed
