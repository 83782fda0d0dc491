"""The judge (autograder/trusted.py) against students who try to fool it, and on nbgrader's own material.

Each submission is graded by `grade.run` (sandboxed, as in `make grade`) and must get exactly the grade listed:
- mutation: a function that overwrites its input arrays changes nothing the test compares against;
- hidden tests stay hidden: no inputs, expected values, ACTUAL/DESIRED arrays or prints of a hidden call reach
  the feedback, not even later through the student's own outputs;
- proxies are not believed: a Keras model crosses as a model rebuilt by Keras from its config and weights; a
  plain object that answers like one, or a model with a Lambda layer, gets no points;
- nbgrader's example course (ps1 of bitdiddle and hacker) gets stock nbgrader's automatic scores, `del squares`
  included; the assignment's data files, NBGRADER_EXECUTION, a stub instructor solution, a slow instructor cell.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "autograder"))
import grade  # noqa: E402
import graphwire  # noqa: E402
import trusted  # noqa: E402
from test_grading_course import _submission as _answer  # noqa: E402 (a release with the given answers)

TINY = ROOT / "tests" / "fixtures" / "autograder" / "solutions"
KERAS = ROOT / "tests" / "fixtures" / "judge_keras" / "solutions"
LIMITS = ROOT / "tests" / "fixtures" / "judge_limits" / "solutions"
AUTOTEST = ROOT / "tests" / "fixtures" / "judge_autotest" / "solutions"
NBGRADER = Path(grade.__file__).resolve().parents[1] / ".venv" / "lib" / "python3.11" / "site-packages" / "nbgrader"
USER_GUIDE = NBGRADER / "docs" / "source" / "user_guide"

pytestmark = pytest.mark.skipif(not grade.bwrap_available(), reason="bubblewrap missing: run `make grade-deps`")

ADD = "import numpy as np\n\n\ndef add_one(x):\n    return np.asarray(x, dtype=np.float64) + 1.0\n"
MEANS = "def row_means(a):\n    return np.asarray(a, dtype=np.float64).mean(axis=1)\n"
# the first hidden input of add_one's test, as a student who prints it would see it
HIDDEN_X = repr(round(float(np.random.default_rng(0).normal(size=(4, 5))[0, 0]), 6))


def _release(source: Path, assignment: str, tmp: Path) -> dict:
    grade.prepare_course(source, tmp, f"sqlite:///{tmp}/gb.db", grade.load_config(), [assignment])
    return json.loads((tmp / "release" / assignment / f"{assignment}.ipynb").read_text())


def _grade(subs: Path, out: Path, source: Path, *extra: str) -> dict:
    rows = grade.run(grade.build_parser().parse_args(
        [str(subs), "--out", str(out), "--source", str(source), "--cell-timeout", "60", "--notebook-timeout", "300",
         *extra]))
    return {r.student: r for r in rows}


def _write(subs: Path, student: str, assignment: str, nb: dict) -> None:
    (subs / student / assignment).mkdir(parents=True)
    (subs / student / assignment / f"{assignment}.ipynb").write_text(json.dumps(nb))


# ------------------------------------------------------------------ 90_tiny: mutation and hidden tests
TINY_CASES = {
    "perfect": ({"t90_add_one": ADD, "t90_row_means": MEANS}, 5),
    # sets its input to -1 and returns 0: before, the test's own `data` and `x` became -1, so `x + 1` was 0
    "mutates_input": ({"t90_add_one": "import numpy as np\n\ndef add_one(x):\n    x = np.asarray(x)\n"
                                      "    x[...] = -1.0\n    return np.zeros(x.shape)\n",
                       "t90_row_means": MEANS}, 3),
    # right on the public `data`; on any other input zeroes it and returns zeros (before: 5/5)
    "mutates_rows": ({"t90_add_one": ADD, "t90_row_means": "def row_means(a):\n    if a.shape == (2, 3):\n"
                                                          "        return a.mean(axis=1)\n    a[...] = 0.0\n"
                                                          "    return np.zeros(len(a))\n"}, 2),
    # prints every input (a lookup table in the making), and prints the stored hidden inputs again later
    "prints_inputs": ({"t90_add_one": "import numpy as np\nSEEN = []\n\ndef add_one(x):\n    SEEN.append(x)\n"
                                      "    print('input', np.round(np.asarray(x), 6).tolist())\n"
                                      "    return np.asarray(x, dtype=np.float64) + 1.0\n",
                       "t90_row_means": "print('stored', [np.round(s, 6).tolist() for s in SEEN])\n\n"
                                        "def row_means(a):\n"
                                        "    print('seen', [np.round(s, 6).tolist() for s in SEEN])\n"
                                        "    raise ValueError(str([np.round(s, 6).tolist() for s in SEEN]))\n"}, 2),
    # right on the public input only: the hidden check's ACTUAL/DESIRED must not show
    "public_only": ({"t90_add_one": "import numpy as np\n\ndef add_one(x):\n    x = np.asarray(x, dtype=np.float64)\n"
                                    "    return x + 1.0 if x.shape == (2, 3) else x\n", "t90_row_means": MEANS}, 3),
    # wrong on the public input: a public check keeps its full message
    "public_wrong": ({"t90_add_one": "import numpy as np\n\ndef add_one(x):\n    return np.asarray(x) * 1.0\n",
                      "t90_row_means": MEANS}, 3),
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    release = _release(TINY, "90_tiny", tmp_path_factory.mktemp("tiny_course"))
    subs = tmp_path_factory.mktemp("tiny_subs")
    for student, (cells, _score) in TINY_CASES.items():
        _write(subs, student, "90_tiny", _answer(release, cells))
    out = tmp_path_factory.mktemp("tiny_out") / "out"
    rows = _grade(subs, out, TINY)
    html = {s: (out / "feedback" / s / "90_tiny" / "90_tiny.html").read_text() for s in TINY_CASES}
    return rows, html


@pytest.mark.parametrize("student", sorted(TINY_CASES))
def test_tiny_submission_gets_its_grade(tiny, student):
    rows, _ = tiny
    assert (rows[student].score, rows[student].status) == (TINY_CASES[student][1], "ok"), rows[student].messages


def test_hidden_inputs_and_values_stay_out_of_the_feedback(tiny):
    _, html = tiny
    for student, page in html.items():
        assert "default_rng" not in page and "HIDDEN TESTS" not in page, student
        assert HIDDEN_X not in page, student  # the hidden input, printed by the student's function
    for student in ("prints_inputs", "public_only"):
        assert "ACTUAL" not in html[student] and "DESIRED" not in html[student]
        assert "Mismatched elements" not in html[student]
    assert "your code raised ValueError" in html["prints_inputs"]  # what failed, not the student's message
    assert "not shown: your code had already seen hidden test inputs" in html["prints_inputs"]
    assert "input [[0.0, 1.0, 2.0]" in html["prints_inputs"]  # the public call's print stays
    # a public check that fails keeps its full message (the public input is the student's to see anyway)
    assert "Mismatched elements" in html["public_wrong"]


def test_split_hidden_keeps_line_numbers_and_parts():
    parts = trusted.split_hidden("a = 1\n### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nc = 3\n")
    assert [(code.count("\n"), hidden) for code, hidden in parts] == [(1, False), (3, True), (5, False)]
    assert parts[1][0].splitlines()[2] == "b = 2"
    # markers inside a block: one part, hidden
    inside = "for i in range(2):\n    x = i\n    ### BEGIN HIDDEN TESTS\n    y = i\n    ### END HIDDEN TESTS\n"
    assert trusted.split_hidden(inside) == [(inside, True)]


# ------------------------------------------------------------------ 91_keras: rebuilt, not believed
KERAS_OK = ("def build_model():\n    return keras.Sequential([keras.Input((4,)),"
            " keras.layers.Dense(3, activation='relu'),"
            " keras.layers.Dropout(0.25), keras.layers.Dense(2, activation='softmax')])\n")
KERAS_CASES = {
    "perfect": (KERAS_OK, 3),
    # a plain object answering like a Keras model: type names, rate, count_params, constant softmax logits
    "proxy": ("import numpy as np\n\nclass Dense:\n    pass\n\nclass Dropout:\n    rate = 0.25\n\n"
              "class Model:\n    __module__ = 'keras'\n    layers = [Dense(), Dropout(), Dense()]\n\n"
              "    def count_params(self):\n        return 23\n\n    def __call__(self, x):\n"
              "        return np.full((len(x), 2), 0.5, dtype=np.float32)\n\n"
              "def build_model():\n    return Model()\n", 0),
    # a Lambda layer carries marshalled code: refused, never deserialised
    "lambda_layer": ("def build_model():\n    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),"
                     " keras.layers.Lambda(lambda t: t * 0.0), keras.layers.Dense(2, activation='softmax')])\n", 0),
}


@pytest.fixture(scope="module")
def keras_rows(tmp_path_factory):
    release = _release(KERAS, "91_keras", tmp_path_factory.mktemp("keras_course"))
    subs = tmp_path_factory.mktemp("keras_subs")
    for student, (code, _score) in KERAS_CASES.items():
        _write(subs, student, "91_keras", _answer(release, {"j91_build_model": code}))
    # generous limits: importing TensorFlow twice per submission on a loaded 2-core machine takes minutes
    return _grade(subs, tmp_path_factory.mktemp("keras_out") / "out", KERAS, "--cell-timeout", "600",
                  "--notebook-timeout", "1800")


@pytest.mark.parametrize("student", sorted(KERAS_CASES))
def test_keras_submission_gets_its_grade(keras_rows, student):
    row = keras_rows[student]
    assert (row.score, row.status) == (KERAS_CASES[student][1], "ok"), row.messages


def test_keras_config_check_refuses_foreign_classes():
    import keras  # noqa: F401

    trusted._rebuild_keras({"config": "{}", "weights": []}, [])  # imports the allowed modules
    for bad in ({"module": "os", "class_name": "system", "config": {}},
                {"module": "keras.layers", "class_name": "Lambda", "config": {}},
                {"module": "keras.layers", "class_name": "Dense", "config": {}, "registered_name": "Mine>Dense"}):
        with pytest.raises(ValueError):
            trusted._check_keras_config({"module": "keras", "class_name": "Sequential", "config": {"layers": [bad]}})
    assert isinstance(trusted._rebuild_keras({"config": json.dumps({"module": "os", "class_name": "system"}),
                                              "weights": []}, []), trusted.Refused)


# ------------------------------------------------------------------ 94_autotest: nbgrader's generated asserts
AUTOTEST_CASES = {
    "perfect": ("def f(x):\n    return x * x + 1\n", 3),
    "wrong_value": ("def f(x):\n    return x * x\n", 0),
    # right on the inputs the public AUTOTEST and the hashed one use, wrong on the hidden AUTOTEST's
    "hidden_wrong": ("def f(x):\n    return x * x + 1 if x < 4 else 0\n", 2),
    # the right values as floats: AUTOTEST's type check fails (str(f(2)) is '5.0' as well)
    "float": ("def f(x):\n    return float(x * x + 1)\n", 0),
}


def test_autotest_and_hashed_autotest_are_graded(tmp_path):
    """Each job carries its test cells' sources as nbgrader expanded them into the gradebook (job['test_sources']):
    the generated asserts award the points, hidden ones included."""
    release = _release(AUTOTEST, "94_autotest", tmp_path / "course")
    for student, (code, _score) in AUTOTEST_CASES.items():
        _write(tmp_path / "subs", student, "94_autotest", _answer(release, {"j94_f": code}))
    rows = _grade(tmp_path / "subs", tmp_path / "out", AUTOTEST)
    assert {s: (r.score, r.status) for s, r in rows.items()} == {
        s: (score, "ok") for s, (_code, score) in AUTOTEST_CASES.items()}, {s: r.scores for s, r in rows.items()}
    assert rows["hidden_wrong"].scores == {"j94_test_autotest": 1.0, "j94_test_hashed": 1.0, "j94_test_hidden": 0.0}
    page = (tmp_path / "out" / "feedback" / "hidden_wrong" / "94_autotest" / "94_autotest.html").read_text()
    assert "value of f(5) is not correct" in page  # the check's own message (nbgrader's template)
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert 'str(f(2)) == "5"' in text  # the public AUTOTEST's generated check is shown, as the release shows it
    assert 'str(f(5)) == "26"' not in text and "HIDDEN" not in text  # never the hidden check's code or value


# ------------------------------------------------------------------ 93_limits: instructor's cells
@pytest.fixture(scope="module")
def limits_release(tmp_path_factory):
    return _release(LIMITS, "93_limits", tmp_path_factory.mktemp("limits_course"))


ANSWERS_93 = {"j93_double": "def double(x):\n    return x + x\n", "j93_stub": "a = 1\n",
              "j93_triple": "def triple(x):\n    return x * 3\n"}


def test_data_files_environment_and_stub_solution(limits_release, tmp_path):
    _write(tmp_path / "subs", "alice", "93_limits", _answer(limits_release, ANSWERS_93))
    row = _grade(tmp_path / "subs", tmp_path / "out", LIMITS)["alice"]
    assert (row.score, row.status) == (3, "ok"), row.messages


def test_slow_instructor_cell_is_named_and_earned_points_kept(limits_release, tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_SLOW", "1")  # the trusted process inherits it; the sandbox's environment is clear
    _write(tmp_path / "subs", "alice", "93_limits", _answer(limits_release, ANSWERS_93))
    row = _grade(tmp_path / "subs", tmp_path / "out", LIMITS, "--cell-timeout", "3")["alice"]
    assert (row.score, row.status) == (2, "error"), row.messages
    assert any("the instructor's cell" in m and "(not yours)" in m for m in row.messages), row.messages


# ------------------------------------------------------------------ nbgrader's own example course
@pytest.mark.skipif(not USER_GUIDE.is_dir(), reason="nbgrader's user guide is not installed")
def test_nbgrader_example_course_scores_as_stock(tmp_path):
    """Stock nbgrader 0.9.6 autograde gives bitdiddle 1.5 and hacker 3.0 automatic points on ps1 (its own
    docs/source/user_guide/grades.csv, manual points left out): `sum_of_squares_uses_squares` does
    `del squares` and expects a NameError from the student's function."""
    shutil.copytree(USER_GUIDE / "source", tmp_path / "source", ignore=shutil.ignore_patterns("header.ipynb"))
    subs = tmp_path / "submitted"
    for student in ("bitdiddle", "hacker"):
        shutil.copytree(USER_GUIDE / "submitted" / student, subs / student)
    rows = _grade(subs, tmp_path / "out", tmp_path / "source")
    assert {s: (r.score, r.status) for s, r in rows.items()} == {"bitdiddle": (1.5, "ok"), "hacker": (3.0, "ok")}, \
        {s: (r.scores, r.messages) for s, r in rows.items()}


