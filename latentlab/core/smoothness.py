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

Memory is bounded: distances are computed ``_DISTANCE_BLOCK`` entries at a time, and
at most ``n²`` decodes and ``max_reference`` reference images are held.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from .manifold import Rect, decode_grid
from .pca import LatentPlane, axes_plane, pca_plane

__all__ = ["Autoencoding", "Smoothness", "measure_smoothness", "nearest_distances"]

_DISTANCE_BLOCK = 1 << 22  # query × reference entries per block (32 MB in float64)
_ENCODE_CHUNK = 8192


class Autoencoding(Protocol):
    """What a smoothness measurement needs of a model."""

    @property
    def latent_dim(self) -> int: ...

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]: ...

    def decode(self, z: np.ndarray) -> np.ndarray: ...


def nearest_distances(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``min_i ‖q − r_i‖`` for each row of ``queries: (M, D)`` over ``reference: (N, D)``
    → ``(M,)`` float64, a block of queries at a time (bounded memory)."""
    q = np.asarray(queries, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1] or len(r) == 0:
        raise ValueError(f"queries (M, D) and a non-empty reference (N, D) must agree in D, "
                         f"got {q.shape} and {r.shape}")
    r_sq = np.einsum("nd,nd->n", r, r)
    block = max(1, _DISTANCE_BLOCK // len(r))
    out = np.empty(len(q))
    for lo in range(0, len(q), block):
        qb = q[lo:lo + block]
        d2 = np.einsum("md,md->m", qb, qb)[:, None] + r_sq[None, :] - 2.0 * (qb @ r.T)
        out[lo:lo + block] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


@dataclass(frozen=True)
class Smoothness:
    """One model's figures (see the module's definitions).

    ``rect``: the region in view coordinates; ``sigma``: the codes' σ per view axis;
    ``threshold``: τ; ``off_manifold`` and ``gap``: ``(n, n)`` bool masks, row 0 at the
    top as in :func:`~latentlab.core.manifold.grid_centres`; ``off_share``: share of
    off-manifold decodes over the region; ``gap_share``: share of cells that are gaps;
    ``off_share_in_gaps``: share of off-manifold decodes among gap cells (NaN if none);
    ``change_mean`` / ``change_max``: change per σ-step.
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

    def figures(self) -> dict[str, float | int | list[float]]:
        """The scalar figures as a JSON-ready dict (no masks)."""
        out = asdict(self)
        del out["off_manifold"], out["gap"]
        out["rect"], out["sigma"] = list(self.rect), list(self.sigma)
        return out


def _encode_all(model: Autoencoding, images: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(model.encode(images[lo:lo + _ENCODE_CHUNK])[0])
                           for lo in range(0, len(images), _ENCODE_CHUNK)])


def measure_smoothness(
    model: Autoencoding,
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
    codes = _encode_all(model, images)
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

    reference = images
    if len(images) > max_reference:
        pick = np.random.default_rng(seed).choice(len(images), max_reference, replace=False)
        reference = images[np.sort(pick)]
    recon = model.decode(_encode_all(model, reference))
    threshold = float(np.percentile(nearest_distances(recon, reference), percentile))

    decodes = decode_grid(model, plane, rect, n, n)  # (n, n, D)
    off = (nearest_distances(decodes.reshape(n * n, -1), reference) > threshold).reshape(n, n)

    cell = 2.0 * span_sigma / n  # cell width in σ units, the same along both axes
    ix = (np.arange(n) + 0.5) * cell - span_sigma
    iy = span_sigma - (np.arange(n) + 0.5) * cell
    centres = np.stack(np.meshgrid(ix, iy), axis=-1).reshape(-1, 2)
    gap = (nearest_distances(centres, (shown - centre) / sigma) > gap_radius).reshape(n, n)

    g = decodes.astype(np.float64)
    steps = np.concatenate([np.linalg.norm(g[:, 1:] - g[:, :-1], axis=-1).ravel(),
                            np.linalg.norm(g[1:, :] - g[:-1, :], axis=-1).ravel()]) / cell
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
    )
