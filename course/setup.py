"""The one call at the top of every notebook: quiet logs, seeds, version checks, the device in use.

    from course.setup import start
    env = start(seed=42)                 # notebooks that use TensorFlow
    env = start(seed=42, tensorflow=False)  # NumPy-only notebooks (Part I) skip the TF import
"""

from __future__ import annotations

import logging
import os
import platform
import random
import sys
import warnings
from dataclasses import dataclass, field

# What the course is tested with. A different version may work, but results and timings can differ.
EXPECTED = {"python": (3, 11), "tensorflow": (2, 21), "keras": (3,), "numpy": (2,)}


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ INFO and WARNING lines off stderr, without turning oneDNN off.

    The C++ logger reads TF_CPP_MIN_LOG_LEVEL once, at import: call this before `import tensorflow`.
    Level 2 keeps real errors. TF_ENABLE_ONEDNN_OPTS=0 would silence oneDNN's notice too, but makes
    convolutions about 50% slower on CPU, so it is left alone.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="tensorflow")
    warnings.filterwarnings("ignore", module="keras")
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].get_logger().setLevel(logging.ERROR)


def seed_everything(seed: int, deterministic: bool = False, tensorflow: bool = True) -> None:
    """Seed Python, NumPy and (if loaded or asked for) TensorFlow/Keras.

    `deterministic=True` also makes TensorFlow's ops deterministic: same results run after run, at a
    cost in speed (notebook 08 measures it).
    """
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    if tensorflow:
        import tensorflow as tf

        tf.keras.utils.set_random_seed(seed)  # Python, NumPy and TF in one call
        if deterministic:
            tf.config.experimental.enable_op_determinism()


def compute_device() -> str:
    """'/GPU:0' when TensorFlow sees a GPU, else '/CPU:0'."""
    import tensorflow as tf

    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_versions(versions: dict[str, str]) -> list[str]:
    """Advice for each package whose version differs from what the course is tested with."""
    problems = []
    for name, want in EXPECTED.items():
        have = versions.get(name)
        if have is None:
            continue
        if _version_tuple(have)[: len(want)] != want:
            problems.append(f"{name} {have} is installed; the course is tested with "
                            f"{'.'.join(map(str, want))}.x. Run `make setup` in the course folder "
                            f"and choose the kernel 'Python (TF course)'.")
    return problems


@dataclass
class Environment:
    seed: int
    versions: dict[str, str]
    device: str
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = ["  ".join(f"{k} {v}" for k, v in self.versions.items()),
                 f"device: {self.device}   seed: {self.seed}"]
        lines += [f"WARNING: {p}" for p in self.problems]
        return "\n".join(lines)


def start(seed: int = 42, tensorflow: bool = True, deterministic: bool = False,
          verbose: bool = True) -> Environment:
    """Set up a notebook: quiet logs, seed everything, check versions, pick the device, print them."""
    import numpy as np

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    device = "CPU (NumPy)"
    if tensorflow:
        quiet_tensorflow()
        import keras
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)
        versions.update(tensorflow=tf.__version__, keras=keras.__version__)
        device = compute_device()
    seed_everything(seed, deterministic=deterministic, tensorflow=tensorflow)
    try:
        import matplotlib

        matplotlib.rcParams.update({"figure.dpi": 100, "figure.figsize": (6.4, 4.0),
                                    "axes.grid": True, "grid.alpha": 0.3})
    except ImportError:
        pass
    env = Environment(seed, versions, device, check_versions(versions))
    if verbose:
        print(env)
    return env