@pytest.mark.skipif(not (NBGRADER / "tests" / "apps" / "files").is_dir(), reason="nbgrader's test files missing")
def test_nbgrader_test_notebooks_data_file_and_environment(tmp_path):
    """nbgrader's own autograde test notebooks (nbformat 4.0 and 4.1, no cell ids), as stock 0.9.6 scores them:
    `open_relative_file` reads the assignment's data.txt (10/10), `validating-environment-variable` fails when
    NBGRADER_EXECUTION is set, as it is while autograding (0/1)."""
    files = NBGRADER / "tests" / "apps" / "files"
    for folder, names in ((tmp_path / "source" / "files", ("data.txt",)), (tmp_path / "subs" / "alice" / "files", ())):
        folder.mkdir(parents=True)
        for name in ("open_relative_file.ipynb", "validating-environment-variable.ipynb", *names):
            shutil.copyfile(files / name, folder / name)
    row = _grade(tmp_path / "subs", tmp_path / "out", tmp_path / "source")["alice"]
    assert row.scores == {"open_relative_file/open_file": 10.0,
                          "validating-environment-variable/cell-bfbdf1784663b6b6": 0.0}
    assert (row.score, row.status) == (10.0, "ok"), row.messages


# ------------------------------------------------------------------ 95_outputs: the student's own outputs
OUTPUTS = ROOT / "tests" / "fixtures" / "judge_outputs" / "solutions"


