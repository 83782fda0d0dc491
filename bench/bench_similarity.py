"""The similarity report for a class of 300 generated students of the largest notebook (03_backprop_by_hand: the
most solution code of the course), timed end to end: reading 300 notebooks, fingerprints, 44,850 pairs, csv,
heat map and HTML. The issue's budget is a minute on 2 cores.

Each generated student answers each exercise with one of five independent correct answers (the instructor's and
the four hand-written ones of tests/fixtures/similarity/independent_03.py), with their own variable names and
comments, or leaves it as the stub; 30 of them copy another student (renamed variables, new comments,
reformatted). Printed: the time, and how many of the planted copies rank above every pair that is not a copy.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "similarity"))
import similarity  # noqa: E402
from copier_edits import instructor_answers, recomment, reformat, rename_locals, write_notebook  # noqa: E402
from independent_03 import AUTHORS  # noqa: E402

A = "03_backprop_by_hand"
N_STUDENTS, N_COPIES = 300, 30


def generate(root: Path, seed: int = 0) -> tuple[dict[str, str], dict[str, dict]]:
    """Writes the class under root; returns {student: the student whose work it is} (itself unless a copy) and
    {student: {exercise: which of the five answers it drew}}."""
    import json

    rng = random.Random(seed)
    release = json.loads((ROOT / "notebooks" / A / f"{A}.ipynb").read_text())
    styles = [instructor_answers()] + list(AUTHORS.values())
    answers, author, drawn = {}, {}, {}
    for i in range(N_STUDENTS - N_COPIES):
        name = f"s{i:03d}"
        cells, drawn[name] = {}, {}
        for gid in styles[0]:
            options = [k for k, s in enumerate(styles) if gid in s]
            if rng.random() < 0.1:
                continue  # left as the stub
            drawn[name][gid] = rng.choice(options)
            cells[gid] = recomment(rename_locals(styles[drawn[name][gid]][gid], prefix=f"{name}_"))
        answers[name], author[name] = cells, name
    originals = sorted(answers)
    for i in range(N_COPIES):
        source = rng.choice(originals)
        name = f"c{i:03d}"
        answers[name] = {g: reformat(rename_locals(s, prefix=f"{name}_")) for g, s in answers[source].items()}
        author[name], drawn[name] = source, drawn[source]
    for name, cells in answers.items():
        write_notebook(root / name / A / f"{A}.ipynb", cells, release)
    return author, drawn


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        root = Path(tmp) / "submitted"
        author, drawn = generate(root)
        start, cpu = time.perf_counter(), time.process_time()
        pairs = similarity.write_similarity(root, Path(tmp) / "out")[A]
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    def same_draws(p):
        both = drawn[p.a].keys() & drawn[p.b].keys()
        return sum(drawn[p.a][g] == drawn[p.b][g] for g in both) > len(both) / 2

    planted = [p for p in pairs if author[p.a] == author[p.b]]
    lookalike = [p for p in pairs if author[p.a] != author[p.b] and same_draws(p)]
    others = max((p.similarity for p in pairs if author[p.a] != author[p.b] and not same_draws(p)), default=0.0)
    above = sum(p.similarity > others for p in planted)
    print(f"similarity report, {N_STUDENTS} students of {A} ({len(pairs)} pairs): {seconds:.1f} s wall, "
          f"{cpu:.1f} s CPU (budget 60 s on 2 cores; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
          "cores during the run)")
    print(f"planted copies ranked above every other pair: {above}/{len(planted)} "
          f"(weakest copy {min(p.similarity for p in planted):.2f}, most similar other pair {others:.2f}); "
          f"left out: {len(lookalike)} pairs of generated students who drew the same answer for most exercises, "
          f"so have the same code (most similar {max((p.similarity for p in lookalike), default=0):.2f})")
    return 0 if cpu < 60 else 1  # CPU time: the wall clock of a shared machine measures its load


if __name__ == "__main__":
    sys.exit(main())
