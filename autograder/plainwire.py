"""Plain-data wire format between the trusted grader and the sandboxed student kernel.

A message is a JSON frame followed by binary frames holding NumPy arrays in .npy format. Only plain data
crosses: None, bool, int, float, complex, str, bytes, list, tuple, set, dict, slice, NumPy arrays and scalars
of non-object dtypes, TensorFlow tensors and variables (as arrays), pandas DataFrames and Series (as typed
columns: _frame_form), and *references* to objects that stay on the side that owns them. Decoding never unpickles (np.load(..., allow_pickle=False)) and never calls code of
the other side: a student object reaches the grader only as plain values or as an opaque reference.

This file is copied into the sandbox (the student side needs it to answer); it imports nothing from the course.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import struct
import sys

import numpy as np

# Bound here, so that a student who patches builtins in the sandbox does not change how this module works.
from builtins import (abs, bool, bytes, complex, dict, float, frozenset, getattr, hasattr, int, isinstance,  # noqa: A004
                      len, list, range, repr, set, slice, str, tuple, type, zip)

MAX_FRAME = 1 << 30        # one message (JSON and arrays together) at most 1 GiB
MAX_FRAMES = 10_000        # arrays per message
MAX_DEPTH = 64             # nesting of containers
MAX_INT_DIGITS = 4000
# The JSON frame is checked BEFORE it is parsed: its size, its nesting and how many values it holds (a frame of
# 200 MB of nested empty lists would otherwise become ~5 GB of Python lists in the receiving process).
MAX_JSON_FRAME = 64 << 20
MAX_JSON_DEPTH = 2 * MAX_DEPTH + 16   # encode() uses two JSON levels per container level, plus the message
MAX_JSON_VALUES = 4_000_000
MAX_COLUMNS = 1_000        # columns of a DataFrame
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


class WireError(Exception):
    """A message that is not well-formed plain data (corrupt, too big, too deep, unknown type)."""


class Unsendable(TypeError):
    """An object that cannot cross to the other side."""


# ---------------------------------------------------------------- framing
def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(struct.pack("<Q", len(payload)) + payload) if len(payload) < (1 << 16) else None
    if view is not None:
        while view:
            view = view[os.write(fd, view):]
        return
    head = memoryview(struct.pack("<Q", len(payload)))
    while head:
        head = head[os.write(fd, head):]
    body = memoryview(payload)
    while body:
        body = body[os.write(fd, body):]


def _read_exact(fd: int, n: int, wait=None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if wait is not None:
            wait(fd)
        chunk = os.read(fd, min(n - got, 1 << 22))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, wait=None, limit: int = MAX_FRAME) -> bytes:
    (size,) = struct.unpack("<Q", _read_exact(fd, 8, wait))
    if size > limit:
        raise WireError(f"a reply of {size / 2**20:.0f} MB, over the {limit >> 20} MB limit (outputs too large?)")
    return _read_exact(fd, size, wait)


def check_json(payload: bytes) -> None:
    """Refuse a JSON frame nested deeper than MAX_JSON_DEPTH or holding more than MAX_JSON_VALUES values, without
    parsing it: strings are blanked, then brackets are counted (NumPy, in chunks: bounded memory)."""
    bare = _JSON_STRING.sub(b'""', payload)
    values = bare.count(b",") + bare.count(b"[") + bare.count(b"{")
    if values > MAX_JSON_VALUES:
        raise WireError(f"a reply of more than {MAX_JSON_VALUES:,} values, over the limit")
    depth, chunk = 0, 1 << 20
    for start in range(0, len(bare), chunk):
        part = np.frombuffer(bare, np.uint8, min(chunk, len(bare) - start), start)
        step = (part == 91).astype(np.int32) + (part == 123) - (part == 93) - (part == 125)
        levels = np.cumsum(step) + depth
        if levels.size and levels.max() > MAX_JSON_DEPTH:
            raise WireError(f"a reply nested deeper than {MAX_JSON_DEPTH} levels, over the limit")
        depth = int(levels[-1]) if levels.size else depth


def send(fd: int, message: dict, arrays: list[bytes]) -> None:
    message = dict(message, nbin=len(arrays))
    _write_frame(fd, json.dumps(message, allow_nan=True).encode())
    for blob in arrays:
        _write_frame(fd, blob)


def receive(fd: int, wait=None) -> tuple[dict, list[bytes]]:
    payload = _read_frame(fd, wait, MAX_JSON_FRAME)
    check_json(payload)
    try:
        message = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise WireError(f"not a JSON frame: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("nbin"), int):
        raise WireError("message is not an object with nbin")
    if not 0 <= message["nbin"] <= MAX_FRAMES:
        raise WireError("too many binary frames")
    frames, total = [], 0
    for _ in range(message["nbin"]):
        frames.append(_read_frame(fd, wait))
        total += len(frames[-1])
        if total > MAX_FRAME:
            raise WireError("message larger than the limit")
    return message, frames


# ---------------------------------------------------------------- values
def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)  # (ascontiguousarray would make 0-d arrays 1-d)
    return buf.getvalue()


def _load_npy(blob: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 (any malformed .npy)
        raise WireError(f"bad array frame: {exc}") from None
    if not isinstance(array, np.ndarray) or array.dtype.hasobject:
        raise WireError("array frame of object dtype")
    return array


def graph_element(obj) -> bool:
    """A TF1 graph element: an operation, a symbolic tensor, a variable of a graph (not eager). It crosses by name
    (the graph itself crosses as a GraphDef: graphwire.py on the trusted side, student_runner.py on the other)."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return False
    try:
        if isinstance(obj, tf.Operation):
            return True
        if isinstance(obj, tf.Variable):
            return bool(getattr(obj, "_in_graph_mode", False))
        return isinstance(obj, tf.Tensor) and not hasattr(obj, "numpy")
    except Exception:  # noqa: BLE001
        return False


