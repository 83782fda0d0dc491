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
import linecache
import os
import re
import shutil
import signal
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import numpy as np

import graphwire
import plainwire as wire
from cellshell import CellShell
from needed_cells import is_test_cell, needed_cells
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

    # No borrowed class or class name: `type(obj).__name__` and isinstance() tell what the grader knows (a
    # RemoteRef), never what the student's process claims. Rich objects the tests inspect cross as
    # reconstructions instead (Keras layers and models: _rebuild_keras).


class Refused:
    """A student object the grader would not rebuild (e.g. a Keras model with a Lambda layer): any use fails
    with the reason."""

    __slots__ = ("_why",)

    def __init__(self, why: str):
        object.__setattr__(self, "_why", why)

    def _fail(self, *args, **kwargs):
        raise TypeError(self._why)

    __call__ = __getitem__ = __len__ = __iter__ = _fail

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._fail()

    def __repr__(self):
        return f"<not gradable: {self._why}>"


# Keras' own modules that a config may name; anything else (the student's classes, other modules) is refused,
# as are the classes that carry code (Lambda: marshalled Python bytecode; TFSMLayer: a SavedModel from disk).
_KERAS_MODULES = ("keras", "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
                  "keras.activations", "keras.models", "keras.optimizers", "keras.optimizers.schedules",
                  "keras.losses", "keras.metrics")
_KERAS_REFUSED = {"Lambda", "TFSMLayer", "function", "__lambda__"}


def _check_keras_config(node, depth=0) -> None:
    if depth > 64:
        raise ValueError("Keras config nested too deeply")
    if isinstance(node, list):
        for item in node:
            _check_keras_config(item, depth + 1)
    elif isinstance(node, dict):
        if "class_name" in node:
            module, name = node.get("module"), node.get("class_name")
            found = getattr(sys.modules.get(module or ""), str(name), None) if module in _KERAS_MODULES else None
            if name == "function" and module in ("keras.activations", "keras.losses", "keras.metrics", "builtins") \
                    and isinstance(node.get("config"), str):
                # a built-in activation, loss or metric function ("builtins": Keras looks the name up in its own
                # modules); only a name one of Keras' modules defines is accepted
                found = type if any(callable(getattr(sys.modules[m], node["config"], None)) for m in (
                    ("keras.activations", "keras.losses", "keras.metrics") if module == "builtins" else (module,))
                    ) else None
            elif name in _KERAS_REFUSED or node.get("registered_name") not in (None, name):
                found = None
            if not isinstance(found, type):
                raise ValueError(f"a Keras object of class {str(name)[:60]!r} from {str(module)[:60]!r} "
                                 "(only Keras' own classes, no Lambda layers) cannot be graded")
        for value in node.values():  # compile_config included: its optimizer, loss and metrics are rebuilt too
            _check_keras_config(value, depth + 1)


def _rebuild_keras(form: dict, blobs: list):
    """The student's Keras layer or model, rebuilt here from its config and weights by Keras itself (safe mode),
    after every class it names was checked to be one of Keras' own."""
    import keras  # noqa: F401 (imports the modules _check_keras_config looks classes up in)

    for module in _KERAS_MODULES:
        __import__(module)
    try:
        if "optimizer" in form:  # an optimizer: its config only (its slots are not sent)
            config = json.loads(str(form["optimizer"]))
            _check_keras_config(config)
            obj = keras.saving.deserialize_keras_object(config, safe_mode=True)
            if not isinstance(obj, keras.optimizers.Optimizer):
                raise ValueError("not a Keras optimizer")
            return obj
        config = json.loads(str(form.get("config", "")))
        _check_keras_config(config)
        # a compiled model comes back compiled (its compile_config: optimizer, loss, metrics, checked above)
        obj = keras.saving.deserialize_keras_object(config, safe_mode=True)
        if not isinstance(obj, keras.layers.Layer):
            raise ValueError("not a Keras layer or model")
        weights = [wire._load_npy(blobs[i]) for i in form.get("weights", []) if type(i) is int and 0 <= i < len(blobs)]
        obj.set_weights(weights)
        return obj
    except Exception as exc:  # noqa: BLE001 (any config Keras or the check refuses)
        return Refused(f"your Keras object could not be rebuilt by the grader: {type(exc).__name__}: "
                       f"{str(exc)[:300]}")


def _no_reference(ref):
    raise wire.WireError("a reference where only plain data belongs")


