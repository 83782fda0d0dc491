"""course.setup: quiet TensorFlow, seeding, version advice; course.gradcheck and course.plots."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from course import gradcheck, plots, setup


def test_importing_tensorflow_through_start_writes_nothing_to_stderr():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    code = ("from course.setup import start; env = start(seed=1); import tensorflow as tf; "
            "print(float(tf.reduce_sum(tf.ones((3, 3))))); print(env.device)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "9.0" in run.stdout and "tensorflow 2.21" in run.stdout
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") is None  # oneDNN stays on


def test_start_without_tensorflow_seeds_numpy_and_does_not_import_it():
    code = ("import sys, numpy as np; from course.setup import start; start(seed=3, tensorflow=False, "
            "verbose=False); a = np.random.rand(3); start(seed=3, tensorflow=False, verbose=False); "
            "assert (a == np.random.rand(3)).all(); print('tensorflow' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_version_check_gives_advice_only_for_a_mismatch():
    assert setup.check_versions({"python": "3.11.7", "tensorflow": "2.21.0", "keras": "3.15.1",
                                 "numpy": "2.4.6"}) == []
    problems = setup.check_versions({"tensorflow": "2.15.1", "keras": "2.15.0"})
    assert len(problems) == 2 and all("make setup" in p for p in problems)
    assert "tensorflow 2.15.1" in problems[0]


def test_numerical_gradient_matches_the_analytic_one():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    analytic = 3 * x ** 2 + np.cos(x)
    numeric = gradcheck.numerical_gradient(lambda v: np.sum(v ** 3 + np.sin(v)), x.copy())
    assert gradcheck.relative_error(analytic, numeric) < 1e-8
    assert gradcheck.relative_error(analytic, numeric * 1.01) > 1e-3


def test_confusion_matrix_counts():
    cm = plots.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    assert plots.confusion_matrix([0], [0], num_classes=4).shape == (4, 4)


@pytest.mark.parametrize("draw", ["grid", "curves", "confusion"])
def test_plots_label_their_axes_and_title(draw):
    import matplotlib

    matplotlib.use("Agg")
    if draw == "grid":
        fig = plots.image_grid(np.zeros((3, 8, 8), np.uint8), [0, 1, 2], title="digits")
        assert fig._suptitle.get_text() == "digits"
    elif draw == "curves":
        fig = plots.learning_curves({"loss": [1, 0.5], "val_loss": [1.1, 0.7]})
        ax = fig.axes[0]
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss" and len(ax.lines) == 2
    else:
        fig = plots.plot_confusion_matrix([0, 1], [1, 1], class_names=["a", "b"])
        ax = fig.axes[0]
        assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
