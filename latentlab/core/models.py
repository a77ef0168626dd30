"""Autoencoder, VAE and linear autoencoder built from :mod:`layers`.

All models map images ``x: (N, D)`` in [0, 1] to latents ``(N, K)`` and back. Their
parameters live in one :class:`ParameterStore` (``model.weights`` is the flat array).

The model interface: a model is a graph ``encoder → bottleneck → decoder`` of
:class:`~.layers.Layer` objects plus a ``reconstruction`` loss on the decoder output. The
bottleneck (:class:`~.layers.Bottleneck`) is what distinguishes the kinds: an
autoencoder's passes z through (:class:`~.layers.Deterministic`), a VAE's draws
z = μ + σ ε and adds the KL (:class:`~.layers.GaussianSample`), a VQ-VAE's snaps z to
its nearest code and adds the VQ loss (:class:`~.vqvae.VectorQuantiser`). One generic
:meth:`Model.train_step` runs forward and backward through that graph and leaves the
gradients in ``model.store.grads``; every other method is pure and allocates its own
arrays. Kinds, their names and what each has are in :mod:`.registry`, which also says
how to add one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import limits
from .fused import FusedAutoencoderStep, FusedStep, FusedVAEStep
from .layers import (
    Bottleneck,
    Dense,
    Deterministic,
    GaussianSample,
    Layer,
    ReLU,
    Sigmoid,
    Workspace,
    sigmoid,
)
from .losses import LossValue, bce_with_logits, gaussian_kl, mse
from .params import ParameterStore
from .registry import MODEL_KINDS, ModelKind

#: ``(output: (D, B), x: (D, B), grad_out, scratch) -> (per-sample value,
#: d value / d output)``, as :mod:`.losses` has them
ReconstructionLoss = Callable[..., tuple[float, np.ndarray]]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture: ``input_dim → hidden_dim → latent_dim → hidden_dim → input_dim``.

    ``codes``, ``commitment`` and ``ema_decay`` are the VQ-VAE's codebook size K, its
    commitment weight β_c and its codebook's EMA decay (``None``: the codebook learns from
    its loss); other kinds ignore them. ``kind`` may be given as a string; it is kept
    as its :class:`~.registry.ModelKind`."""

    kind: str = ModelKind.VAE
    input_dim: int = 64
    hidden_dim: int = 32
    latent_dim: int = 2
    dtype: str = "float32"
    codes: int = 64
    commitment: float = 1.0
    ema_decay: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ModelKind.parse(self.kind))
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
    """Shared behaviour; subclasses' ``_build`` sets the ``encoder`` and ``decoder`` layer
    lists and the ``bottleneck`` between them; ``reconstruction`` is the loss on the
    decoder's output."""

    reconstruction: ReconstructionLoss = staticmethod(bce_with_logits)
    #: the kind's fused training step (:mod:`.fused`) for one model or a stack, or ``None``:
    #: the layer path then trains it
    fused_step: type[FusedStep] | None = None
    #: fused steps kept per model: one per batch size (an epoch has two: full batches
    #: and the shorter last one)
    _MAX_FUSED_STEPS = 4

    def __init__(self, config: ModelConfig, stack: int | None = None) -> None:
        """``stack=K`` builds the training graph of K models of this architecture at once
        (:mod:`.stacked`): parameters ``(K, n_params)``, ``train_step`` on stacked
        batches; only ``train_step`` and the parameters are meant for such a model."""
        super().__init__()
        self.config = config
        self.store = ParameterStore(np.dtype(config.dtype), stack=stack)
        self.encoder: list[Layer] = []
        self.decoder: list[Layer] = []
        self.bottleneck: Bottleneck = Deterministic(config.latent_dim)
        self._build()
        self.store.finalize()
        self._bind_layers()

    def _bind_layers(self) -> None:
        self._fused_steps: dict[int, FusedStep] = {}  # they hold views of the old storage
        for layer in self.layers:
            bind = getattr(layer, "bind", None)
            if bind is not None:  # layers with parameters take their views of the store
                bind(self.store)

    def share_storage(self, values: np.ndarray, grads: np.ndarray) -> None:
        """Keep the parameters and gradients in ``values``/``grads`` (``(n_params,)``,
        e.g. a row of a stack's arrays) from now on, starting from what is there."""
        if values.shape != self.weights.shape or grads.shape != values.shape:
            raise ValueError(f"expected storage of shape {self.weights.shape}")
        self.store.adopt(values, grads)
        self._bind_layers()

    def _build(self) -> None:
        raise NotImplementedError

    @property
    def layers(self) -> list[Layer]:
        """The training graph in forward order: encoder, bottleneck, decoder."""
        return [*self.encoder, self.bottleneck, *self.decoder]

    # -- identity ---------------------------------------------------------------------
    @property
    def kind(self) -> ModelKind:
        return ModelKind(self.config.kind)

    @property
    def is_variational(self) -> bool:
        """Training samples z ~ q(z|x) (see :attr:`.registry.ModelKind.samples_noise`)."""
        return self.kind.samples_noise

    @property
    def regulariser_name(self) -> str:
        """What the second loss term (``kl`` of reports and training steps) is."""
        return self.kind.regulariser_name or "KL"

    @property
    def regulariser_uses_beta(self) -> bool:
        """Whether β (and its warm-up) weights that term; a VQ-VAE weights its own."""
        return self.kind.has_kl or self.kind.regulariser_name is None

    @property
    def noise_rows(self) -> int:
        """Rows of standard normal noise a training step takes per sample (0: none)."""
        return self.bottleneck.noise_rows

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

    def train_step(self, x_h: np.ndarray, beta: float | np.ndarray,
                   eps: np.ndarray | None) -> tuple[LossValue, LossValue]:
        """Forward + backward on one batch in the training layout of :mod:`.layers`,
        ``x_h = [x.T; 1]: (D + 1, B)``, with β and noise ``eps: (noise_rows, B)``
        (``None`` when the model takes none). Gradients land in ``store.grads``.
        Returns the batch's per-sample ``(recon, regulariser)``. A stacked model takes
        ``x_h`` and ``eps`` shared or with a leading K axis, β as a float or
        ``(K, 1, 1)``, and returns ``(K,)`` arrays.

        A model or stack whose kind has a :attr:`fused_step` runs that (the same
        arithmetic, to the bit, with less Python around it); others run
        :meth:`layer_train_step`."""
        if self.fused_step is None:
            return self.layer_train_step(x_h, beta, eps)
        batch = x_h.shape[-1]
        step = self._fused_steps.get(batch)
        if step is None:
            if len(self._fused_steps) >= self._MAX_FUSED_STEPS:
                self._fused_steps.clear()
            step = self._fused_steps[batch] = self.fused_step(self, batch)
        return step.step(x_h, beta, eps)

    def layer_train_step(self, x_h: np.ndarray, beta: float | np.ndarray,
                         eps: np.ndarray | None) -> tuple[LossValue, LossValue]:
        """:meth:`train_step` through the layer graph: each layer's ``forward``, the
        reconstruction loss, each layer's ``backward``."""
        h = _forward(self.encoder, x_h)
        out = _forward(self.decoder, self.bottleneck.forward_train(h, eps, beta))
        recon, dout = self.reconstruction(
            out, x_h[..., :-1, :], grad_out=self._buffer("dout", out.shape, out.dtype),
            scratch=self._buffer("scratch", out.shape, out.dtype))
        dh = self.bottleneck.backward(_backward(self.decoder, dout, need_dx=True))
        _backward(self.encoder, dh, need_dx=False)
        return recon, self.bottleneck.regulariser


