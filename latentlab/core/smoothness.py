"""How smooth and how data-like a decoder is over its codes' region, measured.

Definitions (distances are Euclidean over the pixels, in the images' own [0, 1] units):

* **nearest distance** of an image ``g``: ``min_i ‖g − x_i‖`` over the *reference*
  images ``x_i`` — the training images, or a seeded subsample of ``max_reference`` of
  them when there are more (the same set serves every distance below).
* **threshold** ``τ``: the 95th percentile (``percentile``) of the nearest distances of
  the reference images' own reconstructions ``decode(μ(x_i))``.
* a decode is **off-manifold** when its nearest distance exceeds ``τ``: it lies farther
  from every training image than 95 % of the model's reconstructions do.
* **view**: a :class:`~latentlab.core.pca.LatentPlane` (default: the two latent axes for
  ``K = 2``, the codes' PCA plane for ``K > 2``); the codes ``μ(x)`` of *all* images are
  projected into it.
* **region**: ``c ± 2σ`` (``span_sigma``) per view axis, with ``c`` the projected codes'
  mean and ``σ`` their standard deviation per axis, cut into ``n × n`` equal cells
  (default 60 × 60); each cell's centre is decoded (other dims as the view holds them).
* **gap cell**: a cell whose centre is farther than ``gap_radius`` (default 0.25) from
  every projected code, measured in σ units (``(uv − c) / σ`` per axis).
* **change per σ-step**: for each pair of horizontally or vertically adjacent cells,
  ``‖g_a − g_b‖`` divided by the distance of their centres in σ units
  (``2·span_sigma / n``); reported as the mean and the maximum over all pairs.

Memory is bounded: nearest distances (:class:`~latentlab.core.analysis.NearestImageIndex`)
are computed a block of ``_INDEX_ROWS × _QUERY_BLOCK`` at a time, and at most ``n²``
decodes and ``max_reference`` reference images are held.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .analysis import NearestImageIndex, encode_in_chunks, sample_rows
from .manifold import Rect, decode_grid
from .models import Model
from .pca import LatentPlane, axes_plane, pca_plane

__all__ = ["Smoothness", "measure_smoothness"]

# A nearest-image query block meets the index's rows _INDEX_ROWS × _QUERY_BLOCK at a time:
# 2,048 × 512 float64 distances, 8 MB, whatever the data set's size (a block's product,
# scaled product and distances are three such arrays at once; the window measures on its
# background worker beside the map's encoding, within its memory budget).
_INDEX_ROWS = 2048
_QUERY_BLOCK = 512


def _nearest_distances(index: NearestImageIndex, queries: np.ndarray) -> np.ndarray:
    """Distance of each row of ``queries: (M, D)`` to its nearest indexed row → ``(M,)``."""
    return np.concatenate([index.query_many(queries[lo:lo + _QUERY_BLOCK])[1]
                           for lo in range(0, len(queries), _QUERY_BLOCK)])


def _gap_mask(points: np.ndarray, ix: np.ndarray, iy: np.ndarray,
              radius: float) -> np.ndarray:
    """``(len(iy), len(ix))`` bool: True where the cell centre ``(ix[c], iy[r])`` is farther
    than ``radius`` from every row of ``points: (N, 2)``. A code farther than ``radius``
    along x is farther in all, so each column of centres meets only the codes of its strip
    ``|x − ix[c]| ≤ radius`` (a few % of 60,000 codes, not all of them)."""
    order = np.argsort(points[:, 0], kind="stable")
    xs, ys = points[order, 0], points[order, 1]
    gap = np.ones((len(iy), len(ix)), dtype=bool)
    for c, x in enumerate(ix):
        lo = int(np.searchsorted(xs, x - radius, side="left"))
        hi = int(np.searchsorted(xs, x + radius, side="right"))
        if hi > lo:
            d2 = (xs[lo:hi] - x) ** 2 + (ys[lo:hi] - iy[:, None]) ** 2  # (len(iy), strip)
            gap[:, c] = d2.min(axis=1) > radius * radius
    return gap


def _neighbour_distances(decodes: np.ndarray) -> np.ndarray:
    """``‖g_a − g_b‖`` (float64) of every horizontally, then vertically adjacent pair of
    ``decodes: (n, n, D)``, two rows at a time: a whole-grid float64 difference would hold
    three more copies of the grid (~22 MB each at 784 pixels)."""
    n = decodes.shape[0]
    across, down = [], []
    below = decodes[0].astype(np.float64)
    for r in range(n):
        row = below
        across.append(np.linalg.norm(row[1:] - row[:-1], axis=-1))
        if r + 1 < n:
            below = decodes[r + 1].astype(np.float64)
            down.append(np.linalg.norm(below - row, axis=-1))
    return np.concatenate(across + down)


@dataclass(frozen=True)
class Smoothness:
    """One model's figures (see the module's definitions).

    ``rect``: the region in view coordinates; ``sigma``: the codes' σ per view axis;
    ``threshold``: τ; ``off_manifold`` and ``gap``: ``(n, n)`` bool masks, row 0 at the
    top as in :func:`~latentlab.core.manifold.grid_centres`; ``off_share``: share of
    off-manifold decodes over the region; ``gap_share``: share of cells that are gaps;
    ``off_share_in_gaps``: share of off-manifold decodes among gap cells (NaN if none);
    ``change_mean`` / ``change_max``: change per σ-step; ``n_reference``: the reference
    images; ``grid``, ``span_sigma``, ``gap_radius``, ``percentile``: how it was measured
    (the arguments of :func:`measure_smoothness`).
    """

    rect: Rect
    sigma: tuple[float, float]
    threshold: float
    off_manifold: np.ndarray
    gap: np.ndarray
    off_share: float
    gap_share: float
    off_share_in_gaps: float
    change_mean: float
    change_max: float
    n_reference: int
    grid: int
    span_sigma: float
    gap_radius: float
    percentile: float

    def figures(self) -> dict[str, float | int | list[float]]:
        """The scalar figures as a JSON-ready dict (no masks)."""
        out = asdict(self)
        del out["off_manifold"], out["gap"]
        out["rect"], out["sigma"] = list(self.rect), list(self.sigma)
        return out


def measure_smoothness(
    model: Model,
    images: np.ndarray,
    plane: LatentPlane | None = None,
    n: int = 60,
    span_sigma: float = 2.0,
    gap_radius: float = 0.25,
    percentile: float = 95.0,
    max_reference: int = 5000,
    seed: int = 0,
) -> Smoothness:
    """Off-manifold shares and neighbouring-decode change of ``model`` over the region of
    the codes of ``images: (N, D)`` (definitions in the module docstring)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 2 or len(images) == 0:
        raise ValueError(f"images must be a non-empty (N, D) array, got {images.shape}")
    if not (0.0 < percentile < 100.0 and span_sigma > 0.0 and gap_radius >= 0.0):
        raise ValueError("need 0 < percentile < 100, span_sigma > 0 and gap_radius >= 0")
    codes = encode_in_chunks(model, images, dtype=np.float64)[0]
    if plane is None:
        k = model.latent_dim
        plane = axes_plane(k, 0, 1) if k == 2 else pca_plane(codes)
    shown = plane.project(codes)
    centre = shown.mean(axis=0)
    sigma = shown.std(axis=0)
    if not (sigma > 0).all():
        raise ValueError("the codes do not vary along both axes of the view: no region")
    x0, y0 = centre - span_sigma * sigma
    x1, y1 = centre + span_sigma * sigma
    rect: Rect = (float(x0), float(y0), float(x1), float(y1))

    reference = images[sample_rows(len(images), max_reference, seed)]
    index = NearestImageIndex(reference, chunk=_INDEX_ROWS)
    recon = model.decode(encode_in_chunks(model, reference)[0])
    threshold = float(np.percentile(_nearest_distances(index, recon), percentile))

    decodes = decode_grid(model, plane, rect, n, n)  # (n, n, D)
    off = (_nearest_distances(index, decodes.reshape(n * n, -1)) > threshold).reshape(n, n)

    cell = 2.0 * span_sigma / n  # cell width in σ units, the same along both axes
    ix = (np.arange(n) + 0.5) * cell - span_sigma
    iy = span_sigma - (np.arange(n) + 0.5) * cell
    gap = _gap_mask((shown - centre) / sigma, ix, iy, gap_radius)

    steps = _neighbour_distances(decodes) / cell
    n_gaps = int(gap.sum())
    return Smoothness(
        rect=rect,
        sigma=(float(sigma[0]), float(sigma[1])),
        threshold=threshold,
        off_manifold=off,
        gap=gap,
        off_share=float(off.mean()),
        gap_share=n_gaps / gap.size,
        off_share_in_gaps=float(off[gap].mean()) if n_gaps else float("nan"),
        change_mean=float(steps.mean()) if steps.size else 0.0,
        change_max=float(steps.max()) if steps.size else 0.0,
        n_reference=len(reference),
        grid=int(n),
        span_sigma=float(span_sigma),
        gap_radius=float(gap_radius),
        percentile=float(percentile),
    )
