"""The student side: runs inside the sandbox and answers the trusted grader's requests.

    python student_runner.py IN_FD OUT_FD

Requests: run a cell (and report the names the exercise defines), call / inspect an object it holds. Every
answer is plain data (plainwire). Nothing here is trusted by the grader: student code can replace any of it,
which gains nothing, since all it can send back are values its functions could have returned anyway.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import warnings

import numpy as np

from builtins import (BaseException, Exception, KeyError, TypeError, ValueError, any, bool, callable,  # noqa: A004
                      dict, enumerate, getattr, id, int, isinstance, len, list, repr, str, tuple, type, zip)

import plainwire as wire
from cellshell import CappedText, CellShell

MAX_ITEMS = 1_000_000
MAX_SNAPSHOT = 128 << 20  # bytes of arrays and frames a call's arguments are copied to compare (_changed_arguments)
MAX_SESSION_RUNS = 20     # tf.compat.v1 Session.run records sent back with a call (_SessionRecorder)
MAX_SESSION_BYTES = 32 << 20  # their GraphDefs and feeds together


def main(in_fd: int, out_fd: int) -> None:
    # figures: drawn off-screen (no display in the sandbox) and shown in the feedback as the student's own
    os.environ.setdefault("MPLBACKEND", "agg")
    warnings.filterwarnings("ignore", message=".*non-interactive, and thus cannot be shown")
    cells = CellShell(output_limit=int(sys.argv[3]) if len(sys.argv) > 3 else 20_000, figures=True)
    handles: dict[int, object] = {}

    current_graph: list = [None]  # the graph of a TF1 call (the test's graph, imported), while it runs

    def make_ref(obj):
        if wire.graph_element(obj):  # an element of the call's graph, by name (the new nodes go back as a GraphDef)
            return {"t": "ref", "h": 0, "graph": wire.graph_ref(obj)}
        handles[id(obj)] = obj
        cls = type(obj)
        try:
            text = repr(obj)[:200]
        except Exception:  # noqa: BLE001
            text = f"<{cls.__name__}>"
        ref = {"t": "ref", "h": id(obj), "r": text, "c": [str(getattr(cls, "__module__", "")),
                                                         str(getattr(cls, "__qualname__", ""))],
               "callable": callable(obj)}
        keras_form = _keras_form(obj, arrays)
        if keras_form is not None:
            ref["keras"] = keras_form
        else:
            try:
                elements = wire.dataset_elements(obj)
                if elements is not None:
                    ref["dataset"] = wire.encode(elements, arrays, _no_ref)
            except Exception:  # noqa: BLE001 (infinite, too long, not plain: it stays an opaque reference)
                pass
        return ref

    def resolver(blobs, made=None):
        """References from the trusted side: an object of this process (by handle), or a rich object of the
        trusted side sent as data (a Keras model or layer as config + weights, an optimizer as its config, a
        dataset as its elements), rebuilt here. Those tagged "s" are recorded in `made`: their state after the
        call goes back (weights, variable values)."""
        def resolve(ref):
            form = ref.get("rich")
            if isinstance(ref.get("graph"), dict):
                obj = _graph_lookup(current_graph[0], ref["graph"])
            elif isinstance(form, dict):
                obj = _rebuild_rich(form, blobs, resolve, made)
            else:
                try:
                    obj = handles[ref["h"]]
                except (KeyError, TypeError):
                    raise wire.WireError("unknown reference") from None
            if "s" in ref and made is not None:
                made.append(obj)
            return obj
        return resolve

    while True:
        try:
            request, blobs = wire.receive(in_fd)
        except EOFError:
            return
        op = request.get("op")
        if op == "bye":
            return
        arrays: list[bytes] = []
        in_graph = contextlib.ExitStack()  # a TF1 call's graph as the default graph, until its reply is made
        try:
            if op == "run":
                outputs, ok = cells.run(request["code"])
                exports, missing = {}, []
                for name in request.get("export", []):
                    if name in cells.user_ns:
                        try:
                            exports[name] = wire.encode(cells.user_ns[name], arrays, make_ref)
                        except Exception as exc:  # noqa: BLE001
                            outputs.append({"output_type": "stream", "name": "stderr",
                                            "text": f"{name} cannot be graded: {exc}\n"})
                    else:
                        missing.append(name)
                reply = {"ok": ok, "outputs": outputs, "exports": exports, "missing": missing}
            elif op == "bind":  # a test deleted or rebound one of the exercise's names: the same here
                value = wire.decode(request.get("args", []), blobs, resolver(blobs))
                if value:
                    cells.user_ns[str(request["name"])] = value[0]
                else:
                    cells.user_ns.pop(str(request["name"]), None)
                reply = {"ok": True, "value": None, "stdout": ""}
            else:
                target = resolver(blobs)({"h": request.get("h")})
                # A TF1 call: the test's graph arrives as a MetaGraphDef; the call runs in a fresh graph made from
                # it, and the nodes and collection items it adds go back (_graph_delta)
                call_graph = _graph_begin(request["graph"], blobs) \
                    if op == "call" and isinstance(request.get("graph"), dict) else None
                current_graph[0] = call_graph[0] if call_graph else None
                if call_graph:
                    in_graph.enter_context(call_graph[0].as_default())
                made: list = []  # the rich arguments rebuilt here, in the order the trusted side sent them
                args = wire.decode(request.get("args", []), blobs, resolver(blobs, made), made=made)
                kwargs = wire.decode(request.get("kwargs", {"t": "dict", "k": [], "v": []}), blobs,
                                     resolver(blobs, made), made=made)
                # copies to compare after the call, only for a notebook that reads the report (check_changes)
                before = _snapshots(args, kwargs) if op == "call" and request.get("check_changes") is True else None
                out = CappedText(cells.output_limit)
                recorder = _SessionRecorder() if op == "call" and request.get("record_sessions") is True \
                    else contextlib.nullcontext()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), recorder:
                    try:
                        if op == "call":
                            value = target(*args, **kwargs)
                        elif op == "getattr":
                            value = getattr(target, str(request["name"]))
                        elif op == "getitem":
                            value = target[args[0]]
                        elif op == "len":
                            value = len(target)
                        elif op == "iter":
                            value = []
                            for item in target:
                                value.append(item)
                                if len(value) > MAX_ITEMS:
                                    raise ValueError("too many items")
                        elif op == "repr":
                            value = repr(target)[:10_000]
                        elif op == "bool":
                            value = bool(target)
                        else:
                            raise ValueError(f"unknown request {op!r}")
                        error = None
                    except BaseException as exc:  # noqa: BLE001 (SystemExit included: reported, not obeyed)
                        value, error = None, {"ename": type(exc).__name__, "evalue": str(exc)[:2000],
                                              "traceback": traceback.format_exc(limit=-8)[-6000:]}
                # Arguments arrived as copies; what the call did to them stays here (never copied back).
                # ... except the state of rich arguments (variables, a model's weights): plain arrays, which
                # the trusted side applies to its own objects after checking their shapes.
                reply = {"ok": error is None, "value": wire.encode(value, arrays, make_ref), "error": error,
                         "stdout": out.value(),
                         "state": wire.encode([wire.state_of(m) for m in made], arrays, _no_ref) if made else []}
                if before is not None:  # which plain arguments the call changed in place (they stay here)
                    reply["changed"] = _changed_arguments(before, args, kwargs)
                if isinstance(recorder, _SessionRecorder) and recorder.runs is not None:  # the Session.run calls it made (grader re-runs)
                    reply["session_runs"] = wire.encode(recorder.form(), arrays, _no_ref)
                if call_graph and error is None:
                    reply["graph"] = _graph_delta(*call_graph, arrays)
        except Exception as exc:  # noqa: BLE001
            arrays = []
            reply = {"ok": False, "value": None, "stdout": "",
                     "error": {"ename": type(exc).__name__, "evalue": str(exc)[:2000], "traceback": ""}}
        finally:
            in_graph.close()
            current_graph[0] = None
        wire.send(out_fd, reply, arrays)


class _SessionRecorder:
    """While a student's function called by a test runs: each tf.compat.v1 Session.run it makes, recorded as
    plain data (the session's GraphDef as bytes, the fetches as graph element names in their structure, the feed
    as placeholder names -> arrays, a number per session). The trusted side checks and re-runs them in its own
    Session (grader_judge.session_runs): nothing recorded here is believed as it stands. Bounded:
    MAX_SESSION_RUNS records, MAX_SESSION_BYTES in all (later runs are counted in `dropped`). `runs` stays None
    when TensorFlow was never imported (nothing to record)."""

    def __init__(self):
        self.runs, self.dropped, self.size = None, 0, 0
        self.sessions: dict = {}
        self.graphs: list = []  # (session number, GraphDef bytes)
        self.base = self.original = None

    def __enter__(self):
        tf = sys.modules.get("tensorflow")
        if tf is None:
            return self
        try:
            self.base = next(k for k in tf.compat.v1.Session.__mro__ if "run" in vars(k))
        except Exception:  # noqa: BLE001
            return self
        self.runs, self.original = [], self.base.run
        recorder, original = self, self.original

        def recording_run(session, fetches, feed_dict=None, *args, **kwargs):
            try:
                recorder.record(session, fetches, feed_dict)
            except Exception:  # noqa: BLE001 (a run that cannot be recorded: counted, never in the way)
                recorder.dropped += 1
            return original(session, fetches, feed_dict, *args, **kwargs)

        self.base.run = recording_run
        return self

    def __exit__(self, *exc):
        if self.base is not None:
            self.base.run = self.original
        return False

    def record(self, session, fetches, feed_dict) -> None:
        if len(self.runs) >= MAX_SESSION_RUNS:
            self.dropped += 1
            return
        graph = session.graph
        number = self.sessions.setdefault(id(session), (len(self.sessions), session))[0]

        def names(x, depth=0):
            if depth > 8:
                raise ValueError("fetches nested too deeply")
            if isinstance(x, (list, tuple)):  # a namedtuple as a tuple
                items = [names(y, depth + 1) for y in x]
                return items if isinstance(x, list) else tuple(items)
            if type(x) is dict:
                return {str(k): names(v, depth + 1) for k, v in x.items()}
            return str(graph.as_graph_element(x, allow_tensor=True, allow_operation=True).name)

        fetched = names(fetches)
        feed = []
        for key, value in dict(feed_dict or {}).items():
            value = np.asarray(value)
            if value.dtype.hasobject:
                raise ValueError("a feed that is not an array")
            feed.append([str(graph.as_graph_element(key, allow_tensor=True, allow_operation=False).name), value])
        data = graph.as_graph_def().SerializeToString()
        if not (self.graphs and self.graphs[-1][0] == number and self.graphs[-1][1] == data):
            self.graphs.append((number, data))  # a session's graph once, until it grows
        size = len(data) * (self.graphs[-1][1] is data) + sum(v.nbytes for _k, v in feed)
        if self.size + size > MAX_SESSION_BYTES:
            self.dropped += 1
            if self.graphs[-1][1] is data:
                self.graphs.pop()
            return
        self.size += size
        self.runs.append({"session": number, "graph": len(self.graphs) - 1, "fetches": fetched, "feed": feed})

    def form(self) -> dict:
        return {"graphs": [np.frombuffer(data, np.uint8) for _n, data in self.graphs], "runs": self.runs,
                "dropped": self.dropped}


def _snapshot(value, room: list, depth: int = 0):
    """A copy of what a call could change in place in a plain argument: an array, a DataFrame or Series, a list,
    dict or tuple of them (a list's or dict's items by identity too); None for the rest (immutable values,
    references, rich objects whose state goes back anyway), and past MAX_SNAPSHOT bytes in all (room)."""
    if depth > wire.MAX_DEPTH:
        return None
    if type(value) is np.ndarray or wire._is_frame(value):
        room[0] -= value.nbytes if type(value) is np.ndarray else int(np.sum(value.memory_usage(index=True)))
        if room[0] < 0:
            return None
        return ("array", value.copy()) if type(value) is np.ndarray else ("frame", value.copy(deep=True))
    if type(value) in (list, tuple):
        return (type(value).__name__, list(value), [_snapshot(x, room, depth + 1) for x in value])
    if type(value) is dict:
        return ("dict", list(value.items()), [_snapshot(x, room, depth + 1) for x in value.values()])
    return None


def _changed(snap, now) -> bool:
    if snap is None:
        return False
    kind, old = snap[0], snap[1]
    if kind == "array":
        if old.shape != now.shape or old.dtype != now.dtype:
            return True
        try:
            return not np.array_equal(old, now, equal_nan=old.dtype.kind in "fc")
        except TypeError:
            return not np.array_equal(old, now)
    if kind == "frame":
        return not (old.equals(now) and list(old.dtypes) == list(now.dtypes))
    items = list(now.items()) if kind == "dict" else list(now)
    if len(items) != len(old) or any((a[0] is not b[0] or a[1] is not b[1]) if kind == "dict" else a is not b
                                     for a, b in zip(old, items)):
        return True  # an item added, removed or replaced
    values = [v for _k, v in items] if kind == "dict" else items
    return any(_changed(s, v) for s, v in zip(snap[2], values))


def _snapshots(args: list, kwargs: dict) -> list:
    room = [MAX_SNAPSHOT]
    return [(i, _snapshot(a, room)) for i, a in enumerate(args)] + \
        [(str(k), _snapshot(v, room)) for k, v in kwargs.items()]


def _changed_arguments(before: list, args: list, kwargs: dict) -> list:
    """The positions (int) and keyword names (str) of the arguments the call changed in place, compared with
    their copies taken before it (the report grader_judge.changed_arguments gives the tests: these changes never
    reach the grader's objects, which crossed as copies)."""
    out = []
    for key, snap in before:
        try:
            if _changed(snap, args[key] if type(key) is int else kwargs[key]):
                out.append(key)
        except Exception:  # noqa: BLE001 (e.g. a frame the call made incomparable: changed)
            out.append(key)
    return out


def _rebuild_rich(form: dict, blobs: list, resolve, made=None):
    """A rich object of the trusted side (the instructor's), sent as data, rebuilt here for a call."""
    import json

    kind = form.get("kind")
    try:
        if kind == "dataset":
            return wire.dataset_from(wire.decode(form.get("elements"), blobs, resolve))
        if kind == "function":  # a test's function: its source run here over the values it reads
            import builtins
            import importlib

            namespace = {"__builtins__": builtins}
            for name, module in dict(form.get("modules") or {}).items():
                if str(module).split(".")[0] in ("numpy", "tensorflow", "keras", "math"):
                    namespace[str(name)] = importlib.import_module(str(module))
            namespace.update(wire.decode(form.get("env"), blobs, resolve, made=made))
            source = str(form.get("source", ""))
            if source.lstrip().startswith("lambda"):
                return eval(source.strip(), namespace)  # noqa: S307 (the grader's own code)
            exec(source, namespace)  # noqa: S102
            return namespace[str(form.get("name"))]
        if kind == "strategy":
            return _strategy_from(form)
        import keras

        obj = keras.saving.deserialize_keras_object(json.loads(str(form.get("config"))), safe_mode=False)
        if kind == "keras":
            obj.set_weights([wire._load_npy(blobs[i]) for i in form.get("weights", [])])
        return obj
    except Exception as exc:  # noqa: BLE001
        raise wire.WireError(f"the grader could not pass its {kind} to your code: {type(exc).__name__}: "
                             f"{str(exc)[:300]}") from None


_STRATEGIES: dict = {}  # one MirroredStrategy per device list, made once: each numbers its collectives itself


def _strategy_from(form: dict):
    """A tf.distribute strategy the trusted side described: the default one, or a MirroredStrategy over the
    same local devices (made here once per device list and reused, as a notebook keeps one)."""
    import tensorflow as tf

    if form.get("strategy") == "default":
        from tensorflow.python.distribute import distribute_lib

        return distribute_lib._get_default_strategy()  # noqa: SLF001 (what tf.distribute.get_strategy() is outside a scope)
    if form.get("strategy") == "mirrored":
        devices = tuple(str(d) for d in form.get("devices") or ())
        if not devices or len(devices) > 64:
            raise ValueError("bad device list")
        if devices not in _STRATEGIES:
            _STRATEGIES[devices] = tf.distribute.MirroredStrategy(list(devices))
        return _STRATEGIES[devices]
    raise ValueError(f"unknown strategy {str(form.get('strategy'))[:40]!r}")


def _graph_begin(form: dict, blobs: list):
    """The test's graph, from its MetaGraphDef, as a fresh graph here (with its collections: variables, summaries,
    the global step); and what it holds before the call."""
    import tensorflow as tf
    from tensorflow.core.protobuf import meta_graph_pb2
    from tensorflow.python.framework import meta_graph

    index = form.get("meta")
    if type(index) is not int or not 0 <= index < len(blobs):
        raise wire.WireError("bad graph frame")
    meta = meta_graph_pb2.MetaGraphDef.FromString(wire._load_npy(blobs[index]).tobytes())
    graph = tf.Graph()
    with graph.as_default():
        meta_graph.import_scoped_meta_graph(meta)
    if type(form.get("seed")) is int:
        graph.seed = form["seed"]
    before = {op.name for op in graph.get_operations()}
    items = {key: {id(x) for x in graph.get_collection(key)} for key in graph.get_all_collection_keys()}
    return graph, before, items


def _graph_delta(graph, before: set, items: dict, arrays: list) -> dict:
    """What a call added to its graph: the GraphDef of the new nodes (with the function library), and the new
    items of each collection (variables as VariableDef protos, tensors and operations by name)."""
    import tensorflow as tf
    from tensorflow.core.framework import graph_pb2

    full = graph.as_graph_def()
    new = graph_pb2.GraphDef()
    new.versions.CopyFrom(full.versions)
    new.library.CopyFrom(full.library)
    new.node.extend(node for node in full.node if node.name not in before)
    arrays.append(wire._npy(np.frombuffer(new.SerializeToString(), np.uint8)))
    form = {"def": len(arrays) - 1, "collections": {}}
    for key in graph.get_all_collection_keys():
        if type(key) is not str:
            continue
        added = []
        for x in graph.get_collection(key):
            if id(x) in items.get(key, ()):
                continue
            if isinstance(x, tf.Variable):
                arrays.append(wire._npy(np.frombuffer(x.to_proto().SerializeToString(), np.uint8)))
                added.append({"var": len(arrays) - 1})
            elif isinstance(x, (tf.Tensor, tf.Operation)):
                added.append(wire.graph_ref(x))
        if added:
            form["collections"][key] = added
    return form


def _graph_lookup(graph, ref: dict):
    if graph is None:
        raise wire.WireError("a graph element outside a graph call")
    found = wire.find_graph_element(graph, ref)
    if found is None:
        raise wire.WireError(f"no graph element {str(ref.get('name'))[:80]!r} in the graph")
    return found


def _no_ref(obj):
    raise wire.Unsendable(f"a {type(obj).__name__} in a state sent back")


def _keras_form(obj, arrays: list) -> dict | None:
    """A Keras layer or model as its Keras config (JSON) and its weights (.npy frames appended to arrays): the
    trusted side rebuilds it with Keras' own deserialisation and believes nothing else this process says."""
    keras = sys.modules.get("keras")
    if keras is None:
        return None
    try:
        import json

        if isinstance(obj, keras.optimizers.Optimizer):
            return {"optimizer": json.dumps(keras.saving.serialize_keras_object(obj))}
        if not isinstance(obj, keras.layers.Layer):
            return None
        config = json.dumps(keras.saving.serialize_keras_object(obj))
        first = len(arrays)
        for weight in obj.get_weights():
            arrays.append(wire._npy(np.asarray(weight)))
        return {"config": config, "weights": list(range(first, len(arrays)))}
    except Exception:  # noqa: BLE001 (not serialisable: it stays an opaque reference)
        return None


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