def graph_ref(obj) -> dict:
    """A graph element by name, as both sides of a TF1 call write it: {"kind": var | op | tensor, "name": ...}."""
    tf = sys.modules["tensorflow"]
    kind = "var" if isinstance(obj, tf.Variable) else "op" if isinstance(obj, tf.Operation) else "tensor"
    return {"kind": kind, "name": str(obj.name)}


# the graph collections that hold variables (GraphKeys' values): a variable a graph_ref names is looked up there
VARIABLE_COLLECTIONS = ("variables", "trainable_variables", "local_variables", "model_variables", "global_step",
                        "moving_average_variables", "metric_variables")


def find_graph_element(graph, ref: dict, variables: dict | None = None):
    """The element of `graph` a graph_ref names (a variable found in VARIABLE_COLLECTIONS, or in `variables` by
    name when given), or None. Both sides look up what the other named this way."""
    kind, name = ref.get("kind"), ref.get("name")
    if not isinstance(name, str):
        return None
    try:
        if kind == "var":
            return (variables or {v.name: v for key in VARIABLE_COLLECTIONS for v in graph.get_collection(key)}
                    ).get(name)
        if kind == "op":
            return graph.get_operation_by_name(name)
        if kind == "tensor":
            return graph.get_tensor_by_name(name)
    except (KeyError, ValueError):
        pass
    return None


def _tf_kind(obj):
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    try:
        if graph_element(obj):
            return None  # by name, through make_ref
        if isinstance(obj, tf.Variable):
            return "var"
        if isinstance(obj, tf.Tensor) and hasattr(obj, "numpy"):
            return "tensor"
    except Exception:  # noqa: BLE001
        return None
    return None


