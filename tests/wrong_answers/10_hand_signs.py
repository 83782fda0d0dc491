"""Wrong answers to 10's exercises (format: tests/test_wrong_answers.py).

No `says`: this notebook is graded with its tests in the sandbox (autograder/nbgrader_config.py), where the
feedback shows no check's message; the hidden tests' messages (checked with a local run of the test cells)
teach where the tests run in the trusted process."""

INIT = "# GRADED FUNCTION: initialize_parameters\ndef initialize_parameters(layer_dims, seed=0):\n"
FORWARD = "# GRADED FUNCTION: forward_propagation\ndef forward_propagation(X, parameters):\n"
COST = "# GRADED FUNCTION: compute_cost\ndef compute_cost(logits, labels):\n"
MODEL = ("# GRADED FUNCTION: build_tf2_model\nimport keras\nfrom keras import layers\n\n\n"
         "def build_tf2_model(n_inputs, n_classes=10, seed=0):\n")
AUGMENT = "# GRADED FUNCTION: make_augmentation\ndef make_augmentation(seed=0):\n"


def _init(draw, limit="np.sqrt(6.0 / (n_in + n_out))", rng="np.random.default_rng(seed)"):
    return (INIT + f"    rng = {rng}\n    parameters = {{}}\n"
            "    for l in range(1, len(layer_dims)):\n"
            "        n_in, n_out = layer_dims[l - 1], layer_dims[l]\n"
            f"        limit = {limit}\n"
            f"        parameters[f\"W{{l}}\"] = tf.Variable({draw}.astype(np.float32))\n"
            "        parameters[f\"b{l}\"] = tf.Variable(np.zeros(n_out, dtype=np.float32))\n"
            "    return parameters\n")


def _compiled_with(optimizer):
    return f'optimizer={optimizer},\n                  loss="sparse_categorical_crossentropy", metrics=["accuracy"]'


def _model(out="softmax", compile_args=_compiled_with("keras.optimizers.Adam(1e-3)"),
           glorot="keras.initializers.GlorotUniform(seed)", n_out="n_classes"):
    return (MODEL + f"    glorot = {glorot}\n"
            "    model = keras.Sequential([keras.Input((n_inputs,)),\n"
            "                              layers.Dense(25, activation=\"relu\", kernel_initializer=glorot),\n"
            "                              layers.Dense(12, activation=\"relu\", kernel_initializer=glorot),\n"
            f"                              layers.Dense({n_out}, activation=\"{out}\", kernel_initializer=glorot)])\n"
            f"    model.compile({compile_args})\n"
            "    return model\n")


def _augment(*layer_lines):
    return AUGMENT + "    return keras.Sequential([" + ",\n                             ".join(layer_lines) + "])\n"


ROT, TRANS, ZOOM = ("layers.RandomRotation(0.05, seed=seed)", "layers.RandomTranslation(0.1, 0.1, seed=seed)",
                    "layers.RandomZoom(0.1, seed=seed)")
BRIGHT = "layers.RandomBrightness(0.2, value_range=(0, 1), seed=seed)"

