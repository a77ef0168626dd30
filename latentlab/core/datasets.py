"""Import a practitioner's own images: ``.npz``, ``.npy``, CSV and MNIST-style IDX files.

:func:`load_dataset` reads a file into a :class:`~latentlab.core.data.Dataset` (images
``(N, H*W)`` float32 in [0, 1], labels int64 or None) and refuses anything else with a
:class:`DataFileError` that says what is wrong and what is expected. Nothing is ever
unpickled, array headers are checked *before* any memory is allocated (a hostile header
cannot ask for terabytes), and gzip streams are read only as far as the header says.

Pixel values: ``uint8`` 0..255 is scaled by 1/255; floats already in [0, 1] are kept;
``bool`` becomes 0/1. In a CSV (text has no dtype), whole numbers 0..255 with any value
above 1 are scaled by 1/255 and values in [0, 1] are kept.
"""

from __future__ import annotations

import gzip
import math
import os
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

from .data import Dataset
from .limits import MAX_CSV_BYTES, MAX_IMAGES, MAX_PIXELS, MAX_VALUES, MIN_IMAGES, MIN_SIDE

SUPPORTED = ".npz, .npy, .csv, or MNIST IDX (…-idx3-ubyte, optionally .gz)"
IMAGE_KEYS = ("images", "x", "X")
LABEL_KEYS = ("labels", "y", "Y")
CSV_LABEL_HEADERS = ("label", "labels")

_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_UBYTE = 0x08


