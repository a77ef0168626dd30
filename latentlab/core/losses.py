"""Losses reported per sample, as the reference article reports them.

Inputs are feature-major, ``(features, B)`` (see :mod:`.layers`); pass ``a.T`` for
batch-major arrays. Each returns ``(value, grad)``: ``value`` is a Python float averaged
over the B samples; ``grad`` is d(value)/d(input) with the input's shape, so the ``1/B``
of the average is already in it. Pass ``grad_out`` to reuse a buffer.

A stack of K models (:mod:`.stacked`) passes ``(K, features, B)`` inputs (targets may be
shared, ``(features, B)``); ``value`` is then an array ``(K,)``, one figure per model, and
a ``scale`` may be an array ``(K, 1, 1)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_LOG2 = math.log(2.0)

#: a loss value: a float for one model's ``(n, B)`` input, ``(K,)`` for a stack's
LossValue = Any


_WEIGHTS: dict[tuple[tuple[float, ...], int, np.dtype], np.ndarray] = {}
#: weight vectors kept: the training steps use two or three; evaluations of other sizes
#: (one block per sample count) must not pile up
_MAX_WEIGHTS = 16
#: the longest vector kept (4 MB of float32): a training batch's 784 × 256 logits are
#: 200,704 values; an evaluation of 10,000 such images (7.8 M) builds its own and drops it
_MAX_KEPT_LENGTH = 2**20


def block_weights(weights: tuple[float, ...], block: int, dtype: np.dtype) -> np.ndarray:
    """A ``(len(weights) * block,)`` vector: ``weights[i]`` repeated over block ``i``
    (cached, read-only, up to :data:`_MAX_KEPT_LENGTH`), so one product with it sums
    several terms of a loss at once."""
    key = (weights, block, dtype)
    vector = _WEIGHTS.get(key)
    if vector is None:
        vector = np.repeat(np.asarray(weights, dtype=dtype), block)
        if len(vector) <= _MAX_KEPT_LENGTH:
            if len(_WEIGHTS) >= _MAX_WEIGHTS:
                _WEIGHTS.clear()
            vector.flags.writeable = False
            _WEIGHTS[key] = vector
    return vector


def weighted_total(terms: np.ndarray, vector: np.ndarray) -> LossValue:
    """``terms · vector`` per model over the last two axes of a contiguous ``(*lead, n,
    B)`` buffer: one BLAS product (~2x faster than ``ndarray.sum`` here) — a float for
    one model, ``(K,)`` for a stack's ``(K, …)``."""
    size = terms.shape[-2] * terms.shape[-1]
    if terms.ndim == 2:
        return float(terms.reshape(size) @ vector)
    return terms.reshape(len(terms), size) @ vector


