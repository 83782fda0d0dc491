"""Wrong answers to 03's exercises (format: tests/test_wrong_answers.py).

The exercises build on each other by their specification (activation_forward calls linear_forward, model_forward
calls activation_forward, activation_backward and model_backward call linear_backward, gradient_check's loss is
compute_loss(model_forward(...))), so a wrong building block may also cost the tests of the functions specified
on top of it: those are named in its scores. Every test's inputs (caches, gradients) come from the instructor's
code, never from the student's other functions.
"""

INIT = ("# GRADED FUNCTION: initialize_parameters\ndef initialize_parameters(layer_dims, seed=0, dtype=np.float64):\n"
        "    rng = np.random.default_rng(seed)\n    parameters = {}\n    for l in range(1, len(layer_dims)):\n"
        "        n_in, n_out = layer_dims[l - 1], layer_dims[l]\n")
LIN = "# GRADED FUNCTION: linear_forward\ndef linear_forward(A_prev, W, b):\n"
ACT = "# GRADED FUNCTION: activation_forward\ndef activation_forward(A_prev, W, b, activation):\n"
ACT_OK_BODY = ("    if activation == \"relu\":\n        A = np.maximum(Z, 0)\n"
               "    elif activation == \"sigmoid\":\n        A = 1 / (1 + np.exp(-Z))\n"
               "    elif activation == \"softmax\":\n        E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
               "        A = E / E.sum(axis=1, keepdims=True)\n"
               "    else:\n        raise ValueError(activation)\n")
FWD = "# GRADED FUNCTION: model_forward\ndef model_forward(X, parameters):\n"
LOSS = "# GRADED FUNCTION: compute_loss\ndef compute_loss(AL, Y):\n"
LB = "# GRADED FUNCTION: linear_backward\ndef linear_backward(dZ, cache):\n    A_prev, W, b = cache\n"
AB = "# GRADED FUNCTION: activation_backward\ndef activation_backward(dA, cache, activation):\n    linear_cache, Z = cache\n"
MB = "# GRADED FUNCTION: model_backward\ndef model_backward(AL, Y, caches):\n    grads = {}\n    L = len(caches)\n"
UP = "# GRADED FUNCTION: update_parameters\ndef update_parameters(parameters, grads, velocity, learning_rate, momentum):\n"
GC = ("# GRADED FUNCTION: gradient_check\ndef gradient_check(parameters, grads, X, Y, epsilon=1e-6):\n"
      "    analytic, approx = [], []\n    for key, theta in parameters.items():\n"
      "        for index in np.ndindex(theta.shape):\n            old = theta[index]\n")
PLUS = ("            theta[index] = old + epsilon\n"
        "            loss_plus = compute_loss(model_forward(X, parameters)[0], Y)\n")
MINUS = ("            theta[index] = old - epsilon\n"
         "            loss_minus = compute_loss(model_forward(X, parameters)[0], Y)\n")
RESTORE = "            theta[index] = old\n"
CENTERED = "(loss_plus - loss_minus) / (2 * epsilon)"
NORMS = "np.linalg.norm(analytic - approx) / (np.linalg.norm(analytic) + np.linalg.norm(approx))"


def gradient_check_source(perturb, difference, result):
    """gradient_check with the given perturbation lines, difference quotient and returned error."""
    return (GC + perturb + f"            approx.append({difference})\n"
            "            analytic.append(grads['d' + key][index])\n"
            "    analytic, approx = np.array(analytic), np.array(approx)\n"
            f"    return float({result})\n")


SIGMOID_DZ = "dA * (1 / (1 + np.exp(-Z))) * (1 - 1 / (1 + np.exp(-Z)))"
RAISE = "raise ValueError(activation)"


def activation_backward_source(relu_dz, sigmoid_dz, otherwise):
    """activation_backward with the given dZ for relu and sigmoid and the given last branch."""
    return (AB + f"    if activation == 'relu':\n        dZ = {relu_dz}\n"
            f"    elif activation == 'sigmoid':\n        dZ = {sigmoid_dz}\n"
            f"    else:\n        {otherwise}\n    return linear_backward(dZ, linear_cache)\n")


