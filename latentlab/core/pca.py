"""Principal component analysis by SVD: the yardstick for the linear autoencoder."""

from __future__ import annotations

import numpy as np


def pca_reconstruction_mse(x: np.ndarray, n_components: int) -> float:
    """Per-pixel mean squared error of the best rank-``n_components`` affine
    reconstruction of ``x: (N, D)`` (mean-centred PCA, computed in float64)."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[:n_components]
    residual = centred - centred @ basis.T @ basis
    return float(np.mean(residual**2))
