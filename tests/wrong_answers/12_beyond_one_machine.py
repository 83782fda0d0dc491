"""Wrong answers to 12's exercises (format: tests/test_wrong_answers.py).

12 is graded in the trusted process: a strategy crosses to the student's code as its description (the default
one, or a MirroredStrategy over the same local devices) and the model comes back as config + weights + compile
config, so whether its variables were made inside `strategy.scope()` is read from the submitted source (the
grader's copy of the cell, an `ast` check), never from the student process."""

MODEL = ("# GRADED FUNCTION: make_mnist_model\nimport keras\nfrom keras import layers\n\n\n"
         "def make_mnist_model(strategy, hidden=128, learning_rate=1e-3):\n")
LAYERS = ("keras.Sequential([keras.Input((784,)), layers.Dense({hidden}, activation=\"relu\"),\n"
          "                                  layers.Dense(10, activation=\"{out}\")])")
COMPILE = ("model.compile(optimizer=keras.optimizers.Adam({lr}),\n"
           "                      loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"])")


def _model(hidden="hidden", out="softmax", lr="learning_rate", compile_=COMPILE, inside=True):
    build = "model = " + LAYERS.format(hidden=hidden, out=out)
    compile_ = compile_.format(lr=lr)
    if inside:
        return MODEL + f"    with strategy.scope():\n        {build}\n        {compile_}\n    return model\n"
    return MODEL + f"    with strategy.scope():\n        {build}\n    {compile_}\n    return model\n"


CONFIG = "# GRADED FUNCTION: make_tf_config\nimport json\n\n\ndef make_tf_config(cluster, task_type, index):\n"
DUMPS = "    return json.dumps({\"cluster\": cluster, \"task\": {\"type\": task_type, \"index\": index}})\n"

WRONG_ANSWERS = [
    # Exercise 1: make_mnist_model
    dict(exercise="n12_make_mnist_model", name="model built outside strategy.scope()",
         source=MODEL + "    model = " + LAYERS.format(hidden="hidden", out="softmax") + "\n    with strategy.scope():\n"
                "        " + COMPILE.format(lr="learning_rate") + "\n    return model\n",
         scores={"n12_test_make_mnist_model": 0},
         says='create the model inside `with strategy.scope():`'),
    dict(exercise="n12_make_mnist_model", name="compile (the optimizer) outside the scope",
         source=_model(inside=False),
         scores={"n12_test_make_mnist_model": 0},
         says='call compile (which makes the optimizer and its variables) inside'),
    dict(exercise="n12_make_mnist_model", name="128 hidden units hard-coded",
         source=_model(hidden="128"),
         scores={"n12_test_make_mnist_model": 0},
         says='use `hidden`'),
    dict(exercise="n12_make_mnist_model", name="learning rate ignored (Adam's default)",
         source=_model(lr=""),
         scores={"n12_test_make_mnist_model": 0},
         says='keras.optimizers.Adam(learning_rate): use the argument'),
    dict(exercise="n12_make_mnist_model", name="metrics passed positionally (Keras 3: loss_weights)",
         source=_model(compile_="model.compile(keras.optimizers.Adam({lr}), \"sparse_categorical_crossentropy\", "
                                "[\"accuracy\"])"),
         scores={"n12_test_make_mnist_model": 0},
         says='the compiled model must train'),
    dict(exercise="n12_make_mnist_model", name="the default strategy's scope, not the argument's",
         source=MODEL.replace("import keras\n", "import keras\nimport tensorflow as tf\n") + "    with tf.distribute.get_strategy().scope():\n        model = "
                + LAYERS.format(hidden="hidden", out="softmax") + "\n        " + COMPILE.format(lr="learning_rate")
                + "\n    return model\n",
         scores={"n12_test_make_mnist_model": 0},
         says="create the model inside `with strategy.scope():`"),
    dict(exercise="n12_make_mnist_model", name="a helper builds the model before the scope",
         source=MODEL.replace("def make_mnist_model", "def build(hidden):\n    return " + LAYERS.format(
             hidden="hidden", out="softmax") + "\n\n\ndef make_mnist_model") + "    model = build(hidden)\n"
                + "    with strategy.scope():\n        " + COMPILE.format(lr="learning_rate") + "\n    return model\n",
         scores={"n12_test_make_mnist_model": 0},
         says="create the model inside `with strategy.scope():`"),
    dict(exercise="n12_make_mnist_model", name="built outside the scope, disguised in its own process",
         # a disguise in the student's own process (measured: the old in-sandbox test also gave it 0/3, through its
         # check that the single-device model is not mirrored, which this crude patch fails); here the source decides
         source=MODEL + "    import tensorflow as tf\n    model = " + LAYERS.format(hidden="hidden", out="softmax")
                + "\n    " + COMPILE.format(lr="learning_rate") + "\n"
                + "    tf.distribute.DistributedValues = object  # every variable 'is mirrored' to isinstance here\n"
                + "    model.optimizer._distribution_strategy = strategy\n    return model\n",
         scores={"n12_test_make_mnist_model": 0},
         says="create the model inside `with strategy.scope():`"),
    # Exercise 2: make_tf_config
    dict(exercise="n12_make_tf_config", name="returns the dict, not its JSON text",
         source=CONFIG + "    return {\"cluster\": cluster, \"task\": {\"type\": task_type, \"index\": index}}\n",
         scores={"n12_test_make_tf_config": 0},
         says='return the JSON text (a str, from json.dumps), not a dict'),
    dict(exercise="n12_make_tf_config", name="no validation",
         source=CONFIG + DUMPS,
         scores={"n12_test_make_tf_config": 0},
         says='index 1 of a one-worker cluster must raise ValueError'),
    dict(exercise="n12_make_tf_config", name="negative index accepted (Python indexing)",
         source=CONFIG + "    if task_type not in cluster:\n        raise ValueError(task_type)\n"
                         "    if index >= len(cluster[task_type]):\n        raise ValueError(index)\n" + DUMPS,
         scores={"n12_test_make_tf_config": 0},
         says='or a negative index'),
    dict(exercise="n12_make_tf_config", name="KeyError for an unknown role",
         source=CONFIG + "    if not 0 <= index < len(cluster[task_type]):\n        raise ValueError(index)\n" + DUMPS,
         scores={"n12_test_make_tf_config": 0},
         says='raise ValueError, not another exception'),
    dict(exercise="n12_make_tf_config", name="the task's own role only in the cluster",
         source=CONFIG + "    if task_type not in cluster or not 0 <= index < len(cluster[task_type]):\n"
                         "        raise ValueError(index)\n"
                         "    return json.dumps({\"cluster\": {task_type: cluster[task_type]}, "
                         "\"task\": {\"type\": task_type, \"index\": index}})\n",
         scores={"n12_test_make_tf_config": 0},
         says='for every role (chief, worker, ps)'),
]
