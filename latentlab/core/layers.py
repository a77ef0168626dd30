"""Layers with explicit ``forward``/``backward`` passes.

Every layer works on a minibatch of B rows. ``forward`` caches what ``backward`` needs
and writes into buffers the layer owns and reuses from batch to batch, so the training
hot path allocates almost nothing; ``apply`` is the pure inference path (fresh arrays,
plain inputs), safe on a copied model in another thread.

For tiny matrices the number and the kind of NumPy calls, not the arithmetic, is what
costs time, so the training path uses two conventions:

* **Feature-major**: a batch of B samples with n features is an ``(n, B)`` array. Every
  slice the hot path takes (μ and log σ² of the fused heads, the units of a homogeneous
  buffer) is then a contiguous block; a strided ``(B, 2)`` view costs a NumPy ufunc ~5x
  more than a contiguous one. BLAS reads transposed operands for free.
* **Homogeneous**: an activation feeding a :class:`Dense` layer carries a last row of
  ones, ``x_h = [x; 1]`` of shape ``(n + 1, B)``, and the bias is the last row of the
  layer's weight matrix, so one matrix product gives ``x @ W + b`` forward and both
  ``dL/dW`` and ``dL/db`` backward.

``apply`` uses the ordinary batch-major ``(B, n)`` layout.

**Stacks**: every training-path array may carry a leading axis of K models of one
architecture (:mod:`.stacked`): parameters ``(K, n_in + 1, n_out)``, activations
``(K, n, B)``; an input without that axis, ``(n, B)``, is shared by all K models
(broadcast, so a shared batch is never copied K times). The same ``forward`` and
``backward`` code serves one model and a stack.
"""

from __future__ import annotations

import numpy as np

from .losses import gaussian_kl
from .params import ParameterStore


