"""Collect: a folder or a zip of submissions -> `submitted/<folder>/<assignment>/` in the work course, safely.

Stage 1 of grading (collect -> prepare -> run -> judge -> report). Whatever the input holds, collecting never
raises for one submission: a problem becomes a note for the log and a message (and, where nothing can be graded,
a status) in the student's row.

- Nothing is followed: a symbolic link anywhere in the submissions (a student folder, an assignment folder, a
  file) is skipped with a message, so no one is graded on the instructor's notebook or on another student's
  work. Only regular files are copied (a FIFO or a device would block or leak).
- Every student id gets a row. An id that is not a safe folder name (a space, non-ASCII letters, a leading dot,
  bytes that are not UTF-8) is graded in a folder of its own (`safe_folder`); the row keeps the original id.
- LMS exports: of a file and its resubmissions (`...-1.ipynb`, `-2`, ..., numerically), the latest wins.
- Zips: members with absolute paths or `..` are skipped; a member name flagged UTF-8 that is not UTF-8 is read
  as raw bytes (like a file name on Linux), not a crash; a member that cannot be read is a note.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_ZIP_BYTES = 2 * 2**30
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MAX_MESSAGES = 20                 # per student and assignment: 10,000 symlinks make one row, not 10,000 lines
SKIPPED_NAMES = (".ipynb_checkpoints", "__pycache__", "__MACOSX")
_RESUBMISSION = re.compile(r"-(\d+)(\.ipynb)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ZIP_LOCK = threading.Lock()


def printable(name: str) -> str:
    """A name as text that can be written anywhere (UTF-8 file, terminal, HTML after escaping): bytes that are
    not UTF-8 (surrogate escapes) and lone surrogates as \\x.. / \\u.. escapes, control characters escaped."""
    try:
        text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        text = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def safe_folder(student: str) -> str:
    """The folder a student's work is graded in: the id itself when it is a plain id, else an ASCII form of it
    with a short hash of the original (two different ids never share a folder)."""
    if STUDENT_ID.match(student):
        return student
    try:
        raw = student.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = student.encode("utf-8", "surrogatepass")
    text = unicodedata.normalize("NFKD", raw.decode("utf-8", "replace")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._@-]+", "_", text).strip("._-@")[:40] or "student"
    return f"{slug}-{hashlib.sha256(raw).hexdigest()[:10]}"


@dataclass
class Collected:
    """What collecting found. folders: {safe folder: original id}; messages/status: per (folder, assignment),
    assignment None meaning every assignment of that student; notes: for the log."""
    folders: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    lms_ids: dict = field(default_factory=dict)   # {folder: the LMS's numeric user id, from its file names}

    def student(self, original: str) -> str:
        folder = safe_folder(original)
        while self.folders.get(folder, original) != original:  # (a plain id that looks like a made-up folder)
            folder = safe_folder(original + "\x00" + folder)
        self.folders[folder] = original
        return folder

    def tell(self, folder: str, assignment: str | None, message: str, status: str | None = None) -> None:
        said = self.messages.setdefault((folder, assignment), [])
        if len(said) < MAX_MESSAGES:
            said.append(message)
        elif len(said) == MAX_MESSAGES:
            said.append("(more problems of the same kind not listed)")
        if status:
            self.status[(folder, assignment)] = status


# ------------------------------------------------------------------ zips
@contextlib.contextmanager
def _raw_zip_names():
    """zipfile decodes a name flagged UTF-8 strictly and gives up on the whole archive when one is not UTF-8.
    Inside this block it decodes every name as cp437 (a byte-for-byte mapping), so the raw bytes can be
    recovered; _member_name then reads flagged names as UTF-8 with surrogate escapes."""
    with _ZIP_LOCK:
        saved = zipfile._MASK_UTF_FILENAME
        zipfile._MASK_UTF_FILENAME = 0
        try:
            yield
        finally:
            zipfile._MASK_UTF_FILENAME = saved


def _member_name(info: zipfile.ZipInfo, raw_names: bool) -> str:
    if raw_names and info.flag_bits & 0x800:
        return info.filename.encode("cp437").decode("utf-8", "surrogateescape")
    return info.filename


def safe_extract(archive: Path, dest: Path) -> list[str]:
    """Extract the regular files of a zip under dest; returns notes. Never raises for one bad member."""
    try:
        with zipfile.ZipFile(archive) as zf:
            return _extract(zf, dest, raw_names=False)
    except UnicodeDecodeError:
        with _raw_zip_names(), zipfile.ZipFile(archive) as zf:
            return ["the zip holds member names flagged UTF-8 that are not UTF-8: read as raw bytes"] + \
                _extract(zf, dest, raw_names=True)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise SystemExit(f"{archive}: cannot read the zip ({exc})") from None


def _extract(zf: zipfile.ZipFile, dest: Path, raw_names: bool) -> list[str]:
    notes, total = [], 0
    for info in zf.infolist():
        name = _member_name(info, raw_names)
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        if info.is_dir() or not parts:
            continue
        if name.startswith(("/", "\\")) or ".." in parts or any(p in SKIPPED_NAMES for p in parts):
            notes.append(f"zip member {printable(name)!r} skipped (absolute path, '..' or system folder)")
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            notes.append(f"zip member {printable(name)!r} skipped: a symbolic link is never followed")
            continue
        total += info.file_size
        if total > MAX_ZIP_BYTES:
            notes.append("the zip holds more than 2 GB: the rest was skipped")
            break
        target = dest.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "xb") as out:
                shutil.copyfileobj(src, out)
        except FileExistsError:
            notes.append(f"zip member {printable(name)!r} skipped: the zip holds it twice")
        except Exception as exc:  # noqa: BLE001 (encrypted, corrupt, name too long, a file where a folder is...)
            notes.append(f"zip member {printable(name)!r} skipped: {type(exc).__name__}: {printable(str(exc))[:200]}")
            with contextlib.suppress(OSError):
                if target.is_file():
                    target.unlink()
    return notes


# ------------------------------------------------------------------ folders
def copy_regular(src: Path, dest: Path, found: Collected, folder: str, assignment: str) -> None:
    """Copy the regular files under src to dest; symlinks and special files are skipped with a message."""
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = here / name
            rel = printable(str(path.relative_to(src)))
            if name in SKIPPED_NAMES:
                if name in dirnames:
                    dirnames.remove(name)
                continue
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                found.tell(folder, assignment, f"{rel} is a symbolic link: not followed, not graded")
                if name in dirnames:
                    dirnames.remove(name)
            elif stat.S_ISDIR(mode):
                (dest / path.relative_to(src)).mkdir(parents=True, exist_ok=True)
            elif stat.S_ISREG(mode):
                target = dest / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    shutil.copyfile(path, target, follow_symlinks=False)
                except OSError as exc:
                    found.tell(folder, assignment, f"{rel} could not be read ({exc.strerror}): not graded")
            else:
                found.tell(folder, assignment, f"{rel} is not a regular file: skipped")


def _is_nested(base: Path, layout: dict) -> bool:
    for entry in os.scandir(base):
        if entry.is_dir(follow_symlinks=False):
            with contextlib.suppress(OSError):
                if any(os.path.lexists(os.path.join(entry.path, a)) for a in layout):
                    return True
    return False


def collect(submissions: Path, submitted: Path, layout: dict, config) -> Collected:
    """Fill submitted/<folder>/<assignment>/ from a folder or a zip (nbgrader layout or LMS file names)."""
    found = Collected()
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        extracted = submitted.parent / "extracted"
        extracted.mkdir()
        found.notes += safe_extract(submissions, extracted)
        submissions = extracted
    elif not submissions.is_dir():
        raise SystemExit(f"{submissions}: not a folder or a zip file")
    base = submissions / "submitted" if (submissions / "submitted").is_dir() else submissions
    if _is_nested(base, layout):
        _collect_nested(base, submitted, layout, found)
    else:
        _collect_lms(submissions, submitted, layout, config, found)
    return found


def _collect_nested(base: Path, submitted: Path, layout: dict, found: Collected) -> None:
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        if entry.name in SKIPPED_NAMES:
            continue
        if entry.is_symlink():
            folder = found.student(entry.name)
            found.tell(folder, None, f"the folder {printable(entry.name)!r} is a symbolic link: not followed, "
                                     "nothing graded", "malformed")
            found.notes.append(f"skipped {printable(entry.name)!r}: a symbolic link")
            continue
        if not entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith("."):
                found.notes.append(f"skipped {printable(entry.name)!r}: not a student folder")
            continue
        folder = found.student(entry.name)
        if folder != entry.name:
            found.notes.append(f"student {printable(entry.name)!r} graded in folder {folder}")
        for assignment in layout:
            src = Path(entry.path) / assignment
            if os.path.islink(src):
                found.tell(folder, assignment, f"{assignment} is a symbolic link: not followed, nothing graded",
                           "malformed")
            elif src.is_dir():
                dest = submitted / folder / assignment
                dest.mkdir(parents=True, exist_ok=True)
                copy_regular(src, dest, found, folder, assignment)
        (submitted / folder).mkdir(parents=True, exist_ok=True)


def resubmission(name: str) -> int:
    """0 for `x.ipynb`, N for the LMS's Nth resubmission `x-N.ipynb`."""
    match = _RESUBMISSION.search(name)
    return int(match.group(1)) if match else 0


