"""The TF1 part of the wire (trusted side): a student's function called on graph tensors.

When a test calls a student function while a `tf.Graph` is the default graph (TF1 style: `inference(placeholder)`,
`training(loss, lr)`), the call crosses like this:
- here: the test's graph as a MetaGraphDef (its GraphDef plus the collections whose items are variables, tensors
  or operations: variables as VariableDef protos, the rest by name) and each graph argument by name (send_form);
- the student process (student_runner.py) imports it into a fresh graph, calls the function there, and sends
  back the GraphDef of the NEW nodes only, what it added to the collections (variables as VariableDef protos,
  tensors and operations by name) and the names of the graph elements it returned;
- here again (import_delta): every new node's op type, and every node of every function in the graph's function
  library, is checked against ALLOWED_OPS (math, array, neural-network, random, variable, optimizer, summary
  and control-flow ops: no file, I/O, Python-callback, save/restore, reader or debug op), the new nodes are imported
  into the test's graph (name="", an input_map to the test's existing nodes), variables are rebuilt from their
  VariableDef by TensorFlow's own from_proto, the collections extended, and the returned elements looked up by
  name in the test's graph. The test's own Session then runs them here.
Nothing is unpickled: GraphDef and VariableDef are protocol buffers, parsed by protobuf.
"""

from __future__ import annotations

import sys

import numpy as np

import plainwire as wire

# Op types a student's graph may hold. Everything here computes on tensors in memory; anything that touches
# files (ReadFile, WriteFile, Save/Restore, readers, ImmutableConst, summary writers), calls back into Python
# (PyFunc, EagerPyFunc, numpy_function), prints, or talks to other processes (Send/Recv, collectives) is absent.
ALLOWED_OPS = frozenset("""
Abs Acos Acosh Add AddN AddV2 All Any ApproximateEqual ArgMax ArgMin Asin Asinh Assert Atan Atan2 Atanh
AvgPool AvgPoolGrad BatchMatMul BatchMatMulV2 BatchMatMulV3 BiasAdd BiasAddGrad BiasAddV1 BroadcastArgs
BroadcastGradientArgs BroadcastTo Cast Ceil CheckNumerics CheckNumericsV2 ClipByValue Concat ConcatOffset ConcatV2
Const ControlTrigger Conv2D Conv2DBackpropFilter Conv2DBackpropInput Cos Cosh Cumprod Cumsum DepthwiseConv2dNative
DepthwiseConv2dNativeBackpropFilter DepthwiseConv2dNativeBackpropInput Diag DiagPart Digamma Div DivNoNan
DynamicPartition DynamicStitch Elu EluGrad Empty EnsureShape Enter Equal Erf Erfc Exit Exp ExpandDims Expm1 Fill
Floor FloorDiv FloorMod FusedBatchNorm FusedBatchNormGrad FusedBatchNormGradV2 FusedBatchNormGradV3
FusedBatchNormV2 FusedBatchNormV3 Gather GatherNd GatherV2 Greater GreaterEqual Identity IdentityN If InTopK
InTopKV2 Inv InvGrad InvertPermutation IsFinite IsInf IsNan L2Loss LeakyRelu LeakyReluGrad Less LessEqual Lgamma
LinSpace Log Log1p LogSoftmax LogicalAnd LogicalNot LogicalOr LoopCond MatMul MatrixBandPart MatrixDiag
MatrixDiagPart MatrixDiagPartV3 MatrixDiagV3 MatrixSetDiag MatrixSetDiagV3 Max MaxPool MaxPoolGrad MaxPoolV2
Maximum Mean Merge Min Minimum MirrorPad Mod Mul MulNoNan Multinomial Neg NextIteration NoOp NotEqual OneHot OnesLike
Pack Pad PadV2 PartitionedCall Placeholder PlaceholderWithDefault Pow PreventGradient Prod RandomShuffle
RandomStandardNormal RandomUniform RandomUniformInt Range Rank ReadVariableOp RealDiv Reciprocal ReciprocalGrad
Relu Relu6 Relu6Grad ReluGrad Reshape ResourceGather ResourceApplyAdadelta ResourceApplyAdagrad
ResourceApplyAdagradV2 ResourceApplyAdam ResourceApplyAdamWithAmsgrad ResourceApplyCenteredRMSProp
ResourceApplyFtrl ResourceApplyFtrlV2 ResourceApplyGradientDescent ResourceApplyKerasMomentum
ResourceApplyMomentum ResourceApplyRMSProp ResourceSparseApplyAdagrad ResourceSparseApplyMomentum
AssignAddVariableOp AssignSubVariableOp AssignVariableOp Reverse ReverseV2 Rint Round Rsqrt RsqrtGrad
ScalarSummary ScatterNd Select SelectV2 Selu SeluGrad Shape ShapeN Sigmoid SigmoidGrad Sign Sin Sinh Size Slice
Snapshot Softmax SoftmaxCrossEntropyWithLogits Softplus SoftplusGrad Softsign SoftsignGrad
SparseSoftmaxCrossEntropyWithLogits Split SplitV Sqrt SqrtGrad Square SquaredDifference Squeeze
StatefulPartitionedCall StatelessIf StatelessRandomNormal StatelessRandomNormalV2 StatelessRandomUniform
StatelessRandomUniformV2 StatelessTruncatedNormal StatelessTruncatedNormalV2 StatelessWhile StopGradient
StridedSlice StridedSliceGrad Sub Sum Switch Tan Tanh TanhGrad TensorScatterUpdate Tile TopKV2 Transpose
TruncateDiv TruncatedNormal UnsortedSegmentMax UnsortedSegmentSum Unique Unpack VarHandleOp VarIsInitializedOp
Where While Xdivy Xlog1py Xlogy ZerosLike HistogramSummary MergeSummary TensorSummary TensorSummaryV2
ApplyAdam ApplyGradientDescent ApplyMomentum Assign AssignAdd AssignSub IsVariableInitialized VariableV2
""".split())
# the ops named in a refusal, with what a student most likely wrote
_HINTS = {"PyFunc": "tf.py_func / tf.numpy_function", "PyFuncStateless": "tf.numpy_function",
          "EagerPyFunc": "tf.py_function", "ReadFile": "tf.io.read_file", "WriteFile": "tf.io.write_file",
          "SaveV2": "a Saver", "RestoreV2": "a Saver", "Print": "tf.Print", "PrintV2": "tf.print"}
