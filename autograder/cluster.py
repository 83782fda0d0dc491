"""Grading on a Dask distributed cluster (issue 17): the cluster backend of the run stage, and the worker.

    python autograder/cluster.py worker tcp://HOST:8786 [--nthreads N]     (`make grade-worker SCHEDULER=...`)

The submitting process (grade.py with `--scheduler`) sends every notebook's job to the scheduler as plain data:
the bytes of the student's files, of the instructor's source notebook with the assignment's other files, of the
release notebook and of the sandbox library, plus the job's plain fields (the student's cells, the limits, the
ignore pattern). No shared file system: a worker unpacks a job into a temporary folder of its own, grades it with
the same function as local grading (`jobs.grade_notebook`: trusted.py in a fresh process, the student's code in
bubblewrap) and returns the result dict (JSON-able). Results are merged and written once, by the submitting process.

Resilience is Dask's: a job whose worker dies is rescheduled on another worker; after `allowed-failures` deaths
(the scheduler's setting; `run_cluster` sets it to MAX_TRIES - 1) it comes back as KilledWorker and the notebook
gets status `error`; the batch goes on. Every job has its own key, and each key's result is taken once.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

MAX_TRIES = 3  # a notebook whose worker died this many times is graded `error`
EXCEPTION_RETRIES = 1  # an exception on the worker side (a full disk while unpacking): tried once more
# The grader's own code a worker runs: the submitting machine and every worker must have the same.
CODE_FILES = ("cluster.py", "jobs.py", "settings.py", "report.py", "collect.py", "trusted.py", "sandbox.py",
              "cellshell.py", "plainwire.py", "graphwire.py", "needed_cells.py", "student_runner.py")
TMP_PREFIX = "tf-course-grade-"  # + the worker's pid: a folder per job, in the worker machine's temporary folder
PATH_FIELDS = ("source", "release", "libdir", "scratch", "trusted_dir", "out")


def code_version() -> str:
    """A digest of the grader's code on this machine as it is now (the submitting process reads it once per run;
    a worker at every job, since each job starts trusted.py afresh from the files)."""
    h = hashlib.sha256()
    for name in CODE_FILES:
        h.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------ packing (submitting side)
def _files(folder: Path, keep=lambda rel: True) -> list[list[bytes]]:
    """[[relative path as bytes, content], ...] of the regular files below folder (links never followed)."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not path.is_symlink() and keep(rel):
            out.append([os.fsencode(str(rel)), path.read_bytes()])
    return out


def pack_course(job: dict) -> dict:
    """What every job of one notebook shares: the instructor's source notebook with the assignment's other files,
    the release notebook, the sandbox library."""
    source = Path(job["source"])

    def assignment_file(rel: Path) -> bool:  # the other notebooks of the assignment are not needed
        return rel.suffix != ".ipynb" or rel == Path(source.name)

    return {"source_name": source.name, "assignment": _files(source.parent, assignment_file),
            "release": Path(job["release"]).read_bytes(), "libdir": _files(Path(job["libdir"]))}


def pack_student(job: dict) -> dict:
    """One job without paths: its plain fields and the bytes of the student's files (the scratch folder)."""
    plain = {k: v for k, v in job.items() if k not in PATH_FIELDS}
    return {"job": plain, "scratch": _files(Path(job["scratch"])), "trusted": _files(Path(job["trusted_dir"]))}


# ------------------------------------------------------------------ unpacking and grading (worker side)
def _unpack(files: list, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for rel_bytes, data in files:
        rel = Path(os.fsdecode(rel_bytes))
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"refusing to unpack {rel!r}")
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _remove(folder: Path) -> None:
    """Remove a job's folder, also what a student made unreadable (chmod 000) inside their scratch copy."""
    for dirpath, dirnames, _files_ in os.walk(folder):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)


def _remove_left_behind() -> None:
    """The job folders of workers of this machine that died (killed, out of memory) while grading."""
    for folder in Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}*-*"):
        pid = folder.name[len(TMP_PREFIX):].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _remove(folder)


_slots_lock = threading.Lock()
_slots_used: set[int] = set()


def _take_slot() -> int:
    with _slots_lock:
        slot = min(set(range(len(_slots_used) + 1)) - _slots_used)
        _slots_used.add(slot)
        return slot


