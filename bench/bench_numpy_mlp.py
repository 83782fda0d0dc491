"""Speed of the 784-128-32-10 NumPy network of notebook 03: seconds per epoch and training images per second.

One epoch = 55,000 MNIST training images in minibatches of 256, float32, forward + backward + momentum
update (the same algorithm as notebook 03, written compactly here: the notebook's version is the
student's exercise). Measured with NumPy's BLAS limited to 1 thread (what course.numpy_mlp.fit
uses) and with its default thread count, best of 2 epochs each after a warm-up of 20 steps.

    python bench/bench_numpy_mlp.py [--epochs N]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course.numpy_mlp import load_mnist_flat, minibatches, one_hot  # noqa: E402

LAYERS = [784, 128, 32, 10]
BATCH = 256


def init(rng):
    return [((rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32), np.zeros(b, np.float32))
            for a, b in zip(LAYERS[:-1], LAYERS[1:])]


def step(params, velocity, x, y, lr=0.1, beta=0.9):
    acts, zs = [x], []
    for i, (w, b) in enumerate(params):
        z = acts[-1] @ w + b
        zs.append(z)
        if i < len(params) - 1:
            acts.append(np.maximum(z, 0))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            acts.append(e / e.sum(axis=1, keepdims=True))
    dz = (acts[-1] - y) / len(x)
    for i in range(len(params) - 1, -1, -1):
        w, b = params[i]
        dw, db = acts[i].T @ dz, dz.sum(axis=0)
        if i > 0:
            dz = (dz @ w.T) * (zs[i - 1] > 0)
        vw, vb = velocity[i]
        vw *= beta
        vw -= lr * dw
        vb *= beta
        vb -= lr * db
        w += vw
        b += vb


def epoch_seconds(data, y_onehot, threads, epochs):
    rng = np.random.default_rng(0)
    params = init(rng)
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    with threadpool_limits(limits=threads, user_api="blas"):
        for idx in list(minibatches(len(data.x_train), BATCH, rng))[:20]:  # warm-up
            step(params, velocity, data.x_train[idx], y_onehot[idx])
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            for idx in minibatches(len(data.x_train), BATCH, rng):
                step(params, velocity, data.x_train[idx], y_onehot[idx])
            times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per setting (best is kept)")
    args = parser.parse_args()
    data = load_mnist_flat(np.float32)
    y_onehot = one_hot(data.y_train, 10, np.float32)
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    default_threads = blas[0]["num_threads"] if blas else None
    print(f"NumPy {np.__version__}, BLAS {blas[0]['internal_api'] if blas else '?'} "
          f"(default {default_threads} threads), {os.cpu_count()} CPUs, batch {BATCH}, float32")
    print(f"{'BLAS threads':<14}{'s / epoch':>10}{'images / s':>12}")
    for threads in sorted({1, default_threads or 1}):
        seconds = epoch_seconds(data, y_onehot, threads, args.epochs)
        print(f"{threads:<14}{seconds:>10.2f}{len(data.x_train) / seconds:>12,.0f}", flush=True)


if __name__ == "__main__":
    main()
