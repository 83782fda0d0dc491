"""Run a few worker processes from a notebook, and make sure they never outlive it.

Notebook 12 trains one model with ``MultiWorkerMirroredStrategy`` in two worker processes on 127.0.0.1.
Processes started from a notebook are easy to leak: a cell fails, the kernel restarts, and the workers
keep a port and two CPU cores busy. :class:`Workers` closes that door four ways:

1. it is a context manager: leaving the ``with`` block, normally or by an exception (a failing cell,
   a KeyboardInterrupt), terminates every worker and then kills what is left;
2. an ``atexit`` hook does the same if the interpreter exits while the block is still open;
3. on Linux each worker asks the kernel for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), so
   even a kernel killed with SIGKILL takes its workers along;
4. every worker runs in its own process group, and the whole group is signalled, so processes a worker
   started itself go too. Workers may also call :func:`exit_with_parent` (any OS) as a last guard.

    from course.distributed import Workers, free_ports
    ports = free_ports(2)
    with Workers(script, envs=[{...}, {...}]) as workers:
        codes = workers.wait(timeout=120)     # raises WorkerError with the log tails on failure

Nothing here is specific to TensorFlow.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

PARENT_PID_ENV = "COURSE_PARENT_PID"
_PR_SET_PDEATHSIG = 1


class WorkerError(RuntimeError):
    """A worker failed or did not finish in time. The message holds the tail of every worker's log."""


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """`n` distinct TCP ports that are free on `host` right now (the OS picks them).

    All sockets are held open together, so the ports are distinct; they are closed before returning,
    so another program could take one in between: use them at once.
    """
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def is_alive(pid: int) -> bool:
    """True while a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited but is not yet reaped: count it as dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _parent_death_hook():
    """A preexec_fn asking Linux to SIGKILL the child when its parent dies; None elsewhere.

    libc is loaded here, in the parent: after fork only the prepared call runs. Linux counts the
    *thread* that started the child as its parent; notebooks run cells on the main thread.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook():
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl ran
            os._exit(1)

    return hook


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """Call inside a worker: end this process as soon as the notebook that started it is gone.

    Portable (polls the parent id), for systems without PR_SET_PDEATHSIG. Uses the parent id that
    :class:`Workers` puts in ``$COURSE_PARENT_PID``; does nothing when it is not set.
    """
    parent = int(os.environ.get(PARENT_PID_ENV, "0") or 0)
    if not parent:
        return

    def watch():
        while True:
            if os.getppid() != parent or not is_alive(parent):
                os._exit(1)
            time.sleep(poll_seconds)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# Every Workers object not yet stopped, so that the atexit hook can stop them.
_OPEN: "weakref.WeakSet[Workers]" = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit() -> None:
    for workers in list(_OPEN):
        workers.stop()