def _weighted_sum(terms: np.ndarray, weights: tuple[float, ...]) -> LossValue:
    """``Σ_i weights[i] · Σ block_i`` over ``terms`` of equal blocks
    (:func:`weighted_total` with :func:`block_weights`)."""
    size = terms.shape[-2] * terms.shape[-1]
    return weighted_total(terms, block_weights(weights, size // len(weights), terms.dtype))


def dots(a: np.ndarray, b: np.ndarray) -> LossValue:
    """Σ a·b over the last two axes; ``b`` may be shared ``(n, B)`` by a stack ``a``."""
    if a.ndim == 2:
        return float(np.vdot(a, b))
    flat = a.reshape(len(a), -1)
    if b.ndim == 2:
        return flat @ b.reshape(-1)
    return np.einsum("kn,kn->k", flat, b.reshape(len(b), -1))


def bce_with_logits(
    logits: np.ndarray, x: np.ndarray, grad_out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> tuple[LossValue, np.ndarray]:
    """Binary cross-entropy of ``p = sigmoid(logits)`` against targets ``x`` in [0, 1].
    ``scratch`` (the logits' shape) is a buffer it may overwrite, to allocate nothing.

    ``value = mean_b sum_d [softplus(l) - x l]`` (= -sum[x log p + (1-x) log(1-p)]),
    computed from the logits so it never takes log(0); ``grad = (p - x) / B``.
    Shapes: logits, x, grad: (D, B).
    """
    pixels, batch = logits.shape[-2:]
    # With t = tanh(l/2): p = (1 + t)/2 and softplus(l) = max(l, 0) + log 2 - log(1 + |t|),
    # so one tanh serves both the loss and its gradient (np.logaddexp is ~30x slower);
    # log2 is ~1.4x faster than log on float32 and the ln 2 goes into the sum.
    t = np.multiply(logits, 0.5, out=grad_out)
    np.tanh(t, out=t)
    terms = np.abs(t, out=scratch)
    terms += 1.0
    np.log2(terms, out=terms)
    log2_sum = _weighted_sum(terms, (1.0,))
    # Σ max(l, 0) - x l = Σ |l| / 2 + Σ l (1/2 - x), and c = (1/2 - x) / B is also the
    # gradient's constant part, (p - x) / B = t / 2B + c: computed once per batch (once
    # for a whole stack sharing its targets), it saves the passes of a separate Σ l,
    # Σ x l and three of the gradient's four.
    np.abs(logits, out=terms)
    abs_sum = _weighted_sum(terms, (1.0,))
    # c takes the targets' shape: a stack's shared (D, B) targets use one model's block
    c = np.subtract(0.5, x, out=terms if x.shape == terms.shape
                    else terms[(0,) * (terms.ndim - x.ndim)])
    c *= 1.0 / batch
    value = (0.5 * abs_sum + batch * dots(logits, c)
             + _LOG2 * (pixels * batch - log2_sum)) / batch
    t *= 0.5 / batch
    t += c
    return value, t


def mse(
    x_hat: np.ndarray, x: np.ndarray, grad_out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> tuple[LossValue, np.ndarray]:
    """Mean squared error per pixel: ``value = mean_{b,d} (x_hat - x)^2``;
    ``grad = 2 (x_hat - x) / (B * D)``.  Shapes: x_hat, x, grad: (D, B). It needs no
    ``scratch`` (taken so every reconstruction loss has one signature).
    """
    grad = np.subtract(x_hat, x, out=grad_out)
    size = grad.shape[-2] * grad.shape[-1]
    value = dots(grad, grad) / size
    grad *= 2.0 / size
    return value, grad


def gaussian_kl(
    stats: np.ndarray, scale: float | np.ndarray = 1.0, grad_out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> tuple[LossValue, np.ndarray]:
    """KL(N(mu, sigma^2) || N(0, I)) summed over latent dims, averaged over samples.

    ``stats: (2K, B)`` is ``[mu; log_var]``;
    ``value = mean_b 0.5 * sum_k (mu^2 + exp(log_var) - log_var - 1)``;
    ``grad = scale * [mu; (exp(log_var) - 1) / 2] / B`` of shape (2K, B). ``scale`` lets
    the caller fold β into the gradient at no cost (the value is unscaled). ``scratch``
    (``(3K, B)``) is a buffer it may overwrite, to allocate nothing.
    """
    two_k, batch = stats.shape[-2:]
    k = two_k // 2
    mu, log_var = stats[..., :k, :], stats[..., k:, :]
    grad = np.empty_like(stats) if grad_out is None else grad_out
    if scratch is None:
        scratch = np.empty((*stats.shape[:-2], 3 * k, batch), dtype=stats.dtype)
    # The terms [mu²; exp(log_var) - 1; log_var] are summed by one product.
    np.multiply(mu, mu, out=scratch[..., :k, :])
    excess = scratch[..., k:two_k, :]
    np.exp(log_var, out=excess)
    excess -= 1.0
    np.copyto(scratch[..., two_k:, :], log_var)
    value = _weighted_sum(scratch, (1.0, 1.0, -1.0)) * (0.5 / batch)
    np.multiply(mu, scale / batch, out=grad[..., :k, :])
    np.multiply(excess, 0.5 * scale / batch, out=grad[..., k:, :])
    return value, grad
