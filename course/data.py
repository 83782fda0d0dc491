"""The course's datasets: found offline first, verified by sha256 every time, decoded once.

Every file named in ``datasets/manifest.json`` is looked for, in this order, under

1. ``$COURSE_DATA_DIR`` (if set),
2. ``../shared/datasets`` next to the project,
3. the cache ``datasets/cache/`` inside the project,

and only then downloaded from its canonical address (or from ``$COURSE_DATA_MIRROR``, a base URL laid
out like ``../shared/datasets``) into the cache: written to a temporary file, verified, then renamed,
so a broken download leaves nothing behind. ``COURSE_OFFLINE=1`` forbids downloads.

Decoded arrays are cached under ``datasets/cache/decoded/``, keyed by the source files' hashes, so a
second load takes well under a second. The loader reads and writes nothing outside these places.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = PROJECT_ROOT / "datasets" / "manifest.json"
SHARED_DIR = PROJECT_ROOT.parent / "shared" / "datasets"
CACHE_DIR = PROJECT_ROOT / "datasets" / "cache"
DECODED_DIR = CACHE_DIR / "decoded"

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

_CHUNK = 1 << 20


class DatasetError(RuntimeError):
    """A dataset file is missing, corrupt or could not be downloaded. The message says how to fix it."""


# --------------------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    folder: str
    license: str
    url_base: str
    files: dict  # path inside the folder -> sha256


@lru_cache(maxsize=1)
def manifest() -> dict[str, Dataset]:
    """Every dataset of the course, by name, as listed in ``datasets/manifest.json``."""
    raw = json.loads(MANIFEST_PATH.read_text())
    out = {}
    for name, entry in raw.items():
        if name.startswith("_"):
            continue
        files = dict(entry.get("files", {}))
        if "files_from" in entry:
            for line in (MANIFEST_PATH.parent / entry["files_from"]).read_text().splitlines():
                if line.strip():
                    digest, rel = line.split(maxsplit=1)
                    files[rel] = digest
        out[name] = Dataset(name, entry["title"], entry["folder"], entry["license"],
                            entry["url_base"], files)
    return out


def _dataset(name: str) -> Dataset:
    datasets = manifest()
    if name not in datasets:
        raise DatasetError(f"Unknown dataset {name!r}; the course has: {', '.join(datasets)}.")
    return datasets[name]


# ------------------------------------------------------------------------------------ search path
def search_path() -> list[tuple[str, Path]]:
    """The roots searched for data files, in order, each with a label for messages."""
    roots = []
    if os.environ.get("COURSE_DATA_DIR"):
        roots.append(("COURSE_DATA_DIR", Path(os.environ["COURSE_DATA_DIR"]).expanduser()))
    roots.append(("shared copy", SHARED_DIR))
    roots.append(("cache", CACHE_DIR))
    return roots


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _fix_hint(ds: Dataset, rel: str) -> str:
    return (f"To fix it: point COURSE_DATA_DIR at a folder holding {ds.folder}/{rel} "
            f"(e.g. export COURSE_DATA_DIR=/path/to/shared/datasets), or delete the bad copy and run "
            f"again with internet access to download it from {ds.url_base}{rel}.")


def locate(name: str, rel: str, *, download: bool | None = None) -> Path:
    """Path of one verified file of a dataset, downloading it into the cache if no root has it.

    Raises DatasetError naming the dataset, the file, every place looked and the fix.
    """
    ds = _dataset(name)
    if rel not in ds.files:
        raise DatasetError(f"Dataset {name!r} has no file {rel!r} in the manifest.")
    expected = ds.files[rel]
    looked = []
    for label, root in search_path():
        path = root / ds.folder / rel
        looked.append(f"  - {label}: {path}")
        if path.is_file():
            actual = sha256_of(path)
            if actual != expected:
                raise DatasetError(
                    f"Dataset {name!r}: file {path} is corrupt (sha256 mismatch).\n"
                    f"  expected sha256 {expected}\n  actual sha256   {actual}\n"
                    f"{_fix_hint(ds, rel)}")
            return path
    if download is None:
        download = os.environ.get("COURSE_OFFLINE", "") not in ("1", "true", "yes")
    where = "\n".join(looked)
    if not download:
        raise DatasetError(
            f"Dataset {name!r}: file {ds.folder}/{rel} was not found and downloads are off "
            f"(COURSE_OFFLINE is set). Looked in:\n{where}\n{_fix_hint(ds, rel)}")
    base = os.environ.get("COURSE_DATA_MIRROR")
    url = f"{base.rstrip('/')}/{ds.folder}/{rel}" if base else ds.url_base + rel
    target = CACHE_DIR / ds.folder / rel
    try:
        _download(url, target, expected, label=f"{name}: {rel}")
    except (OSError, urllib.error.URLError, DatasetError) as err:
        raise DatasetError(
            f"Dataset {name!r}: file {ds.folder}/{rel} was not found. Looked in:\n{where}\n"
            f"and the download from {url} failed: {err}\n{_fix_hint(ds, rel)}") from err
    return target


def _download(url: str, target: Path, expected: str, *, label: str) -> None:
    """Fetch url to target atomically: temp file beside it, verify sha256, then rename."""
    from tqdm.auto import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"Downloading {label}",
                      file=sys.stderr, leave=False) as bar:
                while block := response.read(_CHUNK):
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    bar.update(len(block))
            if total is not None and received != total:
                raise DatasetError(f"the transfer stopped after {received} of {total} bytes")
        actual = digest.hexdigest()
        if actual != expected:
            raise DatasetError(f"downloaded bytes have sha256 {actual}, expected {expected}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def status() -> list[dict]:
    """One row per dataset: where its files were found and whether all of them verify. Never downloads."""
    rows = []
    for ds in manifest().values():
        row = {"dataset": ds.name, "files": len(ds.files), "verified": 0, "where": "", "problem": ""}
        places = set()
        for rel in ds.files:
            try:
                places.add(str(locate(ds.name, rel, download=False).parents[len(Path(rel).parts)]))
                row["verified"] += 1
            except DatasetError as err:
                row["problem"] = str(err).splitlines()[0]
                break
        row["where"] = ", ".join(sorted(places))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------- decoded cache
def _cached(key: str, names: tuple[str, ...], build):
    """Arrays named `names`, from the decoded cache if present, else built by `build()` and stored.

    The key holds the source files' hashes and the decoding options, so a changed file or option
    never returns stale arrays. A cache that cannot be written (read-only checkout) is skipped.
    """
    folder = DECODED_DIR / key
    try:
        return tuple(np.load(folder / f"{n}.npy", allow_pickle=False) for n in names)
    except (OSError, ValueError):
        pass
    arrays = build()
    try:
        DECODED_DIR.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=DECODED_DIR))
        for n, a in zip(names, arrays):
            np.save(tmp / f"{n}.npy", a, allow_pickle=False)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process stored it first: theirs is identical
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    except OSError:
        pass
    return arrays


def _key(name: str, files: list[str], *options) -> str:
    ds = _dataset(name)
    digest = hashlib.sha256()
    for rel in files:
        digest.update(ds.files[rel].encode())
    digest.update(repr(options).encode())
    return f"{name}-{digest.hexdigest()[:16]}"


# ------------------------------------------------------------------------------------ IDX (MNIST)
def read_idx(path: Path) -> np.ndarray:
    """Decode one IDX file (gzip or not): magic 0,0,dtype,ndim, then big-endian uint32 sizes, then data."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DatasetError(f"{path}: header says shape {shape} but the file holds {body.size} values")
    return body.reshape(shape)


