"""Grade one submitted notebook in a fresh trusted process: `python trusted.py JOB.json`.

Two processes run the notebook side by side:
- the *student process* (sandboxed, student_runner.py) runs the student's solution cells and the public
  version of the ordinary cells, so that the student's code sees the state it expects;
- this *trusted process* runs the instructor's cells from the source notebook: the solution cells and the
  ordinary cells (so the fixtures the tests use are computed by known-good code, the same for every student),
  and the test cells WITH their hidden tests. While a test cell runs, the names that the instructor's solution
  cells define (found by parsing them, e.g. `flatten_and_scale`) are bound to the student's values instead:
  plain data, or proxies whose calls send the arguments as plain data to the student process, run the
  student's function there and bring back plain data (plainwire: JSON + .npy, never pickle). So every assert,
  every np.testing call, every comparison that awards points runs in this process, on values the student's
  code cannot reach or patch.
A test cell earns its points when it runs here without an error (nbgrader's own rule, utils.determine_grade,
after IgnorePattern has removed warning lines from stderr).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import json
import os
import re
import sys
import threading
import time
from pathlib import Path


import plainwire as wire
from cellshell import CellShell
from sandbox import Limits, Sandbox, SandboxError

_GONE = object()


# ------------------------------------------------------------------ names an instructor cell defines
def defined_names(source: str) -> tuple[list[str], list[ast.stmt]]:
    """Top-level names bound by a cell (defs, classes, assignments, loops, with, imports) and its imports."""
    try:
        tree = ast.parse(_strip_magics(source))
    except SyntaxError:
        return [], []
    names, imports = [], []

    def targets(node):
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                targets(elt)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(node)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    targets(t)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets(node.target)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets(node.target)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars)
            for field in ("body", "orelse", "finalbody"):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                        isinstance(getattr(node, field, None), list):
                    visit(getattr(node, field))
            for handler in getattr(node, "handlers", []) or []:
                visit(handler.body)

    visit(tree.body)
    imported = {(a.asname or a.name).split(".")[0] for n in imports for a in n.names}
    return [n for n in dict.fromkeys(names) if n not in imported], imports


def _strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


# ------------------------------------------------------------------ proxies for the student's objects
class RemoteRef:
    """An object that lives in the student process. Calls and look-ups go there; only plain data comes back."""

    __slots__ = ("_h", "_info")

    def __init__(self, handle, info):
        object.__setattr__(self, "_h", handle)
        object.__setattr__(self, "_info", info)

    def _ask(self, op, args=(), kwargs=None, **extra):
        return _CHANNEL.ask(op, self, args, kwargs or {}, **extra)

    def __call__(self, *args, **kwargs):
        return self._ask("call", args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in ("__name__", "__qualname__"):
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __getitem__(self, key):
        return self._ask("getitem", (key,))

    def __len__(self):
        return self._ask("len")

    def __iter__(self):
        return iter(self._ask("iter"))

    def __bool__(self):
        return bool(self._ask("bool")) if not self._info.get("callable") else True

    def __repr__(self):
        return str(self._info.get("r", "<student object>"))

    @property
    def __class__(self):  # isinstance(model, keras.Model) holds when the student's object is one
        module, qualname = self._info.get("c", ["", ""])
        obj = sys.modules.get(module)
        for part in qualname.split("."):
            obj = getattr(obj, part, None) if obj is not None else None
        return obj if isinstance(obj, type) else RemoteRef


_PROXY_CLASSES: dict = {}


def _proxy_class(module: str, qualname: str) -> type:
    """A RemoteRef subclass named like the student's class, so that `type(obj).__name__` reads "Dense"."""
    key = (module, qualname)
    if key not in _PROXY_CLASSES:
        name = qualname.rsplit(".", 1)[-1] or "RemoteRef"
        if not name.isidentifier():
            name = "RemoteRef"
        _PROXY_CLASSES[key] = type(name, (RemoteRef,), {"__slots__": (), "__qualname__": qualname or name,
                                                        "__module__": module or "student"})
    return _PROXY_CLASSES[key]


