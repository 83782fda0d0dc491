"""Which of your exercises pass their public checks: `make check`, or `python progress.py [00 03 ...]`.

For each notebook under notebooks/ in which you have written code (the others are listed as "not started",
without running), a copy of it runs from top to bottom in its folder, as Validate does; your file is not
changed. Then each exercise's check cell says whether it passed, and if not, the check's message.
These are the public checks that your notebooks contain: the grader runs hidden tests too (other inputs, edge
cases), so a pass here is necessary for the points, not a promise of them.
(In the course's repository this file is autograder/student_progress.py; `make release` ships it as progress.py.)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STUB = "raise NotImplementedError()"
CELL_TIMEOUT = 900  # seconds, as Validate (nbgrader_config.py)
EXERCISE = re.compile(r"^#+\s*(Exercise\s+\d+[^\n(]*)", re.MULTILINE)


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercises(nb) -> list[dict]:
    """One entry per check cell (nbgrader grade cell that is not a solution): its exercise heading, points,
    the check cell's index and whether the solution cell before it still holds the stub."""
    out, heading, stub = [], "", False
    for index, cell in enumerate(nb["cells"]):
        meta = _nbgrader(cell)
        if cell["cell_type"] == "markdown" and EXERCISE.search(cell["source"]):
            heading = EXERCISE.search(cell["source"]).group(1).strip()
        elif meta.get("solution") and cell["cell_type"] == "code":
            stub = STUB in cell["source"]
        elif meta.get("grade") and not meta.get("solution"):
            out.append({"exercise": heading or meta.get("grade_id", f"cell {index}"),
                        "grade_id": meta.get("grade_id", ""), "points": meta.get("points", 0),
                        "cell": index, "stub": stub})
    return out


def _error(cell) -> str | None:
    """The check's message when the cell failed (its error, or its stderr), else None."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            value = (output.get("evalue") or "").strip().splitlines()
            return f"{output.get('ename')}: {value[0] if value else ''}".rstrip(": ")
    return None


def check_notebook(path: Path, timeout: int = CELL_TIMEOUT) -> dict:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    found = exercises(nb)
    result = {"notebook": path.parent.name, "exercises": found, "seconds": 0.0, "stopped": None}
    if not found or all(e["stub"] for e in found):
        for e in found:
            e["status"] = "not started"
        return result
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, interrupt_on_timeout=False,
                            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
                            extra_arguments=["--HistoryManager.hist_file=:memory:", "--InteractiveShell.xmode=Minimal"],
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.monotonic()
    try:
        client.execute()
    except CellTimeoutError:
        result["stopped"] = f"a cell ran longer than {timeout} s"
    except DeadKernelError:
        result["stopped"] = "the kernel died (out of memory?)"
    result["seconds"] = round(time.monotonic() - start, 1)
    for e in found:
        cell = nb.cells[e["cell"]]
        if e["stub"]:
            e["status"] = "not done"
        elif cell.get("execution_count") is None:
            e["status"] = f"not reached ({result['stopped'] or 'not run'})"
        else:
            error = _error(cell)
            e["status"] = "passes its public check" if error is None else f"FAILS: {error}"
    return result


def selected(folder: Path, names: list[str]) -> list[Path]:
    paths = sorted(p for p in folder.glob("*/*.ipynb") if p.stem == p.parent.name)
    if names:
        paths = [p for p in paths if any(p.stem.startswith(n) for n in names)]
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks by their number or name (default: all)")
    parser.add_argument("--notebooks", default=str(HERE / "notebooks"), help="the folder of your notebooks")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    paths = selected(Path(args.notebooks), args.names)
    if not paths:
        print(f"no notebook matches {' '.join(args.names) or '*'} in {args.notebooks}")
        return 2
    results, passed, total = [], 0, 0
    for path in paths:
        result = check_notebook(path)
        results.append(result)
        ran = f"ran in {result['seconds']:.0f} s" if result["seconds"] else "not run"
        print(f"{result['notebook']} ({ran})", flush=True)
        for e in result["exercises"]:
            print(f"  {e['exercise']} ({e['points']} points): {e['status']}")
            total += e["points"]
            passed += e["points"] if e["status"].startswith("passes") else 0
    print(f"\nPublic checks pass for exercises worth {passed} of {total} points. These are only the public checks;"
          "\nthe grader also runs hidden tests (other inputs, edge cases) on what you submit.")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