def encode(obj, arrays: list[bytes], make_ref, depth: int = 0, rich: list | None = None):
    """obj as JSON-able plain data; arrays collects .npy frames; make_ref(obj) names what is not plain
    (it may raise Unsendable). With `rich` (a list), each tf.Variable is recorded there once, in order, and
    tagged with its index "s" (a second occurrence becomes {"t": "same"}): the receiver rebuilds each once,
    in the same order, and can send back their new values (a call's copy-back of variables)."""
    if depth > MAX_DEPTH:
        raise Unsendable("value nested too deeply")
    t = type(obj)
    if obj is None or t is bool or t is str:
        return obj
    if t is int:
        if abs(obj) < 10 ** MAX_INT_DIGITS:
            return obj
        raise Unsendable("integer too large")
    if t is float:
        return obj if math.isfinite(obj) else {"t": "float", "v": repr(obj)}
    if t is complex:
        return {"t": "complex", "v": [encode(obj.real, arrays, make_ref), encode(obj.imag, arrays, make_ref)]}
    if t is bytes:
        return {"t": "bytes", "v": base64.b64encode(obj).decode()}
    if t is list:
        return [encode(x, arrays, make_ref, depth + 1, rich) for x in obj]
    if t in (tuple, set, frozenset):
        return {"t": t.__name__, "v": [encode(x, arrays, make_ref, depth + 1, rich) for x in obj]}
    if t is dict:
        return {"t": "dict", "k": [encode(k, arrays, make_ref, depth + 1, rich) for k in obj],
                "v": [encode(v, arrays, make_ref, depth + 1, rich) for v in obj.values()]}
    if t is slice:
        return {"t": "slice", "v": [encode(x, arrays, make_ref, depth + 1, rich) for x in (obj.start, obj.stop, obj.step)]}
    if obj is Ellipsis:
        return {"t": "ellipsis"}
    if t is np.ndarray and not obj.dtype.hasobject:
        arrays.append(_npy(obj))
        return {"t": "nd", "i": len(arrays) - 1}
    if isinstance(obj, np.generic) and t.__module__ == "numpy" and not np.dtype(t).hasobject:
        arrays.append(_npy(np.asarray(obj)))
        return {"t": "np", "i": len(arrays) - 1}
    if isinstance(obj, np.dtype):
        return {"t": "dtype", "v": obj.str if obj.names is None else str(obj)}
    if t is type and (obj in (bool, int, float, complex, str, bytes, list, tuple, dict, set)
                      or (issubclass(obj, np.generic) and obj.__module__ == "numpy")):
        return {"t": "type", "v": obj.__name__}
    if _is_frame(obj):
        if rich is not None:  # one object where the caller had one: f(train, [train, dev]) sees train twice
            for k, seen in enumerate(rich):
                if seen is obj:
                    return {"t": "same", "k": k}
        out = _frame_form(obj, arrays)
        if rich is not None:
            rich.append(obj)
            out["s"] = len(rich) - 1
        return out
    kind = _tf_kind(obj)
    if kind is not None:
        if kind == "var" and rich is not None:
            for k, seen in enumerate(rich):
                if seen is obj:
                    return {"t": "same", "k": k}
        value = np.asarray(obj.numpy())  # a 0-d tensor's numpy() is a NumPy scalar
        if not value.dtype.hasobject:
            arrays.append(_npy(value))
            out = {"t": "tf", "i": len(arrays) - 1, "var": kind == "var"}
            if kind == "var" and rich is not None:
                rich.append(obj)
                out["s"] = len(rich) - 1
            return out
    return make_ref(obj)