class Channel:
    def __init__(self, sandbox: Sandbox, limits: Limits, notebook_deadline: float):
        self.sandbox, self.limits, self.notebook_deadline = sandbox, limits, notebook_deadline
        self.cell_deadline = notebook_deadline
        self.student_output: list[str] = []
        # one request at a time: an ordinary cell's student side runs in a thread (see grade)
        self.lock = threading.RLock()

    def deadline(self) -> float:
        return min(self.cell_deadline, self.notebook_deadline)

    def _make_ref(self, obj):
        if isinstance(obj, RemoteRef):
            return {"t": "ref", "h": obj._h}
        raise wire.Unsendable(f"a {type(obj).__name__} cannot be passed to the student's code")

    def _resolve(self, ref):
        if type(ref.get("h")) is not int:
            raise wire.WireError("bad reference")
        info = {"r": str(ref.get("r", ""))[:200], "callable": bool(ref.get("callable")),
                "c": [str(x)[:200] for x in ref.get("c", ["", ""])][:2]}
        return _proxy_class(*info["c"])(ref["h"], info)

    def run(self, code: str, export: list[str]) -> tuple[dict, list[bytes]]:
        with self.lock:
            return self.sandbox.request({"op": "run", "code": code, "export": export}, [], self.deadline())

    def ask(self, op, ref, args, kwargs, **extra):
        arrays: list[bytes] = []
        message = {"op": op, "h": ref._h, "args": wire.encode(list(args), arrays, self._make_ref),
                   "kwargs": wire.encode(dict(kwargs), arrays, self._make_ref), **extra}
        try:
            with self.lock:
                reply, blobs = self.sandbox.request(message, arrays, self.deadline())
        except SandboxError as exc:
            raise StudentProcessError(str(exc)) from None
        text = reply.get("stdout") or ""
        if isinstance(text, str) and text:
            print(text[: self.limits.output_chars], end="" if text.endswith("\n") else "\n")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise _student_error_class(str(error.get("ename", "")))(
                f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip(),
                                   str(error.get("traceback", ""))[-3000:])
        value = wire.decode(reply.get("value"), blobs, self._resolve)
        for original, after in zip(_flat(args), reply.get("after") or []):
            if after is not None:
                _copy_back(original, wire.decode(after, blobs, self._resolve))
        return value


def _flat(args) -> list:
    """Arguments, with lists and tuples opened one level (the student side answers in the same order)."""
    out = []
    for a in args:
        out += list(a) if type(a) in (list, tuple) else [a]
    return out


def _copy_back(original, new):
    """Make an in-place change the student's function made to an argument visible here."""
    import numpy as np

    try:
        if isinstance(original, np.ndarray) and isinstance(new, np.ndarray) and original.shape == new.shape \
                and original.flags.writeable and not np.array_equal(original, new, equal_nan=True):
            np.copyto(original, new, casting="unsafe")
        elif hasattr(original, "assign") and hasattr(new, "numpy"):
            original.assign(new)
    except Exception:  # noqa: BLE001 (a change we cannot mirror stays invisible)
        pass


class StudentCodeError(Exception):
    """The student's code raised: the message is the student's exception, in one line."""

    def __init__(self, message, student_traceback=""):
        super().__init__(message)
        self.student_traceback = student_traceback


_STUDENT_ERRORS: dict = {}


def _student_error_class(ename: str) -> type:
    """StudentCodeError that is also the builtin exception the student's code raised (ValueError, KeyError, ...),
    so that a test's `except ValueError` or `pytest.raises(ValueError)` sees it. Only builtin classes are
    made here; any other exception is a plain StudentCodeError."""
    builtin = getattr(builtins, ename, None)
    if not (isinstance(builtin, type) and issubclass(builtin, Exception)) or builtin is Exception:
        return StudentCodeError
    if ename not in _STUDENT_ERRORS:
        _STUDENT_ERRORS[ename] = type(f"Student{ename}", (StudentCodeError, builtin),
                                      {"__init__": StudentCodeError.__init__, "__str__": Exception.__str__})
    return _STUDENT_ERRORS[ename]


class StudentProcessError(Exception):
    """The student process broke a limit or exited."""


_CHANNEL: Channel | None = None


# ------------------------------------------------------------------ grading
def _cells_by_id(nb: dict) -> dict:
    return {c.get("id"): c for c in nb["cells"]}


def determine_grade(cell: dict) -> tuple[float, float]:
    """nbgrader's rule for an autograded test cell (nbgrader.utils.determine_grade, which imports in ~7 s of
    CPU, too slow for a fresh process per submission; tests/test_autograder.py checks that both agree): an
    error or any stderr output gives 0; else the first execute_result, when it is a number, is the score
    (partial credit: 0 <= value <= points; above points is an error, below 0 full points), else full points."""
    max_points = float(cell["metadata"]["nbgrader"]["points"])
    for output in cell["outputs"]:
        if output["output_type"] == "error" or (output["output_type"] == "stream" and output["name"] == "stderr"):
            return 0.0, max_points
        if output["output_type"] == "execute_result":
            try:
                value = float(output["data"].get("text/plain", ""))
            except ValueError:
                return max_points, max_points
            if value > max_points:
                return 0.0, max_points
            return (value if value >= 0 else max_points), max_points
    return max_points, max_points


def _joined(nb: dict) -> dict:
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nb


def _is_test(cell) -> bool:
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return cell["cell_type"] == "code" and nbg.get("grade") and not nbg.get("solution")


