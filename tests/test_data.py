"""course.data on the real files in ../shared/datasets, and on broken, missing and downloaded copies."""

import hashlib
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from course import data
from conftest import ROOT, SHARED


def test_manifest_matches_the_shared_checksums():
    listed = {}
    for sums in (SHARED / "SHA256SUMS", SHARED / "sign-language-digits" / "SHA256SUMS"):
        prefix = "" if sums.parent == SHARED else "sign-language-digits/"
        for line in sums.read_text().splitlines():
            digest, rel = line.split(maxsplit=1)
            listed[prefix + rel.removeprefix("./")] = digest
    manifest = data.manifest()
    assert set(manifest) == {"mnist", "fashion-mnist", "sign-language-digits", "housing"}
    for ds in manifest.values():
        for rel, digest in ds.files.items():
            assert listed[f"{ds.folder}/{rel}"] == digest, (ds.name, rel)
    assert len(manifest["sign-language-digits"].files) == 2062


def test_mnist_shapes_dtypes_labels_and_counts():
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(np.bincount(y_train)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(x_train.mean() - 33.318) < 1e-3


def test_mnist_classic_split_takes_last_5000_for_validation():
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = data.load_mnist(validation=True)
    (x_all, y_all), _ = data.load_mnist()
    assert (len(x_tr), len(x_val), len(x_te)) == (55000, 5000, 10000)
    np.testing.assert_array_equal(x_val, x_all[55000:])
    np.testing.assert_array_equal(y_tr, y_all[:55000])


def test_fashion_mnist_shapes_and_balance():
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert list(np.bincount(y_train)) == [6000] * 10
    assert len(data.FASHION_CLASSES) == 10


def test_sign_digits_sizes_classes_and_stratified_split():
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = data.load_sign_digits()
    assert x_tr.shape[1:] == (64, 64, 3) and x_tr.dtype == np.uint8 and y_tr.dtype == np.int64
    assert len(x_tr) + len(x_val) + len(x_te) == 2062
    assert (len(x_tr), len(x_val), len(x_te)) == (1442, 310, 310)
    per_class = np.bincount(np.concatenate([y_tr, y_val, y_te]))
    assert per_class.min() >= 204 and per_class.max() <= 208
    # stratified: every digit holds 15 % ± one photo of its photos in validation and in test
    for y in (y_val, y_te):
        np.testing.assert_allclose(np.bincount(y, minlength=10), per_class * 0.15, atol=1)


def test_sign_digits_gray_and_other_size_and_large_photos_resized():
    (x_tr, _), _, _ = data.load_sign_digits(size=32, gray=True)
    assert x_tr.shape[1:] == (32, 32, 1)
    big = SHARED / "sign-language-digits" / "Dataset" / "7" / "IMG_5874.JPG"
    photo = data.preprocess_photo(big, size=64)
    assert photo.shape == (64, 64, 3) and photo.dtype == np.uint8 and photo.std() > 10


def _split_fingerprint():
    labels = np.repeat(np.arange(10), 206)
    return hashlib.sha256(b"".join(i.tobytes() for i in data.sign_digits_split(labels))).hexdigest()


def test_sign_split_is_the_same_in_another_process():
    # tests/ first: its conftest.py, not the project root's, is the one test_data imports
    code = ("import sys; sys.path[:0] = [%r, %r]; import test_data; print(test_data._split_fingerprint())"
            % (str(ROOT / "tests"), str(ROOT)))
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == _split_fingerprint()
    train, val, test = data.sign_digits_split(np.repeat(np.arange(10), 206))
    assert not set(train) & set(val) and not set(val) & set(test) and not set(train) & set(test)


def test_housing_rows_missing_values_and_classes():
    df = data.load_housing()
    assert df.shape == (20640, 10)
    assert int(df["total_bedrooms"].isna().sum()) == 207
    assert df["ocean_proximity"].value_counts().to_dict() == {
        "<1H OCEAN": 9136, "INLAND": 6551, "NEAR OCEAN": 2658, "NEAR BAY": 2290, "ISLAND": 5}
    train, dev, test = data.split_housing(df)
    assert (len(train), len(dev), len(test)) == (16512, 2064, 2064)
    assert not set(train.index) & set(test.index)
    again = data.split_housing(df)
    assert list(again[2].index) == list(test.index)


def test_warm_load_uses_the_decoded_cache(isolated_data, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED))
    isolated_data.load_mnist()
    assert len(list(isolated_data.DECODED_DIR.glob("mnist-*/*.npy"))) == 4


