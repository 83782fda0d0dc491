"""Plausible wrong answers to 06_mnist_tf1, each with the points its test must give (tests/test_wrong_answers.py).

The hostile ones build graphs with operations the grader refuses to import (graphwire.ALLOWED_OPS): a Python
callback (tf.numpy_function / tf.py_function, also inside a tf.function's library), a file read or write."""

_LAYER = '''    def layer(inputs, fan_in, fan_out, scope, activation):
        with tf.compat.v1.variable_scope(scope):
            W = tf.compat.v1.get_variable(
                "weights", (fan_in, fan_out), tf.float32,
                tf.compat.v1.truncated_normal_initializer(stddev=1.0 / np.sqrt(fan_in)))
            bias = tf.compat.v1.get_variable("biases", (fan_out,), tf.float32, tf.compat.v1.zeros_initializer())
            z = tf.matmul(inputs, W) + bias
            return activation(z) if activation else z
'''
_INFERENCE = ("def inference(images, hidden1_units, hidden2_units):\n" + _LAYER +
              "    h1 = layer(images, IMAGE_PIXELS, hidden1_units, 'hidden1', tf.nn.relu)\n"
              "    h2 = layer(h1, hidden1_units, hidden2_units, 'hidden2', tf.nn.relu)\n"
              "    return layer(h2, hidden2_units, NUM_CLASSES, 'softmax_linear', None)\n")
_TRAINING = '''def training(loss_op, learning_rate, optimizer="adam"):
    global_step = tf.compat.v1.train.get_or_create_global_step()
    tf.compat.v1.summary.scalar("loss", loss_op)
    if optimizer == "adam":
        opt = tf.compat.v1.train.AdamOptimizer(learning_rate)
    else:
        opt = tf.compat.v1.train.GradientDescentOptimizer(learning_rate)
    return opt.minimize(loss_op, global_step=global_step)
'''
_REFUSED = "operations the grader does not run"

