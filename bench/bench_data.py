"""Dataset load times (cold: decode from the verified files; warm: from the decoded cache) and the
import time of `course` with TensorFlow. Goal: warm load <= 1 s for MNIST and Sign Language Digits."""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course import data  # noqa: E402

LOADERS = {"mnist": data.load_mnist, "fashion-mnist": data.load_fashion_mnist,
           "sign-language-digits": data.load_sign_digits, "housing": data.load_housing}


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


with tempfile.TemporaryDirectory() as tmp:
    data.DECODED_DIR = Path(tmp)  # an empty decoded cache: the first load is cold
    print(f"{'dataset':<22}{'cold s':>8}{'warm s':>8}  goal")
    for name, load in LOADERS.items():
        cold = timed(load)
        warm = min(timed(load) for _ in range(3))
        goal = "warm <= 1 s: " + ("met" if warm <= 1 else "MISSED") if name in ("mnist", "sign-language-digits") else ""
        print(f"{name:<22}{cold:>8.2f}{warm:>8.2f}  {goal}")

code = "import time; t = time.perf_counter(); from course.setup import start; start(verbose=False); print(time.perf_counter() - t)"
runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)]
print(f"import course + TensorFlow + start(): best {min(runs):.2f} s of 3 fresh processes")
