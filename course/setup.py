"""The one call at the top of every notebook: quiet logs, seeds, version checks, the device in use.

    from course.setup import start
    env = start(seed=42)                 # notebooks that use TensorFlow
    env = start(seed=42, tensorflow=False)  # NumPy-only notebooks (Part I) skip the TF import
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import random
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass, field

# What the course is tested with. A different version may work, but results and timings can differ.
EXPECTED = {"python": (3, 11), "tensorflow": (2, 21), "keras": (3,), "numpy": (2,)}


# One line of TensorFlow's C++ log (absl format, "I0000 00:00:1796295693.890701    4044 port.cc:153] ..."),
# absl's notice that precedes the first of them, or the older "2024-05-01 12:00:00.000: I tensorflow/..." form.
TF_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] "
                         r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
                         r"|\d{4}-\d\d-\d\d [\d:.]+: [IWEF] (?:tensorflow|external|xla)/)")

# The start-up notices TensorFlow's shared libraries write to file descriptor 2 while they load, whatever
# TF_CPP_MIN_LOG_LEVEL says (TF 2.21 logs them before absl reads its settings). They say nothing a student can
# act on. Anything else written during the import, a real error or a warning about the student's own
# settings, is passed through.
_STARTUP_NOTICES = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|oneDNN custom operations are on\."                         # CPUs where TF turns oneDNN on by default
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|Unable to register cu(?:DNN|FFT|BLAS) factory: Attempting to register factory"  # CUDA build
    r"|computation placer already registered")
# The second line of the multi-line notice above (cpu_feature_guard): dropped only right after it.
_NOTICE_CONTINUATION = re.compile(r"^To enable the following instructions: .*rebuild TensorFlow")


def drop_startup_notices(text: str) -> str:
    """`text` without TensorFlow's known start-up notices; every other line is kept, in order."""
    kept, previous_dropped = [], False
    for line in text.splitlines(keepends=True):
        notice = TF_LOG_LINE.match(line) and _STARTUP_NOTICES.search(line)  # absl's pre-init line is a TF_LOG_LINE
        if notice or (previous_dropped and _NOTICE_CONTINUATION.match(line)):
            previous_dropped = True
            continue
        previous_dropped = False
        kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def startup_notices_filtered():
    """Capture file descriptor 2 (where C++ libraries write) while the block runs, then write everything
    that is not a known start-up notice to `sys.stderr`: in a terminal, stderr; in Jupyter, the cell's output.

    Redirecting the descriptor, not `sys.stderr`, is what catches native code. Meant for short blocks
    (importing TensorFlow): output is held back until the block ends.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 at all: nothing to filter
        yield
        return
    capture = tempfile.TemporaryFile()
    try:
        os.dup2(capture.fileno(), 2)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()  # Python-level writes made during the block, when sys.stderr is fd 2
        os.dup2(saved, 2)
        os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", errors="replace")
        capture.close()
        rest = drop_startup_notices(text)
        if rest:
            sys.stderr.write(rest)
            sys.stderr.flush()


def import_tensorflow():
    """`import tensorflow` (and Keras) quietly: TensorFlow's start-up notices filtered, real errors kept.

    Every process of the course that uses TensorFlow (notebooks through `start()`, the grader's processes,
    bench/, worker processes) imports it through here, or through `start()`, first.
    """
    quiet_tensorflow()
    if "tensorflow" not in sys.modules:
        with startup_notices_filtered():
            import keras  # noqa: F401  (Keras 3 imports TensorFlow: both load inside the filter)
            import tensorflow  # noqa: F401
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    return tf


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ INFO and WARNING lines off stderr, without turning oneDNN off.

    The C++ logger reads TF_CPP_MIN_LOG_LEVEL once, at import: call this before `import tensorflow`.
    Level 2 keeps real errors. It does not stop the notices TF 2.21 writes while its libraries load
    (oneDNN's, on CPUs where it is on by default): `import_tensorflow()` filters those.
    TF_ENABLE_ONEDNN_OPTS=0 would silence oneDNN's notice too, but makes convolutions about 50% slower
    on CPU, so it is left alone.
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
        tf = import_tensorflow()
        import keras

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