def decode(value, arrays: list[bytes], resolve_ref, depth: int = 0, made: list | None = None):
    """The inverse of encode; resolve_ref(dict) turns a reference into a local object. With `made` (a list),
    the variables tagged "s" are appended there in order (a resolver appends the rich objects it rebuilds), and
    {"t": "same", "k": k} is made[k] again: one object where the sender had one."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [decode(x, arrays, resolve_ref, depth + 1, made) for x in value]
    if type(value) is not dict:
        raise WireError(f"unexpected JSON value {type(value).__name__}")
    tag = value.get("t")
    if tag == "float":
        if value.get("v") not in ("nan", "inf", "-inf"):
            raise WireError("bad float")
        return float(value["v"])
    if tag == "complex":
        re_, im = (decode(x, arrays, resolve_ref, depth + 1, made) for x in value["v"])
        return complex(float(re_), float(im))
    if tag == "bytes":
        return base64.b64decode(value["v"].encode(), validate=True)
    if tag in ("tuple", "set", "frozenset"):
        items = [decode(x, arrays, resolve_ref, depth + 1, made) for x in value["v"]]
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    if tag == "dict":
        keys = [decode(x, arrays, resolve_ref, depth + 1, made) for x in value["k"]]
        vals = [decode(x, arrays, resolve_ref, depth + 1, made) for x in value["v"]]
        if len(keys) != len(vals):
            raise WireError("bad dict")
        return dict(zip(keys, vals))
    if tag == "slice":
        return slice(*(decode(x, arrays, resolve_ref, depth + 1, made) for x in value["v"]))
    if tag == "ellipsis":
        return Ellipsis
    if tag in ("nd", "np", "tf"):
        index = value.get("i")
        if type(index) is not int or not 0 <= index < len(arrays):
            raise WireError("bad array index")
        array = _load_npy(arrays[index])
        if tag == "np":
            return array[()]
        if tag == "tf" and value.get("var") and "s" in value and made is not None:
            import tensorflow as tf  # a variable passed into a call: a variable there, sent back after it

            made.append(tf.Variable(array))
            return made[-1]
        if tag == "tf" and "tensorflow" in sys.modules:
            tf = sys.modules["tensorflow"]
            return tf.Variable(array) if value.get("var") else tf.constant(array)
        return array
    if tag in ("frame", "series"):
        frame = _frame_from(value, arrays)
        if "s" in value and made is not None:
            made.append(frame)
        return frame
    if tag == "same":
        k = value.get("k")
        if made is None or type(k) is not int or not 0 <= k < len(made):
            raise WireError("bad back-reference")
        return made[k]
    if tag == "dtype":
        try:
            return np.dtype(str(value["v"]))
        except TypeError:
            raise WireError("bad dtype") from None
    if tag == "type":
        name = str(value.get("v"))
        found = {"bool": bool, "int": int, "float": float, "complex": complex, "str": str, "bytes": bytes,
                 "list": list, "tuple": tuple, "dict": dict, "set": set}.get(name)
        if found is None:
            found = getattr(np, name, None)
            if not (isinstance(found, type) and issubclass(found, np.generic)):
                raise WireError("bad type")
        return found
    if tag == "ref":
        return resolve_ref(value)
    raise WireError(f"unknown tag {tag!r}")


# ---------------------------------------------------------------- pandas: DataFrames and Series as typed columns
def _is_frame(obj) -> bool:
    pd = sys.modules.get("pandas")
    return pd is not None and type(obj) in (pd.DataFrame, pd.Series)


def _column_form(values, arrays: list) -> dict:
    """One column (or an index) as data: {"k": "num", "i": .npy frame} for a NumPy dtype (numbers, booleans,
    datetimes), {"k": "str"|"object", "v": [str or None]} for strings, {"k": "cat", "cats": column, "codes": .npy,
    "ordered": bool} for a categorical of such categories. Anything else (mixed objects, nullable extension
    dtypes other than str) is Unsendable."""
    pd = sys.modules["pandas"]
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(values)
        arrays.append(_npy(np.asarray(cat.codes)))
        return {"k": "cat", "cats": _column_form(pd.Index(cat.categories), arrays), "codes": len(arrays) - 1,
                "ordered": bool(cat.ordered)}
    if isinstance(dtype, np.dtype) and not dtype.hasobject:
        arrays.append(_npy(np.asarray(values)))
        return {"k": "num", "i": len(arrays) - 1}
    kind = "str" if isinstance(dtype, pd.StringDtype) else "object" if dtype == np.dtype(object) else None
    if kind is not None:
        out = []
        for x in np.asarray(values, dtype=object):
            if type(x) is str:
                out.append(x)
            elif x is None or (type(x) is float and x != x) or x is pd.NA:
                out.append(None)  # a missing value
            else:
                raise Unsendable(f"a column of {type(x).__name__} objects cannot cross (only numbers and strings)")
        return {"k": kind, "v": out}
    raise Unsendable(f"a pandas column of dtype {str(dtype)[:40]} cannot cross (only numbers, strings, categories)")


def _label_form(label):
    if label is None or type(label) in (bool, int, str) or (type(label) is float and math.isfinite(label)):
        return label
    if isinstance(label, np.generic) and not np.dtype(type(label)).hasobject:
        return _label_form(label.item())
    raise Unsendable(f"a column or index name of type {type(label).__name__} cannot cross")


def _frame_form(obj, arrays: list) -> dict:
    """A DataFrame or Series as {"t": "frame"|"series", "names": [labels], "cols": [column forms], "index": ...}:
    each column with its dtype, the index as a range or as a column (no MultiIndex), never a pickle."""
    pd = sys.modules["pandas"]
    series = isinstance(obj, pd.Series)
    frame = obj.to_frame() if series else obj
    if frame.shape[1] > MAX_COLUMNS:
        raise Unsendable(f"a DataFrame of more than {MAX_COLUMNS} columns cannot cross")
    if isinstance(frame.columns, pd.MultiIndex) or isinstance(frame.index, pd.MultiIndex):
        raise Unsendable("a DataFrame with a MultiIndex cannot cross")
    index = frame.index
    if type(index) is pd.RangeIndex:
        index_form = {"range": [int(index.start), int(index.stop), int(index.step)]}
    else:
        index_form = {"col": _column_form(index, arrays)}
    index_form["name"] = _label_form(index.name)
    return {"t": "series" if series else "frame", "n": int(len(frame)),
            "names": [_label_form(obj.name)] if series else [_label_form(c) for c in frame.columns],
            "cols": [_column_form(frame.iloc[:, j], arrays) for j in range(frame.shape[1])], "index": index_form}


def _column_from(form, arrays: list, n: int):
    """The inverse of _column_form, checked: a column of n values (WireError when anything is off)."""
    pd = sys.modules.get("pandas") or __import__("pandas")
    if type(form) is not dict:
        raise WireError("bad pandas column")
    kind = form.get("k")
    if kind == "num":
        index = form.get("i")
        if type(index) is not int or not 0 <= index < len(arrays):
            raise WireError("bad array index")
        values = _load_npy(arrays[index])
        if values.ndim != 1 or len(values) != n:
            raise WireError("a pandas column of the wrong shape")
        return values
    if kind in ("str", "object"):
        values = form.get("v")
        if type(values) is not list or len(values) != n or not all(x is None or type(x) is str for x in values):
            raise WireError("a pandas string column that is not a list of strings of the right length")
        if kind == "str":
            return pd.array(values, dtype="str")
        return np.array([np.nan if x is None else x for x in values], dtype=object)
    if kind == "cat":
        index = form.get("codes")
        if type(index) is not int or not 0 <= index < len(arrays) or type(form.get("ordered")) is not bool:
            raise WireError("bad categorical column")
        codes = _load_npy(arrays[index])
        cats_form = form.get("cats")
        if type(cats_form) is not dict or cats_form.get("k") == "cat":
            raise WireError("bad categories")
        length = len(cats_form["v"]) if type(cats_form.get("v")) is list else None
        if length is None:
            i = cats_form.get("i")
            if type(i) is not int or not 0 <= i < len(arrays):
                raise WireError("bad categories")
            length = len(_load_npy(arrays[i]))
        cats = _column_from(cats_form, arrays, length)
        if codes.ndim != 1 or len(codes) != n or codes.dtype.kind not in "iu" or \
                (len(codes) and (codes.min() < -1 or codes.max() >= length)):
            raise WireError("bad categorical codes")
        try:
            return pd.Categorical.from_codes(codes, categories=pd.Index(cats), ordered=form["ordered"])
        except (ValueError, TypeError) as exc:
            raise WireError(f"bad categorical column: {exc}") from None
    raise WireError(f"unknown pandas column kind {str(kind)[:20]!r}")


def _frame_from(value: dict, arrays: list):
    """The DataFrame or Series of a _frame_form, rebuilt with its columns' dtypes and its index."""
    pd = sys.modules.get("pandas") or __import__("pandas")
    n, names, cols, index = value.get("n"), value.get("names"), value.get("cols"), value.get("index")
    if type(n) is not int or n < 0 or type(names) is not list or type(cols) is not list or len(names) != len(cols) \
            or len(cols) > MAX_COLUMNS or type(index) is not dict:
        raise WireError("bad DataFrame")
    if value["t"] == "series" and len(cols) != 1:
        raise WireError("a Series of more than one column")
    for name in [*names, index.get("name")]:
        if not (name is None or type(name) in (bool, int, float, str)):
            raise WireError("bad pandas label")
    if "range" in index:
        bounds = index["range"]
        if type(bounds) is not list or len(bounds) != 3 or not all(type(b) is int for b in bounds) or \
                bounds[2] == 0 or len(range(*bounds)) != n:
            raise WireError("bad RangeIndex")
        labels = pd.RangeIndex(*bounds, name=index.get("name"))
    else:
        labels = pd.Index(_column_from(index.get("col"), arrays, n), name=index.get("name"))
    columns = [_column_from(c, arrays, n) for c in cols]
    try:
        if value["t"] == "series":
            return pd.Series(columns[0], index=labels, name=names[0], copy=False)
        frame = pd.DataFrame(dict(enumerate(columns)), index=labels)
        if names:
            frame.columns = pd.Index(names)
        return frame
    except (ValueError, TypeError) as exc:
        raise WireError(f"bad DataFrame: {exc}") from None