def grade_packed(course: dict, student: dict, version: str = "") -> dict:
    """Runs on a worker: unpack into a temporary folder, grade with jobs.grade_notebook, return the result."""
    from jobs import error_result, grade_notebook

    if version and version != code_version():
        return error_result("error", f"grader error: the worker's grader code ({code_version()}) differs from the "
                                     f"submitting machine's ({version}): update the worker's checkout")
    _remove_left_behind()
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-"))
    slot = _take_slot()
    try:
        course_dir, release = tmp / "course", tmp / "release.ipynb"
        _unpack(course["assignment"], course_dir)
        release.write_bytes(course["release"])
        _unpack(course["libdir"], tmp / "lib")
        (tmp / "lib").chmod(0o755)
        _unpack(student["scratch"], tmp / "scratch")
        _unpack(student["trusted"], tmp / "trusted")
        job = dict(student["job"], source=str(course_dir / course["source_name"]), release=str(release),
                   libdir=str(tmp / "lib"), scratch=str(tmp / "scratch"), trusted_dir=str(tmp / "trusted"),
                   out=str(tmp / "result.json"),
                   # one uid per thread of this worker AND per worker process (as grade.py's local slots)
                   uid=100_000 + (os.getpid() % 100_000) * 64 + slot % 64)
        limits = job.get("limits") or {}
        return grade_notebook(job, float(limits.get("notebook_seconds", 900.0)) + 60)
    finally:
        with _slots_lock:
            _slots_used.discard(slot)
        _remove(tmp)


# ------------------------------------------------------------------ the backend (submitting side)
# The functions a task runs. The scheduler unpickles every task (and need not have this checkout), so they are
# lambdas, which cloudpickle sends by value: they import this module on the worker, by name, when they run.
# (A test replaces remote_grade by a function of its own.)
remote_grade = lambda course, student, version: __import__("cluster").grade_packed(  # noqa: E731
    course, student, version)
course_task = lambda packed: packed  # noqa: E731 (its result: the packed course, kept by the workers using it)


