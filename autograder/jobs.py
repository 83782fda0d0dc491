"""Run stage: the job backends. A job is one submitted notebook to grade (a JSON-able dict planned by batch.py);
its result is plain data (status, messages, scores, feedback cells). `run_jobs` is the one entry point; the local
backend grades on this machine with one worker per slot."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from collect import printable
from report import load_result
from settings import Settings

HERE = Path(__file__).resolve().parent


def error_result(status: str, message: str) -> dict:
    return {"status": status, "messages": [message], "scores": {}, "feedback_cells": []}


def grade_notebook(job: dict, timeout: float) -> dict:
    """Grade one notebook: trusted.py in a fresh process (it starts the sandboxed student process itself).
    Never raises: whatever goes wrong is this notebook's result."""
    job_path = Path(job["out"]).with_suffix(".job.json")
    job_path.write_text(json.dumps(job))
    try:
        proc = subprocess.run([sys.executable, str(HERE / "trusted.py"), str(job_path)], cwd=job["trusted_dir"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)
        if Path(job["out"]).is_file():
            return load_result(Path(job["out"]))
        return error_result("error", f"grader crashed: {proc.stdout.decode(errors='replace')[-500:]}")
    except subprocess.TimeoutExpired:
        return error_result("limit", f"time limit exceeded: the notebook ran longer than {timeout:.0f} s")
    except Exception as exc:  # noqa: BLE001 (one notebook's failure is its row's, never the batch's)
        return error_result("error", f"grader error: {type(exc).__name__}: {printable(str(exc))[:300]}")


def run_jobs(jobs: list, settings: Settings) -> dict:
    """{key: result} for every (key, job) of jobs, each graded exactly once: on the Dask cluster of
    settings.scheduler (cluster.py), else on this machine."""
    if settings.scheduler:
        from cluster import run_cluster

        return run_cluster(jobs, settings.scheduler)
    return run_local(jobs, settings)


def run_local(jobs: list, settings: Settings) -> dict:
    """A thread per worker slot, each driving one trusted process at a time."""
    from tqdm import tqdm

    slots: queue.Queue = queue.Queue()
    for i in range(settings.jobs):
        slots.put(i)
    # One uid per worker slot AND per run: two grading runs at once (two instructors, or tests beside CI) never
    # share a uid, so neither's RLIMIT_NPROC budget is eaten by the other's fork bomb.
    uid_base = 100_000 + (os.getpid() % 100_000) * 64

    def one(job):
        slot = slots.get()
        try:
            return grade_notebook(dict(job, uid=uid_base + slot % 64), settings.limits.notebook_seconds + 60)
        finally:
            slots.put(slot)

    results = {}
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool, \
            tqdm(total=len(jobs), desc="grading", unit="nb", file=sys.stderr, disable=not jobs) as bar:
        futures = {pool.submit(one, job): key for key, job in jobs}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    return results