def _rich_form(obj, arrays: list, make_ref=None, rich: list | None = None) -> dict:
    """A rich object of this process as data for the student process: a Keras layer or model as its config and
    weights, an optimizer as its config, a finite dataset as its elements, a function a test cell defined as
    its source and the values it uses (_function_form). Anything else cannot be passed."""
    if isinstance(obj, types.FunctionType):
        return _function_form(obj, arrays, make_ref or _unsendable, rich)
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(obj, (keras.layers.Layer, keras.optimizers.Optimizer)):
        try:
            form = {"kind": "keras" if isinstance(obj, keras.layers.Layer) else "optimizer",
                    "config": json.dumps(keras.saving.serialize_keras_object(obj))}
        except Exception as exc:  # noqa: BLE001
            raise wire.Unsendable(f"a {type(obj).__name__} that Keras cannot serialise cannot be passed to the "
                                  f"student's code ({type(exc).__name__})") from None
        if form["kind"] == "keras":
            first = len(arrays)
            arrays.extend(wire._npy(np.asarray(w)) for w in obj.get_weights())
            form["weights"] = list(range(first, len(arrays)))
        return form
    elements = wire.dataset_elements(obj)
    if elements is not None:
        return {"kind": "dataset", "elements": wire.encode(elements, arrays, _unsendable)}
    strategy = _strategy_form(obj)
    if strategy is not None:
        return strategy
    raise wire.Unsendable(f"a {type(obj).__name__} cannot be passed to the student's code")


def _strategy_form(obj) -> dict | None:
    """A tf.distribute strategy as its description: the default (single-device) strategy, or a MirroredStrategy
    over named local devices; the student process makes its own (one per device list). Nothing about the
    student's use of it comes back except what the call returns (a model as config + weights): whether the
    student created variables inside its scope is a fact of the student process, not believed here."""
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(obj, tf.distribute.Strategy):
        return None
    from tensorflow.python.distribute import distribute_lib

    if type(obj) is distribute_lib._DefaultDistributionStrategy:  # noqa: SLF001 (tf.distribute.get_strategy())
        return {"kind": "strategy", "strategy": "default"}
    if type(obj) is tf.distribute.MirroredStrategy:
        devices = [str(d) for d in obj.extended.worker_devices]
        if all("/job:localhost/" in d or d.startswith("/") for d in devices):
            return {"kind": "strategy", "strategy": "mirrored", "devices": devices}
    raise wire.Unsendable(f"a {type(obj).__name__} cannot be passed to the student's code (only the default "
                          "strategy and a MirroredStrategy over this machine's devices cross)")


_MODULES_BY_NAME = ("numpy", "tensorflow", "keras", "math")