WRONG_ANSWERS = [
    # ------------------------------------------------------------------ inference
    dict(exercise="n06_inference", name="no ReLU on the second hidden layer",
         source=_INFERENCE.replace("'hidden2', tf.nn.relu", "'hidden2', None"),
         scores={"n06_test_inference": 0}, says="the logits"),
    dict(exercise="n06_inference", name="truncated normal with standard deviation 1 (the default)",
         source=_INFERENCE.replace("stddev=1.0 / np.sqrt(fan_in)", "stddev=1.0"),
         scores={"n06_test_inference": 0}, says="standard deviation 1/√fan_in"),
    dict(exercise="n06_inference", name="initial weights drawn in NumPy (a normal, not truncated)",
         source=_INFERENCE.replace(
             "\"weights\", (fan_in, fan_out), tf.float32,\n"
             "                tf.compat.v1.truncated_normal_initializer(stddev=1.0 / np.sqrt(fan_in)))",
             "\"weights\", dtype=tf.float32,\n"
             "                initializer=np.random.normal(0, 1 / np.sqrt(fan_in), (fan_in, fan_out)).astype(np.float32))"),
         scores={"n06_test_inference": 0}, says="truncated normal"),
    dict(exercise="n06_inference", name="logits computed by a Python callback (tf.numpy_function)",
         source=_INFERENCE.replace(
             "    return layer(h2, hidden2_units, NUM_CLASSES, 'softmax_linear', None)\n",
             "    logits = layer(h2, hidden2_units, NUM_CLASSES, 'softmax_linear', None)\n"
             "    return tf.numpy_function(lambda z: z, [logits], tf.float32)\n"),
         scores={"n06_test_inference": 0}, says="PyFunc"),
    # ------------------------------------------------------------------ loss
    dict(exercise="n06_loss", name="log of the softmax, by hand",
         source="def loss(logits, labels):\n"
                "    p = tf.gather(tf.nn.softmax(logits), labels, axis=1, batch_dims=1)\n"
                "    return tf.reduce_mean(-tf.math.log(p), name='xentropy_mean')\n",
         scores={"n06_test_loss": 0}, says="log(softmax) overflows"),
    dict(exercise="n06_loss", name="sum instead of mean",
         source="def loss(logits, labels):\n"
                "    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)\n"
                "    return tf.reduce_sum(xent, name='xentropy_mean')\n",
         scores={"n06_test_loss": 0}, says="the mean cross-entropy is ln 10"),
    dict(exercise="n06_loss", name="the mean not named xentropy_mean",
         source="def loss(logits, labels):\n"
                "    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)\n"
                "    return tf.reduce_mean(xent)\n",
         scores={"n06_test_loss": 0}, says="named xentropy_mean"),
    dict(exercise="n06_loss", name="reads a file inside the graph (ReadFile)",
         source="def loss(logits, labels):\n"
                "    leak = tf.strings.length(tf.io.read_file('/etc/hostname'))\n"
                "    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)\n"
                "    return tf.add(tf.reduce_mean(xent), 0.0 * tf.cast(leak, tf.float32), name='xentropy_mean')\n",
         scores={"n06_test_loss": 0}, says="ReadFile"),
    # ------------------------------------------------------------------ training
    dict(exercise="n06_training", name="no global step",
         source=_TRAINING.replace("opt.minimize(loss_op, global_step=global_step)", "opt.minimize(loss_op)"),
         scores={"n06_test_training": 0}, says="global step"),
    dict(exercise="n06_training", name="Adam whatever optimizer is asked for",
         source=_TRAINING.replace('if optimizer == "adam":', "if True:"),
         scores={"n06_test_training": 0}, says="GradientDescentOptimizer"),
    dict(exercise="n06_training", name="no loss summary",
         source=_TRAINING.replace('    tf.compat.v1.summary.scalar("loss", loss_op)\n', ""),
         scores={"n06_test_training": 0}, says="summary"),
    dict(exercise="n06_training", name="a tf.function whose library holds a Python callback",
         source=_TRAINING.replace(
             "    return opt.minimize(loss_op, global_step=global_step)\n",
             "    step = opt.minimize(loss_op, global_step=global_step)\n"
             "    @tf.function\n"
             "    def spy(x):\n"
             "        return tf.numpy_function(lambda v: v, [x], tf.float32)\n"
             "    with tf.control_dependencies([spy(loss_op)]):\n"
             "        return tf.group(step)\n"),
         scores={"n06_test_training": 0}, says="inside the function"),
    # ------------------------------------------------------------------ evaluation
    dict(exercise="n06_evaluation", name="the accuracy (a float32 mean) instead of the count",
         source="def evaluation(logits, labels):\n"
                "    return tf.reduce_mean(tf.cast(tf.nn.in_top_k(predictions=logits, targets=labels, k=1), tf.float32))\n",
         scores={"n06_test_evaluation": 0}, says="int32 scalar"),
    dict(exercise="n06_evaluation", name="top 2 instead of top 1",
         source="def evaluation(logits, labels):\n"
                "    return tf.reduce_sum(tf.cast(tf.nn.in_top_k(predictions=logits, targets=labels, k=2), tf.int32))\n",
         scores={"n06_test_evaluation": 0}),
    dict(exercise="n06_evaluation", name="counted in NumPy by a callback (tf.numpy_function)",
         source="def evaluation(logits, labels):\n"
                "    count = lambda z, y: np.int32((z.argmax(1) == y).sum())\n"
                "    return tf.reshape(tf.numpy_function(count, [logits, labels], tf.int32), [])\n",
         scores={"n06_test_evaluation": 0}, says="PyFunc"),
    dict(exercise="n06_evaluation", name="writes a file inside the graph (WriteFile)",
         source="def evaluation(logits, labels):\n"
                "    count = tf.reduce_sum(tf.cast(tf.nn.in_top_k(predictions=logits, targets=labels, k=1), tf.int32))\n"
                "    with tf.control_dependencies([tf.io.write_file('/tmp/seen', tf.strings.as_string(count))]):\n"
                "        return tf.identity(count)\n",
         scores={"n06_test_evaluation": 0}, says="WriteFile"),
]
