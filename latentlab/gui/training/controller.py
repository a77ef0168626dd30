"""One training controller, one worker thread.

The :class:`TrainingController` lives on the GUI thread and owns exactly one ``QThread``.
Every training *job* (start, resume, one step, a β retrain) is a fresh
:class:`~.jobs.JobWorker` ``QObject`` moved to that thread and started with a queued call, so
jobs run one after the other in the thread's event loop. A job trains one or more slots
together, one epoch of each in turn (:mod:`.jobs`), and sends *copies* of the models to the
GUI thread, throttled by time so the GUI receives at most ~36 updates per second whatever the
epoch rate. The controller only says what to train (a :class:`~.jobs.SlotRun` per slot: a
config and the weights to start from); the trainers are built and run on the worker thread.

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
import weakref
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot

from latentlab.core import Model, TrainConfig
from latentlab.core.vqvae import VQVAE

from .jobs import Job, JobWorker, Progress, SlotProgress, SlotRun, Task

#: Training time between two snapshots sent to the GUI (seconds). The worker pauses while
#: the GUI draws each one, so the frame rate is 1 / (this + the GUI's drawing time).
DEFAULT_EMIT_INTERVAL = 0.020


class TrainingState(enum.Enum):
    IDLE = "idle"  # nothing trained yet (or after Reset)
    RUNNING = "running"
    PAUSED = "paused"  # stopped part-way; Resume continues the same trainer
    FINISHED = "finished"  # reached the configured number of epochs
    DIVERGED = "diverged"  # NaN/Inf: the last finite weights are kept


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
        self._runs: dict[str, SlotRun] = {}
        self._requested: dict[str, TrainConfig] = {}  # the config asked for, per slot
        self.fresh_slots: set[str] = set()  # slots that got freshly seeded weights last train()
        self._latest: dict[str, Model] = {}
        self._where: dict[str, SlotProgress] = {}  # as last reported, per slot
        self._workers: dict[int, JobWorker] = {}
        self._job: Job | None = None
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

    def running_slots(self) -> list[str]:
        """The slots the running job trains, in its order (none when nothing runs)."""
        job = self._job
        return [] if job is None or job.stop.is_set() else [t.slot for t in job.tasks]

    def config(self, slot: str) -> TrainConfig | None:
        run = self._runs.get(slot)
        return None if run is None else run.config

    def epoch(self, slot: str) -> int:
        """Epochs the slot's trainer has finished (as last reported to the GUI thread)."""
        where = self._where.get(slot)
        return 0 if where is None or slot not in self._runs else where.epoch

    def built_on(self, slot: str) -> int | None:
        """The id of the thread that built ``slot``'s trainer (None: not built yet)."""
        run = self._runs.get(slot)
        return None if run is None else run.built_on

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
        *,
        from_scratch: bool = False,
        keep_weights: bool = True,
        carry_on: Iterable[str] = (),
    ) -> int:
        """Cancel whatever runs and train the slots in ``configs`` together, each up to its
        ``epochs`` (a finished run starts a new one on its weights).

        A slot whose run already has exactly this config resumes it (same optimiser).
        Otherwise a new run starts from the slot's latest weights when ``keep_weights``
        and the architecture matches, or from a fresh seeded model. Each slot of
        ``carry_on`` (not in ``configs``) that has a run goes on to that run's end, as it
        is (the autoencoder beside a β retrain). The progress names the slots in this
        order. Returns the job id.
        """
        self._cancel(stale=True)
        self.fresh_slots = set()
        tasks = [Task(slot, self._run_for(slot, cfg, from_scratch, keep_weights))
                 for slot, cfg in configs.items()]
        tasks += [Task(slot, self._runs[slot], renew=False) for slot in carry_on
                  if slot not in configs and slot in self._runs]
        return self._launch(tasks)
    def adopt(self, slot: str, model: Model, cfg: TrainConfig) -> None:
        """Use an already trained ``model`` (e.g. shipped weights) for ``slot``: it is the
        slot's latest model, and training with ``cfg`` continues from its weights."""
        self._cancel(stale=True)
        self._latest[slot] = model
        self._runs[slot] = SlotRun(replace(cfg, warmup_epochs=0), model.copy())
        self._requested[slot] = cfg
        self._where.pop(slot, None)
        self._set_state(TrainingState.IDLE)  # nothing runs; Start trains on from here

    def step(self, configs: dict[str, TrainConfig]) -> int:
        """Run exactly one more epoch of each slot in ``configs`` (pauses a running job
        first; a finished run starts a new one on its weights)."""
        self._cancel(stale=False)
        self.fresh_slots = set()
        return self._launch([Task(slot, self._run_for(slot, cfg, False, True), one_epoch=True)
                             for slot, cfg in configs.items()])

    def pause(self) -> None:
        """Stop between batches; the job's last snapshot still arrives. Resume with train()."""
        self._cancel(stale=False)

    def reset(self, slot: str | None = None) -> None:
        """Cancel any job and forget the run(s); the next start builds a fresh model."""
        self._cancel(stale=True)
        for s in [slot] if slot else list(self._runs):
            self._runs.pop(s, None)
            self._where.pop(s, None)
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
    def _run_for(
        self, slot: str, cfg: TrainConfig, from_scratch: bool, keep_weights: bool
    ) -> SlotRun:
        old = self._runs.get(slot)
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
            run = SlotRun(replace(cfg, warmup_epochs=0), base.copy())
        else:
            run = SlotRun(cfg, None)
            self.fresh_slots.add(slot)
        self._runs[slot] = run
        self._requested[slot] = cfg
        self._where.pop(slot, None)
        return run

    def _launch(self, tasks: list[Task]) -> int:
        if self._shut_down:
            raise RuntimeError("the training controller has been shut down")
        job = Job(
            job_id=self._next_id,
            tasks=tasks,
            images=self._images,
            emit_interval=self.emit_interval,
            epochs_per_second=self._epochs_per_second,
        )
        self._next_id += 1
        worker = JobWorker(job)
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
        self._where.update(progress.slots)
        runs = {t.slot: t.run for t in job.tasks}
        new = {}
        for slot, reports in progress.reports.items():
            # A job resends what a cancelled one could not deliver; keep each epoch once.
            run = runs[slot]
            fresh = reports[max(0, run.delivered - progress.first_report[slot]):]
            run.delivered += len(fresh)
            new[slot] = fresh
        progress = replace(progress, reports=new)
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
        # diverged run is dropped, so the next start builds a fresh model.
        self._runs.pop(slot, None)
        self._where.pop(slot, None)
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
            # `finished` was set by the worker before it emitted `done`.
            self._set_state(TrainingState.FINISHED if job.finished else TrainingState.PAUSED)
        self.jobFinished.emit(job_id)

    def _set_state(self, state: TrainingState) -> None:
        if state is not self._state:
            self._state = state
            self.stateChanged.emit(state)



__all__ = ["DEFAULT_EMIT_INTERVAL", "Progress", "SlotProgress", "TrainingController",
           "TrainingState"]
