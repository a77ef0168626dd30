"""Minibatch training: seeded, resumable batch by batch, stoppable, divergence-safe."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np

from . import limits
from .models import Model, ModelConfig, build_model
from .optim import make_optimizer
from .registry import MODEL_KINDS, ModelKind

#: how the learning rate changes over a run (:meth:`TrainConfig.lr_at`)
LR_SCHEDULES = ("cosine", "constant")


class TrainingDiverged(RuntimeError):
    """The loss or a gradient became NaN/Inf; the model holds the last finite weights."""


_SETTING_LIMITS = (
    ("latent_dim", limits.LATENT_DIM), ("hidden_dim", limits.HIDDEN_DIM),
    ("beta", limits.BETA), ("warmup_epochs", limits.WARMUP_EPOCHS),
    ("epochs", limits.EPOCHS), ("batch_size", limits.BATCH_SIZE), ("lr", limits.LR),
    ("momentum", limits.MOMENTUM), ("seed", limits.SEED),
    ("codes", limits.CODES), ("commitment", limits.COMMITMENT),
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; the same config and data give
    bit-identical weights. ``epochs`` is the total the run trains up to."""

    model: str = ModelKind.VAE  # a ModelKind (given as a string, kept as the kind)
    latent_dim: int = 2
    hidden_dim: int = 32
    beta: float = 1.0
    # Defaults chosen by measurement (benchmarks/sweep_recipe.py, seeds 0-4, 250 epochs,
    # recorded in benchmarks/RESULTS.md): at batch 96 with cosine decay the 2-D VAE reaches
    # the article's 24.8 (sampled z) in 40-60 epochs of 19 steps, against 40-60 of 29 at
    # the old batch 64 (constant rate), and ends as well within the seeds' spread
    # (24.26-24.38 sampled, 23.34-23.47 at z = mu; the AE at 0.0295-0.0320 MSE, against
    # 24.26-24.36, 23.37-23.52 and 0.0291-0.0330); 250 such epochs cost less than 200 at
    # batch 64. lr 2.5e-2 was better still on the digits but worse on 784-pixel images
    # with 256 hidden units (10,000 and 60,000 stroke images), so the rate stays 1e-2.
    warmup_epochs: int = 10
    epochs: int = 250
    batch_size: int = 96
    lr: float = 1e-2
    lr_schedule: str = "cosine"
    optimizer: str = "adam"
    momentum: float = 0.9
    clip_norm: float | None = None
    seed: int = 0
    dtype: str = "float32"
    # VQ-VAE (--model vqvae). Measured on the digits, 200 epochs of the earlier recipe (today's
    # gave perplexity 57-60 and every code used, seeds 0-2), seeds 0-4: K = 64 codes of
    # 2 dims are all in use (perplexity 57-59 at lr 1e-2); β_c = 1 reconstructed better
    # than the paper's 0.25 on every seed (at lr 3e-3: BCE 20.87-21.16 vs 20.90-21.31).
    codes: int = 64
    commitment: float = 1.0
    ema_decay: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.model in MODEL_KINDS:
            object.__setattr__(self, "model", ModelKind(self.model))
        else:
            problems.append(f"model must be one of {', '.join(MODEL_KINDS)}")
        if self.optimizer not in ("adam", "sgd"):
            problems.append("optimizer must be 'adam' or 'sgd'")
        if self.lr_schedule not in LR_SCHEDULES:
            problems.append(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}")
        checks = [*_SETTING_LIMITS, *((("clip_norm", limits.CLIP_NORM),)
                                      if self.clip_norm is not None else ()),
                  *((("ema_decay", limits.EMA_DECAY),) if self.ema_decay is not None else ())]
        for name, allowed in checks:
            problem = allowed.problem(getattr(self, name), name)
            if problem:
                problems.append(problem)
        if self.dtype not in ("float32", "float64"):
            problems.append("dtype must be 'float32' or 'float64'")
        if problems:
            raise ValueError("; ".join(problems))

    def model_config(self, input_dim: int) -> ModelConfig:
        return ModelConfig(kind=self.model, input_dim=input_dim, hidden_dim=self.hidden_dim,
                           latent_dim=self.latent_dim, dtype=self.dtype, codes=self.codes,
                           commitment=self.commitment, ema_decay=self.ema_decay)

    def beta_at(self, epoch_index: int) -> float:
        """Effective β for the 0-based epoch: ramps linearly from 0 over the warm-up."""
        if self.warmup_epochs <= 0:
            return self.beta
        return self.beta * min(1.0, epoch_index / self.warmup_epochs)

    def lr_at(self, epoch_index: int) -> float:
        """Learning rate for the 0-based epoch: ``lr`` throughout (``"constant"``), or
        ``"cosine"``: from ``lr`` down along half a cosine to near 0 in the last of
        ``epochs`` (Loshchilov & Hutter's SGDR without restarts). Epochs past the end keep
        the last epoch's rate, never 0 (an epoch always trains); the window's "Train
        again" starts a new run, and a new schedule."""
        if self.lr_schedule == "constant":
            return self.lr
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(epoch_index, self.epochs - 1)
                                               / self.epochs))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """The config of a saved run; a file from before schedules trained at a constant
        rate, so a missing ``lr_schedule`` reads as ``"constant"``."""
        known = {f.name for f in fields(cls)}
        settings = {k: v for k, v in data.items() if k in known}
        settings.setdefault("lr_schedule", "constant")
        return cls(**settings)


