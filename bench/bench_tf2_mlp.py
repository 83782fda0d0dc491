"""Training throughput (images/s) of the 784-128-32-10 MLP on real MNIST, three ways, in ONE run:

  (a) a TF1 session loop (graph + feed_dict, as in notebook 06),
  (b) a TF2 tf.function custom training loop (course/tf2_mlp.py),
  (c) Keras fit,

all with the same batch size, optimizer (Adam, lr 1e-3), initialisation and 60,000 training images.
Goals: b/a >= 0.9 and c/a >= 0.8. The naive TF2 variants are measured too, to show what costs the time.
`python bench/bench_tf2_mlp.py [--batch-size 128] [--rounds 3] [--quick]`
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from course.setup import start  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--rounds", type=int, default=3, help="timed epochs per variant (best is kept)")
parser.add_argument("--quick", action="store_true", help="only the three headline variants")
args = parser.parse_args()

start(seed=0, verbose=False)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from course import tf2_mlp  # noqa: E402

(x_train, y_train), _ = tf2_mlp.mnist_flat()
N, B, SIZES = len(x_train), args.batch_size, tf2_mlp.SIZES
STEPS = N // B  # every variant runs the same full batches per epoch
rng = np.random.default_rng(0)


# ------------------------------------------------------------------ (a) TF1 session loop
def tf1_session():
    """Notebook 06's graph (bench/tf1_mlp_graph.py, the instructor's answer kept out of course/) in a Session."""
    from course import tf1_mlp
    from tf1_mlp_graph import build_graph

    model = build_graph(SIZES, optimizer="adam", learning_rate=1e-3)
    sess = tf1_mlp.session(model)
    x, y, train_op = model.images, model.labels, model.train_op

    def run_epoch():
        order = rng.permutation(N)
        for i in range(STEPS):
            idx = order[i * B:(i + 1) * B]
            sess.run(train_op, feed_dict={x: x_train[idx], y: y_train[idx]})

    return run_epoch


# ------------------------------------------------------------------ (b) tf.function custom loops
def custom_naive():
    """The textbook TF2 loop: tf.data pipeline from NumPy, one tf.function call per step, a metric."""
    model = tf2_mlp.keras_mlp(SIZES)
    step = tf2_mlp.make_train_step(model, tf.keras.optimizers.Adam(1e-3))
    mean_loss = tf.keras.metrics.Mean()
    ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(N).batch(B, drop_remainder=True)

    def run_epoch():
        for xb, yb in ds:
            mean_loss.update_state(step(xb, yb))

    return run_epoch


def custom_step_in_memory(jit_compile=False):
    """One tf.function call per step, batches gathered from tensors already in memory."""
    model = tf2_mlp.keras_mlp(SIZES)
    step = tf2_mlp.make_train_step(model, tf.keras.optimizers.Adam(1e-3), jit_compile=jit_compile)
    x, y = tf.constant(x_train), tf.constant(y_train)

    def run_epoch():
        order = rng.permutation(N)
        for i in range(STEPS):
            idx = order[i * B:(i + 1) * B]
            step(tf.gather(x, idx), tf.gather(y, idx))

    return run_epoch


def custom_epoch_in_graph():
    """The whole epoch in one tf.function call (course.tf2_mlp.make_train_epoch)."""
    model = tf2_mlp.keras_mlp(SIZES)
    epoch = tf2_mlp.make_train_epoch(model, tf.keras.optimizers.Adam(1e-3), B)
    x, y = tf.constant(x_train), tf.constant(y_train)

    def run_epoch():
        float(epoch(x, y, tf.constant(rng.permutation(N).astype(np.int32))))

    return run_epoch


# ------------------------------------------------------------------ (c) Keras fit
def keras_fit(steps_per_execution=1, jit_compile="auto", metrics=("accuracy",)):
    model = tf2_mlp.keras_mlp(SIZES)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=list(metrics), steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    xs, ys = x_train[:STEPS * B], y_train[:STEPS * B]

    def run_epoch():
        model.fit(xs, ys, batch_size=B, epochs=1, shuffle=True, verbose=0)

    return run_epoch


A = "(a) TF1 session loop, feed_dict"
B_NAME = "(b) TF2 tf.function, whole epoch in one call"
C_NAME = "(c) Keras fit, steps_per_execution=100, XLA, no metrics"
variants = {A: tf1_session,
            "    TF2 textbook: tf.data + 1 tf.function call/step": custom_naive,
            "    TF2: 1 tf.function call/step, tensors in memory": custom_step_in_memory,
            B_NAME: custom_epoch_in_graph,
            # jit_compile="auto" resolves to False without a GPU: the defaults run without XLA on a CPU
            "    Keras fit, defaults (jit_compile='auto': XLA only with a GPU), accuracy": keras_fit,
            "    Keras fit, steps_per_execution=100, no XLA, no metrics":
                lambda: keras_fit(steps_per_execution=100, jit_compile=False, metrics=()),
            C_NAME: lambda: keras_fit(steps_per_execution=100, jit_compile=True, metrics=()),
            "    (c) + metrics=['accuracy']": lambda: keras_fit(steps_per_execution=100, jit_compile=True)}
if args.quick:
    variants = {k: v for k, v in variants.items() if k in (A, B_NAME, C_NAME)}

t0 = time.perf_counter()
print(f"MNIST {N} training images, batch {B}, {STEPS} steps/epoch, Adam 1e-3, TF {tf.__version__}, "
      f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
print(f"Each variant: 1 warm-up epoch, then {args.rounds} rounds in which every variant runs one epoch in turn "
      f"(so a load change hits all alike); best epoch kept.\n")
epochs = {}
for name, make in variants.items():
    epochs[name] = make()
    epochs[name]()  # warm-up: tracing, graph building, XLA compilation
wall = {name: float("inf") for name in variants}
cpu = {name: float("inf") for name in variants}
for _ in range(args.rounds):
    for name, run_epoch in epochs.items():
        w0, c0 = time.perf_counter(), time.process_time()
        run_epoch()
        wall[name] = min(wall[name], time.perf_counter() - w0)
        cpu[name] = min(cpu[name], time.process_time() - c0)
images = STEPS * B
print(f"{'variant':<66}{'images/s':>10}{'images/CPU-s':>14}")
for name in variants:
    print(f"{name:<66}{images / wall[name]:>10,.0f}{images / cpu[name]:>14,.0f}")
for label, t in (("wall-clock", wall), ("CPU-time", cpu)):
    b_a, c_a = t[A] / t[B_NAME], t[A] / t[C_NAME]
    print(f"\n{label}: ratio b/a = {b_a:.2f} (goal >= 0.9: {'met' if b_a >= 0.9 else 'MISSED'}), "
          f"ratio c/a = {c_a:.2f} (goal >= 0.8: {'met' if c_a >= 0.8 else 'MISSED'})", end="")
print(f"\nload average {os.getloadavg()[0]:.1f} at the end; bench took {time.perf_counter() - t0:.0f} s")
