"""Fused training steps: a model's forward and backward written out call by call.

The layer path (:meth:`.models.Model.layer_train_step`) walks a graph of
:class:`~.layers.Layer` objects; on the digits (64 → 32 → 2 → 32 → 64, batch 96) each of
its ~60 NumPy calls works on a few thousand numbers, so a step's cost is mostly the
Python around them: method calls, buffer lookups by shape, views taken afresh. A fused
step does *the same calls on the same operands in the same order* — its gradients and
losses equal the layer path's to the bit (``tests/core/test_fused.py`` checks it, and
``tests/core/test_gradients.py`` checks the fused step against central differences) —
with every buffer and view made once for one batch size. Measured side by side on one
core, a digits VAE epoch costs 0.72–1.03× the layer path's (median 0.78) and an
autoencoder epoch 0.81–0.86× (benchmarks/RESULTS.md).

The two architectures trained most, the VAE and the autoencoder, have one
(``Model.fused_step``), for a single model and for a stack of K (:mod:`.stacked`); the
other kinds use the layer path. Shapes are the training layout of :mod:`.layers`:
feature-major, inputs homogeneous ``x_h: (D + 1, B)``; a stack's buffers and parameter
views have a leading K axis and its batch and noise may be shared (no K axis) or not.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from .layers import copies_dy, weight_gradient
from .losses import LossValue, block_weights, dots, weighted_total

if TYPE_CHECKING:
    from .models import Model

_LOG2 = math.log(2.0)


class FusedStep(ABC):
    """The training step of ``model`` (bound to its current parameter storage) for
    batches of exactly ``batch`` samples: ``step(x_h, beta, eps)`` writes the gradients
    into ``model.store.grads`` and returns the per-sample ``(recon, regulariser)``:
    floats for one model, ``(K,)`` arrays for a stack.

    The encoder and decoder are ``Dense → ReLU → Dense`` each (parameters ``enc1``,
    ``enc2``/``heads``, ``dec1``, ``dec2`` of the store): this class owns that MLP's
    buffers; subclasses add the bottleneck and the reconstruction loss."""

    #: the parameter name of the encoder's second layer
    encoder_head = "enc2"

    def __init__(self, model: Model, batch: int) -> None:
        values, grads = model.store.value_views, model.store.grad_views
        self.batch, self.dtype = batch, model.dtype
        self.models = model.store.stack  # None for one model
        d, h = model.input_dim, model.hidden_dim
        names = ("enc1", self.encoder_head, "dec1", "dec2")
        w_enc1, w_head, w_dec1, w_dec2 = (values[name] for name in names)
        self.g_enc1, self.g_head, self.g_dec1, self.g_dec2 = (grads[name] for name in names)
        # matmul operands as the layer path passes them: W^T forward, W = Wb[:-1] backward
        self.enc1_t, self.head_t, self.dec1_t, self.dec2_t = (
            w.mT for w in (w_enc1, w_head, w_dec1, w_dec2))
        self.head_w, self.dec1_w, self.dec2_w = (w[..., :-1, :] for w in (w_head, w_dec1, w_dec2))
        buffer = self._buffer
        self.y_enc, self.mask_enc = buffer(h), buffer(h)
        self.h_enc = buffer(h, homogeneous=True)
        self.y_dec, self.mask_dec = buffer(h), buffer(h)
        self.h_dec = buffer(h, homogeneous=True)
        self.out, self.dout, self.scratch = buffer(d), buffer(d), buffer(d)
        self.dh_dec, self.dh_enc = buffer(h), buffer(h)
        self.h_enc_rows, self.h_dec_rows = self.h_enc[..., :-1, :], self.h_dec[..., :-1, :]
        self.dz = buffer(model.latent_dim)
        self.ones = block_weights((1.0,), d * batch, self.dtype)
        # a stack's big layers take dy transposed into a buffer, as Dense.backward does
        self.dy_t_enc1, self.dy_t_head, self.dy_t_dec1, self.dy_t_dec2 = (
            self._transposed_buffer(w) for w in (w_enc1, w_head, w_dec1, w_dec2))

    def _buffer(self, rows: int, homogeneous: bool = False) -> np.ndarray:
        """A ``(rows, B)`` buffer (``(K, rows, B)`` for a stack), or one more row of ones."""
        lead = () if self.models is None else (self.models,)
        out = np.empty((*lead, rows + homogeneous, self.batch), dtype=self.dtype)
        if homogeneous:
            out[..., -1, :] = 1.0
        return out

    def _transposed_buffer(self, wb: np.ndarray) -> np.ndarray | None:
        """The ``dy^T`` buffer ``(K, B, n_out)`` of a layer that :func:`~.layers.copies_dy`,
        else ``None``."""
        if not copies_dy(wb):
            return None
        return np.empty((*wb.shape[:-2], self.batch, wb.shape[-1]), dtype=self.dtype)

    @abstractmethod
    def step(self, x_h: np.ndarray, beta: float | np.ndarray,
             eps: np.ndarray | None) -> tuple[LossValue, LossValue]:
        """One batch ``x_h: (D + 1, B)`` with β (a float, or ``(K, 1, 1)`` for a stack)
        and noise ``eps: (K, B)`` (or ``None``) → per-sample ``(recon, regulariser)``;
        gradients written into the store."""

    def encoder_forward(self, x_h: np.ndarray, head_out: np.ndarray) -> None:
        """``x_h: (D + 1, B)`` → the encoder head's output, written into ``head_out``."""
        np.matmul(self.enc1_t, x_h, out=self.y_enc)
        np.greater(self.y_enc, 0, out=self.mask_enc)
        np.multiply(self.y_enc, self.mask_enc, out=self.h_enc_rows)
        np.matmul(self.head_t, self.h_enc, out=head_out)

    def decoder_forward(self, z_h: np.ndarray) -> np.ndarray:
        """Homogeneous latent ``z_h: (K + 1, B)`` → the decoder's output ``(D, B)``."""
        np.matmul(self.dec1_t, z_h, out=self.y_dec)
        np.greater(self.y_dec, 0, out=self.mask_dec)
        np.multiply(self.y_dec, self.mask_dec, out=self.h_dec_rows)
        return np.matmul(self.dec2_t, self.h_dec, out=self.out)

    def decoder_backward(self, dout: np.ndarray, z_h: np.ndarray) -> np.ndarray:
        """``dL/dout: (D, B)`` → ``dL/dz: (K, B)``, writing the decoder's gradients."""
        weight_gradient(self.h_dec, dout, self.g_dec2, self.dy_t_dec2)
        np.matmul(self.dec2_w, dout, out=self.dh_dec)
        self.dh_dec *= self.mask_dec
        weight_gradient(z_h, self.dh_dec, self.g_dec1, self.dy_t_dec1)
        return np.matmul(self.dec1_w, self.dh_dec, out=self.dz)

    def encoder_backward(self, dhead: np.ndarray, x_h: np.ndarray) -> None:
        """``dL/d(head output)`` → the encoder's gradients."""
        weight_gradient(self.h_enc, dhead, self.g_head, self.dy_t_head)
        np.matmul(self.head_w, dhead, out=self.dh_enc)
        self.dh_enc *= self.mask_enc
        weight_gradient(x_h, self.dh_enc, self.g_enc1, self.dy_t_enc1)