def model_backward_source(dz, last_layer):
    """model_backward with the given dZ of the last layer and the call that back-propagates it."""
    return (MB + f"    dZ = {dz}\n    dA, grads[f'dW{{L}}'], grads[f'db{{L}}'] = {last_layer}\n"
            "    for l in range(L - 1, 0, -1):\n"
            "        dA, grads[f'dW{l}'], grads[f'db{l}'] = activation_backward(dA, caches[l - 1], 'relu')\n"
            "    return grads\n")


T = {k: f"n03_test_{k}" for k in ("initialize_parameters", "linear_forward", "activation_forward", "model_forward",
                                  "compute_loss", "linear_backward", "activation_backward", "model_backward",
                                  "update_parameters", "gradient_check")}

WRONG_ANSWERS = [
    # Exercise 1
    dict(exercise="n03_initialize_parameters", name="Xavier's sqrt(1 / n_in), not He's sqrt(2 / n_in)",
         source=INIT + "        parameters[f'W{l}'] = (rng.standard_normal((n_in, n_out)) * np.sqrt(1.0 / n_in)).astype(dtype)\n"
                       "        parameters[f'b{l}'] = np.zeros(n_out, dtype=dtype)\n    return parameters\n",
         scores={T["initialize_parameters"]: 0}, says="He"),
    dict(exercise="n03_initialize_parameters", name="2 / n_in without the square root",
         source=INIT + "        parameters[f'W{l}'] = (rng.standard_normal((n_in, n_out)) * (2.0 / n_in)).astype(dtype)\n"
                       "        parameters[f'b{l}'] = np.zeros(n_out, dtype=dtype)\n    return parameters\n",
         scores={T["initialize_parameters"]: 0}, says="He"),
    dict(exercise="n03_initialize_parameters", name="dtype argument ignored: always float64",
         source=INIT + "        parameters[f'W{l}'] = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)\n"
                       "        parameters[f'b{l}'] = np.zeros(n_out)\n    return parameters\n",
         scores={T["initialize_parameters"]: 0}, says="dtype"),
    dict(exercise="n03_initialize_parameters", name="W of shape (n_out, n_in), the column layout",
         source=INIT + "        parameters[f'W{l}'] = (rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(dtype)\n"
                       "        parameters[f'b{l}'] = np.zeros(n_out, dtype=dtype)\n    return parameters\n",
         scores={T["initialize_parameters"]: 0}),
    # Exercise 2
    dict(exercise="n03_linear_forward", name="cache without b",
         source=LIN + "    Z = A_prev @ W + b\n    return Z, (A_prev, W)\n",
         scores={T["linear_forward"]: 0}, says="the cache is the tuple"),
    dict(exercise="n03_linear_forward", name="b as a column: broadcasts to (n, n)",
         source=LIN + "    Z = A_prev @ W + b.reshape(-1, 1)\n    return Z, (A_prev, W, b)\n",
         scores={T["linear_forward"]: 0, T["activation_forward"]: 0, T["model_forward"]: 0, T["gradient_check"]: 0}),
    dict(exercise="n03_linear_forward", name="float64 whatever the inputs' dtype",
         source=LIN + "    Z = A_prev.astype(np.float64) @ W.astype(np.float64) + b\n    return Z, (A_prev, W, b)\n",
         scores={T["linear_forward"]: 0, T["activation_forward"]: 0, T["model_forward"]: 0}, says="dtype"),
    # Exercise 3
    dict(exercise="n03_activation_forward", name="naive softmax: overflows for large scores",
         source=ACT + "    Z, linear_cache = linear_forward(A_prev, W, b)\n"
                      + ACT_OK_BODY.replace("np.exp(Z - Z.max(axis=1, keepdims=True))", "np.exp(Z)")
                      + "    return A, (linear_cache, Z)\n",
         scores={T["activation_forward"]: 0}, says="subtract each row's maximum"),
    dict(exercise="n03_activation_forward", name="unknown activation falls through to the identity",
         source=ACT + "    Z, linear_cache = linear_forward(A_prev, W, b)\n    A = Z\n"
                      + ACT_OK_BODY.replace("    else:\n        raise ValueError(activation)\n", "")
                      + "    return A, (linear_cache, Z)\n",
         scores={T["activation_forward"]: 0}, says="ValueError"),
    dict(exercise="n03_activation_forward", name="a flat cache (A_prev, W, b, Z)",
         source=ACT + "    Z, linear_cache = linear_forward(A_prev, W, b)\n" + ACT_OK_BODY
                      + "    return A, (A_prev, W, b, Z)\n",
         scores={T["activation_forward"]: 0}),
    dict(exercise="n03_activation_forward", name="softmax over the columns (axis 0)",
         source=ACT + "    Z, linear_cache = linear_forward(A_prev, W, b)\n"
                      + ACT_OK_BODY.replace("axis=1", "axis=0") + "    return A, (linear_cache, Z)\n",
         scores={T["activation_forward"]: 0, T["model_forward"]: 0, T["gradient_check"]: 0}),
    # Exercise 4
    dict(exercise="n03_model_forward", name="the caches of the hidden layers not kept",
         source=FWD + "    L = len(parameters) // 2\n    caches = []\n    A = X\n    for l in range(1, L):\n"
                      "        A, cache = activation_forward(A, parameters[f'W{l}'], parameters[f'b{l}'], 'relu')\n"
                      "    AL, cache = activation_forward(A, parameters[f'W{L}'], parameters[f'b{L}'], 'softmax')\n"
                      "    caches.append(cache)\n    return AL, caches\n",
         scores={T["model_forward"]: 0}),
    dict(exercise="n03_model_forward", name="written for two layers (the public example)",
         source=FWD + "    A1, c1 = activation_forward(X, parameters['W1'], parameters['b1'], 'relu')\n"
                      "    AL, c2 = activation_forward(A1, parameters['W2'], parameters['b2'], 'softmax')\n"
                      "    return AL, [c1, c2]\n",
         scores={T["model_forward"]: 0, T["gradient_check"]: 0}),
    dict(exercise="n03_model_forward", name="sigmoid in the hidden layers",
         source=FWD + "    L = len(parameters) // 2\n    caches = []\n    A = X\n    for l in range(1, L):\n"
                      "        A, cache = activation_forward(A, parameters[f'W{l}'], parameters[f'b{l}'], 'sigmoid')\n"
                      "        caches.append(cache)\n"
                      "    AL, cache = activation_forward(A, parameters[f'W{L}'], parameters[f'b{L}'], 'softmax')\n"
                      "    caches.append(cache)\n    return AL, caches\n",
         scores={T["model_forward"]: 0, T["gradient_check"]: 0}),
    # Exercise 5
    dict(exercise="n03_compute_loss", name="no clip: log(0) = -inf",
         source=LOSS + "    return float(-np.sum(Y * np.log(AL)) / AL.shape[0])\n",
         scores={T["compute_loss"]: 0}, says="clip AL"),
    dict(exercise="n03_compute_loss", name="mean over all m x K entries",
         source=LOSS + "    return float(-np.mean(Y * np.log(np.maximum(AL, 1e-12))))\n",
         scores={T["compute_loss"]: 0, T["gradient_check"]: 0}),
    dict(exercise="n03_compute_loss", name="sum over the examples, not the mean",
         source=LOSS + "    return float(-np.sum(Y * np.log(np.maximum(AL, 1e-12))))\n",
         scores={T["compute_loss"]: 0, T["gradient_check"]: 0}),
    dict(exercise="n03_compute_loss", name="-log of the highest probability: right when every prediction is",
         source=LOSS + "    return float(-np.mean(np.log(np.maximum(AL.max(axis=1), 1e-12))))\n",
         scores={T["compute_loss"]: 0, T["gradient_check"]: 0}, says="the mean over the m examples"),
    # Exercise 6
    dict(exercise="n03_linear_backward", name="divides by m again",
         source=LB + "    m = A_prev.shape[0]\n    return dZ @ W.T, A_prev.T @ dZ / m, dZ.sum(axis=0) / m\n",
         scores={T["linear_backward"]: 0, T["activation_backward"]: 0, T["model_backward"]: 0}),
    dict(exercise="n03_linear_backward", name="db summed over the units (axis 1)",
         source=LB + "    return dZ @ W.T, A_prev.T @ dZ, dZ.sum(axis=1)\n",
         scores={T["linear_backward"]: 0, T["activation_backward"]: 0, T["model_backward"]: 0}),
    dict(exercise="n03_linear_backward", name="dW = dZ^T A_prev, the column layout",
         source=LB + "    return dZ @ W.T, dZ.T @ A_prev, dZ.sum(axis=0)\n",
         scores={T["linear_backward"]: 0, T["activation_backward"]: 0, T["model_backward"]: 0}),
    # Exercise 7
    dict(exercise="n03_activation_backward", name="ReLU' = 1 at Z = 0 (Z >= 0)",
         source=activation_backward_source("dA * (Z >= 0)", SIGMOID_DZ, RAISE),
         scores={T["activation_backward"]: 0}, says="Z > 0"),
    dict(exercise="n03_activation_backward", name="sigmoid' from Z as if it were the activation: Z (1 - Z)",
         source=activation_backward_source("dA * (Z > 0)", "dA * Z * (1 - Z)", RAISE),
         scores={T["activation_backward"]: 0}),
    dict(exercise="n03_activation_backward", name="softmax accepted and treated as the identity",
         source=activation_backward_source("dA * (Z > 0)", SIGMOID_DZ, "dZ = dA"),
         scores={T["activation_backward"]: 0}, says="ValueError"),
    # Exercise 8
    dict(exercise="n03_model_backward", name="dZ = AL - Y without the 1/m",
         source=model_backward_source("AL - Y", "linear_backward(dZ, caches[L - 1][0])"),
         scores={T["model_backward"]: 0}),
    dict(exercise="n03_model_backward", name="written for two layers (the public example)",
         source=MB + "    dZ = (AL - Y) / AL.shape[0]\n    dA1, grads['dW2'], grads['db2'] = linear_backward(dZ, caches[1][0])\n"
                     "    _, grads['dW1'], grads['db1'] = activation_backward(dA1, caches[0], 'relu')\n    return grads\n",
         scores={T["model_backward"]: 0}),
    dict(exercise="n03_model_backward", name="the ReLU mask applied to the softmax layer too",
         source=model_backward_source("(AL - Y) / AL.shape[0]", "activation_backward(dZ, caches[L - 1], 'relu')"),
         scores={T["model_backward"]: 0}),
    # Exercise 9
    dict(exercise="n03_update_parameters", name="plain gradient descent: momentum ignored",
         source=UP + "    for key in parameters:\n        parameters[key] = parameters[key] - learning_rate * grads['d' + key]\n"
                     "    return parameters, velocity\n",
         scores={T["update_parameters"]: 0}),
    dict(exercise="n03_update_parameters", name="the weights only, biases never updated",
         source=UP + "    for key in parameters:\n        if key.startswith('W'):\n"
                     "            velocity[key] = momentum * velocity[key] - learning_rate * grads['d' + key]\n"
                     "            parameters[key] = parameters[key] + velocity[key]\n    return parameters, velocity\n",
         scores={T["update_parameters"]: 0}, says="weights and biases"),
    dict(exercise="n03_update_parameters", name="the EMA form v = beta v + (1 - beta) grad",
         source=UP + "    for key in parameters:\n"
                     "        velocity[key] = momentum * velocity[key] + (1 - momentum) * grads['d' + key]\n"
                     "        parameters[key] = parameters[key] - learning_rate * velocity[key]\n    return parameters, velocity\n",
         scores={T["update_parameters"]: 0}),
    # Exercise 10
    dict(exercise="n03_gradient_check", name="one-sided difference (J(t + e) - J(t)) / e",
         source=gradient_check_source(PLUS + "            theta[index] = old\n"
                                             "            loss_minus = compute_loss(model_forward(X, parameters)[0], Y)\n",
                                      "(loss_plus - loss_minus) / epsilon", NORMS),
         scores={T["gradient_check"]: 0}, says="centered differences"),
    dict(exercise="n03_gradient_check", name="parameters never restored after the perturbation",
         source=gradient_check_source(PLUS + MINUS, CENTERED, NORMS),
         scores={T["gradient_check"]: 0}, says="restored"),
    dict(exercise="n03_gradient_check", name="relative to the analytic norm only",
         source=gradient_check_source(PLUS + MINUS + RESTORE, CENTERED,
                                      "np.linalg.norm(analytic - approx) / np.linalg.norm(analytic)"),
         scores={T["gradient_check"]: 0}, says="‖g‖₂ + ‖g_approx‖₂"),
    dict(exercise="n03_gradient_check", name="the largest entrywise error, not the norms",
         source=gradient_check_source(PLUS + MINUS + RESTORE, CENTERED, "np.max(np.abs(analytic - approx))"),
         scores={T["gradient_check"]: 0}),
]