class Workers:
    """Start one Python process per entry of `envs`, running `script`; stop them all on exit.

    - `script`: path of a Python file; each worker runs ``python script`` with `args`.
    - `envs`: one dict of extra environment variables per worker (e.g. its ``TF_CONFIG``).
    - `log_dir`: where each worker's stdout+stderr go (``worker-<i>.log``); a temporary folder by
      default, removed on stop. Logs stay readable through :meth:`log` until then.
    - `grace`: seconds between SIGTERM and SIGKILL when stopping.
    """

    def __init__(self, script, envs, args=(), python: str = sys.executable, cwd=None,
                 log_dir=None, grace: float = 3.0):
        self.script = Path(script)
        self.envs = [dict(e) for e in envs]
        self.args = [str(a) for a in args]
        self.python = python
        self.cwd = cwd
        self.grace = grace
        self._own_log_dir = log_dir is None
        self._log_dir = Path(log_dir) if log_dir is not None else None
        self.processes: list[subprocess.Popen] = []
        self._logs = []
        self._stopped = False

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> "Workers":
        if self.processes:
            raise RuntimeError("these workers are already started")
        if self._log_dir is None:
            self._log_dir = Path(tempfile.mkdtemp(prefix="course-workers-"))
        self._log_dir.mkdir(parents=True, exist_ok=True)
        _OPEN.add(self)
        hook = _parent_death_hook()
        try:
            for i, extra in enumerate(self.envs):
                env = dict(os.environ)
                env.update({k: str(v) for k, v in extra.items()})
                env[PARENT_PID_ENV] = str(os.getpid())
                env.setdefault("PYTHONUNBUFFERED", "1")
                log = open(self._log_dir / f"worker-{i}.log", "wb")
                self._logs.append(log)
                self.processes.append(subprocess.Popen(
                    [self.python, str(self.script), *self.args], env=env, cwd=self.cwd,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=hook))
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> "Workers":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def poll(self) -> list[int | None]:
        """Each worker's exit code, None while it runs."""
        return [p.poll() for p in self.processes]

    def log(self, i: int, tail: int | None = None) -> str:
        """Worker i's output so far (the last `tail` lines if given)."""
        path = (self._log_dir or Path(".")) / f"worker-{i}.log"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-tail:]) if tail else text

    def wait(self, timeout: float | None = None, check: bool = True) -> list[int]:
        """Wait until every worker has exited and return the exit codes.

        With `check`, raise WorkerError (holding every log's tail) when a worker exits non-zero, or
        when `timeout` seconds pass first; the workers are stopped before raising. As soon as one worker
        fails, the others are not waited for: in a synchronous job they would hang on it.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            codes = self.poll()
            if all(c is not None for c in codes):
                break
            if check and any(c not in (None, 0) for c in codes):
                self.stop()
                raise WorkerError(self._report(f"a worker failed (exit codes {self.poll()})"))
            if deadline is not None and time.monotonic() > deadline:
                self.stop()
                if check:
                    raise WorkerError(self._report(f"the workers did not finish in {timeout:g} s"))
                break
            time.sleep(0.1)
        codes = self.poll()
        if check and any(c != 0 for c in codes):
            raise WorkerError(self._report(f"a worker failed (exit codes {codes})"))
        return codes

    def _report(self, headline: str) -> str:
        parts = [headline]
        for i in range(len(self.processes)):
            parts.append(f"--- worker {i} (last lines of its log) ---\n{self.log(i, tail=15)}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Terminate every worker and its process group, SIGKILL what is left after `grace` s, reap.

        Safe to call more than once, and from the atexit hook.
        """
        if self._stopped:
            return
        running = [p for p in self.processes if p.poll() is None]
        for p in running:
            _signal_group(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for p in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
        for p in self.processes:
            # SIGKILL the group even if the leader has exited: its children may still be there.
            _signal_group(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        for log in self._logs:
            with contextlib.suppress(OSError):
                log.close()
        self._logs = []
        self._stopped = bool(self.processes)
        _OPEN.discard(self)

    def cleanup(self) -> None:
        """stop(), then delete the temporary log folder (if this object made it)."""
        self.stop()
        if self._own_log_dir and self._log_dir is not None:
            import shutil

            shutil.rmtree(self._log_dir, ignore_errors=True)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # start_new_session=True: the worker's pid is its group id


def is_chief(strategy) -> bool:
    """True for the task that owns checkpoints and logs: the ``"chief"`` task if the cluster has one,
    else worker 0; always True for a single-machine strategy (no cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:
        return True
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and resolver.task_id == 0 and not has_chief


def train_loop(strategy, model, dataset, *, epochs: int, global_batch_size: int, optimizer=None,
               loss_fn=None, log=print, checkpoint_dir=None) -> list[float]:
    """Synchronous data-parallel training with `strategy`: what ``model.fit`` does, written out.

    Keras 3's ``fit`` does not run under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585), so
    notebook 12's workers use this loop; it works with any ``tf.distribute`` strategy. `model` (and its
    optimizer) must have been created inside ``strategy.scope()``; `dataset` yields global batches
    ``(x, y)`` of integer labels. Each replica averages its per-example losses over the *global* batch
    size, so that summing the replicas' gradients gives the gradient of the global mean loss.

    With `checkpoint_dir` (storage every worker can read), the model, the optimizer's state and the
    number of finished epochs are saved through a ``tf.train.CheckpointManager`` after every epoch:
    every worker takes part in the save, the chief (:func:`is_chief`) writes to `checkpoint_dir`, the
    others to a temporary folder removed at the end. At start-up every worker restores the chief's latest
    checkpoint, if there is one, and continues with the next epoch: a job restarted after a worker died
    loses at most the epoch in progress. (The shuffled order of the batches starts again, so a resumed run
    is not bit-identical to an uninterrupted one.)

    Returns the mean training loss of each epoch run by this call.
    """
    import shutil

    import keras
    import tensorflow as tf

    optimizer = optimizer or model.optimizer
    loss_fn = loss_fn or keras.losses.sparse_categorical_crossentropy

    first_epoch, manager, scratch = 0, None, None
    if checkpoint_dir is not None:
        with strategy.scope():
            if not optimizer.built:  # its slots must exist before a checkpoint can fill them
                optimizer.build(model.trainable_variables)
        epochs_done = tf.Variable(0, dtype=tf.int64, trainable=False)
        checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epochs_done=epochs_done)
        chief = is_chief(strategy)
        scratch = None if chief else tempfile.mkdtemp(prefix="course-checkpoint-")
        manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir) if chief else scratch, max_to_keep=2)
        latest = tf.train.latest_checkpoint(str(checkpoint_dir))
        if latest:
            checkpoint.restore(latest).assert_existing_objects_matched()
            first_epoch = int(epochs_done.numpy())
            if log:
                log(f"restored {Path(latest).name}: {first_epoch} epoch(s) done, resuming")

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def step(x, y):
        per_replica = strategy.run(replica_step, args=(x, y))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    distributed = strategy.experimental_distribute_dataset(dataset)
    history = []
    try:
        for epoch in range(first_epoch, epochs):
            start, total, steps = time.monotonic(), 0.0, 0
            for x, y in distributed:
                total += float(step(x, y))
                steps += 1
            history.append(total / max(steps, 1))
            if manager is not None:
                epochs_done.assign(epoch + 1)
                manager.save(checkpoint_number=epoch + 1)
            if log:
                log(f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f}, {steps} steps, "
                    f"{time.monotonic() - start:.1f} s" + (", checkpoint saved" if manager is not None else ""))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return history