MAX_NODES = 200_000


class GraphRefused(Exception):
    """The student's graph holds something the grader will not import or run; the message says what."""


def tf_v1():
    import tensorflow as tf

    return tf, tf.compat.v1


def in_graph_mode() -> bool:
    """True while a tf.Graph is the default graph (a TF1 test), so a call sends the graph along."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and not tf.executing_eagerly()


def send_form(graph, arrays: list) -> dict:
    """The test's graph for the student process: a MetaGraphDef (.npy frame of its bytes) holding the collections
    of variables, tensors and operations (other collections are Python objects that do not cross), and its seed."""
    from tensorflow.python.framework import meta_graph

    tf, _v1 = tf_v1()
    keys = [k for k in graph.get_all_collection_keys() if isinstance(k, str) and graph.get_collection(k) and all(
        isinstance(x, (tf.Variable, tf.Tensor, tf.Operation)) for x in graph.get_collection(k))]
    meta, _ = meta_graph.export_scoped_meta_graph(graph=graph, collection_list=keys)
    arrays.append(_npy_bytes(meta.SerializeToString()))
    return {"meta": len(arrays) - 1, "seed": graph.seed}


def _npy_bytes(data: bytes) -> bytes:
    return wire._npy(np.frombuffer(data, np.uint8))


def _bytes(blobs: list, index) -> bytes:
    if type(index) is not int or not 0 <= index < len(blobs):
        raise GraphRefused("the student process sent a malformed graph")
    array = wire._load_npy(blobs[index])
    if array.dtype != np.uint8 or array.ndim != 1:
        raise GraphRefused("the student process sent a malformed graph")
    return array.tobytes()


def check_graph_def(graph_def) -> None:
    """Every node's op type, and every node of every function in the library, on the allow-list; a function
    attribute may only name a function of the library."""
    library = {f.signature.name for f in graph_def.library.function}
    nodes = [("", n) for n in graph_def.node]
    for function in graph_def.library.function:
        nodes += [(f" (inside the function {function.signature.name[:80]})", n) for n in function.node_def]
    if len(nodes) > MAX_NODES:
        raise GraphRefused(f"your graph has more than {MAX_NODES:,} nodes")
    refused = {}
    for where, node in nodes:
        if node.op not in ALLOWED_OPS:
            refused.setdefault(node.op, where)
        for value in node.attr.values():
            names = [value.func.name] if value.HasField("func") else [f.name for f in value.list.func]
            for name in names:
                if name and name not in library:
                    raise GraphRefused(f"your graph calls a function {name[:80]!r} it does not define")
    for gradient in graph_def.library.gradient:
        if gradient.function_name not in library or gradient.gradient_func not in library:
            raise GraphRefused("your graph names a gradient function it does not define")
    if refused:
        ops = ", ".join(f"{op[:80]}{where}" + (f" ({_HINTS[op]})" if op in _HINTS else "")
                        for op, where in sorted(refused.items()))
        raise GraphRefused(f"your graph uses operations the grader does not run: {ops}. Only TensorFlow's "
                           "math, array, neural-network, variable, optimizer and summary operations are graded "
                           "(no Python callbacks, files or I/O)")


def import_delta(graph, form: dict, blobs: list) -> None:
    """The nodes and collection items a student's call added, checked (check_graph_def) and imported into the
    test's graph; raises GraphRefused with the reason."""
    from tensorflow.core.framework import graph_pb2, variable_pb2
    from tensorflow.python.framework import ops

    tf, _v1 = tf_v1()
    try:
        graph_def = graph_pb2.GraphDef.FromString(_bytes(blobs, form.get("def")))
    except GraphRefused:
        raise
    except Exception:  # noqa: BLE001 (protobuf's DecodeError and friends)
        raise GraphRefused("the student process sent a malformed graph") from None
    check_graph_def(graph_def)
    new = {n.name for n in graph_def.node}
    clash = sorted(name for name in new if _has_op(graph, name))
    if clash:
        raise GraphRefused(f"your graph replaces nodes the test made ({', '.join(clash[:3])[:200]})")
    input_map = {}
    for node in graph_def.node:
        # colocation with a node of the test's graph (an optimizer's slots beside their variable): TensorFlow's
        # import only resolves it inside the imported nodes; it places ops on devices, it computes nothing
        if "_class" in node.attr and any(not c.startswith(b"loc:@") or c[5:].decode(errors="replace") not in new
                                         for c in node.attr["_class"].list.s):
            del node.attr["_class"]
        for source in node.input:
            name = source.lstrip("^").split(":")[0]
            if name in new:
                continue
            if not _has_op(graph, name):
                raise GraphRefused(f"your graph reads a node {name[:80]!r} that is not in the test's graph")
            if source.startswith("^"):
                input_map[source] = graph.get_operation_by_name(name)
            else:
                input_map[source if ":" in source else source + ":0"] = graph.get_tensor_by_name(
                    source if ":" in source else source + ":0")
    if graph_def.node or graph_def.library.function:
        try:
            with graph.as_default():
                tf.graph_util.import_graph_def(graph_def, input_map=input_map, name="")
        except Exception as exc:  # noqa: BLE001 (an invalid node: TensorFlow says why)
            raise GraphRefused(f"your graph could not be imported: {type(exc).__name__}: {str(exc)[:300]}") from None
    collections = form.get("collections")
    if not isinstance(collections, dict):
        raise GraphRefused("the student process sent malformed collections")
    variables = {v.name: v for key in wire.VARIABLE_COLLECTIONS for v in graph.get_collection(key)}
    from_proto = ops.get_from_proto_function("variables")
    for key, items in collections.items():
        if not isinstance(key, str) or not isinstance(items, list):
            raise GraphRefused("the student process sent malformed collections")
        for item in items:
            if not isinstance(item, dict):
                raise GraphRefused("the student process sent malformed collections")
            try:
                if "var" in item:
                    proto = variable_pb2.VariableDef.FromString(_bytes(blobs, item["var"]))
                    name = proto.variable_name
                    if name not in variables:
                        op_names = [proto.variable_name, proto.initializer_name, proto.snapshot_name,
                                    proto.initial_value_name]
                        if not all(n.split(":")[0] in new for n in op_names if n):
                            raise GraphRefused("your code sent a variable whose operations are not in its graph")
                        with graph.as_default():
                            variables[name] = from_proto(proto)
                    value = variables[name]
                else:
                    value = resolve(graph, {"kind": item.get("kind"), "name": item.get("name")}, variables)
            except GraphRefused:
                raise
            except Exception as exc:  # noqa: BLE001
                raise GraphRefused(f"your graph's collection {key[:80]!r} could not be rebuilt: "
                                   f"{type(exc).__name__}: {str(exc)[:200]}") from None
            if not any(value is x for x in graph.get_collection(key)):
                graph.add_to_collection(key, value)


