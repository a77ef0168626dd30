"""Whole-data-set work in bounded memory: chunked encoding and evaluation, a fixed
evaluation sample, and an exact nearest-image search.

A model's ``encode`` or ``evaluate`` on 60,000 × 784 images at once allocates several
(N, 784) float32 temporaries (~190 MB each: logits, sigmoid, squared error). These helpers
walk the data in chunks of ``chunk`` rows instead, so the temporaries are a few MB
whatever N is, and the encoding can be written into arrays the caller keeps (and reuses
from frame to frame). Everything here is pure NumPy and safe to call from a worker
thread on a model *copy* (``Model.encode``/``evaluate`` are pure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .models import LossReport, Model

__all__ = [
    "CHUNK_ROWS",
    "NearestImageIndex",
    "encode_in_chunks",
    "encode_into",
    "evaluate_in_chunks",
    "pca_residual_mse",
    "sample_rows",
]

#: Rows per chunk: 4,096 × 784 float32 is 12.8 MB per temporary, and large enough that
#: the per-call overhead of a chunk (~50 µs) is noise beside its matrix products.
CHUNK_ROWS = 4096


def _chunks(n: int, chunk: int) -> range:
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    return range(0, n, chunk)


def _row_chunks(images: np.ndarray, rows: np.ndarray | None, chunk: int) -> Iterator[np.ndarray]:
    """``images`` (or its ``rows``) ``chunk`` rows at a time; only a chunk is ever copied."""
    if rows is None:
        for lo in _chunks(len(images), chunk):
            yield images[lo:lo + chunk]
    else:
        for lo in _chunks(len(rows), chunk):
            yield images[rows[lo:lo + chunk]]


def encode_into(model: Model, images: np.ndarray, mu_out: np.ndarray,
                log_var_out: np.ndarray | None = None, *, chunk: int = CHUNK_ROWS,
                should_stop: Callable[[], bool] | None = None) -> bool:
    """Encode ``images: (N, D)`` chunk by chunk into ``mu_out: (N, K)`` (and, for a VAE,
    ``log_var_out: (N, K)`` when given; a deterministic model leaves it untouched).

    ``should_stop()`` is polled between chunks; returns False when it stopped the work
    (the outputs are then partly written), True when every row was encoded.
    """
    n, k = len(images), model.latent_dim
    if mu_out.shape != (n, k) or (log_var_out is not None and log_var_out.shape != (n, k)):
        raise ValueError(f"outputs must have shape ({n}, {k})")
    for lo in _chunks(n, chunk):
        if should_stop is not None and should_stop():
            return False
        mu, log_var = model.encode(images[lo:lo + chunk])
        mu_out[lo:lo + len(mu)] = mu
        if log_var_out is not None and log_var is not None:
            log_var_out[lo:lo + len(log_var)] = log_var
    return True


def encode_in_chunks(model: Model, images: np.ndarray, *, rows: np.ndarray | None = None,
                     chunk: int = CHUNK_ROWS, dtype: type[np.floating] = np.float32
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """``images: (N, D)`` (or only its ``rows: (M,)``) → ``(mu, log_var)`` of shape
    ``(N or M, K)`` like ``model.encode``, in bounded temporaries (``log_var`` only for a
    variational model, else None)."""
    n, k = len(images) if rows is None else len(rows), model.latent_dim
    mu = np.empty((n, k), dtype=dtype)
    log_var = np.empty((n, k), dtype=dtype) if model.is_variational else None
    if rows is None:
        encode_into(model, images, mu, log_var, chunk=chunk)
        return mu, log_var
    for lo, part in zip(_chunks(n, chunk), _row_chunks(images, rows, chunk), strict=True):
        m, lv = model.encode(part)
        mu[lo:lo + len(m)] = m
        if log_var is not None and lv is not None:
            log_var[lo:lo + len(lv)] = lv
    return mu, log_var


def evaluate_in_chunks(model: Model, images: np.ndarray, beta: float = 1.0, *,
                       rows: np.ndarray | None = None, chunk: int = CHUNK_ROWS) -> LossReport:
    """``model.evaluate(images, beta)`` (z = μ) computed chunk by chunk, on every image or
    only on ``rows``.

    Every figure of a :class:`LossReport` is a per-sample (or per-pixel) mean, so the
    whole-set figure is the row-weighted mean of the chunks' figures.
    """
    n = len(images) if rows is None else len(rows)
    if n == 0:
        raise ValueError("cannot evaluate on an empty set of images")
    recon = kl = err = 0.0
    for part in _row_chunks(images, rows, chunk):
        report = model.evaluate(part, beta=beta)
        w = len(part) / n
        recon += report.recon * w
        kl += report.kl * w
        err += report.mse * w
    return LossReport(recon=recon, kl=kl, total=recon + beta * kl, mse=err)


def pca_residual_mse(images: np.ndarray, *, rows: np.ndarray | None = None,
                     chunk: int = CHUNK_ROWS) -> np.ndarray:
    """Per-pixel MSE of the best rank-k affine (PCA) reconstruction of ``images: (N, D)``
    (or of its ``rows``) for every k: ``(D + 1,)`` float64, entry k for k components
    (entry 0: the variance around the mean image; entry D: 0).

    The same figure as :func:`latentlab.core.pca.pca_reconstruction_mse` for each k, from
    one pass: the residual of k components is the sum of the covariance's eigenvalues
    after the k largest, divided by D. The D×D covariance is accumulated chunk by chunk
    in float64 (it agrees with the SVD to ~1e-15), so no (N, D) float64 copy is made:
    10,000 × 784 images take ~0.5–1.4 s and ~30 MB, 60,000 about six times that.
    """
    n, d = len(images) if rows is None else len(rows), images.shape[1]
    if n == 0:
        raise ValueError("cannot compute PCA of an empty set of images")
    mean = np.zeros(d)
    for part in _row_chunks(images, rows, chunk):
        mean += part.sum(axis=0, dtype=np.float64)
    mean /= n
    scatter = np.zeros((d, d))
    for part in _row_chunks(images, rows, chunk):
        centred = part.astype(np.float64) - mean
        scatter += centred.T @ centred
    eigenvalues = np.clip(np.linalg.eigvalsh(scatter / n)[::-1], 0.0, None)  # descending
    tail = np.concatenate([np.cumsum(eigenvalues[::-1])[::-1], [0.0]])  # tail[k] = Σ_{j≥k}
    return tail / d


def sample_rows(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices of a fixed random sample of ``min(size, n)`` of ``n`` rows,
    ``(m,)`` int64; all rows (``arange(n)``) when ``size >= n``. The same arguments give
    the same sample, so figures computed on it move only when the model does."""
    if n < 0 or size < 1:
        raise ValueError(f"need n >= 0 and size >= 1, got n={n}, size={size}")
    if size >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)


