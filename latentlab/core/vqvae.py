"""Vector quantisation (VQ-VAE, van den Oord, Vinyals & Kavukcuoglu 2017): pure NumPy.

The encoder maps an image to a continuous ``z_e`` of D dims; the :class:`VectorQuantiser`
replaces it by the nearest of K codebook vectors ``e_k``, ``z_q = e_{c(x)}`` with
``c(x) = argmin_k ‖z_e − e_k‖²``; the decoder reconstructs from ``z_q``. The argmin has
no gradient, so training uses:

* the **straight-through estimator**: the encoder receives the decoder's gradient at
  ``z_q`` unchanged, as if ``z_q = z_e + sg[z_q − z_e]``;
* the **codebook loss** ``‖sg[z_e] − e_c‖²``, which moves the chosen codes towards the
  encoder outputs (or, as an option, an exponential moving average of those outputs);
* the **commitment loss** ``β_c ‖z_e − sg[e_c]‖²``, which keeps the encoder near its codes.

Both loss values are the same squared distance, summed over the D dims and averaged over
the batch (per sample, as :mod:`.losses`); only who receives their gradient differs.
Training arrays are feature-major, ``(features, B)`` (see :mod:`.layers`); the codebook
is ``(K, D)``, one code vector per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .layers import Bottleneck, Dense, ReLU, sigmoid
from .losses import bce_with_logits
from .manifold import Rect
from .models import LossReport, Model, ModelConfig, _apply
from .params import ParameterStore
from .pca import LatentPlane


def squared_distances(z: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """``‖z_n − e_k‖²`` for ``z: (N, D)``, ``codebook: (K, D)`` → ``(N, K)``, expanded as
    ``‖z‖² − 2 z·e + ‖e‖²`` (one matrix product instead of an ``(N, K, D)`` difference),
    clipped at 0 against rounding."""
    d2 = z @ codebook.T
    d2 *= -2.0
    d2 += np.einsum("nd,nd->n", z, z)[:, None]
    d2 += np.einsum("kd,kd->k", codebook, codebook)[None, :]
    np.maximum(d2, 0.0, out=d2)
    return d2


def nearest_codes(z: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Index of the nearest code for each row of ``z: (N, D)`` → ``(N,)`` int64 (ties go
    to the lower index)."""
    # ‖z‖² is the same for every code, so the argmin needs only ‖e‖² − 2 z·e.
    scores = z @ codebook.T
    scores *= -2.0
    scores += np.einsum("kd,kd->k", codebook, codebook)[None, :]
    return np.argmin(scores, axis=1)


def _plane_distances(codebook: np.ndarray, plane: LatentPlane) -> tuple[np.ndarray, np.ndarray]:
    """``(p: (K, 2), q: (K,))`` with ``‖lift(uv) − e_k‖² = ‖uv‖² − 2 p_k·uv + q_k`` for every
    map point ``uv``: ``p_k`` is code k projected onto the plane, ``q_k`` its squared
    distance from the plane's origin (the basis rows are orthonormal)."""
    codebook = np.asarray(codebook, dtype=np.float64)
    if codebook.ndim != 2 or plane.latent_dim != codebook.shape[1]:
        raise ValueError(f"the view is of a {plane.latent_dim}-D latent, the codes have shape "
                         f"{codebook.shape}")
    offsets = codebook - plane.origin
    return offsets @ plane.basis.T, np.einsum("kd,kd->k", offsets, offsets)


