"""Import a practitioner's own images: ``.npz``, ``.npy``, CSV and MNIST-style IDX files.

:func:`load_dataset` reads a file into a :class:`~latentlab.core.data.Dataset` (images
``(N, H*W)`` float32 in [0, 1], labels int64 or None) and refuses anything else with a
:class:`DataFileError`: one line naming the file and saying what is wrong and what is
expected. Nothing is ever unpickled.

Bounded by principle, with the limits of :mod:`.limits`: the path must be a regular file
(:mod:`.safeload`); what a file *declares* — an array header's dtype and shape, a zip
member's sizes, IDX dimensions, a CSV's line lengths and row count — is checked before
anything is allocated; array data is then streamed in chunks twice, once to check every
value (and the stream's integrity: truncation, CRC, trailing bytes) with memory for one
chunk, and only then into the float32 result. Refusing a file therefore costs about one
chunk of memory, whatever the file claims. (A CSV is parsed once, in chunks.)

Pixel values: ``uint8`` 0..255 is scaled by 1/255; floats already in [0, 1] are kept;
``bool`` becomes 0/1. In a CSV (text has no dtype), whole numbers 0..255 with any value
above 1 are scaled by 1/255 and values in [0, 1] are kept.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np

from .data import Dataset
from .limits import (
    MAX_ARRAY_BYTES,
    MAX_CSV_BYTES,
    MAX_CSV_LINE_BYTES,
    MAX_DATA_FILE_BYTES,
    MAX_DECODED_BYTES,
    MAX_IMAGES,
    MAX_LABEL_BYTES,
    MAX_PIXELS,
    MAX_VALUES,
    MIN_IMAGES,
    MIN_SIDE,
)
from .safeload import (
    NPY_MAGIC,
    ZIP_MAGIC,
    ArrayHeader,
    DtypeProblem,
    FileProblem,
    check_member_size,
    iter_chunks,
    member_names,
    one_line,
    open_archive,
    open_member,
    open_regular,
    read_array,
    read_exact,
    read_member_array,
    read_npy_header,
)

SUPPORTED = ".npz, .npy, .csv, or MNIST IDX (…-idx3-ubyte, optionally .gz)"
IMAGE_KEYS = ("images", "x", "X")
LABEL_KEYS = ("labels", "y", "Y")
CSV_LABEL_HEADERS = ("label", "labels")

_GZIP_MAGIC = b"\x1f\x8b"
_IDX_UBYTE = 0x08
_IMAGE_KINDS = "biuf"
_CSV_BATCH_BYTES = 4 << 20


class DataFileError(ValueError):
    """A data file is missing, corrupt, truncated, hostile or not a usable image set."""


Images = tuple[np.ndarray, np.ndarray | None, list[str] | None]


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read the images (and labels, when the file has them) in ``path``.

    ``.npz``: array ``images`` (or ``x``/``X``) and optional ``labels`` (or ``y``/``Y``);
    ``.npy``: one array; both N×H×W (or N×H×W×1) or N×D with D a square number of pixels.
    ``.csv``: one image per row of D = H·W numbers (square images), an optional header
    row, and a first column of labels when the header names it ``label`` or, without a
    header, when a row holds 1 + H·W numbers (and is not itself square).
    IDX: ``…-idx3-ubyte`` or ``…-idx3-ubyte.gz``; a sibling ``…-idx1-ubyte[.gz]`` with the
    same prefix (``images`` → ``labels`` as in MNIST's names) supplies the labels.
    """
    path = Path(path)
    try:
        handle = open_regular(path, MAX_DATA_FILE_BYTES)
    except FileProblem as problem:
        hint = (f"; choose a data file ({SUPPORTED}), or import the folder as a folder of "
                "images") if str(problem) == "is a folder" else ""
        raise DataFileError(f"{path} {problem}{hint}" if str(problem).startswith("is ")
                            else f"{path}: {problem}{hint}") from None
    with handle:
        try:
            kind = _kind_of(path, handle)
            images, labels, names = _READERS[kind](path, handle)
        except DataFileError:
            raise
        except FileProblem as problem:
            raise DataFileError(f"{path}: {problem}") from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error, KeyError) as exc:
            raise DataFileError(f"{path}: corrupt or truncated file ({one_line(exc)})"
                                ) from None
        except (ValueError, TypeError, OverflowError) as exc:
            raise DataFileError(f"{path}: not a usable data file ({one_line(exc)})") from None
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
    n, h, w = _layout(images.shape, where, image_shape)
    pixels = _scaled(images.reshape(n, h * w), where)
    if labels is not None:
        labels = _int_labels(np.asarray(labels), n, where)
    names = tuple(str(s) for s in label_names) if label_names is not None else None
    return Dataset(images=pixels, labels=labels, image_shape=(int(h), int(w)), name=name,
                   label_names=names)