class Autoencoder(Model):
    """``D → H (ReLU) → K → H (ReLU) → D (sigmoid)``, trained on per-pixel MSE."""

    reconstruction = staticmethod(mse)
    fused_step: type[FusedStep] | None = FusedAutoencoderStep

    def _build(self) -> None:
        c, s = self.config, self.store
        self.encoder = [Dense(s, "enc1", c.input_dim, c.hidden_dim), ReLU(),
                        Dense(s, "enc2", c.hidden_dim, c.latent_dim)]
        self.decoder = [Dense(s, "dec1", c.latent_dim, c.hidden_dim), ReLU(),
                        Dense(s, "dec2", c.hidden_dim, c.input_dim), Sigmoid()]


class LinearAutoencoder(Autoencoder):
    """``D → K → D`` with no non-linearity, trained on per-pixel MSE; its optimum spans
    the same subspace as PCA with K components."""

    fused_step = None  # one Dense layer each way: the layer path is already short

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
    The mu and log_var heads are one fused ``Dense(H, 2K)`` layer; the bottleneck
    (:attr:`sampler`) draws z and adds the KL.
    """

    fused_step = FusedVAEStep

    def _build(self) -> None:
        c, s = self.config, self.store
        self.encoder = [Dense(s, "enc1", c.input_dim, c.hidden_dim), ReLU(),
                        Dense(s, "heads", c.hidden_dim, 2 * c.latent_dim)]
        self.decoder = [Dense(s, "dec1", c.latent_dim, c.hidden_dim), ReLU(),
                        Dense(s, "dec2", c.hidden_dim, c.input_dim)]  # logits
        self.sampler = GaussianSample(c.latent_dim)
        self.bottleneck = self.sampler

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


def build_model(config: ModelConfig, seed: int | None = 0) -> Model:
    """A freshly initialised model of ``config.kind`` (its class from :mod:`.registry`);
    the same ``seed`` gives bit-identical weights."""
    model = ModelKind(config.kind).model_class(config)
    model.init_weights(np.random.default_rng(seed))
    return model


__all__ = [
    "MODEL_KINDS", "VAE", "Autoencoder", "LinearAutoencoder", "LossReport", "Model",
    "ModelConfig", "ModelKind", "build_model",
]