def _function_form(fn, arrays: list, make_ref, rich: list | None) -> dict:
    """A function (a def or a lambda) that a test cell defined, for the student's code to call: its source, found
    in the cell by the line it starts on, and the values it reads (globals and closure variables) as plain data,
    modules by name. Variables it reads are the same objects as those passed beside it (`rich`): a loss function
    over the variables that the student's step updates. The instructor's code, not the student's: it may be
    seen by the student's process (which already sees the inputs of the call)."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename)
    try:
        tree = ast.parse("".join(lines))
    except SyntaxError:
        tree = None
    kind = ast.Lambda if fn.__name__ == "<lambda>" else ast.FunctionDef
    found = [n for n in ast.walk(tree) if isinstance(n, kind) and not getattr(n, "decorator_list", None)
             and n.lineno == code.co_firstlineno and getattr(n, "name", fn.__name__) == fn.__name__] if tree else []
    if len(found) != 1:
        raise wire.Unsendable(f"the function {fn.__name__} cannot be passed to the student's code (write it as "
                              "one def or one lambda on its own line in the test cell)")
    source = textwrap.dedent(ast.get_source_segment("".join(lines), found[0], padded=True) or "")
    names, todo = set(code.co_freevars), [code]
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    env = {n: fn.__globals__[n] for n in sorted(names) if n in fn.__globals__}
    env.update({n: cell.cell_contents for n, cell in zip(code.co_freevars, fn.__closure__ or ())})
    modules, values = {}, {}
    for name, value in env.items():
        if isinstance(value, types.ModuleType):
            if value.__name__.split(".")[0] in _MODULES_BY_NAME:
                modules[name] = value.__name__
            continue
        try:  # a value that cannot cross is left out (NameError there if the function needs it)
            wire.encode(value, [], make_ref if rich is None else _unsendable_probe(make_ref), rich=list(rich or []))
        except wire.Unsendable:
            continue
        values[name] = value
    return {"kind": "function", "source": source, "name": fn.__name__, "modules": modules,
            "env": wire.encode(values, arrays, make_ref, rich=rich)}


def _unsendable_probe(make_ref):
    """make_ref for a dry run: proxies and rebuilt objects pass; other rich objects are tried without recording."""
    def probe(obj):
        if isinstance(obj, (RemoteRef, types.FunctionType)):
            return {"t": "ref", "h": 0}
        return {"t": "ref", "h": 0, "rich": _rich_form(obj, [])}
    return probe


def _unsendable(obj):
    raise wire.Unsendable(f"a {type(obj).__name__} cannot be passed to the student's code")


def _apply_state(obj, new) -> None:
    """The state a student's call left in a rich argument, applied to this process's object after checking it:
    a variable's value (same shape and dtype), a Keras object's weights (same count and shapes)."""
    tf, keras = sys.modules.get("tensorflow"), sys.modules.get("keras")
    if tf is not None and isinstance(obj, tf.Variable):
        if not (isinstance(new, np.ndarray) and new.shape == tuple(obj.shape) and new.dtype == obj.dtype.as_numpy_dtype):
            raise StudentCodeError("your code changed the shape or dtype of a variable passed to it")
        obj.assign(new)
    elif keras is not None and isinstance(obj, keras.layers.Layer):
        old = obj.get_weights()
        if not (type(new) is list and len(new) == len(old) and all(
                isinstance(n, np.ndarray) and n.shape == o.shape for n, o in zip(new, old))):
            raise StudentCodeError("your code changed the number or shapes of the weights of a model passed to it")
        obj.set_weights([n.astype(o.dtype) for n, o in zip(new, old)])


class Channel:
    def __init__(self, sandbox: Sandbox, limits: Limits, notebook_deadline: float):
        self.sandbox, self.limits, self.notebook_deadline = sandbox, limits, notebook_deadline
        self.cell_deadline = notebook_deadline
        self.student_output: list[str] = []
        self.calls = 0          # calls into the student's code so far
        self.tainted = False    # True once a hidden test has called the student's code: from then on, nothing
                                # the student's process writes may reach the feedback (it could hold hidden inputs)
        self.rebuilt: dict = {}  # id(a Keras object rebuilt here) -> (it, the handle of the student's original)
        self.watched = None     # (namespace, {name: value}) of a test cell: the student's names as last synced
        self.graph = None       # the test's tf.Graph during a TF1 call (graphwire)
        self.changed = None     # the arguments the last call changed in place, as the student process reports
                                # them (grader_judge.changed_arguments); None before the first call
        self.session_log: list = []  # the last calls' Session.run records (grader_judge.session_runs), newest last
        self.record_sessions = False  # ask the student process to record them (a notebook that reads them)
        self.check_changes = False   # ask it which arguments each call changed (a notebook that reads that)
        # one request at a time: an ordinary cell's student side runs in a thread (see grade)
        self.lock = threading.RLock()

    def deadline(self) -> float:
        return min(self.cell_deadline, self.notebook_deadline)

    def ref_maker(self, arrays: list, rich: list | None = None):
        """make_ref for a request: a proxy goes back as its handle, a rebuilt Keras object as the handle of
        the student's original, and a rich object of this process (a Keras model, layer or optimizer, a finite
        dataset) as data that the student process rebuilds (_rich_form). With `rich`, each is recorded once, in
        order (tagged "s"): the call's reply brings its new state back (_apply_state)."""
        def make_ref(obj):
            for k, seen in enumerate(rich or []):
                if seen is obj:
                    return {"t": "same", "k": k}
            if wire.graph_element(obj):  # of the test's graph, which crosses with the call (graphwire)
                return {"t": "ref", "h": 0, "graph": wire.graph_ref(obj)}
            if isinstance(obj, RemoteRef):
                return {"t": "ref", "h": obj._h}
            if id(obj) in self.rebuilt and self.rebuilt[id(obj)][0] is obj:  # back to the student's own object
                ref = {"t": "ref", "h": self.rebuilt[id(obj)][1]}
            else:
                ref = {"t": "ref", "h": 0, "rich": _rich_form(obj, arrays, make_ref, rich)}
            if rich is not None:
                rich.append(obj)
                ref["s"] = len(rich) - 1
            return ref
        return make_ref

    def resolver(self, blobs: list):
        def resolve(ref):
            if type(ref.get("h")) is not int:
                raise wire.WireError("bad reference")
            if isinstance(ref.get("graph"), dict):  # an element of the test's graph, after import_delta
                if self.graph is None:
                    raise GraphRefusedError("your code returned a TF1 graph element outside a graph test")
                try:
                    return graphwire.resolve(self.graph, ref["graph"])
                except graphwire.GraphRefused as exc:
                    raise GraphRefusedError(str(exc)) from None
            if isinstance(ref.get("keras"), dict):
                obj = _rebuild_keras(ref["keras"], blobs)
                self.rebuilt[id(obj)] = (obj, ref["h"])
                return obj
            if "dataset" in ref:  # a finite dataset as its elements: plain arrays, rebuilt here
                return wire.dataset_from(wire.decode(ref["dataset"], blobs, _no_reference))
            return RemoteRef(ref["h"], {"r": str(ref.get("r", ""))[:200], "callable": bool(ref.get("callable"))})
        return resolve

    def sync_names(self) -> None:
        """A test that deletes or rebinds one of the student's names (`del squares`, then `squares =
        orig_squares`) does it in the student process too, where the student's functions look it up, as in
        nbgrader's single kernel. A value that cannot cross (a function the test defined) is not sent."""
        if self.watched is None:
            return
        namespace, synced = self.watched
        for name in list(synced):
            now = namespace.get(name, _GONE)
            if now is synced[name]:
                continue
            synced[name] = now
            arrays: list[bytes] = []
            try:
                value = [] if now is _GONE else wire.encode([now], arrays, self.ref_maker(arrays))
            except wire.Unsendable:
                continue
            with self.lock:
                self.sandbox.request({"op": "bind", "name": name, "args": value, "h": 0}, arrays, self.deadline())

    def run(self, code: str, export: list[str]) -> tuple[dict, list[bytes]]:
        with self.lock:
            return self.sandbox.request({"op": "run", "code": code, "export": export}, [], self.deadline())

    def ask(self, op, ref, args, kwargs, **extra):
        self.calls += 1
        arrays: list[bytes] = []
        rich: list = []  # variables, Keras objects passed in: their state comes back after the call
        make_ref = self.ref_maker(arrays, rich)
        message = {"op": op, "h": ref._h, "args": wire.encode(list(args), arrays, make_ref, rich=rich),
                   "kwargs": wire.encode(dict(kwargs), arrays, make_ref, rich=rich), **extra}
        if op == "call" and self.record_sessions:
            message["record_sessions"] = True
        if op == "call" and self.check_changes:
            message["check_changes"] = True
        # A TF1 test: the default graph crosses as a MetaGraphDef, the call's new nodes come back as a GraphDef
        # checked against graphwire's allow-list, imported into the test's graph, then run by the test's Session.
        graph = None
        if op == "call" and graphwire.in_graph_mode():
            graph = sys.modules["tensorflow"].compat.v1.get_default_graph()
            message["graph"] = graphwire.send_form(graph, arrays)
        try:
            self.sync_names()
            with self.lock:
                reply, blobs = self.sandbox.request(message, arrays, self.deadline())
        except SandboxError as exc:
            raise StudentProcessError(str(exc)) from None
        if op == "call" and self.check_changes:
            self.changed = _changed_report(reply.get("changed", []), len(args), kwargs)
        text = reply.get("stdout") or ""
        if isinstance(text, str) and text and not self.tainted:
            print(text[: self.limits.output_chars], end="" if text.endswith("\n") else "\n")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise _student_error_class(str(error.get("ename", "")))(
                f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip(),
                                   str(error.get("traceback", ""))[-3000:])
        # Plain arguments crossed as copies and nothing the call did to them comes back: a test's own arrays
        # (and the reference values it computes from them) are the same after the call as before. Rich
        # arguments (variables, Keras models and layers) get their new state, as checked plain arrays.
        if graph is not None:
            if not isinstance(reply.get("graph"), dict):
                raise StudentProcessError("the student process sent back no graph")
            try:
                graphwire.import_delta(graph, reply["graph"], blobs)
            except graphwire.GraphRefused as exc:
                raise GraphRefusedError(str(exc)) from None
        self.graph = graph
        try:
            value = wire.decode(reply.get("value"), blobs, self.resolver(blobs))
        finally:
            self.graph = None
        if op == "call":  # what its Session.run calls were, kept as sent: checked and re-run only when a test asks
            try:
                form = wire.decode(reply.get("session_runs"), blobs, _no_reference)
            except wire.WireError:
                form = {"malformed": True}
            self.session_log = (self.session_log + [{"call": self.calls, "form": form, "returned": value,
                                                     "records": None}])[-MAX_LOGGED_CALLS:]
        if rich:
            state = wire.decode(reply.get("state"), blobs, _no_reference)
            if type(state) is not list or len(state) != len(rich):
                raise StudentProcessError("the student process sent back a malformed state of the arguments")
            for obj, new in zip(rich, state):
                _apply_state(obj, new)
        return value