# ------------------------------------------------------------------------------- broken copies
def _copy_housing(data_dir: Path) -> Path:
    target = data_dir / "housing" / "housing.csv"
    target.parent.mkdir(parents=True)
    shutil.copy(SHARED / "housing" / "housing.csv", target)
    return target


def test_a_flipped_byte_is_rejected_with_the_file_named(isolated_data, tmp_path):
    path = _copy_housing(tmp_path / "data_dir")
    raw = bytearray(path.read_bytes())
    raw[1000] ^= 0x01
    path.write_bytes(raw)
    with pytest.raises(data.DatasetError) as err:
        isolated_data.load_housing()
    message = str(err.value)
    assert str(path) in message and "corrupt" in message
    assert data.manifest()["housing"].files["housing.csv"] in message  # the expected hash
    assert hashlib.sha256(raw).hexdigest() in message  # the actual hash
    assert "COURSE_DATA_DIR" in message


def test_a_truncated_file_is_rejected(isolated_data, tmp_path):
    path = _copy_housing(tmp_path / "data_dir")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(data.DatasetError, match="corrupt"):
        isolated_data.load_housing()
    assert path.stat().st_size == 5000  # the bad copy is reported, not deleted behind the user's back


def test_missing_file_offline_says_where_it_looked_and_how_to_fix(isolated_data, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DatasetError) as err:
        isolated_data.load_mnist()
    message = str(err.value)
    assert "'mnist'" in message and "train-images-idx3-ubyte.gz" in message
    for place in (tmp_path / "data_dir", tmp_path / "shared", tmp_path / "cache"):
        assert str(place / "mnist") in message
    assert "export COURSE_DATA_DIR=" in message
    assert not (tmp_path / "cache").exists()  # offline: nothing written


# ------------------------------------------------------------------------------------ downloads
class _Server:
    """An HTTP server on 127.0.0.1 serving `root`; with cut=True it stops half way through a file."""

    def __init__(self, root: Path, cut: bool = False):
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, *args):
                pass

            def copyfile(self, source, outputfile):
                body = source.read()
                outputfile.write(body[: len(body) // 2] if outer.cut else body)

        self.cut = cut
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_download_from_a_local_mirror_verifies_and_shows_progress(isolated_data, monkeypatch, tmp_path, capsys):
    mirror = tmp_path / "mirror"
    _copy_housing(mirror)
    with _Server(mirror) as server:
        monkeypatch.setenv("COURSE_DATA_MIRROR", server.url)
        df = isolated_data.load_housing()
    assert df.shape == (20640, 10)
    cached = tmp_path / "cache" / "housing" / "housing.csv"
    assert data.sha256_of(cached) == data.manifest()["housing"].files["housing.csv"]
    assert "Downloading housing: housing.csv" in capsys.readouterr().err
    assert [p.name for p in cached.parent.iterdir()] == ["housing.csv"]


def test_a_cut_transfer_leaves_no_partial_file(isolated_data, monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    _copy_housing(mirror)
    with _Server(mirror, cut=True) as server:
        monkeypatch.setenv("COURSE_DATA_MIRROR", server.url)
        with pytest.raises(data.DatasetError) as err:
            isolated_data.load_housing()
    assert "download from" in str(err.value) and "housing.csv" in str(err.value)
    leftovers = list((tmp_path / "cache").rglob("*"))
    assert [p for p in leftovers if p.is_file()] == []


def test_a_mirror_with_wrong_bytes_is_refused(isolated_data, monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    path = _copy_housing(mirror)
    path.write_bytes(path.read_bytes().replace(b"NEAR BAY", b"NEAR BAT", 1))
    with _Server(mirror) as server:
        monkeypatch.setenv("COURSE_DATA_MIRROR", server.url)
        with pytest.raises(data.DatasetError, match="sha256"):
            isolated_data.load_housing()
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_an_unreachable_source_gives_the_clear_error(isolated_data, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(data.DatasetError) as err:
        isolated_data.load_housing()
    assert "was not found" in str(err.value) and "http://127.0.0.1:9/housing/housing.csv" in str(err.value)


def test_status_reports_every_dataset_without_downloading():
    rows = {row["dataset"]: row for row in data.status()}
    assert rows["sign-language-digits"]["verified"] == 2062
    assert all(row["verified"] == row["files"] and not row["problem"] for row in rows.values())


def test_read_idx_rejects_a_file_whose_header_lies(tmp_path):
    bad = tmp_path / "bad-idx1-ubyte"
    bad.write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(5))
    with pytest.raises(data.DatasetError, match="header says shape"):
        data.read_idx(bad)