def test_feedback_shows_the_students_own_outputs_and_figures(tmp_path):
    """An ordinary cell after a wrong `scale` prints the student's value (127.5000), not the grader's (0.5000),
    with one note that the tests used the grader's own values; its figure is the student's; after a hidden call,
    nothing the student's code makes is shown. A right answer's outputs match the grader's: no note."""
    release = _release(OUTPUTS, "95_outputs", tmp_path / "course")
    answers = {"right": "def scale(x):\n    return np.asarray(x, dtype=np.float64) / 255.0\n",
               "wrong": "def scale(x):\n    return np.asarray(x, dtype=np.float64) * 1.0\n"}
    for student, code in answers.items():
        _write(tmp_path / "subs", student, "95_outputs", _answer(release, {"j95_scale": code}))
    rows = _grade(tmp_path / "subs", tmp_path / "out", OUTPUTS)
    assert {s: (r.score, r.status) for s, r in rows.items()} == {"right": (1, "ok"), "wrong": (0, "ok")}
    pages = {s: html.unescape(re.sub(r"<[^>]+>", "", (tmp_path / "out" / "feedback" / s / "95_outputs" /
                                                       "95_outputs.html").read_text())) for s in answers}
    raw = {s: (tmp_path / "out" / "feedback" / s / "95_outputs" / "95_outputs.html").read_text() for s in answers}
    assert "mean scaled pixel: 127.5000" in pages["wrong"] and "mean scaled pixel: 0.5000" not in pages["wrong"]
    assert pages["wrong"].count("the tests use the grader's values") == 1
    assert "mean scaled pixel: 0.5000" in pages["right"] and "the tests use the grader's values" not in pages["right"]
    for student in answers:
        assert raw[student].count("data:image/png;base64") == 1, student  # the student's figure
    # the right answer's hidden call happened before the last cell: whatever the grader does with that cell,
    # nothing the student's code prints there is shown (taint rule)
    assert "after the tests: 1.0000" not in pages["right"]