def _changed_report(report, n_args: int, kwargs: dict) -> list:
    """The student process's report of the arguments a call changed in place, checked: positions below n_args
    and names of the call's keyword arguments, each once, in order."""
    if type(report) is not list:
        raise StudentProcessError("the student process sent back a malformed report of changed arguments")
    out = []
    for key in report:
        if not ((type(key) is int and 0 <= key < n_args) or (type(key) is str and key in kwargs)) or key in out:
            raise StudentProcessError("the student process sent back a malformed report of changed arguments")
        out.append(key)
    return out


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


class GraphRefusedError(StudentProcessError):
    """A TF1 graph the student's code built holds what the grader does not import (graphwire.py): the message,
    the grader's own words, is shown even for a hidden check."""


_CHANNEL: Channel | None = None


def submitted_source(obj) -> str:
    """The source a test may check the way an answer is written with (no optimizer object, a tf.function): for a
    student's function, the text of the solution cell the student submitted (the grader's copy, never what the
    student's process says); for anything else, inspect.getsource. Tests import it as
    `from grader_judge import submitted_source`, falling back to inspect.getsource in a Jupyter kernel."""
    if isinstance(obj, RemoteRef) and isinstance(obj._info.get("source"), str):
        return obj._info["source"]
    import inspect

    return inspect.getsource(obj)


def changed_arguments() -> list:
    """The arguments that the last call of a student's function changed in place: their positions (int) and
    keyword names (str), in the call's order; [] when it changed none. Arguments cross as copies (README,
    "Mutation changes nothing"), so a test's own objects never show such a change: this report, made by the
    student process, comparing each plain argument (arrays, DataFrames and Series, lists, dicts and tuples of
    them) with a copy taken before the call, is how a test sees it. Tests import it as `from grader_judge import
    changed_arguments`, comparing their objects directly in a Jupyter kernel, where the import fails."""
    if _CHANNEL is None or _CHANNEL.changed is None:
        raise LookupError("changed_arguments(): no function of the student's has been called yet")
    return list(_CHANNEL.changed)


MAX_LOGGED_CALLS = 8  # calls whose Session.run records session_runs() keeps


