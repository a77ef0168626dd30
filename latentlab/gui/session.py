"""LabSession: the one owner of what the window shows, observed by every panel.

The session holds the data set; per model slot its model snapshot, training config and loss
history; the training settings the user chose (and so the primary slot); the current latent
point; the map's mode and axes; the interpolation path; and the training state. It has no
widgets. Whoever changes it calls a method here and the session emits a typed signal; the
panels subscribe (:mod:`latentlab.gui.panels.base`) and never talk to each other or to the
window.

A frame of training flows one way: the controller's ``updated`` → :meth:`_on_progress` (the
models and epochs land here) → signals in three tiers, so no turn of the event loop has
much to draw:

* live, every snapshot: ``modelChanged`` (maps, decodings) and ``historyAppended``;
* at most ~8 times a second: ``progressChanged`` and ``historySettled`` (bar, curves);
* one loop turn later: ``modelSettled`` (gallery, trade-off, interpolation, diagnostics).

Changes outside training (a model adopted, a slot reset) emit all three at once. Work over
the whole data set is asked of :attr:`analysis` (:mod:`latentlab.gui.analysis`), never done
in a panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from latentlab.core import Dataset, EpochReport, Model, TrainConfig
from latentlab.core.pca import LatentPlane

from .analysis import DataAnalysis
from .background import BackgroundService
from .map_planes import MapPlanes
from .slots import BOTH, MAP_MODES, PCA_VIEW, SLOT_TITLES, ModelKind, Slot, has_codebook, slot_of
from .training.controller import Progress, TrainingController, TrainingState

#: How long a β change waits for the next one before it retrains (a slider drag sends
#: dozens a second; only the value standing at the end is trained).
BETA_DEBOUNCE_MS = 250
#: The slow tier's period: progress bar and loss curves need not move 30 times a second.
SLOW_TIER_MS = 120


@dataclass
class SlotState:
    """One slot: the newest model snapshot (an independent copy), the config it was asked
    to train with, and every epoch report since its weights were seeded."""

    model: Model | None = None
    config: TrainConfig | None = None
    history: list[EpochReport] = field(default_factory=list)

    @property
    def epoch(self) -> int:
        """The model's own epoch count (pretrained or loaded history included)."""
        return len(self.history)

    @property
    def kind(self) -> str | None:
        """The kind of model the slot holds (before its first snapshot: the one it trains)."""
        if self.model is not None:
            return str(self.model.kind)
        return None if self.config is None else str(self.config.model)


@dataclass(frozen=True)
class TrainingSettings:
    """What the training panel describes: the config of the chosen model kind, whether a
    new β retrains from scratch, and the pace (epochs per second, None = full speed)."""

    config: TrainConfig = field(default_factory=TrainConfig)
    beta_from_scratch: bool = False
    epochs_per_second: float | None = None


