"""One sandboxed student process per submission: bubblewrap namespaces, a separate user, limits, a watchdog.

- no network (a new network namespace with only a loopback), own PID/IPC/UTS namespaces;
- a file system made of read-only system folders, the Python environment, the `course` package and the public
  datasets, plus ONE writable folder: the private scratch copy of this student's files (/home/student);
  solutions/, autograder/, notebooks/, the gradebook, the hidden tests and other students' work are not in it;
- run as a separate unprivileged user when the grader runs as root (a uid of its own per worker slot and per
  grading run, see grade.py), so that RLIMIT_NPROC bounds the processes and threads (a fork bomb) of that
  submission alone;
- limits: RLIMIT_NPROC, RLIMIT_FSIZE (largest file), RLIMIT_CORE=0; memory by a watchdog that sums the resident
  memory of the sandbox's processes (RLIMIT_AS breaks TensorFlow, which reserves large address ranges);
  wall time per request and per notebook is enforced by the caller (Channel.request).
"""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import plainwire as wire

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_FILES = ("plainwire.py", "cellshell.py", "student_runner.py")
HOME = "/home/student"
LIB = "/opt/grader"


@dataclass
class Limits:
    cell_seconds: float = 120.0       # one cell, or one call into student code
    notebook_seconds: float = 900.0   # the whole notebook
    memory_mb: int = 3072             # resident memory of all the submission's processes
    processes: int = 512              # processes + threads of the submission's user (TensorFlow needs ~100)
    output_chars: int = 20_000        # kept per stream per cell
    file_mb: int = 256                # largest file the submission may write


class SandboxError(Exception):
    """The student process is gone or broke a limit; the message says which, in words for the student."""


def bwrap_available() -> bool:
    return shutil.which("bwrap") is not None


def _ro_paths() -> list[Path]:
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix), ROOT / "course", ROOT / "datasets"}
    shared = ROOT.parent / "shared" / "datasets"
    if shared.is_dir():
        paths.add(shared)
    if os.environ.get("COURSE_DATA_DIR") and Path(os.environ["COURSE_DATA_DIR"]).is_dir():
        paths.add(Path(os.environ["COURSE_DATA_DIR"]).resolve())
    return sorted(p for p in paths if p.exists())


