"""Wrong answers to 01's exercises (format: tests/test_wrong_answers.py)."""

SPLIT = "# GRADED FUNCTION: train_val_test_split\ndef train_val_test_split(X, y, val_fraction=0.1, test_fraction=0.1, seed=0):\n"
ORDER = "    n = len(X)\n    order = np.random.default_rng(seed).permutation(n)\n"
SIZES = "    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
VAL_TEST_TRAIN = "    val, test, train = order[:n_val], order[n_val:n_val + n_test], order[n_val + n_test:]\n"
RETURN_INDEXED = "    return (X[train], y[train]), (X[val], y[val]), (X[test], y[test])\n"
RETURN_SLICED = ("    return (X[n_val + n_test:], y[n_val + n_test:]), (X[:n_val], y[:n_val]), "
                 "(X[n_val:n_val + n_test], y[n_val:n_val + n_test])\n")
PAIRS = "# GRADED FUNCTION: pairwise_squared_distances\ndef pairwise_squared_distances(A, B):\n"
KNN = "# GRADED FUNCTION: knn_predict\ndef knn_predict(X_train, y_train, X_query, k=1):\n"
ACC = ("# GRADED FUNCTION: accuracy, confusion_matrix\ndef accuracy(y_true, y_pred):\n"
       "    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))\n\n\n"
       "def confusion_matrix(y_true, y_pred, num_classes):\n")
T_SPLIT = "n01_test_train_val_test_split"
T_PAIRS = "n01_test_pairwise_squared_distances"
T_KNN = "n01_test_knn_predict"
T_ACC = "n01_test_accuracy_confusion"

WRONG_ANSWERS = [
    # Exercise 1
    dict(exercise="n01_train_val_test_split", name="int() instead of round(): sizes off by one",
         source=SPLIT + ORDER + SIZES.replace("round(", "int(") + VAL_TEST_TRAIN + RETURN_INDEXED,
         scores={T_SPLIT: 0}, says="round"),
    dict(exercise="n01_train_val_test_split", name="no shuffle: the first examples validate",
         source=SPLIT + "    n = len(X)\n" + SIZES + RETURN_SLICED,
         scores={T_SPLIT: 0}, says="different seeds"),
    dict(exercise="n01_train_val_test_split", name="training set first, validation last",
         source=SPLIT + ORDER + SIZES + "    n_train = n - n_val - n_test\n"
                "    train, test, val = order[:n_train], order[n_train:n_train + n_test], order[n_train + n_test:]\n"
                + RETURN_INDEXED,
         scores={T_SPLIT: 0}, says="first n_val"),
    dict(exercise="n01_train_val_test_split", name="shuffles X and y in place, each with its own draw",
         source=SPLIT + "    rng = np.random.default_rng(seed)\n    rng.shuffle(X)\n    rng.shuffle(y)\n    n = len(X)\n"
                + SIZES + RETURN_SLICED,
         scores={T_SPLIT: 0}, says="aligned"),
    # Exercise 2
    dict(exercise="n01_pairwise_squared_distances", name="double Python loop over the pairs",
         source=PAIRS + "    D = np.zeros((len(A), len(B)), dtype=A.dtype)\n    for i in range(len(A)):\n"
                        "        for j in range(len(B)):\n            D[i, j] = np.sum((A[i] - B[j]) ** 2)\n    return D\n",
         scores={T_PAIRS: 0}, says="Python loop"),
    dict(exercise="n01_pairwise_squared_distances", name="3-D broadcast of the differences",
         source=PAIRS + "    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2)\n",
         scores={T_PAIRS: 0}, says="3-D broadcast"),
    dict(exercise="n01_pairwise_squared_distances", name="the identity without the clip at 0",
         source=PAIRS + "    return (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2 * (A @ B.T)\n",
         scores={T_PAIRS: 0}, says="clip"),
    dict(exercise="n01_pairwise_squared_distances", name="float64 whatever A's dtype",
         source=PAIRS + "    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)\n"
                        "    D = (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2 * (A @ B.T)\n"
                        "    return np.maximum(D, 0)\n",
         scores={T_PAIRS: 0}, says="dtype of A"),
    # Exercise 3
    dict(exercise="n01_knn_predict", name="always the nearest neighbour: k ignored",
         source=KNN + "    D = pairwise_squared_distances(X_query, X_train)\n"
                      "    return np.asarray(y_train)[np.argmin(D, axis=1)]\n",
         scores={T_KNN: 0}),
    dict(exercise="n01_knn_predict", name="Counter.most_common: a tie goes to the nearer label",
         source=KNN + "    from collections import Counter\n"
                      "    D = pairwise_squared_distances(X_query, X_train)\n"
                      "    nearest = np.argsort(D, axis=1, kind='stable')[:, :k]\n"
                      "    return np.array([Counter(np.asarray(y_train)[r].tolist()).most_common(1)[0][0] for r in nearest])\n",
         scores={T_KNN: 0}, says="smallest label"),
    dict(exercise="n01_knn_predict", name="mean of the neighbours' labels, rounded",
         source=KNN + "    D = pairwise_squared_distances(X_query, X_train)\n"
                      "    nearest = np.argsort(D, axis=1)[:, :k]\n"
                      "    return np.round(np.asarray(y_train)[nearest].mean(axis=1)).astype(int)\n",
         scores={T_KNN: 0}),
    # Exercise 4
    dict(exercise="n01_accuracy_confusion", name="C[t, p] += 1 with index arrays",
         source=ACC + "    C = np.zeros((num_classes, num_classes), dtype=np.int64)\n"
                      "    C[np.asarray(y_true), np.asarray(y_pred)] += 1\n    return C\n",
         scores={T_ACC: 0}, says="counts it once"),
    dict(exercise="n01_accuracy_confusion", name="transposed: rows are the predictions",
         source=ACC + "    C = np.zeros((num_classes, num_classes), dtype=np.int64)\n"
                      "    np.add.at(C, (np.asarray(y_pred), np.asarray(y_true)), 1)\n    return C\n",
         scores={T_ACC: 0}),
    dict(exercise="n01_accuracy_confusion", name="float counts (np.zeros' default dtype)",
         source=ACC + "    C = np.zeros((num_classes, num_classes))\n"
                      "    np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)\n    return C\n",
         scores={T_ACC: 0}, says="int64"),
    dict(exercise="n01_accuracy_confusion", name="size from the labels seen, not num_classes",
         source=ACC + "    k = int(max(np.max(y_true), np.max(y_pred))) + 1\n"
                      "    return np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k).reshape(k, k)\n",
         scores={T_ACC: 0}, says="num_classes"),
]
