"""Data sets: the bundled 8×8 digits, scaled to [0, 1]."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..paths import resource_path


@dataclass(frozen=True)
class Dataset:
    """``images: (N, H*W)`` float32 in [0, 1]; ``labels: (N,)`` int64 or None (labels
    only colour plots, they are never used for training); ``image_shape: (H, W)``;
    ``label_names``: the legend name of label i (e.g. a sub-folder's name), or None for
    the numbers themselves."""

    images: np.ndarray
    labels: np.ndarray | None
    image_shape: tuple[int, int]
    name: str
    label_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        h, w = self.image_shape
        if self.images.ndim != 2 or self.images.shape[1] != h * w:
            raise ValueError(f"images must have shape (N, {h * w}), got {self.images.shape}")
        if self.labels is not None and self.labels.shape != (self.images.shape[0],):
            raise ValueError("labels must have one entry per image")
        if self.label_names is not None and self.labels is not None and len(self.labels) \
                and not 0 <= int(self.labels.min()) <= int(self.labels.max()) \
                < len(self.label_names):
            raise ValueError("label_names must name every label 0..K-1")

    def label_name(self, label: int) -> str:
        """The legend name of ``label``."""
        names = self.label_names
        return names[label] if names is not None and 0 <= label < len(names) else str(label)

    def __len__(self) -> int:
        return int(self.images.shape[0])


def load_digits() -> Dataset:
    """The 1,797 UCI optical-recognition digits (8×8, 0..16 per pixel) scaled to [0, 1]."""
    with np.load(resource_path("digits.npz"), allow_pickle=False) as archive:
        images = archive["images"].astype(np.float32) / 16.0
        labels = archive["labels"].astype(np.int64)
    return Dataset(images=images.reshape(len(images), -1), labels=labels,
                   image_shape=(8, 8), name="digits")
