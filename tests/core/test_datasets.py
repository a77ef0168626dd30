"""Importing a practitioner's own images: every format round-trips, every bad file is
refused with a DataFileError that says what is wrong, and nothing is ever unpickled."""

from __future__ import annotations

import gzip
import pickle
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from latentlab.core import DataFileError, Dataset, load_dataset
from latentlab.core.datasets import label_file_for, make_dataset


def _images(n: int = 12, h: int = 16, w: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w), dtype=np.uint8)


def _labels(n: int = 12) -> np.ndarray:
    return np.arange(n, dtype=np.int64) % 3


def _check(ds: Dataset, images: np.ndarray, labels: np.ndarray | None, name: str) -> None:
    n, h, w = images.shape
    assert ds.name == name and ds.image_shape == (h, w) and len(ds) == n
    assert ds.images.dtype == np.float32 and ds.images.shape == (n, h * w)
    np.testing.assert_allclose(ds.images, images.reshape(n, -1) / 255.0, rtol=1e-6)
    if labels is None:
        assert ds.labels is None
    else:
        assert ds.labels is not None and ds.labels.dtype == np.int64
        np.testing.assert_array_equal(ds.labels, labels)


# -- round trips -------------------------------------------------------------------------
@pytest.mark.parametrize(("image_key", "label_key"),
                         [("images", "labels"), ("x", "y"), ("X", None)])
def test_npz_round_trip(tmp_path: Path, image_key: str, label_key: str | None) -> None:
    images, labels = _images(), _labels()
    arrays = {image_key: images}
    if label_key:
        arrays[label_key] = labels.astype(np.uint8)
    np.savez_compressed(tmp_path / "faces.npz", **arrays)
    _check(load_dataset(tmp_path / "faces.npz"), images, labels if label_key else None,
           "faces")


def test_npz_float_flat_rows_and_string_labels(tmp_path: Path) -> None:
    images = _images(6, 8, 8)
    floats = images.reshape(6, 64).astype(np.float64) / 255.0
    names = np.array(["cat", "dog", "cat", "emu", "dog", "cat"])
    np.savez(tmp_path / "pets.npz", images=floats, labels=names)
    ds = load_dataset(tmp_path / "pets.npz")
    _check(ds, images, np.array([0, 1, 0, 2, 1, 0]), "pets")
    assert ds.label_names == ("cat", "dog", "emu") and ds.label_name(2) == "emu"


def test_npy_shapes(tmp_path: Path) -> None:
    images = _images(5, 12, 20)  # rectangular images keep their shape
    np.save(tmp_path / "wide.npy", images)
    _check(load_dataset(tmp_path / "wide.npy"), images, None, "wide")
    square = _images(5, 16, 16)
    np.save(tmp_path / "flat.npy", square.reshape(5, 256))
    _check(load_dataset(tmp_path / "flat.npy"), square, None, "flat")
    np.save(tmp_path / "chan.npy", square[..., None])  # N×H×W×1 is grayscale
    _check(load_dataset(tmp_path / "chan.npy"), square, None, "chan")
    np.save(tmp_path / "fortran.npy", np.asfortranarray(images))
    _check(load_dataset(tmp_path / "fortran.npy"), images, None, "fortran")
    floats = np.random.default_rng(1).random((4, 8, 8)).astype(">f8")  # big-endian floats
    np.save(tmp_path / "big.npy", floats)
    np.testing.assert_allclose(load_dataset(tmp_path / "big.npy").images,
                               floats.reshape(4, 64), rtol=1e-6)
    np.save(tmp_path / "mask.npy", images > 127)  # bool images are 0/1
    assert set(np.unique(load_dataset(tmp_path / "mask.npy").images)) == {0.0, 1.0}


def test_csv_with_header_and_labels(tmp_path: Path) -> None:
    images, labels = _images(4, 8, 8), _labels(4)
    rows = [",".join(["label", *(f"p{i}" for i in range(64))])]
    rows += [",".join(map(str, [labels[i], *images[i].ravel()])) for i in range(4)]
    (tmp_path / "scan.csv").write_text("\n".join(rows) + "\n")
    _check(load_dataset(tmp_path / "scan.csv"), images, labels, "scan")


def test_csv_plain_rows_and_float_header(tmp_path: Path) -> None:
    images = _images(3, 4, 4)
    text = "\n".join(",".join(map(str, row.ravel())) for row in images)
    (tmp_path / "plain.csv").write_text(text)
    _check(load_dataset(tmp_path / "plain.csv"), images, None, "plain")
    floats = images.reshape(3, 16) / 255.0  # floats in [0, 1], header without labels
    header = ",".join(f"px{i}" for i in range(16))
    body = "\n".join(",".join(f"{v:.9f}" for v in row) for row in floats)
    (tmp_path / "floats.csv").write_text(f"\ufeff{header}\r\n{body}\r\n\r\n")
    ds = load_dataset(tmp_path / "floats.csv")
    assert ds.labels is None and ds.image_shape == (4, 4)
    np.testing.assert_allclose(ds.images, floats, atol=1e-7)