def grade(job: dict) -> dict:
    global _CHANNEL
    limits = Limits(**job.get("limits", {}))
    source = _joined(json.loads(Path(job["source"]).read_text()))
    release = _cells_by_id(_joined(json.loads(Path(job["release"]).read_text())))
    student_cells: dict = job["student_cells"]
    ignore = re.compile(job["ignore_pattern"]) if job.get("ignore_pattern") else None
    started = time.monotonic()
    notebook_deadline = started + limits.notebook_seconds
    sandbox = Sandbox(Path(job["scratch"]), Path(job["libdir"]), limits, job.get("uid", 60000))
    messages: list[str] = []
    review: list[str] = []
    scores: dict[str, list[float]] = {}
    feedback = []
    os.chdir(job["trusted_dir"])
    sys.path = [p for p in sys.path if p not in ("", ".")]
    shell = CellShell(limits.output_chars)
    _CHANNEL = Channel(sandbox, limits, notebook_deadline)
    in_sandbox = bool(job.get("tests_in_sandbox"))
    student_defs: dict = {}  # name -> the student's value (plain data or a proxy), or _GONE
    try:
        sandbox.start()
        for cell in source["cells"]:
            kind, nbg = cell["cell_type"], cell.get("metadata", {}).get("nbgrader", {})
            public = release.get(cell.get("id"), cell)
            _CHANNEL.cell_deadline = time.monotonic() + limits.cell_seconds
            if kind != "code":
                if nbg.get("solution") and nbg.get("grade_id") in student_cells:
                    cell = dict(cell, source=student_cells[nbg["grade_id"]])
                feedback.append(dict(public if not nbg.get("solution") else cell, outputs=None))
                continue
            if nbg.get("solution"):
                names, _imports = defined_names(cell["source"])
                code = student_cells.get(nbg.get("grade_id"))
                if code is None:
                    code = ""
                outputs = []
                for name in names:  # until the student's code says otherwise, the name is not defined
                    student_defs[name] = _GONE
                if sandbox.failure is None:
                    try:
                        reply, blobs = _CHANNEL.run(code, names)
                        outputs = reply.get("outputs") if isinstance(reply.get("outputs"), list) else []
                        exports = reply.get("exports") if isinstance(reply.get("exports"), dict) else {}
                        for name in names:  # only the names the exercise defines, decoded as plain data
                            if name in exports:
                                student_defs[name] = wire.decode(exports[name], blobs, _CHANNEL._resolve)
                        if reply.get("missing"):
                            outputs.append(_stream(f"[grader] not defined by your code: {', '.join(reply['missing'])}\n"))
                    except (SandboxError, wire.WireError) as exc:
                        outputs = [_stream(f"[grader] {exc}\n")]
                if not in_sandbox:
                    # The instructor's solution, here, for the ordinary cells that follow: they compute the
                    # tests' fixtures with known-good code (fast, and the same for every student). Test cells
                    # see the student's definitions instead (_student_defs_in).
                    shell.run(cell["source"])
                feedback.append(dict(cell, source=code, outputs=_sanitize(outputs, limits), execution_count=None))
                continue
            if _is_test(cell):
                # The public part runs in the student process too (errors ignored), so that names a test cell
                # defines exist there for later cells; only the trusted run below is graded.
                if sandbox.failure is None and not in_sandbox:
                    _run_quietly(public["source"])
                _CHANNEL.cell_deadline = time.monotonic() + limits.cell_seconds
                if in_sandbox:
                    # Lower-assurance mode, for assignments whose tests cannot cross a process boundary (TF1
                    # graphs, Keras objects): the instructor's test runs inside the student process.
                    outputs = [{"output_type": "error", "ename": "SandboxError", "evalue": sandbox.failure or "",
                                "traceback": []}]
                    if sandbox.failure is None:
                        try:
                            reply, _ = _CHANNEL.run(cell["source"], [])
                            outputs = _sanitize(reply.get("outputs") or [], limits) if reply.get("ok") else [
                                {"output_type": "error", "ename": "TestFailed", "evalue": "", "traceback": []}]
                        except SandboxError as exc:
                            outputs[0]["evalue"] = str(exc)
                    # only the verdict reaches the feedback: the student's code could print the hidden tests
                    outputs = [o for o in outputs if o["output_type"] != "stream" or o["name"] == "stderr"]
                else:
                    with _student_defs_in(shell.user_ns, student_defs):
                        outputs, _ = shell.run(cell["source"])
                if ignore is not None:
                    outputs = [o for o in outputs if not (o["output_type"] == "stream" and o["name"] == "stderr"
                                                         and ignore.search(o["text"]))]
                score, max_score = determine_grade(dict(cell, outputs=outputs))
                if any(o["output_type"] == "error" and o.get("ename") == "Unsendable" for o in outputs):
                    review.append(nbg["grade_id"])
                scores[nbg["grade_id"]] = [float(score or 0), float(max_score)]
                shown = _public_outputs(outputs, limits)
                if in_sandbox:  # the verdict only: student code could print the hidden tests
                    shown = [dict(o, evalue="") for o in shown if o["output_type"] == "error"]
                feedback.append(dict(public, outputs=shown, execution_count=None,
                                     metadata=dict(public.get("metadata", {}), nbgrader=dict(
                                         public.get("metadata", {}).get("nbgrader", {}), score=score,
                                         points=max_score))))
                continue
            # an ordinary cell: the public version in the student process and, at the same time, the
            # instructor's version here (not needed when the tests run in the sandbox)
            student_side = None
            if sandbox.failure is None:
                student_side = threading.Thread(target=_run_quietly, args=(public["source"],), daemon=True)
                student_side.start()
            outputs = []
            if not in_sandbox:
                outputs, _ = shell.run(cell["source"])
            if student_side is not None:
                student_side.join()
            feedback.append(dict(public, outputs=_sanitize(outputs, limits), execution_count=None))
    finally:
        sandbox.close()
    status = "ok"
    if in_sandbox:
        messages.append("tests ran inside the sandbox (--tests-in-sandbox): lower assurance, see autograder/README.md")
    if review:
        status = "review"
        messages.append(f"grade by hand: {', '.join(review)} pass(es) a function or object to your code that "
                        "cannot leave the grader's process; the automatic score of these cells is not final")
    if sandbox.failure:
        status = "limit" if "limit" in sandbox.failure else "error"
        messages.append(sandbox.failure)
    return {"status": status, "messages": messages, "scores": scores, "feedback_cells": feedback,
            "seconds": round(time.monotonic() - started, 2)}