def voronoi_edges(codebook: np.ndarray, plane: LatentPlane, rect: Rect,
                  pairs_per_chunk: int = 4096) -> np.ndarray:
    """The outlines of the codes' cells on a latent map, exactly, as line segments
    ``(M, 2, 2)`` (M segments of two map points) inside ``rect``.

    A map point ``uv`` snaps to the code with the least ``−2 p_k·uv + q_k`` (see
    :func:`_plane_distances`), so the border of codes i and j lies on the line where their
    two scores are equal; the part of that line where no third code scores lower (each a
    linear condition along the line) and that lies in ``rect`` is their shared edge. With
    2-D codes on the axes plane these are the Voronoi cells; with more dims, the cells'
    slice through the shown plane. Costs ``K³`` work (K = 64: ~2 ms), in chunks of
    ``pairs_per_chunk`` code pairs.
    """
    x0, y0, x1, y1 = (float(v) for v in rect)
    p, q = _plane_distances(codebook, plane)
    first, second = np.triu_indices(len(p), 1)
    scale = max(float(np.abs(p).max(initial=0.0)), abs(x1 - x0), abs(y1 - y0), 1e-300)
    segments = []
    for lo in range(0, first.size, pairs_per_chunk):
        i, j = first[lo:lo + pairs_per_chunk], second[lo:lo + pairs_per_chunk]
        normal = 2.0 * (p[j] - p[i])  # the border: normal · uv = q_j − q_i
        norm2 = np.einsum("pc,pc->p", normal, normal)
        apart = norm2 > (1e-12 * scale) ** 2  # codes projected onto one point share no edge
        norm2 = np.where(apart, norm2, 1.0)
        origin = normal * ((q[j] - q[i]) / norm2)[:, None]  # the border's point nearest 0
        direction = np.column_stack([-normal[:, 1], normal[:, 0]]) / np.sqrt(norm2)[:, None]
        # Code i still wins against code k at origin + t·direction iff alpha + beta·t <= 0,
        # alpha = −2 (p_i − p_k)·origin + q_i − q_k and beta = −2 (p_i − p_k)·direction:
        # two (P, 2) @ (2, K) products.
        alpha = 2.0 * (origin @ p.T)
        alpha -= (2.0 * np.einsum("pc,pc->p", p[i], origin) - q[i])[:, None]
        alpha -= q[None, :]
        beta = 2.0 * (direction @ p.T)
        beta -= 2.0 * np.einsum("pc,pc->p", p[i], direction)[:, None]
        rows = np.arange(i.size)
        alpha[rows, i] = alpha[rows, j] = -np.inf  # the pair itself
        beta[rows, i] = beta[rows, j] = 0.0
        flat = np.abs(beta) <= 1e-12 * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = -alpha / beta
        upper = np.where(~flat & (beta > 0), bound, np.inf).min(axis=1)
        lower = np.where(~flat & (beta < 0), bound, -np.inf).max(axis=1)
        blocked = (flat & (alpha > 0)).any(axis=1)
        for axis, (low, high) in enumerate(((x0, x1), (y0, y1))):
            o, d = origin[:, axis], direction[:, axis]
            moving = np.abs(d) > 1e-15
            safe = np.where(moving, d, 1.0)
            t_low, t_high = (low - o) / safe, (high - o) / safe
            lower = np.maximum(lower, np.where(moving, np.minimum(t_low, t_high), -np.inf))
            upper = np.minimum(upper, np.where(moving, np.maximum(t_low, t_high), np.inf))
            blocked |= ~moving & ((o < low) | (o > high))
        keep = apart & ~blocked & (lower < upper)
        ends = origin[keep][:, None, :] + np.stack([lower[keep], upper[keep]], axis=1)[
            :, :, None] * direction[keep][:, None, :]
        segments.append(ends)
    return np.concatenate(segments) if segments else np.zeros((0, 2, 2))


def cell_polygon(codebook: np.ndarray, plane: LatentPlane, rect: Rect,
                 code: int) -> np.ndarray:
    """The cell of ``code`` on a latent map inside ``rect``, as a convex polygon ``(M, 2)``
    of map points (M = 0 when the cell does not reach into ``rect``): ``rect`` clipped by
    the half-plane ``−2 p_c·uv + q_c <= −2 p_k·uv + q_k`` of every other code k."""
    x0, y0, x1, y1 = (float(v) for v in rect)
    p, q = _plane_distances(codebook, plane)
    polygon = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    for k in range(len(p)):
        if k == code or not len(polygon):
            continue
        normal, limit = 2.0 * (p[k] - p[code]), q[k] - q[code]  # inside: normal·uv <= limit
        side = polygon @ normal - limit
        nxt = np.roll(polygon, -1, axis=0)
        side_next = np.roll(side, -1)
        kept = []
        for a, b, sa, sb in zip(polygon, nxt, side, side_next, strict=True):
            if sa <= 0:
                kept.append(a)
            if (sa < 0 < sb) or (sb < 0 < sa):
                kept.append(a + (b - a) * (sa / (sa - sb)))
        polygon = np.array(kept).reshape(-1, 2)
    return polygon


