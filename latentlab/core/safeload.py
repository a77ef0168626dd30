"""Reading untrusted files within limits, shared by the data and model loaders.

Nothing here trusts a file: a path must name a regular file (a FIFO is never opened
for blocking reads, a device or folder is named as such), ``.npy`` headers are parsed
with every parser failure caught and their dtype, shape and byte size checked before
any data is read, zip archives are checked from their end record before ``zipfile``
parses them, and members are inflated no further than they declare. Array data is read
in chunks (``CHUNK_BYTES``), so a check on the values can refuse a file before the whole
array exists. Every failure is a :class:`FileProblem` whose one-line message says what
is wrong (without the path: each loader prefixes it and raises its own error class).
"""

from __future__ import annotations

import ast
import contextlib
import math
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import numpy as np

CHUNK_BYTES = 8 << 20
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
_MAX_NPY_HEADER = 64 << 10  # NumPy itself refuses headers over 10,000 bytes by default
_MAX_ZIP_DIRECTORY = 64 << 10  # room for ~1,000 members; ours have two or three
_DEFLATE_MAX_RATIO = 1100  # deflate cannot inflate more than ~1,032:1
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


class FileProblem(ValueError):
    """What is wrong with a file, in one line, without its path."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def file_type(mode: int) -> str:
    """What a ``st_mode`` that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    return "not a regular file"


