"""The plumbing around a fully-connected network written in NumPy (notebook 03 and the benchmark).

Only what is not an exercise lives here: MNIST as flat float vectors, one-hot labels, shuffled
minibatches, and a training loop with momentum and early stopping that calls the network's
functions it is given. The network itself (initialisation, forward and backward passes, loss,
update) is what notebook 03 asks the student to write, so it is never in this module.

    from course.numpy_mlp import load_mnist_flat, fit
    data = load_mnist_flat(dtype=np.float32)
    result = fit(parameters, data, forward=..., loss=..., backward=..., update=...)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


def one_hot(labels, num_classes: int = 10, dtype=np.float32) -> np.ndarray:
    """Labels (N,) in 0..K-1 as a one-hot matrix (N, K) of `dtype`."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


@dataclass
class FlatData:
    """Images as rows of floats (N, features) and int labels (N,) of a train / validation / test split."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int = 10

    def one_hot(self, split: str) -> np.ndarray:
        """The labels of `split` ("train", "val" or "test") one-hot, in the dtype of its images."""
        return one_hot(getattr(self, f"y_{split}"), self.num_classes, getattr(self, f"x_{split}").dtype)


def load_mnist_flat(dtype=np.float32) -> FlatData:
    """The classic 55,000 / 5,000 / 10,000 MNIST split, images flattened to (N, 784) and scaled by 1/255."""
    from course import data

    (xt, yt), (xv, yv), (xs, ys) = data.load_mnist(validation=True)

    def flat(x):
        return (x.reshape(len(x), -1).astype(dtype) / dtype(255)).astype(dtype)

    return FlatData(flat(xt), yt.astype(np.int64), flat(xv), yv.astype(np.int64),
                    flat(xs), ys.astype(np.int64))


def minibatches(n: int, batch_size: int, rng: np.random.Generator):
    """Index arrays of a fresh random permutation of range(n), `batch_size` at a time (last one shorter)."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose largest probability is at the true label."""
    return float(np.mean(np.argmax(probabilities, axis=1) == np.asarray(labels)))


@dataclass
class FitResult:
    parameters: dict
    history: dict = field(default_factory=dict)  # loss, val_loss, accuracy, val_accuracy per epoch
    best_epoch: int = 0
    epochs_run: int = 0
    train_seconds: float = 0.0
    stopped_early: bool = False

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(self.epochs_run, 1)


def _predict(forward, parameters, x, batch_size=10000):
    return np.concatenate([forward(x[i:i + batch_size], parameters)[0]
                           for i in range(0, len(x), batch_size)])


def fit(parameters: dict, data: FlatData, *, forward, loss, backward, update,
        epochs: int = 20, batch_size: int = 128, learning_rate: float = 0.1, momentum: float = 0.9,
        decay: float = 1.0, patience: int = 3, seed: int = 0, blas_threads: int | None = 1,
        verbose: bool = True) -> FitResult:
    """Minibatch gradient descent with momentum and early stopping on the validation loss.

    The network is given as four functions with the signatures of notebook 03:
    ``forward(X, parameters) -> (AL, caches)``, ``loss(AL, Y) -> float``,
    ``backward(AL, Y, caches) -> grads``, ``update(parameters, grads, velocity, learning_rate,
    momentum) -> (parameters, velocity)``.

    After each epoch the training and validation loss and accuracy are recorded (the training
    figures are the means over the epoch's minibatches). Training stops when the validation loss
    has not improved for `patience` epochs, and the parameters of the best epoch are returned.
    The learning rate of epoch e (from 1) is ``learning_rate * decay ** (e - 1)``.
    `train_seconds` counts only the training steps and the per-epoch validation pass.

    `blas_threads` caps the threads of NumPy's BLAS while training (None: leave them alone). With
    matrices this small, one thread per process avoids the threads' synchronisation cost, which on a
    busy machine can make two threads ten times slower than one (bench/bench_numpy_mlp.py measures it).
    """
    from threadpoolctl import threadpool_limits

    if blas_threads is None:
        return _fit(parameters, data, forward, loss, backward, update, epochs, batch_size,
                    learning_rate, momentum, decay, patience, seed, verbose)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _fit(parameters, data, forward, loss, backward, update, epochs, batch_size,
                    learning_rate, momentum, decay, patience, seed, verbose)


def _fit(parameters, data, forward, loss, backward, update, epochs, batch_size, learning_rate,
         momentum, decay, patience, seed, verbose):
    rng = np.random.default_rng(seed)
    y_train = data.one_hot("train")
    y_val = data.one_hot("val")
    velocity = {k: np.zeros_like(v) for k, v in parameters.items()}
    history = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
    best = (np.inf, 0, {k: v.copy() for k, v in parameters.items()})
    result = FitResult(parameters)
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        rate = learning_rate * decay ** (epoch - 1)
        total_loss, total_correct, seen = 0.0, 0, 0
        for idx in minibatches(len(data.x_train), batch_size, rng):
            xb, yb = data.x_train[idx], y_train[idx]
            probs, caches = forward(xb, parameters)
            total_loss += float(loss(probs, yb)) * len(idx)
            total_correct += int(np.sum(np.argmax(probs, axis=1) == data.y_train[idx]))
            seen += len(idx)
            grads = backward(probs, yb, caches)
            parameters, velocity = update(parameters, grads, velocity, rate, momentum)
        val_probs = _predict(forward, parameters, data.x_val)
        val_loss = float(loss(val_probs, y_val))
        history["loss"].append(total_loss / seen)
        history["accuracy"].append(total_correct / seen)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(accuracy(val_probs, data.y_val))
        result.epochs_run = epoch
        if verbose:
            print(f"epoch {epoch:2d}  loss {history['loss'][-1]:.4f}  acc {history['accuracy'][-1]:.4f}  "
                  f"val_loss {val_loss:.4f}  val_acc {history['val_accuracy'][-1]:.4f}  "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
        if val_loss < best[0]:
            best = (val_loss, epoch, {k: v.copy() for k, v in parameters.items()})
        elif epoch - best[1] >= patience:
            result.stopped_early = True
            break
    result.train_seconds = time.perf_counter() - started
    result.parameters = best[2]
    result.best_epoch = best[1]
    result.history = history
    return result


def evaluate(forward, parameters: dict, x: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of the network `forward` with `parameters` on images x (N, 784) and int labels (N,)."""
    return accuracy(_predict(forward, parameters, x), labels)