class Workspace:
    """Reusable scratch buffers keyed by purpose; re-allocated only when the shape changes
    (e.g. for the smaller last batch of an epoch)."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def _buffer(self, key: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype=dtype)
            self._buffers[key] = buf
        return buf

    def _homogeneous_buffer(self, key: str, features: int, batch: int,
                            dtype: np.dtype, stack: tuple[int, ...] = ()) -> np.ndarray:
        """A feature-major ``(*stack, features + 1, batch)`` buffer whose last row is
        ones."""
        shape = (*stack, features + 1, batch)
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype=dtype)
            buf[..., -1, :] = 1.0
            self._buffers[key] = buf
        return buf


def homogeneous_batch(x: np.ndarray) -> np.ndarray:
    """Batch-major samples ``(B, n)`` → the training layout ``[x.T; 1]: (n + 1, B)``."""
    out = np.empty((x.shape[1] + 1, x.shape[0]), dtype=x.dtype)
    out[:-1] = x.T
    out[-1] = 1.0
    return out


class Layer(Workspace):
    """Base class of every layer: ``apply`` (pure), ``forward`` and ``backward``."""

    def apply(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        raise NotImplementedError


#: weights per model from which a stacked Dense layer's backward copies ``dy`` transposed
#: before the weight-gradient product: for 64→32 or 32→64 (~2,100 weights) the product on
#: the transposed view was 1.2-1.8x slower than copy + product in three of four
#: measurements at K = 8; for 32→4 or 2→32 (~130 weights) the copy made it 2-4x slower
_COPY_DY_FROM = 1024


def copies_dy(wb: np.ndarray) -> bool:
    """Whether a Dense layer with parameters ``wb`` takes its weight gradient through a
    copy of ``dy^T``: a stacked layer ``(K, n_in + 1, n_out)`` of at least
    :data:`_COPY_DY_FROM` weights per model, where the product on the view is slower."""
    return wb.ndim == 3 and wb.shape[-2] * wb.shape[-1] >= _COPY_DY_FROM


def weight_gradient(x_h: np.ndarray, dy: np.ndarray, out: np.ndarray,
                    dy_t: np.ndarray | None = None) -> None:
    """``dL/dWb = x_h @ dy^T`` into ``out``: on the transposed view (BLAS reads it for
    free, mostly), or through the buffer ``dy_t`` when given (see :func:`copies_dy`)."""
    if dy_t is None:
        np.matmul(x_h, dy.mT, out=out)
    else:
        np.copyto(dy_t, dy.mT)
        np.matmul(x_h, dy_t, out=out)


class Dense(Layer):
    """Affine map ``y = x @ W + b``; ``W: (n_in, n_out)`` and ``b: (n_out,)`` are views
    of one parameter ``Wb: (n_in + 1, n_out)`` whose last row is ``b``.

    ``forward(x_h)``: homogeneous feature-major input ``(n_in + 1, B)`` → ``(n_out, B)``.
    ``backward(dy: (n_out, B))`` writes ``dL/dWb = x_h @ dy.T`` (its last row is ``dL/db``)
    into the store's gradient buffer and returns ``dL/dx = W @ dy`` of shape ``(n_in, B)``.
    """

    def __init__(self, store: ParameterStore, name: str, n_in: int, n_out: int) -> None:
        super().__init__()
        self.name, self.n_in, self.n_out = name, n_in, n_out
        store.declare(name, (n_in + 1, n_out))
        self._x_h: np.ndarray | None = None

    def bind(self, store: ParameterStore) -> None:
        """Take views of the parameters and gradients once the store is allocated."""
        self.Wb = store.value_views[self.name]
        self.dWb = store.grad_views[self.name]
        self.W, self.b = self.Wb[..., :-1, :], self.Wb[..., -1, :]

    def init_he(self, rng: np.random.Generator, gain: float = 2.0) -> None:
        """He initialisation ``W ~ N(0, gain / n_in)``, ``b = 0`` (in place)."""
        self.W[...] = rng.standard_normal(self.W.shape) * np.sqrt(gain / self.n_in)
        self.b[...] = 0.0

    def apply(self, x: np.ndarray) -> np.ndarray:
        return x @ self.W + self.b

    def forward(self, x_h: np.ndarray) -> np.ndarray:
        self._x_h = x_h
        y = self._buffer("y", (*self.Wb.shape[:-2], self.n_out, x_h.shape[-1]), self.Wb.dtype)
        np.matmul(self.Wb.mT, x_h, out=y)
        return y

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        assert self._x_h is not None, "backward() before forward()"
        dy_t = (self._buffer("dy_t", (*dy.shape[:-2], dy.shape[-1], dy.shape[-2]), dy.dtype)
                if copies_dy(self.Wb) else None)
        weight_gradient(self._x_h, dy, self.dWb, dy_t)
        if not need_dx:
            return dy
        dx = self._buffer("dx", (*dy.shape[:-2], self.n_in, dy.shape[-1]), dy.dtype)
        np.matmul(self.W, dy, out=dx)
        return dx


class ReLU(Layer):
    """``h = max(y, 0)`` for ``y: (n, B)``, returned homogeneous ``(n + 1, B)`` for the next
    Dense layer; ``backward(dh: (n, B))`` returns ``dh * [h > 0]`` (in place on ``dh``).

    Both passes multiply by the mask ``[y > 0]`` kept as floats: on float32 that is
    cheaper than ``np.maximum`` forward and a bool mask backward (float × bool casts)."""

    def __init__(self) -> None:
        super().__init__()
        self._mask: np.ndarray | None = None

    def apply(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        h_h = self._homogeneous_buffer("h", x.shape[-2], x.shape[-1], x.dtype, x.shape[:-2])
        mask = self._mask = self._buffer("mask", x.shape, x.dtype)
        np.greater(x, 0, out=mask)
        np.multiply(x, mask, out=h_h[..., :-1, :])
        return h_h

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        assert self._mask is not None, "backward() before forward()"
        dy *= self._mask
        return dy


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function as ``0.5 * tanh(x / 2) + 0.5``: no overflow for any finite x."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``; ``dL/dx = dL/dy * y * (1 - y)``."""

    def __init__(self) -> None:
        super().__init__()
        self._y: np.ndarray | None = None

    def apply(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = sigmoid(x, out=self._buffer("y", x.shape, x.dtype))
        return self._y

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        y = self._y
        assert y is not None, "backward() before forward()"
        dx = self._buffer("dx", dy.shape, dy.dtype)
        np.subtract(1.0, y, out=dx)
        dx *= y
        dx *= dy
        return dx


class Bottleneck(Layer):
    """The layer between a model's encoder and decoder, which owns the latent.

    ``forward_train(h: (n, B), noise, beta)`` maps the encoder output to the decoder's
    homogeneous input ``z_h: (K + 1, B)``; ``noise`` is ``(noise_rows, B)`` standard normal
    noise drawn by the trainer (``None`` when ``noise_rows == 0``), so a step is
    deterministic given it. ``backward(dz: (K, B))`` returns ``dL/dh: (n, B)``, including
    the gradient of the layer's own regulariser weighted by ``beta`` when the kind
    weights it (KL) or by its own weight (a quantiser's commitment); :attr:`regulariser`
    is that term's per-sample value from the last ``forward_train``, unweighted by β
    (0 when the layer adds none).
    """

    #: rows of standard normal noise per sample that ``forward_train`` takes
    noise_rows = 0
    regulariser = 0.0

    def forward_train(self, h: np.ndarray, noise: np.ndarray | None,
                      beta: float | np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Deterministic(Bottleneck):
    """An autoencoder's bottleneck: ``z = h``, returned homogeneous ``(K + 1, B)``; no
    noise, no regulariser; ``backward(dz)`` returns ``dz``."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim

    def apply(self, x: np.ndarray) -> np.ndarray:
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        z_h = self._homogeneous_buffer("z", self.latent_dim, x.shape[-1], x.dtype, x.shape[:-2])
        z_h[..., :-1, :] = x
        return z_h

    def forward_train(self, h: np.ndarray, noise: np.ndarray | None,
                      beta: float | np.ndarray) -> np.ndarray:
        return self.forward(h)

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dy


class GaussianSample(Bottleneck):
    """Reparameterisation ``z = mu + exp(log_var / 2) * eps`` in the feature-major layout,
    with the KL to the prior N(0, I) as its regulariser.

    ``forward_train(stats, eps, beta)``: ``stats: (2K, B)`` holds ``[mu; log_var]`` (the
    fused encoder heads); ``eps: (K, B)`` is standard normal noise. Returns homogeneous
    ``z_h: (K + 1, B)``. ``backward(dz: (K, B))`` returns ``dL/dstats: (2K, B)`` with
    ``dL/dmu = dz + β dKL/dmu`` and ``dL/dlog_var = dz * eps * sigma / 2 + β dKL/dlog_var``
    (:func:`.losses.gaussian_kl`). :attr:`regulariser` is the batch's per-sample KL.
    """

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.noise_rows = latent_dim
        self._sigma_eps: np.ndarray | None = None
        self._dkl: np.ndarray | None = None  # β dKL/dstats of the last forward_train

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Batch-major ``stats: (N, 2K)`` → the mean ``mu: (N, K)`` (inference is at z = μ)."""
        return x[:, :self.latent_dim]

    def forward_train(self, stats: np.ndarray, noise: np.ndarray | None,
                      beta: float | np.ndarray) -> np.ndarray:
        if noise is None:
            raise ValueError(f"a Gaussian sample needs noise of shape ({self.latent_dim}, B)")
        z_h = self.forward_noise(stats, noise)
        lead, batch = stats.shape[:-2], stats.shape[-1]
        self.regulariser, self._dkl = gaussian_kl(
            stats, scale=beta, grad_out=self._buffer("dkl", stats.shape, stats.dtype),
            scratch=self._buffer("kl_terms", (*lead, 3 * self.latent_dim, batch), stats.dtype))
        return z_h

    def forward_noise(self, stats: np.ndarray, eps: np.ndarray) -> np.ndarray:
        """``z_h`` for ``stats: (2K, B)`` and noise ``eps: (K, B)``, without the KL."""
        self._dkl = None
        k = self.latent_dim
        sigma_eps = self._buffer("sigma_eps", (*stats.shape[:-2], k, stats.shape[-1]),
                                 stats.dtype)
        np.multiply(stats[..., k:, :], 0.5, out=sigma_eps)
        np.exp(sigma_eps, out=sigma_eps)
        sigma_eps *= eps
        self._sigma_eps = sigma_eps
        z_h = self._homogeneous_buffer("z", k, stats.shape[-1], stats.dtype, stats.shape[:-2])
        np.add(stats[..., :k, :], sigma_eps, out=z_h[..., :k, :])
        return z_h

    def backward(self, dz: np.ndarray, need_dx: bool = True) -> np.ndarray:
        assert self._sigma_eps is not None, "backward() before forward_noise()"
        k = self.latent_dim
        dstats = self._buffer("dstats", (*dz.shape[:-2], 2 * k, dz.shape[-1]), dz.dtype)
        dstats[..., :k, :] = dz
        dlog_var = dstats[..., k:, :]
        np.multiply(dz, self._sigma_eps, out=dlog_var)
        dlog_var *= 0.5
        if self._dkl is not None:
            dstats += self._dkl
        return dstats