# ------------------------------------------------------------------ 96_wire: rich objects passed in
WIRE = ROOT / "tests" / "fixtures" / "judge_wire" / "solutions"
SGD_OK = ("def sgd_update(w, b, x, y, learning_rate):\n    with tf.GradientTape() as tape:\n"
          "        loss = tf.reduce_mean((tf.linalg.matvec(x, w) + b - y) ** 2)\n    dw, db = tape.gradient(loss, [w, b])\n"
          "    w.assign_sub(learning_rate * dw)\n    b.assign_sub(learning_rate * db)\n    return float(loss)\n")
FIT_OK = ("def fit_epoch(model, optimizer, dataset):\n    losses = []\n    for xb, yb in dataset:\n"
          "        with tf.GradientTape() as tape:\n            loss = keras.losses.MeanSquaredError()(yb, model(xb))\n"
          "        grads = tape.gradient(loss, model.trainable_variables)\n"
          "        optimizer.apply_gradients(zip(grads, model.trainable_variables))\n"
          "        losses.append(float(loss))\n    return losses\n")
WIRE_CASES = {
    "perfect": ({"j96_sgd_update": SGD_OK, "j96_fit_epoch": FIT_OK,
                 "j96_make_optimizer": "def make_optimizer():\n    return keras.optimizers.Adam(learning_rate=0.01)\n"}, 3),
    # the right losses, but nothing reaches the objects it was given: a new tensor instead of assign_sub, a
    # copy of the model trained; and plain SGD where Adam was asked for
    "copies": ({"j96_sgd_update": SGD_OK.replace("    w.assign_sub(learning_rate * dw)\n", "    w = w - learning_rate * dw\n"),
                "j96_fit_epoch": FIT_OK.replace("    losses = []\n", "    losses = []\n"
                                                "    model = keras.models.clone_model(model)\n"),
                "j96_make_optimizer": "def make_optimizer():\n    return keras.optimizers.SGD(learning_rate=0.01)\n"}, 0),
    # a step in the wrong direction (gradient ascent) and Adam at the default learning rate
    "ascent": ({"j96_sgd_update": SGD_OK.replace("assign_sub", "assign_add"), "j96_fit_epoch": FIT_OK,
                "j96_make_optimizer": "def make_optimizer():\n    return keras.optimizers.Adam()\n"}, 1),
}


