"""course.distributed: worker processes started from a notebook never outlive it (Part IV, notebook 12)."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ROOT
from course.distributed import Workers, WorkerError, exit_with_parent, free_ports, is_alive

SLEEPER = "import time\ntime.sleep(600)\n"


def _script(tmp_path, name, code):
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def _gone(pids, timeout=10.0):
    """True when no process of `pids` is alive within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(is_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))


def test_workers_succeed_and_report_exit_codes(tmp_path):
    script = _script(tmp_path, "ok.py", """
        import os
        print("hello from", os.environ["WHO"])
    """)
    with Workers(script, envs=[{"WHO": "a"}, {"WHO": "b"}]) as workers:
        assert workers.wait(timeout=60) == [0, 0]
        assert "hello from a" in workers.log(0) and "hello from b" in workers.log(1)


def test_workers_are_killed_when_the_block_fails(tmp_path):
    script = _script(tmp_path, "sleep.py", SLEEPER)
    pids = []
    with pytest.raises(ZeroDivisionError):
        with Workers(script, envs=[{}, {}], grace=1) as workers:
            pids = workers.pids
            assert all(is_alive(p) for p in pids)
            1 / 0  # a failing notebook cell
    assert len(pids) == 2 and _gone(pids, timeout=1), "workers outlived a failing block"


def test_workers_ignoring_sigterm_are_killed(tmp_path):
    script = _script(tmp_path, "stubborn.py", """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(600)
    """)
    with pytest.raises(KeyboardInterrupt):
        with Workers(script, envs=[{}], grace=0.5) as workers:
            while "ready" not in workers.log(0):
                time.sleep(0.05)
            raise KeyboardInterrupt  # the student pressed stop
    assert _gone(workers.pids, timeout=1)


def test_grandchildren_are_killed_with_their_worker(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    script = _script(tmp_path, "spawner.py", f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(600)
    """)
    with pytest.raises(RuntimeError):
        with Workers(script, envs=[{}], grace=1):
            deadline = time.monotonic() + 30
            while not (pid_file.exists() and pid_file.read_text()):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            raise RuntimeError("cell failed")
    assert _gone([int(pid_file.read_text())], timeout=5)


def test_wait_raises_with_logs_and_stops_the_others_when_one_worker_fails(tmp_path):
    script = _script(tmp_path, "one_fails.py", """
        import os, sys, time
        if os.environ["INDEX"] == "1":
            print("worker 1 gives up", flush=True)
            sys.exit(3)
        time.sleep(600)
    """)
    with Workers(script, envs=[{"INDEX": 0}, {"INDEX": 1}], grace=1) as workers:
        with pytest.raises(WorkerError, match="worker 1 gives up"):
            workers.wait(timeout=60)
        assert _gone(workers.pids, timeout=1)


def test_wait_times_out_and_stops_the_workers(tmp_path):
    script = _script(tmp_path, "sleep.py", SLEEPER)
    with Workers(script, envs=[{}, {}], grace=1) as workers:
        start = time.monotonic()
        with pytest.raises(WorkerError, match="did not finish"):
            workers.wait(timeout=1)
        assert time.monotonic() - start < 10
        assert _gone(workers.pids, timeout=1)


def _parent_program(tmp_path, ending):
    """A Python program that starts two sleeping workers, prints their pids, then ends by `ending`."""
    sleeper = _script(tmp_path, "sleep.py", SLEEPER)
    return _script(tmp_path, "parent.py", f"""
        import os, signal, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from course.distributed import Workers
        workers = Workers({str(sleeper)!r}, envs=[{{}}, {{}}], grace=1).start()
        print(*workers.pids, flush=True)
        {ending}
    """)


@pytest.mark.parametrize("ending", ["sys.exit(0)", "raise SystemExit('cell failed')"])
def test_atexit_stops_workers_left_running(tmp_path, ending):
    parent = _parent_program(tmp_path, ending)
    out = subprocess.run([sys.executable, str(parent)], capture_output=True, text=True, timeout=60)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2 and _gone(pids, timeout=5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_workers_die_when_their_parent_is_killed(tmp_path):
    """A kernel killed with SIGKILL runs no atexit hook: the workers must go anyway."""
    parent = _parent_program(tmp_path, "time.sleep(600)")
    proc = subprocess.Popen([sys.executable, str(parent)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(is_alive(p) for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert _gone(pids, timeout=5), "workers outlived a killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_exit_with_parent_watchdog(tmp_path):
    """The portable guard: a worker calling exit_with_parent() ends when its parent is gone."""
    worker = _script(tmp_path, "watched.py", f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from course.distributed import exit_with_parent
        exit_with_parent(poll_seconds=0.1)
        time.sleep(600)
    """)
    # The middle process starts the worker with a plain Popen (no death signal), then exits.
    middle = _script(tmp_path, "middle.py", f"""
        import os, subprocess, sys
        env = dict(os.environ, COURSE_PARENT_PID=str(os.getpid()))
        child = subprocess.Popen([sys.executable, {str(worker)!r}], env=env, start_new_session=True)
        print(child.pid, flush=True)
        import time; time.sleep(1.5)
    """)
    out = subprocess.run([sys.executable, str(middle)], capture_output=True, text=True, timeout=60)
    pid = int(out.stdout.split()[0])
    try:
        assert _gone([pid], timeout=5)
    finally:
        if is_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_is_chief_follows_the_cluster_layout():
    import tensorflow as tf

    from course.distributed import is_chief

    def strategy_of(cluster, task_type, task_id):
        class Strategy:  # what is_chief reads of a MultiWorkerMirroredStrategy
            cluster_resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
                tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id)
        return Strategy()

    workers = {"worker": ["a:1", "b:1"]}
    assert is_chief(tf.distribute.get_strategy())  # one machine: no cluster
    assert is_chief(strategy_of(workers, "worker", 0)) and not is_chief(strategy_of(workers, "worker", 1))
    with_chief = {"chief": ["c:1"], **workers}
    assert is_chief(strategy_of(with_chief, "chief", 0)) and not is_chief(strategy_of(with_chief, "worker", 0))


def test_train_loop_checkpoints_every_epoch_and_a_restarted_job_resumes(tmp_path):
    """Restarted with a new model, the loop restores the latest checkpoint (weights, optimizer state, epochs
    done) and runs only the epochs left: the same weights as the first model trained one epoch more."""
    import keras
    import numpy as np
    import tensorflow as tf

    from course.distributed import train_loop

    strategy = tf.distribute.get_strategy()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((x, (x[:, 0] > 0).astype(np.int64))).batch(16)

    def new_model(seed):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        return model

    lines = []
    first = new_model(1)
    assert len(train_loop(strategy, first, dataset, epochs=2, global_batch_size=16, log=lines.append,
                          checkpoint_dir=tmp_path)) == 2
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-2")
    assert all(line.endswith("checkpoint saved") for line in lines)
    second = new_model(2)  # a restarted process builds its model anew, with other initial weights
    history = train_loop(strategy, second, dataset, epochs=3, global_batch_size=16, log=lines.append,
                         checkpoint_dir=tmp_path)
    assert len(history) == 1 and lines[2] == "restored ckpt-2: 2 epoch(s) done, resuming", lines
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-3")
    train_loop(strategy, first, dataset, epochs=1, global_batch_size=16, log=None)
    assert int(second.optimizer.iterations.numpy()) == int(first.optimizer.iterations.numpy()) == 12
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
