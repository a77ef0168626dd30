"""One training controller, one worker thread.

The :class:`TrainingController` lives on the GUI thread and owns exactly one ``QThread``.
Every training *job* (start, resume, one step, a β retrain) is a fresh :class:`_JobWorker`
``QObject`` moved to that thread and started with a queued call, so jobs run one after the
other in the thread's event loop. A job advances one or more :class:`~latentlab.core.Trainer`
objects epoch by epoch, checks a cooperative stop flag between batches
(``Trainer.run_epoch(should_stop=...)``) and sends *copies* of the models to the GUI thread,
throttled by time so the GUI receives at most ~36 updates per second whatever the epoch rate.

Cancelling a job (a new β, Reset, closing the window) sets its stop flag and disconnects its
progress signals *before* the next job starts; every payload also carries its job id and the
GUI-side slots drop anything that is not from the current job, so a stale result can never
reach the session. Pausing is a stop that keeps the job's last snapshot (it is not stale).

Widgets are never touched here: the controller re-emits plain signals from GUI-thread slots,
and the session (:meth:`latentlab.gui.session.LabSession.follow`) stores what they carry.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot

from latentlab.core import EpochReport, Model, TrainConfig, Trainer, TrainingDiverged
from latentlab.core.vqvae import VQVAE

#: Training time between two snapshots sent to the GUI (seconds). The worker pauses while
#: the GUI draws each one, so the frame rate is 1 / (this + the GUI's drawing time).
DEFAULT_EMIT_INTERVAL = 0.020
#: Training time between two snapshots sent in the middle of an epoch (seconds).
MID_EPOCH_INTERVAL = 0.05
#: Longest the worker waits for the GUI to draw a snapshot before it trains on anyway.
MAX_FRAME_WAIT = 0.25
#: The worker trains in slices of about this much time (checked between batches) and then
#: sleeps for YIELD_FOR, so a GUI thread waiting for the GIL gets it at once instead of
#: waiting for the interpreter's forced switch.
YIELD_AFTER = 0.006
YIELD_FOR = 0.0003


class TrainingState(enum.Enum):
    IDLE = "idle"  # nothing trained yet (or after Reset)
    RUNNING = "running"
    PAUSED = "paused"  # stopped part-way; Resume continues the same trainer
    FINISHED = "finished"  # reached the configured number of epochs
    DIVERGED = "diverged"  # NaN/Inf: the last finite weights are kept


@dataclass
class Progress:
    """One throttled update from the worker, delivered on the GUI thread.

    ``models`` maps a slot (``"vae"``/``"ae"``) to an independent copy of that model;
    ``reports`` holds every :class:`EpochReport` finished since the previous update, per
    slot, so loss curves never miss an epoch even though snapshots are throttled.
    """

    job_id: int
    models: dict[str, Model]
    reports: dict[str, list[EpochReport]]
    epochs_done: int  # epochs of the primary slot finished in this job
    epochs_total: int  # epochs this job will run for the primary slot
    elapsed: float  # seconds since the job started
    final: bool = False
    #: The slots whose weights changed since the previous update (a snapshot in the
    #: middle of an epoch has no report yet, but its model has moved).
    moved: frozenset[str] = frozenset()


@dataclass
class _Task:
    slot: str
    trainer: Trainer
    target_epoch: int  # run until trainer.epoch reaches this


@dataclass
class _Job:
    job_id: int
    tasks: list[_Task]
    primary: str
    emit_interval: float
    epochs_per_second: float | None
    stop: threading.Event = field(default_factory=threading.Event)
    # Back-pressure. Cleared while the GUI has drawing to do (from the moment a snapshot is
    # sent until it is handled *and painted*, or while slower panels refresh) and set
    # again by a zero-timer on the GUI thread afterwards. The worker waits for it between
    # batches, so it never queues a frame behind an unhandled one (a slow GUI or a busy
    # machine gets fewer, fresher frames instead of an ever-growing event queue) and the
    # GUI gets the CPU and the GIL to itself while it draws.
    gui_idle: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gui_idle.set()


class _JobWorker(QObject):
    """Runs one job on the controller's thread. Never touches a widget."""

    progress = Signal(object)  # Progress
    diverged = Signal(int, str, str)  # job_id, slot, message
    failed = Signal(int, str)  # job_id, traceback text
    done = Signal(int)  # job_id; always emitted last

    def __init__(self, job: _Job) -> None:
        super().__init__()
        self.job = job
        self._slot = job.primary  # the slot being trained right now

    @Slot()
    def run(self) -> None:
        job = self.job
        try:
            self._run(job)
        except TrainingDiverged as exc:
            self.diverged.emit(job.job_id, self._slot, str(exc))
        except Exception:  # report everything else on the GUI thread
            self.failed.emit(job.job_id, traceback.format_exc())
        finally:
            self.done.emit(job.job_id)

    def _run(self, job: _Job) -> None:
        start = time.perf_counter()
        last_emit = start  # the first snapshot goes out after one interval, not at once
        pending: dict[str, list[EpochReport]] = {t.slot: [] for t in job.tasks}
        first = {t.slot: t.trainer.epoch for t in job.tasks}
        total = sum(max(0, t.target_epoch - t.trainer.epoch) for t in job.tasks)
        stop, gui_idle = job.stop, job.gui_idle

        slice_start = time.perf_counter()

        moved_within_epoch: set[str] = set()

        def should_stop() -> bool:  # polled by the trainer between batches
            nonlocal slice_start
            if not gui_idle.is_set():
                gui_idle.wait(MAX_FRAME_WAIT)
                slice_start = time.perf_counter()
            elif time.perf_counter() - slice_start >= YIELD_AFTER:
                time.sleep(YIELD_FOR)  # releases the GIL: the GUI thread runs if it waits
                slice_start = time.perf_counter()
            if stop.is_set():
                return True
            # A long epoch (60,000 images: ~1-2 s) still shows the model move.
            if gui_idle.is_set() and time.perf_counter() - last_emit >= MID_EPOCH_INTERVAL:
                moved_within_epoch.add(self._slot)
                emit(final=False)
            return False

        next_tick = start

        def emit(final: bool) -> None:
            nonlocal last_emit
            models = {t.slot: t.trainer.model.copy() for t in job.tasks}
            reports = {slot: list(reps) for slot, reps in pending.items()}
            moved = frozenset(moved_within_epoch | {slot for slot, reps in reports.items()
                                                    if reps})
            moved_within_epoch.clear()
            for reps in pending.values():
                reps.clear()
            if not final:
                gui_idle.clear()  # let the GUI draw this before training on
            now = time.perf_counter()
            done = sum(t.trainer.epoch - first[t.slot] for t in job.tasks)
            self.progress.emit(
                Progress(
                    job_id=job.job_id,
                    models=models,
                    reports=reports,
                    epochs_done=done,
                    epochs_total=total,
                    elapsed=now - start,
                    final=final,
                    moved=moved,
                )
            )
            last_emit = now

        try:
            # Tasks run one after the other (the start-up job trains the VAE first, so
            # the map a new user sees first is ready first).
            for task in job.tasks:
                while task.trainer.epoch < task.target_epoch and not should_stop():
                    self._slot = task.slot
                    report = task.trainer.run_epoch(should_stop=should_stop)
                    if report is None:  # stopped between batches
                        return
                    pending[task.slot].append(report)
                    now = time.perf_counter()
                    if now - last_emit >= job.emit_interval and gui_idle.is_set():
                        emit(final=False)
                    rate = job.epochs_per_second
                    if rate:
                        next_tick = max(next_tick + 1.0 / rate, now - 0.25)
                        delay = next_tick - time.perf_counter()
                        if delay > 0 and stop.wait(delay):
                            return
                    else:
                        next_tick = now
        finally:
            emit(final=True)


