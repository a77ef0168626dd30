"""Autoencoder, VAE and linear autoencoder built from :mod:`layers`.

All models map images ``x: (N, D)`` in [0, 1] to latents ``(N, K)`` and back. Their
parameters live in one :class:`ParameterStore` (``model.weights`` is the flat array).
``train_step`` runs forward and backward on one minibatch and leaves the gradients in
``model.store.grads``; every other method is pure and allocates its own arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import limits
from .layers import Dense, GaussianSample, Layer, ReLU, Sigmoid, Workspace, sigmoid
from .losses import bce_with_logits, gaussian_kl, mse
from .params import ParameterStore

MODEL_KINDS = ("ae", "vae", "linear", "vqvae")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture: ``input_dim → hidden_dim → latent_dim → hidden_dim → input_dim``.

    ``codes``, ``commitment`` and ``ema_decay`` are the VQ-VAE's codebook size K, its
    commitment weight β_c and its codebook's EMA decay (``None``: the codebook learns from
    its loss); other kinds ignore them."""

    kind: str = "vae"
    input_dim: int = 64
    hidden_dim: int = 32
    latent_dim: int = 2
    dtype: str = "float32"
    codes: int = 64
    commitment: float = 1.0
    ema_decay: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"model kind must be one of {MODEL_KINDS}, not {self.kind!r}")
        for field in ("input_dim", "hidden_dim", "latent_dim"):
            if int(getattr(self, field)) < 1:
                raise ValueError(f"{field} must be a positive integer")
        if self.dtype not in ("float32", "float64"):
            raise ValueError("dtype must be 'float32' or 'float64'")
        vq_settings = [("codes", limits.CODES), ("commitment", limits.COMMITMENT)]
        if self.ema_decay is not None:
            vq_settings.append(("ema_decay", limits.EMA_DECAY))
        for name, allowed in vq_settings:
            problem = allowed.problem(getattr(self, name), name)
            if problem:
                raise ValueError(problem)


@dataclass(frozen=True)
class LossReport:
    """Per-sample losses. ``recon``: BCE summed over pixels (VAE) or per-pixel MSE (AE,
    linear); ``kl``: summed over latent dims (0 for deterministic models);
    ``total = recon + beta * kl``; ``mse``: per-pixel squared error of the reconstruction."""

    recon: float
    kl: float
    total: float
    mse: float