def _layout(shape: tuple[int, ...], where: str,
            image_shape: tuple[int, int] | None = None) -> tuple[int, int, int]:
    """``(N, H, W)`` of an image array of ``shape`` (see :func:`make_dataset`), checked
    against the limits; from a declared shape, before any data is read."""
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) == 4 and shape[3] in (3, 4):
        raise DataFileError(f"{where}images have {shape[3]} colour channels "
                            f"(shape {shape}); expected grayscale N×H×W")
    if len(shape) == 3:
        n, h, w = shape
        if image_shape is not None and image_shape != (h, w):
            raise DataFileError(f"{where}images are {h}×{w}, expected {image_shape}")
    elif len(shape) == 2:
        n, d = shape
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
        raise DataFileError(f"{where}images have shape {shape}; expected N×H×W "
                            "(one grayscale image per entry) or N×D (one flattened square "
                            "image per row)")
    _check_size(where, n, h, w)
    return n, h, w


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
    return x.astype(np.float32, copy=False)


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


def _kind_of(path: Path, handle: IO[bytes]) -> str:
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
    head = handle.read(8)  # unknown suffix: look at the first bytes
    handle.seek(0)
    if head.startswith(ZIP_MAGIC):
        return "npz"
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head[:2] == b"\x00\x00" and len(head) >= 4 and head[2] == _IDX_UBYTE and head[3] == 3:
        return "idx"
    raise DataFileError(f"{path}: unknown file type {path.suffix or '(no suffix)'!r}; "
                        f"supported: {SUPPORTED}")


# -- streamed image arrays ---------------------------------------------------------------
DataOpener = Callable[[], AbstractContextManager[IO[bytes]]]


@dataclass
class _ValueStats:
    """What pass 1 learns about float pixels, with memory for one chunk."""

    bad: int = 0
    lo: float = math.inf
    hi: float = -math.inf

    def add(self, chunk: np.ndarray) -> None:
        finite = np.isfinite(chunk)
        self.bad += int(chunk.size - np.count_nonzero(finite))
        if self.bad == 0 and chunk.size:
            self.lo = min(self.lo, float(chunk.min()))
            self.hi = max(self.hi, float(chunk.max()))


def _image_dtype_problem(dtype: np.dtype, where: str) -> DataFileError:
    if dtype.kind in "iu":
        return DataFileError(f"{where}images have dtype {dtype}; expected uint8 (0..255) or "
                             "float (0..1) — convert with .astype(np.uint8) or scale to "
                             "floats in [0, 1]")
    return DataFileError(f"{where}images have dtype {dtype}; expected uint8 (0..255) or "
                         "float (0..1) numbers")


def _image_header(stream: IO[bytes], where: str) -> ArrayHeader:
    """A ``.npy`` header of images: dtype, then shape, checked before any data is read."""
    try:
        header = read_npy_header(stream, kinds=_IMAGE_KINDS, max_values=MAX_VALUES,
                                 max_bytes=MAX_ARRAY_BYTES)
    except DtypeProblem as problem:
        raise _image_dtype_problem(problem.dtype, where) from None
    if header.dtype.kind in "iu" and header.dtype != np.uint8:
        raise _image_dtype_problem(header.dtype, where)
    _layout(header.shape, where)
    return header


def _stream_images(open_data: DataOpener, header: ArrayHeader, where: str) -> np.ndarray:
    """The images of ``header`` as float32 in [0, 1], shape ``header.shape``.

    Pass 1 reads every chunk and checks the values (floats: finite, in [0, 1]) and the
    stream (complete, nothing after the data) keeping one chunk in memory; pass 2 reads
    again and converts into the result, which exists only once the file is known good."""
    stats = _ValueStats()
    with open_data() as stream:
        for chunk in iter_chunks(stream, header):
            if header.dtype.kind == "f":
                stats.add(chunk)
        if stream.read(1):
            raise DataFileError(f"{where}extra bytes after the {header.shape} array; the "
                                "file is corrupt or not what its header says")
    _check_float_stats(stats, where)
    flat = np.empty(header.count, dtype=np.float32)
    offset = 0
    with open_data() as stream:
        for chunk in iter_chunks(stream, header):
            part = flat[offset:offset + chunk.size]
            if header.dtype == np.uint8:
                np.divide(chunk, np.float32(255.0), out=part, dtype=np.float32)
            else:
                part[...] = chunk
            offset += chunk.size
    return flat.reshape(header.shape, order="F" if header.fortran else "C")


