"""What one training job trains, and the loop that trains it on the worker thread.

A job trains one or more slots *together*: one :class:`~latentlab.core.stacked.
InterleavedTrainer` over the slots' trainers, one epoch of each in turn, so side by side
the VAE's and the autoencoder's maps and curves move at the same time (each trainer's run
is exactly the one it would have alone). A slot's :class:`~latentlab.core.Trainer` is built
here, on the worker thread, the first time a job trains it: building checks and copies the
whole data set. The loop polls a cooperative stop flag between batches and sends *copies* of
the models to the GUI thread, throttled by time and held back while the GUI draws.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from latentlab.core import EpochReport, Model, TrainConfig, Trainer, TrainingDiverged
from latentlab.core.stacked import InterleavedTrainer

#: Longest the worker waits for the GUI to draw a snapshot before it trains on anyway.
MAX_FRAME_WAIT = 0.25
#: Training time between two snapshots sent in the middle of an epoch (seconds).
MID_EPOCH_INTERVAL = 0.05
#: The worker trains in slices of about this much time (checked between batches) and then
#: sleeps for YIELD_FOR, so a GUI thread waiting for the GIL gets it at once instead of
#: waiting for the interpreter's forced switch.
YIELD_AFTER = 0.006
YIELD_FOR = 0.0003


@dataclass(frozen=True)
class SlotProgress:
    """Where one slot of a job stands: its trainer has finished ``epoch`` epochs, had
    finished ``start`` when the job began, and the job trains it up to ``target`` (its
    run's ``run_epochs``, or one more epoch for Step)."""

    epoch: int
    target: int
    start: int
    run_epochs: int

    @property
    def done(self) -> int:
        """Epochs this job has trained."""
        return self.epoch - self.start

    @property
    def total(self) -> int:
        """Epochs this job trains."""
        return self.target - self.start


@dataclass
class Progress:
    """One throttled update from the worker, delivered on the GUI thread.

    ``models`` maps a slot (``"vae"``/``"ae"``) to an independent copy of that model;
    ``reports`` holds every :class:`EpochReport` finished since the previous update, per
    slot, so loss curves never miss an epoch even though snapshots are throttled (the
    controller drops any the GUI already has: see :attr:`SlotRun.delivered`);
    ``slots`` says how far each slot of the job is, in the job's order.
    """

    job_id: int
    models: dict[str, Model]
    reports: dict[str, list[EpochReport]]
    slots: dict[str, SlotProgress]
    #: per slot, the index in the run's reports (:attr:`SlotRun.reports`) of reports[0]
    first_report: dict[str, int]
    elapsed: float  # seconds since the job started
    final: bool = False
    #: The slots whose weights changed since the previous update (a snapshot in the
    #: middle of an epoch has no report yet, but its model has moved).
    moved: frozenset[str] = frozenset()

    @property
    def epochs_done(self) -> int:
        """Epochs this job has trained, all slots together."""
        return sum(s.done for s in self.slots.values())

    @property
    def epochs_total(self) -> int:
        """Epochs this job trains, all slots together."""
        return sum(s.total for s in self.slots.values())


class SlotRun:
    """A slot's run: the config it trains with and, from the first job that trains it, its
    :class:`Trainer` (built on the worker thread; only the worker touches it).

    ``reports`` (worker thread) is every epoch of the run, whichever job trained it;
    ``delivered`` (GUI thread) counts those the GUI has received. A job sends the reports
    from ``delivered`` on, so a cancelled job's last epochs, whose progress the GUI
    dropped, still reach the session with the next job that trains this run, and the
    controller drops the ones it already has: every epoch arrives exactly once.
    """

    def __init__(self, config: TrainConfig, start_model: Model | None) -> None:
        self.config = config
        self._start_model = start_model  # the weights to continue; None: freshly seeded
        self.trainer: Trainer | None = None
        #: the thread that built the trainer (the window's tests check it is not the GUI's)
        self.built_on: int | None = None
        self.reports: list[EpochReport] = []
        self._synced = 0  # the current trainer's reports already in `reports`
        self.delivered = 0

    def sync_reports(self) -> None:
        """Worker thread: append the trainer's new reports (those of a round in progress
        too) to ``reports``."""
        if self.trainer is not None:
            self.reports.extend(self.trainer.history[self._synced:])
            self._synced = len(self.trainer.history)

    def trainer_for(self, images: np.ndarray, renew: bool) -> Trainer:
        """The trainer, built on first use; with ``renew``, a finished one makes way for a
        new run of ``config.epochs`` on its weights (no second KL warm-up: β would drop to
        0 and the map would first fall apart)."""
        if self.trainer is None:
            self.trainer = Trainer(self.config, images, model=self._start_model)
            self._start_model = None
            self.built_on = threading.get_ident()
        elif renew and self.trainer.done:
            self.sync_reports()
            self.trainer = Trainer(replace(self.config, warmup_epochs=0), images,
                                   model=self.trainer.model.copy())
            self._synced = 0
            self.built_on = threading.get_ident()
        return self.trainer


@dataclass
class Task:
    """One slot of a job: up to its run's ``epochs`` (``one_epoch``: one more epoch). A
    finished run starts again (Start, "Train again") unless ``renew`` is false (the
    autoencoder carried on beside a β retrain stays finished)."""

    slot: str
    run: SlotRun
    one_epoch: bool = False
    renew: bool = True


@dataclass
class Job:
    job_id: int
    tasks: list[Task]
    images: np.ndarray
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
    #: every slot reached its target (set by the worker before ``done``)
    finished: bool = False

    def __post_init__(self) -> None:
        self.gui_idle.set()


class JobWorker(QObject):
    """Runs one job on the controller's thread. Never touches a widget."""

    progress = Signal(object)  # Progress
    diverged = Signal(int, str, str)  # job_id, slot, message
    failed = Signal(int, str)  # job_id, traceback text
    done = Signal(int)  # job_id; always emitted last

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self._training: list[str] = []  # the slots the interleaved trainer trains
        self._together: InterleavedTrainer | None = None

    def _current_slot(self) -> str:
        """The slot whose epoch runs now (or ran last)."""
        together = self._together
        return self._training[together.current if together is not None else 0]

    @Slot()
    def run(self) -> None:
        job = self.job
        try:
            self._run(job)
        except TrainingDiverged as exc:
            self.diverged.emit(job.job_id, self._current_slot(), str(exc))
        except Exception:  # report everything else on the GUI thread
            self.failed.emit(job.job_id, traceback.format_exc())
        finally:
            self.done.emit(job.job_id)

    def _run(self, job: Job) -> None:
        # Building a trainer checks the whole data set: here, never on the GUI thread. A
        # bad data set fails the job with its message before anything trains.
        trainers = [t.run.trainer_for(job.images, t.renew) for t in job.tasks]
        slots = [t.slot for t in job.tasks]
        start_epochs = [tr.epoch for tr in trainers]
        targets = [tr.epoch + 1 if t.one_epoch else tr.config.epochs
                   for t, tr in zip(job.tasks, trainers, strict=True)]
        left = [i for i, tr in enumerate(trainers) if tr.epoch < targets[i]]
        self._training = [slots[i] for i in left]
        together = InterleavedTrainer([trainers[i] for i in left]) if left else None
        self._together = together

        start = time.perf_counter()
        last_emit = start  # the first snapshot goes out after one interval, not at once
        runs = [t.run for t in job.tasks]
        sent = {t.slot: t.run.delivered for t in job.tasks}  # the GUI has those already
        stop, gui_idle = job.stop, job.gui_idle
        slice_start = time.perf_counter()
        moved_within_epoch: set[str] = set()

        def should_stop() -> bool:  # polled by the trainers between batches
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
                moved_within_epoch.add(self._current_slot())
                emit(final=False)
            return False

        def emit(final: bool) -> None:
            nonlocal last_emit
            models = {slot: tr.model.copy() for slot, tr in zip(slots, trainers, strict=True)}
            first = dict(sent)
            for slot, run in zip(slots, runs, strict=True):
                run.sync_reports()
                sent[slot] = len(run.reports)
            reports = {slot: run.reports[first[slot]:]
                       for slot, run in zip(slots, runs, strict=True)}
            moved = frozenset(moved_within_epoch | {slot for slot, reps in reports.items()
                                                    if reps})
            moved_within_epoch.clear()
            if not final:
                gui_idle.clear()  # let the GUI draw this before training on
            now = time.perf_counter()
            where = {slot: SlotProgress(tr.epoch, target, begun, tr.config.epochs)
                     for slot, tr, target, begun
                     in zip(slots, trainers, targets, start_epochs, strict=True)}
            self.progress.emit(Progress(job_id=job.job_id, models=models, reports=reports,
                                        slots=where, first_report=first,
                                        elapsed=now - start, final=final, moved=moved))
            last_emit = now

        next_tick = start
        try:
            while together is not None and not together.done and not should_stop():
                # The round's reports reach the GUI from the trainers' histories (see emit).
                if together.run_epoch(should_stop) is None:  # stopped between batches
                    return
                if all(tr.epoch >= target for tr, target in zip(trainers, targets,
                                                                strict=True)):
                    break  # one more epoch (Step) of a run that goes on
                now = time.perf_counter()
                if now - last_emit >= job.emit_interval and gui_idle.is_set():
                    emit(final=False)
                # The pace counts rounds: side by side, each model trains at that rate.
                rate = job.epochs_per_second
                if rate:
                    next_tick = max(next_tick + 1.0 / rate, now - 0.25)
                    delay = next_tick - time.perf_counter()
                    if delay > 0 and stop.wait(delay):
                        return
                else:
                    next_tick = now
            job.finished = all(tr.epoch >= target for tr, target in zip(trainers, targets,
                                                                        strict=True))
        finally:
            emit(final=True)


__all__ = ["Job", "JobWorker", "Progress", "SlotProgress", "SlotRun", "Task"]
