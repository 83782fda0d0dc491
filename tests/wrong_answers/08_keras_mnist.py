"""Wrong answers to 08's exercises (format: tests/test_wrong_answers.py)."""

MODEL = ("# GRADED FUNCTION: build_model\n\n\n{pre}def build_model():\n    {ret}keras.Sequential([\n"
         "        keras.Input(shape=(28, 28)),\n        keras.layers.Flatten(),\n"
         "        keras.layers.Dense(512, activation=\"{act}\"),\n{dropout}"
         "        keras.layers.Dense(10{out}),\n    ])\n{post}")


def model(pre="", ret="return ", act="relu", dropout="        keras.layers.Dropout(0.2),\n",
          out=', activation="softmax"', post=""):
    return MODEL.format(pre=pre, ret=ret, act=act, dropout=dropout, out=out, post=post)


COMPILE = ("# GRADED FUNCTION: compile_model\n\n\ndef compile_model(model, learning_rate=1e-3):\n"
           "    model.compile(optimizer={opt},\n                  loss={loss},\n"
           "                  metrics=[\"accuracy\"]{spe})\n    return model\n")


def compile_(opt="keras.optimizers.Adam(learning_rate)", loss='"sparse_categorical_crossentropy"',
             spe=", steps_per_execution=50"):
    return COMPILE.format(opt=opt, loss=loss, spe=spe)


EVAL = ("# GRADED FUNCTION: evaluate_model\n\n\ndef evaluate_model(model, x, y, batch_size=1000):\n"
        "    predicted = np.argmax(model.predict(x, batch_size=batch_size, verbose=0), axis=1)\n"
        "    wrong = predicted != np.asarray(y)\n")

WRONG_ANSWERS = [
    # Exercise 1: the model
    dict(exercise="n08_build_model", name="no Dropout (no parameters: the count still matches)",
         source=model(dropout=""), scores={"n08_test_build_model": 0}, says="Dropout"),
    dict(exercise="n08_build_model", name="one model made once, returned by every call",
         source=model(pre="_MODEL = ", ret="", post="\n\ndef build_model():\n    return _MODEL\n").replace(
             "def build_model():\n    keras", "keras", 1),
         scores={"n08_test_build_model": 0}, says="new model"),
    dict(exercise="n08_build_model", name="linear output: logits, not probabilities", source=model(out=""),
         scores={"n08_test_build_model": 0}, says="softmax"),
    # Exercise 2: compile
    dict(exercise="n08_compile_model", name="steps_per_execution left out", source=compile_(spe=""),
         scores={"n08_test_compile_model": 0}, says="steps_per_execution"),
    dict(exercise="n08_compile_model", name="from_logits=True on a softmax output",
         source=compile_(loss="keras.losses.SparseCategoricalCrossentropy(from_logits=True)"),
         scores={"n08_test_compile_model": 0}, says="from_logits"),
    dict(exercise="n08_compile_model", name="learning_rate ignored: Adam's default", source=compile_(opt='"adam"'),
         scores={"n08_test_compile_model": 0}, says="learning_rate"),
    # Exercise 3: the evaluation helper
    dict(exercise="n08_evaluate_model", name="accuracy over 10,000: fits the test set only",
         source=EVAL + "    return {\"accuracy\": float(1.0 - wrong.sum() / 10_000),"
                       " \"errors\": np.flatnonzero(wrong).astype(np.int64)}\n",
         scores={"n08_test_evaluate_model": 0}, says="accuracy"),
    dict(exercise="n08_evaluate_model", name="errors as a Python list",
         source=EVAL + "    return {\"accuracy\": float(1.0 - wrong.mean()), \"errors\": list(np.flatnonzero(wrong))}\n",
         scores={"n08_test_evaluate_model": 0}, says="int64"),
    dict(exercise="n08_evaluate_model", name="errors as the boolean mask, not the indices",
         source=EVAL + "    return {\"accuracy\": float(1.0 - wrong.mean()), \"errors\": wrong}\n",
         scores={"n08_test_evaluate_model": 0}),
]