def calls_made() -> int:
    """How many calls into the student's code were made so far: `session_runs(since=calls_made())` after a block
    gives the Session.run records of the calls made in the block."""
    return 0 if _CHANNEL is None else _CHANNEL.calls


def session_runs(since: int | None = None) -> list:
    """The tf.compat.v1 Session.run calls that the last call of a student's function made (with `since`: every
    call numbered above it, of the last MAX_LOGGED_CALLS), re-run here. The student process records each run (its
    session's GraphDef, the fetches by name, the feed); here each graph is checked against graphwire's allow-list
    (an op off it raises GraphRefusedError, the grader's own words), imported into a fresh graph and run in this
    process's own Session (graphwire.replay_session_runs). Each record: call, session, graph (the tf.Graph
    imported here), op_types, fetches, fetch_names, feed ({placeholder tensor: array}), placeholders ([(name,
    dtype, shape)]), values (this process's result; None if it failed, error says why), returned (what the
    student's function returned to the test) and dropped (runs past the student process's bounds, not recorded).
    The records are the student process's word: a test believes `values`, computed here, and compares them with
    `returned` (a record that does not reproduce what the function returned is forged or incomplete).
    Tests import it as `from grader_judge import session_runs`; in a Jupyter kernel the import fails and they
    record Session.run themselves."""
    if _CHANNEL is None or not _CHANNEL.session_log:
        raise LookupError("session_runs(): no function of the student's has been called yet")
    entries = _CHANNEL.session_log[-1:] if since is None else [e for e in _CHANNEL.session_log if e["call"] > since]
    out = []
    for entry in entries:
        if entry["records"] is None:
            form = entry["form"]
            if form is None:  # TensorFlow never imported in the student process: no run to record
                entry["records"], dropped = [], 0
            else:
                if not isinstance(form, dict) or form.get("malformed") or type(form.get("dropped")) is not int:
                    raise GraphRefusedError("the student process sent malformed Session.run records")
                seconds = max(1.0, _CHANNEL.deadline() - time.monotonic())
                try:
                    entry["records"] = graphwire.replay_session_runs(form, seconds)
                except graphwire.GraphRefused as exc:
                    raise GraphRefusedError(str(exc)) from None
                dropped = form["dropped"]
            for record in entry["records"]:
                record.update(call=entry["call"], returned=entry["returned"], dropped=dropped)
        out.extend(entry["records"])
    return out


def _judge_module():
    """`grader_judge`, importable by the instructor's test cells in this process only."""
    module = types.ModuleType("grader_judge")
    module.submitted_source = submitted_source
    module.changed_arguments = changed_arguments
    module.session_runs = session_runs
    module.calls_made = calls_made
    sys.modules["grader_judge"] = module


# ------------------------------------------------------------------ grading
def _public_versions(source: dict, release: dict) -> list:
    """For each source cell, its release (public) version: matched by nbgrader grade_id, else by cell id,
    else by position (nbformat 4.0/4.1 notebooks have no cell ids); the source cell itself when none is found."""
    cells = release["cells"]
    by_grade = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in cells}
    by_id = {c.get("id"): c for c in cells if c.get("id")}
    same_length = len(cells) == len(source["cells"])
    out = []
    for i, cell in enumerate(source["cells"]):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        found = by_grade.get(gid) if gid else None
        if found is None and cell.get("id"):
            found = by_id.get(cell["id"])
        if found is None and same_length and cells[i]["cell_type"] == cell["cell_type"]:
            found = cells[i]
        out.append(found or cell)
    return out


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


