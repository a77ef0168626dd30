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
           "tile_mosaic", "view_grid"]

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


def tile_mosaic(images: np.ndarray, image_shape: tuple[int, int], gap: int = 0) -> np.ndarray:
    """Tiles ``images: (ny, nx, H*W)`` into one ``(ny*(H+gap), nx*(W+gap))`` float32 image:
    tile ``(r, c)`` upright at rows ``r*(H+gap)..``, columns ``c*(W+gap)..``, followed by
    ``gap`` columns and rows of NaN ("no decode here"): images that fill their frame, as
    the digits do, would otherwise run into each other."""
    h, w = (int(v) for v in image_shape)
    gap = int(gap)
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[2] != h * w:
        raise ValueError(f"images must have shape (ny, nx, {h * w}), got {images.shape}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    ny, nx = images.shape[:2]
    cells = np.full((ny, h + gap, nx, w + gap), np.nan, dtype=np.float32)
    cells[:, :h, :, :w] = images.reshape(ny, nx, h, w).transpose(0, 2, 1, 3)
    return cells.reshape(ny * (h + gap), nx * (w + gap))


def decode_mosaic(model: Decoder, plane: LatentPlane, rect: Rect, nx: int, ny: int,
                  image_shape: tuple[int, int], gap: int = 0) -> np.ndarray:
    """The decoded manifold over ``rect`` as one image (see :func:`tile_mosaic`) float32
    in the decoder's range, row 0 at the top (largest y), each tile upright; tile
    ``(r, c)`` is the decode of cell ``(r, c)``'s centre. A map whose y axis points up draws
    it with ``ImageItem(mosaic[::-1], axisOrder="row-major")`` placed on ``rect``."""
    return tile_mosaic(decode_grid(model, plane, rect, nx, ny), image_shape, gap)


def view_grid(view: Rect, width_px: float, tile_px: float,
              max_cells: int = 96 * 96) -> tuple[Rect, int, int]:
    """The grid a map ``width_px`` pixels wide showing ``view`` draws: square cells of
    side ``s`` (data units) about ``tile_px`` pixels wide, on the lattice of multiples of
    ``s``, covering ``view`` → ``(rect, nx, ny)``.

    The lattice does not move when the view pans, so the tiles stay put under the
    points; with more than ``max_cells`` cells, ``s`` grows until they fit.
    """
    x0, y0, x1, y1 = _check_rect(view)
    if not (width_px > 0 and tile_px > 0 and max_cells >= 1):
        raise ValueError("width_px, tile_px and max_cells must be positive")
    side = (x1 - x0) / max(1, round(width_px / tile_px))
    while True:
        i0, j0 = math.floor(x0 / side), math.floor(y0 / side)
        nx = max(1, math.ceil(x1 / side) - i0)
        ny = max(1, math.ceil(y1 / side) - j0)
        if nx * ny <= max_cells:
            break
        side *= math.sqrt(nx * ny / max_cells) * 1.01
    return (i0 * side, j0 * side, (i0 + nx) * side, (j0 + ny) * side), nx, ny
