"""Prepare: read one submitted notebook defensively, before anything of it runs.

Stage 2 of grading (collect -> prepare -> run -> judge -> report). `prepare` returns the code of the solution
cells by grade_id and warnings, or a fatal message that becomes the row's `malformed`/`missing`; it never raises
for what a student can put in the file (too big, not JSON, nested too deeply, fields of the wrong type, a notebook
format nbformat cannot convert).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from collect import printable

MAX_NOTEBOOK_BYTES = 50 * 2**20


@dataclass
class Prepared:
    student_cells: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    fatal: str | None = None


def cell_source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src if isinstance(src, str) else ""


def _a(value) -> str:
    """'a list', 'an int': the type of a value in words."""
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _structure_error(raw: dict) -> str | None:
    """What makes a parsed notebook unusable, in words, or None. Checks every field the grader reads, with the
    type it must have (nbformat 4's schema, for those fields), so that no odd value reaches later stages."""
    if not isinstance(raw.get("metadata", {}), dict):
        return f"the notebook's metadata is {_a(raw['metadata'])}, not an object"
    kernel = raw.get("metadata", {}).get("kernelspec", {})
    if kernel is not None and not isinstance(kernel, dict):
        return "the notebook's kernelspec is not an object"
    for i, cell in enumerate(raw["cells"]):
        where = f"cell {i + 1}"
        if not isinstance(cell, dict):
            return f"{where} is {_a(cell)}, not an object"
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict):
            return f"{where}: its metadata is {_a(meta)}, not an object"
        nbg = meta.get("nbgrader", {})
        if not isinstance(nbg, dict):
            return f"{where}: its nbgrader metadata is not an object"
        if "grade_id" in nbg and not isinstance(nbg["grade_id"], str):
            return f"{where}: its grade_id is not text"
        if isinstance(nbg.get("grade_id"), str):
            where += f" ({printable(nbg['grade_id'])[:80]})"
        if not isinstance(cell.get("cell_type"), str):
            return f"{where}: its cell_type is not text"
        if "id" in cell and not isinstance(cell["id"], str):
            return f"{where}: its id is not text"
        src = cell.get("source", "")
        if not isinstance(src, str) and not (isinstance(src, list) and all(isinstance(s, str) for s in src)):
            kinds = "/".join(sorted({type(s).__name__ for s in src})) if isinstance(src, list) else ""
            what = f"a list of {kinds}" if isinstance(src, list) else _a(src)
            return f"{where}: its source is {what}, not text"
    return None


def unanswered(student_cells: dict, release_nb: dict) -> bool:
    """True when every autograded solution cell of the student notebook is still the release's stub."""
    stubs = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]).strip()
             for c in release_nb["cells"] if c["cell_type"] == "code"
             and c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    return bool(stubs) and all((student_cells.get(gid) or "").strip() in ("", stub) for gid, stub in stubs.items())


def prepare(path: Path, release_nb: dict) -> Prepared:
    """Read a submission defensively: the solution cells' code by grade_id, and what is wrong with it. Never raises
    for what a student can put in the file (too big, not JSON, too deep, wrong types, not a notebook)."""
    import nbformat

    out = Prepared()
    if not path.is_file():
        out.fatal = f"missing notebook: {path.name} was not submitted"
        return out
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        out.fatal = f"the notebook is {size / 2**20:.0f} MB, over the {MAX_NOTEBOOK_BYTES // 2**20} MB limit"
        return out
    text = path.read_bytes()
    try:
        raw = json.loads(text)
    except RecursionError:
        out.fatal = "the notebook is not valid JSON (nested too deeply): open it in Jupyter, save, resubmit"
        return out
    except (ValueError, UnicodeDecodeError) as exc:
        out.fatal = f"the notebook is not valid JSON ({printable(str(exc))[:120]}): open it in Jupyter, save, resubmit"
        return out
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", []), list):
        out.fatal = "the file is JSON but not a notebook"
        return out
    version = raw.get("nbformat")
    if version != 4:
        try:
            raw = json.loads(nbformat.writes(nbformat.reads(text.decode(), as_version=4)))
            out.warnings.append(f"notebook format {printable(repr(version))[:40]} was converted to format 4")
        except Exception:  # noqa: BLE001
            out.fatal = f"unsupported notebook format {printable(repr(version))[:40]} (expected 4)"
            return out
    if not isinstance(raw.get("cells"), list):
        out.fatal = "the notebook has no list of cells"
        return out
    problem = _structure_error(raw)
    if problem:
        out.fatal = f"the notebook is malformed: {problem}. Open it in Jupyter, save, resubmit"
        return out
    if size > 5 * 2**20:
        out.warnings.append(f"the notebook is {size / 2**20:.0f} MB (large outputs?): outputs are never graded")
    kernel = raw.get("metadata", {}).get("kernelspec") or {}
    want = release_nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel.get("name") not in (None, want):
        out.warnings.append(f"kernel {printable(repr(kernel.get('name')))[:60]} ignored: graded with the course "
                            f"kernel ({want})")
    by_gid: dict[str, list] = {}
    by_id: dict[str, dict] = {}
    for cell in raw["cells"]:
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        if isinstance(nbg.get("grade_id"), str):
            by_gid.setdefault(nbg["grade_id"], []).append(cell)
        if isinstance(cell.get("id"), str):
            by_id[cell["id"]] = cell
    ids_changed = False
    for index, cell in enumerate(release_nb["cells"]):
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        gid = nbg.get("grade_id")
        if not gid:
            continue
        found = by_gid.get(gid, [])
        if not found and cell.get("id") and cell.get("id") in by_id:
            found = [by_id[cell["id"]]]
            out.warnings.append(f"cell {gid} lost its nbgrader metadata; matched by its cell id")
        if len(found) > 1:
            out.warnings.append(f"cell {gid} appears {len(found)} times (duplicated cell): the first one is used")
        if found and cell.get("id") and found[0].get("id") != cell.get("id"):
            ids_changed = True
        if nbg.get("solution"):
            if not found:
                out.warnings.append(f"solution cell {gid} is missing (deleted?): its tests score 0")
            elif found[0].get("cell_type") != cell["cell_type"]:
                out.warnings.append(f"solution cell {gid} was changed from {cell['cell_type']} to "
                                    f"{printable(found[0]['cell_type'])[:40]}: it cannot be graded")
            else:
                out.student_cells[gid] = cell_source(found[0])
        elif nbg.get("grade") or nbg.get("locked"):
            if not found or found[0].get("cell_type") != cell["cell_type"] or cell_source(found[0]) != cell_source(cell):
                what = "deleted" if not found else "changed"
                out.warnings.append(f"read-only cell {gid} was {what}: the original was used")
    if ids_changed:
        out.warnings.append("cell ids differ from the released notebook: cells were matched by nbgrader grade_id")
    return out