class DataFileError(ValueError):
    """A data file is missing, corrupt, truncated, hostile or not a usable image set."""


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read the images (and labels, when the file has them) in ``path``.

    ``.npz``: array ``images`` (or ``x``/``X``) and optional ``labels`` (or ``y``/``Y``);
    ``.npy``: one array; both N×H×W (or N×H×W×1) or N×D with D a square number of pixels.
    ``.csv``: one image per row of D = H·W numbers (square images), an optional header
    row, and a first column of labels when the header names it ``label``.
    IDX: ``…-idx3-ubyte`` or ``…-idx3-ubyte.gz``; a sibling ``…-idx1-ubyte[.gz]`` with the
    same prefix (``images`` → ``labels`` as in MNIST's names) supplies the labels.
    """
    path = Path(path)
    if path.is_dir():
        raise DataFileError(f"{path} is a folder; choose a data file ({SUPPORTED}), or "
                            "import the folder as a folder of images")
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    kind = _kind_of(path)
    try:
        if kind == "npz":
            images, labels, names = _read_npz(path)
        elif kind == "npy":
            with open(path, "rb") as handle:
                images = _read_npy(handle, f"{path}", MAX_VALUES)
            labels, names = None, None
        elif kind == "csv":
            images, labels = _read_csv(path)
            names = None
        else:
            images, labels = _read_idx_images(path)
            names = None
    except DataFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, KeyError) as exc:
        raise DataFileError(f"{path}: corrupt or truncated file ({exc})") from exc
    except (ValueError, TypeError) as exc:  # NumPy's own header checks, etc.
        raise DataFileError(f"{path}: not a usable data file ({exc})") from exc
    return make_dataset(images, labels, name=_stem(path), source=str(path),
                        label_names=names)


def make_dataset(images: np.ndarray, labels: np.ndarray | None, *, name: str,
                 source: str = "", image_shape: tuple[int, int] | None = None,
                 label_names: Sequence[str] | None = None) -> Dataset:
    """Validate raw arrays and build a :class:`Dataset` (shared by every importer).

    ``images``: N×H×W, N×H×W×1, or N×D (D a square number, unless ``image_shape`` is
    given); uint8 0..255, bool, or float in [0, 1]. ``labels``: N whole numbers, or None.
    """
    where = f"{source}: " if source else ""
    images = np.asarray(images)
    if images.dtype.hasobject or images.dtype.kind not in "uifb":
        raise DataFileError(f"{where}images have dtype {images.dtype}; expected uint8 "
                            "(0..255) or float (0..1) numbers")
    if images.ndim == 4 and images.shape[3] == 1:
        images = images[..., 0]
    if images.ndim == 4 and images.shape[3] in (3, 4):
        raise DataFileError(f"{where}images have {images.shape[3]} colour channels "
                            f"(shape {images.shape}); expected grayscale N×H×W")
    if images.ndim == 3:
        n, h, w = images.shape
        if image_shape is not None and image_shape != (h, w):
            raise DataFileError(f"{where}images are {h}×{w}, expected {image_shape}")
    elif images.ndim == 2:
        n, d = images.shape
        if image_shape is not None:
            h, w = image_shape
            if h * w != d:
                raise DataFileError(f"{where}rows have {d} values; {h}×{w} images need "
                                    f"{h * w}")
        else:
            side = math.isqrt(d)
            if side * side != d:
                raise DataFileError(
                    f"{where}each image has {d} values, which is not a square number of "
                    "pixels; save the images as an N×H×W array (or square N×D rows, e.g. "
                    "64 for 8×8, 256 for 16×16, 784 for 28×28)")
            h = w = side
    else:
        raise DataFileError(f"{where}images have shape {images.shape}; expected N×H×W "
                            "(one grayscale image per entry) or N×D (one flattened square "
                            "image per row)")
    _check_size(where, n, h, w)
    pixels = _scaled(images.reshape(n, h * w), where)
    if labels is not None:
        labels = _int_labels(np.asarray(labels), n, where)
    names = tuple(str(s) for s in label_names) if label_names is not None else None
    return Dataset(images=pixels, labels=labels, image_shape=(int(h), int(w)), name=name,
                   label_names=names)


# -- checks ------------------------------------------------------------------------------
def _check_size(where: str, n: int, h: int, w: int) -> None:
    if n < MIN_IMAGES:
        raise DataFileError(f"{where}found {n} image{'s' if n != 1 else ''}; at least "
                            f"{MIN_IMAGES} are needed to train")
    if n > MAX_IMAGES:
        raise DataFileError(f"{where}{n:,} images is too many; LatentLab takes at most "
                            f"{MAX_IMAGES:,} (use a subset)")
    if h < MIN_SIDE or w < MIN_SIDE:
        raise DataFileError(f"{where}images are {h}×{w}; each side needs at least "
                            f"{MIN_SIDE} pixels")
    if h * w > MAX_PIXELS:
        raise DataFileError(f"{where}images are {h}×{w} = {h * w:,} pixels; LatentLab "
                            f"takes at most {MAX_PIXELS:,} pixels per image (e.g. 64×64) — "
                            "downscale them first")
    if n * h * w > MAX_VALUES:
        raise DataFileError(f"{where}{n:,} images of {h}×{w} are {n * h * w:,} values; "
                            f"LatentLab takes at most {MAX_VALUES:,} (use a subset)")


def _scaled(x: np.ndarray, where: str) -> np.ndarray:
    """Pixels as float32 in [0, 1], or a DataFileError saying which values are wrong."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    if x.dtype.kind == "b":
        return x.astype(np.float32)
    if x.dtype.kind in "iu":
        raise DataFileError(f"{where}images have dtype {x.dtype}; expected uint8 (0..255) or "
                            "float (0..1) — convert with .astype(np.uint8) or scale to "
                            "floats in [0, 1]")
    if not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise DataFileError(f"{where}images contain {bad:,} NaN or infinite value"
                            f"{'s' if bad != 1 else ''}; expected numbers in [0, 1]")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        hint = (" (looks like 0..255: store it as uint8)" if lo >= 0 and hi <= 255 else "")
        raise DataFileError(f"{where}float pixel values range from {lo:g} to {hi:g}; "
                            f"expected values in [0, 1]{hint}")
    return x.astype(np.float32)


def _int_labels(labels: np.ndarray, n: int, where: str) -> np.ndarray:
    if labels.dtype.hasobject or labels.dtype.kind not in "uifb":
        raise DataFileError(f"{where}labels have dtype {labels.dtype}; expected whole "
                            "numbers")
    labels = labels.reshape(-1) if labels.ndim == 2 and 1 in labels.shape else labels
    if labels.shape != (n,):
        raise DataFileError(f"{where}there are {labels.size:,} labels for {n:,} images; "
                            "expected one label per image")
    if labels.dtype.kind == "f":
        if not np.isfinite(labels).all() or not np.array_equal(labels, np.round(labels)):
            raise DataFileError(f"{where}labels must be whole numbers")
        if np.abs(labels).max(initial=0) > 2**31:
            raise DataFileError(f"{where}labels are out of range")
    return labels.astype(np.int64)


# -- file kinds --------------------------------------------------------------------------
def _base_name(path: Path) -> str:
    name = path.name
    return name[:-3] if name.lower().endswith(".gz") else name


def _stem(path: Path) -> str:
    base = _base_name(path)
    return Path(base).stem if Path(base).suffix.lower() in (".npz", ".npy", ".csv") else base


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".npz", ".npy", ".csv"):
        return suffix[1:]
    base = _base_name(path).lower()
    if "idx1" in base:
        raise DataFileError(f"{path} holds labels (IDX1); open the images file (…-idx3-ubyte)"
                            " — its labels are found beside it")
    if "idx3" in base:
        return "idx"
    if path.name.lower().endswith(".gz"):
        raise DataFileError(f"{path}: a gzip file that is not MNIST IDX images; supported: "
                            f"{SUPPORTED}")
    with open(path, "rb") as handle:  # unknown suffix: look at the first bytes
        head = handle.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "npz"
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head[:2] == b"\x00\x00" and len(head) >= 4 and head[2] == _IDX_UBYTE and head[3] == 3:
        return "idx"
    raise DataFileError(f"{path}: unknown file type {path.suffix or '(no suffix)'!r}; "
                        f"supported: {SUPPORTED}")