def open_regular(path: Path, max_bytes: int) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file of at most ``max_bytes``.

    Checked with ``stat`` first and again on the open descriptor (opened non-blocking,
    so a FIFO swapped in between cannot hang us). Messages say what the path *is*: a
    folder, a FIFO, a device, a symlink to nothing, unreadable, or too big."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        raise FileProblem("no such file") from None
    except OSError as exc:
        raise FileProblem(f"cannot read it ({exc.strerror or exc})") from None
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        try:
            target = f" to {os.readlink(path)}"
        except OSError:  # not a link after all (it just vanished)
            target = ""
        raise FileProblem(f"a symbolic link{target}, which does not exist") from None
    except OSError as exc:
        raise FileProblem(f"cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise FileProblem(f"is {file_type(mode)}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise FileProblem(f"cannot read it ({exc.strerror or exc})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FileProblem(f"is {file_type(info.st_mode)}")
    if info.st_size > max_bytes:
        os.close(fd)
        raise FileProblem(f"the file is {info.st_size:,} bytes; at most {max_bytes:,} are "
                          "accepted")
    return os.fdopen(fd, "rb")


def file_size(handle: IO[bytes]) -> int:
    return os.fstat(handle.fileno()).st_size


def read_exact(stream: IO[bytes], size: int, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise FileProblem(f"truncated {what} ({len(data):,} of {size:,} bytes)")
    return data


# -- .npy ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArrayHeader:
    """What a ``.npy`` header declares; ``header_bytes`` counts the magic and header."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    header_bytes: int

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.count * self.dtype.itemsize


def _parse_npy_dict(text: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    try:
        header = ast.literal_eval(text)
    except (RecursionError, MemoryError):
        raise FileProblem("unreadable .npy header (nested too deeply)") from None
    except Exception:  # any other parser failure: SyntaxError, ValueError, TokenError…
        raise FileProblem("unreadable .npy header (not the dictionary NumPy writes)") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise FileProblem("the .npy header is not NumPy's {'descr', 'fortran_order', "
                          "'shape'}")
    shape, fortran, descr = header["shape"], header["fortran_order"], header["descr"]
    if not isinstance(shape, tuple) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise FileProblem(f"the .npy header's shape {shape!r} is not a tuple of sizes")
    if not isinstance(fortran, bool):
        raise FileProblem("the .npy header's fortran_order is not True or False")
    if not isinstance(descr, str):
        raise FileProblem("holds a structured array (record fields); expected a plain "
                          "numeric array")
    if len(descr) > 32:
        raise FileProblem(f"the .npy header's dtype {descr[:32]!r}… is not a plain dtype")
    try:
        dtype = np.dtype(descr)
    except Exception:  # TypeError, ValueError, or NumPy's own oddities
        raise FileProblem(f"the .npy header's dtype {descr!r} is not a NumPy dtype") from None
    return shape, dtype, fortran


def read_npy_header(stream: IO[bytes], *, kinds: str, max_values: int,
                    max_bytes: int) -> ArrayHeader:
    """Parse and check a ``.npy`` header; the stream is left at the array data.

    ``kinds``: the dtype kinds accepted (e.g. ``"biuf"``; ``"U"`` for text); objects and
    record fields are always refused. The shape's value count must be ≤ ``max_values``
    and its bytes ≤ ``max_bytes``."""
    if stream.read(6) != NPY_MAGIC:
        raise FileProblem("not a NumPy .npy array (bad magic bytes)")
    version = read_exact(stream, 2, ".npy header")
    if version[0] == 1:
        length_bytes, encoding = 2, "latin1"
    elif version[0] in (2, 3):
        length_bytes, encoding = 4, "latin1" if version[0] == 2 else "utf-8"
    else:
        raise FileProblem(f"unsupported .npy format version {version[0]}")
    (length,) = struct.unpack("<H" if length_bytes == 2 else "<I",
                              read_exact(stream, length_bytes, ".npy header"))
    if length > _MAX_NPY_HEADER:
        raise FileProblem(f"the .npy header declares {length:,} bytes; a real one is < 64 KB")
    raw = read_exact(stream, length, ".npy header")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise FileProblem("the .npy header is not text") from None
    shape, dtype, fortran = _parse_npy_dict(text)
    if dtype.hasobject:
        raise FileProblem("holds Python objects, which would need pickle to load; refused "
                          "(save plain numeric arrays)")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise FileProblem(f"structured dtype {dtype}; expected a plain numeric array")
    header = ArrayHeader(shape, dtype, fortran, 6 + 2 + length_bytes + length)
    if dtype.kind not in kinds or dtype.itemsize == 0:
        raise DtypeProblem(dtype)
    if header.count > max_values or header.nbytes > max_bytes:
        raise FileProblem(f"array of shape {shape} ({dtype}) is too large: at most "
                          f"{max_values:,} values and {max_bytes:,} bytes are accepted")
    return header


class DtypeProblem(FileProblem):
    """The array's dtype is not one the caller accepts (the caller words the message)."""

    def __init__(self, dtype: np.dtype) -> None:
        super().__init__(f"dtype {dtype} is not accepted")
        self.dtype = dtype


def iter_chunks(stream: IO[bytes], header: ArrayHeader,
                chunk_bytes: int = CHUNK_BYTES) -> Iterator[np.ndarray]:
    """The array's values in file order as 1-D chunks of at most ``chunk_bytes``."""
    itemsize = header.dtype.itemsize
    per_chunk = max(1, chunk_bytes // itemsize)
    left = header.count
    while left:
        n = min(per_chunk, left)
        data = stream.read(n * itemsize)
        if len(data) != n * itemsize:
            done = (header.count - left) * itemsize + len(data)
            raise FileProblem(f"truncated array data ({done:,} of {header.nbytes:,} bytes)")
        left -= n
        yield np.frombuffer(data, dtype=header.dtype)


def read_array(stream: IO[bytes], header: ArrayHeader) -> np.ndarray:
    """The whole array (for small arrays: labels, weights, metadata)."""
    flat = np.empty(header.count, dtype=header.dtype)
    offset = 0
    for chunk in iter_chunks(stream, header):
        flat[offset:offset + chunk.size] = chunk
        offset += chunk.size
    return flat.reshape(header.shape, order="F" if header.fortran else "C")


# -- zip archives ------------------------------------------------------------------------
def _zip_directory_size(handle: IO[bytes]) -> int:
    """The central directory's size from the end record (zip64 too), read by hand so a
    hostile archive cannot make ``zipfile`` parse millions of entries."""
    size = file_size(handle)
    tail_size = min(size, 22 + 0xFFFF)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise FileProblem("corrupt or truncated archive (no zip end record)")
    (directory,) = struct.unpack("<I", tail[at + 12:at + 16])
    if directory == 0xFFFFFFFF and at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR:
        (record_at,) = struct.unpack("<Q", tail[at - 12:at - 4])
        if record_at + 56 > size:
            raise FileProblem("corrupt or truncated archive (bad zip64 end record)")
        handle.seek(record_at)
        record = handle.read(56)
        if record[:4] != _ZIP64_EOCD:
            raise FileProblem("corrupt or truncated archive (bad zip64 end record)")
        (directory,) = struct.unpack("<Q", record[40:48])
    return int(directory)


@contextlib.contextmanager
def open_archive(handle: IO[bytes]) -> Iterator[zipfile.ZipFile]:
    """``handle`` as a zip archive, its directory size checked first; ``zipfile`` and
    ``zlib`` failures while it is open become :class:`FileProblem`."""
    handle.seek(0)
    if handle.read(4) != ZIP_MAGIC:
        raise FileProblem("corrupt or truncated file (not a zip archive)")
    if _zip_directory_size(handle) > _MAX_ZIP_DIRECTORY:
        raise FileProblem("the archive's directory is implausibly large (thousands of "
                          "members)")
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            yield archive
    except FileProblem:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            NotImplementedError, OverflowError, struct.error, UnicodeDecodeError) as exc:
        raise FileProblem(f"corrupt or truncated archive ({one_line(exc)})") from None


def member_names(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Array name (``x`` for ``x.npy``) → member."""
    return {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i
            for i in archive.infolist()}


def open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> IO[bytes]:
    """A member for reading, after checking what it declares: stored or deflated, not
    encrypted, at most ``max_bytes`` inflated, and a size deflate can actually reach
    from its compressed size. ``zipfile`` never inflates past the declared size."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise FileProblem(f"member {name} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FileProblem(f"member {name} uses compression method {info.compress_type}; "
                          "expected stored or deflated (as NumPy writes)")
    if info.file_size > max_bytes:
        raise FileProblem(f"member {name} declares {info.file_size:,} bytes; at most "
                          f"{max_bytes:,} are accepted")
    limit = (info.compress_size if info.compress_type == zipfile.ZIP_STORED
             else info.compress_size * _DEFLATE_MAX_RATIO + 1024)
    if info.file_size > limit:
        raise FileProblem(f"member {name} declares {info.file_size:,} bytes from "
                          f"{info.compress_size:,} compressed, more than deflate can produce")
    return archive.open(info)


def check_member_size(info: zipfile.ZipInfo, header: ArrayHeader) -> None:
    """A ``.npy`` member holds its header and data and nothing else."""
    expected = header.header_bytes + header.nbytes
    if info.file_size != expected:
        raise FileProblem(f"member {info.filename} is {info.file_size:,} bytes but its "
                          f"header declares {expected:,}")


def read_member_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, kinds: str,
                      max_values: int, max_bytes: int) -> np.ndarray:
    """A whole (small) ``.npy`` member, its header and size checked before reading."""
    with open_member(archive, info, max_bytes + _MAX_NPY_HEADER) as member:
        header = read_npy_header(member, kinds=kinds, max_values=max_values,
                                 max_bytes=max_bytes)
        check_member_size(info, header)
        return read_array(member, header)


__all__ = ["ArrayHeader", "DtypeProblem", "FileProblem", "check_member_size", "file_type",
           "iter_chunks", "member_names", "one_line", "open_archive", "open_member", "open_regular",
           "read_array", "read_exact", "read_member_array", "read_npy_header"]