WRONG_ANSWERS = [
    # Exercise 1: initialize_parameters
    dict(exercise="n10_initialize_parameters", name="small normal draws (0.01 * randn), the pre-Glorot habit",
         source=_init("0.01 * rng.standard_normal((n_in, n_out))"),
         scores={"n10_test_initialize_parameters": 0}, says='Glorot uniform'),
    dict(exercise="n10_initialize_parameters", name="Glorot normal instead of uniform",
         source=_init("rng.normal(0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))"),
         scores={"n10_test_initialize_parameters": 0}, says='Glorot uniform'),
    dict(exercise="n10_initialize_parameters", name="limit from n_in only (He uniform)",
         source=_init("rng.uniform(-limit, limit, size=(n_in, n_out))", limit="np.sqrt(6.0 / n_in)"),
         scores={"n10_test_initialize_parameters": 0}, says='sqrt(6 / (n_in + n_out))'),
    dict(exercise="n10_initialize_parameters", name="ignores the seed",
         source=_init("rng.uniform(-limit, limit, size=(n_in, n_out))", rng="np.random.default_rng()"),
         scores={"n10_test_initialize_parameters": 0}, says='the same seed must give the same weights'),
    # Exercise 2: forward_propagation
    dict(exercise="n10_forward_propagation", name="softmax on the output",
         source=FORWARD + "    A1 = tf.nn.relu(tf.matmul(X, parameters[\"W1\"]) + parameters[\"b1\"])\n"
                          "    A2 = tf.nn.relu(tf.matmul(A1, parameters[\"W2\"]) + parameters[\"b2\"])\n"
                          "    return tf.nn.softmax(tf.matmul(A2, parameters[\"W3\"]) + parameters[\"b3\"])\n",
         scores={"n10_test_forward_propagation": 0}, says='no softmax in forward_propagation'),
    dict(exercise="n10_forward_propagation", name="second ReLU missing",
         source=FORWARD + "    A1 = tf.nn.relu(tf.matmul(X, parameters[\"W1\"]) + parameters[\"b1\"])\n"
                          "    A2 = tf.matmul(A1, parameters[\"W2\"]) + parameters[\"b2\"]\n"
                          "    return tf.matmul(A2, parameters[\"W3\"]) + parameters[\"b3\"]\n",
         scores={"n10_test_forward_propagation": 0}, says='relu after the first and second'),
    dict(exercise="n10_forward_propagation", name="hidden biases left out (the public example's are zero)",
         source=FORWARD + "    A1 = tf.nn.relu(tf.matmul(X, parameters[\"W1\"]))\n"
                          "    A2 = tf.nn.relu(tf.matmul(A1, parameters[\"W2\"]))\n"
                          "    return tf.matmul(A2, parameters[\"W3\"]) + parameters[\"b3\"]\n",
         scores={"n10_test_forward_propagation": 0}, says='check every bias and relu'),
    dict(exercise="n10_forward_propagation", name="NumPy ops: eager only, no TF1 graph",
         source=FORWARD + "    A1 = np.maximum(0, np.asarray(X) @ np.asarray(parameters[\"W1\"]) + np.asarray(parameters[\"b1\"]))\n"
                          "    A2 = np.maximum(0, A1 @ np.asarray(parameters[\"W2\"]) + np.asarray(parameters[\"b2\"]))\n"
                          "    return tf.constant(A2 @ np.asarray(parameters[\"W3\"]) + np.asarray(parameters[\"b3\"]))\n",
         scores={"n10_test_forward_propagation": 0}, says='must also build a TF1 graph'),
    # Exercise 3: compute_cost
    dict(exercise="n10_compute_cost", name="log of softmax (overflows for large logits)",
         source=COST + "    probs = tf.nn.softmax(logits)\n"
                       "    picked = tf.gather(probs, tf.cast(labels, tf.int32), axis=1, batch_dims=1)\n"
                       "    return -tf.reduce_mean(tf.math.log(picked))\n",
         scores={"n10_test_compute_cost": 0}, says='never log(softmax(...))'),
    dict(exercise="n10_compute_cost", name="sum over the examples, not the mean",
         source=COST + "    labels = tf.cast(labels, tf.int64)\n"
                       "    return tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))\n",
         scores={"n10_test_compute_cost": 0}, says='the mean cost over the examples'),
    dict(exercise="n10_compute_cost", name="one-hot with 10 classes hard-coded",
         source=COST + "    onehot = tf.one_hot(tf.cast(labels, tf.int32), 10)\n"
                       "    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits))\n",
         scores={"n10_test_compute_cost": 0}, says='any number of classes K'),
    dict(exercise="n10_compute_cost", name="Keras loss without from_logits=True (reads logits as probabilities)",
         source=COST + "    return tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, logits))\n",
         scores={"n10_test_compute_cost": 0}, says='logits, not probabilities'),
    # Exercise 4: build_tf2_model
    dict(exercise="n10_build_tf2_model", name="metrics passed positionally (Keras 3: loss_weights)",
         source=_model(compile_args='keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"]'),
         scores={"n10_test_build_tf2_model": 0}, says='by keyword'),
    dict(exercise="n10_build_tf2_model", name="initialiser without the seed",
         source=_model(glorot="keras.initializers.GlorotUniform()"),
         scores={"n10_test_build_tf2_model": 0}, says='GlorotUniform(seed)'),
    dict(exercise="n10_build_tf2_model", name="10 classes hard-coded",
         source=_model(n_out="10"),
         scores={"n10_test_build_tf2_model": 0}, says='for any n_inputs and n_classes'),
    dict(exercise="n10_build_tf2_model", name="SGD instead of Adam",
         source=_model(compile_args=_compiled_with("keras.optimizers.SGD(1e-3)")),
         scores={"n10_test_build_tf2_model": 0}, says='keras.optimizers.Adam'),
    dict(exercise="n10_build_tf2_model", name="Adam with another learning rate (1e-2)",
         source=_model(compile_args=_compiled_with("keras.optimizers.Adam(1e-2)")),
         scores={"n10_test_build_tf2_model": 0}, says="Adam's learning rate is 1e-3"),
    # Exercise 5: make_augmentation
    dict(exercise="n10_make_augmentation", name="layers in another order",
         source=_augment(TRANS, ROT, ZOOM, BRIGHT),
         scores={"n10_test_make_augmentation": 0}, says='four layers in this order'),
    dict(exercise="n10_make_augmentation", name="RandomBrightness without value_range (assumes 0..255)",
         source=_augment(ROT, TRANS, ZOOM, "layers.RandomBrightness(0.2, seed=seed)"),
         scores={"n10_test_make_augmentation": 0}, says='value_range=(0, 1)'),
    dict(exercise="n10_make_augmentation", name="rotation 0.2 of a turn, not 0.05",
         source=_augment("layers.RandomRotation(0.2, seed=seed)", TRANS, ZOOM, BRIGHT),
         scores={"n10_test_make_augmentation": 0}, says="RandomRotation's factor is 0.05"),
    dict(exercise="n10_make_augmentation", name="no seed passed to the layers",
         source=_augment("layers.RandomRotation(0.05)", "layers.RandomTranslation(0.1, 0.1)",
                         "layers.RandomZoom(0.1)", "layers.RandomBrightness(0.2, value_range=(0, 1))"),
         scores={"n10_test_make_augmentation": 0}, says='pass seed=seed to every layer'),
]