def _graded_cases(tmp_path: Path, source: Path, assignment: str, cases: dict) -> dict:
    """Each case {student: ({grade_id: answer}, score)} graded (generous limits: TensorFlow in both processes on
    a loaded machine), every row checked to get its score with status ok; the rows by student."""
    release = _release(source, assignment, tmp_path / "course")
    for student, (cells, _score) in cases.items():
        _write(tmp_path / "subs", student, assignment, _answer(release, cells))
    rows = _grade(tmp_path / "subs", tmp_path / "out", source, "--cell-timeout", "600", "--notebook-timeout", "1800")
    assert {s: (r.score, r.status) for s, r in rows.items()} == {
        s: (score, "ok") for s, (_cells, score) in cases.items()}, {s: (r.scores, r.messages) for s, r in rows.items()}
    return rows


def test_rich_arguments_cross_and_their_new_state_comes_back(tmp_path):
    """Variables, a Keras model, an optimizer and a tf.data dataset built by the test are rebuilt in the student
    process; after the call the variables' values and the model's weights come back to the test's objects; an
    optimizer the student returns is rebuilt here from its config (a real Adam, or not)."""
    rows = _graded_cases(tmp_path, WIRE, "96_wire", WIRE_CASES)
    assert rows["ascent"].scores["j96_test_fit_epoch"] == 1.0


# ------------------------------------------------------------------ 97_graph: TF1 graphs, checked and imported
GRAPH = ROOT / "tests" / "fixtures" / "judge_graph" / "solutions"
DENSE_OK = ('def dense(x, units):\n    with v1.variable_scope("dense"):\n'
            '        w = v1.get_variable("w", (int(x.shape[1]), units), tf.float32, v1.zeros_initializer())\n'
            '        b = v1.get_variable("b", (units,), tf.float32, v1.ones_initializer())\n'
            '    return tf.nn.relu(tf.matmul(x, w) + b)\n')
TRAIN_OK = ('def train_op(loss, learning_rate):\n    step = v1.train.get_or_create_global_step()\n'
            '    v1.summary.scalar("loss", loss)\n'
            '    return v1.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=step)\n')
GRAPH_CASES = {
    "perfect": ({"j97_dense": DENSE_OK, "j97_train_op": TRAIN_OK}, 2),
    # right on the public input (relu changes nothing there), wrong on the hidden one; no global step
    "wrong": ({"j97_dense": DENSE_OK.replace("tf.nn.relu(tf.matmul(x, w) + b)", "tf.matmul(x, w) + b"),
               "j97_train_op": TRAIN_OK.replace(", global_step=step", "")}, 0),
    # Python callbacks in the graph: tf.numpy_function, and a tf.function whose library holds a PyFunc
    "callbacks": ({"j97_dense": DENSE_OK.replace("    return tf.nn.relu(tf.matmul(x, w) + b)\n",
                                                 "    y = tf.nn.relu(tf.matmul(x, w) + b)\n"
                                                 "    return tf.numpy_function(lambda a: a, [y], tf.float32)\n"),
                   "j97_train_op": TRAIN_OK.replace(
                       "    return v1.train", "    @tf.function\n    def spy(t):\n"
                       "        return tf.numpy_function(lambda a: a, [t], tf.float32)\n"
                       "    loss = loss + 0.0 * spy(loss)\n    return v1.train")}, 0),
    # file operations in the graph: a read and a write
    "files": ({"j97_dense": DENSE_OK.replace("    return tf.nn.relu(",
                                             "    n = tf.strings.length(tf.io.read_file('/etc/hostname'))\n"
                                             "    b = b + 0.0 * tf.cast(n, tf.float32)\n    return tf.nn.relu("),
               "j97_train_op": TRAIN_OK.replace(
                   "    return v1.train", "    with tf.control_dependencies([tf.io.write_file('/tmp/x', "
                   "tf.strings.as_string(loss))]):\n        loss = tf.identity(loss)\n    return v1.train")}, 0),
}


