"""The decoded manifold: what a decoder draws at every point of a latent map's region.

A rectangle ``rect = (x_min, y_min, x_max, y_max)`` of a 2-D view (a
:class:`~latentlab.core.pca.LatentPlane`) is cut into ``nx × ny`` equal cells; each
cell's centre is lifted to a full latent ``z`` and decoded. :func:`decode_mosaic` tiles
the decodes into one image as it looks on screen, which a map draws behind its points.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from .pca import LatentPlane

__all__ = ["MAX_GRID_CELLS", "Decoder", "Rect", "decode_grid", "decode_mosaic", "grid_centres",
           "tile_mosaic"]

Rect = tuple[float, float, float, float]
"""``(x_min, y_min, x_max, y_max)`` in map coordinates."""

MAX_GRID_CELLS = 512 * 512  # a grid's decodes are held at once: bound them
_DECODE_CHUNK = 4096  # latents decoded per call: bounds the hidden layer's scratch


class Decoder(Protocol):
    """What the manifold needs of a model: its latent size and a pure decode
    ``z: (N, K) → images (N, D)``."""

    @property
    def latent_dim(self) -> int: ...

    def decode(self, z: np.ndarray) -> np.ndarray: ...


def _check_rect(rect: Rect) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in rect)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or not (x1 > x0 and y1 > y0):
        raise ValueError(f"rect must be finite with x_max > x_min and y_max > y_min, got {rect}")
    return x0, y0, x1, y1


def grid_centres(rect: Rect, nx: int, ny: int) -> np.ndarray:
    """Centres of the ``nx × ny`` cells of ``rect`` as map points, shape ``(ny, nx, 2)``.

    Row 0 is the top row (largest y) and column 0 the left column (smallest x), as on
    screen.
    """
    x0, y0, x1, y1 = _check_rect(rect)
    nx, ny = int(nx), int(ny)
    if nx < 1 or ny < 1 or nx * ny > MAX_GRID_CELLS:
        raise ValueError(f"a grid needs 1..{MAX_GRID_CELLS} cells (nx, ny >= 1), got {nx}×{ny}")
    xs = x0 + (np.arange(nx) + 0.5) * ((x1 - x0) / nx)
    ys = y1 - (np.arange(ny) + 0.5) * ((y1 - y0) / ny)
    centres = np.empty((ny, nx, 2))
    centres[..., 0] = xs[None, :]
    centres[..., 1] = ys[:, None]
    return centres


def decode_grid(model: Decoder, plane: LatentPlane, rect: Rect, nx: int, ny: int) -> np.ndarray:
    """Decode every cell centre of ``rect`` (see :func:`grid_centres`) lifted through
    ``plane``: images of shape ``(ny, nx, D)``, float32 (decoded a bounded chunk at a time)."""
    if plane.latent_dim != model.latent_dim:
        raise ValueError(f"the view is of a {plane.latent_dim}-D latent, the model's is "
                         f"{model.latent_dim}-D")
    centres = grid_centres(rect, nx, ny).reshape(-1, 2)
    z = plane.lift(centres).astype(np.float32)
    parts = [np.asarray(model.decode(z[lo:lo + _DECODE_CHUNK]), dtype=np.float32)
             for lo in range(0, len(z), _DECODE_CHUNK)]
    images = np.concatenate(parts)
    return images.reshape(int(ny), int(nx), images.shape[1])


def tile_mosaic(images: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Tiles ``images: (ny, nx, H*W)`` into one ``(ny*H, nx*W)`` image: tile ``(r, c)``
    upright at rows ``r*H..``, columns ``c*W..``."""
    h, w = (int(v) for v in image_shape)
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[2] != h * w:
        raise ValueError(f"images must have shape (ny, nx, {h * w}), got {images.shape}")
    ny, nx = images.shape[:2]
    return images.reshape(ny, nx, h, w).transpose(0, 2, 1, 3).reshape(ny * h, nx * w)


def decode_mosaic(model: Decoder, plane: LatentPlane, rect: Rect, nx: int, ny: int,
                  image_shape: tuple[int, int]) -> np.ndarray:
    """The decoded manifold over ``rect`` as one image ``(ny*H, nx*W)`` float32 in the
    decoder's range, row 0 at the top (largest y), each tile upright. A map whose y axis
    points up draws it with ``ImageItem(mosaic[::-1], axisOrder="row-major")`` placed on
    ``rect``."""
    return tile_mosaic(decode_grid(model, plane, rect, nx, ny), image_shape)
