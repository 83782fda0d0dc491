"""The judge rebuilds a student's Keras model from its config and weights (trusted._rebuild_keras): a compiled
model comes back compiled with Keras' own optimizer, loss and metrics; anything else in its config is refused."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))


@pytest.fixture(scope="module")
def keras_and_judge():
    from course.setup import import_tensorflow

    import_tensorflow()
    import keras

    import plainwire
    import trusted

    return keras, trusted, plainwire


def _form(keras, plainwire, model):
    arrays = [plainwire._npy(np.asarray(w)) for w in model.get_weights()]
    return {"config": json.dumps(keras.saving.serialize_keras_object(model)), "weights": list(range(len(arrays)))}, arrays


def _model(keras):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                             keras.layers.Dense(2, activation="softmax")])


def test_a_compiled_model_comes_back_compiled_and_trains(keras_and_judge):
    keras, trusted, plainwire = keras_and_judge
    model = _model(keras)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=keras.losses.sparse_categorical_crossentropy,
                  metrics=["accuracy"], steps_per_execution=4)
    rebuilt = trusted._rebuild_keras(*_form(keras, plainwire, model))
    assert isinstance(rebuilt, keras.Sequential) and rebuilt.compiled
    assert type(rebuilt.optimizer).__name__ == "Adam"
    assert float(rebuilt.optimizer.learning_rate.numpy()) == pytest.approx(2e-3)
    assert rebuilt.steps_per_execution == 4
    for a, b in zip(rebuilt.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    history = rebuilt.fit(np.ones((8, 4), "float32"), np.zeros(8, "int64"), epochs=1, verbose=0).history
    assert set(history) == {"loss", "accuracy"}


@pytest.mark.parametrize("loss", [
    {"module": "os", "class_name": "system", "config": {}},                                   # not Keras
    {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": "function"},
    {"module": "keras.losses", "class_name": "function", "config": "no_such_loss"},
])
def test_a_compile_config_naming_anything_but_keras_is_refused(keras_and_judge, loss):
    keras, trusted, plainwire = keras_and_judge
    model = _model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    form, arrays = _form(keras, plainwire, model)
    config = json.loads(form["config"])
    config["compile_config"]["loss"] = loss
    rebuilt = trusted._rebuild_keras(dict(form, config=json.dumps(config)), arrays)
    assert isinstance(rebuilt, trusted.Refused)
    with pytest.raises(TypeError, match="could not be rebuilt"):
        rebuilt.fit
