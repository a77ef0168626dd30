"""A corpus of malformed data and model files, built by code into a folder (never committed).

Each :class:`Case` names the loader it targets, how to build the file, and a fragment the
one-line refusal must contain (what is wrong). The classes follow issue 8 — hostile
``.npy`` headers, compression bombs, mutated archive headers, enormous CSV rows, lying
IDX dimensions, non-regular files, hostile model metadata — plus more of our own.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core import TrainConfig, Trainer, load_digits, save_model


@dataclass(frozen=True)
class Case:
    name: str  # the file name (its suffix picks the reader)
    loader: str  # "data" or "model"
    build: Callable[[Path], object]  # writes the file at the given path
    says: str  # a fragment of the expected message (lower case)


def npy_bytes(header: str, data: bytes = b"", version: int = 1) -> bytes:
    """A ``.npy`` file with a verbatim header text (padded as NumPy pads it)."""
    head = header.encode("latin1")
    if version == 1:
        pad = -(10 + len(head) + 1) % 64
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head) + pad + 1) + head \
            + b" " * pad + b"\n" + data
    pad = -(12 + len(head) + 1) % 64
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(head) + pad + 1) + head \
        + b" " * pad + b"\n" + data


def npy_of(array: np.ndarray) -> bytes:
    from io import BytesIO
    buffer = BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    from io import BytesIO
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def patch_sizes(data: bytes, file_size: int) -> bytes:
    """Make every member declare ``file_size`` inflated bytes (local and central headers)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = out.find(signature)
        while at >= 0:
            out[at + offset:at + offset + 4] = struct.pack("<I", file_size)
            at = out.find(signature, at + 4)
    return bytes(out)


def _write(data: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data)


def _images(n: int = 8, side: int = 8) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, side, side), dtype=np.uint8)


def _bomb_npz(path: Path, header: str, chunk: bytes, repeat: int) -> None:
    """An .npz whose images member inflates to ``header + chunk * repeat`` (written by
    hand: a raw deflate stream with honest sizes and CRC)."""
    head = npy_bytes(header)
    crc = zlib.crc32(head)
    for _ in range(repeat):
        crc = zlib.crc32(chunk, crc)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(head)
    stream += b"".join(compressor.compress(chunk) for _ in range(repeat)) + compressor.flush()
    size = len(head) + len(chunk) * repeat
    name = b"images.npy"
    use64 = size >= 0xFFFFFFFF
    extra = struct.pack("<HHQQ", 1, 16, size, len(stream)) if use64 else b""
    size32 = 0xFFFFFFFF if use64 else size
    comp32 = 0xFFFFFFFF if use64 else len(stream)
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 8, 0, 0, crc, comp32, size32,
                        len(name), len(extra)) + name + extra
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 8, 0, 0, crc,
                          comp32, size32, len(name), len(extra), 0, 0, 0, 0, 0) + name + extra
    directory_at = len(local) + len(stream)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), directory_at, 0)
    path.write_bytes(local + stream + central + end)


def _hostile_model(meta_changes: dict | None = None, **arrays: object) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        trained = _trained()
        metadata = {"format": "latentlab-model", "format_version": 2,
                    "model": {"kind": "vae", "input_dim": 64, "hidden_dim": 8, "latent_dim": 2,
                              "dtype": "float32"},
                    "train": TrainConfig(hidden_dim=8, epochs=1).to_dict(),
                    "n_weights": int(trained.model.weights.size)}
        metadata.update(meta_changes or {})
        members: dict[str, Any] = {"weights": trained.model.weights,
                                   "metadata": np.array(json.dumps(metadata)), **arrays}
        with open(path, "wb") as handle:
            np.savez(handle, **members)
    return build


_TRAINED: list[Trainer] = []


def _trained() -> Trainer:
    if not _TRAINED:
        trainer = Trainer(TrainConfig(hidden_dim=8, epochs=1), load_digits().images)
        list(trainer.train())
        _TRAINED.append(trainer)
    return _TRAINED[0]


def _good_model_bytes(tmp: Path) -> bytes:
    trainer = _trained()
    return save_model(tmp, trainer.model, trainer.config, trainer.history).read_bytes()