# ---------------------------------------------------------------- rich objects as data (both sides)
MAX_DATASET_ELEMENTS = 10_000


def state_of(obj):
    """The state a call may change in a rich argument, as plain arrays: a variable's value, a Keras layer's or
    model's weights; None for anything else (an optimizer, a dataset: their state does not go back)."""
    tf, keras = sys.modules.get("tensorflow"), sys.modules.get("keras")
    if tf is not None and isinstance(obj, tf.Variable):
        return np.asarray(obj.numpy())
    if keras is not None and isinstance(obj, keras.layers.Layer):
        return [np.asarray(w) for w in obj.get_weights()]
    return None


def dataset_elements(obj):
    """A finite tf.data dataset as the list of its elements (NumPy arrays in tuples/dicts); None when obj is not
    a dataset; Unsendable when it is infinite or longer than MAX_DATASET_ELEMENTS."""
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(obj, tf.data.Dataset):
        return None
    if int(obj.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise Unsendable("an infinite dataset cannot be passed (take() a finite part)")
    elements = []
    for element in obj.take(MAX_DATASET_ELEMENTS + 1).as_numpy_iterator():
        elements.append(element)
    if len(elements) > MAX_DATASET_ELEMENTS:
        raise Unsendable(f"a dataset of more than {MAX_DATASET_ELEMENTS} elements cannot be passed")
    return elements


def dataset_from(elements):
    """The dataset of these elements, in order: runs of elements of one shape as from_tensor_slices of their
    stack, concatenated (a last, smaller batch is its own run)."""
    import tensorflow as tf

    if type(elements) is not list or not elements:
        raise WireError("a dataset must have at least one element")
    runs: list = []
    for element in elements:
        shapes = [np.shape(x) for x in tf.nest.flatten(element)]
        if runs and runs[-1][0] == shapes:
            runs[-1][1].append(element)
        else:
            runs.append((shapes, [element]))
    dataset = None
    for _shapes, items in runs:
        part = tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(lambda *xs: np.stack(xs), *items))
        dataset = part if dataset is None else dataset.concatenate(part)
    return dataset