def test_tf1_graphs_cross_checked_and_are_run_by_the_test(tmp_path):
    """A TF1 exercise called on the test's graph tensors: the graph crosses as a MetaGraphDef, the student's new
    nodes come back as a GraphDef, every op type (also inside the function library) is checked against
    graphwire.ALLOWED_OPS, the nodes are imported into the test's graph with their variables (VariableDef) and
    collections (summaries, the global step), and the test's own Session runs them. Python callbacks and file
    operations are refused with a message."""
    _graded_cases(tmp_path, GRAPH, "97_graph", GRAPH_CASES)
    pages = {s: html.unescape(re.sub(r"<[^>]+>", "", (tmp_path / "out" / "feedback" / s / "97_graph" /
                                                       "97_graph.html").read_text())) for s in GRAPH_CASES}
    assert "PyFunc (tf.py_func / tf.numpy_function)" in pages["callbacks"]
    assert "inside the function" in pages["callbacks"]
    assert "ReadFile" in pages["files"] and "WriteFile" in pages["files"]
    assert "one step adds 1 to the global step" in pages["wrong"]


def _graph_def(build):
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        build(tf, tf.compat.v1)
    return graph.as_graph_def()


@pytest.mark.parametrize("case", ["py_func", "eager_py_func", "read_file", "write_file", "saver", "library",
                                  "unknown_function", "print"])
def test_graph_allow_list_refuses(case):
    builds = {
        "py_func": lambda tf, v1: tf.numpy_function(lambda a: a, [tf.constant(1.0)], tf.float32),
        "eager_py_func": lambda tf, v1: tf.py_function(lambda a: a, [tf.constant(1.0)], tf.float32),
        "read_file": lambda tf, v1: tf.io.read_file("/etc/hostname"),
        "write_file": lambda tf, v1: tf.io.write_file("/tmp/x", "y"),
        "saver": lambda tf, v1: (v1.get_variable("v", initializer=1.0), v1.train.Saver()),
        "library": lambda tf, v1: tf.function(lambda t: tf.numpy_function(lambda a: a, [t], tf.float32))(
            tf.constant(1.0)),
        "unknown_function": lambda tf, v1: tf.constant(1.0),
        "print": lambda tf, v1: tf.print(tf.constant(1.0)),
    }
    graph_def = _graph_def(builds[case])
    if case == "unknown_function":  # a call of a function the graph does not define (one of the grader's?)
        node = graph_def.node.add(name="call", op="PartitionedCall")
        node.attr["f"].func.name = "someone_elses_function"
    with pytest.raises(graphwire.GraphRefused) as info:
        graphwire.check_graph_def(graph_def)
    expected = {"py_func": "PyFunc", "eager_py_func": "EagerPyFunc", "read_file": "ReadFile",
                "write_file": "WriteFile", "saver": "SaveV2", "library": "PyFunc (inside the function",
                "unknown_function": "does not define", "print": "PrintV2"}[case]
    assert expected in str(info.value)


def test_graph_allow_list_accepts_the_course_graphs():
    """06's whole training graph (inference, loss, Adam and SGD training, evaluation, summaries) but its Saver."""
    def build(tf, v1):
        x = v1.placeholder(tf.float32, (None, 6))
        y = v1.placeholder(tf.int32, (None,))
        with v1.variable_scope("layer"):
            w = v1.get_variable("w", (6, 3), tf.float32, v1.truncated_normal_initializer(stddev=0.4))
            b = v1.get_variable("b", (3,), tf.float32, v1.zeros_initializer())
        logits = tf.matmul(tf.nn.relu(x), w) + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        step = v1.train.get_or_create_global_step()
        v1.summary.scalar("loss", loss)
        rate = v1.train.exponential_decay(0.01, step, 10, 0.8, staircase=True)
        v1.train.AdamOptimizer(rate).minimize(loss, global_step=step)
        v1.train.GradientDescentOptimizer(rate).minimize(loss)
        tf.reduce_sum(tf.cast(tf.nn.in_top_k(predictions=logits, targets=y, k=1), tf.int32))
        v1.summary.merge_all()
        v1.global_variables_initializer()

    graphwire.check_graph_def(_graph_def(build))


