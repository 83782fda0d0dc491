"""Wrong answers to 02's exercises (format: tests/test_wrong_answers.py).

Exercises 3, 5 and 6 are specified on top of the earlier ones ("using your sigmoid", "use your functions above",
the softmax inside the Jacobian), so a wrong sigmoid or softmax may also cost the tests of the exercises built on
it: those are named in its scores.
"""

COUNT = "# GRADED FUNCTION: count_parameters\ndef count_parameters(layer_dims):\n"
SIG = "# GRADED FUNCTION: sigmoid\ndef sigmoid(z):\n"
RELU_OK = "def relu(z):\n    return np.maximum(z, 0)\n"
TANH_OK = "def tanh_via_sigmoid(z):\n    return 2 * sigmoid(2 * np.asarray(z)) - 1\n"
RT = "# GRADED FUNCTION: relu, tanh_via_sigmoid\n"
SOFT = "# GRADED FUNCTION: softmax\ndef softmax(z):\n"
SP_OK = "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n"
TP_OK = "def tanh_prime(z):\n    t = tanh_via_sigmoid(z)\n    return 1 - t * t\n"
RP_OK = "def relu_prime(z):\n    z = np.asarray(z)\n    return (z > 0).astype(z.dtype)\n"
DER = "# GRADED FUNCTION: sigmoid_prime, tanh_prime, relu_prime\n"
JAC = "# GRADED FUNCTION: softmax_jacobian\ndef softmax_jacobian(z):\n"
T_COUNT, T_SIG, T_RT = "n02_test_count_parameters", "n02_test_sigmoid", "n02_test_relu_tanh"
T_SOFT, T_DER, T_JAC = "n02_test_softmax", "n02_test_derivatives", "n02_test_softmax_jacobian"


def two(a, b, c=None):
    return "\n\n".join(x for x in (a, b, c) if x)