def _load_idx_set(name: str, validation: bool):
    files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    paths = [locate(name, rel) for rel in files]  # verifies every file, every time
    x_train, y_train, x_test, y_test = _cached(
        _key(name, files), ("x_train", "y_train", "x_test", "y_test"),
        lambda: tuple(read_idx(p) for p in paths))
    if validation:
        # The classic split: the last 5,000 training images are the validation set.
        return ((x_train[:-5000], y_train[:-5000]), (x_train[-5000:], y_train[-5000:]),
                (x_test, y_test))
    return (x_train, y_train), (x_test, y_test)


def load_mnist(validation: bool = False):
    """MNIST digits as uint8 arrays: images (N, 28, 28) in 0..255, labels (N,) in 0..9.

    Returns ``(x_train, y_train), (x_test, y_test)`` with 60,000 and 10,000 images, or with
    ``validation=True`` the classic ``(train, validation, test)`` split of 55,000 / 5,000 / 10,000
    (validation = the last 5,000 training images).
    """
    return _load_idx_set("mnist", validation)


def load_fashion_mnist(validation: bool = False):
    """Fashion-MNIST, same shapes, dtypes and options as :func:`load_mnist`; names in FASHION_CLASSES."""
    return _load_idx_set("fashion-mnist", validation)


# --------------------------------------------------------------------------- Sign Language Digits
SIGN_SPLIT_SEED = 2062
SIGN_SPLIT_FRACTIONS = (0.70, 0.15, 0.15)


