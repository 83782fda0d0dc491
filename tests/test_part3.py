"""course/tf2_mlp.py: the 06 network in Keras, and the in-graph epoch loop used by notebook 07 and the bench."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from course import tf2_mlp  # noqa: E402


def test_keras_mlp_has_the_06_architecture():
    model = tf2_mlp.keras_mlp()
    assert [layer.units for layer in model.layers] == [128, 32, 10]
    assert model.count_params() == 784 * 128 + 128 + 128 * 32 + 32 + 32 * 10 + 10 == 104_938


def test_train_epoch_runs_all_full_batches_and_learns():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = tf2_mlp.keras_mlp((8, 16, 2), seed=1)
    step_count = []
    opt = keras.optimizers.Adam(1e-2)
    losses = tf2_mlp.fit_custom(model, opt, x, y, batch_size=32, epochs=5, verbose=False)
    step_count.append(int(opt.iterations.numpy()))
    assert step_count == [5 * (300 // 32)]  # the partial last batch is skipped
    assert losses[-1] < 0.5 * losses[0]


def test_images_per_second_counts_the_best_pass():
    calls = []
    ips = tf2_mlp.images_per_second(lambda: calls.append(1), 1000, epochs=3, warmup=1)
    assert len(calls) == 4 and ips > 0
