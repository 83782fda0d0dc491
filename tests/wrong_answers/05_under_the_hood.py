"""Wrong answers to 05's exercises (format: tests/test_wrong_answers.py). 05 is graded in the trusted process: its
tests read composed_sigmoid's op types and run_on_cpu's devices from the TF1 graph the call adds nodes to (the graph
wire), and call stable_sigmoid's gradient function (tf.custom_gradient's decorated_target) with their own dy."""

SIG = "# GRADED FUNCTION: composed_sigmoid\ndef composed_sigmoid(x):\n"
STABLE = "# GRADED FUNCTION: stable_sigmoid\n@tf.custom_gradient\ndef stable_sigmoid(x):\n    out = composed_sigmoid(x)\n\n"
CPU = "# GRADED FUNCTION: run_on_cpu\ndef run_on_cpu(fn, x):\n"

WRONG_ANSWERS = [
    # Exercise 1: build σ from tf.exp
    dict(exercise="n05_composed_sigmoid", name="tf.sigmoid: the fused op the exercise rebuilds",
         source=SIG + "    return tf.sigmoid(x)\n", scores={"n05_test_composed_sigmoid": 0},
         says="not with tf.sigmoid"),
    dict(exercise="n05_composed_sigmoid", name="the tanh identity: no tf.exp",
         source=SIG + "    return 0.5 * (tf.tanh(x / 2) + 1)\n", scores={"n05_test_composed_sigmoid": 0},
         says="use tf.exp for e^(-x)"),
    dict(exercise="n05_composed_sigmoid", name="casts x to float32 (float64 input loses its dtype)",
         source=SIG + "    x = tf.cast(x, tf.float32)\n    return 1.0 / (1.0 + tf.exp(-x))\n",
         scores={"n05_test_composed_sigmoid": 0}, says="keep the dtype and shape of x"),
    dict(exercise="n05_composed_sigmoid", name="NumPy's exp: a NumPy array, not a tensor",
         source=SIG + "    return 1.0 / (1.0 + np.exp(-np.asarray(x)))\n", scores={"n05_test_composed_sigmoid": 0},
         says="not a NumPy array"),
    # Exercise 2: a custom gradient, finite at ±100
    dict(exercise="n05_stable_sigmoid", name="gradient in x: e^-x / (1 + e^-x)^2, NaN at -100",
         source=STABLE + "    def backward(upstream):\n        e = tf.exp(-x)\n"
                         "        return upstream * e / (1 + e) ** 2\n\n    return out, backward\n",
         scores={"n05_test_stable_sigmoid": 0}, says="finite at ±100"),
    dict(exercise="n05_stable_sigmoid", name="ignores the upstream gradient dy",
         source=STABLE + "    def backward(upstream):\n        return out * (1 - out)\n\n    return out, backward\n",
         scores={"n05_test_stable_sigmoid": 0}, says="multiply by the upstream dy"),
    dict(exercise="n05_stable_sigmoid", name="dy * y: forgets the factor (1 - y)",
         source=STABLE + "    def backward(upstream):\n        return upstream * out\n\n    return out, backward\n",
         scores={"n05_test_stable_sigmoid": 0}, says="the gradient must be dy * y * (1 - y)"),
    dict(exercise="n05_stable_sigmoid", name="no @tf.custom_gradient: the automatic gradient, NaN at -100",
         source="# GRADED FUNCTION: stable_sigmoid\ndef stable_sigmoid(x):\n    return composed_sigmoid(x)\n",
         scores={"n05_test_stable_sigmoid": 0}, says="keep the @tf.custom_gradient decorator"),
    dict(exercise="n05_stable_sigmoid", name="the gradient in x, tested only where it is finite (|x| < 80)",
         source=STABLE + "    def backward(upstream):\n        e = tf.exp(-tf.clip_by_value(x, -80.0, 80.0))\n"
                         "        return upstream * e / (1 + e) ** 2\n\n    return out, backward\n",
         scores={"n05_test_stable_sigmoid": 0}, says="exactly 0"),
    # Exercise 3: place fn's operations on the CPU
    dict(exercise="n05_run_on_cpu", name="no tf.device: right only where there is no GPU",
         source=CPU + "    return fn(x)\n", scores={"n05_test_run_on_cpu": 0}, says="call fn inside"),
    dict(exercise="n05_run_on_cpu", name="calls fn outside tf.device, copies the result to the CPU",
         source=CPU + "    result = fn(x)\n    with tf.device(\"/CPU:0\"):\n        return tf.identity(result)\n",
         scores={"n05_test_run_on_cpu": 0}, says="every one of its operations"),
    dict(exercise="n05_run_on_cpu", name="asks for /GPU:0",
         source=CPU + "    with tf.device(\"/GPU:0\"):\n        return fn(x)\n", scores={"n05_test_run_on_cpu": 0},
         says="call fn inside"),
]