# -- .npy / .npz -------------------------------------------------------------------------
def _read_npy(handle: IO[bytes], where: str, max_values: int) -> np.ndarray:
    """Read one ``.npy`` stream, checking its header before allocating anything."""
    if handle.read(6) != _NPY_MAGIC:
        raise DataFileError(f"{where}: not a NumPy .npy array (bad magic bytes)")
    version = handle.read(2)
    if len(version) != 2:
        raise DataFileError(f"{where}: truncated .npy header")
    major = version[0]
    if major == 1:
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
    elif major in (2, 3):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
    else:
        raise DataFileError(f"{where}: unsupported .npy format version {major}")
    if dtype.hasobject:
        raise DataFileError(f"{where}: holds Python objects, which would need pickle to "
                            "load; refused (save plain numeric arrays)")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise DataFileError(f"{where}: structured dtype {dtype}; expected a plain numeric "
                            "array")
    count = math.prod(shape)
    if count > max_values or any(s < 0 for s in shape):
        raise DataFileError(f"{where}: array of shape {shape} is too large (at most "
                            f"{max_values:,} values)")
    size = count * dtype.itemsize
    data = handle.read(size)
    if len(data) != size:
        raise DataFileError(f"{where}: truncated array data ({len(data):,} of {size:,} "
                            "bytes)")
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C")


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    with open(path, "rb") as handle:
        if handle.read(4) != _ZIP_MAGIC:
            raise DataFileError(f"{path}: corrupt or truncated .npz file (not a zip archive)")
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            members = {n[:-4] if n.endswith(".npy") else n: n for n in archive.namelist()}
            image_key = next((k for k in IMAGE_KEYS if k in members), None)
            if image_key is None:
                found = ", ".join(sorted(members)) or "nothing"
                raise DataFileError(f"{path}: no images array; expected an array named "
                                    f"'images' (or 'x'/'X'), found {found}")
            with archive.open(members[image_key]) as member:
                images = _read_npy(member, f"{path}[{image_key}]", MAX_VALUES)
            labels, names = None, None
            label_key = next((k for k in LABEL_KEYS if k in members), None)
            if label_key is not None:
                with archive.open(members[label_key]) as member:
                    raw = _read_npy(member, f"{path}[{label_key}]", MAX_IMAGES + 1)
                if raw.dtype.kind == "U":  # class names: index them in sorted order
                    uniq, labels = np.unique(raw.reshape(-1), return_inverse=True)
                    names = [str(u) for u in uniq]
                    labels = labels.reshape(raw.shape)
                else:
                    labels = raw
    return images, labels, names


