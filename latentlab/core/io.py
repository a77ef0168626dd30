"""Model files, and atomic writes for every file LatentLab writes.

A model file is one ``.npz`` holding the flat weights and a JSON metadata string. Loading
never unpickles (``allow_pickle=False``).

Every write goes through one of the atomic writers here — :func:`atomic_write_bytes`,
:func:`atomic_write_text`, :func:`atomic_write_with` (a callback gets a binary file
object) and :func:`atomic_write_path` (a callback gets a temporary *file name*, for
``QImage.save`` and pyqtgraph exporters). Each writes ``.NAME.latentlab-XXXXXXXX.tmp[.SUF]``
beside the target, fsyncs it and ``os.replace``s it over the target: readers see the old
file or the new one, never a partial one. A failed write leaves the old file
byte-identical and raises :class:`WriteFailed` (an ``OSError``) with a one-line message;
temporary files a killed save left beside the target are removed by the next successful
save. :func:`writable_target` checks a destination without writing (the CLI checks
``--out`` before training with it): the folder exists and is writable, and the target is
absent or a regular file — never a device, FIFO or folder.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted, which protects it as well
    fcntl = None  # type: ignore[assignment]

from .. import __version__
from . import limits
from .models import MODEL_KINDS, Model, ModelConfig, build_model
from .safeload import (
    DtypeProblem,
    FileProblem,
    check_member_size,
    file_type,
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
from .trainer import EpochReport, TrainConfig

FORMAT_NAME = "latentlab-model"
FORMAT_VERSION = 2  # 2: the history is an array member, no longer in the JSON


class ModelFileError(ValueError):
    """A model file is missing, corrupt, truncated, hostile or does not match."""


@dataclass(frozen=True)
class SavedModel:
    model: Model
    config: TrainConfig
    history: list[EpochReport]


TEMP_TAG = "latentlab"


class WriteFailed(OSError):
    """A file could not be written; the file that was there before is unchanged."""


def writable_target(path: str | os.PathLike) -> Path:
    """``path`` checked as a place to write a file: its folder exists and is writable, and
    ``path`` is absent or a regular file (through symlinks). Returns the path a write
    should replace (a symlink's target, so the link keeps pointing at the new file);
    raises :class:`WriteFailed` with a one-line reason otherwise. Nothing is written."""
    path = Path(path)
    real = Path(os.path.realpath(path))
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise WriteFailed(f"cannot write {path}: {exc.strerror or exc}") from exc
    if mode is not None and not stat.S_ISREG(mode):
        raise WriteFailed(f"cannot write {path}: it is {file_type(mode)}")
    folder = real.parent
    if not folder.is_dir():
        raise WriteFailed(f"cannot write {path}: the folder {path.parent} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteFailed(f"cannot write {path}: the folder {path.parent} is not writable")
    return real


def _temp_pattern(target: Path) -> re.Pattern[str]:
    """Names of our temporary files beside ``target`` (see :func:`_make_temp`)."""
    return re.compile(re.escape(f".{target.name}.{TEMP_TAG}-") + r"[a-z0-9_]{8}\.tmp(\.\w+)?")


def _make_temp(target: Path) -> tuple[int, Path]:
    """A new temporary file beside ``target``, ``.NAME.latentlab-XXXXXXXX.tmp.SUFFIX`` (the
    target's suffix last, for writers that pick the format from the name), locked while
    open so :func:`_remove_stale_temps` never deletes a file another save is writing."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.{TEMP_TAG}-",
                                suffix=".tmp" + target.suffix, dir=target.parent)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd, Path(name)


def _remove_stale_temps(target: Path) -> None:
    """Delete temporary files of ours beside ``target`` left by a killed save. A file still
    locked belongs to a save in progress (the lock dies with its process) and stays."""
    pattern = _temp_pattern(target)
    try:
        names = [n for n in os.listdir(target.parent) if pattern.fullmatch(n)]
    except OSError:
        return
    for name in names:
        stale = target.parent / name
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            stale.unlink()
        except OSError:
            continue  # locked by a live save, or already gone
        finally:
            os.close(fd)


def _publish(temp: Path, target: Path) -> None:
    """Give ``temp`` the permissions a plain ``open()`` would (mkstemp makes it 0600) and
    rename it over ``target``."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)
    os.replace(temp, target)


def _atomic(path: str | os.PathLike, write: Callable[[int, Path], object]) -> Path:
    target = writable_target(path)
    fd, temp = _make_temp(target)
    try:
        try:
            write(fd, temp)
            # By name: a path-based writer may have replaced the file we created.
            synced = os.open(temp, os.O_RDWR)
            try:
                os.fsync(synced)
            finally:
                os.close(synced)
        finally:
            os.close(fd)  # releases the lock only after the data is on disk
        _publish(temp, target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailed):
            raise WriteFailed(f"cannot write {path}: {exc.strerror or exc}; the existing file "
                              "is unchanged") from exc
        raise
    _remove_stale_temps(target)
    return Path(path)


def atomic_write_with(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` atomically by calling ``write(handle)`` on a binary file object:
    a temporary file beside ``path`` is written, fsynced and ``os.replace``d, so readers
    see the old file or the new one. On any failure the old file is byte-identical and
    :class:`WriteFailed` (an ``OSError``) says so; no temporary file is left behind, and
    ones left by a killed earlier save are removed after this one succeeds."""
    def fill(fd: int, _temp: Path) -> None:
        handle = os.fdopen(os.dup(fd), "wb")
        with handle:
            write(handle)
    return _atomic(path, fill)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write_with`)."""
    return atomic_write_with(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a UTF-8 text file atomically (see :func:`atomic_write_with`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


# How files of these types end. Qt's image writers report success after a short write
# (a full disk), so a path-based write is only published once its end marker is there.
_END_MARKERS = {".png": b"IEND\xaeB`\x82", ".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9",
                ".svg": b"</svg>"}