def codebook_loss(z_e: np.ndarray, codebook: np.ndarray, codes: np.ndarray,
                  grad_out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """``mean_b ‖sg[z_e_b] − e_{c_b}‖²`` and its gradient with respect to the codebook.

    ``z_e: (D, B)``, ``codebook: (K, D)``, ``codes: (B,)`` →
    ``(value, grad: (K, D))`` with ``grad_k = (2 / B) Σ_{b: c_b = k} (e_k − z_e_b)``
    (zero for codes no sample chose).
    """
    batch = z_e.shape[1]
    diff = codebook[codes] - z_e.T  # (B, D)
    value = float(np.vdot(diff, diff)) / batch
    grad = np.empty_like(codebook) if grad_out is None else grad_out
    # Scatter-add the rows of diff onto their codes through a one-hot (K, B) product.
    one_hot = np.zeros((codebook.shape[0], batch), dtype=codebook.dtype)
    one_hot[codes, np.arange(batch)] = 2.0 / batch
    np.matmul(one_hot, diff, out=grad)
    return value, grad


def commitment_loss(z_e: np.ndarray, z_q: np.ndarray, scale: float = 1.0,
                    grad_out: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """``mean_b ‖z_e_b − sg[z_q_b]‖²`` and ``scale`` times its gradient with respect to z_e.

    ``z_e, z_q: (D, B)`` → ``(value, grad: (D, B))`` with
    ``grad = scale · 2 (z_e − z_q) / B``; ``scale`` is β_c, folded into the gradient at no
    cost (the value is unscaled, as :func:`.losses.gaussian_kl` does with β).
    """
    batch = z_e.shape[1]
    grad = np.subtract(z_e, z_q, out=grad_out)
    value = float(np.vdot(grad, grad)) / batch
    grad *= 2.0 * scale / batch
    return value, grad


def perplexity(counts: np.ndarray) -> float:
    """``exp(H(p))`` of the code-usage distribution ``p = counts / Σ counts``: K when every
    code is used equally, 1 when one code takes everything (0 for no counts at all)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


class VectorQuantiser(Bottleneck):
    """Nearest-code snapping as the bottleneck layer of the training graph.

    The codebook ``(K, D)`` is the parameter ``name`` of the model's
    :class:`ParameterStore`, so the optimiser updates it with every other weight.

    ``forward(z_e: (D, B))`` picks ``codes: (B,)`` and returns homogeneous
    ``z_q_h = [z_q; 1]: (D + 1, B)`` for the decoder's first Dense layer.
    ``backward(dz_q: (D, B))`` returns ``dL/dz_e = dz_q + β_c · 2 (z_e − z_q) / B``
    (straight-through plus commitment) and, unless ``learn_codebook`` is off (EMA
    updates), writes the codebook loss's gradient into the store. :attr:`last_loss` is
    the batch's ``mean_b ‖z_e − z_q‖²`` (the value of both VQ losses); after
    ``backward``, :attr:`regulariser` is the VQ loss, ``(β_c + learn_codebook) ·
    last_loss``. β does not weight it (``forward_train`` ignores it, and the noise).
    """

    def __init__(self, store: ParameterStore, name: str, codes: int, code_dim: int,
                 commitment: float, learn_codebook: bool = True) -> None:
        super().__init__()
        self.name, self.codes, self.code_dim = name, codes, code_dim
        self.commitment, self.learn_codebook = float(commitment), learn_codebook
        store.declare(name, (codes, code_dim))
        self.last_inputs = np.zeros((code_dim, 0))
        self.last_codes = np.zeros(0, dtype=np.int64)
        self.last_loss = 0.0

    def bind(self, store: ParameterStore) -> None:
        self.codebook = store.value_views[self.name]
        self.dcodebook = store.grad_views[self.name]

    def apply(self, z: np.ndarray) -> np.ndarray:
        """Batch-major snapping ``z: (N, D)`` → ``z_q: (N, D)``."""
        return self.codebook[nearest_codes(z, self.codebook)]

    def forward(self, z_e: np.ndarray) -> np.ndarray:
        self.last_inputs = z_e
        codes = nearest_codes(z_e.T, self.codebook)
        self.last_codes = codes
        z_q_h = self._homogeneous_buffer("z_q", self.code_dim, z_e.shape[1], z_e.dtype)
        z_q_h[:-1] = self.codebook[codes].T
        return z_q_h

    def forward_train(self, h: np.ndarray, noise: np.ndarray | None,
                      beta: float | np.ndarray) -> np.ndarray:
        return self.forward(h)

    def backward(self, dy: np.ndarray, need_dx: bool = True) -> np.ndarray:
        z_e = self.last_inputs
        assert z_e.shape[1] == self.last_codes.size > 0, "backward() before forward()"
        z_q = self._buffers["z_q"][:-1]
        if self.learn_codebook:
            codebook_loss(z_e, self.codebook, self.last_codes, grad_out=self.dcodebook)
        else:
            self.dcodebook[...] = 0.0
        self.last_loss, dz_e = commitment_loss(
            z_e, z_q, scale=self.commitment,
            grad_out=self._buffer("dz_e", z_e.shape, z_e.dtype))
        self.regulariser = (self.commitment + self.learn_codebook) * self.last_loss
        dz_e += dy  # straight through: the decoder's gradient at z_q, unchanged
        return dz_e


@dataclass(frozen=True)
class CodeUsage:
    """How an encoder's outputs spread over the codebook on a data set.

    ``counts: (K,)`` images snapped to each code; ``perplexity = exp(H(counts / N))``;
    ``used``: codes with at least one image."""

    counts: np.ndarray
    perplexity: float
    used: int

    @classmethod
    def from_codes(cls, codes: np.ndarray, n_codes: int) -> CodeUsage:
        counts = np.bincount(codes, minlength=n_codes)
        return cls(counts=counts, perplexity=perplexity(counts), used=int(np.count_nonzero(counts)))


@dataclass(frozen=True)
class VQLossReport(LossReport):
    """:class:`LossReport` of a VQ-VAE, per sample: ``recon`` is BCE summed over pixels (as
    the VAE's); ``quantisation = mean ‖z_e − z_q‖²`` (the value of both the codebook and
    the unscaled commitment loss); ``kl`` holds the regulariser, the VQ loss
    ``codebook + β_c · commitment`` (no codebook term when EMA updates the codebook);
    ``total = recon + kl``; ``perplexity`` and ``used_codes`` of the evaluated images."""

    quantisation: float = 0.0
    perplexity: float = 0.0
    used_codes: int = 0


class VQVAE(Model):
    """``D → H (ReLU) → z_e (code_dim) → nearest of K codes z_q → H (ReLU) → D (sigmoid)``.

    Loss per sample: BCE summed over pixels + ``‖sg[z_e] − e‖²`` + ``β_c ‖z_e − sg[e]‖²``.
    With ``ema_decay`` set, the codebook is not learned by gradient but follows an
    exponential moving average of the encoder outputs assigned to each code (van den Oord
    et al. 2017, appendix A.1; its running counts ``N_k`` are training state, like Adam's
    moments, and start again at 1 after loading). The codebook stays in the parameter
    store either way, so it is saved, loaded and copied with the other weights.

    Between optimiser steps (:meth:`after_step`) the model counts which codes the batches
    chose; once a window of ``32 K`` samples has passed, codes no sample chose are
    re-seeded with the recent encoder outputs that were farthest from their codes
    (:attr:`dead_codes_reseeded` counts them). The last window's counts are
    :attr:`code_usage`, the frequencies :meth:`sample` draws codes from.
    """

    #: samples per code in one dead-code window: uniform usage would give each code this many
    WINDOW_SAMPLES_PER_CODE = 32

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        k, d = config.codes, config.latent_dim
        self.code_usage = np.zeros(k, dtype=np.float64)
        self.dead_codes_reseeded = 0
        self._window_counts = np.zeros(k, dtype=np.int64)
        self._window_seen = 0
        self._recent = np.zeros((self.WINDOW_SAMPLES_PER_CODE * k, d), dtype=np.float64)
        self._recent_filled = 0
        self._recent_next = 0
        self._ema_counts = np.ones(k, dtype=np.float64)  # N_k, as if one sample per code

    def _build(self) -> None:
        c, s = self.config, self.store
        self.encoder = [Dense(s, "enc1", c.input_dim, c.hidden_dim), ReLU(),
                        Dense(s, "enc2", c.hidden_dim, c.latent_dim)]
        self.quantiser = VectorQuantiser(s, "codebook", c.codes, c.latent_dim, c.commitment,
                                         learn_codebook=c.ema_decay is None)
        self.bottleneck = self.quantiser
        self.decoder = [Dense(s, "dec1", c.latent_dim, c.hidden_dim), ReLU(),
                        Dense(s, "dec2", c.hidden_dim, c.input_dim)]  # logits

    @property
    def codebook(self) -> np.ndarray:
        """The code vectors, ``(K, code_dim)``: a view into :attr:`weights`."""
        return self.quantiser.codebook

    @property
    def n_codes(self) -> int:
        return self.config.codes

    def init_weights(self, rng: np.random.Generator) -> None:
        """He-initialise the dense layers; codes ~ N(0, 1), the scale of a freshly
        initialised encoder's outputs (dead ones are re-seeded from real outputs)."""
        super().init_weights(rng)
        self.codebook[...] = rng.standard_normal(self.codebook.shape)

    def copy(self) -> VQVAE:
        clone = type(self)(self.config)
        clone.load_weights(self.weights)
        clone.code_usage[...] = self.code_usage
        clone.dead_codes_reseeded = self.dead_codes_reseeded
        return clone

    def state_metadata(self) -> dict:
        return {"code_usage": self.code_usage.tolist(),
                "dead_codes_reseeded": self.dead_codes_reseeded}

    def restore_state_metadata(self, state: dict) -> None:
        usage = state.get("code_usage")
        reseeded = state.get("dead_codes_reseeded")
        if set(state) != {"code_usage", "dead_codes_reseeded"} or not isinstance(usage, list) \
                or len(usage) != self.n_codes:
            raise ValueError(f"VQ-VAE state must give code_usage ({self.n_codes} counts) and "
                             "dead_codes_reseeded")
        if not all(isinstance(u, (int, float)) and not isinstance(u, bool)
                   and math.isfinite(u) and u >= 0 for u in usage):
            raise ValueError("code_usage must be finite counts >= 0")
        if isinstance(reseeded, bool) or not isinstance(reseeded, int) or reseeded < 0:
            raise ValueError("dead_codes_reseeded must be a whole number >= 0")
        self.code_usage[...] = usage
        self.dead_codes_reseeded = reseeded

    def load_weights(self, flat: np.ndarray) -> None:
        super().load_weights(flat)
        self._ema_counts[...] = 1.0

    # -- inference (pure) -------------------------------------------------------------
    def quantise(self, z: np.ndarray) -> np.ndarray:
        """Index of the nearest code of each ``z: (N, code_dim)`` → ``(N,)``."""
        return nearest_codes(self._check_input(z, self.latent_dim, "z"), self.codebook)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Snap ``z: (N, code_dim)`` to its nearest codes and decode → ``(N, D)``: a VQ-VAE's
        decoder only ever sees code vectors."""
        return self.decode_codes(self.quantise(z))

    def decode_codes(self, codes: np.ndarray) -> np.ndarray:
        """Images of code indices ``(N,)`` → ``(N, D)`` in [0, 1]."""
        return sigmoid(_apply(self.decoder, self.codebook[np.asarray(codes, dtype=np.int64)]))

    def sample(
        self, n: int, temperature: float = 1.0, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` codes with probability ∝ ``usage^(1/T)`` (there is no learned prior:
        T = 1 follows the last training window's usage, large T tends to every used code
        equally, small T to the most used; a model never trained draws uniformly) →
        ``(z_q: (n, code_dim), images)``."""
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
        rng = np.random.default_rng() if rng is None else rng
        codes = rng.choice(self.n_codes, size=n, p=self.sampling_probabilities(temperature))
        return self.codebook[codes].copy(), self.decode_codes(codes)

    def sampling_probabilities(self, temperature: float = 1.0) -> np.ndarray:
        """``(K,)`` probabilities of :meth:`sample`'s codes, ``usage^(1/T)`` normalised (in
        log space, so no T overflows); uniform while no usage is known."""
        used = self.code_usage > 0
        if not used.any():
            return np.full(self.n_codes, 1.0 / self.n_codes)
        log_weight = np.full(self.n_codes, -np.inf)
        log_weight[used] = np.log(self.code_usage[used]) / temperature
        weight = np.exp(log_weight - log_weight.max())
        return weight / weight.sum()

    def code_statistics(self, x: np.ndarray) -> CodeUsage:
        """Code usage of the images ``x: (N, D)``."""
        return CodeUsage.from_codes(self.quantise(self.encode(x)[0]), self.n_codes)

    def evaluate(
        self,
        x: np.ndarray,
        beta: float = 1.0,
        sampled: bool = False,
        rng: np.random.Generator | None = None,
    ) -> VQLossReport:
        x = self._check_input(x, self.input_dim, "x")
        z_e = _apply(self.encoder, x)
        codes = nearest_codes(z_e, self.codebook)
        z_q = self.codebook[codes]
        logits = _apply(self.decoder, z_q)
        recon, _ = bce_with_logits(logits.T, x.T)  # the losses are feature-major
        quantisation = float(np.mean(np.sum((z_e - z_q) ** 2, axis=1, dtype=np.float64)))
        vq_loss = self.vq_loss_weight * quantisation
        err = float(np.mean((sigmoid(logits) - x) ** 2, dtype=np.float64))
        usage = CodeUsage.from_codes(codes, self.n_codes)
        return VQLossReport(recon=recon, kl=vq_loss, total=recon + vq_loss, mse=err,
                            quantisation=quantisation, perplexity=usage.perplexity,
                            used_codes=usage.used)

    # -- training ---------------------------------------------------------------------
    @property
    def vq_loss_weight(self) -> float:
        """The VQ loss is this times ``‖z_e − z_q‖²``: ``1 + β_c`` (codebook + commitment),
        or ``β_c`` when EMA moves the codebook."""
        return self.config.commitment + (self.config.ema_decay is None)

    def after_step(self) -> None:
        """After the optimiser's update: the EMA codebook update (if on), the usage
        window, and dead-code re-seeding at the window's end."""
        z_e = self.quantiser.last_inputs
        codes = self.quantiser.last_codes
        batch_counts = np.bincount(codes, minlength=self.n_codes)
        if self.config.ema_decay is not None:
            self._ema_update(z_e, codes, batch_counts)
        self._window_counts += batch_counts
        self._window_seen += len(codes)
        self._remember(z_e.T)
        if self._window_seen >= len(self._recent):
            self._close_window()

    def _ema_update(self, z_e: np.ndarray, codes: np.ndarray, batch_counts: np.ndarray) -> None:
        """``N_k ← γ N_k + (1 − γ) n_k``, ``m_k ← γ m_k + (1 − γ) Σ_{c_b = k} z_e_b``,
        ``e_k = m_k / N_k`` for ``z_e: (D, B)``, keeping only ``N_k``: ``m_k = N_k e_k`` is
        the codebook itself. A code no sample chose stays where it is."""
        gamma = float(self.config.ema_decay)  # type: ignore[arg-type]
        one_hot = np.zeros((self.n_codes, len(codes)))
        one_hot[codes, np.arange(len(codes))] = 1.0
        used = batch_counts > 0
        sums = gamma * self._ema_counts[:, None] * self.codebook + (1.0 - gamma) * (
            one_hot @ z_e.T)
        self._ema_counts *= gamma
        self._ema_counts += (1.0 - gamma) * batch_counts
        self.codebook[used] = sums[used] / self._ema_counts[used, None]

    def _remember(self, z_e: np.ndarray) -> None:
        """Keep the last ``len(self._recent)`` encoder outputs ``(B, D)`` (a ring)."""
        capacity = len(self._recent)
        rows = z_e[-capacity:]
        positions = (self._recent_next + np.arange(len(rows))) % capacity
        self._recent[positions] = rows
        self._recent_next = int((positions[-1] + 1) % capacity)
        self._recent_filled = min(capacity, self._recent_filled + len(rows))

    def _close_window(self) -> None:
        self.code_usage[...] = self._window_counts
        dead = np.flatnonzero(self._window_counts == 0)
        if dead.size:
            self.reseed(dead)
        self._window_counts[...] = 0
        self._window_seen = 0

    def reseed(self, dead: np.ndarray) -> int:
        """Move the codes ``dead`` onto remembered encoder outputs, each time the output
        farthest from every code so far (greedy farthest-point, so two re-seeded codes
        do not land on the same outlier); returns how many were moved."""
        recent = self._recent[:self._recent_filled]
        n = min(dead.size, len(recent))
        if n == 0:
            return 0
        live = np.setdiff1d(np.arange(self.n_codes), dead)
        distance = squared_distances(recent, self.codebook[live].astype(np.float64)).min(
            axis=1) if live.size else np.full(len(recent), np.inf)
        for code in dead[:n]:
            pick = int(np.argmax(distance))
            self.codebook[code] = recent[pick]
            self._ema_counts[code] = 1.0
            np.minimum(distance, np.sum((recent - recent[pick]) ** 2, axis=1), out=distance)
        self.dead_codes_reseeded += n
        return n