WRONG_ANSWERS = [
    # Exercise 1
    dict(exercise="n02_count_parameters", name="counts biases for the input layer too",
         source=COUNT + "    n_weights = sum(a * b for a, b in zip(layer_dims[:-1], layer_dims[1:]))\n"
                        "    return int(n_weights), int(sum(layer_dims))\n",
         scores={T_COUNT: 0}),
    dict(exercise="n02_count_parameters", name="NumPy integers, not Python ints",
         source=COUNT + "    dims = np.array(layer_dims)\n    return np.sum(dims[:-1] * dims[1:]), np.sum(dims[1:])\n",
         scores={T_COUNT: 0}, says="Python ints"),
    dict(exercise="n02_count_parameters", name="written for exactly three layers (the public example)",
         source=COUNT + "    n0, n1, n2, n3 = layer_dims\n    return n0 * n1 + n1 * n2 + n2 * n3, n1 + n2 + n3\n",
         scores={T_COUNT: 0}),
    # Exercise 2
    dict(exercise="n02_sigmoid", name="1 - sigma(-z) for negative z: cancellation",
         source=SIG + "    z = np.asarray(z)\n    with np.errstate(over='ignore'):\n"
                      "        return np.where(z >= 0, 1 / (1 + np.exp(-z)), 1 - 1 / (1 + np.exp(z)))\n",
         scores={T_SIG: 0}, says="cancellation"),
    dict(exercise="n02_sigmoid", name="z clipped to [-500, 500] to avoid the overflow",
         source=SIG + "    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))\n",
         scores={T_SIG: 0, T_DER: 0}, says="do not clip"),
    dict(exercise="n02_sigmoid", name="float64 whatever z's dtype",
         source=SIG + "    z = np.asarray(z, dtype=np.float64)\n    e = np.exp(-np.abs(z))\n"
                      "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n",
         scores={T_SIG: 0, T_RT: 0}, says="dtype"),
    # Exercise 3
    dict(exercise="n02_relu_tanh", name="np.tanh: the library call, not the identity",
         source=RT + two(RELU_OK, "def tanh_via_sigmoid(z):\n    return np.tanh(z)\n"),
         scores={T_RT: 0}, says="library tanh"),
    dict(exercise="n02_relu_tanh", name="tanh from exponentials: NaN for large |z|",
         source=RT + two(RELU_OK, "def tanh_via_sigmoid(z):\n    s = sigmoid(z)  # unused\n"
                                  "    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))\n"),
         scores={T_RT: 0, T_DER: 0}, says="not NaN"),
    dict(exercise="n02_relu_tanh", name="2 sigma(z) - 1: the 2z forgotten",
         source=RT + two(RELU_OK, "def tanh_via_sigmoid(z):\n    return 2 * sigmoid(np.asarray(z)) - 1\n"),
         scores={T_RT: 0, T_DER: 0}),
    dict(exercise="n02_relu_tanh", name="relu in float64 whatever z's dtype",
         source=RT + two("def relu(z):\n    return np.maximum(np.asarray(z, dtype=float), 0)\n", TANH_OK),
         scores={T_RT: 0}, says="relu keeps the dtype"),
    # Exercise 4
    dict(exercise="n02_softmax", name="naive exp / sum: overflows",
         source=SOFT + "    e = np.exp(z)\n    return e / e.sum(axis=-1, keepdims=True)\n",
         scores={T_SOFT: 0, T_JAC: 0}),
    dict(exercise="n02_softmax", name="the batch's maximum, not each row's",
         source=SOFT + "    z = np.asarray(z)\n    e = np.exp(z - z.max())\n    return e / e.sum(axis=-1, keepdims=True)\n",
         scores={T_SOFT: 0}, says="each row's maximum"),
    dict(exercise="n02_softmax", name="normalised over axis 0: right on vectors only",
         source=SOFT + "    z = np.asarray(z)\n    e = np.exp(z - z.max(axis=0, keepdims=True))\n"
                       "    return e / e.sum(axis=0, keepdims=True)\n",
         scores={T_SOFT: 0}, says="sum to 1"),
    # Exercise 5
    # issue 12: 6/11 when a hidden test took the student's own functions as its reference (a zero derivative
    # is the right derivative of a constant): the references are the instructor's now
    dict(exercise="n02_derivatives", name="constant activations with zero derivatives (consistent with each other)",
         source=DER + "def sigmoid_prime(z):\n    return np.zeros_like(np.asarray(z, dtype=float))\n\n\n"
                      "tanh_prime = relu_prime = sigmoid_prime\n",
         also={"n02_sigmoid": SIG + "    return np.full_like(np.asarray(z, dtype=float), 0.5)\n",
               "n02_relu_tanh": RT + "def relu(z):\n    return np.zeros_like(np.asarray(z, dtype=float))\n\n\n"
                                     "tanh_via_sigmoid = relu\n"},
         scores={T_DER: 0, T_SIG: 0, T_RT: 0}),
    dict(exercise="n02_derivatives", name="tanh_prime = 1 - z**2 (right at z = 0 only)",
         source=DER + two(SP_OK, "def tanh_prime(z):\n    return 1 - np.asarray(z) ** 2\n", RP_OK),
         scores={T_DER: 0}, says="tanh_prime differs"),
    dict(exercise="n02_derivatives", name="relu_prime returns booleans",
         source=DER + two(SP_OK, TP_OK, "def relu_prime(z):\n    return np.asarray(z) > 0\n"),
         scores={T_DER: 0}, says="not booleans"),
    dict(exercise="n02_derivatives", name="sigmoid_prime = e^-z / (1 + e^-z)^2: inf / inf",
         source=DER + two("def sigmoid_prime(z):\n    e = np.exp(-np.asarray(z))\n    return e / (1 + e) ** 2\n",
                          TP_OK, RP_OK),
         scores={T_DER: 0}, says="finite"),
    dict(exercise="n02_derivatives", name="relu_prime is 1 at z = 0",
         source=DER + two(SP_OK, TP_OK, "def relu_prime(z):\n    z = np.asarray(z)\n    return (z >= 0).astype(z.dtype)\n"),
         scores={T_DER: 0}),
    # Exercise 6
    dict(exercise="n02_softmax_jacobian", name="outer(s, 1 - s): the sigmoid's pattern",
         source=JAC + "    s = softmax(z)\n    return np.outer(s, 1 - s)\n",
         scores={T_JAC: 0}),
    dict(exercise="n02_softmax_jacobian", name="the diagonal only",
         source=JAC + "    s = softmax(z)\n    return np.diag(s * (1 - s))\n",
         scores={T_JAC: 0}),
    dict(exercise="n02_softmax_jacobian", name="its own naive softmax: NaN for large scores",
         source=JAC + "    s = np.exp(z) / np.exp(z).sum()\n    return np.diag(s) - np.outer(s, s)\n",
         scores={T_JAC: 0}, says="stable softmax"),
]
