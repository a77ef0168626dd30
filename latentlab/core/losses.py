"""Losses reported per sample, as the reference article reports them.

Inputs are feature-major, ``(features, B)`` (see :mod:`.layers`); pass ``a.T`` for
batch-major arrays. Each returns ``(value, grad)``: ``value`` is a Python float averaged
over the B samples; ``grad`` is d(value)/d(input) with the input's shape, so the ``1/B``
of the average is already in it. Pass ``grad_out`` to reuse a buffer.
"""

from __future__ import annotations

import math

import numpy as np

_LOG2 = math.log(2.0)


def bce_with_logits(
    logits: np.ndarray, x: np.ndarray, grad_out: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of ``p = sigmoid(logits)`` against targets ``x`` in [0, 1].

    ``value = mean_b sum_d [softplus(l) - x l]`` (= -sum[x log p + (1-x) log(1-p)]),
    computed from the logits so it never takes log(0); ``grad = (p - x) / B``.
    Shapes: logits, x, grad: (D, B).
    """
    batch = logits.shape[1]
    # With t = tanh(l/2): p = (1 + t)/2 and softplus(l) = max(l, 0) + log 2 - log(1 + |t|),
    # so one tanh serves both the loss and its gradient (np.logaddexp is ~30x slower).
    t = np.multiply(logits, 0.5, out=grad_out)
    np.tanh(t, out=t)
    log_term = np.abs(t)
    log_term += 1.0
    np.log(log_term, out=log_term)
    softplus_sum = float(np.maximum(logits, 0.0).sum()) + logits.size * _LOG2 - float(
        log_term.sum())
    value = (softplus_sum - float(np.vdot(x, logits))) / batch
    t *= 0.5
    t += 0.5
    t -= x
    t *= 1.0 / batch
    return value, t


def mse(
    x_hat: np.ndarray, x: np.ndarray, grad_out: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean squared error per pixel: ``value = mean_{b,d} (x_hat - x)^2``;
    ``grad = 2 (x_hat - x) / (B * D)``.  Shapes: x_hat, x, grad: (D, B).
    """
    grad = np.subtract(x_hat, x, out=grad_out)
    value = float(np.vdot(grad, grad)) / grad.size
    grad *= 2.0 / grad.size
    return value, grad


def gaussian_kl(
    stats: np.ndarray, scale: float = 1.0, grad_out: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """KL(N(mu, sigma^2) || N(0, I)) summed over latent dims, averaged over samples.

    ``stats: (2K, B)`` is ``[mu; log_var]``;
    ``value = mean_b 0.5 * sum_k (mu^2 + exp(log_var) - log_var - 1)``;
    ``grad = scale * [mu; (exp(log_var) - 1) / 2] / B`` of shape (2K, B). ``scale`` lets
    the caller fold β into the gradient at no cost (the value is unscaled).
    """
    two_k, batch = stats.shape
    k = two_k // 2
    mu, log_var = stats[:k], stats[k:]
    grad = np.empty_like(stats) if grad_out is None else grad_out
    grad_mu, grad_log_var = grad[:k], grad[k:]
    np.multiply(mu, mu, out=grad_mu)
    np.exp(log_var, out=grad_log_var)
    value = 0.5 * (float(grad.sum()) - float(log_var.sum()) - batch * k) / batch
    np.multiply(mu, scale / batch, out=grad_mu)
    grad_log_var -= 1.0
    grad_log_var *= 0.5 * scale / batch
    return value, grad
