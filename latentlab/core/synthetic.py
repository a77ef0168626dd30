"""A seeded synthetic image set: smooth random strokes in ten visibly different classes.

Tests and benchmarks need an MNIST-sized data set (60,000 × 28×28, ten labels) without
shipping or downloading one. Each class is a fixed figure made of straight strokes or a
ring (a bar, a cross, a triangle …); every image draws its class's figure with its own
random rotation, scale, shift, stroke width and a smooth wobble along the strokes, so the
classes overlap a little the way handwriting does and an autoencoder's map shows clusters.

The strokes are rendered as a sum of separable Gaussian dots: for a chunk of B images with
P dots each, ``image = Gy @ Gx.T`` where ``Gy, Gx: (B, side, P)`` are the dots' 1-D
profiles, one batched matrix product per chunk. The output is preallocated and filled
chunk by chunk, so the temporaries stay at a few MB whatever ``n`` is (60,000 images take
about a second).
"""

from __future__ import annotations

import numpy as np

from .data import Dataset

__all__ = ["CLASS_NAMES", "stroke_images", "synthetic_strokes"]

#: Legend names of the ten classes, in label order.
CLASS_NAMES = ("ring", "vertical bar", "horizontal bar", "slash", "backslash", "plus",
               "cross", "corner", "triangle", "square")

_DOTS = 32  # dots per image along its strokes
_CHUNK = 1024  # images rendered per batched product


def _polyline(points: list[tuple[float, float]], closed: bool = False) -> np.ndarray:
    """``_DOTS`` points evenly spaced by arc length along a polyline in [-1, 1]², (P, 2)."""
    p = np.asarray(points + points[:1] if closed else points, dtype=np.float64)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], _DOTS)
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def _two_strokes(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> np.ndarray:
    """Half the dots on stroke ``a``, half on ``b`` (a figure the pen lifts in), (P, 2)."""
    return np.concatenate([_polyline(a)[::2], _polyline(b)[::2]])


def _class_figures() -> np.ndarray:
    """The ten class figures as dot positions, ``(10, P, 2)`` in [-1, 1]² (y down)."""
    angle = np.linspace(0.0, 2 * np.pi, _DOTS, endpoint=False)
    ring = np.stack([0.62 * np.cos(angle), 0.62 * np.sin(angle)], axis=1)
    figures = [
        ring,
        _polyline([(0.0, -0.75), (0.0, 0.75)]),
        _polyline([(-0.75, 0.0), (0.75, 0.0)]),
        _polyline([(-0.6, 0.7), (0.6, -0.7)]),
        _polyline([(-0.6, -0.7), (0.6, 0.7)]),
        _two_strokes([(0.0, -0.7), (0.0, 0.7)], [(-0.7, 0.0), (0.7, 0.0)]),
        _two_strokes([(-0.6, -0.6), (0.6, 0.6)], [(-0.6, 0.6), (0.6, -0.6)]),
        _polyline([(-0.5, -0.75), (-0.5, 0.6), (0.6, 0.6)]),
        _polyline([(0.0, -0.7), (0.7, 0.55), (-0.7, 0.55)], closed=True),
        _polyline([(-0.55, -0.55), (0.55, -0.55), (0.55, 0.55), (-0.55, 0.55)], closed=True),
    ]
    return np.stack(figures)


def _render_chunk(figures: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                  side: int) -> np.ndarray:
    """Images of the given labels, ``(B, side, side)`` float32 in [0, 1]."""
    b = len(labels)
    pts = figures[labels]  # (B, P, 2)
    # A smooth wobble along the stroke: one random low-frequency sine per image and axis.
    t = np.linspace(0.0, 1.0, pts.shape[1])
    freq = rng.uniform(0.5, 2.0, (b, 1, 2))
    phase = rng.uniform(0.0, 2 * np.pi, (b, 1, 2))
    amp = rng.uniform(0.0, 0.12, (b, 1, 2))
    pts = pts + amp * np.sin(2 * np.pi * freq * t[None, :, None] + phase)
    theta = rng.uniform(-0.3, 0.3, b)  # about ±17°
    cos, sin = np.cos(theta), np.sin(theta)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (B, 2, 2)
    scale = rng.uniform(0.75, 1.1, (b, 1, 1))
    shift = rng.uniform(-0.15, 0.15, (b, 1, 2))
    pts = scale * (pts @ rot.transpose(0, 2, 1)) + shift
    # [-1, 1] → pixel centres, with a margin of ~2 pixels at 28×28.
    pix = (pts + 1.0) * (0.5 * (side - 1) * 0.86) + 0.07 * (side - 1)
    width = rng.uniform(0.8, 1.5, (b, 1, 1)) * side / 28.0  # stroke σ in pixels
    grid = np.arange(side, dtype=np.float64)[None, :, None]  # (1, side, 1)
    gx = np.exp(-0.5 * ((grid - pix[:, None, :, 0]) / width) ** 2).astype(np.float32)
    gy = np.exp(-0.5 * ((grid - pix[:, None, :, 1]) / width) ** 2).astype(np.float32)
    images = gy @ gx.transpose(0, 2, 1)  # (B, side, side): Σ_p gy[:, i, p] gx[:, j, p]
    # Overlapping dots sum to more than 1 along a stroke: a soft saturation keeps the
    # stroke's core at ~1 and its edges smooth.
    np.multiply(images, -1.6, out=images)
    np.exp(images, out=images)
    np.subtract(1.0, images, out=images)
    return images


def stroke_images(n: int, *, seed: int = 0, side: int = 28,
                  dtype: type[np.uint8] | type[np.float32] = np.float32
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded stroke images and their labels.

    Returns ``images: (n, side, side)`` (float32 in [0, 1], or uint8 0..255 for a compact
    file) and ``labels: (n,)`` int64 in 0..9, balanced (label i is ``CLASS_NAMES[i]``) and
    shuffled. The same ``n``, ``seed`` and ``side`` give the same images.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if side < 8:
        raise ValueError(f"side must be >= 8 pixels, got {side}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n, dtype=np.int64) % len(CLASS_NAMES))
    figures = _class_figures()
    images = np.empty((n, side, side), dtype=dtype)
    for lo in range(0, n, _CHUNK):
        chunk = _render_chunk(figures, labels[lo:lo + _CHUNK], rng, side)
        if dtype == np.uint8:
            np.multiply(chunk, 255.0, out=chunk)
            np.rint(chunk, out=chunk)
        images[lo:lo + len(chunk)] = chunk
    return images, labels


def synthetic_strokes(n: int, *, seed: int = 0, side: int = 28) -> Dataset:
    """A :class:`Dataset` of :func:`stroke_images`: ``images: (n, side²)`` float32."""
    images, labels = stroke_images(n, seed=seed, side=side)
    return Dataset(images=images.reshape(n, side * side), labels=labels,
                   image_shape=(side, side), name=f"strokes-{n}", label_names=CLASS_NAMES)