class FusedVAEStep(FusedStep):
    """The VAE's step (:class:`~.models.VAE`): the heads give ``[μ; log σ²]``, ``z = μ +
    σ ε``, loss BCE of the logits + β KL — the arithmetic of
    :class:`~.layers.GaussianSample`, :func:`~.losses.gaussian_kl` and
    :func:`~.losses.bce_with_logits`, in their order."""

    encoder_head = "heads"

    def __init__(self, model: Model, batch: int) -> None:
        super().__init__(model, batch)
        k = self.k = model.latent_dim
        buffer = self._buffer
        self.stats = buffer(2 * k)
        self.mu, self.log_var = self.stats[..., :k, :], self.stats[..., k:, :]
        self.sigma_eps = buffer(k)
        self.z_h = buffer(k, homogeneous=True)
        self.z_rows = self.z_h[..., :-1, :]
        self.kl_terms = buffer(3 * k)  # [μ²; exp(log σ²) − 1; log σ²], summed by one product
        self.mu_sq, self.excess, self.log_var_copy = (self.kl_terms[..., :k, :],
                                                      self.kl_terms[..., k:2 * k, :],
                                                      self.kl_terms[..., 2 * k:, :])
        self.kl_weights = block_weights((1.0, 1.0, -1.0), k * batch, model.dtype)
        self.dkl = buffer(2 * k)  # β dKL/d[μ; log σ²]
        self.dkl_mu, self.dkl_log_var = self.dkl[..., :k, :], self.dkl[..., k:, :]
        self.dstats = buffer(2 * k)
        self.dmu, self.dlog_var = self.dstats[..., :k, :], self.dstats[..., k:, :]

    def step(self, x_h: np.ndarray, beta: float | np.ndarray,
             eps: np.ndarray | None) -> tuple[LossValue, LossValue]:
        if eps is None:
            raise ValueError(f"a VAE step needs noise of shape ({self.k}, B)")
        batch = self.batch
        mu, log_var, sigma_eps = self.mu, self.log_var, self.sigma_eps
        self.encoder_forward(x_h, self.stats)
        # z = μ + exp(log σ² / 2) ε
        np.multiply(log_var, 0.5, out=sigma_eps)
        np.exp(sigma_eps, out=sigma_eps)
        sigma_eps *= eps
        np.add(mu, sigma_eps, out=self.z_rows)
        # KL value and β dKL/d[μ; log σ²], added to the backward pass's dL/d[μ; log σ²]
        np.multiply(mu, mu, out=self.mu_sq)
        np.exp(log_var, out=self.excess)
        self.excess -= 1.0
        np.copyto(self.log_var_copy, log_var)
        kl = weighted_total(self.kl_terms, self.kl_weights) * (0.5 / batch)
        np.multiply(mu, beta / batch, out=self.dkl_mu)
        np.multiply(self.excess, 0.5 * beta / batch, out=self.dkl_log_var)
        logits = self.decoder_forward(self.z_h)
        recon = self._bce(logits, x_h[..., :-1, :])
        dz = self.decoder_backward(self.dout, self.z_h)
        # dL/d[μ; log σ²] = [dz; dz σ ε / 2] + β dKL
        dstats, dlog_var = self.dstats, self.dlog_var
        np.copyto(self.dmu, dz)
        np.multiply(dz, sigma_eps, out=dlog_var)
        dlog_var *= 0.5
        dstats += self.dkl
        self.encoder_backward(dstats, x_h)
        return recon, kl

    def _bce(self, logits: np.ndarray, x: np.ndarray) -> LossValue:
        """:func:`~.losses.bce_with_logits` into ``self.dout``; returns the value."""
        pixels, batch = logits.shape[-2:]
        t, terms = self.dout, self.scratch
        np.multiply(logits, 0.5, out=t)
        np.tanh(t, out=t)
        np.abs(t, out=terms)
        terms += 1.0
        np.log2(terms, out=terms)
        log2_sum = weighted_total(terms, self.ones)
        np.abs(logits, out=terms)
        abs_sum = weighted_total(terms, self.ones)
        # c takes the targets' shape: a stack's shared (D, B) targets use one model's block
        c = np.subtract(0.5, x, out=terms if x.ndim == terms.ndim else terms[0])
        c *= 1.0 / batch
        value = (0.5 * abs_sum + batch * dots(logits, c)
                 + _LOG2 * (pixels * batch - log2_sum)) / batch
        t *= 0.5 / batch
        t += c
        return value


