"""course.numpy_mlp: the plumbing of notebook 03's NumPy network (the network itself is an exercise, so the
tests bring their own small reference implementation)."""

import numpy as np
import pytest

from course import numpy_mlp


def test_one_hot_rows_and_dtype():
    out = numpy_mlp.one_hot([2, 0, 1], 4, np.float32)
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_array_equal(out, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])


def test_minibatches_cover_every_index_once_in_a_fresh_order():
    rng = np.random.default_rng(0)
    batches = list(numpy_mlp.minibatches(10, 4, rng))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    again = np.concatenate(list(numpy_mlp.minibatches(10, 4, rng)))
    assert not np.array_equal(np.concatenate(batches), again)


# A two-layer softmax network, enough to drive fit() on a separable toy problem.
def _forward(x, p):
    h = np.maximum(x @ p["W1"] + p["b1"], 0)
    z = h @ p["W2"] + p["b2"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), (x, h, p["W2"])


def _loss(probs, y):
    return float(-np.sum(y * np.log(np.maximum(probs, 1e-12))) / len(y))


def _backward(probs, y, cache):
    x, h, w2 = cache
    dz = (probs - y) / len(y)
    dh = (dz @ w2.T) * (h > 0)
    return {"dW2": h.T @ dz, "db2": dz.sum(0), "dW1": x.T @ dh, "db1": dh.sum(0)}


def _update(p, g, v, lr, beta):
    for k in p:
        v[k] = beta * v[k] - lr * g["d" + k]
        p[k] = p[k] + v[k]
    return p, v


def _toy_data(rng, n):
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
    return x, y


@pytest.mark.parametrize("blas_threads", [1, None])
def test_fit_learns_a_toy_problem_and_keeps_the_best_epoch(blas_threads):
    rng = np.random.default_rng(1)
    (xt, yt), (xv, yv), (xs, ys) = (_toy_data(rng, n) for n in (800, 200, 200))
    data = numpy_mlp.FlatData(xt, yt, xv, yv, xs, ys, num_classes=4)
    params = {"W1": (rng.standard_normal((4, 16)) * 0.5).astype(np.float32), "b1": np.zeros(16, np.float32),
              "W2": (rng.standard_normal((16, 4)) * 0.5).astype(np.float32), "b2": np.zeros(4, np.float32)}
    result = numpy_mlp.fit(params, data, forward=_forward, loss=_loss, backward=_backward, update=_update,
                           epochs=15, batch_size=32, learning_rate=0.1, momentum=0.9, decay=0.9, patience=3,
                           seed=0, blas_threads=blas_threads, verbose=False)
    hist = result.history
    assert set(hist) == {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert all(len(v) == result.epochs_run for v in hist.values())
    assert 1 <= result.best_epoch <= result.epochs_run
    assert hist["val_loss"][result.best_epoch - 1] == min(hist["val_loss"])
    assert hist["loss"][-1] < hist["loss"][0]
    assert numpy_mlp.evaluate(_forward, result.parameters, xs, ys) > 0.9
    assert result.parameters["W1"].dtype == np.float32
    assert result.train_seconds > 0 and result.seconds_per_epoch > 0