# -- CSV ---------------------------------------------------------------------------------
def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    if path.stat().st_size > MAX_CSV_BYTES:
        raise DataFileError(f"{path}: CSV larger than {MAX_CSV_BYTES >> 20} MB; use a .npz "
                            "or IDX file for big data sets")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first, skip = "", 0
            for line in handle:
                skip += 1
                if line.strip():
                    first = line
                    break
            if not first:
                raise DataFileError(f"{path}: the CSV file is empty; expected one image per "
                                    "row of comma-separated pixel values")
            fields = [f.strip().strip('"').strip() for f in first.split(",")]
            has_header = not _is_number(fields[0])  # e.g. "label,p0,…" or "px0,px1,…"
            has_labels = has_header and fields[0].lower() in CSV_LABEL_HEADERS
            handle.seek(0)
            try:
                with warnings.catch_warnings():
                    # Blank lines are skipped; NumPy notes they don't count to max_rows.
                    warnings.filterwarnings("ignore", "Input line", UserWarning)
                    warnings.filterwarnings("ignore", "loadtxt: input contained no data",
                                            UserWarning)
                    table = np.loadtxt(handle, delimiter=",", dtype=np.float64, ndmin=2,
                                       skiprows=skip if has_header else 0,
                                       max_rows=MAX_IMAGES + 1)
            except ValueError as exc:
                raise DataFileError(f"{path}: not a table of numbers ({exc}); expected one "
                                    "image per row of comma-separated values, an optional "
                                    "header row, and an optional first column 'label'"
                                    ) from exc
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not a text CSV file ({exc})") from exc
    if table.shape[0] > MAX_IMAGES:
        raise DataFileError(f"{path}: more than {MAX_IMAGES:,} rows; LatentLab takes at "
                            f"most {MAX_IMAGES:,} images (use a subset)")
    if table.shape[0] == 0 or table.size == 0:
        raise DataFileError(f"{path}: no image rows; expected one image per row")
    labels = None
    if has_labels:
        labels, table = table[:, 0], table[:, 1:]
    if table.shape[1] == 0:
        raise DataFileError(f"{path}: rows have no pixel values")
    if not np.isfinite(table).all():
        raise DataFileError(f"{path}: contains NaN or infinite values; expected numbers in "
                            "[0, 1] or whole numbers 0..255")
    lo, hi = float(table.min()), float(table.max())
    if lo >= 0 and hi <= 1:
        pixels: np.ndarray = table.astype(np.float32)
    elif lo >= 0 and hi <= 255 and np.array_equal(table, np.round(table)):
        pixels = table.astype(np.uint8)
    else:
        raise DataFileError(f"{path}: pixel values range from {lo:g} to {hi:g}; expected "
                            "numbers in [0, 1] or whole numbers 0..255")
    return pixels, labels


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- MNIST IDX ---------------------------------------------------------------------------
def _open_maybe_gz(path: Path) -> IO[bytes] | gzip.GzipFile:
    with open(path, "rb") as handle:
        head = handle.read(2)
    if head == _GZIP_MAGIC:
        return gzip.open(path, "rb")
    if path.name.lower().endswith(".gz"):
        raise DataFileError(f"{path}: named .gz but not gzip-compressed")
    return open(path, "rb")


def _read_idx(path: Path, ndim: int, max_values: int) -> np.ndarray:
    what = "images (IDX3)" if ndim == 3 else "labels (IDX1)"
    with _open_maybe_gz(path) as handle:
        magic = handle.read(4)
        if len(magic) != 4 or magic[:2] != b"\x00\x00":
            raise DataFileError(f"{path}: not an MNIST IDX file (bad magic number); "
                                f"expected {what}")
        if magic[2] != _IDX_UBYTE:
            raise DataFileError(f"{path}: IDX data type 0x{magic[2]:02x} is not supported; "
                                "expected unsigned bytes (0x08) as in MNIST")
        if magic[3] != ndim:
            raise DataFileError(f"{path}: IDX file has {magic[3]} dimensions; expected "
                                f"{ndim} for {what}")
        header = handle.read(4 * ndim)
        if len(header) != 4 * ndim:
            raise DataFileError(f"{path}: truncated IDX header")
        shape = tuple(int(v) for v in np.frombuffer(header, dtype=">u4"))
        if ndim == 3:
            _check_size(f"{path}: ", *shape)
        count = math.prod(shape)
        if count > max_values:
            raise DataFileError(f"{path}: {count:,} values is too many")
        data = handle.read(count)
        if len(data) != count:
            raise DataFileError(f"{path}: truncated IDX data ({len(data):,} of {count:,} "
                                "bytes)")
        if handle.read(1):
            raise DataFileError(f"{path}: extra bytes after the {shape} IDX array; the file "
                                "is corrupt or not what its header says")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def label_file_for(path: Path) -> Path | None:
    """The MNIST labels file beside an images file, if there is one: ``idx3`` → ``idx1``,
    and ``images`` → ``labels`` (``train-images-idx3-ubyte`` → ``train-labels-idx1-ubyte``),
    compressed or not."""
    base = _base_name(path)
    stems = {base.replace("idx3", "idx1"),
             base.replace("idx3", "idx1").replace("images", "labels")}
    for stem in sorted(stems):
        for name in (stem, stem + ".gz"):
            candidate = path.with_name(name)
            if candidate.is_file():
                return candidate
    return None


def _read_idx_images(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    images = _read_idx(path, 3, MAX_VALUES)
    label_path = label_file_for(path)
    if label_path is None:
        return images, None
    try:
        labels = _read_idx(label_path, 1, MAX_IMAGES)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFileError(f"{label_path}: corrupt or truncated labels file ({exc})") from exc
    if labels.shape[0] != images.shape[0]:
        raise DataFileError(f"{label_path} has {labels.shape[0]:,} labels for "
                            f"{images.shape[0]:,} images in {path.name}")
    return images, labels


__all__ = ["MAX_IMAGES", "MAX_PIXELS", "DataFileError", "label_file_for", "load_dataset",
           "make_dataset"]
