"""Plausible wrong answers to 04_graphs_and_sessions, each with the points its test must give
(tests/test_wrong_answers.py). 04's tests run in the trusted process: the Session.run calls of a student's function
are recorded in the student process and re-run by the grader (grader_judge.session_runs), so the helper's checks
read the grader's own re-run. Most are the same mistake in six forms: the answer computed with NumPy, or in a graph
that skips what the exercise names (a placeholder fed through feed_dict, the operation made for the job, one run
fetching several tensors). Two attack the recording itself: a forged record (the student process's recorder
replaced, its record naming a graph with a MatMul that does not compute the returned value) and a Python callback
(tf.numpy_function) in the graph, which the grader refuses to run."""


def _graph(body: str, run: str) -> str:
    """A function body that builds a graph of its own and runs it in a session."""
    return ("    with tf.Graph().as_default():\n" + "".join(f"        {line}\n" for line in body.splitlines())
            + f"        with tf.compat.v1.Session() as session:\n            return session.run({run})\n")


_LINEAR = "def linear_function(W, X, b):\n"
_SIGMOID = "def sigmoid(z):\n"
_COST = "def cost(logits, labels):\n"
_ONE_HOT = "def one_hot_matrix(labels, C):\n"
_F = "def f_and_gradient(x_value, y_value):\n"
_PLACEHOLDERS = "def create_placeholders(n_x, n_y):\n"
_X_Y = ('x = tf.compat.v1.placeholder(tf.float32, shape=(), name="x")\n'
        'y = tf.compat.v1.placeholder(tf.float32, shape=(), name="y")\n'
        "f = x * x * y + y + 2\n")


def _f_graph(rest: str) -> str:
    """f_and_gradient building x, y and f in a graph of its own, then `rest` (indented for that block)."""
    return (_F + "    with tf.Graph().as_default():\n" + "".join(f"        {line}\n" for line in _X_Y.splitlines())
            + rest)