def _ends_complete(temp: Path) -> bool:
    marker = _END_MARKERS.get(temp.suffix.lower())
    if marker is None:
        return True
    with open(temp, "rb") as handle:
        handle.seek(max(0, os.fstat(handle.fileno()).st_size - 64))
        return marker in handle.read()


def atomic_write_path(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Atomic writes for writers that need a *file name* — ``QImage.save``, pyqtgraph's
    ``ImageExporter``/``SVGExporter.export(name)``: ``write(temp_name)`` must fill the
    temporary file ``temp_name`` (beside ``path``, ending in ``path``'s suffix, so a
    writer that picks the format from the name picks the right one). The file is then
    fsynced and ``os.replace``d over ``path``. A writer that raises, returns ``False``
    (as ``QImage.save`` does on failure), leaves the file empty, or leaves a PNG, JPEG or
    SVG without its end marker (Qt's writers report success after a short write on a full
    disk) fails the write: the old file is byte-identical and :class:`WriteFailed` says
    so. Use this (or :func:`atomic_write_bytes`) for every file LatentLab writes."""
    def fill(fd: int, temp: Path) -> None:
        if write(str(temp)) is False:
            raise WriteFailed(f"cannot write {path}: the {Path(path).suffix or 'file'} writer "
                              "failed; the existing file is unchanged")
        if os.stat(temp).st_size == 0:
            raise WriteFailed(f"cannot write {path}: nothing was written; the existing file "
                              "is unchanged")
        if not _ends_complete(temp):
            raise WriteFailed(f"cannot write {path}: the file was cut short (is the disk "
                              "full?); the existing file is unchanged")
    return _atomic(path, fill)


# -- model files --------------------------------------------------------------------------
@dataclass(frozen=True)
class Nullable:
    """A field that is ``null`` or within ``allowed``."""

    allowed: limits.Range


Check = limits.Range | Nullable | tuple[str, ...]


def _dense_weights(*widths: int) -> int:
    """Weights of a chain of dense layers ``widths[0] → widths[1] → …`` (with biases)."""
    return sum((a + 1) * b for a, b in itertools.pairwise(widths))


@dataclass(frozen=True)
class ModelFileKind:
    """What a model file of one kind must hold in its ``model`` section — every field,
    each checked by a :class:`~latentlab.core.limits.Range` (strict types) or a tuple of
    allowed strings — and its number of weights, computed from those fields *without*
    building anything, so a file declaring a huge model is refused at no cost."""

    fields: dict[str, Check]
    n_weights: Callable[[dict[str, Any]], int]


_COMMON_FIELDS: dict[str, Check] = {
    "kind": tuple(MODEL_KINDS), "input_dim": limits.INPUT_DIM,
    "hidden_dim": limits.HIDDEN_DIM, "latent_dim": limits.LATENT_DIM,
    "dtype": ("float32", "float64"), "codes": limits.CODES,
    "commitment": limits.COMMITMENT, "ema_decay": Nullable(limits.EMA_DECAY),
}

# One entry per model kind (a new kind adds its fields and weight count here; the tests
# check every kind of models.MODEL_KINDS against build_model).
MODEL_FILE_KINDS: dict[str, ModelFileKind] = {
    "ae": ModelFileKind(_COMMON_FIELDS, lambda m: _dense_weights(
        m["input_dim"], m["hidden_dim"], m["latent_dim"]) + _dense_weights(
        m["latent_dim"], m["hidden_dim"], m["input_dim"])),
    "vae": ModelFileKind(_COMMON_FIELDS, lambda m: _dense_weights(
        m["input_dim"], m["hidden_dim"], 2 * m["latent_dim"]) + _dense_weights(
        m["latent_dim"], m["hidden_dim"], m["input_dim"])),
    "linear": ModelFileKind(_COMMON_FIELDS, lambda m: _dense_weights(
        m["input_dim"], m["latent_dim"], m["input_dim"])),
    "vqvae": ModelFileKind(_COMMON_FIELDS, lambda m: _dense_weights(
        m["input_dim"], m["hidden_dim"], m["latent_dim"]) + _dense_weights(
        m["latent_dim"], m["hidden_dim"], m["input_dim"]) + m["codes"] * m["latent_dim"]),
}

_MODEL_DEFAULTS = asdict(ModelConfig())
HISTORY_COLUMNS = tuple(f.name for f in dataclass_fields(EpochReport))
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def save_model(path: str | os.PathLike, model: Model, config: TrainConfig,
               history: list[EpochReport] | tuple[EpochReport, ...] = ()) -> Path:
    """Write ``model`` with its training config and history to ``path`` atomically.

    Members: ``weights`` (the flat weights), ``metadata`` (a JSON string: format and
    version, architecture, training settings, number of weights) and ``history``
    (float64, one row per epoch, columns ``HISTORY_COLUMNS``)."""
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "latentlab_version": __version__,
        "model": asdict(model.config),
        "train": config.to_dict(),
        "n_weights": int(model.weights.size),
        "state": model.state_metadata(),
    }
    rows = np.array([[getattr(r, c) for c in HISTORY_COLUMNS] for r in history],
                    dtype=np.float64).reshape(len(history), len(HISTORY_COLUMNS))
    atomic_write_with(path, lambda handle: np.savez_compressed(
        handle, weights=model.weights, metadata=np.array(json.dumps(metadata)),
        history=rows))
    return Path(path)


def load_model(path: str | os.PathLike) -> SavedModel:
    """Read a file written by :func:`save_model` (format versions 1 to
    ``FORMAT_VERSION``); raise :class:`ModelFileError` — one line naming the file and
    what is wrong — for anything else.

    Everything is checked before it is used: the path is a regular file within
    ``limits.MAX_MODEL_FILE_BYTES``; the archive's directory and members' declared sizes;
    every array's header (dtype, shape) before its data; the metadata's size and nesting
    depth before it is parsed; every field's type and range (``MODEL_FILE_KINDS``,
    ``TrainConfig``) and the number of weights before the model is built."""
    path = Path(path)
    try:
        with open_regular(path, limits.MAX_MODEL_FILE_BYTES) as handle, \
                open_archive(handle) as archive:
            return _read_model(archive)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except FileProblem as problem:
        text = "no such model file" if str(problem) == "no such file" else str(problem)
        raise ModelFileError(f"{path}{'' if text.startswith('is ') else ':'} {text}"
                             ) from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, KeyError) as exc:
        raise ModelFileError(f"{path}: corrupt or truncated model file ({one_line(exc)})"
                             ) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ModelFileError(f"{path}: not a usable model file ({one_line(exc)})") from None


def _read_model(archive: zipfile.ZipFile) -> SavedModel:
    members = member_names(archive)
    missing = {"weights", "metadata"} - set(members)
    if missing:
        raise ModelFileError(f"not a LatentLab model (missing {', '.join(sorted(missing))})")
    weights_info, metadata_info = members["weights"], members["metadata"]
    try:
        with open_member(archive, weights_info, _MAX_WEIGHT_BYTES + (64 << 10)) as member:
            weights_header = read_npy_header(member, kinds="f", max_values=limits.MAX_MODEL_WEIGHTS,
                                             max_bytes=_MAX_WEIGHT_BYTES)
        check_member_size(weights_info, weights_header)
        text_array = read_member_array(archive, metadata_info, kinds="U", max_values=1,
                                       max_bytes=4 * limits.MAX_METADATA_CHARS)
    except DtypeProblem as problem:
        raise ModelFileError(f"refused to load: an array has dtype {problem.dtype}") from None
    except FileProblem as problem:
        if "would need pickle" in str(problem):
            raise ModelFileError(f"refused to load: an array {problem}") from None
        raise
    if text_array.shape != ():
        raise ModelFileError("metadata is not a JSON string")
    metadata = _parse_metadata(str(text_array[()]))
    version = _check_format(metadata)
    model_section = _model_section(metadata.get("model"))
    train_config = _train_config(metadata.get("train"))
    expected = MODEL_FILE_KINDS[model_section["kind"]].n_weights(model_section)
    declared = metadata.get("n_weights", expected)
    if declared != expected or isinstance(declared, bool) or (
            weights_header.shape != (expected,)):
        raise ModelFileError(
            f"weights do not match the architecture (expected {expected:,} floats, found "
            f"{weights_header.dtype} array of shape {weights_header.shape}"
            + (f", metadata says {declared!r}" if declared != expected else "") + ")")
    if weights_header.dtype.itemsize not in (4, 8):
        raise ModelFileError(f"weights have dtype {weights_header.dtype}; expected float32 "
                             "or float64")
    history = (_history_v1(metadata.get("history", [])) if version == 1
               else _history_v2(archive, members.get("history")))
    with open_member(archive, weights_info, _MAX_WEIGHT_BYTES + (64 << 10)) as member:
        read_exact(member, weights_header.header_bytes, "weights header")
        weights = read_array(member, weights_header)
    if not np.isfinite(weights).all():
        raise ModelFileError("weights contain NaN or Inf")
    try:
        model = build_model(ModelConfig(**model_section), seed=None)
        model.load_weights(weights)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"invalid model settings ({one_line(exc)})") from None
    state = metadata.get("state", {})
    try:
        if not isinstance(state, dict):
            raise ValueError("state must be a JSON object")
        model.restore_state_metadata(state)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"invalid model state ({one_line(exc)})") from None
    return SavedModel(model=model, config=train_config, history=history)


_MAX_WEIGHT_BYTES = 8 * limits.MAX_MODEL_WEIGHTS


def _parse_metadata(text: str) -> dict[str, Any]:
    """The metadata JSON, its nesting depth checked before parsing (no recursion blow-up)."""
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > limits.MAX_METADATA_DEPTH:
            raise ModelFileError(f"metadata is nested more than {limits.MAX_METADATA_DEPTH} "
                                 "levels deep")
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"metadata is not valid JSON ({one_line(exc)})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFileError("not a LatentLab model file")
    return metadata


def _check_format(metadata: dict[str, Any]) -> int:
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"format_version {version!r} is not a model format version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"written in model format {version}; this LatentLab reads up to "
            f"{FORMAT_VERSION} — update LatentLab to open it")
    return version


def _model_section(section: object) -> dict[str, Any]:
    """The ``model`` section checked field by field against ``MODEL_FILE_KINDS``."""
    if not isinstance(section, dict):
        raise ModelFileError(f"invalid model settings (expected an object, found "
                             f"{type(section).__name__})")
    kind = section.get("kind")
    if not isinstance(kind, str) or kind not in MODEL_FILE_KINDS:
        raise ModelFileError(f"invalid model settings (kind must be one of "
                             f"{', '.join(MODEL_FILE_KINDS)}, not {kind!r})")
    wanted = MODEL_FILE_KINDS[kind].fields
    unknown = set(section) - set(wanted)
    missing = {"input_dim", "hidden_dim", "latent_dim"} - set(section)
    if unknown or missing:
        parts = ([f"unknown {', '.join(sorted(unknown))}"] if unknown else []) + (
            [f"missing {', '.join(sorted(missing))}"] if missing else [])
        raise ModelFileError(f"invalid model settings ({'; '.join(parts)})")
    # Fields added after a file was written (e.g. the VQ-VAE's) take their defaults.
    section = {**_MODEL_DEFAULTS, **section}
    for name, check in wanted.items():
        value = section[name]
        if isinstance(check, Nullable):
            problem = None if value is None else check.allowed.problem(value, name)
        elif isinstance(check, limits.Range):
            problem = check.problem(value, name)
        else:
            problem = None if isinstance(value, str) and value in check else (
                f"{name} must be one of {', '.join(check)}, not {value!r}")
        if problem:
            raise ModelFileError(f"invalid model settings ({problem})")
    return section


def _train_config(section: object) -> TrainConfig:
    if not isinstance(section, dict):
        raise ModelFileError(f"invalid training settings (expected an object, found "
                             f"{type(section).__name__})")
    try:
        return TrainConfig.from_dict(section)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid training settings ({one_line(exc)})") from None


def _history_row(values: list[object]) -> EpochReport:
    epoch, *numbers = values
    problem = _EPOCH.problem(epoch, "epoch")
    for name, value in zip(HISTORY_COLUMNS[1:], numbers, strict=True):
        if problem is None and (isinstance(value, bool) or not isinstance(value, int | float)
                                or not math.isfinite(value)):
            problem = f"{name} must be a finite number, not {value!r}"
    if problem:
        raise ModelFileError(f"invalid history ({problem})")
    return EpochReport(*values)  # type: ignore[arg-type]


_EPOCH = limits.Range("epoch", 0, limits.MAX_HISTORY_EPOCHS, integer=True)


def _history_v1(entries: object) -> list[EpochReport]:
    """Format 1 kept the history in the metadata: a list of objects."""
    if not isinstance(entries, list) or len(entries) > limits.MAX_HISTORY_EPOCHS:
        raise ModelFileError("invalid history (expected a list of epochs)")
    history = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != set(HISTORY_COLUMNS):
            raise ModelFileError(f"invalid history (expected objects with "
                                 f"{', '.join(HISTORY_COLUMNS)})")
        history.append(_history_row([entry[c] for c in HISTORY_COLUMNS]))
    return history


def _history_v2(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None) -> list[EpochReport]:
    """Format 2 keeps it as a float64 array, one row per epoch (none: no history)."""
    if info is None:
        return []
    width = len(HISTORY_COLUMNS)
    rows = read_member_array(archive, info, kinds="f",
                             max_values=limits.MAX_HISTORY_EPOCHS * width,
                             max_bytes=8 * limits.MAX_HISTORY_EPOCHS * width)
    if rows.ndim != 2 or rows.shape[1] != width:
        raise ModelFileError(f"invalid history (shape {rows.shape}; expected N×{width})")
    history = []
    for row in rows.tolist():
        epoch = row[0]
        history.append(_history_row([int(epoch) if float(epoch).is_integer() else epoch,
                                     *row[1:]]))
    return history