# ------------------------------------------------------------------ 98_frames: DataFrames, arguments changed in place
FRAMES = ROOT / "tests" / "fixtures" / "judge_frames" / "solutions"
CENTERED_OK = "def centered(x):\n    return x - x.mean()\n"
FILLED_OK = "def filled(frame, column):\n    return frame.fillna({column: frame[column].median()})\n"
FRAMES_CASES = {
    "perfect": ({"j98_centered": CENTERED_OK, "j98_filled": FILLED_OK}, 2),
    # the right values, but computed in the caller's array / frame: in the grader's process the test's own
    # objects never change (they crossed as copies), so only changed_arguments() can tell
    "overwrites_array": ({"j98_centered": "def centered(x):\n    x -= x.mean()\n    return x\n",
                          "j98_filled": FILLED_OK}, 1),
    "fills_in_place": ({"j98_centered": CENTERED_OK,
                        "j98_filled": "def filled(frame, column):\n"
                                      "    frame.fillna({column: frame[column].median()}, inplace=True)\n"
                                      "    return frame\n"}, 1),
}


def test_frames_cross_and_changed_arguments_report_mutation(tmp_path):
    """A DataFrame (float, str, categorical and int columns, a named string index) crosses both ways as a real
    DataFrame; a function that overwrites its input array, or fills the given frame in place, is caught by
    grader_judge.changed_arguments() (the test's own objects are copies there, unchanged); an honest one is not."""
    rows = _graded_cases(tmp_path, FRAMES, "98_frames", FRAMES_CASES)
    assert rows["overwrites_array"].scores["j98_test_centered"] == 0.0
    assert rows["fills_in_place"].scores["j98_test_filled"] == 0.0
    html = (tmp_path / "out" / "feedback" / "fills_in_place" / "98_frames" / "98_frames.html").read_text()
    assert "leave the frame unchanged: fill a copy" in html


def test_plainwire_frames_round_trip_typed_and_refuse_malformed():
    import pandas as pd

    import plainwire as wire

    def no_ref(obj):
        raise wire.Unsendable(type(obj).__name__)

    frame = pd.DataFrame({"x": [1.5, np.nan, 2.0], "s": ["a", None, "c"], "c": pd.Categorical(["u", "v", "u"]),
                          "t": pd.to_datetime(["2020-01-01"] * 3), 7: [True, False, True]},
                         index=pd.Index([10, 20, 40], name="row"))
    for value in (frame, frame["s"], frame.reset_index(drop=True), frame.iloc[:0], pd.Series([1, 2], name=None)):
        arrays: list[bytes] = []
        form = wire.encode(value, arrays, no_ref)
        assert "pickle" not in json.dumps(form)
        back = wire.decode(form, arrays, None)
        assert type(back) is type(value)
        (pd.testing.assert_frame_equal if isinstance(value, pd.DataFrame) else pd.testing.assert_series_equal)(
            back, value)
    rich: list = []
    arrays = []
    form = wire.encode([frame, [frame, frame["x"]]], arrays, no_ref, rich=rich)
    made: list = []
    first, (again, _series) = wire.decode(form, arrays, None, made=made)
    assert first is again and len(made) == len(rich) == 2  # one object where the caller had one
    for bad in (pd.DataFrame({"o": [object()]}), pd.DataFrame({"i": pd.array([1, None], dtype="Int64")}),
                pd.DataFrame({"x": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)]))):
        with pytest.raises(wire.Unsendable):
            wire.encode(bad, [], no_ref)
    arrays = []
    good = wire.encode(frame, arrays, no_ref)
    broken = [dict(good, n=4), dict(good, names=["x"]), dict(good, index={"range": [0, 3, 0]}),
              dict(good, cols=[{"k": "str", "v": ["a", 1, "c"]}] + good["cols"][1:]),
              dict(good, cols=[{"k": "num", "i": 99}] + good["cols"][1:]),
              dict(good, cols=[{"k": "pickle", "v": "x"}] + good["cols"][1:]),
              dict(good, cols=[good["cols"][0], good["cols"][1], dict(good["cols"][2], codes=0)] + good["cols"][3:]),
              dict(good, names=[{"t": "ref"}] * 5), dict(good, t="series")]
    for form in broken:
        with pytest.raises(wire.WireError):
            wire.decode(form, arrays, None)


def _session_form(function):
    """What the student process sends for a call of `function`: its Session.run records, through the wire."""
    import plainwire as wire
    import student_runner

    with student_runner._SessionRecorder() as recorder:
        returned = function()
    arrays: list = []
    sent = wire.encode(recorder.form(), arrays, student_runner._no_ref)
    return wire.decode(sent, arrays, trusted._no_reference), returned