def _has_op(graph, name: str) -> bool:
    try:
        graph.get_operation_by_name(name)
        return True
    except (KeyError, ValueError):
        return False


def resolve(graph, ref: dict, variables: dict | None = None):
    """A graph element the student process named, looked up in the test's graph (after import_delta)."""
    found = wire.find_graph_element(graph, ref, variables)
    if found is None:
        name = ref.get("name") if isinstance(ref.get("name"), str) else "?"
        raise GraphRefused(f"your code returned a graph element {name[:80]!r} that is not in the test's graph "
                           "(build it in the current default graph)")
    return found


# ------------------------------------------------------------------ Session.run records (grader_judge.session_runs)
MAX_REPLAYED_RUNS = 20


def replay_session_runs(form, seconds: float) -> list[dict]:
    """The Session.run calls a student's function made in the student process (student_runner._SessionRecorder),
    checked and re-run here: each session's GraphDef (its last one: a TF1 graph only grows) checked against
    ALLOWED_OPS (function library included, check_graph_def) and imported into a fresh graph, then its runs made in
    order in one Session of this process (a variable initialised by one run keeps its value for the next), the
    fetches and feeds found by name. Each record: session (its number), graph (the imported tf.Graph), fetches
    (graph elements, in the structure fetched), fetch_names, feed ({tensor: array}), placeholders ([(name, dtype,
    shape)] of the fed placeholders), op_types (sorted, function library included), values (what this process's
    run gave, in the fetches' structure; None when it failed) and error (why, or None). Raises GraphRefused for
    a graph holding an op off the allow-list, or a malformed record. `seconds` bounds each run."""
    from tensorflow.core.framework import graph_pb2

    tf, v1 = tf_v1()
    if not isinstance(form, dict) or not isinstance(form.get("graphs"), list) or \
            not isinstance(form.get("runs"), list) or len(form["runs"]) > MAX_REPLAYED_RUNS:
        raise GraphRefused("the student process sent malformed Session.run records")
    graphs = form["graphs"]
    runs = form["runs"]
    for run in runs:
        if not (isinstance(run, dict) and type(run.get("session")) is int and type(run.get("graph")) is int
                and 0 <= run["graph"] < len(graphs) and isinstance(run.get("feed"), list)
                and all(isinstance(f, list) and len(f) == 2 and isinstance(f[0], str)
                        and isinstance(f[1], np.ndarray) for f in run["feed"])):
            raise GraphRefused("the student process sent malformed Session.run records")
    for data in graphs:
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 1):
            raise GraphRefused("the student process sent malformed Session.run records")
    import contextlib

    prepared = {}
    for number in sorted({run["session"] for run in runs}):
        mine = [run for run in runs if run["session"] == number]
        try:
            graph_def = graph_pb2.GraphDef.FromString(graphs[max(run["graph"] for run in mine)].tobytes())
        except Exception:  # noqa: BLE001 (protobuf's DecodeError and friends)
            raise GraphRefused("the student process sent a malformed graph") from None
        check_graph_def(graph_def)
        graph = tf.Graph()
        try:
            with graph.as_default():
                tf.graph_util.import_graph_def(graph_def, name="")
        except Exception as exc:  # noqa: BLE001
            raise GraphRefused(f"your session's graph could not be imported: {type(exc).__name__}: "
                               f"{str(exc)[:300]}") from None
        prepared[number] = (graph, sorted({op.type for op in graph.get_operations()} |
                                          {n.op for f in graph_def.library.function for n in f.node_def}))
    options = v1.RunOptions(timeout_in_ms=max(1, int(seconds * 1000)))
    out = []
    with contextlib.ExitStack() as stack:
        sessions = {number: stack.enter_context(v1.Session(graph=graph)) for number, (graph, _) in prepared.items()}
        for run in runs:  # in the order the student's code made them
            graph, op_types = prepared[run["session"]]
            record = {"session": run["session"], "graph": graph, "fetch_names": run.get("fetches"),
                      "op_types": op_types, "fetches": None, "feed": {}, "placeholders": [], "values": None,
                      "error": None}
            out.append(record)
            try:
                record["fetches"] = _elements(graph, run.get("fetches"))
                for name, value in run["feed"]:
                    tensor = graph.get_tensor_by_name(name)
                    record["feed"][tensor] = value
                    if tensor.op.type in ("Placeholder", "PlaceholderWithDefault"):
                        record["placeholders"].append((tensor.name, tensor.dtype.name, None if tensor.shape.rank
                                                       is None else tuple(tensor.shape.as_list())))
                record["values"] = sessions[run["session"]].run(record["fetches"], feed_dict=record["feed"],
                                                                options=options)
            except Exception as exc:  # noqa: BLE001 (a record that does not run here: says why)
                record["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    return out


def _elements(graph, names, depth: int = 0):
    """Fetch names (in their structure: lists, tuples, dicts of str) as elements of `graph`."""
    if depth > 8:
        raise ValueError("fetches nested too deeply")
    if isinstance(names, str):
        return graph.as_graph_element(names, allow_tensor=True, allow_operation=True)
    if type(names) in (list, tuple):
        return type(names)(_elements(graph, x, depth + 1) for x in names)
    if type(names) is dict and all(isinstance(k, str) for k in names):
        return {k: _elements(graph, v, depth + 1) for k, v in names.items()}
    raise ValueError("malformed fetches")