def _check_float_stats(stats: _ValueStats, where: str) -> None:
    if stats.bad:
        raise DataFileError(f"{where}images contain {stats.bad:,} NaN or infinite value"
                            f"{'s' if stats.bad != 1 else ''}; expected numbers in [0, 1]")
    if stats.lo < 0.0 or stats.hi > 1.0:
        lo, hi = stats.lo, stats.hi
        hint = " (looks like 0..255: store it as uint8)" if lo >= 0 and hi <= 255 else ""
        raise DataFileError(f"{where}float pixel values range from {lo:g} to {hi:g}; "
                            f"expected values in [0, 1]{hint}")


# -- .npy / .npz -------------------------------------------------------------------------
def _read_npy(path: Path, handle: IO[bytes]) -> Images:
    where = f"{path}: "
    header = _image_header(handle, where)
    expected = header.header_bytes + header.nbytes
    size = os.fstat(handle.fileno()).st_size
    if size < expected:
        raise FileProblem(f"truncated array data ({size - header.header_bytes:,} of "
                          f"{header.nbytes:,} bytes)")

    @contextlib.contextmanager
    def data() -> Iterator[IO[bytes]]:
        handle.seek(header.header_bytes)
        yield handle

    return _stream_images(data, header, where), None, None


def _read_npz(path: Path, handle: IO[bytes]) -> Images:
    with open_archive(handle) as archive:
        members = member_names(archive)
        image_key = next((k for k in IMAGE_KEYS if k in members), None)
        if image_key is None:
            found = ", ".join(sorted(members)) or "nothing"
            raise DataFileError(f"{path}: no images array; expected an array named "
                                f"'images' (or 'x'/'X'), found {found}")
        info = members[image_key]
        where = f"{path}[{image_key}]: "
        label_key = next((k for k in LABEL_KEYS if k in members), None)
        decoded = info.file_size + (members[label_key].file_size if label_key else 0)
        if decoded > MAX_DECODED_BYTES:
            raise DataFileError(f"{path}: the arrays declare {decoded:,} bytes inflated; at "
                                f"most {MAX_DECODED_BYTES:,} are accepted")
        with open_member(archive, info, MAX_ARRAY_BYTES + (64 << 10)) as member:
            header = _image_header(member, where)
        check_member_size(info, header)

        @contextlib.contextmanager
        def data() -> Iterator[IO[bytes]]:
            with open_member(archive, info, MAX_ARRAY_BYTES + (64 << 10)) as member:
                read_exact(member, header.header_bytes, "array header")
                yield member

        images = _stream_images(data, header, where)
        labels, names = None, None
        if label_key is not None:
            raw = read_member_array(archive, members[label_key], kinds="biufU",
                                    max_values=MAX_IMAGES + 1, max_bytes=MAX_LABEL_BYTES)
            if raw.dtype.kind == "U":  # class names: index them in sorted order
                uniq, inverse = np.unique(raw.reshape(-1), return_inverse=True)
                names = [str(u) for u in uniq]
                labels = inverse.reshape(raw.shape)
            else:
                labels = raw
    return images, labels, names