def _run_quietly(code: str) -> None:
    """Run a cell in the student process, ungraded: its errors are the student's business (they show in later
    tests), and a broken sandbox is reported by sandbox.failure."""
    try:
        _CHANNEL.run(code, [])
    except SandboxError:
        pass


@contextlib.contextmanager
def _student_defs_in(namespace: dict, student_defs: dict):
    """Inside: the names the exercises define are the student's (a name the student did not define is
    missing, never the instructor's). After: the instructor's again, for the ordinary cells."""
    saved = {name: namespace.get(name, _GONE) for name in student_defs}
    for name, value in student_defs.items():
        if value is _GONE:
            namespace.pop(name, None)
        else:
            namespace[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _GONE:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def _stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _sanitize(outputs: list, limits: Limits) -> list:
    """Outputs in nbformat shape only (they may come from the student process)."""
    clean = []
    for o in outputs[:50]:
        if not isinstance(o, dict):
            continue
        kind = o.get("output_type")
        if kind == "stream" and isinstance(o.get("text"), str):
            clean.append(_stream(o["text"][: limits.output_chars], "stderr" if o.get("name") == "stderr" else "stdout"))
        elif kind in ("execute_result", "display_data") and isinstance(o.get("data"), dict):
            data = {k: v[: 2_000_000] for k, v in o["data"].items()
                    if k in ("text/plain", "image/png") and isinstance(v, str)}
            out = {"output_type": kind, "data": data, "metadata": {}}
            if kind == "execute_result":
                out["execution_count"] = None
            clean.append(out)
        elif kind == "error":
            clean.append({"output_type": "error", "ename": str(o.get("ename", ""))[:200],
                          "evalue": str(o.get("evalue", ""))[:2000],
                          "traceback": [str(t)[:4000] for t in (o.get("traceback") or [])[-20:]
                                        if isinstance(o.get("traceback"), list)]})
    return clean


def _public_outputs(outputs: list, limits: Limits) -> list:
    """A test cell's outputs for the feedback: its prints and the failing check's message, but no traceback
    (it would quote the hidden tests)."""
    out = []
    for o in _sanitize(outputs, limits):
        if o["output_type"] == "error":
            evalue = o["evalue"]
            o = dict(o, traceback=[f"{o['ename']}: {evalue}" if evalue else o["ename"],
                                   "(a check of this cell failed; hidden tests are not shown)"])
        out.append(o)
    return out


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[1]).read_text())
    try:
        result = grade(job)
    except Exception as exc:  # noqa: BLE001 (reported in the row; the batch goes on)
        import traceback

        result = {"status": "error", "messages": [f"grader error: {type(exc).__name__}: {exc}"],
                  "scores": {}, "feedback_cells": [], "trace": traceback.format_exc()[-4000:]}
    Path(job["out"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    builtins.__dict__.setdefault("__grader__", True)
    sys.exit(main(sys.argv))
