"""Wrong answers to 07's exercises (format: tests/test_wrong_answers.py)."""

SGD = ("# GRADED FUNCTION: sgd_step\n\n\ndef sgd_step(variables, loss_fn, learning_rate):\n"
       "    with tf.GradientTape() as tape:\n        loss = loss_fn()\n")
MOM = "# GRADED FUNCTION: momentum_step\n\n\n"
STEP = "def momentum_step(w, v, g, learning_rate, momentum):\n"
LOOP = ("# GRADED FUNCTION: train_loop\n\n\ndef train_loop(model, optimizer, dataset, epochs):\n"
        "    cross_entropy = keras.losses.SparseCategoricalCrossentropy({logits})\n\n"
        "    {deco}\n    def step(x, y):\n"
        "        with tf.GradientTape() as recorder:\n"
        "            batch_loss = cross_entropy(y, model(x, training=True))\n"
        "        gradients = recorder.gradient(batch_loss, model.trainable_variables)\n"
        "        {opt}.apply_gradients(zip(gradients, model.trainable_variables))\n"
        "        return batch_loss\n\n"
        "{extra}    history = []\n    for _ in range(epochs):\n        losses = []\n"
        "        for x, y in dataset:\n            losses.append(float(step(x, y)))\n"
        "        history.append({mean})\n    return history\n")


def loop(logits="from_logits=True", deco="@tf.function", opt="optimizer", extra="", mean="sum(losses) / len(losses)"):
    return LOOP.format(logits=logits, deco=deco, opt=opt, extra=extra, mean=mean)


WRONG_ANSWERS = [
    # Exercise 1: one step of gradient descent, without an optimizer object
    dict(exercise="n07_sgd_step", name="a Keras SGD optimizer object",
         source=SGD + "    grads = tape.gradient(loss, variables)\n"
                      "    keras.optimizers.SGD(learning_rate).apply_gradients(zip(grads, variables))\n"
                      "    return loss\n",
         scores={"n07_test_sgd_step": 0}, says="assign_sub"),
    dict(exercise="n07_sgd_step", name="v = v - lr * g: rebinds a name, the variable is unchanged",
         source=SGD + "    for v, g in zip(variables, tape.gradient(loss, variables)):\n"
                      "        v = v - learning_rate * g\n    return loss\n",
         scores={"n07_test_sgd_step": 0}),
    dict(exercise="n07_sgd_step", name="returns the loss after the update",
         source=SGD + "    for v, g in zip(variables, tape.gradient(loss, variables)):\n"
                      "        v.assign_sub(learning_rate * g)\n    return loss_fn()\n",
         scores={"n07_test_sgd_step": 0}, says="BEFORE"),
    dict(exercise="n07_sgd_step", name="updates the first variable only: fits the one-variable example",
         source=SGD + "    grads = tape.gradient(loss, variables)\n"
                      "    variables[0].assign_sub(learning_rate * grads[0])\n    return loss\n",
         scores={"n07_test_sgd_step": 0}, says="each variable"),
    # Exercise 2: the momentum update, as a pure function
    dict(exercise="n07_momentum_step", name="velocity with the opposite sign: v = βv + ηg, w = w - v",
         source=MOM + STEP + "    new_v = momentum * np.asarray(v) + learning_rate * np.asarray(g)\n"
                      "    return np.asarray(w) - new_v, new_v\n",
         scores={"n07_test_momentum_step": 0}, says="momentum * v - learning_rate * g"),
    dict(exercise="n07_momentum_step", name="moves w with the old velocity",
         source=MOM + STEP + "    new_v = momentum * np.asarray(v) - learning_rate * np.asarray(g)\n"
                      "    return np.asarray(w) + np.asarray(v), new_v\n",
         scores={"n07_test_momentum_step": 0}, says="new_v"),
    dict(exercise="n07_momentum_step", name="keeps its own velocity between calls, ignores v",
         source=MOM + "_velocity = {}\n\n\n" + STEP + "    key = np.shape(w)\n"
                      "    _velocity[key] = momentum * _velocity.get(key, 0.0) - learning_rate * np.asarray(g)\n"
                      "    return np.asarray(w) + _velocity[key], _velocity[key]\n",
         scores={"n07_test_momentum_step": 0}, says="velocity"),
    # Exercise 3: the custom training loop
    dict(exercise="n07_train_loop", name="not compiled with tf.function", source=loop(deco="# eager"),
         scores={"n07_test_train_loop": 0}, says="tf.function"),
    dict(exercise="n07_train_loop", name="cross-entropy on logits without from_logits=True", source=loop(logits=""),
         scores={"n07_test_train_loop": 0}, says="from logits"),
    dict(exercise="n07_train_loop", name="builds its own Adam instead of the optimizer it is given",
         source=loop(opt="own_optimizer", extra="    own_optimizer = keras.optimizers.Adam(1e-2)\n\n"),
         scores={"n07_test_train_loop": 0}, says="optimizer"),
    dict(exercise="n07_train_loop", name="the last batch's loss, not the epoch's mean", source=loop(mean="losses[-1]"),
         scores={"n07_test_train_loop": 0}, says="mean"),
]
