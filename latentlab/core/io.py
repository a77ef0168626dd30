"""Model files: one ``.npz`` holding the flat weights and a JSON metadata string.

Loading never unpickles (``allow_pickle=False``); saving writes a temporary file beside
the target and ``os.replace``s it, so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

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


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a temporary file beside it and ``os.replace``: readers see
    the old file or the new one, never a partial one, and a failure leaves no litter."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write a file atomically (see :func:`_atomic_write`)."""
    path = Path(path)
    _atomic_write(path, lambda handle: handle.write(data))
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a UTF-8 text file atomically (see :func:`_atomic_write`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


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
    }
    _atomic_write(path, lambda handle: np.savez_compressed(
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
    return SavedModel(model=model, config=train_config, history=history)
