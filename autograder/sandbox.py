"""One sandboxed student process per submission: bubblewrap namespaces, a separate user, limits, a watchdog.

- no network (a new network namespace with only a loopback), own PID/IPC/UTS namespaces;
- a file system made of read-only system folders, the Python environment, the `course` package and the public
  datasets, plus ONE writable folder: the private scratch copy of this student's files (/home/student);
  solutions/, autograder/, notebooks/, the gradebook, the hidden tests and other students' work are not in it;
- run as a separate unprivileged user when the grader runs as root (a uid of its own per worker slot and per
  grading run, see grade.py), so that RLIMIT_NPROC bounds the processes and threads (a fork bomb) of that
  submission alone;
- limits: RLIMIT_NPROC, RLIMIT_FSIZE (largest file), RLIMIT_CORE=0; memory by a watchdog (RLIMIT_AS breaks
  TensorFlow, which reserves large address ranges) that counts everything the submission holds: the PSS of its
  processes, memfd and shared-memory files open in them, the private tmpfs mounts (/tmp, /dev/shm, /dev, each
  also size-limited) and the files in /home/student; System V shared memory is capped by the IPC namespace's
  shmall. The machine's cgroups (v1 here) are not used: the watchdog works wherever bubblewrap does.
  Wall time per request and per notebook is enforced by the caller (Channel.request).
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


def bwrap_command(scratch: Path, libdir: Path, uid: int | None, argv: list[str], memory_mb: int = 3072) -> list[str]:
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
    size = str(memory_mb * 2**20)
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    for tmpfs in ("/tmp", "/dev/shm"):  # writable by the student's uid (sticky, like a normal /tmp), size-limited
        cmd += ["--perms", "1777", "--size", size, "--tmpfs", tmpfs]
    made: set[str] = {"/", "/usr", "/etc", "/tmp", "/proc", "/dev", "/dev/shm"}

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
    # System V shared memory lives in the sandbox's IPC namespace, outside any process: cap it there (in pages),
    # while still root in the namespace; the student's uid cannot raise it again.
    cmd += ["/bin/sh", "-c", 'echo "$0" > /proc/sys/kernel/shmall 2>/dev/null; exec "$@"', str(memory_mb * 256)]
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


def tree_pids(pid: int) -> list[int]:
    children, todo, seen = _children_map(), [pid], []
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.append(p)
            todo += children.get(p, [])
    return seen


def _shared_files(pids: list[int]) -> int:
    """Bytes of memfd and shared-memory files the processes hold open (each file once): memory that no PSS
    shows while it is not mapped."""
    total, seen = 0, set()
    for p in pids:
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            path = f"/proc/{p}/fd/{fd}"
            try:
                target = os.readlink(path)
                if not target.startswith(("/memfd:", "/dev/shm/", "/SYSV")):
                    continue
                st = os.stat(path)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def _tmpfs_used(pids: list[int]) -> int:
    """Bytes used in the sandbox's own tmpfs mounts (/tmp, /dev/shm, /dev), each mount once."""
    total, seen, host = 0, set(), {os.stat(p).st_dev for p in ("/tmp", "/dev") if os.path.exists(p)}
    for p in pids:
        for mount in ("tmp", "dev/shm", "dev"):
            path = f"/proc/{p}/root/{mount}"
            try:
                dev = os.stat(path).st_dev
                if dev in seen or dev in host:
                    continue
                vfs = os.statvfs(path)
            except OSError:
                continue
            seen.add(dev)
            total += (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize
    return total


def folder_bytes(folder: Path) -> int:
    """Disk space of the files under folder (the submission's /home/student), not following links."""
    total, todo = 0, [str(folder)]
    while todo:
        try:
            entries = list(os.scandir(todo.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    todo.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                pass
    return total


def held_memory(pid: int, home: Path | None = None, home_bytes: int = 0) -> int:
    """Everything the sandbox rooted at pid holds: PSS + open memfd/shm files + its tmpfs + files in home."""
    pids = tree_pids(pid)
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for p in pids:
        try:
            total += _memory(p, page)
        except (OSError, ValueError, IndexError):
            pass
    return total + _shared_files(pids) + _tmpfs_used(pids[1:]) + (folder_bytes(home) if home else home_bytes)


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

        self.proc = subprocess.Popen(bwrap_command(self.scratch, self.libdir, uid, argv, limits.memory_mb),
                                     pass_fds=(to_student, from_student), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=preexec, start_new_session=True)
        os.close(to_student)
        os.close(from_student)
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        limit = self.limits.memory_mb * 2**20
        tick, home = 0, 0
        while not self._stop.wait(0.2):
            if self.proc.poll() is not None:
                return
            if tick % 5 == 0:  # files in /home/student: walked once a second (they can be many)
                home = folder_bytes(self.scratch)
            tick += 1
            if held_memory(self.proc.pid, None, home) > limit:
                self.kill(f"memory limit exceeded: the submission used more than {self.limits.memory_mb} MB "
                          "(memory, shared memory, temporary files and files in its home folder)")
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