def bwrap_command(scratch: Path, libdir: Path, uid: int | None, argv: list[str]) -> list[str]:
    cmd = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv"]
    if uid is None:
        cmd += ["--unshare-user"]
    else:
        cmd += ["--cap-add", "CAP_SETUID,CAP_SETGID"]
    for top in ("usr", "etc"):
        cmd += ["--ro-bind", f"/{top}", f"/{top}"]
    for top in ("bin", "sbin", "lib", "lib64", "lib32"):
        path = Path("/") / top
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    made: set[str] = {"/", "/usr", "/etc", "/tmp", "/proc", "/dev"}

    def parents(target: str) -> list[str]:
        out = []
        for parent in reversed(Path(target).parents):
            if str(parent) not in made:
                made.add(str(parent))
                out += ["--perms", "0755", "--dir", str(parent)]
        return out

    for path in _ro_paths():
        if str(path).startswith(("/usr/", "/etc/")):
            continue
        cmd += parents(str(path)) + ["--ro-bind", str(path), str(path)]
        made.add(str(path))
    cmd += parents(LIB) + ["--ro-bind", str(libdir), LIB]
    cmd += parents(HOME) + ["--bind", str(scratch), HOME, "--chdir", HOME]
    env = {"HOME": HOME, "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": "/tmp", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
           "COURSE_OFFLINE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
    if os.environ.get("COURSE_DATA_DIR"):
        env["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--"]
    if uid is not None:
        cmd += [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
                "--clear-groups", "--no-new-privs"]
    return cmd + argv


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _memory(pid: int, page: int) -> int:
    """Proportional set size (shared pages split between their users, so forked copies are not counted
    many times); resident size where smaps_rollup is missing."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * page


def tree_rss(pid: int) -> int:
    """Memory (PSS) of pid and all its descendants, in bytes."""
    children, total, todo, page = _children_map(), 0, [pid], os.sysconf("SC_PAGE_SIZE")
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            total += _memory(p, page)
        except (OSError, ValueError, IndexError):
            pass
        todo += children.get(p, [])
    return total


class Sandbox:
    """A student process in a sandbox, spoken to over two pipes with plainwire messages."""

    def __init__(self, scratch: Path, libdir: Path, limits: Limits, slot: int = 60000):
        """slot: the uid the student process runs as when the grader is root."""
        self.scratch, self.libdir, self.limits, self.slot = scratch, libdir, limits, slot
        self.proc: subprocess.Popen | None = None
        self.failure: str | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        uid = self.slot if os.geteuid() == 0 else None
        if uid is not None:
            os.chown(self.scratch, uid, uid)
            for dirpath, dirnames, filenames in os.walk(self.scratch):
                for name in dirnames + filenames:
                    os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)
        to_student, self._send_fd = os.pipe()
        self._recv_fd, from_student = os.pipe()
        python = str(Path(sys.prefix) / "bin" / "python")
        argv = [python, f"{LIB}/student_runner.py", str(to_student), str(from_student), str(self.limits.output_chars)]
        limits = self.limits
        nproc = limits.processes if uid is not None else limits.processes + _count_own_tasks()

        def preexec():
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            size = limits.file_mb * 2**20
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        self.proc = subprocess.Popen(bwrap_command(self.scratch, self.libdir, uid, argv),
                                     pass_fds=(to_student, from_student), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=preexec, start_new_session=True)
        os.close(to_student)
        os.close(from_student)
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        limit = self.limits.memory_mb * 2**20
        while not self._stop.wait(0.2):
            if self.proc.poll() is not None:
                return
            if tree_rss(self.proc.pid) > limit:
                self.kill(f"memory limit exceeded: the submission used more than {self.limits.memory_mb} MB")
                return

    def kill(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
        if self.proc and self.proc.poll() is None:
            with _suppress():
                os.killpg(self.proc.pid, signal.SIGKILL)
            with _suppress():
                self.proc.kill()
            with _suppress():
                self.proc.wait(timeout=10)

    def _gone(self) -> SandboxError:
        if self.failure is None and self.proc is not None:
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None and code < 0 and -code == signal.SIGXFSZ:
                self.failure = f"file size limit: the submission wrote a file larger than {self.limits.file_mb} MB"
            elif code is not None and code < 0:
                self.failure = f"the student process was killed by signal {-code} ({signal.Signals(-code).name})"
            else:
                self.failure = (f"the student process exited (status {code}) during grading: os._exit, "
                                "sys.exit outside a cell, a crash, or too many processes")
        self.kill(self.failure)
        return SandboxError(self.failure)

    def request(self, message: dict, arrays: list[bytes], deadline: float) -> tuple[dict, list[bytes]]:
        if self.failure is not None:
            raise SandboxError(self.failure)
        try:
            wire.send(self._send_fd, message, arrays)
        except OSError:
            raise self._gone() from None

        def wait(fd):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError

        try:
            return wire.receive(self._recv_fd, wait)
        except TimeoutError:
            self.kill(f"time limit exceeded: a cell or a call into the student's code ran longer than allowed")
            raise SandboxError(self.failure) from None
        except EOFError:
            raise self._gone() from None
        except wire.WireError as exc:
            self.kill(f"the student process sent a malformed answer ({exc})")
            raise SandboxError(self.failure) from None

    def close(self) -> None:
        self._stop.set()
        if self.proc and self.proc.poll() is None and self.failure is None:
            with _suppress():
                wire.send(self._send_fd, {"op": "bye"}, [])
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        if self.proc and self.proc.poll() is None:
            with _suppress():
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait()
        for fd in (self._send_fd, self._recv_fd):
            with _suppress():
                os.close(fd)


def _count_own_tasks() -> int:
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with _suppress():
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], (OSError, ProcessLookupError, subprocess.SubprocessError))
