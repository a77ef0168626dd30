"""Several models of one architecture trained in one pass (K ≤ 16).

A :class:`StackedTrainer` keeps the K models' parameters as the rows of one ``(K, P)``
array and trains them with one stacked model (``Model(config, stack=K)``): the same
layers and losses as a single model (for the VAE and the autoencoder, their fused step,
:mod:`.fused`), on arrays with a leading K axis, so each NumPy call (a batched
``np.matmul``, a ufunc, Adam's passes) serves all K models. Where the models
see the same batches (equal seeds, as a β sweep has), the batch and the noise are shared,
not copied K times. Each model follows exactly the run a :class:`~.trainer.Trainer` with
its own config would give (up to float rounding: tests assert it), and
:attr:`StackedTrainer.models` are ordinary models whose weights *are* the rows, so
``copy()``, ``evaluate`` and saving work on them at any time.

What may differ between the configs: ``beta``, ``warmup_epochs`` and ``seed``; everything
else (kind, dims, dtype, batch size, learning rate, optimiser, clipping, epochs) is one.
Models of different architectures (the window's VAE beside its autoencoder) train in
one job with :class:`InterleavedTrainer`, one epoch of each in turn.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np

from .models import Model, build_model
from .optim import make_optimizer
from .registry import ModelKind
from .trainer import (
    BatchSource,
    EpochReport,
    StopFlag,
    TrainConfig,
    Trainer,
    TrainingDiverged,
    all_finite,
)

#: the most models one stack trains
MAX_MODELS = 16
#: the settings that may differ between a stack's models
PER_MODEL_SETTINGS = ("beta", "warmup_epochs", "seed")


class StackedTrainer:
    """Trains one model per config on ``data: (N, D)``, all in one pass.

    ``run_epoch`` trains the next epoch of every model (or the rest of a stopped one) and
    returns one :class:`~.trainer.EpochReport` per model; ``train`` yields those lists up
    to ``epochs``. :attr:`histories` holds each model's reports. Stopping between batches
    and resuming changes nothing, as with :class:`~.trainer.Trainer`.
    """

    def __init__(self, configs: Sequence[TrainConfig], data: np.ndarray) -> None:
        configs = list(configs)
        if not 1 <= len(configs) <= MAX_MODELS:
            raise ValueError(f"a stack trains 1 to {MAX_MODELS} models, not {len(configs)}")
        first = configs[0]
        shared = replace(first, **{name: getattr(TrainConfig(), name)
                                   for name in PER_MODEL_SETTINGS})
        for config in configs[1:]:
            if replace(config, **{n: getattr(shared, n) for n in PER_MODEL_SETTINGS}) != shared:
                raise ValueError("a stack's models may differ only in "
                                 f"{', '.join(PER_MODEL_SETTINGS)}")
        kind = ModelKind(first.model)
        if not kind.stacks:
            raise ValueError(f"a {kind.display_name} cannot be trained in a stack")
        data = np.asarray(data)
        if data.ndim != 2 or len(data) == 0:
            raise ValueError(f"training data must be a non-empty (N, D) array, got {data.shape}")
        self.configs = configs
        self.data = np.ascontiguousarray(data, dtype=np.dtype(first.dtype))
        if not all_finite(self.data):
            raise ValueError("training data contains NaN or Inf")
        model_config = first.model_config(self.data.shape[1])
        self.models: list[Model] = [build_model(model_config, seed=c.seed) for c in configs]
        k = len(configs)
        self._stack = kind.model_class(model_config, stack=k)
        store = self._stack.store
        for row, model in enumerate(self.models):
            store.values[row] = model.weights
            model.share_storage(store.values[row], store.grads[row])
        self.optimizer = make_optimizer(first.optimizer, store.values, store.grads,
                                        lr=first.lr, momentum=first.momentum,
                                        clip_norm=first.clip_norm)
        noise_rows = self._stack.noise_rows
        seeds = [c.seed for c in configs]
        # Equal seeds draw equal batches and noise: one source, shared by the whole stack.
        self._sources = [BatchSource(self.data, first.batch_size, noise_rows,
                                     np.random.default_rng(seed))
                         for seed in (seeds[:1] if len(set(seeds)) == 1 else seeds)]
        self._x_h: dict[int, np.ndarray] = {}
        self._eps: dict[int, np.ndarray] = {}
        self._last_finite = store.values.copy()
        self._beta = np.ones((k, 1, 1), dtype=self.data.dtype)
        self._progress: _StackEpoch | None = None
        self.epoch = 0
        self.histories: list[list[EpochReport]] = [[] for _ in configs]
        self.diverged: str | None = None

    @property
    def epochs(self) -> int:
        return self.configs[0].epochs

    @property
    def done(self) -> bool:
        return self.epoch >= self.epochs

    def _batch(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Batch ``i`` of the epoch: shared ``(D + 1, B)`` or stacked ``(K, D + 1, B)``."""
        if len(self._sources) == 1:
            return self._sources[0].batch(i)
        parts = [source.batch(i) for source in self._sources]
        x_h = _stacked(self._x_h, [x for x, _ in parts])
        noises = [e for _, e in parts if e is not None]
        eps = _stacked(self._eps, noises) if noises else None
        return x_h, eps

    def _start_epoch(self) -> _StackEpoch:
        for source in self._sources:
            source.shuffle()
        self.optimizer.lr = self.configs[0].lr_at(self.epoch)
        uses_beta = self._stack.regulariser_uses_beta
        betas = [c.beta_at(self.epoch) if uses_beta else 1.0 for c in self.configs]
        self._beta[:, 0, 0] = betas
        return _StackEpoch(np.array(betas), len(self.configs))

    def run_epoch(self, should_stop: StopFlag | None = None) -> list[EpochReport] | None:
        """Train the next epoch of every model; ``None`` when ``should_stop()`` turned
        true between batches (the next call resumes the same epoch)."""
        if self.diverged:
            raise TrainingDiverged(self.diverged)
        state = self._progress if self._progress is not None else self._start_epoch()
        self._progress = state
        weights, backup = self._stack.store.values, self._last_finite
        # Equal βs are passed as one float: the arithmetic of a single model's step.
        beta: float | np.ndarray = (float(state.betas[0]) if np.all(state.betas == state.betas[0])
                                    else self._beta)
        n_batches = len(self._sources[0])
        started = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while state.next_batch < n_batches:
                if should_stop is not None and should_stop():
                    state.seconds += time.perf_counter() - started
                    return None
                i = state.next_batch
                x_h, eps = self._batch(i)
                recon, kl = self._stack.train_step(x_h, beta, eps)
                # One NaN or Inf makes the sum non-finite (an autoencoder's kl is 0.0).
                if not math.isfinite(float(np.add.reduce(recon + kl))):
                    self._diverge(recon, np.broadcast_to(kl, recon.shape))
                np.copyto(backup, weights)
                self.optimizer.step()
                rows = x_h.shape[-1]
                state.recon_sum += recon * rows
                state.kl_sum += kl * rows
                state.next_batch = i + 1
            if not math.isfinite(float(weights.sum())):
                self._diverge(np.full(len(self.models), np.nan), np.full(len(self.models),
                                                                         np.nan))
        state.seconds += time.perf_counter() - started
        self._progress = None
        self.epoch += 1
        n = len(self.data)
        reports = []
        for row, history in enumerate(self.histories):
            recon, kl = float(state.recon_sum[row] / n), float(state.kl_sum[row] / n)
            b = float(state.betas[row])
            report = EpochReport(epoch=self.epoch, recon=recon, kl=kl, total=recon + b * kl,
                                 beta=b, seconds=state.seconds)
            history.append(report)
            reports.append(report)
        return reports

    def _diverge(self, recon: np.ndarray, kl: np.ndarray) -> None:
        self._stack.store.values[...] = self._last_finite
        self._progress = None
        bad = [row for row in range(len(self.models))
               if not math.isfinite(float(recon[row] + kl[row]))] or list(range(len(self.models)))
        which = ", ".join(f"β = {self.configs[r].beta:g} (seed {self.configs[r].seed})"
                          for r in bad)
        self.diverged = (
            f"training diverged in epoch {self.epoch + 1} for the model(s) with {which}: the "
            "loss or its gradient is no longer finite. Every model keeps its last finite "
            f"weights; lower the learning rate (now {self.configs[0].lr:g}) or enable "
            "gradient clipping.")
        raise TrainingDiverged(self.diverged)

    def train(self, should_stop: StopFlag | None = None) -> Iterator[list[EpochReport]]:
        """Yield each epoch's reports (one per model) until ``epochs`` or until stopped."""
        while not self.done:
            reports = self.run_epoch(should_stop)
            if reports is None:
                return
            yield reports