class FusedAutoencoderStep(FusedStep):
    """The autoencoder's step (:class:`~.models.Autoencoder`): ``z`` is the encoder's
    output, the decoder ends in a sigmoid, the loss is the per-pixel MSE — the
    arithmetic of :class:`~.layers.Sigmoid` and :func:`~.losses.mse`, in their order."""

    def __init__(self, model: Model, batch: int) -> None:
        super().__init__(model, batch)
        self.z_h = self._buffer(model.latent_dim, homogeneous=True)
        self.z_rows = self.z_h[..., :-1, :]
        self.x_hat = self._buffer(model.input_dim)

    def step(self, x_h: np.ndarray, beta: float | np.ndarray,
             eps: np.ndarray | None) -> tuple[LossValue, LossValue]:
        self.encoder_forward(x_h, self.z_rows)  # z = h: the head writes the latent
        logits = self.decoder_forward(self.z_h)
        x_hat, dout, dlogits = self.x_hat, self.dout, self.scratch
        # sigmoid as 0.5 tanh(l / 2) + 0.5 (layers.sigmoid)
        np.multiply(logits, 0.5, out=x_hat)
        np.tanh(x_hat, out=x_hat)
        x_hat *= 0.5
        x_hat += 0.5
        np.subtract(x_hat, x_h[..., :-1, :], out=dout)
        size = dout.shape[-2] * dout.shape[-1]
        recon = dots(dout, dout) / size
        dout *= 2.0 / size
        np.subtract(1.0, x_hat, out=dlogits)
        dlogits *= x_hat
        dlogits *= dout
        dz = self.decoder_backward(dlogits, self.z_h)
        self.encoder_backward(dz, x_h)
        return recon, 0.0  # the layer path's: no regulariser, for one model or a stack
