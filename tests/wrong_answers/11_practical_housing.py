"""Wrong answers to 11's exercises (format: tests/test_wrong_answers.py). 11 is graded in the trusted process, where
the frames passed to preprocess cross as copies: the two answers that change them in place are caught by
grader_judge.changed_arguments() (autograder/README.md, "Mutation changes nothing")."""

PRE = "# GRADED FUNCTION: preprocess\ndef preprocess(train, frames, columns):\n"
MEDIAN = "    median = train[\"total_bedrooms\"].median()\n"
STATS = MEDIAN + "    filled = train[columns].fillna({\"total_bedrooms\": median})\n"
CLF = ("# GRADED FUNCTION: build_classifier\nimport keras\nfrom keras import layers\n\n\n"
       "def build_classifier(n_features, n_classes, hidden=(256, 256, 256), learning_rate=1e-3):\n"
       "    model = keras.Sequential([keras.Input((n_features,))]\n"
       "                             + [layers.Dense(units, activation=\"relu\") for units in {hidden}]\n"
       "                             + [layers.Dense(n_classes, activation=\"softmax\")])\n"
       "    model.compile({compile})\n    return model\n")
GOOD_COMPILE = 'optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]'


def clf(hidden="hidden", compile=GOOD_COMPILE):
    return CLF.format(hidden=hidden, compile=compile)


CONF = "# GRADED FUNCTION: confusion_and_scores\ndef confusion_and_scores(y_true, y_pred, n_classes):\n"
SCORES = ("    hits = np.diag(confusion).astype(np.float64)\n"
          "    with np.errstate(invalid=\"ignore\", divide=\"ignore\"):\n"
          "        precision = np.where(confusion.sum(axis=0) > 0, hits / confusion.sum(axis=0), np.nan)\n"
          "        recall = np.where(confusion.sum(axis=1) > 0, hits / confusion.sum(axis=1), np.nan)\n"
          "    return confusion, precision, recall\n")

WRONG_ANSWERS = [
    # Exercise 1: the preprocessing, with the training set's statistics only
    dict(exercise="n11_preprocess", name="each frame standardised with its own mean and std",
         source=PRE + MEDIAN + "    out = []\n    for frame in frames:\n"
                      "        f = frame[columns].fillna({\"total_bedrooms\": median})\n"
                      "        out.append(((f - f.mean()) / f.std(ddof=0)).to_numpy(np.float32))\n    return out\n",
         scores={"n11_test_preprocess": 0}),
    dict(exercise="n11_preprocess", name="each frame's missing values filled with its own median",
         source=PRE + "    filled = train[columns].fillna({\"total_bedrooms\": train[\"total_bedrooms\"].median()})\n"
                      "    mean, std = filled.mean(), filled.std(ddof=0)\n"
                      "    return [((f[columns].fillna({\"total_bedrooms\": f[\"total_bedrooms\"].median()}) - mean)"
                      " / std).to_numpy(np.float32)\n            for f in frames]\n",
         scores={"n11_test_preprocess": 0}),
    dict(exercise="n11_preprocess", name="pandas' default std (ddof=1)",
         source=PRE + STATS + "    mean, std = filled.mean(), filled.std()\n"
                      "    return [((f[columns].fillna({\"total_bedrooms\": median}) - mean) / std).to_numpy(np.float32)"
                      "\n            for f in frames]\n",
         scores={"n11_test_preprocess": 0}),
    dict(exercise="n11_preprocess", name="fills the missing values in the caller's frames (mutates its inputs)",
         source=PRE + MEDIAN + "    for f in frames:\n"
                      "        f[\"total_bedrooms\"] = f[\"total_bedrooms\"].fillna(median)\n"
                      "    mean, std = train[columns].mean(), train[columns].std(ddof=0)\n"
                      "    return [((f[columns] - mean) / std).to_numpy(np.float32) for f in frames]\n",
         scores={"n11_test_preprocess": 0}),
    dict(exercise="n11_preprocess", name="fillna(inplace=True) on the caller's frames (mutates its inputs)",
         source=PRE + MEDIAN + "    for f in frames:\n"
                      "        f.fillna({\"total_bedrooms\": median}, inplace=True)\n"
                      "    train.fillna({\"total_bedrooms\": median}, inplace=True)\n"
                      "    mean, std = train[columns].mean(), train[columns].std(ddof=0)\n"
                      "    return [((f[columns] - mean) / std).to_numpy(np.float32) for f in frames]\n",
         scores={"n11_test_preprocess": 0}),
    # Exercise 2: the classifier
    dict(exercise="n11_build_classifier", name="metrics passed by position: Keras 3 reads them as loss_weights",
         source=clf(compile='keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", ["accuracy"]'),
         scores={"n11_test_build_classifier": 0}),
    dict(exercise="n11_build_classifier", name="learning_rate ignored: Adam's default",
         source=clf(compile=GOOD_COMPILE.replace("keras.optimizers.Adam(learning_rate)", '"adam"')),
         scores={"n11_test_build_classifier": 0}),
    dict(exercise="n11_build_classifier", name="hidden ignored: always three layers of 256",
         source=clf(hidden="(256, 256, 256)"), scores={"n11_test_build_classifier": 0}),
    dict(exercise="n11_build_classifier", name="from_logits=True on a softmax output",
         source=clf(compile=GOOD_COMPILE.replace(
             '"sparse_categorical_crossentropy"', "keras.losses.SparseCategoricalCrossentropy(from_logits=True)")),
         scores={"n11_test_build_classifier": 0}),
    # Exercise 3: the confusion matrix and the scores
    dict(exercise="n11_confusion_and_scores", name="confusion[y_true, y_pred] += 1: repeated pairs counted once",
         source=CONF + "    confusion = np.zeros((n_classes, n_classes), np.int64)\n"
                       "    confusion[np.asarray(y_true), np.asarray(y_pred)] += 1\n" + SCORES,
         scores={"n11_test_confusion_and_scores": 0}),
    dict(exercise="n11_confusion_and_scores", name="counts in a float array (np.zeros' default)",
         source=CONF + "    confusion = np.zeros((n_classes, n_classes))\n"
                       "    np.add.at(confusion, (np.asarray(y_true), np.asarray(y_pred)), 1)\n" + SCORES,
         scores={"n11_test_confusion_and_scores": 0}),
    dict(exercise="n11_confusion_and_scores", name="0 instead of nan where nothing was predicted",
         source=CONF + "    confusion = np.zeros((n_classes, n_classes), np.int64)\n"
                       "    np.add.at(confusion, (np.asarray(y_true), np.asarray(y_pred)), 1)\n"
                       + SCORES.replace("np.nan)", "0.0)"),
         scores={"n11_test_confusion_and_scores": 0}),
    dict(exercise="n11_confusion_and_scores", name="precision and recall swapped (axis 1 for precision)",
         source=CONF + "    confusion = np.zeros((n_classes, n_classes), np.int64)\n"
                       "    np.add.at(confusion, (np.asarray(y_true), np.asarray(y_pred)), 1)\n"
                       + SCORES.replace("axis=0", "axis=T").replace("axis=1", "axis=0").replace("axis=T", "axis=1"),
         scores={"n11_test_confusion_and_scores": 0}),
]