@dataclass(frozen=True)
class EpochReport:
    """Per-sample running averages over one epoch (z sampled for a VAE).
    ``total = recon + beta * kl`` with the epoch's effective ``beta``; ``kl`` is the
    model's regulariser (``Model.regulariser_name``: the VQ loss for a VQ-VAE, whose
    ``beta`` is 1)."""

    epoch: int
    recon: float
    kl: float
    total: float
    beta: float
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


class BatchSource:
    """Shuffled minibatches of ``data: (N, D)`` (and, when ``noise_rows > 0``, standard
    normal noise) in the training layout of :mod:`.layers`, gathered into buffers
    allocated once: an epoch allocates nothing and copies the data one batch at a time.

    :meth:`shuffle` starts an epoch: it permutes the sample order in place and draws the
    epoch's noise ``(N, noise_rows)`` (float32) from ``rng`` — exactly these two draws, in
    this order, so two sources on equal seeds give equal batches. :meth:`batch` ``(i)``
    returns ``(x_h: (D + 1, B), eps: (noise_rows, B) or None)``: views of the source's
    buffers, valid until the next call.
    """

    def __init__(self, data: np.ndarray, batch_size: int, noise_rows: int,
                 rng: np.random.Generator) -> None:
        self.data, self.batch_size, self.rng = data, int(batch_size), rng
        n, d = data.shape
        self.order = np.arange(n)
        self.noise = np.empty((n, noise_rows), dtype=np.float32) if noise_rows else None
        # One set of buffers for full batches and one for the shorter last batch.
        sizes = {min(self.batch_size, n), n % self.batch_size or self.batch_size}
        self._rows = {b: np.empty((b, d), dtype=data.dtype) for b in sizes}
        self._x_h = {b: np.empty((d + 1, b), dtype=data.dtype) for b in sizes}
        for x_h in self._x_h.values():
            x_h[-1] = 1.0
        self._eps = {b: np.empty((noise_rows, b), dtype=data.dtype) for b in sizes}

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def shuffle(self) -> None:
        self.rng.shuffle(self.order)
        if self.noise is not None:
            self.rng.standard_normal(dtype=np.float32, out=self.noise)

    def batch(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        lo = i * self.batch_size
        rows_of = self.order[lo:lo + self.batch_size]
        rows = self._rows[len(rows_of)]
        # The method is ~2x cheaper than np.take here; mode="clip" writes out unbuffered.
        self.data.take(rows_of, axis=0, out=rows, mode="clip")
        x_h = self._x_h[len(rows_of)]
        np.copyto(x_h[:-1], rows.T)
        if self.noise is None:
            return x_h, None
        eps = self._eps[len(rows_of)]
        np.copyto(eps, self.noise[lo:lo + self.batch_size].T)
        return x_h, eps


@dataclass
class _EpochInProgress:
    """How far the current epoch got, kept so a stop between batches loses nothing:
    resuming continues the same epoch (its order and noise stay in the
    :class:`BatchSource`), so pauses never change the result."""

    beta: float
    next_batch: int = 0
    recon_sum: float = 0.0
    kl_sum: float = 0.0
    seconds: float = 0.0


StopFlag = Callable[[], bool]


def all_finite(data: np.ndarray, chunk_rows: int = 4096) -> bool:
    """Whether every value of ``data: (N, D)`` is finite, checked a chunk of rows at a
    time so the check never holds an N × D mask."""
    return all(np.isfinite(data[lo:lo + chunk_rows]).all()
               for lo in range(0, len(data), chunk_rows))


class Trainer:
    """Trains ``model`` on ``data: (N, D)`` with minibatches.

    ``run_epoch`` trains one epoch (or the rest of a stopped one); ``train`` is a
    generator over epochs up to ``config.epochs``. Both poll ``should_stop`` between
    batches. Shuffling and VAE noise come from one generator seeded by ``config.seed``.
    """

    def __init__(self, config: TrainConfig, data: np.ndarray, model: Model | None = None) -> None:
        data = np.asarray(data)
        if data.ndim != 2 or len(data) == 0:
            raise ValueError(f"training data must be a non-empty (N, D) array, got {data.shape}")
        self.config = config
        self.data = np.ascontiguousarray(data, dtype=np.dtype(config.dtype))
        if not all_finite(self.data):
            raise ValueError("training data contains NaN or Inf")
        if model is None:
            model = build_model(config.model_config(self.data.shape[1]), seed=config.seed)
        elif model.input_dim != self.data.shape[1]:
            raise ValueError(f"model expects {model.input_dim} pixels, data has {data.shape[1]}")
        self.model = model
        self.optimizer = make_optimizer(config.optimizer, model.store.values, model.store.grads,
                                        lr=config.lr, momentum=config.momentum,
                                        clip_norm=config.clip_norm)
        self.batches = BatchSource(self.data, config.batch_size, model.noise_rows,
                                   np.random.default_rng(config.seed))
        self._last_finite = model.weights.copy()
        self._current: _EpochInProgress | None = None
        self.epoch = 0
        self.history: list[EpochReport] = []
        self.diverged: str | None = None

    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs

    def _start_epoch(self) -> _EpochInProgress:
        self.batches.shuffle()
        self.optimizer.lr = self.config.lr_at(self.epoch)
        beta = self.config.beta_at(self.epoch) if self.model.regulariser_uses_beta else 1.0
        return _EpochInProgress(beta)

    def run_epoch(self, should_stop: StopFlag | None = None) -> EpochReport | None:
        """Train the next epoch. Returns its report, or ``None`` when ``should_stop()``
        turned true between batches (the next call resumes the same epoch)."""
        if self.diverged:
            raise TrainingDiverged(self.diverged)
        state = self._current if self._current is not None else self._start_epoch()
        self._current = state
        model, optimizer, backup, batches = (self.model, self.optimizer, self._last_finite,
                                             self.batches)
        weights = model.store.values
        started = time.perf_counter()
        # Overflow in a diverging run is detected below and reported; silence NumPy's
        # per-call warnings for the whole epoch rather than paying for errstate per batch.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while state.next_batch < len(batches):
                if should_stop is not None and should_stop():
                    state.seconds += time.perf_counter() - started
                    return None
                i = state.next_batch
                x_h, eps = batches.batch(i)
                recon, kl = model.train_step(x_h, state.beta, eps)
                # A non-finite gradient with a finite loss shows up as a non-finite loss
                # on the next batch (or in the end-of-epoch check), and the weights
                # before that update are in `backup`.
                if not math.isfinite(recon + kl):
                    self._diverge(recon, kl)
                np.copyto(backup, weights)
                optimizer.step()
                model.after_step()
                rows = x_h.shape[1]
                state.recon_sum += recon * rows
                state.kl_sum += kl * rows
                state.next_batch = i + 1
            if not math.isfinite(float(weights.sum())):
                self._diverge(float("nan"), float("nan"))
        state.seconds += time.perf_counter() - started
        self._current = None
        self.epoch += 1
        n = len(self.data)
        recon, kl = state.recon_sum / n, state.kl_sum / n
        report = EpochReport(epoch=self.epoch, recon=recon, kl=kl, total=recon + state.beta * kl,
                             beta=state.beta, seconds=state.seconds)
        self.history.append(report)
        return report

    def _diverge(self, recon: float, kl: float) -> None:
        self.model.load_weights(self._last_finite)
        self._current = None
        self.diverged = (
            f"training diverged in epoch {self.epoch + 1} (reconstruction {recon:.4g}, "
            f"KL {kl:.4g}): the loss or its gradient is no longer finite. The model keeps "
            f"the last finite weights; lower the learning rate (now {self.config.lr:g}) "
            "or enable gradient clipping."
        )
        raise TrainingDiverged(self.diverged)

    def train(self, should_stop: StopFlag | None = None) -> Iterator[EpochReport]:
        """Yield a report per epoch until ``config.epochs`` or until stopped."""
        while not self.done:
            report = self.run_epoch(should_stop)
            if report is None:
                return
            yield report


#: the reference article's VAE figure on the digits: per-sample total with z sampled
ARTICLE_TARGET = 24.8


class TargetWatch:
    """When a run first reaches a quality target: every ``every`` epochs it evaluates the
    per-sample total with z sampled (``sampled_total``: fixed noise drawn from
    ``[seed, 2]``, the whole data set) and records the first epoch at or below ``target``
    and the training seconds up to it (the trainer's own epoch times, so the evaluations
    are not counted). Only for kinds that sample z (``ModelKind.samples_noise``)."""

    def __init__(self, target: float, data: np.ndarray, seed: int, every: int = 5) -> None:
        self.target, self.data, self.seed, self.every = float(target), data, seed, int(every)
        self.epoch: int | None = None
        self.seconds: float | None = None
        self._training_seconds = 0.0

    def sampled_total(self, model: Model, beta: float) -> float:
        rng = np.random.default_rng([self.seed, 2])  # the same noise at every check
        return model.evaluate(self.data, beta=beta, sampled=True, rng=rng).total

    def observe(self, model: Model, report: EpochReport, beta: float) -> None:
        """Call after each epoch with its report; ``beta`` is the run's final β."""
        self._training_seconds += report.seconds
        if self.epoch is not None or report.epoch % self.every:
            return
        if self.sampled_total(model, beta) <= self.target:
            self.epoch, self.seconds = report.epoch, self._training_seconds


#: data sets larger than this train at :data:`BIG_SET_BATCH_SIZE` unless told otherwise
BIG_SET_IMAGES = 10_000
#: a big set's batch: 4x fewer optimiser steps per epoch than batch 64 (Adam's passes over
#: a 784→256→2 model's 405 k parameters, per step, are a fifth of a 60,000-image epoch at
#: batch 64) and wider, more efficient matrix products; measured in benchmarks/RESULTS.md
BIG_SET_BATCH_SIZE = 256


def recommended_batch_size(n_images: int) -> int:
    """The default batch size for a data set of ``n_images``: the recipe's 96 (chosen on
    the 1,797 digits) up to :data:`BIG_SET_IMAGES`, :data:`BIG_SET_BATCH_SIZE` above."""
    return TrainConfig.batch_size if n_images <= BIG_SET_IMAGES else BIG_SET_BATCH_SIZE