def _mutated_model(mutate: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(mutate(_good_model_bytes(path)))
    return build


def _corrupt_deflate(data: bytes) -> bytes:
    """Overwrite 40 bytes a third of the way into the largest member's compressed stream."""
    from io import BytesIO
    with zipfile.ZipFile(BytesIO(data)) as archive:
        info = max(archive.infolist(), key=lambda i: i.compress_size)
    out = bytearray(data)
    at = info.header_offset
    start = at + 30 + struct.unpack("<H", out[at + 26:at + 28])[0] + \
        struct.unpack("<H", out[at + 28:at + 30])[0]
    for i in range(start + info.compress_size // 3, start + info.compress_size // 3 + 40):
        out[i] ^= 0x5A
    return bytes(out)


def _special(kind: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "dangling":
            path.symlink_to(path.with_name("gone-" + path.name))
        elif kind == "folder":
            path.mkdir()
        elif kind == "device":
            path.symlink_to("/dev/zero")
    return build


def _idx(images: np.ndarray, extra: bytes = b"", cut: int = 0, compress: bool = False,
         type_code: int = 8, dims: tuple[int, ...] | None = None) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        shape = dims or images.shape
        data = struct.pack(">BBBB", 0, 0, type_code, len(shape)) + struct.pack(
            f">{len(shape)}I", *shape) + images.tobytes() + extra
        data = data[:len(data) - cut]
        path.write_bytes(gzip.compress(data) if compress else data)
    return build


def _gz_idx_bomb(path: Path) -> None:
    """A valid 10×28×28 IDX header and images followed by 100 MB of zeros, gzip'd."""
    images = _images(10, 28)
    head = struct.pack(">BBBB3I", 0, 0, 8, 3, 10, 28, 28) + images.tobytes()
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(head)
        zeros = bytes(1 << 20)
        for _ in range(100):
            handle.write(zeros)


def _csv(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text)


def _big_csv_row(path: Path) -> None:
    with open(path, "w") as handle:
        handle.write("0," * 5_000_000 + "0\n0,0,0,0\n")


def _many_csv_rows(path: Path) -> None:
    path.write_text("0,0,0,0\n" * 200_001)


def _many_members(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("images.npy", npy_of(_images()))
        for i in range(3000):
            archive.writestr(f"member-with-a-long-name-{i:05d}.npy", b"")


def _encrypted_flag(path: Path) -> None:
    data = bytearray(zip_bytes({"images.npy": npy_of(_images())}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 0x1
    path.write_bytes(bytes(data))


def _mutated_npz_header(path: Path) -> None:
    """An .npz whose images header is cut mid-string: NumPy's parser raises
    tokenize.TokenError / SyntaxError on it."""
    bad = npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (8, 8, 8), 'x': '''")
    path.write_bytes(zip_bytes({"images.npy": bad + _images().tobytes()}))


def _trailing_member(path: Path) -> None:
    path.write_bytes(zip_bytes({"images.npy": npy_of(_images()) + b"trailing bytes"}))


def _crc_flip(path: Path) -> None:
    data = bytearray(zip_bytes({"images.npy": npy_of(_images())}, method=zipfile.ZIP_STORED))
    data[200] ^= 0xFF  # inside the stored image bytes: the CRC no longer matches
    path.write_bytes(bytes(data))


U = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }"
GOOD_DATA = npy_of(_images())

DATA_CASES = [
    # hostile .npy headers (issue: huge V/U items, huge shapes, parser exceptions)
    Case("huge-void.npy", "data", _write(npy_bytes(U % ("|V1000000000", "(4,)"))), "dtype"),
    Case("huge-unicode.npy", "data", _write(npy_bytes(U % ("<U500000000", "(2, 2, 2)"))),
         "dtype"),
    Case("huge-shape.npy", "data", _write(npy_bytes(U % ("<f8", "(100000000, 4096)"))),
         "too large"),
    Case("huge-shape-v2.npy", "data",
         _write(npy_bytes(U % ("<f8", "(1000000, 1000000)"), b"", 2)),
         "too large"),
    Case("bigint-shape.npy", "data", _write(npy_bytes(U % ("<f8", "(" + "9" * 5000 + ",)"))),
         "header"),
    Case("negative-shape.npy", "data", _write(npy_bytes(U % ("<f8", "(-1, 8)"))),
         "not a tuple of sizes"),
    Case("list-shape.npy", "data", _write(npy_bytes(U % ("<f8", "[4, 8, 8]"))),
         "not a tuple of sizes"),
    Case("unterminated.npy", "data",
         _write(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4, '''")),
         "unreadable .npy header"),
    Case("nested-header.npy", "data", _write(npy_bytes("(" * 3000 + ")" * 3000)),
         "unreadable .npy header"),
    Case("huge-header-length.npy", "data",
         _write(b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{"), "header"),
    Case("header-not-dict.npy", "data", _write(npy_bytes("[1, 2, 3]")), "header"),
    Case("fortran-not-bool.npy", "data",
         _write(npy_bytes("{'descr': '<f8', 'fortran_order': 1, 'shape': (4, 8, 8)}")),
         "fortran_order"),
    Case("garbage-dtype.npy", "data", _write(npy_bytes(U % ("zz9", "(4, 8, 8)"))), "dtype"),
    Case("structured.npy", "data",
         _write(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,)}")),
         "structured"),
    Case("version-9.npy", "data", _write(b"\x93NUMPY\x09\x00" + GOOD_DATA[8:]), "version 9"),
    Case("object.npy", "data", _write(npy_of(np.array([{}, []], dtype=object))), "pickle"),
    Case("pickle.npy", "data", _write(b"\x80\x04\x95" + bytes(40)), "not a numpy"),
    Case("truncated.npy", "data", _write(GOOD_DATA[:-100]), "truncated"),
    Case("trailing.npy", "data", _write(GOOD_DATA + b"junk"), "extra bytes"),
    Case("nan.npy", "data", _write(npy_of(np.full((4, 8, 8), np.nan))), "nan"),
    Case("out-of-range.npy", "data", _write(npy_of(np.full((4, 8, 8), 2.0))), "range"),
    Case("int64.npy", "data", _write(npy_of(np.zeros((4, 8, 8), np.int64))), "int64"),
    Case("complex.npy", "data", _write(npy_of(np.zeros((4, 8, 8), np.complex64))),
         "complex64"),
    Case("header-only.npy", "data", _write(GOOD_DATA[:20]), "truncated"),
    # archives: compression bombs, lying sizes, mutated headers, corrupt streams
    Case("bomb-declared.npz", "data",
         lambda p: _bomb_npz(p, U % ("<f8", "(500000, 64)"), bytes(1_000_000), 256),
         "200,000"),
    Case("bomb-nan.npz", "data",
         lambda p: _bomb_npz(p, U % ("<f8", "(125000, 64)"), b"\xff" * 1_000_000, 64),
         "nan"),
    Case("bomb-lying-size.npz", "data",
         _write(patch_sizes(zip_bytes({"images.npy": GOOD_DATA}), 1 << 30)), "declares"),
    Case("bomb-zip64-lying.npz", "data",
         _write(patch_sizes(zip_bytes({"images.npy": GOOD_DATA}), 0xFFFFFFFF)), "declare"),
    Case("mutated-header.npz", "data", _mutated_npz_header, "unreadable .npy header"),
    Case("corrupt-deflate.npz", "data",
         _write(_corrupt_deflate(zip_bytes({"images.npy": npy_of(_images(64))}))), "corrupt"),
    Case("crc-mismatch.npz", "data", _crc_flip, "corrupt"),
    Case("member-trailing.npz", "data", _trailing_member, "header declares"),
    Case("bzip2.npz", "data",
         _write(zip_bytes({"images.npy": GOOD_DATA}, method=zipfile.ZIP_BZIP2)),
         "compression method"),
    Case("encrypted.npz", "data", _encrypted_flag, "encrypted"),
    Case("many-members.npz", "data", _many_members, "directory"),
    Case("no-images.npz", "data", _write(zip_bytes({"pixels.npy": GOOD_DATA})),
         "no images array"),
    Case("labels-mismatch.npz", "data",
         _write(zip_bytes({"images.npy": GOOD_DATA, "labels.npy": npy_of(np.arange(3))})),
         "3 labels for 8 images"),
    Case("huge-labels.npz", "data",
         _write(zip_bytes({"images.npy": GOOD_DATA,
                           "labels.npy": npy_bytes(U % ("<U100000", "(100,)"))})),
         "too large"),
    Case("truncated.npz", "data",
         _write(zip_bytes({"images.npy": GOOD_DATA})[:300]), "corrupt"),
    Case("end-record-only.npz", "data", _write(b"PK\x03\x04" + bytes(18) + b"PK\x05\x06"
                                               + bytes(18)), "no images"),
    Case("not-zip.npz", "data", _write(b"hello"), "not a zip"),
    # CSV: enormous rows, too many columns or rows, not text, not numbers
    Case("enormous-row.csv", "data", _big_csv_row, "longer than"),
    Case("too-wide.csv", "data", _csv("0," * 5000 + "0\n"), "at most 4,096"),
    Case("too-many-rows.csv", "data", _many_csv_rows, "more than 200,000 rows"),
    Case("ragged.csv", "data", _csv("1,2,3,4\n4,5\n"), "not a table of numbers"),
    Case("words.csv", "data", _csv("0,0.5,x,1\n"), "not a table of numbers"),
    Case("binary.csv", "data", _write(bytes(range(256)) * 4), "not a text csv"),
    Case("nan.csv", "data", _csv("0,nan,0,0\n0,0,0,0\n"), "nan"),
    Case("range.csv", "data", _csv("0,300,1,2\n0,0,0,0\n"), "range from 0 to 300"),
    Case("empty.csv", "data", _csv(""), "empty"),
    # IDX: lying dimensions, truncation, trailing data, gzip bombs
    Case("huge-idx3-ubyte", "data", _idx(_images()[:0], dims=(2**31, 28, 28)), "too many"),
    Case("huge-pixels-idx3-ubyte", "data", _idx(_images()[:0], dims=(10, 4096, 4096)),
         "4,096 pixels"),
    Case("cut-idx3-ubyte", "data", _idx(_images(), cut=10), "truncated"),
    Case("trailing-idx3-ubyte", "data", _idx(_images(), extra=b"junk"), "extra bytes"),
    Case("type-idx3-ubyte", "data", _idx(_images(), type_code=0x0D), "0x0d"),
    Case("cut-idx3-ubyte.gz", "data", lambda p: p.write_bytes(
        gzip.compress(struct.pack(">BBBB3I", 0, 0, 8, 3, 8, 8, 8) + _images().tobytes())[:40]),
         "truncated"),
    Case("bomb-idx3-ubyte.gz", "data", _gz_idx_bomb, "extra bytes"),
    # paths that are not regular files: accurate messages, never a hang
    Case("fifo.npy", "data", _special("fifo"), "fifo"),
    Case("dangling.npz", "data", _special("dangling"), "does not exist"),
    Case("folder.npz", "data", _special("folder"), "folder"),
    Case("device.npy", "data", _special("device"), "device"),
    Case("notes.txt", "data", _csv("hello"), "unknown file type"),
]

_MODEL = {"kind": "vae", "input_dim": 64, "hidden_dim": 8, "latent_dim": 2, "dtype": "float32"}


def _deep_json(path: Path) -> None:
    deep = '{"format": "latentlab-model", "x": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with open(path, "wb") as handle:
        np.savez(handle, weights=np.zeros(3, np.float32), metadata=np.array(deep))


MODEL_CASES = [
    Case("deep-json.npz", "model", _deep_json, "nested"),
    Case("train-list.npz", "model", _hostile_model({"train": [1, 2]}), "training settings"),
    Case("train-string.npz", "model", _hostile_model({"train": "fast"}), "training settings"),
    Case("train-epochs-text.npz", "model", _hostile_model({"train": {"epochs": "64"}}),
         "epochs must be"),
    Case("dim-text.npz", "model", _hostile_model({"model": {**_MODEL, "hidden_dim": "8"}}),
         "hidden_dim must be a whole number"),
    Case("dim-float.npz", "model", _hostile_model({"model": {**_MODEL, "hidden_dim": 8.0}}),
         "hidden_dim must be a whole number"),
    Case("dim-bool.npz", "model", _hostile_model({"model": {**_MODEL, "latent_dim": True}}),
         "latent_dim must be a whole number"),
    Case("dim-huge.npz", "model",
         _hostile_model({"model": {**_MODEL, "hidden_dim": 1024, "input_dim": 4096,
                                   "dtype": "float64"}}), "do not match"),
    Case("dim-absurd.npz", "model", _hostile_model({"model": {**_MODEL, "hidden_dim": 10**9}}),
         "hidden_dim must be"),
    Case("kind-unknown.npz", "model", _hostile_model({"model": {**_MODEL, "kind": "gan"}}),
         "kind must be"),
    Case("field-unknown.npz", "model", _hostile_model({"model": {**_MODEL, "layers": 9}}),
         "unknown layers"),
    Case("model-list.npz", "model", _hostile_model({"model": [1]}), "expected an object"),
    Case("version-negative.npz", "model", _hostile_model({"format_version": -1}),
         "format version"),
    Case("version-future.npz", "model", _hostile_model({"format_version": 99}),
         "update latentlab"),
    Case("version-text.npz", "model", _hostile_model({"format_version": "2"}),
         "format version"),
    Case("n-weights-lie.npz", "model", _hostile_model({"n_weights": 7}), "metadata says 7"),
    Case("history-v1-text.npz", "model",
         _hostile_model({"format_version": 1, "history": "long"}), "invalid history"),
    Case("history-v2-shape.npz", "model", _hostile_model(history=np.zeros((3, 2))),
         "invalid history"),
    Case("history-v2-nan.npz", "model", _hostile_model(history=np.full((2, 6), np.nan)),
         "invalid history"),
    Case("json-bigint.npz", "model",
         _hostile_model({"n_weights": 0}, metadata=np.array(
             '{"format": "latentlab-model", "n": ' + "9" * 10000 + "}")), "not valid json"),
    Case("json-invalid.npz", "model", _hostile_model(metadata=np.array("{oops")),
         "not valid json"),
    Case("json-list.npz", "model", _hostile_model(metadata=np.array("[1, 2]")),
         "not a latentlab model"),
    Case("metadata-float.npz", "model", _hostile_model(metadata=np.zeros(3)), "dtype"),
    Case("metadata-huge.npz", "model",
         _hostile_model(metadata=np.array("x" * 2_000_000)), "declares"),
    Case("state-bad.npz", "model", _hostile_model({"state": [1]}), "invalid model state"),
    Case("weights-count.npz", "model", _hostile_model(weights=np.zeros(10, np.float32)),
         "do not match"),
    Case("weights-2d.npz", "model", _hostile_model(weights=np.zeros((2, 3), np.float32)),
         "do not match"),
    Case("weights-int.npz", "model", _hostile_model(weights=np.zeros(10, np.int32)),
         "dtype int32"),
    Case("weights-object.npz", "model",
         _hostile_model(weights=np.array([{}, {}], dtype=object)), "pickle"),
    Case("weights-nan.npz", "model",
         _hostile_model(weights=np.full(_trained().model.weights.size, np.nan, np.float32)),
         "nan"),
    Case("weights-huge.npz", "model",
         _write(zip_bytes({"weights.npy": npy_bytes(U % ("<f8", "(1000000000,)")),
                           "metadata.npy": npy_of(np.array("{}"))})),
         "too large"),
    Case("missing-weights.npz", "model",
         _write(zip_bytes({"metadata.npy": npy_of(np.array("{}"))})), "missing weights"),
    Case("corrupt-deflate-model.npz", "model", _mutated_model(_corrupt_deflate), "corrupt"),
    Case("truncated-model.npz", "model", _mutated_model(lambda b: b[:len(b) // 2]),
         "corrupt"),
    Case("lying-size-model.npz", "model", _mutated_model(lambda b: patch_sizes(b, 1 << 30)),
         "declares"),
    Case("garbage-model.npz", "model", _write(os.urandom(4000)), "corrupt"),
    Case("fifo-model.npz", "model", _special("fifo"), "fifo"),
    Case("dangling-model.npz", "model", _special("dangling"), "does not exist"),
    Case("folder-model.npz", "model", _special("folder"), "folder"),
    Case("device-model.npz", "model", _special("device"), "device"),
]

CASES = DATA_CASES + MODEL_CASES


def build_corpus(folder: Path) -> list[tuple[Case, Path]]:
    """Write every case into ``folder``; returns (case, path) pairs."""
    built = []
    for case in CASES:
        sub = folder / case.loader
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / case.name
        case.build(path)
        built.append((case, path))
    return built