def _idx(path: Path, array: np.ndarray, compress: bool) -> Path:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def test_idx_gz_with_mnist_style_labels(tmp_path: Path) -> None:
    images, labels = _images(10, 28, 28), _labels(10)
    path = _idx(tmp_path / "train-images-idx3-ubyte", images, compress=True)
    label_path = _idx(tmp_path / "train-labels-idx1-ubyte", labels, compress=True)
    assert label_file_for(path) == label_path
    _check(load_dataset(path), images, labels, "train-images-idx3-ubyte")


def test_idx_plain_with_and_without_labels(tmp_path: Path) -> None:
    images = _images(7, 16, 16)
    path = _idx(tmp_path / "t10k-idx3-ubyte", images, compress=False)
    _check(load_dataset(path), images, None, "t10k-idx3-ubyte")
    _idx(tmp_path / "t10k-idx1-ubyte", _labels(7), compress=False)
    _check(load_dataset(path), images, _labels(7), "t10k-idx3-ubyte")


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((0, 8, 8), np.uint8), "found 0 images"),
    (np.zeros((1, 8, 8), np.uint8), "at least 2"),
    (np.zeros((4, 50), np.uint8), "not a square number"),
    (np.zeros((4, 8, 8, 3), np.uint8), "3 colour channels"),
    (np.zeros((4,), np.uint8), "expected N×H×W"),
    (np.zeros((2, 2, 2, 2, 2), np.uint8), "expected N×H×W"),
    (np.zeros((4, 1, 8), np.uint8), "at least 2 pixels"),
    (np.zeros((2, 65, 65), np.uint8), "at most 4,096 pixels"),
    (np.zeros((200_001, 2, 2), np.uint8), "at most 200,000"),
    (np.full((3, 4, 4), np.nan, np.float32), "NaN or infinite"),
    (np.full((3, 4, 4), np.inf), "NaN or infinite"),
    (np.full((3, 4, 4), -0.5), "range from -0.5"),
    (np.full((3, 4, 4), 200.0), "store it as uint8"),
    (np.full((3, 4, 4), 1.5), "expected values in [0, 1]"),
    (np.zeros((3, 4, 4), np.int64), "dtype int64; expected uint8"),
    (np.zeros((3, 4, 4), np.complex64), "dtype complex64"),
    (np.array([["a"] * 4] * 3), "dtype <U1"),
])
def test_bad_arrays_are_refused(tmp_path: Path, array: np.ndarray, message: str) -> None:
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(DataFileError, match=_re(message)):
        load_dataset(tmp_path / "bad.npy")


def _re(text: str) -> str:
    return re.escape(text)