def grade(job: dict) -> dict:
    global _CHANNEL
    limits = Limits(**job.get("limits", {}))
    source = _joined(json.loads(Path(job["source"]).read_text()))
    publics = _public_versions(source, _joined(json.loads(Path(job["release"]).read_text())))
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
    _copy_assignment_files(Path(job["source"]).parent, [Path(job["trusted_dir"]), Path(job["scratch"])])
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader sets it while autograding (both processes)
    sys.path = [p for p in sys.path if p not in ("", ".")]
    shell = CellShell(limits.output_chars)
    _judge_module()
    _CHANNEL = Channel(sandbox, limits, notebook_deadline)
    # the student process records Session.run calls, and copies arguments to report in-place changes, only for a
    # notebook whose cells ask for them (a call of a training function pays for neither elsewhere)
    code = [c["source"] for c in source["cells"] if c["cell_type"] == "code"]
    _CHANNEL.record_sessions = any("session_runs" in text for text in code)
    _CHANNEL.check_changes = any("changed_arguments" in text for text in code)
    in_sandbox = bool(job.get("tests_in_sandbox"))
    student_defs: dict = {}  # name -> the student's value (plain data or a proxy), or _GONE
    said_own_values = False  # the note that tests use the grader's own values, once per notebook
    said_not_run = False     # the note that the cells after the last graded one are not run, on the first of them
    # (lead) Only what the grade depends on runs: here, the instructor's cells that test cells read from, directly
    # or through other cells (needed_cells.py); in both processes, nothing after the last graded cell.
    needed, last_graded = _cells_to_run(source["cells"])
    try:
        sandbox.start()
        for index, (cell, public) in enumerate(zip(source["cells"], publics)):
            kind, nbg = cell["cell_type"], cell.get("metadata", {}).get("nbgrader", {})
            _CHANNEL.cell_deadline = time.monotonic() + limits.cell_seconds
            if kind != "code":
                if nbg.get("solution") and nbg.get("grade_id") in student_cells:
                    cell = dict(cell, source=student_cells[nbg["grade_id"]])
                feedback.append(dict(public if not nbg.get("solution") else cell, outputs=None))
                continue
            if index > last_graded:  # no graded cell follows: its outputs cannot change a score
                shown = dict(cell, source=student_cells.get(nbg.get("grade_id")) or "") if nbg.get("solution") \
                    else public
                feedback.append(dict(shown, execution_count=None, outputs=[] if said_not_run else [_stream(_NOT_RUN)]))
                said_not_run = True
                continue
            if nbg.get("solution"):
                names, _imports = defined_names(cell["source"])
                code = student_cells.get(nbg.get("grade_id"))
                if code is None:
                    code = ""
                if not names:  # the instructor's cell is a stub: the exercise defines what the student's cell
                    # defines, except names that ordinary cells already bound (fixtures cannot be hijacked)
                    names = [n for n in defined_names(code)[0] if n not in shell.user_ns and n not in student_defs]
                outputs, notes = [], []
                for name in names:  # until the student's code says otherwise, the name is not defined
                    student_defs[name] = _GONE
                if sandbox.failure is None:
                    try:
                        reply, blobs = _CHANNEL.run(code, names)
                        outputs = reply.get("outputs") if isinstance(reply.get("outputs"), list) else []
                        exports = reply.get("exports") if isinstance(reply.get("exports"), dict) else {}
                        for name in names:  # only the names the exercise defines, decoded as plain data
                            if name in exports:
                                student_defs[name] = wire.decode(exports[name], blobs, _CHANNEL.resolver(blobs))
                                if isinstance(student_defs[name], RemoteRef):  # the text the student submitted
                                    student_defs[name]._info["source"] = code
                        if reply.get("missing"):
                            notes.append(_stream(f"[grader] not defined by your code: {', '.join(reply['missing'])}\n"))
                    except (SandboxError, wire.WireError) as exc:
                        outputs = [_stream(f"[grader] {exc}\n")]
                if _CHANNEL.tainted:
                    outputs = [_stream(_WITHHELD)]
                feedback.append(dict(cell, source=code, outputs=_sanitize(outputs + notes, limits),
                                     execution_count=None))
                if not in_sandbox and needed[index]:
                    # The instructor's solution, here, for the ordinary cells that follow: they compute the
                    # tests' fixtures with known-good code (fast, and the same for every student). Test cells
                    # see the student's definitions instead (_student_defs_in).
                    if _instructor_cell(shell, cell["source"], limits, messages, len(feedback)):
                        break
                continue
            if is_test_cell(cell):
                # nbgrader expands `### AUTOTEST` / `### HASHED AUTOTEST` lines when it generates the assignment;
                # the grader hands over each test cell's source as the gradebook keeps it (hidden-test markers
                # kept): that is the code that awards the points. The feedback shows the release's public part.
                expanded = (job.get("test_sources") or {}).get(nbg.get("grade_id"))
                if isinstance(expanded, str):
                    cell = dict(cell, source=expanded)
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
                    outputs, shown = _run_test_cell(shell, cell["source"], student_defs, limits)
                if ignore is not None:
                    outputs = [o for o in outputs if not (o["output_type"] == "stream" and o["name"] == "stderr"
                                                         and ignore.search(o["text"]))]
                score, max_score = determine_grade(dict(cell, outputs=outputs))
                if any(o["output_type"] == "error" and o.get("ename") == "Unsendable" for o in outputs):
                    review.append(nbg["grade_id"])
                scores[nbg["grade_id"]] = [float(score or 0), float(max_score)]
                if in_sandbox:
                    # The verdict only, in the grader's words: everything in these outputs came from the student's
                    # process, which had the whole test cell (an error's name, value or traceback could carry it).
                    # And from now on no output of the student's process is shown: it may have kept the code.
                    shown = [{"output_type": "error", "ename": "TestFailed", "evalue": "", "traceback": [
                        "a check of this cell failed (tests ran in the sandbox: no details are shown)"]}
                             ] if score != max_score else []
                    _CHANNEL.tainted = _CHANNEL.tainted or _BEGIN_HIDDEN in cell["source"]
                feedback.append(dict(public, outputs=shown, execution_count=None,
                                     metadata=dict(public.get("metadata", {}), nbgrader=dict(
                                         public.get("metadata", {}).get("nbgrader", {}), score=score,
                                         points=max_score))))
                continue
            # an ordinary cell: the public version in the student process and, at the same time, the
            # instructor's version here (not needed when the tests run in the sandbox). The feedback shows the
            # student process's outputs (what the student's code made of the cell); the tests use this
            # process's values, computed by the instructor's code: said once, where the two differ.
            student_side, student_out = None, []
            if sandbox.failure is None:
                student_side = threading.Thread(target=lambda: student_out.extend(_run_quietly(public["source"])),
                                                daemon=True)
                student_side.start()
            stop = False
            if not in_sandbox and needed[index]:
                stop = _instructor_cell(shell, cell["source"], limits, messages, len(feedback) + 1)
            if student_side is not None:
                student_side.join()
            outputs = [] if _CHANNEL.tainted else _sanitize(student_out, limits)
            if outputs and not in_sandbox and needed[index] and not said_own_values and \
                    _printed(outputs) != _printed(_sanitize(shell.outputs_of_last_run, limits)):
                said_own_values = True
                outputs.append(_stream(_OWN_VALUES, "stdout"))
            feedback.append(dict(public, outputs=outputs, execution_count=None))
            if stop:
                break
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
    if any(m.startswith(_INSTRUCTOR_TIMEOUT) for m in messages):
        status = "error"  # the instructor's cell, not the student's code (whose side may have run out as well)
    if _CHANNEL.tainted:
        messages.append("outputs after the first hidden test are not shown (hidden test inputs stay hidden)")
    return {"status": status, "messages": messages, "scores": scores, "feedback_cells": feedback,
            "seconds": round(time.monotonic() - started, 2)}