class NearestImageIndex:
    """Exact nearest neighbour in pixel space among ``images: (N, D)``.

    ``‖x - y‖² = ‖x‖² - 2 x·y + ‖y‖²``: the squared norms ``‖x‖²`` are computed once, and a
    query is one matrix product per chunk of rows (no (N, D) temporary), so a query over
    60,000 × 784 float32 images costs one pass over the images (~190 MB read). The images
    are referenced, not copied.
    """

    def __init__(self, images: np.ndarray, *, chunk: int = 16_384) -> None:
        images = np.asarray(images)
        if images.ndim != 2 or len(images) == 0:
            raise ValueError(f"images must be a non-empty (N, D) array, got {images.shape}")
        self.images = images
        self._chunk = chunk
        self.sq_norms = np.empty(len(images), dtype=np.float64)
        for lo in _chunks(len(images), chunk):
            part = images[lo:lo + chunk].astype(np.float64, copy=False)
            self.sq_norms[lo:lo + len(part)] = np.einsum("ij,ij->i", part, part)

    def __len__(self) -> int:
        return len(self.images)

    def query(self, image: np.ndarray) -> tuple[int, float]:
        """``image: (D,)`` → (index of the nearest image, Euclidean distance to it)."""
        index, distance = self.query_many(np.asarray(image).reshape(1, -1))
        return int(index[0]), float(distance[0])

    def query_many(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``queries: (Q, D)`` → ``(indices: (Q,) int64, distances: (Q,) float64)``."""
        q = np.asarray(queries, dtype=self.images.dtype)
        if q.ndim != 2 or q.shape[1] != self.images.shape[1]:
            raise ValueError(f"queries must have shape (Q, {self.images.shape[1]}), "
                             f"got {q.shape}")
        best = np.full(len(q), np.inf)
        best_index = np.zeros(len(q), dtype=np.int64)
        for lo in _chunks(len(self.images), self._chunk):
            part = self.images[lo:lo + self._chunk]
            # ‖x‖² - 2 x·y per (row, query); ‖y‖² is the same for every row of a query.
            d2 = self.sq_norms[lo:lo + len(part), None] - 2.0 * (part @ q.T)
            i = np.argmin(d2, axis=0)
            found = d2[i, np.arange(len(q))]
            better = found < best
            best[better] = found[better]
            best_index[better] = lo + i[better]
        # The expanded form loses digits to cancellation; the winner's distance is
        # recomputed directly.
        diff = self.images[best_index].astype(np.float64) - q
        return best_index, np.sqrt(np.einsum("ij,ij->i", diff, diff))
