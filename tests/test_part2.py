"""course/tf1_mlp.py: the TF1 graph builder used by notebook 06 and bench/bench_tf1_mlp.py."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

tf = pytest.importorskip("tensorflow")
from course import tf1_mlp  # noqa: E402


def test_graph_has_the_promised_parameter_count_and_trains():
    model = tf1_mlp.build_graph()
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
    model = tf1_mlp.build_graph((4, 3, 2), optimizer="sgd", learning_rate=0.1)
    types = {op.type for op in model.graph.get_operations()}
    assert any("ApplyGradientDescent" in t for t in types)
    with pytest.raises(ValueError):
        tf1_mlp.build_graph((4, 2), optimizer="rmsprop")


def test_prepare_and_plot_graph():
    x, y = tf1_mlp.prepare(np.full((2, 28, 28), 255, np.uint8), np.array([3, 4]))
    assert x.shape == (2, 784) and x.dtype == np.float32 and x.max() == 1.0 and y.dtype == np.int32
    model = tf1_mlp.build_graph((4, 3, 2))
    nodes, edges = tf1_mlp.graph_edges(model.graph, collapse_scopes=True)
    assert {"images", "layer1", "layer2", "loss", "train"} <= set(nodes)
    assert ("layer1", "layer2") in edges
    ax = tf1_mlp.plot_graph(model.graph, collapse_scopes=True)
    assert ax.get_title() and ax.get_xlabel()