class LabSession(QObject):
    """The window's state; GUI thread only. See the module docstring for the signals' tiers."""

    datasetChanged = Signal()
    modelChanged = Signal(str)  # slot: a new snapshot (live)
    modelSettled = Signal(str)  # slot: the slower panels may show it now
    historyChanged = Signal(str)  # slot: replaced (cleared, loaded)
    historyAppended = Signal(str, object)  # slot, list[EpochReport] (live)
    historySettled = Signal(str)  # slot: redraw curves now
    progressChanged = Signal(object)  # Progress of the current run
    progressText = Signal(str, object)  # a line without a run: text, bar full? (None: as is)
    settingsChanged = Signal()
    primaryChanged = Signal(str)  # slot
    currentPointChanged = Signal()
    codeHighlighted = Signal(object)  # a VQ-VAE code index, or None
    mapModeChanged = Signal(str)
    mapViewChanged = Signal(str)  # AXES_VIEW or PCA_VIEW
    axesChanged = Signal(int, int)
    pathChanged = Signal(object)  # (N, K) interpolation path or None
    endpointPicked = Signal(str, object)  # "a"/"b", z (K,)
    drawingChanged = Signal()  # the user's own drawing changed (see ``drawing``)
    trainingStateChanged = Signal(object)  # TrainingState
    runFinished = Signal(str)  # slot: a run reached its epochs
    betaSettled = Signal(float)  # a debounced β change
    statusMessage = Signal(str, int)  # text, milliseconds (0 = until replaced)
    stateText = Signal(str)  # the status bar's permanent word ("training…")
    busyChanged = Signal(str)  # what the background is busy with ("" = nothing): a file read

    def __init__(self, dataset: Dataset, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dataset = dataset
        # The window's one background worker (its thread starts with the first task):
        # whole-data work, slow file reads, the decoded manifold.
        self._background = BackgroundService(self)
        self.busy_text = ""
        self.analysis = DataAnalysis(dataset, self._background, self)  # panels observe it
        self._slots = {slot: SlotState() for slot in Slot}
        self._settings = TrainingSettings()
        # Each slot's current point: side by side, a click on one map moves only its own
        # (the AE's codes span ±6–20, the VAE's ±2.5: one z for both muddles the comparison).
        self._xy: dict[Slot, tuple[float, float] | None] = {slot: (0.0, 0.0) for slot in Slot}
        self._picked: tuple[Slot, np.ndarray] | None = None  # an exact z (gallery pick)
        self._mode = Slot.VAE.value
        self._planes = MapPlanes()
        self._path: np.ndarray | None = None
        self._highlighted_code: int | None = None
        self._state = TrainingState.IDLE
        self._controller: TrainingController | None = None
        self._drawing: np.ndarray | None = None
        self.run_job: int | None = None  # the job id of the run last started
        self.run_label = ""  # what that run is called on the progress bar
        self.last_progress: Progress | None = None
        self._slow_slots: set[str] = set()
        self._slow_progress: Progress | None = None
        self._slow_timer = self._timer(SLOW_TIER_MS, self._flush_slow)
        self._side_timer = self._timer(0, self._flush_side)
        self._beta_timer = self._timer(BETA_DEBOUNCE_MS,
                                       lambda: self.betaSettled.emit(self.config().beta))

    def _timer(self, ms: int, slot: object) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    # -- data set ------------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset:
        return self._dataset

    def set_dataset(self, dataset: Dataset) -> None:
        """Make ``dataset`` the data: every slot, point, path and pending frame is dropped
        (they belong to the old data)."""
        self.stop_pacing()
        self._dataset = dataset
        self.analysis.set_dataset(dataset)  # cancels whatever was asked about the old data
        self._slots = {slot: SlotState() for slot in Slot}
        self._xy = {slot: (0.0, 0.0) for slot in Slot}
        self._planes.forget_fits()
        self._picked = None
        self._path = None
        self._highlighted_code = None
        self._drawing = None
        self.last_progress = None
        self.datasetChanged.emit()
        for slot in Slot:
            self.historyChanged.emit(slot.value)

    # -- slots ---------------------------------------------------------------------------
    def slot(self, slot: str) -> SlotState:
        return self._slots[Slot(slot)]

    def model(self, slot: str) -> Model | None:
        return self.slot(slot).model

    def history(self, slot: str) -> list[EpochReport]:
        """Every epoch report of ``slot`` since its weights were seeded."""
        return self.slot(slot).history

    def slot_title(self, slot: str) -> str:
        """What the window calls ``slot`` now: the kind's name ("VQ-VAE") while the slot holds
        or trains a kind with a codebook, else the slot's own title."""
        kind = self.slot(slot).kind
        if kind is not None and has_codebook(kind):
            return ModelKind.parse(kind).display_name
        return SLOT_TITLES[Slot(slot)]

    def adopt(self, slot: str, model: Model, config: TrainConfig,
              history: list[EpochReport]) -> None:
        """Show an already trained ``model`` (shipped or loaded) in ``slot``."""
        state = self.slot(slot)
        state.model, state.config, state.history = model, config, list(history)
        self._announce(slot)

    def clear_slot(self, slot: str) -> None:
        """Forget ``slot``'s model and history (after Reset)."""
        self._slots[Slot(slot)] = SlotState()
        self._announce(slot)

    def start_history(self, slot: str, config: TrainConfig) -> None:
        """``slot`` trains from freshly seeded weights with ``config``: a new history."""
        state = self.slot(slot)
        state.config, state.history = config, []
        self.historyChanged.emit(str(slot))

    def set_config(self, slot: str, config: TrainConfig) -> None:
        """The config ``slot`` is now asked to train with (its weights continue)."""
        self.slot(slot).config = config

    def _announce(self, slot: str) -> None:
        slot = str(slot)
        self.historyChanged.emit(slot)
        self.modelChanged.emit(slot)
        self.modelSettled.emit(slot)

    # -- training settings and the primary slot ------------------------------------------
    @property
    def settings(self) -> TrainingSettings:
        return self._settings

    def set_settings(self, settings: TrainingSettings) -> None:
        before = self.primary_slot
        self._settings = settings
        self.settingsChanged.emit()
        if self.primary_slot is not before:
            self.primaryChanged.emit(self.primary_slot.value)

    def config(self, kind: str | None = None) -> TrainConfig:
        """The chosen training config, for ``kind`` (default: the chosen model kind)."""
        cfg = self._settings.config
        return cfg if kind is None else replace(cfg, model=str(kind))

    @property
    def primary_slot(self) -> Slot:
        """The slot of the chosen model kind: what Start, the curves and the side panels
        are about."""
        return slot_of(self._settings.config.model)

    # -- β debounce ----------------------------------------------------------------------
    def schedule_beta_retrain(self) -> None:
        """β changed: retrain once it stands still for BETA_DEBOUNCE_MS (``betaSettled``)."""
        self._beta_timer.start()

    def beta_pending(self) -> bool:
        return self._beta_timer.isActive()

    def settle_beta_now(self) -> None:
        """Announce a pending β at once, as the debounce timer does when it fires."""
        if self._beta_timer.isActive():
            self._beta_timer.stop()
            self.betaSettled.emit(self.config().beta)

    def cancel_pending_beta(self) -> None:
        self._beta_timer.stop()

    # -- current point, map mode and axes ------------------------------------------------
    @property
    def current_xy(self) -> tuple[float, float] | None:
        """The primary slot's current point in its map's coordinates (:meth:`plane`)."""
        return self._xy[self.primary_slot]

    def point(self, slot: str) -> tuple[float, float] | None:
        """``slot``'s current point in its map's coordinates."""
        return self._xy[Slot(slot)]

    def set_current_xy(self, x: float, y: float, slot: str | None = None) -> None:
        """Make map point (x, y) the current point of ``slot`` — a click on that slot's
        map — or of every slot (``None``); it decodes as ``plane(slot).lift``."""
        xy = (float(x), float(y))
        for s in Slot if slot is None else (Slot(slot),):
            self._xy[s] = xy
        if self._picked is not None and (slot is None or self._picked[0] == slot):
            self._picked = None
        self.currentPointChanged.emit()

    def pick_latent(self, z: np.ndarray) -> None:
        """An exact latent code (a gallery sample) of the primary slot's model: that slot's
        point (the other slots keep theirs)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1)
        self._picked = (self.primary_slot, z)
        self._show_picked()
        self.currentPointChanged.emit()

    def _show_picked(self) -> None:
        """Put the picked z's marker where the map shows it now."""
        if self._picked is None:
            return
        slot, z = self._picked
        plane = self.plane(slot)
        if plane is not None and plane.latent_dim == z.size:
            u, v = plane.project(z[None, :].astype(np.float64))[0]
            self._xy[slot] = (float(u), float(v))

    def current_z(self, slot: str) -> np.ndarray | None:
        """The latent vector decoded for ``slot``: a picked z as it is, else the current
        map point lifted through the map's plane (:meth:`plane`)."""
        model = self.model(slot)
        xy = self._xy[Slot(slot)]
        plane = self.plane(slot)
        if model is None or xy is None:
            return None
        if self._picked is not None and self._picked[0] == slot \
                and self._picked[1].size == model.latent_dim:
            return self._picked[1]
        if plane is None:
            return None
        return plane.lift(np.array([xy], dtype=np.float64))[0].astype(np.float32)

    @property
    def map_mode(self) -> str:
        """``"vae"``, ``"ae"`` or ``"both"`` (side by side)."""
        return self._mode

    def set_map_mode(self, mode: str) -> None:
        mode = str(mode)
        if mode not in MAP_MODES:
            raise ValueError(f"map mode must be one of {MAP_MODES}")
        if mode != self._mode:
            self._mode = mode
            self.mapModeChanged.emit(mode)

    def visible_slots(self) -> list[Slot]:
        return list(Slot) if self._mode == BOTH else [Slot(self._mode)]

    def export_slot(self) -> Slot:
        """The model an export is about: the shown map's, or the primary one side by side."""
        return self.primary_slot if self._mode == BOTH else Slot(self._mode)

    @property
    def map_view(self) -> str:
        """How the maps show a latent: ``AXES_VIEW`` (two chosen dims) or ``PCA_VIEW``."""
        return self._planes.view

    def set_map_view(self, view: str) -> None:
        if self._planes.set_view(str(view)):
            self._picked = None  # as for new axes: the point is a place on the new map
            self.mapViewChanged.emit(self._planes.view)
            self.currentPointChanged.emit()

    def plane(self, slot: str) -> LatentPlane | None:
        """The plane of ``slot``'s latent its map shows (:class:`MapPlanes`; None without a
        model or until its first PCA fit). Map clicks, endpoints and the decoded manifold
        lift map points through it; codes, paths and ellipses project through it."""
        model = self.model(slot)
        return None if model is None else self._planes.plane(slot, int(model.latent_dim))

    def set_pca_plane(self, slot: str, plane: LatentPlane) -> None:
        """A PCA plane fitted on ``slot``'s newest codes (kept with the last fit's axis
        directions); in the PCA view the current point now decodes through it."""
        if self._planes.fit(slot, plane) and self._planes.view == PCA_VIEW:
            self._show_picked()
            self.currentPointChanged.emit()

    @property
    def axes(self) -> tuple[int, int]:
        """The latent dimensions the map shows (x, y) in the axes view."""
        return self._planes.axes

    def set_axes(self, ax: int, ay: int) -> None:
        if (ax, ay) == self._planes.axes:
            return
        self._planes.axes = (int(ax), int(ay))
        self._picked = None
        self.axesChanged.emit(ax, ay)
        self.currentPointChanged.emit()

    def axes_for(self, slot: str) -> tuple[int, int]:
        """The shown axes, limited to ``slot``'s latent size."""
        model = self.model(slot)
        return self._planes.axes_for(2 if model is None else int(model.latent_dim))

    # -- a VQ-VAE's highlighted code ------------------------------------------------------
    @property
    def highlighted_code(self) -> int | None:
        """The code the Codebook panel picked (its cell and images are marked on the map)."""
        return self._highlighted_code

    def highlight_code(self, code: int | None) -> None:
        code = None if code is None else int(code)
        if code != self._highlighted_code:
            self._highlighted_code = code
            self.codeHighlighted.emit(code)

    # -- the user's drawing --------------------------------------------------------------
    @property
    def drawing(self) -> np.ndarray | None:
        """The user's own drawing, ``(D,)`` float32 at the data's image size, or None."""
        return None if self._drawing is None else self._drawing.copy()

    def set_drawing(self, image: np.ndarray | None) -> None:
        """The drawing pad's image (``None``: nothing drawn); the maps mark its code."""
        self._drawing = None if image is None else \
            np.asarray(image, dtype=np.float32).reshape(-1).copy()
        self.drawingChanged.emit()

    # -- interpolation -------------------------------------------------------------------
    @property
    def path(self) -> np.ndarray | None:
        return None if self._path is None else self._path.copy()

    def set_path(self, path: np.ndarray | None) -> None:
        self._path = None if path is None else np.asarray(path, dtype=np.float64)
        self.pathChanged.emit(self.path)

    def pick_endpoint(self, which: str, x: float, y: float) -> None:
        """Map point (x, y), lifted through the primary map's plane, becomes interpolation
        endpoint ``which`` of the primary model."""
        plane = self.plane(self.primary_slot)
        if plane is not None:
            self.endpointPicked.emit(which, plane.lift(np.array([[x, y]], dtype=np.float64))[0])

    # -- what the window says ------------------------------------------------------------
    def say(self, text: str, ms: int = 0) -> None:
        self.statusMessage.emit(text, ms)

    def set_state_text(self, text: str) -> None:
        self.stateText.emit(text)

    def set_busy(self, text: str) -> None:
        """Say that the background is busy with ``text`` ("Importing …"; "" when done)."""
        self.busy_text = text
        self.busyChanged.emit(text)

    def show_progress_text(self, text: str, complete: bool | None = None) -> None:
        """A progress line that is no run's: ``complete`` fills or empties the bar."""
        self.progressText.emit(text, complete)

    # -- training ------------------------------------------------------------------------
    @property
    def training_state(self) -> TrainingState:
        return self._state

    def follow(self, controller: TrainingController) -> None:
        """Receive ``controller``'s results: its snapshots become the slots' models."""
        self._controller = controller
        controller.updated.connect(self._on_progress)
        controller.stateChanged.connect(self._on_state)

    def _on_state(self, state: TrainingState) -> None:
        self._state = state
        self.trainingStateChanged.emit(state)

    def _on_progress(self, p: Progress) -> None:
        for slot, model in p.models.items():
            reports = p.reports.get(slot, [])
            state = self.slot(slot)
            if slot not in p.moved and state.model is not None and not p.final:
                continue  # this slot has not moved since the last update
            state.model = model
            state.history.extend(reports)
            self.historyAppended.emit(slot, reports)
            self.modelChanged.emit(slot)
            self._slow_slots.add(slot)
        self._slow_progress = p
        if p.final:
            self._flush_slow()
        elif not self._slow_timer.isActive():
            self._slow_timer.start()

    def _hold_worker(self) -> None:
        if self._controller is not None:
            self._controller.hold_worker()

    def _flush_slow(self) -> None:
        self._slow_timer.stop()
        self._hold_worker()
        p, self._slow_progress = self._slow_progress, None
        if p is not None:
            self.last_progress = p
            self.progressChanged.emit(p)
        primary = self.primary_slot
        if primary in self._slow_slots:
            self.historySettled.emit(primary.value)
            self._side_timer.start()
        self._slow_slots.clear()

    def _flush_side(self) -> None:
        self._hold_worker()
        self.modelSettled.emit(self.primary_slot.value)

    @property
    def background(self) -> BackgroundService:
        """The one worker thread for what is computed off the GUI thread (the analysis of
        the data, a data file's reading, the decoded manifold; started on first use, ended
        by :meth:`shutdown`)."""
        return self._background

    def shutdown(self) -> None:
        """Drop pending work and end the background worker (the window is closing)."""
        self.stop_pacing()
        self.analysis.shutdown()
        self._background.shutdown()

    def stop_pacing(self) -> None:
        """Drop pending frames and a pending β (a new data set, shutdown)."""
        self.cancel_pending_beta()
        self._slow_timer.stop()
        self._side_timer.stop()
        self._slow_progress = None
        self._slow_slots.clear()


__all__ = ["BETA_DEBOUNCE_MS", "LabSession", "SlotState", "TrainingSettings"]