def _match(plugin, name: str) -> dict | None:
    try:
        hit = plugin.collect(name)
        return dict(hit, _name=name) if hit else None
    except Exception:  # noqa: BLE001 (a name the plugin cannot handle is a name that does not match)
        return None


def _collect_lms(submissions: Path, submitted: Path, layout: dict, config, found: Collected) -> None:
    """Flat LMS export: <student>_<ids>_<notebook>.ipynb, matched with nbgrader's FileNameCollectorPlugin."""
    from nbgrader.plugins import FileNameCollectorPlugin

    plugin = FileNameCollectorPlugin(config=config)
    owner = {f"{nb}.ipynb": a for a, nbs in layout.items() for nb in nbs}
    chosen: dict = {}
    for dirpath, dirnames, filenames in os.walk(submissions, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_NAMES)
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = Path(dirpath) / name
            hit = _match(plugin, name)
            if not hit and Path(dirpath) != submissions:  # Moodle's folders: <student>_<id>_assignsubmission_file_/
                parent = Path(dirpath).name
                hit = _match(plugin, parent + ("" if parent.endswith("_") else "_") + name)
            if not hit:
                found.notes.append(f"skipped {printable(name)!r}: its name does not match "
                                   "FileNameCollectorPlugin.named_regexp")
                continue
            file_id = _RESUBMISSION.sub(r"\2", hit["file_id"])
            if file_id not in owner:
                found.notes.append(f"skipped {printable(name)!r}: no assignment has a notebook {printable(file_id)}")
                continue
            folder = found.student(hit["student_id"])
            assignment = owner[file_id]
            if not stat.S_ISREG(os.lstat(path).st_mode):
                found.tell(folder, assignment, f"{printable(name)} is a symbolic link or not a regular file: "
                                               "not followed, not graded")
                continue
            matched = str(hit.get("_name", name))
            ids = tuple(int(x) for x in re.findall(r"_(\d+)(?=_)", matched[len(hit["student_id"]):]))
            if ids:
                found.lms_ids.setdefault(folder, str(ids[0]))
            rank = (resubmission(hit["file_id"]), ids, name)
            chosen.setdefault((folder, assignment, file_id), []).append((rank, path))
    for (folder, assignment, file_id), files in sorted(chosen.items()):
        files.sort()
        (rank, path) = files[-1]
        if len(files) > 1:
            found.tell(folder, assignment, f"{len(files)} files for {file_id}: the latest resubmission "
                                           f"({printable(path.name)}) is graded")
        target = submitted / folder / assignment / file_id
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, target, follow_symlinks=False)
        except OSError as exc:
            found.tell(folder, assignment, f"{printable(path.name)} could not be read ({exc.strerror})", "error")