_NOT_RUN = ("[grader] not run by the grader from here on: no check follows, so these cells cannot change your "
            "score (run them in your own notebook)\n")


def _cells_to_run(cells: list) -> tuple[list[bool], int]:
    """Per cell, whether the trusted process must run the instructor's version (a test depends on it), and the
    index of the last graded code cell (a test, or an answer graded by hand, whose outputs the formgrader shows)."""
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    flags = needed_cells([("test" if is_test_cell(cells[i]) else "other", cells[i]["source"]) for i in code])
    needed = [False] * len(cells)
    for i, flag in zip(code, flags):
        needed[i] = flag
    graded = [i for i in code if cells[i].get("metadata", {}).get("nbgrader", {}).get("grade")]
    return needed, max(graded, default=-1)


def _run_quietly(code: str) -> list:
    """Run a cell in the student process, ungraded: its errors are the student's business (they show in later
    tests), and a broken sandbox is reported by sandbox.failure. Returns the cell's outputs there (untrusted:
    for the feedback only, after _sanitize)."""
    try:
        reply, _blobs = _CHANNEL.run(code, [])
    except (SandboxError, wire.WireError):
        return []
    outputs = reply.get("outputs") if isinstance(reply, dict) else None
    return outputs if isinstance(outputs, list) else []


_OWN_VALUES = ("[grader] the outputs above are your code's; the grader's own run of this cell printed something "
               "else: the tests use the grader's values, computed by the instructor's code, never these\n")


def _printed(outputs: list) -> list:
    """What a cell printed and displayed as text (stdout and text/plain results), to compare two runs."""
    return [o.get("text") if o["output_type"] == "stream" else o.get("data", {}).get("text/plain")
            for o in outputs if (o["output_type"] == "stream" and o.get("name") == "stdout")
            or o["output_type"] == "execute_result"]


@contextlib.contextmanager
def _student_defs_in(namespace: dict, student_defs: dict):
    """Inside: the names the exercises define are the student's (a name the student did not define is
    missing, never the instructor's); yields {name: value} of those bound. After: the instructor's again, for
    the ordinary cells."""
    saved = {name: namespace.get(name, _GONE) for name in student_defs}
    for name, value in student_defs.items():
        if value is _GONE:
            namespace.pop(name, None)
        else:
            namespace[name] = value
    try:
        yield {name: value for name, value in student_defs.items() if value is not _GONE}
    finally:
        for name, value in saved.items():
            if value is _GONE:
                namespace.pop(name, None)
            else:
                namespace[name] = value


# ------------------------------------------------------------------ test cells: public and hidden parts
_BEGIN_HIDDEN, _END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"  # nbgrader's ClearHiddenTests
_WITHHELD = "[grader] not shown: your code had already seen hidden test inputs\n"


def split_hidden(source: str) -> list[tuple[str, bool]]:
    """A test cell as its consecutive parts [(code, hidden)], each padded with blank lines so that its line
    numbers are the cell's; parts with no code are left out. When a part is not valid code on its own (the
    markers inside a block), the whole cell is one part, hidden if it holds hidden tests."""
    parts, current, hidden, start = [], [], False, 0
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if (_END_HIDDEN if hidden else _BEGIN_HIDDEN) in line:
            parts.append(("\n" * start + "".join(current), hidden))
            current, hidden, start = [], not hidden, i + 1
        else:
            current.append(line)
    parts.append(("\n" * start + "".join(current), hidden))
    kept = []
    for code, is_hidden in parts:
        try:
            if ast.parse(_strip_magics(code)).body:
                kept.append((code, is_hidden))
        except SyntaxError:
            return [(source, any(h for _c, h in parts))]
    return kept or [(source, False)]