# -- CSV ---------------------------------------------------------------------------------
def _csv_lines(path: Path, handle: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines, each at most MAX_CSV_LINE_BYTES."""
    number = 0
    while True:
        raw = handle.readline(MAX_CSV_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_CSV_LINE_BYTES:
            raise DataFileError(f"{path}: line {number:,} is longer than "
                                f"{MAX_CSV_LINE_BYTES:,} bytes; expected one image per "
                                "row of comma-separated pixel values")
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{path}: not a text CSV file ({one_line(exc)})") from None
        if text.strip():
            yield number, text


def _parse_rows(path: Path, lines: list[str], width: int) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            table = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise DataFileError(f"{path}: not a table of numbers ({one_line(exc)}); expected one "
                            "image per row of comma-separated values, an optional header "
                            "row, and an optional first column 'label'") from None
    if table.shape[1] != width:
        raise DataFileError(f"{path}: not a table of numbers (rows of {table.shape[1]} and "
                            f"{width} values)")
    return table


def _read_csv(path: Path, handle: IO[bytes]) -> Images:
    """Two passes over the text: the shape (rows × values, checked against the limits),
    then the numbers, parsed in batches of about ``_CSV_BATCH_BYTES``."""
    if os.fstat(handle.fileno()).st_size > MAX_CSV_BYTES:
        raise DataFileError(f"{path}: CSV larger than {MAX_CSV_BYTES >> 20} MB; use a .npz "
                            "or IDX file for big data sets")
    lines = _csv_lines(path, handle)
    first = next(lines, None)
    if first is None:
        raise DataFileError(f"{path}: the CSV file is empty; expected one image per row of "
                            "comma-separated pixel values")
    fields = [f.strip().strip('"').strip() for f in first[1].split(",")]
    has_header = not _is_number(fields[0])  # e.g. "label,p0,…" or "px0,px1,…"
    has_labels = has_header and fields[0].lower() in CSV_LABEL_HEADERS
    width = len(fields)
    if not has_header and _is_square(width - 1) and not _is_square(width):
        # 1 + H·W values a row without a header (e.g. MNIST as CSV): a label, then a square
        # image; the labels must then be whole numbers (make_dataset checks them).
        has_labels = True
    if width > MAX_PIXELS + 1:
        raise DataFileError(f"{path}: rows have {width:,} values; LatentLab takes at most "
                            f"{MAX_PIXELS:,} pixels per image")
    # Pass 1, shape only: count the rows and their values before parsing any number.
    total = 0 if has_header else 1
    for number, text in lines:
        total += 1
        if total > MAX_IMAGES:
            raise DataFileError(f"{path}: more than {MAX_IMAGES:,} rows; LatentLab takes at "
                                f"most {MAX_IMAGES:,} images (use a subset)")
        if text.count(",") + 1 != width:
            raise DataFileError(f"{path}: not a table of numbers (line {number:,} has "
                                f"{text.count(',') + 1:,} values, the first has {width:,})")
    if total * (width - has_labels) > MAX_VALUES:
        raise DataFileError(f"{path}: {total:,} rows of {width - has_labels:,} pixels are "
                            f"more than {MAX_VALUES:,} values; LatentLab takes at most "
                            f"{MAX_VALUES:,} (use a subset)")
    handle.seek(0)
    lines = _csv_lines(path, handle)
    next(lines)
    pending = [] if has_header else [first[1]]
    pending_bytes, rows = 0, 0
    pixels: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    stats = _ValueStats()
    whole = True

    def flush() -> None:
        nonlocal whole, rows
        table = _parse_rows(path, pending, width)
        rows += len(table)
        if has_labels:
            labels.append(table[:, 0])
            table = table[:, 1:]
        if table.shape[1]:
            stats.add(table)
            whole = whole and stats.bad == 0 and bool(np.array_equal(table, np.round(table)))
        pixels.append(table.astype(np.float32))
        pending.clear()

    for _number, text in lines:
        pending.append(text)
        pending_bytes += len(text)
        if pending_bytes >= _CSV_BATCH_BYTES:
            flush()
            pending_bytes = 0
    if pending:
        flush()
    if rows == 0:
        raise DataFileError(f"{path}: no image rows; expected one image per row")
    if width - has_labels == 0:
        raise DataFileError(f"{path}: rows have no pixel values")
    if stats.bad:
        raise DataFileError(f"{path}: contains NaN or infinite values; expected numbers in "
                            "[0, 1] or whole numbers 0..255")
    table = np.concatenate(pixels)
    if not (stats.lo >= 0 and stats.hi <= 1):
        if not (stats.lo >= 0 and stats.hi <= 255 and whole):
            raise DataFileError(f"{path}: pixel values range from {stats.lo:g} to "
                                f"{stats.hi:g}; expected numbers in [0, 1] or whole numbers "
                                "0..255")
        table = table.astype(np.uint8)
    return table, np.concatenate(labels) if has_labels else None, None


def _is_square(n: int) -> bool:
    return n > 0 and math.isqrt(n) ** 2 == n


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- MNIST IDX ---------------------------------------------------------------------------
@contextlib.contextmanager
def _idx_stream(path: Path, handle: IO[bytes]) -> Iterator[IO[bytes]]:
    """The IDX bytes of ``handle`` from the start, inflated if it is gzip."""
    handle.seek(0)
    head = handle.read(2)
    handle.seek(0)
    if head == _GZIP_MAGIC:
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            yield cast(IO[bytes], stream)
    elif path.name.lower().endswith(".gz"):
        raise DataFileError(f"{path}: named .gz but not gzip-compressed")
    else:
        yield handle


def _idx_header(path: Path, stream: IO[bytes], ndim: int) -> ArrayHeader:
    what = "images (IDX3)" if ndim == 3 else "labels (IDX1)"
    magic = stream.read(4)
    if len(magic) != 4 or magic[:2] != b"\x00\x00":
        raise DataFileError(f"{path}: not an MNIST IDX file (bad magic number); "
                            f"expected {what}")
    if magic[2] != _IDX_UBYTE:
        raise DataFileError(f"{path}: IDX data type 0x{magic[2]:02x} is not supported; "
                            "expected unsigned bytes (0x08) as in MNIST")
    if magic[3] != ndim:
        raise DataFileError(f"{path}: IDX file has {magic[3]} dimensions; expected "
                            f"{ndim} for {what}")
    header = stream.read(4 * ndim)
    if len(header) != 4 * ndim:
        raise DataFileError(f"{path}: truncated IDX header")
    shape = tuple(int(v) for v in struct.unpack(f">{ndim}I", header))
    if ndim == 3:
        _check_size(f"{path}: ", *shape)
    elif shape[0] > MAX_IMAGES:
        raise DataFileError(f"{path}: {shape[0]:,} labels is too many")
    return ArrayHeader(shape, np.dtype(np.uint8), False, 4 + 4 * ndim)


def _check_idx_length(path: Path, handle: IO[bytes], header: ArrayHeader) -> None:
    """An uncompressed IDX file is exactly its header and data: checked from its size."""
    handle.seek(0)
    if handle.read(2) == _GZIP_MAGIC:
        return  # checked while streaming
    size = os.fstat(handle.fileno()).st_size - header.header_bytes
    if size < header.nbytes:
        raise DataFileError(f"{path}: truncated IDX data ({size:,} of {header.nbytes:,} "
                            "bytes)")
    if size > header.nbytes:
        raise DataFileError(f"{path}: extra bytes after the {header.shape} IDX array; the "
                            "file is corrupt or not what its header says")


def _read_idx(path: Path, handle: IO[bytes], ndim: int) -> tuple[ArrayHeader, DataOpener]:
    with _idx_stream(path, handle) as stream:
        header = _idx_header(path, stream, ndim)
    _check_idx_length(path, handle, header)

    @contextlib.contextmanager
    def data() -> Iterator[IO[bytes]]:
        with _idx_stream(path, handle) as stream:
            read_exact(stream, header.header_bytes, "IDX header")
            yield stream

    return header, data


def _read_idx_images(path: Path, handle: IO[bytes]) -> Images:
    header, data = _read_idx(path, handle, 3)
    try:
        images = _stream_images(data, header, f"{path}: ")
    except FileProblem as problem:
        raise DataFileError(f"{path}: {str(problem).replace('array data', 'IDX data')}"
                            ) from None
    label_path = label_file_for(path)
    if label_path is None:
        return images, None, None
    try:
        with open_regular(label_path, MAX_LABEL_BYTES) as label_handle:
            label_header, label_data = _read_idx(label_path, label_handle, 1)
            with label_data() as stream:
                labels = read_array(stream, label_header)
                if stream.read(1):
                    raise DataFileError(f"{label_path}: extra bytes after the labels")
    except FileProblem as problem:
        raise DataFileError(f"{label_path}: {problem}") from None
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFileError(f"{label_path}: corrupt or truncated labels file "
                            f"({one_line(exc)})") from None
    if labels.shape[0] != images.shape[0]:
        raise DataFileError(f"{label_path} has {labels.shape[0]:,} labels for "
                            f"{images.shape[0]:,} images in {path.name}")
    return images, labels, None


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

_READERS: dict[str, Callable[[Path, IO[bytes]], Images]] = {
    "npz": _read_npz, "npy": _read_npy, "csv": _read_csv, "idx": _read_idx_images,
}


__all__ = ["MAX_IMAGES", "MAX_PIXELS", "DataFileError", "label_file_for", "load_dataset",
           "make_dataset"]