def test_pickled_objects_are_never_loaded(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Boom:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    obj = np.empty(2, dtype=object)
    obj[:] = [Boom(), Boom()]
    np.save(tmp_path / "evil.npy", obj, allow_pickle=True)
    with pytest.raises(DataFileError, match="need pickle"):
        load_dataset(tmp_path / "evil.npy")
    np.savez(tmp_path / "evil.npz", images=obj)
    with pytest.raises(DataFileError, match="need pickle"):
        load_dataset(tmp_path / "evil.npz")
    (tmp_path / "raw.npy").write_bytes(pickle.dumps(Boom()))  # a bare pickle named .npy
    with pytest.raises(DataFileError, match="not a NumPy"):
        load_dataset(tmp_path / "raw.npy")
    assert not marker.exists()


def test_hostile_header_is_refused_before_allocating(tmp_path: Path) -> None:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000, 4096), }"
    header = header.ljust(118) + "\n"
    (tmp_path / "huge.npy").write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", 118)
                                        + header.encode("latin1"))
    with pytest.raises(DataFileError, match="too large"):
        load_dataset(tmp_path / "huge.npy")
    big = struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">3I", 2**31, 28, 28)
    (tmp_path / "huge-idx3-ubyte").write_bytes(big)
    with pytest.raises(DataFileError, match="too many"):
        load_dataset(tmp_path / "huge-idx3-ubyte")


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    np.save(tmp_path / "ok.npy", _images())
    data = (tmp_path / "ok.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:-100])
    with pytest.raises(DataFileError, match="truncated array data"):
        load_dataset(tmp_path / "cut.npy")
    (tmp_path / "head.npy").write_bytes(data[:20])
    with pytest.raises(DataFileError):
        load_dataset(tmp_path / "head.npy")
    np.savez_compressed(tmp_path / "ok.npz", images=_images())
    zipped = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(zipped[: len(zipped) // 2])
    with pytest.raises(DataFileError, match="corrupt or truncated"):
        load_dataset(tmp_path / "cut.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DataFileError, match="not a zip archive"):
        load_dataset(tmp_path / "text.npz")
    for name in ("empty.npy", "empty.npz", "empty.csv"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(DataFileError):
            load_dataset(tmp_path / name)
    (tmp_path / "noise.npz").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    with pytest.raises(DataFileError, match="corrupt or truncated"):
        load_dataset(tmp_path / "noise.npz")


def test_npz_without_images_or_with_mismatched_labels(tmp_path: Path) -> None:
    np.savez(tmp_path / "odd.npz", pixels=_images())
    with pytest.raises(DataFileError, match=r"expected an array named 'images'.*found pixels"):
        load_dataset(tmp_path / "odd.npz")
    np.savez(tmp_path / "short.npz", images=_images(), labels=np.arange(5))
    with pytest.raises(DataFileError, match="5 labels for 12 images"):
        load_dataset(tmp_path / "short.npz")
    np.savez(tmp_path / "frac.npz", images=_images(), labels=np.full(12, 0.5))
    with pytest.raises(DataFileError, match="whole numbers"):
        load_dataset(tmp_path / "frac.npz")


@pytest.mark.parametrize(("text", "message"), [
    ("1,2,3\n4,5\n", "not a table of numbers"),  # ragged
    ("0,0.5,x,1\n", "not a table of numbers"),
    ("label,a,b,c,d\n1,0,0,0,0\n2,0,0,0\n", "not a table of numbers"),
    ("0,1,2,3,4,5\n", "not a square number"),  # 5 values would be a label and 2×2
    ("0,0.5,1,2\n0,0,0,0\n", "range from 0 to 2"),
    ("0,300,1,2\n0,0,0,0\n", "range from 0 to 300"),
    ("0,-1,0,0\n0,0,0,0\n", "range from -1"),
    ("0,nan,0,0\n0,0,0,0\n", "NaN or infinite"),
    ("a,b,c,d\n", "no image rows"),
    ("\n\n", "the CSV file is empty"),
    ("label,a,b,c,d\n0.5,0,0,0,0\n1,0,0,0,0\n", "whole numbers"),
    ("label\n1\n2\n", "no pixel values"),
])
def test_bad_csv(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(DataFileError, match=_re(message)):
        load_dataset(tmp_path / "bad.csv")


def test_binary_file_named_csv(tmp_path: Path) -> None:
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)))
    with pytest.raises(DataFileError, match="not a text CSV"):
        load_dataset(tmp_path / "bin.csv")


def test_bad_idx_files(tmp_path: Path) -> None:
    images = _images(4, 8, 8)
    path = _idx(tmp_path / "a-idx3-ubyte", images, compress=False)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(DataFileError, match="truncated IDX data"):
        load_dataset(path)
    path.write_bytes(data + b"junk")
    with pytest.raises(DataFileError, match="extra bytes"):
        load_dataset(path)
    path.write_bytes(b"\x00\x00\x0d\x03" + data[4:])
    with pytest.raises(DataFileError, match=r"data type 0x0d"):
        load_dataset(path)
    path.write_bytes(b"\x01\x02\x08\x03" + data[4:])
    with pytest.raises(DataFileError, match="bad magic"):
        load_dataset(path)
    gz = _idx(tmp_path / "b-idx3-ubyte", images, compress=True)
    gz.write_bytes(gz.read_bytes()[:30])
    with pytest.raises(DataFileError, match=r"truncated|corrupt"):
        load_dataset(gz)
    (tmp_path / "c-idx3-ubyte.gz").write_bytes(data)
    with pytest.raises(DataFileError, match="not gzip-compressed"):
        load_dataset(tmp_path / "c-idx3-ubyte.gz")
    good = _idx(tmp_path / "d-idx3-ubyte", images, compress=False)
    _idx(tmp_path / "d-idx1-ubyte", np.arange(3), compress=False)
    with pytest.raises(DataFileError, match="3 labels for 4 images"):
        load_dataset(good)
    with pytest.raises(DataFileError, match="holds labels"):
        load_dataset(tmp_path / "d-idx1-ubyte")


def test_missing_folder_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no such file"):
        load_dataset(tmp_path / "nope.npz")
    with pytest.raises(DataFileError, match="is a folder"):
        load_dataset(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFileError, match=r"unknown file type '\.txt'"):
        load_dataset(tmp_path / "notes.txt")
    np.save(tmp_path / "arr.npy", _images())  # a known format under another name is sniffed
    (tmp_path / "arr.npy").rename(tmp_path / "arr.bin")
    assert load_dataset(tmp_path / "arr.bin").image_shape == (16, 16)


def test_make_dataset_checks_a_given_shape() -> None:
    flat = _images(3, 4, 6).reshape(3, 24)
    assert make_dataset(flat, None, name="r", image_shape=(4, 6)).image_shape == (4, 6)
    with pytest.raises(DataFileError, match="need 20"):
        make_dataset(flat, None, name="r", image_shape=(4, 5))


def test_csv_shape_is_checked_before_any_number_is_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("latentlab.core.datasets.MAX_VALUES", 100)
    (tmp_path / "wide.csv").write_text(("0," * 15 + "0\n") * 7)  # 7 × 16 = 112 values
    with pytest.raises(DataFileError, match="more than 100 values"):
        load_dataset(tmp_path / "wide.csv")
    (tmp_path / "late.csv").write_text("0,0,0,0\n" * 5 + "0,0,0\n")
    with pytest.raises(DataFileError, match="line 6 has 3 values, the first has 4"):
        load_dataset(tmp_path / "late.csv")