_LIVE_CONTROLLERS: weakref.WeakSet[TrainingController] = weakref.WeakSet()


@atexit.register
def _stop_live_controllers() -> None:
    """Last line of defence: a window never closed (a script that simply ends) must not
    leave its thread running when Qt objects are torn down at exit."""
    for controller in list(_LIVE_CONTROLLERS):
        with contextlib.suppress(RuntimeError):  # C++ side already deleted
            controller.shutdown()


class TrainingController(QObject):
    """Owns the one training thread and every :class:`Trainer`; GUI thread only.

    Signals (all emitted on the GUI thread):

    * ``updated(Progress)`` — fresh model copies and the epochs finished since last time;
    * ``stateChanged(TrainingState)``;
    * ``diverged(slot, message)`` and ``failed(message)``;
    * ``jobStarted(job_id)`` / ``jobFinished(job_id)``.
    """

    updated = Signal(object)
    stateChanged = Signal(object)
    diverged = Signal(str, str)
    failed = Signal(str)
    jobStarted = Signal(int)
    jobFinished = Signal(int)

    def __init__(self, images: np.ndarray, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._images = images
        self._thread = QThread()
        self._thread.setObjectName("latentlab-training")
        self._thread.start()
        self._trainers: dict[str, Trainer] = {}
        self._epochs: dict[str, int] = {}
        self._requested: dict[str, TrainConfig] = {}  # the config asked for, per slot
        self.fresh_slots: set[str] = set()  # slots that got freshly seeded weights last train()
        self._latest: dict[str, Model] = {}
        self._workers: dict[int, _JobWorker] = {}
        self._job: _Job | None = None
        self._next_id = 1
        self._state = TrainingState.IDLE
        self.emit_interval = DEFAULT_EMIT_INTERVAL
        self._epochs_per_second: float | None = None
        self._shut_down = False
        self.jobs_started = 0  # for tests and the benchmark
        _LIVE_CONTROLLERS.add(self)

    # -- queries ------------------------------------------------------------------------
    @property
    def state(self) -> TrainingState:
        return self._state

    @property
    def running(self) -> bool:
        return self._job is not None and not self._job.stop.is_set()

    @property
    def busy(self) -> bool:
        """True while any job (current or cancelled) is still on the thread."""
        return bool(self._workers)

    @property
    def current_job_id(self) -> int | None:
        return None if self._job is None else self._job.job_id

    def config(self, slot: str) -> TrainConfig | None:
        trainer = self._trainers.get(slot)
        return None if trainer is None else trainer.config

    def epoch(self, slot: str) -> int:
        """Epochs the slot's trainer has finished (as last reported to the GUI thread)."""
        trainer = self._trainers.get(slot)
        return 0 if trainer is None else self._epochs.get(slot, 0)

    def hold_worker(self) -> None:
        """Pause the worker between batches until the GUI's pending events (including the
        repaint of whatever the caller is about to change) have been processed."""
        job = self._job
        if job is not None and not job.stop.is_set():
            job.gui_idle.clear()
            QTimer.singleShot(0, job.gui_idle.set)

    def set_epochs_per_second(self, rate: float | None) -> None:
        """Pace training (``None`` = as fast as possible); applies to the running job too."""
        self._epochs_per_second = rate
        if self._job is not None:
            self._job.epochs_per_second = rate

    # -- commands -----------------------------------------------------------------------
    def train(
        self,
        configs: dict[str, TrainConfig],
        primary: str,
        *,
        from_scratch: bool = False,
        keep_weights: bool = True,
    ) -> int:
        """Cancel whatever runs and train each slot in ``configs`` up to its ``epochs``.

        A slot whose trainer already has exactly this config resumes it (same optimiser).
        Otherwise a new trainer starts from the slot's latest weights when ``keep_weights``
        and the architecture matches, or from a fresh seeded model. Returns the job id.
        """
        self._cancel(stale=True)
        self.fresh_slots = set()
        tasks = []
        for slot, cfg in configs.items():
            trainer = self._trainer_for(slot, cfg, from_scratch, keep_weights)
            if trainer.epoch >= cfg.epochs:  # finished: a new run of cfg.epochs epochs
                base = self._latest.get(slot)
                model = base.copy() if base is not None else trainer.model.copy()
                trainer = Trainer(replace(cfg, warmup_epochs=0), self._images, model=model)
                self._trainers[slot] = trainer
                self._epochs[slot] = 0
            tasks.append(_Task(slot, trainer, cfg.epochs))
        return self._launch(tasks, primary)

    def adopt(self, slot: str, model: Model, cfg: TrainConfig) -> None:
        """Use an already trained ``model`` (e.g. shipped weights) for ``slot``: it is the
        slot's latest model, and training with ``cfg`` continues from its weights."""
        self._cancel(stale=True)
        self._latest[slot] = model
        self._trainers[slot] = Trainer(replace(cfg, warmup_epochs=0), self._images,
                                       model=model.copy())
        self._requested[slot] = cfg
        self._epochs[slot] = 0
        self._set_state(TrainingState.IDLE)  # nothing runs; Start trains on from here

    def step(self, cfg: TrainConfig, primary: str) -> int:
        """Run exactly one more epoch of ``primary`` (pauses a running job first)."""
        self._cancel(stale=False)
        self.fresh_slots = set()
        trainer = self._trainer_for(primary, cfg, False, True)
        return self._launch([_Task(primary, trainer, trainer.epoch + 1)], primary)

    def pause(self) -> None:
        """Stop between batches; the job's last snapshot still arrives. Resume with train()."""
        self._cancel(stale=False)

    def reset(self, slot: str | None = None) -> None:
        """Cancel any job and forget the trainer(s); the next start builds a fresh model."""
        self._cancel(stale=True)
        for s in [slot] if slot else list(self._trainers):
            self._trainers.pop(s, None)
            self._epochs.pop(s, None)
            self._latest.pop(s, None)
            self._requested.pop(s, None)
        self._set_state(TrainingState.IDLE)

    def set_images(self, images: np.ndarray) -> None:
        """Train on ``images`` from now on: cancels any job (its results never arrive) and
        forgets every trainer and model, which were fitted to the old data."""
        self.reset()
        self._images = images

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the job, end the thread and wait for it (idempotent). True if it ended."""
        if self._shut_down:
            return True
        self._shut_down = True
        self._cancel(stale=True)
        self._thread.quit()
        ok = self._thread.wait(timeout_ms)
        self._workers.clear()
        return bool(ok)

    # -- internals ----------------------------------------------------------------------
    def _trainer_for(
        self, slot: str, cfg: TrainConfig, from_scratch: bool, keep_weights: bool
    ) -> Trainer:
        old = self._trainers.get(slot)
        if old is not None and not from_scratch and self._requested.get(slot) == cfg:
            return old
        base = self._latest.get(slot)
        same_arch = (
            base is not None
            and old is not None
            and base.kind == cfg.model
            and base.latent_dim == cfg.latent_dim
            and base.hidden_dim == cfg.hidden_dim
            # a VQ-VAE's codebook size and update rule are part of its architecture
            and (not isinstance(base, VQVAE) or base.config == cfg.model_config(base.input_dim))
        )
        if keep_weights and not from_scratch and same_arch and base is not None:
            # Continuing trained weights: no second KL warm-up (β would drop to 0 and the
            # map would first fall apart).
            trainer = Trainer(replace(cfg, warmup_epochs=0), self._images, model=base.copy())
        else:
            trainer = Trainer(cfg, self._images)
            self.fresh_slots.add(slot)
        self._trainers[slot] = trainer
        self._requested[slot] = cfg
        self._epochs[slot] = 0
        return trainer

    def _launch(self, tasks: list[_Task], primary: str) -> int:
        if self._shut_down:
            raise RuntimeError("the training controller has been shut down")
        job = _Job(
            job_id=self._next_id,
            tasks=tasks,
            primary=primary,
            emit_interval=self.emit_interval,
            epochs_per_second=self._epochs_per_second,
        )
        self._next_id += 1
        worker = _JobWorker(job)
        worker.moveToThread(self._thread)
        worker.progress.connect(self._on_progress)
        worker.diverged.connect(self._on_diverged)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        self._workers[job.job_id] = worker
        self._job = job
        self.jobs_started += 1
        # Queued: run() starts in the worker thread once any earlier job there has returned.
        QMetaObject.invokeMethod(  # type: ignore[call-overload]  # str works at run time
            worker, "run", Qt.ConnectionType.QueuedConnection)
        self._set_state(TrainingState.RUNNING)
        self.jobStarted.emit(job.job_id)
        return job.job_id

    def _cancel(self, stale: bool) -> None:
        job = self._job
        if job is None:
            return
        job.stop.set()
        job.gui_idle.set()  # never leave the worker waiting for a frame that won't come
        if stale:
            worker = self._workers.get(job.job_id)
            if worker is not None:
                # Results of a cancelled job must never reach a panel: cut them off now.
                worker.progress.disconnect(self._on_progress)
                worker.diverged.disconnect(self._on_diverged)
                worker.failed.disconnect(self._on_failed)
            self._job = None
            if self._state is TrainingState.RUNNING:
                self._set_state(TrainingState.PAUSED)

    def _is_current(self, job_id: int) -> bool:
        return self._job is not None and self._job.job_id == job_id

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if not self._is_current(progress.job_id):
            return  # a stale payload that was already queued when its job was cancelled
        job = self._job
        assert job is not None
        self._latest.update(progress.models)
        for slot, reports in progress.reports.items():
            if reports:
                self._epochs[slot] = self._epochs.get(slot, 0) + len(reports)
        try:
            self.updated.emit(progress)
        finally:
            # Release the worker once the repaint this update scheduled has run: a
            # zero-timer fires after the already-posted update requests are processed.
            QTimer.singleShot(0, job.gui_idle.set)

    @Slot(int, str, str)
    def _on_diverged(self, job_id: int, slot: str, message: str) -> None:
        if not self._is_current(job_id):
            return
        self._job = None
        # The job's final snapshot (already delivered) holds the last finite weights; the
        # diverged trainer is dropped, so the next start builds a fresh model.
        self._trainers.pop(slot, None)
        self._epochs.pop(slot, None)
        self._set_state(TrainingState.DIVERGED)
        self.diverged.emit(slot, message)

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        if not self._is_current(job_id):
            return
        self._job = None
        self._set_state(TrainingState.PAUSED)
        self.failed.emit(message)

    @Slot(int)
    def _on_done(self, job_id: int) -> None:
        worker = self._workers.pop(job_id, None)
        if worker is not None:
            worker.deleteLater()
        if self._is_current(job_id):
            job = self._job
            assert job is not None
            self._job = None
            finished = all(t.trainer.epoch >= t.target_epoch for t in job.tasks)
            self._set_state(TrainingState.FINISHED if finished else TrainingState.PAUSED)
        self.jobFinished.emit(job_id)

    def _set_state(self, state: TrainingState) -> None:
        if state is not self._state:
            self._state = state
            self.stateChanged.emit(state)

