"""The training panel: settings, Start/Pause/Step/Reset, progress, live loss curves.

The panel only collects settings and shows progress; it never trains anything itself. Every
change of a setting goes to the session (:meth:`LabSession.set_settings`); a β change also
asks the session to retrain once β stands still (the session debounces it, so dragging the
slider across a hundred values asks for one retrain). The curves show the primary slot's
history as the session appends it, redrawn at the session's slow tier; side by side, the
other slot's chart grows below it (:class:`~latentlab.gui.widgets.run_progress.RunProgress`).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latentlab.core import EpochReport, TrainConfig, limits
from latentlab.core.claims import WARMUP_TOOLTIP

from ..session import LabSession, TrainingSettings
from ..slots import BOTH, SLOT_KINDS, WINDOW_KINDS, Slot, has_codebook, has_kl
from ..training.controller import Progress, TrainingState
from ..training.progress_text import bar_values, describe_run
from ..widgets.run_progress import RunProgress
from .base import Panel

BETA_MIN, BETA_MAX = limits.BETA_SLIDER.low, limits.BETA_SLIDER.high
_SLIDER_STEPS = 200  # slider position 0..200 ↔ log10(β) from log10(BETA_MIN) to log10(BETA_MAX)
_LOG_LOW, _LOG_HIGH = math.log10(BETA_MIN), math.log10(BETA_MAX)
SPEED_CHOICES: tuple[tuple[str, float | None], ...] = (
    ("As fast as possible", None),
    ("30 epochs/s", 30.0),
    ("10 epochs/s", 10.0),
    ("3 epochs/s", 3.0),
    ("1 epoch/s", 1.0),
)
#: the learning-rate schedules (:data:`~latentlab.core.trainer.LR_SCHEDULES`) as offered
SCHEDULE_CHOICES = (("Cosine decay", "cosine"), ("Constant", "constant"))


def _widget_low(allowed: limits.Range) -> float:
    return allowed.low if allowed.widget_low is None else allowed.widget_low


def beta_to_slider(beta: float) -> int:
    beta = min(BETA_MAX, max(BETA_MIN, beta))
    return round((math.log10(beta) - _LOG_LOW) / (_LOG_HIGH - _LOG_LOW) * _SLIDER_STEPS)


def slider_to_beta(position: int) -> float:
    return float(10.0 ** (_LOG_LOW + position / _SLIDER_STEPS * (_LOG_HIGH - _LOG_LOW)))


class TrainingPanel(Panel):
    """Settings and live progress of training. GUI thread only.

    Signals: ``startPauseRequested()``, ``stepRequested()``, ``resetRequested()``.
    """

    startPauseRequested = Signal()
    stepRequested = Signal()
    resetRequested = Signal()

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("trainingPanel")
        d = TrainConfig()

        self.model_box = QComboBox()
        for kind in WINDOW_KINDS:
            self.model_box.addItem(kind.display_name, kind.value)
        self.model_box.setToolTip(
            "Which model Start trains. The VAE and the autoencoder (or linear AE) each keep "
            "their own map, so you can compare them side by side.")
        self.latent_box = self._spin(limits.LATENT_DIM, d.latent_dim,
                                     "Latent dimensions K (2 = a flat map)")
        self.hidden_box = self._spin(limits.HIDDEN_DIM, d.hidden_dim, "Hidden layer width")
        self.seed_box = self._spin(limits.SEED, d.seed, "Random seed: same seed, same weights")

        self.beta_slider = QSlider(Qt.Orientation.Horizontal)
        self.beta_slider.setRange(0, _SLIDER_STEPS)
        self.beta_slider.setValue(beta_to_slider(d.beta))
        self.beta_slider.setToolTip(
            "β weighs the KL term (logarithmic, 0.1–10). Low β: sharp reconstructions, gappy "
            "latent space. High β: smooth space, blurrier digits. Dragging retrains live.")
        self.beta_box = QDoubleSpinBox()
        self.beta_box.setRange(BETA_MIN, BETA_MAX)
        self.beta_box.setDecimals(2)
        self.beta_box.setSingleStep(0.1)
        self.beta_box.setValue(d.beta)
        self.beta_box.setToolTip(self.beta_slider.toolTip())
        self.beta_mode = QComboBox()
        self.beta_mode.addItem("continue from current weights", "continue")
        self.beta_mode.addItem("retrain from scratch", "scratch")
        self.beta_mode.setToolTip("What a new β does: keep training the current weights with "
                                  "the new β, or start again from freshly seeded weights.")

        # VQ-VAE settings: shown in the β rows' place when the VQ-VAE is chosen.
        self.codes_box = self._spin(limits.CODES, d.codes,
                                    "Codebook size K: how many code vectors the latent snaps to")
        self.codes_box.setObjectName("codesBox")
        self.commitment_box = QDoubleSpinBox()
        self.commitment_box.setRange(limits.COMMITMENT.low, limits.COMMITMENT.high)
        self.commitment_box.setDecimals(2)
        self.commitment_box.setSingleStep(0.05)
        self.commitment_box.setValue(d.commitment)
        self.commitment_box.setToolTip(
            "Commitment weight β_c of ‖z_e − sg[e]‖²: how strongly the encoder is pulled to "
            "its code (measured on the digits: 1 reconstructs a little better than 0.25)")
        self.ema_box = QCheckBox("EMA, decay")
        self.ema_box.setToolTip(
            "Move each code to a moving average of the encoder outputs that chose it, instead "
            "of learning it from the codebook loss ‖sg[z_e] − e‖²")
        self.ema_decay_box = QDoubleSpinBox()
        self.ema_decay_box.setRange(0.0, 0.999)
        self.ema_decay_box.setDecimals(3)
        self.ema_decay_box.setSingleStep(0.01)
        self.ema_decay_box.setValue(0.99)
        self.ema_decay_box.setToolTip("EMA decay γ: the share of the old code kept per batch")

        self.warmup_box = self._spin(limits.WARMUP_EPOCHS, d.warmup_epochs, WARMUP_TOOLTIP)
        self.epochs_box = self._spin(limits.EPOCHS, d.epochs, "Epochs per training run")
        self.lr_box = QDoubleSpinBox()
        self.lr_box.setDecimals(4)
        self.lr_box.setRange(_widget_low(limits.LR), limits.LR.high)
        self.lr_box.setSingleStep(0.0005)
        self.lr_box.setValue(d.lr)
        self.lr_box.setToolTip("Adam learning rate (try 1000 to see divergence handled)")
        self.batch_box = self._spin(limits.BATCH_SIZE, d.batch_size, "Minibatch size")
        self.schedule_box = QComboBox()
        for text, schedule in SCHEDULE_CHOICES:
            self.schedule_box.addItem(text, schedule)
        self.schedule_box.setCurrentIndex(self.schedule_box.findData(d.lr_schedule))
        self.schedule_box.setToolTip(
            "How the learning rate changes over a run: cosine decay from the rate above to "
            "near 0 in the last epoch, or constant. Measured on the digits: at the default "
            "rate the two end alike; at higher rates (0.025) cosine decay ended clearly "
            "better and mostly reached the article's 24.8 sooner")
        self.speed_box = QComboBox()
        for text, rate in SPEED_CHOICES:
            self.speed_box.addItem(text, rate)
        self.speed_box.setToolTip("Slow training down to watch the map organise itself")

        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("startPauseButton")
        self.start_button.setToolTip("Start, pause or resume training (Space)")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Train exactly one more epoch")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Forget the trained weights of the selected model")
        self.run_view = RunProgress()
        # The parts the window's tests and exports reach (they live in the run view).
        self.progress, self.figures = self.run_view.bar, self.run_view.figures
        self.curves = self.run_view.curves

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        r = 0
        grid.addWidget(QLabel("Model"), r, 0)
        grid.addWidget(self.model_box, r, 1)
        grid.addWidget(QLabel("Latent dims"), r, 2)
        grid.addWidget(self.latent_box, r, 3)
        r += 1
        grid.addWidget(QLabel("Hidden width"), r, 0)
        grid.addWidget(self.hidden_box, r, 1)
        grid.addWidget(QLabel("Seed"), r, 2)
        grid.addWidget(self.seed_box, r, 3)
        r += 1
        self.beta_label = QLabel("β")
        grid.addWidget(self.beta_label, r, 0)
        beta_row = QHBoxLayout()
        beta_row.addWidget(self.beta_slider, 1)
        beta_row.addWidget(self.beta_box)
        grid.addLayout(beta_row, r, 1, 1, 3)
        self.codes_label, self.commitment_label = QLabel("Codes K"), QLabel("β_c")
        grid.addWidget(self.codes_label, r, 0)
        grid.addWidget(self.codes_box, r, 1)
        grid.addWidget(self.commitment_label, r, 2)
        grid.addWidget(self.commitment_box, r, 3)
        r += 1
        self.beta_mode_label = QLabel("New β")
        grid.addWidget(self.beta_mode_label, r, 0)
        grid.addWidget(self.beta_mode, r, 1, 1, 3)
        self.ema_label = QLabel("Codebook")
        grid.addWidget(self.ema_label, r, 0)
        grid.addWidget(self.ema_box, r, 1, 1, 2)
        grid.addWidget(self.ema_decay_box, r, 3)
        r += 1
        grid.addWidget(QLabel("KL warm-up"), r, 0)
        grid.addWidget(self.warmup_box, r, 1)
        grid.addWidget(QLabel("Epochs"), r, 2)
        grid.addWidget(self.epochs_box, r, 3)
        r += 1
        grid.addWidget(QLabel("Learning rate"), r, 0)
        grid.addWidget(self.lr_box, r, 1)
        grid.addWidget(QLabel("Batch size"), r, 2)
        grid.addWidget(self.batch_box, r, 3)
        r += 1
        grid.addWidget(QLabel("LR schedule"), r, 0)
        grid.addWidget(self.schedule_box, r, 1)
        grid.addWidget(QLabel("Speed"), r, 2)
        grid.addWidget(self.speed_box, r, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.step_button, 1)
        buttons.addWidget(self.reset_button, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.run_view, 1)

        self._applying = False  # True while the widgets follow the session

        self.beta_slider.valueChanged.connect(self._on_beta_slider)
        self.beta_box.valueChanged.connect(self._on_beta_box)
        self.model_box.currentIndexChanged.connect(self._on_model_changed)
        for box in (self.latent_box, self.hidden_box, self.seed_box, self.warmup_box,
                    self.epochs_box, self.batch_box, self.lr_box, self.codes_box,
                    self.commitment_box, self.ema_decay_box):
            box.valueChanged.connect(self._push)
        self.ema_box.toggled.connect(self._on_ema_toggled)
        for combo in (self.beta_mode, self.speed_box, self.schedule_box):
            combo.currentIndexChanged.connect(self._push)
        self.start_button.clicked.connect(self.startPauseRequested)
        self.step_button.clicked.connect(self.stepRequested)
        self.reset_button.clicked.connect(self.resetRequested)
        self._update_beta_enabled()
        self._push()
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.observe(s.settingsChanged, self._follow_settings)
        self.observe(s.primaryChanged, lambda _slot: self.show_primary_history())
        self.observe(s.mapModeChanged, lambda _mode: self.show_primary_history())
        self.observe(s.historyChanged, self._on_history_changed)
        self.observe(s.historyAppended, self._on_history_appended)
        self.observe(s.historySettled, self._on_history_settled)
        self.observe(s.trainingStateChanged, self._on_state)
        self.observe(s.progressChanged, self._on_progress)
        self.observe(s.progressText, self.run_view.show_line)
        self.show_primary_history()

    # -- the session → the panel -----------------------------------------------------------
    def _push(self) -> None:
        """The widgets changed: tell the session."""
        if not self._applying:
            self.session.set_settings(TrainingSettings(
                self.config(), self.retrain_from_scratch, self.epochs_per_second))

    def _follow_settings(self) -> None:
        """The session's settings changed (e.g. a model file was opened): show them."""
        if self._applying:
            return
        ours = TrainingSettings(self.config(), self.retrain_from_scratch,
                                self.epochs_per_second)
        if self.session.settings != ours:
            self.apply_settings(self.session.config().to_dict())
            self._push()  # the widgets' ranges may have clamped a value

    @property
    def beside_slot(self) -> Slot | None:
        """The slot whose chart is shown below the selected model's: side by side, the
        other one (an empty chart until it trains)."""
        s = self.session
        if s.map_mode != BOTH:
            return None
        return Slot.AE if s.primary_slot is Slot.VAE else Slot.VAE

    def show_primary_history(self) -> None:
        s = self.session
        beside = self.beside_slot
        name = s.slot_title(s.primary_slot) if beside is not None else ""
        self.run_view.set_history(self.model_kind, s.history(s.primary_slot), name)
        if beside is None:
            self.run_view.hide_beside()
        else:
            kind = s.slot(beside).kind or SLOT_KINDS[beside]
            self.run_view.show_beside(s.slot_title(beside), kind, s.history(beside))

    def _on_history_changed(self, _slot: str) -> None:
        self.show_primary_history()  # either chart (replaced histories are rare)

    def _on_history_appended(self, slot: str, reports: list[EpochReport]) -> None:
        if slot == self.session.primary_slot:
            self.run_view.append(reports)
        elif slot == self.beside_slot:
            self.run_view.append_beside(reports)

    def _on_history_settled(self, slot: str) -> None:
        if slot == self.session.primary_slot:
            self.run_view.redraw()

    def _on_progress(self, p: Progress) -> None:
        self.show_run(p)
        # The other chart is drawn at the same slow tier (its slot may train alone).
        self.run_view.redraw_beside()

    def _on_state(self, state: TrainingState) -> None:
        self.set_state(state)
        p = self.session.last_progress
        # A run's own states re-describe it; whoever leaves them (Reset, a model file, a
        # divergence) says what the bar shows instead.
        run_states = (TrainingState.RUNNING, TrainingState.PAUSED, TrainingState.FINISHED)
        if state in run_states and p is not None and p.job_id == self.session.run_job:
            self.show_run(p)

    def show_run(self, p: Progress) -> None:
        """The progress bar for run ``p`` in the current state: each slot's epoch of its
        run, and (one slot) the model's own epoch when it differs, so the bar never
        contradicts the curves and the figures line."""
        s = self.session
        purpose = s.run_label if p.job_id == s.run_job else ""
        epoch = s.slot(s.primary_slot).epoch if set(p.slots) == {s.primary_slot} else None
        titles = {slot: s.slot_title(slot) for slot in p.slots}
        self.run_view.show_bar(describe_run(p, s.training_state, titles, purpose=purpose,
                                            model_epoch=epoch), *bar_values(p))

    @staticmethod
    def _spin(allowed: limits.Range, value: int, tip: str) -> QSpinBox:
        """A spin box over the setting's range (from its ``widget_low`` when it has one)."""
        box = QSpinBox()
        box.setRange(int(_widget_low(allowed)), int(allowed.high))
        box.setValue(value)
        box.setToolTip(tip)
        return box

    # -- settings -----------------------------------------------------------------------
    @property
    def model_kind(self) -> str:
        return str(self.model_box.currentData())

    @property
    def beta(self) -> float:
        return float(self.beta_box.value())

    def set_beta(self, beta: float) -> None:
        """Set β as a user would (the change is debounced like a slider drag)."""
        self.beta_box.setValue(beta)

    @property
    def epochs_per_second(self) -> float | None:
        rate = self.speed_box.currentData()
        return None if rate is None else float(rate)

    @property
    def retrain_from_scratch(self) -> bool:
        return self.beta_mode.currentData() == "scratch"

    def config(self, kind: str | None = None) -> TrainConfig:
        """The TrainConfig the widgets describe, for ``kind`` (default: the chosen model)."""
        return TrainConfig(
            model=kind or self.model_kind,
            latent_dim=self.latent_box.value(),
            hidden_dim=self.hidden_box.value(),
            beta=self.beta,
            warmup_epochs=self.warmup_box.value(),
            epochs=self.epochs_box.value(),
            batch_size=self.batch_box.value(),
            lr=float(self.lr_box.value()),
            lr_schedule=self.schedule_box.currentData(),
            seed=self.seed_box.value(),
            codes=self.codes_box.value(),
            commitment=float(self.commitment_box.value()),
            ema_decay=float(self.ema_decay_box.value()) if self.ema_box.isChecked() else None,
        )

    def to_settings(self) -> dict[str, Any]:
        cfg = self.config()
        return {
            **{k: v for k, v in cfg.to_dict().items()
               if k in ("model", "latent_dim", "hidden_dim", "beta", "warmup_epochs", "epochs",
                        "batch_size", "lr", "lr_schedule", "seed", "codes", "commitment",
                        "ema_decay")},
            "beta_mode": self.beta_mode.currentData(),
            "speed": self.speed_box.currentIndex(),
        }

    def apply_settings(self, values: dict[str, Any]) -> None:
        """Restore widgets from :meth:`to_settings` output; bad values are skipped."""
        def num(key: str, cast: type) -> Any:
            try:
                return cast(values[key])
            except (KeyError, TypeError, ValueError):
                return None

        self._applying = True
        blockers = [self.beta_slider, self.beta_box]
        for w in blockers:
            w.blockSignals(True)
        try:
            i = self.model_box.findData(values.get("model"))
            if i >= 0:
                self.model_box.setCurrentIndex(i)
            for key, box in (("latent_dim", self.latent_box), ("hidden_dim", self.hidden_box),
                             ("warmup_epochs", self.warmup_box), ("epochs", self.epochs_box),
                             ("batch_size", self.batch_box), ("seed", self.seed_box),
                             ("codes", self.codes_box)):
                v = num(key, int)
                if v is not None:
                    box.setValue(v)
            lr = num("lr", float)
            if lr is not None and math.isfinite(lr):
                self.lr_box.setValue(lr)
            commitment = num("commitment", float)
            if commitment is not None and math.isfinite(commitment):
                self.commitment_box.setValue(commitment)
            if "ema_decay" in values:
                decay = num("ema_decay", float)
                self.ema_box.setChecked(decay is not None and math.isfinite(decay))
                if decay is not None and math.isfinite(decay):
                    self.ema_decay_box.setValue(decay)
            beta = num("beta", float)
            if beta is not None and math.isfinite(beta):
                self.beta_box.setValue(beta)
                self.beta_slider.setValue(beta_to_slider(self.beta_box.value()))
            i = self.schedule_box.findData(values.get("lr_schedule"))
            if i >= 0:
                self.schedule_box.setCurrentIndex(i)
            i = self.beta_mode.findData(values.get("beta_mode"))
            if i >= 0:
                self.beta_mode.setCurrentIndex(i)
            speed = num("speed", int)
            if speed is not None and 0 <= speed < self.speed_box.count():
                self.speed_box.setCurrentIndex(speed)
        finally:
            for w in blockers:
                w.blockSignals(False)
            self._applying = False
        self._update_beta_enabled()
        self._push()

    # -- live state ---------------------------------------------------------------------
    def set_state(self, state: TrainingState) -> None:
        text = {
            TrainingState.IDLE: "Start",
            TrainingState.RUNNING: "Pause",
            TrainingState.PAUSED: "Resume",
            TrainingState.FINISHED: "Train again",
            TrainingState.DIVERGED: "Start",
        }[state]
        self.start_button.setText(text)
        self.step_button.setEnabled(state is not TrainingState.RUNNING)

    def export_curves_png(self, path: str, width: int = 1200) -> None:
        """Write the loss-curve chart as a PNG ``width`` pixels wide (never a dialog)."""
        self.curves.export_png(path, width)

    # -- β --------------------------------------------------------------------------------
    def _on_beta_slider(self, position: int) -> None:
        beta = slider_to_beta(position)
        self.beta_box.blockSignals(True)
        self.beta_box.setValue(beta)
        self.beta_box.blockSignals(False)
        self._beta_changed()

    def _on_beta_box(self, value: float) -> None:
        self.beta_slider.blockSignals(True)
        self.beta_slider.setValue(beta_to_slider(value))
        self.beta_slider.blockSignals(False)
        self._beta_changed()

    def _beta_changed(self) -> None:
        self._push()
        self.session.schedule_beta_retrain()

    def _on_model_changed(self, _index: int) -> None:
        self._update_beta_enabled()
        self._push()

    def _on_ema_toggled(self, _checked: bool) -> None:
        self._update_beta_enabled()
        self._push()

    def _update_beta_enabled(self) -> None:
        """β rows for the VAE (greyed out for the AE), VQ rows in their place for a VQ-VAE."""
        vae, vq = has_kl(self.model_kind), has_codebook(self.model_kind)
        beta_widgets: tuple[QWidget, ...] = (self.beta_slider, self.beta_box, self.beta_label,
                                             self.beta_mode, self.beta_mode_label)
        vq_widgets: tuple[QWidget, ...] = (self.codes_label, self.codes_box,
                                           self.commitment_label, self.commitment_box,
                                           self.ema_label, self.ema_box, self.ema_decay_box)
        for w in (*beta_widgets, self.warmup_box):
            w.setEnabled(vae)
        for w in beta_widgets:
            w.setVisible(not vq)
        for w in vq_widgets:
            w.setVisible(vq)
        self.ema_decay_box.setEnabled(self.ema_box.isChecked())
