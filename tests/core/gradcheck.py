"""Central-difference gradient checking for the core tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences, perturbing ``x`` in place element by element."""
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):  # works on non-contiguous views too
        saved = x[i]
        x[i] = saved + h
        plus = f()
        x[i] = saved - h
        minus = f()
        x[i] = saved
        grad[i] = (plus - minus) / (2 * h)
    return grad


def assert_gradients_close(analytic: np.ndarray, numeric: np.ndarray, rtol: float = 1e-6,
                           atol: float = 1e-8) -> None:
    """Relative error in the max norm, robust to tiny gradients."""
    scale = max(np.abs(numeric).max(), np.abs(analytic).max(), 1e-12)
    error = np.abs(analytic - numeric).max() / scale
    assert error < rtol or np.allclose(analytic, numeric, rtol=rtol, atol=atol), (
        f"gradient mismatch: relative max error {error:.3e}")
