"""Wrong answers to 05's exercises (format: tests/test_wrong_answers.py). 05 is graded in the sandbox, where a
failed hidden check reads "a check of this cell failed": the points are what these cases pin down."""

SIG = "# GRADED FUNCTION: composed_sigmoid\ndef composed_sigmoid(x):\n"
STABLE = "# GRADED FUNCTION: stable_sigmoid\n@tf.custom_gradient\ndef stable_sigmoid(x):\n    out = composed_sigmoid(x)\n\n"
CPU = "# GRADED FUNCTION: run_on_cpu\ndef run_on_cpu(fn, x):\n"

WRONG_ANSWERS = [
    # Exercise 1: build σ from tf.exp
    dict(exercise="n05_composed_sigmoid", name="tf.sigmoid: the fused op the exercise rebuilds",
         source=SIG + "    return tf.sigmoid(x)\n", scores={"n05_test_composed_sigmoid": 0}),
    dict(exercise="n05_composed_sigmoid", name="the tanh identity: no tf.exp",
         source=SIG + "    return 0.5 * (tf.tanh(x / 2) + 1)\n", scores={"n05_test_composed_sigmoid": 0}),
    dict(exercise="n05_composed_sigmoid", name="casts x to float32 (float64 input loses its dtype)",
         source=SIG + "    x = tf.cast(x, tf.float32)\n    return 1.0 / (1.0 + tf.exp(-x))\n",
         scores={"n05_test_composed_sigmoid": 0}),
    dict(exercise="n05_composed_sigmoid", name="NumPy's exp: a NumPy array, not a tensor",
         source=SIG + "    return 1.0 / (1.0 + np.exp(-np.asarray(x)))\n", scores={"n05_test_composed_sigmoid": 0}),
    # Exercise 2: a custom gradient, finite at ±100
    dict(exercise="n05_stable_sigmoid", name="gradient in x: e^-x / (1 + e^-x)^2, NaN at -100",
         source=STABLE + "    def backward(upstream):\n        e = tf.exp(-x)\n"
                         "        return upstream * e / (1 + e) ** 2\n\n    return out, backward\n",
         scores={"n05_test_stable_sigmoid": 0}),
    dict(exercise="n05_stable_sigmoid", name="ignores the upstream gradient dy",
         source=STABLE + "    def backward(upstream):\n        return out * (1 - out)\n\n    return out, backward\n",
         scores={"n05_test_stable_sigmoid": 0}),
    dict(exercise="n05_stable_sigmoid", name="dy * y: forgets the factor (1 - y)",
         source=STABLE + "    def backward(upstream):\n        return upstream * out\n\n    return out, backward\n",
         scores={"n05_test_stable_sigmoid": 0}),
    # Exercise 3: place fn's operations on the CPU
    dict(exercise="n05_run_on_cpu", name="no tf.device: right only where there is no GPU",
         source=CPU + "    return fn(x)\n", scores={"n05_test_run_on_cpu": 0}),
    dict(exercise="n05_run_on_cpu", name="calls fn outside tf.device, copies the result to the CPU",
         source=CPU + "    result = fn(x)\n    with tf.device(\"/CPU:0\"):\n        return tf.identity(result)\n",
         scores={"n05_test_run_on_cpu": 0}),
    dict(exercise="n05_run_on_cpu", name="asks for /GPU:0",
         source=CPU + "    with tf.device(\"/GPU:0\"):\n        return fn(x)\n", scores={"n05_test_run_on_cpu": 0}),
]
