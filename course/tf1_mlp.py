"""TensorFlow 1 style graphs (through ``tf.compat.v1``): running a training graph and drawing a graph.

``plot_graph`` draws any tf.Graph as TensorBoard does (notebooks 04 and 06). ``session``, ``prepare``,
``train_throughput``, ``evaluate`` and ``count_parameters`` work on any model object with the attributes
``graph``, ``init``, ``images``, ``labels``, ``train_op``, ``accuracy``, ``weights`` and ``biases``
(``bench/tf1_mlp_graph.py`` builds one for ``bench/bench_tf1_mlp.py``).

The network itself is not here: building it is the answer to notebook 06's exercises, and ``course/`` ships
to students.
"""

from __future__ import annotations

import time

import numpy as np

BATCH_SIZE = 100


def _tf():
    import tensorflow as tf

    return tf


def count_parameters(model) -> tuple[int, int]:
    """(number of weights, number of biases): 104,768 and 170 for 784-128-32-10."""
    def size(v):
        return int(np.prod(v.shape.as_list()))

    return sum(size(w) for w in model.weights), sum(size(b) for b in model.biases)


def session(model, threads: int | None = None):
    """A tf.compat.v1.Session on the model's graph with its variables initialised (use it in `with`)."""
    tf = _tf()
    config = None
    if threads:
        config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads,
                                          inter_op_parallelism_threads=threads)
    sess = tf.compat.v1.Session(graph=model.graph, config=config)
    sess.run(model.init)
    return sess


def prepare(x, y):
    """MNIST arrays as the graph wants them: images (N, 784) float32 in [0, 1], labels (N,) int32."""
    x = np.asarray(x)
    return x.reshape(len(x), -1).astype(np.float32) / np.float32(255), np.asarray(y).astype(np.int32)


def train_throughput(model, sess, x, y, steps: int, batch_size: int = BATCH_SIZE,
                     warmup: int = 20, seed: int = 0) -> float:
    """Run ``warmup`` then ``steps`` training steps on random mini-batches fed through feed_dict.

    Returns images per second over the timed ``steps``: one step = slice a batch from the NumPy arrays,
    feed it, run ``train_op``. ``x``, ``y`` as returned by :func:`prepare`.
    """
    rng = np.random.default_rng(seed)
    n = len(x)

    def run(count):
        for _ in range(count):
            idx = rng.integers(0, n, batch_size)
            sess.run(model.train_op, feed_dict={model.images: x[idx], model.labels: y[idx]})

    run(warmup)
    start = time.perf_counter()
    run(steps)
    return steps * batch_size / (time.perf_counter() - start)


def evaluate(model, sess, x, y, batch_size: int = 5000) -> float:
    """Accuracy of the model on (x, y), fed in batches."""
    correct = 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        correct += sess.run(model.accuracy, {model.images: xb, model.labels: yb}) * len(xb)
    return correct / len(x)


# ----------------------------------------------------------------------------------- graph picture
def graph_edges(graph, collapse_scopes: bool = False, skip_types=("NoOp", "Const")):
    """(nodes, edges) of a tf.Graph: one node per operation, or per top-level name scope if collapsed.

    Operations whose type is in ``skip_types`` are left out, as TensorBoard hides them by default.
    """
    def key(op):
        return op.name.split("/")[0] if collapse_scopes else op.name

    kept = [op for op in graph.get_operations() if op.type not in skip_types]
    nodes = {}
    for op in kept:
        nodes.setdefault(key(op), op.type if not collapse_scopes or "/" not in op.name else "scope")
    edges = set()
    for op in kept:
        for t in list(op.inputs) + [c for c in op.control_inputs]:
            src = t.op if hasattr(t, "op") else t
            if src.type in skip_types:
                continue
            a, b = key(src), key(op)
            if a != b:
                edges.add((a, b))
    return nodes, sorted(edges)


def plot_graph(graph, collapse_scopes: bool = False, title: str = "The computation graph", ax=None):
    """Draw a tf.Graph with matplotlib, data flowing left to right (a small stand-in for TensorBoard's view).

    Each box is an operation (name and type), or a name scope when ``collapse_scopes`` is true.
    """
    import matplotlib.pyplot as plt

    nodes, edges = graph_edges(graph, collapse_scopes)
    preds = {n: [] for n in nodes}
    for a, b in edges:
        preds[b].append(a)
    depth = {}

    def level(n, seen=()):
        if n not in depth:
            depth[n] = 1 + max((level(p, seen + (n,)) for p in preds[n] if p not in seen), default=-1)
        return depth[n]

    for n in nodes:
        level(n)
    columns = {}
    for n in nodes:
        columns.setdefault(depth[n], []).append(n)
    pos = {}
    for d, names in columns.items():
        for i, n in enumerate(sorted(names)):
            pos[n] = (d, (len(names) - 1) / 2 - i)
    if ax is None:
        width = max(4.0, 1.9 * (max(columns) + 1))
        height = max(2.5, 0.9 * max(len(v) for v in columns.values()))
        _, ax = plt.subplots(figsize=(width, height))
    for a, b in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops=dict(arrowstyle="-|>", color="0.5", shrinkA=22, shrinkB=22, lw=1))
    for n, (x, y) in pos.items():
        label = n if collapse_scopes and nodes[n] == "scope" else f"{n}\n({nodes[n]})"
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="#dbe9f6" if nodes[n] != "scope" else "#fde2c4", ec="0.4"))
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ys = [p[1] for p in pos.values()]
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_title(title)
    ax.set_xlabel("data flow: distance from the graph's inputs (operations)")
    ax.set_ylabel("operations at the same depth")
    ax.set_yticks([])
    ax.grid(False)
    return ax
