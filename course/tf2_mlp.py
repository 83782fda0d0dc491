"""TF2 training of the 784-128-32-10 MLP of notebook 06, written to be as fast as the TF1 session loop.

Notebooks 07 and 08 and ``bench/bench_tf2_mlp.py`` use it. What costs the time in a small network on a CPU is
not the arithmetic (a 784-128-32-10 step is ~0.1 MFLOP per image) but everything around it, per step:

- Python calling into TensorFlow (a ``tf.function`` call costs ~50-100 µs, an eager op ~10 µs);
- the input pipeline (``tf.data`` or Keras' data adapter slicing NumPy arrays and copying them every batch);
- metrics updated every step (Keras' compiled metrics are extra ops and extra variable writes).

The fixes used here: put the whole data set in memory as tensors once; run many steps per call (an in-graph
loop over batches, the same idea as Keras' ``steps_per_execution``); keep only the loss. For Keras ``fit``,
XLA (``jit_compile=True``) can also fuse the many small ops of a step; Keras' default ``jit_compile="auto"``
resolves to False on a machine without a GPU, so on a CPU XLA is used only when asked for.
"""

from __future__ import annotations

import time

import numpy as np

SIZES = (784, 128, 32, 10)


def mnist_flat(validation: bool = False):
    """MNIST as float32 in [0, 1], flattened to (N, 784), and int32 labels: the inputs of the 06 MLP."""
    from course import data

    splits = data.load_mnist(validation=validation)
    return tuple((x.reshape(len(x), -1).astype(np.float32) / np.float32(255), y.astype(np.int32))
                 for x, y in splits)


def keras_mlp(sizes=SIZES, seed: int = 0):
    """The MLP as a Keras Sequential model: ReLU hidden layers, logits out (no softmax)."""
    import keras

    layers = [keras.Input(shape=(sizes[0],))]
    for i, width in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        layers.append(keras.layers.Dense(width, activation=None if last else "relu",
                                         kernel_initializer=keras.initializers.GlorotUniform(seed + i)))
    return keras.Sequential(layers, name="mlp_" + "_".join(map(str, sizes)))


def make_train_step(model, optimizer, loss_fn=None, jit_compile: bool = False):
    """A compiled step ``step(x, y) -> loss``: forward, loss, GradientTape backward, one optimizer update."""
    import tensorflow as tf

    if loss_fn is None:
        loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def make_train_epoch(model, optimizer, batch_size: int, loss_fn=None):
    """A compiled ``epoch(x, y, order) -> mean loss`` that runs every full batch in ONE call.

    ``x``, ``y`` are the whole training set as tensors (already in memory); ``order`` a permutation of
    the example indices (shuffle it in NumPy each epoch). The loop over batches is a ``tf.while_loop``
    (AutoGraph turns ``for i in tf.range(n)`` into one), so Python is entered once per epoch instead of
    once per step. A partial last batch is skipped, like ``drop_remainder=True``.
    """
    import tensorflow as tf

    # The step's Python function, called inside the loop, becomes part of the epoch's graph. (Do not
    # jit_compile this whole function: XLA then carries the full data set through the loop, and on a CPU
    # an epoch became ~50-100x slower in our measurements.)
    body = make_train_step(model, optimizer, loss_fn).python_function

    @tf.function
    def epoch(x, y, order):
        n_batches = tf.shape(order)[0] // batch_size
        total = tf.constant(0.0)
        for i in tf.range(n_batches):
            idx = order[i * batch_size:(i + 1) * batch_size]
            total += body(tf.gather(x, idx), tf.gather(y, idx))
        return total / tf.cast(n_batches, tf.float32)

    return epoch


def fit_custom(model, optimizer, x, y, batch_size: int = 128, epochs: int = 1, seed: int = 0,
               verbose: bool = True) -> list[float]:
    """Train with :func:`make_train_epoch` on in-memory data; returns the mean training loss per epoch."""
    import tensorflow as tf

    epoch = make_train_epoch(model, optimizer, batch_size)
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    rng = np.random.default_rng(seed)
    losses = []
    for e in range(epochs):
        start = time.perf_counter()
        loss = float(epoch(x, y, tf.constant(rng.permutation(len(x)).astype(np.int32))))
        losses.append(loss)
        if verbose:
            print(f"epoch {e + 1}/{epochs}  loss {loss:.4f}  {time.perf_counter() - start:.2f} s")
    return losses


def images_per_second(run_epoch, n_images: int, epochs: int = 2, warmup: int = 1) -> float:
    """Throughput of ``run_epoch()`` (one pass over n_images): best of ``epochs`` timed passes after warm-up.

    The warm-up pass pays for tracing and graph building, which a throughput figure should not include.
    Best-of rather than mean, because on a shared machine the slow runs measure the neighbours.
    """
    for _ in range(warmup):
        run_epoch()
    best = float("inf")
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch()
        best = min(best, time.perf_counter() - start)
    return n_images / best
