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

import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted, which protects it as well
    fcntl = None  # type: ignore[assignment]

from .. import __version__
from .models import Model, ModelConfig, build_model
from .trainer import EpochReport, TrainConfig

FORMAT_NAME = "latentlab-model"
FORMAT_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"


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
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
        raise WriteFailed(f"cannot write {path}: it is {what}")
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


def atomic_write_path(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Atomic writes for writers that need a *file name* — ``QImage.save``, pyqtgraph's
    ``ImageExporter``/``SVGExporter.export(name)``: ``write(temp_name)`` must fill the
    temporary file ``temp_name`` (beside ``path``, ending in ``path``'s suffix, so a
    writer that picks the format from the name picks the right one). The file is then
    fsynced and ``os.replace``d over ``path``. A writer that raises, returns ``False``
    (as ``QImage.save`` does on failure) or leaves the file empty fails the write: the old
    file is byte-identical and :class:`WriteFailed` says so. Use this (or
    :func:`atomic_write_bytes`) for every file LatentLab writes."""
    def fill(fd: int, temp: Path) -> None:
        if write(str(temp)) is False:
            raise WriteFailed(f"cannot write {path}: the {Path(path).suffix or 'file'} writer "
                              "failed; the existing file is unchanged")
        if os.stat(temp).st_size == 0:
            raise WriteFailed(f"cannot write {path}: nothing was written; the existing file "
                              "is unchanged")
    return _atomic(path, fill)


def save_model(path: str | os.PathLike, model: Model, config: TrainConfig,
               history: list[EpochReport] | tuple[EpochReport, ...] = ()) -> Path:
    """Write ``model`` with its training config and history to ``path`` atomically."""
    path = Path(path)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "latentlab_version": __version__,
        "model": asdict(model.config),
        "train": config.to_dict(),
        "history": [r.to_dict() for r in history],
        "n_weights": int(model.weights.size),
        "state": model.state_metadata(),
    }
    atomic_write_with(path, lambda handle: np.savez_compressed(
        handle, weights=model.weights, metadata=np.array(json.dumps(metadata))))
    return path


def load_model(path: str | os.PathLike) -> SavedModel:
    """Read a file written by :func:`save_model`; raise :class:`ModelFileError` with a
    clear message for anything else."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        # Open the file ourselves so it is closed even when NumPy fails half way.
        with open(path, "rb") as handle:
            if handle.read(4) != _ZIP_MAGIC:
                raise ModelFileError(f"{path}: corrupt or truncated model file "
                                     "(not an .npz archive)")
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                missing = {"weights", "metadata"} - set(archive.files)
                if missing:
                    raise ModelFileError(f"{path}: not a LatentLab model "
                                         f"(missing {', '.join(sorted(missing))})")
                weights = archive["weights"]
                metadata_text = archive["metadata"]
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise ModelFileError(f"{path}: corrupt or truncated model file ({exc})") from exc
    except ValueError as exc:  # e.g. object arrays, which would need pickle
        raise ModelFileError(f"{path}: refused to load ({exc})") from exc

    if metadata_text.dtype.kind != "U" or metadata_text.shape != ():
        raise ModelFileError(f"{path}: metadata is not a JSON string")
    try:
        metadata = json.loads(str(metadata_text))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a LatentLab model file")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in model format {version!r}; this LatentLab reads up to "
            f"{FORMAT_VERSION} — update LatentLab to open it")
    try:
        model_config = ModelConfig(**metadata["model"])
        train_config = TrainConfig.from_dict(metadata["train"])
        history = [EpochReport(**entry) for entry in metadata.get("history", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid model settings ({exc})") from exc

    model = build_model(model_config, seed=None)
    if weights.dtype.kind != "f" or weights.ndim != 1 or weights.size != model.weights.size:
        raise ModelFileError(
            f"{path}: weights do not match the architecture (expected {model.weights.size} "
            f"floats, found {weights.dtype} array of shape {weights.shape})")
    if not np.isfinite(weights).all():
        raise ModelFileError(f"{path}: weights contain NaN or Inf")
    model.load_weights(weights)
    try:
        state = metadata.get("state", {})
        if not isinstance(state, dict):
            raise ValueError("state must be a JSON object")
        model.restore_state_metadata(state)
    except ValueError as exc:
        raise ModelFileError(f"{path}: invalid model state ({exc})") from exc
    return SavedModel(model=model, config=train_config, history=history)
