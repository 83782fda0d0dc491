"""course/tf1_mlp.py (running and drawing TF1 graphs) with bench/tf1_mlp_graph.py (the MLP graph of the benchmarks,
kept out of course/ because building it is the answer to notebook 06's exercises)."""

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")
from course import tf1_mlp  # noqa: E402

from conftest import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from tf1_mlp_graph import build_graph  # noqa: E402


def test_graph_has_the_promised_parameter_count_and_trains():
    model = build_graph()
    assert tf1_mlp.count_parameters(model) == (104_768, 170)
    rng = np.random.default_rng(0)
    x = rng.random((300, 784), dtype=np.float32)
    y = (x[:, :392].sum(1) > x[:, 392:].sum(1)).astype(np.int32)  # a learnable rule
    with tf1_mlp.session(model, threads=1) as sess:
        before = sess.run(model.loss, {model.images: x, model.labels: y})
        speed = tf1_mlp.train_throughput(model, sess, x, y, steps=30, batch_size=50, warmup=2)
        after = sess.run(model.loss, {model.images: x, model.labels: y})
        assert 0.0 <= tf1_mlp.evaluate(model, sess, x, y, batch_size=128) <= 1.0
    assert speed > 0 and after < before


def test_sgd_option_and_bad_optimizer():
    model = build_graph((4, 3, 2), optimizer="sgd", learning_rate=0.1)
    types = {op.type for op in model.graph.get_operations()}
    assert any("ApplyGradientDescent" in t for t in types)
    with pytest.raises(ValueError):
        build_graph((4, 2), optimizer="rmsprop")


def test_prepare_and_plot_graph():
    x, y = tf1_mlp.prepare(np.full((2, 28, 28), 255, np.uint8), np.array([3, 4]))
    assert x.shape == (2, 784) and x.dtype == np.float32 and x.max() == 1.0 and y.dtype == np.int32
    model = build_graph((4, 3, 2))
    nodes, edges = tf1_mlp.graph_edges(model.graph, collapse_scopes=True)
    assert {"images", "layer1", "layer2", "loss", "train"} <= set(nodes)
    assert ("layer1", "layer2") in edges
    ax = tf1_mlp.plot_graph(model.graph, collapse_scopes=True)
    assert ax.get_title() and ax.get_xlabel()


def test_course_package_holds_no_answer_of_notebook_06():
    """course/ ships to students: it must not build the network that 06's exercises ask for."""
    source = (ROOT / "course" / "tf1_mlp.py").read_text()
    assert not hasattr(tf1_mlp, "build_graph")
    for answer in ("sparse_softmax_cross_entropy_with_logits", "in_top_k", "AdamOptimizer", "get_variable"):
        assert answer not in source, answer
