"""Wrong answers to 00's exercise (format: tests/test_wrong_answers.py)."""

HEAD = "# GRADED FUNCTION: flatten_and_scale\nimport numpy as np\n\n\ndef flatten_and_scale(images):\n"

WRONG_ANSWERS = [
    dict(exercise="n00_flatten_and_scale", name="hard-coded 784: fits MNIST only",
         source=HEAD + "    return np.asarray(images).reshape(-1, 784).astype(np.float32) / 255\n",
         scores={"n00_test_flatten_and_scale": 0}),
    dict(exercise="n00_flatten_and_scale", name="flattened but not scaled to [0, 1]",
         source=HEAD + "    images = np.asarray(images)\n    return images.reshape(len(images), -1).astype(np.float32)\n",
         scores={"n00_test_flatten_and_scale": 0}, says="divide by 255"),
    dict(exercise="n00_flatten_and_scale", name="float64: NumPy's default dtype",
         source=HEAD + "    images = np.asarray(images)\n    return images.reshape(len(images), -1) / 255\n",
         scores={"n00_test_flatten_and_scale": 0}, says="float32"),
    dict(exercise="n00_flatten_and_scale", name="integer division // 255",
         source=HEAD + "    images = np.asarray(images)\n"
                       "    return (images.reshape(len(images), -1) // 255).astype(np.float32)\n",
         scores={"n00_test_flatten_and_scale": 0}, says="divide by 255"),
]