def _helper_cell() -> dict:
    """04's helper cell (recorded_session_runs, check_graph_runs) run as a test cell would, grader_judge absent."""
    import tensorflow as tf

    nb = json.loads((ROOT / "solutions" / "04_graphs_and_sessions" / "04_graphs_and_sessions.ipynb").read_text())
    source = next(c["source"] for c in nb["cells"] if "def check_graph_runs" in "".join(c["source"]))
    namespace = {"np": np, "tf": tf, "v1": tf.compat.v1}
    exec("".join(source), namespace)  # noqa: S102 (the instructor's own cell)
    return namespace


def test_session_runs_are_replayed_here_refused_or_caught_when_forged():
    """grader_judge.session_runs: the student process records each Session.run of a call (student_runner's
    _SessionRecorder), the trusted side checks each graph against the allow-list and runs it again in its own
    Session (graphwire.replay_session_runs); 04's check_graph_runs compares what the function returned with that
    re-run, so a record that does not reproduce it (forged) fails, and a graph with a PyFunc is refused."""
    import tensorflow as tf

    v1 = tf.compat.v1

    def honest(z=np.array([-1.0, 0.0, 2.0])):
        with tf.Graph().as_default():
            x = v1.placeholder(tf.float32, name="x")
            sigma = tf.sigmoid(x)
            counter = v1.get_variable("counter", initializer=1.0)
            bump = v1.assign_add(counter, 2.0)
            with v1.Session() as session:
                session.run(v1.global_variables_initializer())
                session.run(bump)
                return session.run({"s": sigma, "c": [counter]}, feed_dict={x: z})

    form, returned = _session_form(honest)
    records = graphwire.replay_session_runs(form, 10.0)
    assert [r["error"] for r in records] == [None, None, None] and form["dropped"] == 0
    assert "Sigmoid" in records[2]["op_types"] and records[2]["placeholders"] == [("x:0", "float32", None)]
    assert records[2]["fetch_names"] == {"s": "Sigmoid:0", "c": ["counter/Read/ReadVariableOp:0"]}
    np.testing.assert_array_equal(records[2]["values"]["s"], returned["s"])
    assert records[2]["values"]["c"][0] == 3.0  # the runs before it, in the same session: the state carries over
    helper = _helper_cell()
    for r in records:
        r.update(call=1, returned=returned)
    assert len(helper["check_graph_runs"](records, ["Sigmoid"], placeholders_fed=1)) == 1

    # forged: the student's code rewrites its record (here: the feed) so that a graph with a Sigmoid seems to
    # have computed a value it did not compute; the grader's re-run gives other values
    form["runs"][2]["feed"][0][1] = np.zeros(3)
    forged = graphwire.replay_session_runs(form, 10.0)
    for r in forged:
        r.update(call=1, returned=returned)
    with pytest.raises(AssertionError, match="the grader ran your graph again and got other values"):
        helper["check_graph_runs"](forged, ["Sigmoid"], placeholders_fed=1)

    def callback():  # the value computed by Python inside the graph: the grader does not run it
        with tf.Graph().as_default():
            x = v1.placeholder(tf.float32, name="x")
            sigma = tf.numpy_function(lambda a: 1 / (1 + np.exp(-a)), [tf.sigmoid(x)], tf.float32)
            with v1.Session() as session:
                return session.run(sigma, feed_dict={x: np.ones(2, np.float32)})

    form, _ = _session_form(callback)
    with pytest.raises(graphwire.GraphRefused, match=r"PyFunc \(tf.py_func / tf.numpy_function\)"):
        graphwire.replay_session_runs(form, 10.0)


def test_strategies_cross_as_their_description():
    """A tf.distribute strategy crosses as what it is (the default one, or a MirroredStrategy over local
    devices), never as an object; the student process makes one per device list and reuses it (12's
    make_mnist_model(strategy)). Whether the student's variables were mirrored never comes back: 12's test reads
    the scope from the submitted source."""
    import tensorflow as tf

    import student_runner
    import plainwire as wire

    default = trusted._rich_form(tf.distribute.get_strategy(), [])
    assert default == {"kind": "strategy", "strategy": "default"}
    mirrored = tf.distribute.MirroredStrategy(["/CPU:0"])
    form = trusted._rich_form(mirrored, [])
    assert form["kind"] == "strategy" and form["strategy"] == "mirrored" and len(form["devices"]) == 1
    made = student_runner._rebuild_rich(form, [], None)
    assert isinstance(made, tf.distribute.MirroredStrategy) and made.num_replicas_in_sync == 1
    assert student_runner._rebuild_rich(form, [], None) is made  # one per device list
    assert student_runner._rebuild_rich(default, [], None) is tf.distribute.get_strategy()
    with pytest.raises(wire.Unsendable):
        trusted._rich_form(tf.distribute.OneDeviceStrategy("/CPU:0"), [])
    for bad in ({"kind": "strategy", "strategy": "tpu"}, {"kind": "strategy", "strategy": "mirrored", "devices": []}):
        with pytest.raises(wire.WireError):
            student_runner._rebuild_rich(bad, [], None)
