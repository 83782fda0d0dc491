"""Training throughput of the TF1-session 784-128-32-10 MLP (notebook 06) on real MNIST, in images per second.

One step = slice a random mini-batch of 100 images from NumPy arrays, feed it through feed_dict, run the Adam
training op of a tf.compat.v1 graph (bench/tf1_mlp_graph.py) in a Session (course/tf1_mlp.py). The TF2/Keras benchmarks of notebook 07
use the same model, batch size and data, so their figures compare with these.
Usage: python bench/bench_tf1_mlp.py [steps]   (default 1000 timed steps after 50 warm-up steps, best of 3)
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from course.setup import import_tensorflow  # noqa: E402

tf = import_tensorflow()  # TensorFlow's start-up notices filtered, as in the notebooks
from course import data, tf1_mlp  # noqa: E402
from tf1_mlp_graph import build_graph  # noqa: E402

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
BATCH = tf1_mlp.BATCH_SIZE

(x_train, y_train), _, _ = data.load_mnist(validation=True)
x, y = tf1_mlp.prepare(x_train, y_train)

model = build_graph()
weights, biases = tf1_mlp.count_parameters(model)
print(f"TF {tf.__version__}, tf.compat.v1 Session, MLP {'-'.join(map(str, model.layer_sizes))} "
      f"({weights:,} weights + {biases} biases), Adam, batch size {BATCH}, {len(x):,} MNIST training images, "
      f"{os.cpu_count()} CPU cores visible")
with tf1_mlp.session(model) as sess:
    runs = []
    for _ in range(3):
        runs.append(tf1_mlp.train_throughput(model, sess, x, y, steps=STEPS, batch_size=BATCH, warmup=50))
    print(f"training throughput: best {max(runs):,.0f} images/s of 3 runs of {STEPS} steps "
          f"(all runs: {', '.join(f'{r:,.0f}' for r in runs)})")
