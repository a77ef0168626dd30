"""Every computation over the whole data set that the window needs, in one place, on the
background worker.

Encoding the data for the map, evaluating a model, its latent diagnostics, PCA and the
nearest-image search all cost time proportional to the number of images N (at 60,000 ×
28×28: encoding ~60 ms, the nearest image ~13 ms, an evaluation ~0.7 s). They live here,
behind :class:`DataAnalysis`, and run on one
:class:`~latentlab.gui.background.BackgroundService` thread, never in a panel.

Asking never blocks: each query returns the cached result, or ``None`` after queueing the
work; :attr:`DataAnalysis.ready` then says ``(what, subject)`` once the result is cached,
and the panel asks again. A data set of at most :data:`INLINE_VALUES` values is small
enough to answer at once, on the calling thread. Results are cached per model snapshot
(snapshots are never changed in place: the controller sends fresh copies), so several
panels asking about one snapshot cost one computation.

While a model trains, panels ask about every snapshot, faster than the work takes. Each
query key has at most one task in flight and one request waiting (a newer one replaces
it), and the next task of a key starts no sooner than its pace allows (``_DUTY``), so
results keep coming at a steady rate, the training thread keeps a core, and a panel shows
the newest result it has (:class:`Asked`).

The map gets every point. The trade-off figures and the diagnostics are computed on a
fixed sample of :data:`SAMPLE_SIZE` images when the data set is larger (the panels say so):
whole-set figures at 60,000 images would keep the worker busy for a second per snapshot
and hold up the map. The smoothness figures take every image's code for the region and a
sample of :data:`SMOOTHNESS_REFERENCE` images as the nearest-image reference.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from latentlab.core import Dataset, LossReport, Model
from latentlab.core.analysis import (
    NearestImageIndex,
    encode_in_chunks,
    evaluate_in_chunks,
    pca_residual_mse,
    sample_rows,
)
from latentlab.core.diagnostics import LatentDiagnostics, diagnose_latents
from latentlab.core.pca import LatentPlane, pca_plane
from latentlab.core.smoothness import Smoothness, measure_smoothness
from latentlab.core.vqvae import VQVAE, CodeUsage

from .background import BackgroundService, StopFlag

log = logging.getLogger(__name__)

#: Images the trade-off figures and diagnostics use on a larger data set: ~0.1 s per
#: snapshot at 784 pixels, short enough not to hold up the map's encoding behind it.
SAMPLE_SIZE = 10_000
#: Data sets of at most this many values (images × pixels) are analysed at once on the
#: calling thread: encoding the 1,797 8×8 digits (115,008 values) takes ~0.3 ms, less than
#: a round trip through the worker, and an answer in the same turn of the event loop keeps
#: the window's frame pacing (the training worker waits while the GUI draws each frame).
INLINE_VALUES = 1_000_000
#: The smoothness figures' nearest-image reference (core.smoothness): every image of a set
#: this small (the digits' 1,797), else a seeded sample of this many. At 60,000 × 784 a
#: measurement then took 1.2 s against 3.4–3.8 s with core's 5,000 (side by side, one
#: core, load 7.5): the worker is one thread, and a click's nearest image waits behind it.
SMOOTHNESS_REFERENCE = 2_000
#: Task priorities: what a user watches move comes first.
_MAP, _NEAREST, _FIGURES, _SMOOTHNESS = 2, 1, 0, -1
#: The share of one core each kind of work may take while snapshots stream in: after a
#: task of a key, the next one waits duration × (1 / duty − 1), but never longer than the
#: kind's longest pause. With two cores, training takes one and the GUI thread needs its
#: share of the other: at 60,000 images an encoding takes ~60 ms on a quiet machine (the
#: map refreshes ~4 times a second) and several times that on a busy one (the pause cap
#: keeps it near 2 a second); the digits' 0.3 ms keep up with every snapshot.
_DUTY = {_MAP: 0.25, _NEAREST: 0.1, _FIGURES: 0.1, _SMOOTHNESS: 0.1}
_MAX_PAUSE = {_MAP: 0.2, _NEAREST: 0.2, _FIGURES: 2.0, _SMOOTHNESS: 5.0}


@dataclass(frozen=True)
class Codes:
    """The encoding of every image: ``mu: (N, K)``; ``log_var: (N, K)`` for a VAE, else None;
    ``pca``: the plane of ``mu``'s first two principal components (the map's PCA view;
    None for a 1-D latent), fitted with them (~60 ms at 60,000 × 32: not on the GUI
    thread)."""

    mu: np.ndarray
    log_var: np.ndarray | None
    pca: LatentPlane | None

    @classmethod
    def of(cls, mu: np.ndarray, log_var: np.ndarray | None) -> Codes:
        return cls(mu, log_var, pca_plane(mu) if mu.shape[1] >= 2 else None)


@dataclass(frozen=True)
class CodeAssignment:
    """A VQ-VAE on the whole data set: ``codes: (N,)``, the code each image snaps to, and
    ``usage`` (counts per code, perplexity, used codes)."""

    codes: np.ndarray
    usage: CodeUsage


@dataclass(frozen=True)
class ModelDiagnostics:
    """A model on the data (or its sample, see ``rows``): per-pixel reconstruction MSE of
    decode(μ), PCA's MSE with as many components as the model has latent dims, and (VAE
    only) the per-dim KL and active units."""

    model_mse: float
    pca_mse: float
    latents: LatentDiagnostics | None
    rows: int  # images the figures were computed on


@dataclass(frozen=True)
class MeasuredSmoothness:
    """A model's smoothness over one view of its codes: ``figures`` (None when there is no
    region to measure, then ``problem`` says why), over the codes of ``rows`` images (the
    nearest-image reference is ``figures.n_reference`` of them)."""

    figures: Smoothness | None
    problem: str
    rows: int


@dataclass(frozen=True)
class Nearest:
    """The training image nearest to a decoding in pixel space."""

    index: int
    distance: float


@dataclass
class _DataState:
    """What the work derives from one data set. Tasks capture it, so a task queued for
    an old data set can never write into the new one's; ``index`` and ``pca`` are set only
    by the work (on the one worker thread, or inline for a small set: never both)."""

    dataset: Dataset
    sample: np.ndarray | None  # sorted rows of the sample, or None: every image
    index: NearestImageIndex | None = None
    pca: np.ndarray | None = None  # pca_residual_mse of the sample (or all images)
    #: what ("codes", "nearest", …) → the ``threading.get_ident()`` of every thread it ran on
    threads: dict[str, set[int]] = field(default_factory=dict)


class DataAnalysis(QObject):
    """Whole-data computations on one data set at a time, on a worker thread; create and
    ask it on the GUI thread.

    Signal ``ready(what, subject)``: ``what`` is ``"codes"``, ``"evaluation"``,
    ``"diagnostics"``, ``"smoothness"`` (subject: the model) or ``"nearest"`` (subject: the
    query's key).
    """

    ready = Signal(str, object)

    def __init__(self, dataset: Dataset, service: BackgroundService,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service  # the window's one worker, shared with other commands
        self.encodes = 0  # whole-data encodings delivered so far (tests and the benchmark)
        # Per query key: the subject of the task in flight, the request waiting for its
        # turn (the newest one wins), the timer that starts it when the pace allows, and
        # when the next task may start (monotonic seconds).
        self._in_flight: dict[str, object] = {}
        self._waiting: dict[str, tuple[object, Any, Any, tuple[str, object], int]] = {}
        self._timers: dict[str, QTimer] = {}
        self._not_before: dict[str, float] = {}
        self._closed = False
        self.set_dataset(dataset)

    # -- data set ------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset) -> None:
        """Analyse ``dataset`` from now on: every queued or running task is cancelled (its
        result never arrives) and every cached result dropped."""
        self.close()
        n = len(dataset)
        sample = sample_rows(n, SAMPLE_SIZE) if n > SAMPLE_SIZE else None
        self._state = _DataState(dataset, sample)
        self._inline = dataset.images.size <= INLINE_VALUES
        self._codes: weakref.WeakKeyDictionary[Model, Codes] = weakref.WeakKeyDictionary()
        self._evaluations: weakref.WeakKeyDictionary[Model, dict[float, LossReport]] = \
            weakref.WeakKeyDictionary()
        self._diagnostics: weakref.WeakKeyDictionary[Model, ModelDiagnostics] = \
            weakref.WeakKeyDictionary()
        self._assignments: weakref.WeakKeyDictionary[Model, CodeAssignment] = \
            weakref.WeakKeyDictionary()
        self._smoothness: weakref.WeakKeyDictionary[Model, dict[bytes, MeasuredSmoothness]] = \
            weakref.WeakKeyDictionary()
        self._nearest: dict[str, tuple[bytes, Nearest]] = {}
        self._not_before = {}

    @property
    def dataset(self) -> Dataset:
        return self._state.dataset

    @property
    def sample_size(self) -> int:
        """Images the figures (evaluation, diagnostics) are computed on."""
        sample = self._state.sample
        return len(self.dataset) if sample is None else len(sample)

    @property
    def worker_threads(self) -> dict[str, set[int]]:
        """The threads (``threading.get_ident()``) each kind of work on this data set ran
        on: the worker's, or for a small set the caller's."""
        return {what: set(idents) for what, idents in self._state.threads.items()}

    def fits(self, model: Model) -> bool:
        """True when ``model`` takes images of this data set's size."""
        return model.input_dim == self.dataset.images.shape[1]

    def shutdown(self) -> None:
        """The window is closing: cancel everything; later questions get no answer (a
        panel's last zero-timer may still ask)."""
        self.close()
        self._closed = True

    def close(self) -> None:
        """Cancel every task this object asked for and every pending request."""
        for timer in self._timers.values():
            timer.stop()
        for key in self._in_flight:
            self.service.cancel(key)
        self._in_flight = {}
        self._waiting = {}

    # -- queries (GUI thread; None = queued, ``ready`` follows) ----------------------------
    def codes(self, model: Model, key: str = "codes") -> Codes | None:
        """The encoding of every image by ``model``, or None while it is computed."""
        found = self._codes.get(model)
        if found is None:
            state = self._state

            def work(_stop: StopFlag) -> Codes:
                state.threads.setdefault("codes", set()).add(threading.get_ident())
                mu, log_var = encode_in_chunks(model, state.dataset.images)
                return Codes.of(mu, log_var)

            def store(codes: Codes) -> None:
                self._codes[model] = codes
                self.encodes += 1

            self._ask(f"codes:{key}", model, work, store, ("codes", model), _MAP)
            found = self._codes.get(model)
        return found

    def cached_codes(self, model: Model) -> Codes | None:
        """The codes if they were computed already, else None (nothing is asked)."""
        return self._codes.get(model)

    def codes_now(self, model: Model) -> Codes:
        """The codes at once, computed on the calling thread unless cached: for a command
        the user waits for (an export writes every code anyway), never for a frame."""
        found = self._codes.get(model)
        if found is None:
            mu, log_var = encode_in_chunks(model, self.dataset.images)
            found = self._codes[model] = Codes.of(mu, log_var)
            self.encodes += 1
        return found

    def code_assignment(self, model: VQVAE) -> CodeAssignment | None:
        """The code every image snaps to under a VQ-VAE and their usage, or None while it
        is computed (then ``ready("assignment", model)``)."""
        found = self._assignments.get(model)
        if found is None:
            state = self._state

            def work(_stop: StopFlag) -> CodeAssignment:
                state.threads.setdefault("assignment", set()).add(threading.get_ident())
                mu, _ = encode_in_chunks(model, state.dataset.images)
                codes = model.quantise(mu)
                return CodeAssignment(codes, CodeUsage.from_codes(codes, model.n_codes))

            def store(assignment: CodeAssignment) -> None:
                self._assignments[model] = assignment

            self._ask("assignment", model, work, store, ("assignment", model), _FIGURES)
            found = self._assignments.get(model)
        return found

    def evaluate(self, model: Model, beta: float) -> LossReport | None:
        """``model.evaluate`` at ``beta`` (z = μ) on the sample, or None while computed."""
        found = self._evaluations.get(model, {}).get(beta)
        if found is None:
            state = self._state

            def work(_stop: StopFlag) -> LossReport:
                state.threads.setdefault("evaluation", set()).add(threading.get_ident())
                return evaluate_in_chunks(model, state.dataset.images, beta,
                                          rows=state.sample)

            def store(report: LossReport) -> None:
                self._evaluations.setdefault(model, {})[beta] = report

            self._ask("evaluation", (model, beta), work, store, ("evaluation", model),
                      _FIGURES)
            found = self._evaluations.get(model, {}).get(beta)
        return found

    def diagnose(self, model: Model) -> ModelDiagnostics | None:
        """Reconstruction error against PCA's and, for a VAE, per-dim KL and active units,
        on the sample; None while computed."""
        found = self._diagnostics.get(model)
        if found is None:
            state = self._state

            def work(_stop: StopFlag) -> ModelDiagnostics:
                state.threads.setdefault("diagnostics", set()).add(threading.get_ident())
                images, rows = state.dataset.images, state.sample
                if state.pca is None:
                    state.pca = pca_residual_mse(images, rows=rows)
                mu, log_var = encode_in_chunks(model, images, rows=rows)
                report = evaluate_in_chunks(model, images, rows=rows)
                latents = None if log_var is None else diagnose_latents(mu, log_var)
                k = min(int(model.latent_dim), len(state.pca) - 1)
                return ModelDiagnostics(report.mse, float(state.pca[k]), latents, len(mu))

            def store(found: ModelDiagnostics) -> None:
                self._diagnostics[model] = found

            self._ask("diagnostics", model, work, store, ("diagnostics", model), _FIGURES)
            found = self._diagnostics.get(model)
        return found

    def smoothness(self, model: Model, plane: LatentPlane,
                   key: str = "smoothness") -> MeasuredSmoothness | None:
        """How smooth and data-like ``model``'s decodes are over its codes' region in
        ``plane`` (:func:`~latentlab.core.smoothness.measure_smoothness` over the codes of
        every image, with distances to :data:`SMOOTHNESS_REFERENCE` of them at most), or
        None while measured (then ``ready("smoothness", model)``). Always on the worker:
        even on the digits a measurement (3,600 decodes, each against every image) takes
        ~0.25 s, too long for a turn of the event loop."""
        view = plane.origin.tobytes() + plane.basis.tobytes()
        found = self._smoothness.get(model, {}).get(view)
        if found is None:
            state = self._state

            def work(_stop: StopFlag) -> MeasuredSmoothness:
                state.threads.setdefault("smoothness", set()).add(threading.get_ident())
                # Every image's code (the region); the reference is a sample of them.
                images = state.dataset.images
                try:
                    figures = measure_smoothness(model, images, plane,
                                                 max_reference=SMOOTHNESS_REFERENCE)
                except ValueError as exc:  # e.g. a collapsed latent: the codes span no region
                    return MeasuredSmoothness(None, str(exc), len(images))
                return MeasuredSmoothness(figures, "", len(images))

            def store(measured: MeasuredSmoothness) -> None:
                self._smoothness.setdefault(model, {})[view] = measured

            self._ask(f"smoothness:{key}", (model, view), work, store, ("smoothness", model),
                      _SMOOTHNESS, inline=False)
            found = self._smoothness.get(model, {}).get(view)
        return found

    def pca_mse(self, k: int) -> float | None:
        """PCA's per-pixel reconstruction MSE with ``k`` components on the sample (every
        image of a small set), or None until the first diagnosis has computed it."""
        curve = self._state.pca
        return None if curve is None else float(curve[min(int(k), len(curve) - 1)])

    def nearest(self, image: np.ndarray, key: str = "nearest") -> Nearest | None:
        """The training image nearest to ``image: (D,)``, or None while searched (then
        ``ready("nearest", key)``)."""
        image = np.ascontiguousarray(image, dtype=np.float32).reshape(-1)
        fingerprint = image.tobytes()
        cached = self._nearest.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        state = self._state

        def work(_stop: StopFlag) -> Nearest:
            state.threads.setdefault("nearest", set()).add(threading.get_ident())
            if state.index is None:
                state.index = NearestImageIndex(state.dataset.images)
            index, distance = state.index.query(image)
            return Nearest(index, distance)

        def store(found: Nearest) -> None:
            self._nearest[key] = (fingerprint, found)

        self._ask(f"nearest:{key}", fingerprint, work, store, ("nearest", key), _NEAREST)
        cached = self._nearest.get(key)
        return cached[1] if cached is not None and cached[0] == fingerprint else None

    def latest_nearest(self, key: str = "nearest") -> Nearest | None:
        """The last search result for ``key`` (for the image asked before the newest one
        while that is searched)."""
        cached = self._nearest.get(key)
        return None if cached is None else cached[1]

    def _ask(self, key: str, subject: object, work: Any, store: Any,
             announce: tuple[str, object], priority: int, inline: bool = True) -> None:
        """Run ``work`` for ``subject`` (a model, (model, β), an image's bytes) under
        ``key`` and ``store`` its result: on a small data set at once, here (unless not
        ``inline``); else on the worker, as soon as the key is free and its pace allows (a
        newer request replaces a waiting one; the same subject is never asked twice), then
        ``ready(*announce)``."""
        if self._closed:
            return
        if self._inline and inline:
            store(work(_never))
            return
        if self._in_flight.get(key, _NOTHING) == subject:
            return
        waiting = self._waiting.get(key)
        if waiting is not None and waiting[0] == subject:
            return
        self._waiting[key] = (subject, work, store, announce, priority)
        self._start_next(key)

    def _start_next(self, key: str) -> None:
        if key in self._in_flight or key not in self._waiting:
            return
        delay = self._not_before.get(key, 0.0) - time.monotonic()
        if delay > 0:
            timer = self._timers.get(key)
            if timer is None:
                timer = self._timers[key] = QTimer(self)
                timer.setSingleShot(True)
                timer.timeout.connect(lambda: self._start_next(key))
            if not timer.isActive():
                timer.start(max(1, round(delay * 1000)))
            return
        subject, work, store, announce, priority = self._waiting.pop(key)

        def timed(stop: StopFlag) -> tuple[Any, float, float]:
            started = time.monotonic()
            return work(stop), started, time.monotonic() - started

        def deliver(outcome: tuple[Any, float, float]) -> None:
            result, started, seconds = outcome
            pause = min(seconds * (1.0 / _DUTY[priority] - 1.0), _MAX_PAUSE[priority])
            self._settle(key, started + seconds + pause)
            store(result)
            self.ready.emit(*announce)

        def failed(text: str) -> None:  # the panel keeps what it shows; a new ask retries
            self._settle(key, time.monotonic())
            log.error("background %s failed:\n%s", key, text)

        self._in_flight[key] = subject
        self.service.submit(key, timed, deliver, failed, priority=priority)

    def _settle(self, key: str, not_before: float) -> None:
        self._in_flight.pop(key, None)
        self._not_before[key] = not_before
        self._start_next(key)


class Asked:
    """The snapshots a view asked the analysis about whose results have not arrived yet,
    oldest first. While a model trains the analysis skips snapshots overtaken by newer
    ones, so a view shows any result that arrives for one it asked about (the newest it
    can have) and forgets the older asks."""

    def __init__(self) -> None:
        self._models: list[Model] = []

    def add(self, model: Model) -> None:
        if not any(m is model for m in self._models):
            self._models.append(model)

    @property
    def pending(self) -> bool:
        """True while some asked snapshot's result has not arrived."""
        return bool(self._models)

    def settle(self, subject: object) -> bool:
        """True when ``subject`` was asked about; it and every older ask are dropped."""
        for i, model in enumerate(self._models):
            if model is subject:
                del self._models[:i + 1]
                return True
        return False

    def clear(self) -> None:
        self._models.clear()


_NOTHING = object()


def _never() -> bool:
    return False


__all__ = ["INLINE_VALUES", "SAMPLE_SIZE", "SMOOTHNESS_REFERENCE", "Asked", "CodeAssignment",
           "Codes", "DataAnalysis", "MeasuredSmoothness", "ModelDiagnostics", "Nearest"]