class _StackEpoch:
    """How far a stack's epoch got (its order and noise stay in the batch sources)."""

    def __init__(self, betas: np.ndarray, k: int) -> None:
        self.betas = betas
        self.next_batch = 0
        self.recon_sum = np.zeros(k)
        self.kl_sum = np.zeros(k)
        self.seconds = 0.0


def _stacked(buffers: dict[int, np.ndarray], parts: list[np.ndarray]) -> np.ndarray:
    """``parts`` (K arrays of one shape) copied into a reused ``(K, *shape)`` buffer."""
    key = parts[0].shape[-1]
    out = buffers.get(key)
    if out is None:
        out = buffers[key] = np.empty((len(parts), *parts[0].shape), dtype=parts[0].dtype)
    for row, part in enumerate(parts):
        out[row] = part
    return out


class InterleavedTrainer:
    """Trainers of different models (e.g. the window's VAE and autoencoder, which differ
    in architecture) as one job: each ``run_epoch`` trains one epoch of every trainer not
    yet done, in turn, and returns ``(index, report)`` pairs; a stop between batches
    resumes exactly where it was, in the same trainer.

    Each element may be a :class:`~.trainer.Trainer` or a :class:`StackedTrainer` (whose
    reports are lists, one per model of the stack).
    """

    def __init__(self, trainers: Sequence[Trainer | StackedTrainer]) -> None:
        if not trainers:
            raise ValueError("nothing to train")
        self.trainers = list(trainers)
        self._next = 0
        self._done_this_round: list[tuple[int, EpochReport | list[EpochReport]]] = []

    @property
    def done(self) -> bool:
        return all(t.done for t in self.trainers)

    @property
    def current(self) -> int:
        """The index of the trainer whose epoch runs now (as seen from ``should_stop``) or
        resumes at the next ``run_epoch``; 0 between rounds."""
        return self._next

    def run_epoch(self, should_stop: StopFlag | None = None
                  ) -> list[tuple[int, EpochReport | list[EpochReport]]] | None:
        """One epoch of each trainer not yet done; ``None`` if stopped between batches
        (the next call resumes the interrupted trainer, then goes on with the round)."""
        while self._next < len(self.trainers):
            index = self._next
            trainer = self.trainers[index]
            if not trainer.done:
                report = trainer.run_epoch(should_stop)
                if report is None:
                    return None
                self._done_this_round.append((index, report))
            self._next += 1
        reports, self._done_this_round, self._next = self._done_this_round, [], 0
        return reports

    def train(self, should_stop: StopFlag | None = None
              ) -> Iterator[list[tuple[int, EpochReport | list[EpochReport]]]]:
        while not self.done:
            reports = self.run_epoch(should_stop)
            if reports is None:
                return
            yield reports