WRONG_ANSWERS = [
    # ------------------------------------------------------------------ linear_function
    dict(exercise="n04_linear_function", name="NumPy: W @ X + b, no graph",
         source=_LINEAR + "    return W @ X + b\n", scores={"n04_test_linear_function": 0},
         says="no tf.compat.v1.Session ran"),
    dict(exercise="n04_linear_function", name="computed in NumPy, then passed through tf.identity",
         source=_LINEAR + _graph("Y = tf.identity(tf.constant(W @ X + b))", "Y"),
         scores={"n04_test_linear_function": 0}),
    dict(exercise="n04_linear_function", name="constants cast to float32 (float64 inputs come back float32)",
         source=_LINEAR + _graph("Y = tf.matmul(tf.constant(W, tf.float32), tf.constant(X, tf.float32))"
                                 " + tf.constant(b, tf.float32)", "Y"),
         scores={"n04_test_linear_function": 0}),
    dict(exercise="n04_linear_function", name="the bias left out",
         source=_LINEAR + _graph("Y = tf.matmul(tf.constant(W), tf.constant(X))", "Y"),
         scores={"n04_test_linear_function": 0}),
    dict(exercise="n04_linear_function", name="NumPy, with a forged Session.run record (a MatMul graph)",
         source=_LINEAR + "    import __main__\n\n    honest = __main__._SessionRecorder.form\n\n"
                "    def forged(self):  # what the grader is told the function ran: a graph with a MatMul\n"
                "        __main__._SessionRecorder.form = honest  # this call only\n"
                "        with tf.Graph().as_default() as g:\n"
                '            tf.matmul(tf.constant(np.ones((1, 1))), tf.constant(np.ones((1, 1))), name="M")\n'
                "        return {'graphs': [np.frombuffer(g.as_graph_def().SerializeToString(), np.uint8)],\n"
                "                'runs': [{'session': 0, 'graph': 0, 'fetches': 'M:0', 'feed': []}], 'dropped': 0}\n\n"
                "    __main__._SessionRecorder.form = forged\n"
                "    return W @ X + b\n",
         scores={"n04_test_linear_function": 0},
         says="return what sess.run computed: the grader ran your graph again and got other values"),
    # ------------------------------------------------------------------ sigmoid
    dict(exercise="n04_sigmoid", name="NumPy: 1 / (1 + exp(-z))",
         source=_SIGMOID + "    return 1 / (1 + np.exp(-np.asarray(z, np.float32)))\n",
         scores={"n04_test_sigmoid": 0}),
    dict(exercise="n04_sigmoid", name="a constant instead of a placeholder fed with feed_dict",
         source=_SIGMOID + _graph("sigma = tf.sigmoid(tf.constant(z, tf.float32))", "sigma"),
         scores={"n04_test_sigmoid": 0}),
    dict(exercise="n04_sigmoid", name="1 / (1 + tf.exp(-x)) instead of the Sigmoid operation",
         source=_SIGMOID + _graph('x = tf.compat.v1.placeholder(tf.float32, name="x")\n'
                                  "sigma = 1 / (1 + tf.exp(-x))", "sigma, feed_dict={x: z}"),
         scores={"n04_test_sigmoid": 0}),
    dict(exercise="n04_sigmoid", name="a float64 placeholder (returns float64)",
         source=_SIGMOID + _graph('x = tf.compat.v1.placeholder(tf.float64, name="x")\n'
                                  "sigma = tf.sigmoid(x)", "sigma, feed_dict={x: z}"),
         scores={"n04_test_sigmoid": 0}, says="as float32 (a tf.float32 placeholder)"),
    dict(exercise="n04_sigmoid", name="the value computed by a Python callback in the graph (tf.numpy_function)",
         source=_SIGMOID + _graph('x = tf.compat.v1.placeholder(tf.float32, name="x")\n'
                                  "tf.sigmoid(x)\n"
                                  "sigma = tf.numpy_function(lambda a: (1 / (1 + np.exp(-a))).astype(np.float32),"
                                  " [x], tf.float32)", "sigma, feed_dict={x: z}"),
         scores={"n04_test_sigmoid": 0}, says="PyFunc (tf.py_func / tf.numpy_function)"),
    # ------------------------------------------------------------------ cost
    dict(exercise="n04_cost", name="the textbook formula -(y log σ(z) + (1-y) log(1-σ(z))): overflows",
         source=_COST + _graph('z = tf.compat.v1.placeholder(tf.float32, name="z")\n'
                               'y = tf.compat.v1.placeholder(tf.float32, name="y")\n'
                               "s = tf.sigmoid(z)\n"
                               "costs = -(y * tf.math.log(s) + (1 - y) * tf.math.log(1 - s))",
                               "costs, feed_dict={z: logits, y: labels}"),
         scores={"n04_test_cost": 0}),
    dict(exercise="n04_cost", name="logits and labels swapped",
         source=_COST + _graph('z = tf.compat.v1.placeholder(tf.float32, name="z")\n'
                               'y = tf.compat.v1.placeholder(tf.float32, name="y")\n'
                               "costs = tf.nn.sigmoid_cross_entropy_with_logits(logits=y, labels=z)",
                               "costs, feed_dict={z: logits, y: labels}"),
         scores={"n04_test_cost": 0}),
    dict(exercise="n04_cost", name="NumPy's stable formula, no graph",
         source=_COST + "    z, y = np.asarray(logits, np.float32), np.asarray(labels, np.float32)\n"
                        "    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))\n",
         scores={"n04_test_cost": 0}),
    # ------------------------------------------------------------------ one_hot_matrix
    dict(exercise="n04_one_hot_matrix", name="tf.one_hot's default axis: one row per label (m, C)",
         source=_ONE_HOT + _graph("encoded = tf.one_hot(np.asarray(labels), depth=C)", "encoded"),
         scores={"n04_test_one_hot_matrix": 0}),
    dict(exercise="n04_one_hot_matrix", name="NumPy: np.eye(C)[:, labels]",
         source=_ONE_HOT + "    return np.eye(C, dtype=np.float32)[:, np.asarray(labels)]\n",
         scores={"n04_test_one_hot_matrix": 0}),
    dict(exercise="n04_one_hot_matrix", name="depth 4, the public example's C",
         source=_ONE_HOT + _graph("encoded = tf.one_hot(np.asarray(labels), depth=4, axis=0)", "encoded"),
         scores={"n04_test_one_hot_matrix": 0}, says="one row per class: depth=C"),
    dict(exercise="n04_one_hot_matrix", name="integer one-hot (dtype int32)",
         source=_ONE_HOT + _graph("encoded = tf.one_hot(np.asarray(labels), depth=C, axis=0, dtype=tf.int32)",
                                  "encoded"),
         scores={"n04_test_one_hot_matrix": 0}),
    # ------------------------------------------------------------------ f_and_gradient
    dict(exercise="n04_f_and_gradient", name="the derivatives written by hand, not tf.gradients",
         source=_f_graph("        df_dx, df_dy = 2 * x * y, x * x + 1\n"
                         "        with tf.compat.v1.Session() as session:\n"
                         "            values = session.run([f, df_dx, df_dy], feed_dict={x: x_value, y: y_value})\n"
                         "    return tuple(float(value) for value in values)\n"),
         scores={"n04_test_f_and_gradient": 0}),
    dict(exercise="n04_f_and_gradient", name="three sess.run calls, one per value",
         source=_f_graph("        df_dx, df_dy = tf.gradients(f, [x, y])\n"
                         "        with tf.compat.v1.Session() as session:\n"
                         "            feed = {x: x_value, y: y_value}\n"
                         "            values = [session.run(t, feed_dict=feed) for t in (f, df_dx, df_dy)]\n"
                         "    return tuple(float(value) for value in values)\n"),
         scores={"n04_test_f_and_gradient": 0}, says="fetch f and both derivatives in one sess.run"),
    dict(exercise="n04_f_and_gradient", name="NumPy float32 values returned, not Python floats",
         source=_f_graph("        df_dx, df_dy = tf.gradients(f, [x, y])\n"
                         "        with tf.compat.v1.Session() as session:\n"
                         "            return tuple(session.run([f, df_dx, df_dy], feed_dict={x: x_value, y: y_value}))\n"),
         scores={"n04_test_f_and_gradient": 0}),
    # ------------------------------------------------------------------ create_placeholders
    dict(exercise="n04_create_placeholders", name="one row per example: shape (None, n_x)",
         source=_PLACEHOLDERS + '    return (tf.compat.v1.placeholder(tf.float32, (None, n_x), name="X"),\n'
                                '            tf.compat.v1.placeholder(tf.float32, (None, n_y), name="Y"))\n',
         scores={"n04_test_create_placeholders": 0}),
    dict(exercise="n04_create_placeholders", name="no names (X:0 and Y:0 are what later cells feed)",
         source=_PLACEHOLDERS + "    return (tf.compat.v1.placeholder(tf.float32, (n_x, None)),\n"
                                "            tf.compat.v1.placeholder(tf.float32, (n_y, None)))\n",
         scores={"n04_test_create_placeholders": 0}),
    dict(exercise="n04_create_placeholders", name="a tf.Graph() of its own, not the caller's",
         source=_PLACEHOLDERS + "    with tf.Graph().as_default():\n"
                                '        return (tf.compat.v1.placeholder(tf.float32, (n_x, None), name="X"),\n'
                                '                tf.compat.v1.placeholder(tf.float32, (n_y, None), name="Y"))\n',
         scores={"n04_test_create_placeholders": 0}),
    dict(exercise="n04_create_placeholders", name="float64 placeholders",
         source=_PLACEHOLDERS + '    return (tf.compat.v1.placeholder(tf.float64, (n_x, None), name="X"),\n'
                                '            tf.compat.v1.placeholder(tf.float64, (n_y, None), name="Y"))\n',
         scores={"n04_test_create_placeholders": 0}),
]