def _run_test_cell(shell: CellShell, source: str, student_defs: dict, limits: Limits) -> tuple[list, list]:
    """Run a test cell here with the student's definitions bound: (outputs to grade, outputs to show).
    Public parts show their outputs and full messages; a hidden part shows only which check failed, in the
    words of the instructor's assert message (a string literal), never inputs, values, prints or code. Once a
    hidden part has called the student's code, nothing the student's process could influence is shown."""
    parts = split_hidden(source)
    graded, shown = [], []
    with _student_defs_in(shell.user_ns, student_defs) as bound:
        _CHANNEL.watched = (shell.user_ns, bound)
        try:
            for i, (code, hidden) in enumerate(parts):
                calls, quiet = _CHANNEL.calls, hidden or _CHANNEL.tainted
                outputs, ok = shell.run(code if i == len(parts) - 1 else code + "\npass\n")
                if hidden and _CHANNEL.calls > calls:
                    _CHANNEL.tainted = True
                graded += outputs
                if not quiet:
                    shown += _public_outputs(outputs, limits)
                else:
                    shown += [o for o in outputs if o["output_type"] == "execute_result"
                              and _is_number(o.get("data", {}).get("text/plain"))]
                    if not ok:
                        shown.append(_withheld_error(shell.error, code, shell.user_ns))
                if not ok:
                    break
            with contextlib.suppress(SandboxError):
                _CHANNEL.sync_names()  # e.g. a name the cell deleted and restored in a `finally`
        finally:
            _CHANNEL.watched = None
    return graded, shown


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def _withheld_error(exc, code: str, namespace: dict) -> dict:
    """The error of a hidden check as the feedback may show it: its class and the instructor's own message."""
    if isinstance(exc, StudentCodeError):
        base = type(exc).__name__[len("Student"):] if type(exc) is not StudentCodeError else "an exception"
        text = f"your code raised {base} during a check whose details are hidden"
        return {"output_type": "error", "ename": base or "Error", "evalue": "", "traceback": [text]}
    if isinstance(exc, StudentProcessError):
        return {"output_type": "error", "ename": "StudentProcessError", "evalue": str(exc)[:300],
                "traceback": [str(exc)[:300]]}
    ename = type(exc).__name__ if exc is not None else "Error"
    message = _instructor_message(exc, code, namespace)
    text = f"{ename}: {message}" if message else f"{ename} in a check whose details are hidden"
    return {"output_type": "error", "ename": ename, "evalue": message, "traceback": [text]}


def _instructor_message(exc, code: str, namespace: dict) -> str:
    """The message the instructor wrote (a string literal) on the failing line of the cell: `assert ok, "..."`,
    `err_msg="..."` or `raise AssertionError("...")`; "" when there is none."""
    frames, tb = [], getattr(exc, "__traceback__", None)
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    cell_file = next((f.f_code.co_filename for f, _ in frames
                      if f.f_globals is namespace and f.f_code.co_name == "<module>"), None)
    lines = [n for f, n in frames if cell_file is not None and f.f_code.co_filename == cell_file]
    if not lines:
        return ""
    try:
        tree = ast.parse(_strip_magics(code))
    except SyntaxError:
        return ""
    found = ""
    for node in ast.walk(tree):
        if not getattr(node, "lineno", 0) <= lines[-1] <= (getattr(node, "end_lineno", 0) or 0):
            continue
        msg = None
        if isinstance(node, ast.Assert):
            msg = node.msg
        elif isinstance(node, ast.Call):
            msg = next((k.value for k in node.keywords if k.arg == "err_msg"), None)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            msg = node.exc.args[0]
        if isinstance(msg, ast.Constant) and isinstance(msg.value, str):
            found = msg.value[:500]
    return found


# ------------------------------------------------------------------ the instructor's own cells
_INSTRUCTOR_TIMEOUT = "the instructor's cell"


class InstructorCellTimeout(BaseException):
    """The instructor's own cell ran past the cell limit (not the student's fault)."""


def _instructor_cell(shell: CellShell, source: str, limits: Limits, messages: list, number: int) -> bool:
    """Run an instructor's solution or ordinary cell here under the per-cell time limit; True when it ran out
    (grading stops there, the points earned so far are kept, the message names the cell)."""
    def alarm(signum, frame):
        raise InstructorCellTimeout()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, max(limits.cell_seconds, 0.01))
    try:
        outputs, _ok = shell.run(source)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    shell.outputs_of_last_run = outputs
    if isinstance(shell.error, InstructorCellTimeout):
        messages.append(f"{_INSTRUCTOR_TIMEOUT} number {number} (not yours) ran longer than the "
                        f"{limits.cell_seconds:g} s cell limit: grading stopped there, the points earned before it "
                        "are kept")
        return True
    return False


def _copy_assignment_files(source_dir: Path, destinations: list[Path]) -> None:
    """The assignment's files (data, images, helper modules) next to the notebook in both processes' folders,
    the instructor's versions overwriting any the student sent, as nbgrader autograde does."""
    for path in sorted(source_dir.rglob("*")):
        rel = path.relative_to(source_dir)
        if not path.is_file() or path.is_symlink() or path.suffix == ".ipynb" or any(
                part in (".ipynb_checkpoints", "__pycache__", "feedback") for part in rel.parts):
            continue
        for dest in destinations:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            shutil.copyfile(path, target)


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