def _forward(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    for layer in layers:
        x = layer.forward(x)
    return x


def _backward(layers: list[Layer], dy: np.ndarray, need_dx: bool) -> np.ndarray:
    last = len(layers) - 1
    for i in range(last, -1, -1):
        dy = layers[i].backward(dy, need_dx=need_dx or i > 0)
    return dy


def _apply(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    for layer in layers:
        x = layer.apply(x)
    return x


class Model(Workspace):
    """Shared behaviour; subclasses define ``encoder``/``decoder`` layer lists."""

    is_variational = False
    #: what the second loss term (``kl`` of reports and training steps) is for this kind
    regulariser_name = "KL"
    #: whether β (and its warm-up) weights that term; a VQ-VAE weights its own
    regulariser_uses_beta = True

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.store = ParameterStore(np.dtype(config.dtype))
        self.encoder: list[Layer] = []
        self.decoder: list[Layer] = []
        self._build()
        self.store.finalize()
        for layer in self.encoder + self.decoder:
            if isinstance(layer, Dense):
                layer.bind(self.store)

    def _build(self) -> None:
        raise NotImplementedError

    # -- identity ---------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def input_dim(self) -> int:
        return self.config.input_dim

    @property
    def hidden_dim(self) -> int:
        return self.config.hidden_dim

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def dtype(self) -> np.dtype:
        return self.store.dtype

    # -- parameters -------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Every parameter in one flat array, shape ``(n_params,)``; updated in place."""
        return self.store.values

    def load_weights(self, flat: np.ndarray) -> None:
        flat = np.asarray(flat)
        if flat.shape != self.weights.shape:
            raise ValueError(
                f"expected {self.weights.size} weights for this architecture, got {flat.size}"
            )
        self.weights[...] = flat

    def state_metadata(self) -> dict:
        """State beside the weights that a model file keeps (JSON values); none here."""
        return {}

    def restore_state_metadata(self, state: dict) -> None:
        """Take back what :meth:`state_metadata` gave; ``ValueError`` if it is not that."""
        if state:
            raise ValueError(f"a {self.kind} model keeps no state, got {sorted(state)}")

    def init_weights(self, rng: np.random.Generator) -> None:
        """He-initialise every dense layer (in place), as the reference article does."""
        for layer in self.encoder + self.decoder:
            if isinstance(layer, Dense):
                layer.init_he(rng)

    def copy(self) -> Model:
        """An independent model with the same architecture and a copy of the weights."""
        clone = type(self)(self.config)
        clone.load_weights(self.weights)
        return clone

    def __deepcopy__(self, memo: dict) -> Model:
        return self.copy()

    # -- inference (pure) -------------------------------------------------------------
    def _check_input(self, x: np.ndarray, width: int, what: str) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != width:
            raise ValueError(f"{what} must have shape (N, {width}), got {x.shape}")
        return x

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``x: (N, D)`` → ``(mu: (N, K), log_var: (N, K) or None)``."""
        h = _apply(self.encoder, self._check_input(x, self.input_dim, "x"))
        return h, None

    def decode(self, z: np.ndarray) -> np.ndarray:
        """``z: (N, K)`` → images ``(N, D)`` in [0, 1]."""
        return _apply(self.decoder, self._check_input(z, self.latent_dim, "z"))

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """Decode the mean encoding: ``(N, D)`` → ``(N, D)``."""
        return self.decode(self.encode(x)[0])

    def sample(
        self, n: int, temperature: float = 1.0, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``z ~ N(0, T^2 I)`` of shape ``(n, K)`` and decode it → ``(z, images)``."""
        rng = np.random.default_rng() if rng is None else rng
        z = (rng.standard_normal((n, self.latent_dim)) * temperature).astype(self.dtype)
        return z, self.decode(z)

    def evaluate(
        self,
        x: np.ndarray,
        beta: float = 1.0,
        sampled: bool = False,
        rng: np.random.Generator | None = None,
    ) -> LossReport:
        """Per-sample losses on ``x: (N, D)``. ``sampled`` decodes z ~ q(z|x) (VAE only)."""
        x = self._check_input(x, self.input_dim, "x")
        mu, _ = self.encode(x)
        x_hat = self.decode(mu)
        err = float(np.mean((x_hat - x) ** 2, dtype=np.float64))
        return LossReport(recon=err, kl=0.0, total=err, mse=err)

    # -- training ---------------------------------------------------------------------
    def after_step(self) -> None:
        """Called by the trainer after each optimiser update (state outside the
        gradient, such as a VQ-VAE's codebook bookkeeping); nothing by default."""

    def train_step(self, x_h: np.ndarray, beta: float,
                   eps: np.ndarray | None) -> tuple[float, float]:
        """Forward + backward on one batch in the training layout of :mod:`.layers`,
        ``x_h = [x.T; 1]: (D + 1, B)``, with β and, for a VAE, noise ``eps: (K, B)``.
        Gradients land in ``store.grads``. Returns the batch's per-sample ``(recon, kl)``."""
        raise NotImplementedError


class Autoencoder(Model):
    """``D → H (ReLU) → K → H (ReLU) → D (sigmoid)``, trained on per-pixel MSE."""

    def _build(self) -> None:
        c, s = self.config, self.store
        self.encoder = [Dense(s, "enc1", c.input_dim, c.hidden_dim), ReLU(),
                        Dense(s, "enc2", c.hidden_dim, c.latent_dim)]
        self.decoder = [Dense(s, "dec1", c.latent_dim, c.hidden_dim), ReLU(),
                        Dense(s, "dec2", c.hidden_dim, c.input_dim), Sigmoid()]

    def train_step(self, x_h: np.ndarray, beta: float,
                   eps: np.ndarray | None) -> tuple[float, float]:
        z = _forward(self.encoder, x_h)
        z_h = self._homogeneous_buffer("z", z.shape[0], z.shape[1], z.dtype)
        z_h[:-1] = z
        x_hat = _forward(self.decoder, z_h)
        recon, grad = mse(x_hat, x_h[:-1],
                          grad_out=self._buffer("dx_hat", x_hat.shape, x_hat.dtype))
        _backward(self.encoder, _backward(self.decoder, grad, need_dx=True), need_dx=False)
        return recon, 0.0


class LinearAutoencoder(Autoencoder):
    """``D → K → D`` with no non-linearity, trained on per-pixel MSE; its optimum spans
    the same subspace as PCA with K components."""

    def _build(self) -> None:
        c, s = self.config, self.store
        self.encoder = [Dense(s, "enc", c.input_dim, c.latent_dim)]
        self.decoder = [Dense(s, "dec", c.latent_dim, c.input_dim)]

    def init_weights(self, rng: np.random.Generator) -> None:
        for layer in self.encoder + self.decoder:
            assert isinstance(layer, Dense)
            layer.init_he(rng, gain=1.0)  # Glorot-like: no ReLU halves the variance here


class VAE(Model):
    """``D → H (ReLU) → [mu | log_var] (2K) → z → H (ReLU) → D (sigmoid)``.

    Loss per sample: BCE summed over pixels + beta * KL(q(z|x) || N(0, I)).
    The mu and log_var heads are one fused ``Dense(H, 2K)`` layer.
    """

    is_variational = True

    def _build(self) -> None:
        c, s = self.config, self.store
        self.encoder = [Dense(s, "enc1", c.input_dim, c.hidden_dim), ReLU(),
                        Dense(s, "heads", c.hidden_dim, 2 * c.latent_dim)]
        self.decoder = [Dense(s, "dec1", c.latent_dim, c.hidden_dim), ReLU(),
                        Dense(s, "dec2", c.hidden_dim, c.input_dim)]  # logits
        self.sampler = GaussianSample(c.latent_dim)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        stats = _apply(self.encoder, self._check_input(x, self.input_dim, "x"))
        k = self.latent_dim
        return np.ascontiguousarray(stats[:, :k]), np.ascontiguousarray(stats[:, k:])

    def decode(self, z: np.ndarray) -> np.ndarray:
        return sigmoid(_apply(self.decoder, self._check_input(z, self.latent_dim, "z")))

    def evaluate(
        self,
        x: np.ndarray,
        beta: float = 1.0,
        sampled: bool = False,
        rng: np.random.Generator | None = None,
    ) -> LossReport:
        x = self._check_input(x, self.input_dim, "x")
        stats = _apply(self.encoder, x)
        k = self.latent_dim
        z = stats[:, :k]
        if sampled:
            rng = np.random.default_rng() if rng is None else rng
            z = z + np.exp(0.5 * stats[:, k:]) * rng.standard_normal(z.shape).astype(self.dtype)
        logits = _apply(self.decoder, z)
        recon, _ = bce_with_logits(logits.T, x.T)  # the losses are feature-major
        kl, _ = gaussian_kl(stats.T)
        err = float(np.mean((sigmoid(logits) - x) ** 2, dtype=np.float64))
        return LossReport(recon=recon, kl=kl, total=recon + beta * kl, mse=err)

    def train_step(self, x_h: np.ndarray, beta: float,
                   eps: np.ndarray | None) -> tuple[float, float]:
        if eps is None:
            raise ValueError("a VAE training step needs noise eps of shape (B, K)")
        stats = _forward(self.encoder, x_h)
        logits = _forward(self.decoder, self.sampler.forward_noise(stats, eps))
        recon, dlogits = bce_with_logits(
            logits, x_h[:-1], grad_out=self._buffer("dlogits", logits.shape, logits.dtype))
        dstats = self.sampler.backward(_backward(self.decoder, dlogits, need_dx=True))
        kl, dkl = gaussian_kl(
            stats, scale=beta, grad_out=self._buffer("dkl", stats.shape, stats.dtype))
        dstats += dkl
        _backward(self.encoder, dstats, need_dx=False)
        return recon, kl


_MODEL_CLASSES: dict[str, type[Model]] = {
    "ae": Autoencoder, "vae": VAE, "linear": LinearAutoencoder,
}


def build_model(config: ModelConfig, seed: int | None = 0) -> Model:
    """A freshly initialised model; the same ``seed`` gives bit-identical weights."""
    if config.kind == "vqvae":
        from .vqvae import VQVAE
        model: Model = VQVAE(config)
    else:
        model = _MODEL_CLASSES[config.kind](config)
    model.init_weights(np.random.default_rng(seed))
    return model


__all__ = [
    "MODEL_KINDS", "VAE", "Autoencoder", "LinearAutoencoder", "LossReport", "Model",
    "ModelConfig", "build_model",
]