def connect(address: str, timeout: float = 30.0):
    from distributed import Client

    logging.getLogger("distributed").setLevel(logging.ERROR)  # worker deaths are reported per row, not logged
    try:
        return Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise SystemExit(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def run_cluster(jobs: list, address: str, worker_timeout: float = 300.0, progress: bool = True) -> dict:
    """{key: result} for every (key, job) of jobs, graded on the cluster at address (remote_grade: grade_packed on
    a worker), each key's result taken once."""
    from distributed import as_completed
    from tqdm import tqdm

    client = connect(address)
    try:
        try:
            client.wait_for_workers(1, timeout=worker_timeout)
        except TimeoutError:
            raise SystemExit(f"no grading worker joined {address} within {worker_timeout:.0f} s: start one with "
                             f"`make grade-worker SCHEDULER={address}`") from None
        version = code_version()
        other = {w: v for w, v in client.run(code_version).items() if v != version}
        if other:
            raise SystemExit(f"these workers run other grader code than this checkout ({version}): {other}")
        # the bound on tries, set on the scheduler (a function pickled by value: the scheduler's machine may not
        # have this checkout)
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", MAX_TRIES - 1))
        batch = uuid.uuid4().hex[:12]
        courses, futures, todo = {}, {}, list(enumerate(jobs))[::-1]

        def submit_next() -> None:
            i, (key, job) = todo.pop()
            shared = (job["source"], job["release"], job["libdir"])
            if shared not in courses:  # sent once per notebook; a task, so a lost copy is recomputed
                courses[shared] = client.submit(course_task, pack_course(job), pure=False,
                                                key=f"course-{batch}-{len(courses)}", retries=EXCEPTION_RETRIES)
            future = client.submit(remote_grade, courses[shared], pack_student(job), version, pure=False,
                                   key=f"grade-{batch}-{i}", retries=EXCEPTION_RETRIES)
            futures[future] = key
            running.add(future)

        def fill() -> None:
            # No more jobs in flight than the cluster has threads now (workers may join or leave): a worker holds
            # only what it is grading, so its death counts against those notebooks alone (Dask counts a death
            # against every task the worker held).
            while todo and len(futures) < max(1, sum(client.nthreads().values())):
                submit_next()

        running = as_completed()
        fill()
        results = {}
        with tqdm(total=len(jobs), desc="grading (cluster)", unit="nb", file=sys.stderr,
                  disable=not (jobs and progress)) as bar:
            for future in running:
                key = futures.pop(future)
                if key not in results:  # one future per key: each result is taken once
                    results[key] = _result_of(future)
                future.release()
                bar.update(1)
                fill()
        return results
    finally:
        client.close()


def _result_of(future) -> dict:
    from distributed import KilledWorker

    from jobs import error_result

    try:
        result = future.result()
        if not isinstance(result, dict):
            raise TypeError(f"a worker returned {type(result).__name__}")
        return result
    except KilledWorker:
        return error_result("error", f"grader error: the grading worker died on each of {MAX_TRIES} tries "
                                     "with this notebook (not graded)")
    except Exception as exc:  # noqa: BLE001 (one notebook's failure is its row's, never the batch's)
        return error_result("error", f"grader error on the cluster: {type(exc).__name__}: {str(exc)[:300]}")


# ------------------------------------------------------------------ a cluster on this machine (tests, bench)
@contextlib.contextmanager
def localhost_cluster(workers: int = 2, nthreads: int = 1, logs: Path | None = None, timeout: float = 180.0):
    """A scheduler and `workers` grading workers (each under its nanny) on 127.0.0.1, as processes of their own;
    yields the scheduler's address. Always stopped: each process group is killed on the way out (nanny, worker
    and any trusted.py a killed worker left behind)."""
    from distributed import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    logs = Path(logs or tempfile.mkdtemp(prefix="tf-course-dask-logs-"))
    procs: list[subprocess.Popen] = []

    def start(name: str, argv: list[str]) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))

    try:
        start("scheduler", [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                            "--port", str(port), "--no-dashboard"])
        for i in range(workers):
            start(f"worker{i}", [sys.executable, str(HERE / "cluster.py"), "worker", address,
                                 "--nthreads", str(nthreads), "--name", f"w{i}"])
        deadline = time.monotonic() + timeout
        while True:  # the scheduler needs a moment to listen, the workers to start
            try:
                with Client(address, timeout="10s") as client:
                    client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError(f"the localhost cluster did not start: see {logs}") from None
                time.sleep(1)
        yield address
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ------------------------------------------------------------------ the worker (`make grade-worker`)
def check_worker_machine() -> str:
    """'' when this machine can grade, else what is missing, in words."""
    from sandbox import bwrap_available

    if not bwrap_available():
        return ("bubblewrap (bwrap) is required to grade: `sudo apt-get install bubblewrap` (or `make grade-deps` "
                "as root)")
    probe = ["bwrap", "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--die-with-parent", "true"]
    if os.geteuid() != 0:
        probe[1:1] = ["--unshare-user"]
    proc = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        return ("bubblewrap cannot create the sandbox's namespaces here (run the worker as root, or allow "
                f"unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1): {proc.stderr.strip()}")
    return ""


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cluster.py worker", description="one grading worker for a Dask scheduler")
    parser.add_argument("scheduler", help="the scheduler's address, tcp://HOST:8786")
    parser.add_argument("--nthreads", type=int, default=os.cpu_count() or 1,
                        help="notebooks graded at once (default: one per core, as local grading)")
    parser.add_argument("--name", default=None)
    parser.add_argument("--no-nanny", action="store_true", help="no nanny process restarting the worker")
    args = parser.parse_args(argv)
    problem = check_worker_machine()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from distributed.cli.dask_worker import main as dask_worker

    # the worker process (spawned by the nanny) imports this module and jobs.py by these names
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)
    cli = [args.scheduler, "--nthreads", str(args.nthreads), "--nworkers", "1",
           # grading memory is the sandbox's (--memory-mb); Dask must not pause or restart a worker for it
           "--memory-limit", "0", "--no-dashboard", "--local-directory", tempfile.gettempdir()]
    cli += ["--name", args.name] if args.name else []
    cli += ["--no-nanny"] if args.no_nanny else []
    return dask_worker.main(args=cli, prog_name="dask worker", standalone_mode=True) or 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["worker"]:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    sys.exit(worker_main(sys.argv[2:]))
