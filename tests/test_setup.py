"""course.setup: quiet TensorFlow, seeding, version advice; course.gradcheck and course.plots."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from course import gradcheck, plots, setup


def _python(code: str, **env_vars) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with no TF_* variable of ours, plus `env_vars`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(env_vars)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)


START_AND_RUN_AN_OP = ("from course.setup import start; env = start(seed=1); import tensorflow as tf; "
                       "print(float(tf.reduce_sum(tf.ones((3, 3))))); print(env.device)")


def test_importing_tensorflow_through_start_writes_nothing_to_stderr():
    run = _python(START_AND_RUN_AN_OP)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "9.0" in run.stdout and "tensorflow 2.21" in run.stdout
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") is None  # oneDNN stays on


def test_start_filters_the_onednn_notice_on_every_cpu():
    # TF_ENABLE_ONEDNN_OPTS=1 makes TensorFlow write its oneDNN notice on any x86-64 CPU, not only on those
    # where oneDNN is on by default: this test fails on every machine if the filter stops working.
    bare = _python("import tensorflow", TF_ENABLE_ONEDNN_OPTS="1", TF_CPP_MIN_LOG_LEVEL="2")
    if "oneDNN custom operations are on" not in bare.stderr:
        pytest.skip("this TensorFlow build writes no oneDNN notice (not x86-64?)")
    run = _python(START_AND_RUN_AN_OP, TF_ENABLE_ONEDNN_OPTS="1")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "9.0" in run.stdout


def test_a_real_message_written_while_tensorflow_loads_still_reaches_stderr():
    # A value TensorFlow cannot read makes it warn while its libraries load, next to the oneDNN notice:
    # the warning is the student's to see, the notice is not.
    run = _python(START_AND_RUN_AN_OP, TF_ENABLE_ONEDNN_OPTS="banana")
    assert run.returncode == 0, run.stderr
    assert "TF_ENABLE_ONEDNN_OPTS is not set to either" in run.stderr
    assert "oneDNN custom operations are on" not in run.stderr
    assert "absl::InitializeLog" not in run.stderr


def test_the_filter_keeps_every_line_that_is_not_a_known_notice():
    code = r"""
import os, sys
from course.setup import startup_notices_filtered
with startup_notices_filtered():
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    os.write(2, b"I0000 00:00:1796295693.890701    4044 port.cc:153] oneDNN custom operations are on. You may...\n")
    os.write(2, b"E0000 00:00:1796295693.900000    4044 some_op.cc:12] a real error from C++\n")
    os.write(2, b"I0000 00:00:1.0 1 cpu_feature_guard.cc:210] This TensorFlow binary is optimized to use available "
                b"CPU instructions in performance-critical operations.\n")
    os.write(2, b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
                b"appropriate compiler flags.\n")
    print("a Python warning", file=sys.stderr)
    os.write(2, b"To enable the following instructions: not after a notice, rebuild TensorFlow: kept\n")
print("after", file=sys.stderr)
"""
    run = _python(code)
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [
        "E0000 00:00:1796295693.900000    4044 some_op.cc:12] a real error from C++",
        "a Python warning",
        "To enable the following instructions: not after a notice, rebuild TensorFlow: kept",
        "after"]


def test_the_filter_passes_the_output_through_when_the_block_raises():
    code = ("import os; from course.setup import startup_notices_filtered\n"
            "try:\n"
            "    with startup_notices_filtered():\n"
            "        os.write(2, b'why it failed\\n'); raise ImportError('boom')\n"
            "except ImportError as e:\n"
            "    print('caught', e)\n")
    run = _python(code)
    assert run.stderr == "why it failed\n" and run.stdout == "caught boom\n"


def test_tf_log_line_pattern_recognises_absl_and_old_formats_only():
    assert setup.TF_LOG_LINE.match("E0000 00:00:1796295693.890701    4044 node_def_util.cc:682] NodeDef mentions")
    assert setup.TF_LOG_LINE.match("W1203 10:59:08.123456    12 cuda_executor.cc:1] x")
    assert setup.TF_LOG_LINE.match("2024-05-01 12:00:00.000001: I tensorflow/core/platform/cpu_feature_guard.cc:1] x")
    assert not setup.TF_LOG_LINE.match("I0 is the identity matrix")
    assert not setup.TF_LOG_LINE.match("Epoch 1/3: loss 0.25")


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


def test_nbval_fails_a_cell_that_prints_a_tensorflow_log_line(tmp_path):
    """The project's conftest makes nbval see what native code writes to fd 2 (as JupyterLab does) and fail a
    cell whose output holds a TensorFlow log line; other cells pass."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('print("an ordinary line")'),
                nbformat.v4.new_code_cell('import os\nos.write(2, b"E0000 00:00:1796295693.890701    4044 '
                                          'node_def_util.cc:682] NodeDef mentions attribute x\\n")'),
                nbformat.v4.new_code_cell('import sys\nprint("W0 is a weight matrix, not a log line", '
                                          'file=sys.stderr)')]
    nbformat.write(nb, tmp_path / "logs_from_cpp.ipynb")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q",
                          "--nbval-lax", "--nbval-kernel-name", "tf-course", "--rootdir", str(tmp_path),
                          str(tmp_path / "logs_from_cpp.ipynb")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert "1 failed, 2 passed" in run.stdout, run.stdout + run.stderr
    assert "::Cell 1" in run.stdout and "the cell printed TensorFlow log lines" in run.stdout
    assert "node_def_util.cc:682] NodeDef mentions attribute x" in run.stdout


def test_a_benchmark_that_uses_tensorflow_writes_nothing_to_stderr():
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_tf1_mlp.py"), "5"], capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1"}, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "images/s" in run.stdout
