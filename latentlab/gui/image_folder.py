"""Import a folder of PNG/JPEG images as a data set (Qt decodes the images; no Pillow).

Every image is converted to 8-bit grayscale and resized (smoothly, ignoring the aspect
ratio) to one size: 8×8 when every image is at most 8×8, otherwise 28×28, unless a size is
given. When the folder has sub-folders holding images, each sub-folder is a class: label i
is the i-th sub-folder in sorted order, and its name is kept for the map's legend.
Unreadable files are skipped and counted; an import with no readable image is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QImageReader

from latentlab.core.data import Dataset
from latentlab.core.datasets import MAX_IMAGES, DataFileError, make_dataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SMALL_SIZE = (8, 8)
DEFAULT_SIZE = (28, 28)


@dataclass(frozen=True)
class FolderImport:
    """The imported data set and the files that could not be read."""

    dataset: Dataset
    skipped: tuple[Path, ...]


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not p.name.startswith("."))


def _classes(folder: Path) -> list[tuple[str, list[Path]]]:
    """(name, files) per sub-folder holding images, sorted by name."""
    subs = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)
    return [(p.name, files) for p in subs if (files := _image_files(p))]


def _gray_pixels(image: QImage, size: tuple[int, int]) -> np.ndarray:
    """``image`` as (H, W) uint8 grayscale of ``size`` = (H, W)."""
    h, w = size
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    if (gray.height(), gray.width()) != (h, w):
        gray = gray.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
    stride = gray.bytesPerLine()
    buffer = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * h)
    return buffer.reshape(h, stride)[:, :w].copy()


def _entries(folder: Path) -> tuple[list[tuple[Path, int]], list[str] | None]:
    """(file, label) of every image to read, and the class names (None: no classes);
    DataFileError when there are none or too many. Reads directories only."""
    if not folder.is_dir():
        raise DataFileError(f"{folder}: not a folder")
    classes = _classes(folder)
    if classes:
        entries = [(path, i) for i, (_name, files) in enumerate(classes) for path in files]
        names: list[str] | None = [name for name, _files in classes]
    else:
        entries = [(path, -1) for path in _image_files(folder)]
        names = None
    if not entries:
        raise DataFileError(f"{folder}: no PNG or JPEG images found (looked in the folder and "
                            "its sub-folders; expected *.png, *.jpg or *.jpeg files)")
    if len(entries) > MAX_IMAGES:
        raise DataFileError(f"{folder}: {len(entries):,} images is too many; LatentLab takes "
                            f"at most {MAX_IMAGES:,}")
    return entries, names


def check_image_folder(folder: str | os.PathLike) -> int:
    """How many image files :func:`load_image_folder` would read from ``folder``; raises
    its DataFileError when there is nothing to import (before anyone asks for a size)."""
    return len(_entries(Path(folder))[0])


def load_image_folder(folder: str | os.PathLike,
                      size: tuple[int, int] | None = None) -> FolderImport:
    """Read every PNG/JPEG in ``folder`` (or in its sub-folders, one class each).

    ``size`` = (H, W) of the imported images; ``None`` chooses 8×8 when all images are
    that small, else 28×28. Raises :class:`DataFileError` with a clear message when nothing
    usable is found.
    """
    folder = Path(folder)
    entries, names = _entries(folder)
    if size is None:
        size = SMALL_SIZE
        for path, _label in entries:  # reads headers only
            found = QImageReader(str(path)).size()
            if found.isValid() and (found.height() > SMALL_SIZE[0]
                                    or found.width() > SMALL_SIZE[1]):
                size = DEFAULT_SIZE
                break
    h, w = int(size[0]), int(size[1])
    pixels = []
    labels = []
    skipped = []
    for path, label in entries:
        reader = QImageReader(str(path))
        reader.setAutoTransform(True)  # honour JPEG EXIF orientation
        if reader.size().isValid() and (reader.size().width() * reader.size().height()
                                        > 100_000_000):
            skipped.append(path)  # a hostile header asking for gigabytes
            continue
        image = reader.read()
        if image.isNull():
            skipped.append(path)
            continue
        pixels.append(_gray_pixels(image, (h, w)))
        labels.append(label)
    if not pixels:
        raise DataFileError(f"{folder}: none of the {len(entries)} image files could be read "
                            "(corrupt or not PNG/JPEG)")
    images = np.stack(pixels)
    label_array = np.asarray(labels, dtype=np.int64) if names is not None else None
    # A class whose files were all unreadable keeps its index, so names stay aligned.
    dataset = make_dataset(images, label_array, name=folder.name or str(folder),
                           source=str(folder), label_names=names)
    return FolderImport(dataset=dataset, skipped=tuple(skipped))


__all__ = ["DEFAULT_SIZE", "IMAGE_SUFFIXES", "FolderImport", "check_image_folder",
           "load_image_folder"]
