"""Wrong answers to 09's exercises (format: tests/test_wrong_answers.py)."""

CONV = ("# GRADED FUNCTION: conv2d_single\n\n\ndef conv2d_single(image, kernel):\n"
        "    image, kernel = np.asarray(image{cast}), np.asarray(kernel{cast})\n"
        "    kh, kw = kernel.shape{square}\n"
        "    out = np.{alloc}((image.shape[{a}] - kh + 1, image.shape[{b}] - kw + 1){dtype})\n"
        "    for i in range(out.shape[0]):\n        for j in range(out.shape[1]):\n"
        "            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel{flip})\n    return out\n")


def conv(cast=", dtype=np.float64", square="", alloc="empty", a=0, b=1, dtype="", flip=""):
    return CONV.format(cast=cast, square=square, alloc=alloc, a=a, b=b, dtype=dtype, flip=flip)


PARAMS = "# GRADED FUNCTION: conv_params\n\n\ndef conv_params(k, c_in, c_out, use_bias=True):\n    return "
CNN_LAYERS = ['layers.Conv2D(32, 3, activation="relu")', "layers.MaxPooling2D(2)",
              'layers.Conv2D(64, 3, activation="relu")', "layers.MaxPooling2D(2)", "layers.Flatten()",
              'layers.Dense(128, activation="relu")', "layers.Dropout(0.3)", 'layers.Dense(10, activation="softmax")']


def cnn(**change):
    body = [change.get(str(i), line) for i, line in enumerate(CNN_LAYERS)]
    return ("# GRADED FUNCTION: build_cnn\n\n\ndef build_cnn():\n    layers = keras.layers\n"
            "    return keras.Sequential([\n        keras.Input(shape=(28, 28, 1)),\n"
            + "".join(f"        {line},\n" for line in body if line) + "    ])\n")


WRONG_ANSWERS = [
    # Exercise 1: cross-correlation, valid padding, stride 1
    dict(exercise="n09_conv2d_single", name="kernel flipped: the textbook convolution, not Keras' correlation",
         source=conv(flip="[::-1, ::-1]"), scores={"n09_test_conv2d_single": 0}),
    dict(exercise="n09_conv2d_single", name="kh used for both sides: square kernels only",
         source=conv(square="\n    kw = kh"), scores={"n09_test_conv2d_single": 0}),
    dict(exercise="n09_conv2d_single", name="height and width swapped: square images only",
         source=conv(a=1, b=0), scores={"n09_test_conv2d_single": 0}),
    dict(exercise="n09_conv2d_single", name="output allocated with the input's dtype: integers stay integers",
         source=conv(cast="", alloc="zeros", dtype=", dtype=image.dtype"), scores={"n09_test_conv2d_single": 0},
         says="float64"),
    # Exercise 2: the parameter count
    dict(exercise="n09_conv_params", name="use_bias ignored: the biases always counted",
         source=PARAMS + "k * k * c_in * c_out + c_out\n", scores={"n09_test_conv_params": 0}, says="use_bias"),
    dict(exercise="n09_conv_params", name="biases forgotten", source=PARAMS + "k * k * c_in * c_out\n",
         scores={"n09_test_conv_params": 0}),
    dict(exercise="n09_conv_params", name="one bias per input channel and filter: (k*k + 1) * c_in * c_out",
         source=PARAMS + "(k * k + (1 if use_bias else 0)) * c_in * c_out\n", scores={"n09_test_conv_params": 0}),
    dict(exercise="n09_conv_params", name="np.prod: a NumPy integer, not a Python int",
         source=PARAMS + "np.prod([k, k, c_in, c_out]) + (c_out if use_bias else 0)\n",
         scores={"n09_test_conv_params": 0}, says="int"),
    # Exercise 3: the CNN
    dict(exercise="n09_build_cnn", name="no Dropout (it has no parameters: the count still matches)",
         source=cnn(**{"6": ""}), scores={"n09_test_build_cnn": 0}, says="Dropout"),
    dict(exercise="n09_build_cnn", name="no ReLU after the second convolution",
         source=cnn(**{"2": "layers.Conv2D(64, 3)"}), scores={"n09_test_build_cnn": 0}, says="ReLU"),
    dict(exercise="n09_build_cnn", name="linear output layer: logits, not probabilities",
         source=cnn(**{"7": "layers.Dense(10)"}), scores={"n09_test_build_cnn": 0}, says="softmax"),
    dict(exercise="n09_build_cnn", name="average pooling instead of max pooling",
         source=cnn(**{"1": "layers.AveragePooling2D(2)", "3": "layers.AveragePooling2D(2)"}),
         scores={"n09_test_build_cnn": 0}, says="MaxPooling2D"),
    # a plain object that answers like a Keras model (issue 12: 3/3 when the grader believed a proxy): it stays in
    # the student's process, so its type and its layers' types are the grader's proxy, not "Conv2D"
    dict(exercise="n09_build_cnn", name="a fake model: plain classes named like Keras', the right count_params()",
         source="# GRADED FUNCTION: build_cnn\n\n\ndef build_cnn():\n"
                "    relu, softmax = keras.activations.relu, keras.activations.softmax\n\n"
                "    class Conv2D:\n        def __init__(self, filters):\n"
                "            self.filters, self.kernel_size, self.activation = filters, (3, 3), relu\n\n"
                "    class MaxPooling2D:\n        pass\n\n    class Flatten:\n        pass\n\n"
                "    class Dense:\n        def __init__(self, units, activation):\n"
                "            self.units, self.activation = units, activation\n\n"
                "    class Dropout:\n        rate = 0.3\n\n"
                "    class Sequential:\n"
                "        layers = [Conv2D(32), MaxPooling2D(), Conv2D(64), MaxPooling2D(), Flatten(),\n"
                "                  Dense(128, relu), Dropout(), Dense(10, softmax)]\n\n"
                "        def count_params(self):\n            return 225_034\n\n"
                "        def __call__(self, x):\n            return tf.fill((len(x), 10), 0.1)\n\n"
                "    return Sequential()\n",
         scores={"n09_test_build_cnn": 0}, says="the layers, in order"),
]