def stratified_split(labels: np.ndarray, fractions=(0.70, 0.15, 0.15), seed: int = 0):
    """Indices (train, validation, test) of a deterministic split stratified by label.

    Within each label (in the order given) a PCG64 generator seeded with `seed` shuffles the rows;
    the first round(n*fractions[1]) go to validation, the next round(n*fractions[2]) to test, the
    rest to train. PCG64 gives the same stream on every platform and process, so the split is fixed.
    """
    labels = np.asarray(labels)
    rng = np.random.Generator(np.random.PCG64(seed))
    parts = ([], [], [])
    for value in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == value)
        idx = idx[rng.permutation(idx.size)]
        n_val = round(idx.size * fractions[1])
        n_test = round(idx.size * fractions[2])
        parts[1].append(idx[:n_val])
        parts[2].append(idx[n_val:n_val + n_test])
        parts[0].append(idx[n_val + n_test:])
    return tuple(np.sort(np.concatenate(p)) for p in parts)


def sign_digits_split(labels: np.ndarray):
    """The course's fixed split of the sign photos: 70 / 15 / 15 % within each digit, seed 2062."""
    return stratified_split(labels, SIGN_SPLIT_FRACTIONS, SIGN_SPLIT_SEED)


def _decode_photo(path: Path, size: int, gray: bool) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        img.draft("L" if gray else "RGB", (size, size))  # JPEG shrinks while decoding: fast for 3024²
        img = img.convert("L" if gray else "RGB")
        if img.size != (size, size):
            img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if gray else arr


def preprocess_photo(path, size: int = 64, gray: bool = False) -> np.ndarray:
    """Any image file as the loader prepares the dataset: a (size, size, C) uint8 array."""
    return _decode_photo(Path(path), size, gray)


def load_sign_digits(size: int = 64, gray: bool = False):
    """Sign Language Digits photos (2,062, digits 0-9), resized, split train / validation / test.

    Images are uint8 arrays (N, size, size, 3), or (N, size, size, 1) with ``gray=True``; labels are
    int64 (N,) in 0..9. The split is :func:`sign_digits_split` (70 / 15 / 15 % within each digit,
    seed 2062): 1,442 / 310 / 310 photos. Returns ``(train, validation, test)`` pairs.
    """
    ds = _dataset("sign-language-digits")
    files = sorted(ds.files)
    paths = [locate(ds.name, rel) for rel in files]

    def build():
        labels = np.array([int(Path(rel).parts[1]) for rel in files], dtype=np.int64)
        images = np.stack([_decode_photo(p, size, gray) for p in paths])
        return images, labels

    images, labels = _cached(_key(ds.name, files, size, gray), ("images", "labels"), build)
    train, val, test = sign_digits_split(labels)
    return tuple((images[i], labels[i]) for i in (train, val, test))


# ---------------------------------------------------------------------------------------- housing
HOUSING_SPLIT_SEED = 42


def load_housing():
    """California housing as a DataFrame: 20,640 rows, 9 float64 columns and ``ocean_proximity``
    (5 categories); ``total_bedrooms`` has 207 missing values."""
    import pandas as pd

    return pd.read_csv(locate("housing", "housing.csv"))


def split_housing(df, fractions=(0.8, 0.1, 0.1), seed: int = HOUSING_SPLIT_SEED,
                  stratify: str | None = "ocean_proximity"):
    """A fixed (train, dev, test) split of a housing DataFrame, stratified by `stratify` when given.

    Deterministic for a given seed; rows keep their original index so a split can be traced back.
    """
    labels = df[stratify].to_numpy() if stratify else np.zeros(len(df))
    parts = stratified_split(labels, fractions, seed)
    return tuple(df.iloc[p] for p in parts)
