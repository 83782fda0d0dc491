"""The 784-128-32-10 MNIST MLP as a TensorFlow 1 graph (``tf.compat.v1``), for the benchmarks and tests.

Notebook 06's students build this network themselves (its four exercises), so it lives here, outside the
``course`` package that ships to them. ``course.tf1_mlp`` runs and measures it:

    from course import tf1_mlp
    from tf1_mlp_graph import build_graph                # with bench/ on sys.path
    model = build_graph()                                # a tf.Graph of its own: eager code elsewhere is untouched
    with tf1_mlp.session(model) as sess:
        images_per_s = tf1_mlp.train_throughput(model, sess, x, y, steps=500, batch_size=100)

Layers are built from ``get_variable``, ``tf.matmul`` and ``tf.nn`` ops, as the original workshop's
``mnist.py`` did: with Keras 3, ``tf.compat.v1.layers.dense`` no longer works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LAYER_SIZES = (784, 128, 32, 10)


@dataclass
class MLPGraph:
    """The handles of a built graph: feed ``images``/``labels``, run ``train_op``, ``loss`` or ``accuracy``."""

    graph: object
    images: object      # placeholder float32 (None, 784), pixels in [0, 1]
    labels: object      # placeholder int32 (None,), digits 0..9
    logits: object      # float32 (None, 10)
    loss: object        # scalar mean cross-entropy
    train_op: object
    accuracy: object    # scalar fraction of correct top-1 predictions in the fed batch
    init: object
    layer_sizes: tuple
    weights: list
    biases: list


def build_graph(layer_sizes=LAYER_SIZES, optimizer: str = "adam", learning_rate: float = 1e-3,
                seed: int = 42, decay_steps: int | None = None, decay_rate: float = 1.0) -> MLPGraph:
    """A new tf.Graph holding a ReLU MLP, its cross-entropy loss, an optimizer step and an accuracy op.

    Each layer lives in a name scope ``layer1``, ``layer2``, ... with variables ``weights`` (He-initialised
    truncated normal) and ``biases`` (zeros); the last layer has no ReLU. ``optimizer`` is ``"adam"`` or
    ``"sgd"``; with ``decay_steps`` the learning rate is multiplied by ``decay_rate`` every ``decay_steps``
    steps. The graph-level ``seed`` makes initial values repeat.
    """
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        images = v1.placeholder(tf.float32, (None, layer_sizes[0]), name="images")
        labels = v1.placeholder(tf.int32, (None,), name="labels")
        h, weights, biases = images, [], []
        for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
            with v1.variable_scope(f"layer{i}"):
                w = v1.get_variable("weights", (n_in, n_out), tf.float32,
                                    v1.truncated_normal_initializer(stddev=math.sqrt(2.0 / n_in)))
                b = v1.get_variable("biases", (n_out,), tf.float32, v1.zeros_initializer())
                h = tf.matmul(h, w) + b
                if i < len(layer_sizes) - 1:
                    h = tf.nn.relu(h)
            weights.append(w)
            biases.append(b)
        logits = tf.identity(h, name="logits")
        with v1.name_scope("loss"):
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        with v1.name_scope("train"):
            step = v1.train.get_or_create_global_step()
            if decay_steps:
                learning_rate = v1.train.exponential_decay(learning_rate, step, decay_steps, decay_rate,
                                                           staircase=True)
            if optimizer == "adam":
                opt = v1.train.AdamOptimizer(learning_rate)
            elif optimizer == "sgd":
                opt = v1.train.GradientDescentOptimizer(learning_rate)
            else:
                raise ValueError(f"optimizer must be 'adam' or 'sgd', not {optimizer!r}")
            train_op = opt.minimize(loss, global_step=step)
        with v1.name_scope("evaluation"):
            correct = tf.nn.in_top_k(predictions=logits, targets=labels, k=1)
            accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        init = v1.global_variables_initializer()
    return MLPGraph(graph, images, labels, logits, loss, train_op, accuracy, init, tuple(layer_sizes),
                    weights, biases)
