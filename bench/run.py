"""`make bench`: run every bench/bench_*.py in turn (each prints its own figures)."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = 0
for script in sorted(here.glob("bench_*.py")):
    print(f"\n=== {script.name}", flush=True)
    failed |= subprocess.run([sys.executable, str(script)], cwd=here.parent).returncode
sys.exit(failed)
