"""LatentLab's main window: dockable panels wired to one training controller.

The window is the coordinator. Panels never talk to each other or to the trainer: they
emit signals, the window decides, and it pushes model snapshots (independent copies made by
the worker thread) into the panels on the GUI thread.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSpinBox,
    QWidget,
)

import latentlab
from latentlab.core import (
    DataFileError,
    Dataset,
    EpochReport,
    ModelFileError,
    load_dataset,
    load_digits,
    load_model,
    save_model,
)
from latentlab.core.io import atomic_write_text
from latentlab.paths import resource_path

from ..blas import limit_blas_threads
from .controller import Progress, TrainingController, TrainingState, slot_of
from .decode_view import DecodeView
from .diagnostics import DiagnosticsPanel
from .gallery import GalleryPanel
from .image_folder import FolderImport, load_image_folder
from .interpolation import InterpolationPanel
from .latent_map import SLOT_TITLES, LatentMapPanel
from .tradeoff import TradeoffPanel
from .training_panel import TrainingPanel

ORGANIZATION = "LatentLab"
APPLICATION = "LatentLab"
SETTINGS_VERSION = 1
DEFAULT_SIZE = (1440, 900)
DOCKS = (
    ("trainingDock", "Training", "Ctrl+1"),
    ("latentMapDock", "Latent map", "Ctrl+2"),
    ("decodeDock", "Decoded image", "Ctrl+3"),
    ("galleryDock", "Gallery", "Ctrl+4"),
    ("tradeoffDock", "β trade-off", "Ctrl+5"),
    ("interpolationDock", "Interpolation", "Ctrl+6"),
    ("diagnosticsDock", "Diagnostics", "Ctrl+7"),
)
FOLDER_SIZES: dict[str, tuple[int, int] | None] = {
    "Automatic (8×8 if every image is that small, else 28×28)": None,
    "8×8": (8, 8), "16×16": (16, 16), "28×28": (28, 28), "32×32": (32, 32),
    "64×64": (64, 64),
}
SIDE_DOCKS = ("galleryDock", "tradeoffDock", "interpolationDock", "diagnosticsDock")


def default_settings() -> QSettings:
    """The user's LatentLab settings (an INI file under the user's config folder).

    Tests redirect it with ``QSettings.setPath(IniFormat, UserScope, tmp)`` or
    ``XDG_CONFIG_HOME``.
    """
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                     ORGANIZATION, APPLICATION)


class ExportSizeDialog(QDialog):
    """Ask for the PNG size of a latent-map export (height follows the map's aspect)."""

    def __init__(self, width: int, aspect: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export latent map")
        self._aspect = aspect
        self.width_box = QSpinBox()
        self.height_box = QSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(16, 16384)
            box.setSuffix(" px")
        self.keep = QCheckBox("Keep the map's aspect ratio")
        self.keep.setChecked(True)
        self.width_box.setValue(width)
        self.height_box.setValue(max(16, round(width * aspect)))
        self.width_box.valueChanged.connect(self._on_width)
        self.height_box.valueChanged.connect(self._on_height)
        form = QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow(self.keep)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _on_width(self, w: int) -> None:
        if self.keep.isChecked():
            self.height_box.blockSignals(True)
            self.height_box.setValue(max(16, round(w * self._aspect)))
            self.height_box.blockSignals(False)

    def _on_height(self, h: int) -> None:
        if self.keep.isChecked():
            self.width_box.blockSignals(True)
            self.width_box.setValue(max(16, round(h / self._aspect)))
            self.width_box.blockSignals(False)


class MainWindow(QMainWindow):
    """The LatentLab window. ``MainWindow()`` loads the bundled digits and shows the
    shipped pretrained VAE and autoencoder in its first frame; where a pretrained model is
    missing, unreadable or does not match the restored settings, that model is trained in
    the background at once instead (``autostart``).

    Signals: ``firstTrainedFrame()`` — the VAE map shows a trained model for the first time
    (painted); ``decoded()`` — the decode view shows a new decoding.
    """

    firstTrainedFrame = Signal()
    decoded = Signal()

    def __init__(self, dataset: Dataset | None = None, *, settings: QSettings | None = None,
                 autostart: bool = True, pretrained: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("latentLabMainWindow")
        self.setWindowTitle("LatentLab — autoencoders and VAEs on 8×8 digits")
        self._bundled: Dataset | None = None
        if dataset is None:
            dataset = self._bundled = load_digits()
        self.dataset = dataset
        self.settings = settings if settings is not None else default_settings()
        ds = self.dataset
        limit_blas_threads(1)  # tiny matrices: BLAS worker threads only steal the cores
        self.controller = TrainingController(ds.images, self)

        self.training_panel = TrainingPanel()
        self.map_panel = LatentMapPanel(ds.images, ds.labels, ds.image_shape)
        self.decode_view = DecodeView(ds.images, ds.labels, ds.image_shape)
        self.gallery = GalleryPanel()
        self.gallery.set_image_shape(ds.image_shape)
        self.tradeoff = TradeoffPanel()
        self.tradeoff.set_data(ds.images, ds.image_shape, ds.labels)
        self.interpolation = InterpolationPanel()
        self.interpolation.set_data(ds.images, ds.image_shape, ds.labels, ds.label_names)
        self.diagnostics = DiagnosticsPanel()
        self.diagnostics.set_data(ds.images, ds.image_shape, ds.labels)

        self._history: dict[str, list[EpochReport]] = {"vae": [], "ae": []}
        self._current_xy: tuple[float, float] | None = (0.0, 0.0)
        self._picked_z: tuple[str, np.ndarray] | None = None  # exact z from the gallery
        self._startup_job: int | None = None
        self._first_frame_sent = False
        self._pretrained_shown = False
        self._job_labels: dict[int, str] = {}
        self._last_progress: Progress | None = None
        self._last_job_id: int | None = None
        self._shutting_down = False

        self._slow_slots: set[str] = set()
        self._slow_progress: Progress | None = None
        self._slow_timer = QTimer(self)
        self._slow_timer.setSingleShot(True)
        self._slow_timer.setInterval(120)
        self._slow_timer.timeout.connect(self._flush_slow)
        self._side_timer = QTimer(self)  # the side panels refresh one loop turn later
        self._side_timer.setSingleShot(True)
        self._side_timer.setInterval(0)
        self._side_timer.timeout.connect(self._flush_side_panels)

        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self._build_menus()
        self._build_status_bar()
        self._wire()
        self.resize(*DEFAULT_SIZE)
        self._default_state = self.saveState(SETTINGS_VERSION)
        self._restore_settings()
        self._sync_mode_actions()
        self._sync_primary()
        self._refresh_decodes()

        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        missing = self.load_pretrained() if pretrained else ["vae", "ae"]
        if autostart and missing:
            QTimer.singleShot(0, lambda: self.start_initial_training(missing))

    # -- construction -------------------------------------------------------------------
    def _build_docks(self) -> None:
        widgets = {
            "trainingDock": self.training_panel,
            "latentMapDock": self.map_panel,
            "decodeDock": self.decode_view,
            "galleryDock": self.gallery,
            "tradeoffDock": self.tradeoff,
            "interpolationDock": self.interpolation,
            "diagnosticsDock": self.diagnostics,
        }
        for name, title, _ in DOCKS:
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widgets[name])
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable)
            self.docks[name] = dock
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowNestedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)
        d = self.docks
        # No central widget: every panel is a dock. Columns: training | map | decode+gallery.
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["trainingDock"])
        self.splitDockWidget(d["trainingDock"], d["latentMapDock"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["latentMapDock"], d["decodeDock"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["decodeDock"], d["galleryDock"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["galleryDock"], d["tradeoffDock"])
        self.tabifyDockWidget(d["tradeoffDock"], d["interpolationDock"])
        self.tabifyDockWidget(d["interpolationDock"], d["diagnosticsDock"])
        d["galleryDock"].raise_()
        self.resizeDocks([d["trainingDock"], d["latentMapDock"], d["decodeDock"]],
                         [380, 700, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([d["decodeDock"], d["galleryDock"]], [330, 520],
                         Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = file_menu = bar.addMenu("&File")
        self.open_model_action = QAction("&Open model…", self)
        self.open_model_action.setShortcut(QKeySequence("Ctrl+O"))
        self.open_model_action.setToolTip("Load a model and its settings from a .npz model file")
        self.open_model_action.triggered.connect(self.open_model_dialog)
        file_menu.addAction(self.open_model_action)
        self.save_model_action = QAction("&Save model…", self)
        self.save_model_action.setShortcut(QKeySequence("Ctrl+S"))
        self.save_model_action.setToolTip(
            "Save the selected model, its settings and its loss history to one .npz file")
        self.save_model_action.triggered.connect(self.save_model_dialog)
        file_menu.addAction(self.save_model_action)
        file_menu.addSeparator()
        self.import_file_action = QAction("&Import images…", self)
        self.import_file_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_file_action.setToolTip(
            "Train on your own images: .npz, .npy, .csv or MNIST IDX (…-idx3-ubyte[.gz])")
        self.import_file_action.triggered.connect(self.import_data_dialog)
        file_menu.addAction(self.import_file_action)
        self.import_folder_action = QAction("Import a &folder of images…", self)
        self.import_folder_action.setToolTip(
            "Train on a folder of PNG/JPEG images (grayscale, resized); sub-folders are "
            "classes")
        self.import_folder_action.triggered.connect(self.import_folder_dialog)
        file_menu.addAction(self.import_folder_action)
        self.use_digits_action = QAction("Use the bundled &digits", self)
        self.use_digits_action.setToolTip("Go back to the 1,797 8×8 digits")
        self.use_digits_action.triggered.connect(self.use_bundled_digits)
        file_menu.addAction(self.use_digits_action)
        file_menu.addSeparator()
        self.export_menu = export_menu = file_menu.addMenu("&Export")
        self.export_map_action = QAction("Latent &map as PNG…", self)
        self.export_map_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_map_action.setToolTip("Save the latent map as a PNG at a size you choose")
        self.export_map_action.triggered.connect(self.export_latent_map_dialog)
        self.export_svg_action = QAction("Latent map as &SVG…", self)
        self.export_svg_action.setToolTip("Save the latent map as a scalable vector drawing")
        self.export_svg_action.triggered.connect(self.export_latent_map_svg_dialog)
        self.export_curves_action = QAction("&Loss curves as PNG…", self)
        self.export_curves_action.triggered.connect(self.export_loss_curves_dialog)
        self.export_codes_action = QAction("Latent &codes as CSV…", self)
        self.export_codes_action.setToolTip(
            "One row per image: index, label, the encoding μ (and log σ² for a VAE)")
        self.export_codes_action.triggered.connect(self.export_latent_codes_dialog)
        self.export_gallery_action = QAction("&Gallery as PNG…", self)
        self.export_gallery_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.export_gallery_action.triggered.connect(self.export_gallery_dialog)
        self.export_interpolation_action = QAction("&Interpolation strip as PNG…", self)
        self.export_interpolation_action.triggered.connect(self.export_interpolation_dialog)
        for action in (self.export_map_action, self.export_svg_action,
                       self.export_curves_action, self.export_codes_action,
                       self.export_gallery_action, self.export_interpolation_action):
            export_menu.addAction(action)
        file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        train_menu = bar.addMenu("&Training")
        self.start_action = QAction("&Start / pause", self)
        self.start_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.start_action.triggered.connect(self.toggle_training)
        self.step_action = QAction("S&tep one epoch", self)
        self.step_action.setShortcut(QKeySequence("Ctrl+T"))
        self.step_action.triggered.connect(self.step_training)
        self.reset_action = QAction("&Reset model", self)
        self.reset_action.triggered.connect(self.reset_training)
        for action in (self.start_action, self.step_action, self.reset_action):
            train_menu.addAction(action)

        self.view_menu = view_menu = bar.addMenu("&View")
        for name, _title, shortcut in DOCKS:
            action = self.docks[name].toggleViewAction()
            action.setShortcut(QKeySequence(shortcut))
            view_menu.addAction(action)
        view_menu.addSeparator()
        # The map mode is a choice of three: radio items that always show the current one.
        self.map_mode_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        for mode, text, key in (("vae", "&VAE map", "Alt+1"), ("ae", "&Autoencoder map", "Alt+2"),
                                ("both", "&Both maps side by side", "Alt+3")):
            action = QAction(text, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _=False, m=mode: self.map_panel.set_mode(m))
            group.addAction(action)
            view_menu.addAction(action)
            self.map_mode_actions[mode] = action
        self.fit_map_action = QAction("&Fit map to the data", self)
        self.fit_map_action.setShortcut(QKeySequence("Ctrl+0"))
        self.fit_map_action.triggered.connect(self.map_panel.fit_view)
        view_menu.addAction(self.fit_map_action)
        view_menu.addSeparator()
        self.reset_layout_action = QAction("Reset &layout", self)
        self.reset_layout_action.triggered.connect(self.reset_layout)
        view_menu.addAction(self.reset_layout_action)

        help_menu = bar.addMenu("&Help")
        about = QAction("&About LatentLab", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        self._state_label = QLabel("")
        self._state_label.setStyleSheet("color: #555; padding-right: 8px;")
        self.statusBar().addPermanentWidget(self._state_label)
        self.statusBar().showMessage(
            "Training a VAE on the 1,797 digits… click the map to decode any point", 8000)

    def _wire(self) -> None:
        c, tp, mp = self.controller, self.training_panel, self.map_panel
        c.updated.connect(self._on_update)
        c.stateChanged.connect(self._on_state)
        c.diverged.connect(self._on_diverged)
        c.failed.connect(self._on_failed)
        c.jobFinished.connect(self._on_job_finished)
        tp.startPauseRequested.connect(self.toggle_training)
        tp.stepRequested.connect(self.step_training)
        tp.resetRequested.connect(self.reset_training)
        tp.betaSettled.connect(self.retrain_with_beta)
        tp.speedChanged.connect(c.set_epochs_per_second)
        tp.modelTypeChanged.connect(lambda _k: self._sync_primary())
        mp.pointClicked.connect(self.set_current_point)
        mp.pressed.connect(c.hold_worker)
        mp.modeChanged.connect(self._on_map_mode)
        mp.axesChanged.connect(lambda _x, _y: self._on_axes_changed())
        mp.exportRequested.connect(self.export_latent_map_dialog)
        self.gallery.latentPicked.connect(self.pick_latent)
        mp.endpointClicked.connect(self.set_interpolation_endpoint)
        self.interpolation.pathChanged.connect(self._on_path_changed)
        self.interpolation.exportRequested.connect(self.export_interpolation_dialog)
        for name in SIDE_DOCKS:
            self.docks[name].visibilityChanged.connect(self._on_side_visibility)

    def _on_map_mode(self, mode: str) -> None:
        self._sync_mode_actions()
        self._refresh_decodes()

    def _sync_mode_actions(self) -> None:
        self.map_mode_actions[self.map_panel.mode].setChecked(True)

    def _on_side_visibility(self, visible: bool) -> None:
        if visible:
            self._refresh_side_panels()

    # -- training commands --------------------------------------------------------------
    def history(self, slot: str) -> list[EpochReport]:
        """Every epoch report the GUI received for ``slot`` since its weights were seeded."""
        return self._history[slot]

    @property
    def primary_slot(self) -> str:
        return slot_of(self.training_panel.model_kind)

    def load_pretrained(self) -> list[str]:
        """Show the shipped pretrained models; return the slots that could not be loaded.

        A pretrained model is only used when the bundled digits are the data and its
        architecture matches the (possibly restored) training settings.
        """
        tp = self.training_panel
        kinds = {"vae": "vae", "ae": tp.model_kind if self.primary_slot == "ae" else "ae"}
        missing: list[str] = []
        problems: list[str] = []
        for slot, kind in kinds.items():
            wanted = tp.config(kind)
            try:
                if self.dataset.name != "digits":
                    raise ModelFileError("pretrained models are for the bundled digits")
                saved = load_model(resource_path(f"pretrained-{kind}.npz"))
                m = saved.model
                if (m.kind, m.latent_dim, m.hidden_dim, m.input_dim) != (
                        kind, wanted.latent_dim, wanted.hidden_dim, self.dataset.images.shape[1]):
                    raise ModelFileError("it does not match the current settings")
            except (FileNotFoundError, ModelFileError) as exc:
                missing.append(slot)
                problems.append(f"{SLOT_TITLES[slot]}: {exc}")
                continue
            self.controller.adopt(slot, m, wanted)
            self._history[slot] = list(saved.history)
            self.map_panel.set_model(slot, m)
        self._sync_primary()
        self._refresh_decodes()
        if self.primary_slot not in missing:
            n = len(self._history[self.primary_slot])
            tp.set_progress_text(f"pretrained: {n} epochs · Start trains on")
        if not missing:
            self._pretrained_shown = True
            self.statusBar().showMessage(
                "Showing the pretrained VAE. Click anywhere on the map to decode that z; drag "
                "β to retrain live; Reset then Start (Space) to watch a model learn from "
                "scratch.", 15000)
        else:
            self.statusBar().showMessage(
                "Training from scratch (" + "; ".join(problems) + ")", 8000)
        return missing

    def start_initial_training(self, slots: list[str] | None = None) -> int | None:
        """Train ``slots`` (default both; the selected model's first) from scratch, live."""
        tp = self.training_panel
        primary = self.primary_slot
        ae_kind = tp.model_kind if primary == "ae" else "ae"
        configs = {"vae": tp.config("vae"), "ae": tp.config(ae_kind)}
        other = "ae" if primary == "vae" else "vae"
        wanted = [s for s in (primary, other) if slots is None or s in slots]
        if not wanted or self._shutting_down:
            return None
        order = {slot: configs[slot] for slot in wanted}
        label = ", then ".join(SLOT_TITLES[s] for s in wanted)
        job = self._train(order, wanted[0], from_scratch=True, label=f"training {label}")
        self._startup_job = job
        return job

    def toggle_training(self) -> None:
        """Space: pause a running job, otherwise start or resume the selected model."""
        if self.controller.running:
            self.controller.pause()
            self.statusBar().showMessage("Pausing…")
        else:
            slot = self.primary_slot
            self._train({slot: self.training_panel.config()}, slot)

    def pause_training(self) -> None:
        if self.controller.running:
            self.controller.pause()

    def resume_training(self) -> None:
        if not self.controller.running:
            slot = self.primary_slot
            self._train({slot: self.training_panel.config()}, slot)

    def step_training(self) -> None:
        slot = self.primary_slot
        job = self.controller.step(self.training_panel.config(), slot)
        self._after_launch(job, "one epoch")

    def reset_training(self) -> None:
        slot = self.primary_slot
        self.training_panel.cancel_pending_beta()
        self.controller.reset(slot)
        self._history[slot] = []
        self.map_panel.maps[slot].clear()
        self.decode_view.show_decoded(slot, None, None)
        self._sync_primary()
        self.training_panel.progress.setRange(0, 1)
        self.training_panel.progress.setValue(0)
        self.training_panel.set_progress_text("not started")
        self.statusBar().showMessage(
            f"{SLOT_TITLES[slot]} reset — press Start to train it from fresh weights", 5000)

    def retrain_with_beta(self, beta: float) -> int | None:
        """A settled β: cancel whatever runs and retrain the VAE with it."""
        if self.primary_slot != "vae" or self._shutting_down:
            return None
        tp = self.training_panel
        how = "from scratch" if tp.retrain_from_scratch else "from the current weights"
        return self._train({"vae": tp.config("vae")}, "vae",
                           from_scratch=tp.retrain_from_scratch, label=f"β = {beta:.2f}",
                           message=f"Retraining the VAE with β = {beta:.2f} {how}…")

    def _train(self, configs: dict[str, Any], primary: str, *, from_scratch: bool = False,
               label: str = "", message: str = "") -> int:
        job = self.controller.train(configs, primary, from_scratch=from_scratch)
        for slot in self.controller.fresh_slots:
            self._history[slot] = []
        if primary in self.controller.fresh_slots:
            self.training_panel.set_history(self.training_panel.model_kind, [])
        self._after_launch(job, label, message)
        return job

    def _after_launch(self, job: int, label: str, message: str = "") -> None:
        self._job_labels = {job: label}
        self._last_job_id = job
        self._state_label.setText("training…")
        slot = self.primary_slot
        self.statusBar().showMessage(message or f"Training the {SLOT_TITLES[slot]}…")

    # -- controller → panels ------------------------------------------------------------
    def _on_update(self, p: Progress) -> None:
        """A snapshot from the worker: redraw the maps and decodings now (the live part);
        curves, progress, gallery and trade-off follow at ~8 Hz (see _flush_slow)."""
        for slot, model in p.models.items():
            reports = p.reports.get(slot, [])
            seen = self.map_panel.maps[slot].model is not None
            if not reports and seen and not p.final:
                continue  # this slot has not moved since the last update
            self._history[slot].extend(reports)
            if slot == self.primary_slot:
                self.training_panel.append_history(reports, redraw=False)
            self.map_panel.set_model(slot, model)
            self._redecode(slot)
            self._slow_slots.add(slot)
        self._slow_progress = p
        if p.final:
            self._flush_slow()
        elif not self._slow_timer.isActive():
            self._slow_timer.start()
        if (p.job_id == self._startup_job and not self._first_frame_sent
                and self._history["vae"] and self.controller.epoch("vae") >= self._vae_target()):
            self._emit_first_frame_after_paint()

    def _flush_slow(self) -> None:
        """Refresh the panels that need not move 30 times a second: progress and curves
        now, the gallery and trade-off panel on the next event-loop turn, so no single
        turn of the loop has much to draw."""
        self._slow_timer.stop()
        self.controller.hold_worker()
        p = self._slow_progress
        if p is not None:
            self._last_progress = p
            self._show_progress(p)
            self._slow_progress = None
        if self.primary_slot in self._slow_slots:
            self.training_panel.redraw_curves()
            self._side_timer.start()
        self._slow_slots.clear()

    def _show_progress(self, p: Progress, note: str = "") -> None:
        """The progress bar for ``p``: the model's own epoch (the curves' x and the figures
        line count the same epochs) and this run's share, so "epoch 400 (this run
        200/200)" never contradicts a figures line saying epoch 400."""
        label = self._job_labels.get(p.job_id, "")
        epoch = None
        if len(p.models) == 1 and self.primary_slot in p.models:
            epoch = len(self._history[self.primary_slot])
        self.training_panel.set_progress(p.epochs_done, p.epochs_total, p.elapsed, label,
                                         epoch=epoch, note=note)

    def _flush_side_panels(self) -> None:
        self.controller.hold_worker()
        self._refresh_side_panels()

    def _refresh_side_panels(self) -> None:
        """Show the selected model in the gallery and trade-off panels, if they are seen."""
        slot = self.primary_slot
        model = self.controller.latest_model(slot)
        if model is None:
            return
        if self._is_seen("galleryDock"):
            self.gallery.show_model(model)
        last = self._history[slot][-1] if self._history[slot] else None
        if self._is_seen("tradeoffDock"):
            self.tradeoff.show_model(model, last)
        if self._is_seen("interpolationDock") or self.interpolation.path() is not None:
            self.interpolation.show_model(model)  # cheap; keeps the map's path live
        if self._is_seen("diagnosticsDock"):
            self.diagnostics.show_model(model, last)

    def _is_seen(self, name: str) -> bool:
        """True when the dock's panel is on screen: a dock tabbed behind another still
        says isVisible(), but has nothing of it visible (the trade-off panel costs ~3 ms
        per refresh, for nobody)."""
        dock = self.docks[name]
        return dock.isVisible() and not dock.visibleRegion().isEmpty()

    def set_interpolation_endpoint(self, which: str, x: float, y: float) -> None:
        """Shift/Ctrl+click on the map: make (x, y) on the shown axes (other dims 0) the
        interpolation's endpoint A or B, for the selected model."""
        slot = self.primary_slot
        model = self.controller.latest_model(slot)
        if model is None:
            return
        self.interpolation.show_model(model)
        z = np.zeros(model.latent_dim, dtype=np.float64)
        ax, ay = self.map_panel.maps[slot].axes
        z[ax], z[ay] = x, y
        self.interpolation.set_endpoint(which, z)
        dock = self.docks["interpolationDock"]
        if not self._is_seen("interpolationDock"):
            dock.show()
            dock.raise_()
        self.statusBar().showMessage(
            f"Interpolation endpoint {which.upper()} = ({x:.2f}, {y:.2f}) · Shift+click sets "
            "A, Ctrl+click sets B", 5000)

    def _on_path_changed(self, path: object) -> None:
        self.map_panel.set_path(self.primary_slot,
                                None if path is None else np.asarray(path))

    def export_interpolation_dialog(self) -> None:
        self._export_dialog("Export interpolation", "interpolation.png", "PNG image (*.png)",
                            ".png", self.interpolation.export_png)

    def _vae_target(self) -> int:
        cfg = self.controller.config("vae")
        return 0 if cfg is None else cfg.epochs

    def _emit_first_frame_after_paint(self) -> None:
        if self._first_frame_sent:
            return
        self._first_frame_sent = True
        # The map repaints in the next turn of the event loop; report after it.
        QTimer.singleShot(0, self.firstTrainedFrame.emit)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._pretrained_shown:
            self._emit_first_frame_after_paint()

    def _on_state(self, state: TrainingState) -> None:
        """Keep the button, the progress bar and both ends of the status bar in step: a
        state change replaces whatever message the previous state left behind."""
        self.training_panel.set_state(state)
        text = {
            TrainingState.IDLE: "not trained",
            TrainingState.RUNNING: "training…",
            TrainingState.PAUSED: "paused",
            TrainingState.FINISHED: "finished",
            TrainingState.DIVERGED: "diverged",
        }[state]
        self._state_label.setText(text)
        if self._shutting_down:
            return
        slot = self.primary_slot
        name = SLOT_TITLES[slot]
        epoch = len(self._history[slot])
        bar = self.statusBar()
        if state is TrainingState.RUNNING:
            bar.showMessage(f"Training the {name}…")
        elif state is TrainingState.PAUSED:
            p = self._last_progress
            if p is not None and p.job_id == self._last_job_id:
                self._show_progress(p, note="paused")
            bar.showMessage(f"Paused the {name} at epoch {epoch} — Space or Resume "
                            "continues", 8000)
        elif state is TrainingState.FINISHED:
            bar.showMessage(f"{name} trained to epoch {epoch}. Click the map to decode any "
                            "z; Space trains another run.", 10000)
        else:  # IDLE, DIVERGED (the divergence message follows from _on_diverged)
            bar.clearMessage()

    def _on_job_finished(self, job_id: int) -> None:
        if job_id != self.controller.current_job_id and self.controller.running:
            return
        if self.controller.state is TrainingState.FINISHED:
            if self.primary_slot == "vae" and self._history["vae"]:
                self.tradeoff.record_current()
            if job_id == self._startup_job:
                self.statusBar().showMessage(
                    "Trained. Click anywhere on the map to decode that z; drag β to retrain "
                    "live; Space trains more.", 10000)

    def _on_diverged(self, slot: str, message: str) -> None:
        self.training_panel.set_progress_text("diverged — see the status bar")
        self.statusBar().showMessage(
            f"{SLOT_TITLES[slot]} training stopped: {message}")

    def _on_failed(self, message: str) -> None:
        last = message.strip().splitlines()[-1] if message.strip() else "unknown error"
        self.statusBar().showMessage(f"Training failed: {last}")

    def _sync_primary(self) -> None:
        """Point the curves, gallery and trade-off panel at the selected model's slot."""
        slot = self.primary_slot
        self.training_panel.set_history(self.training_panel.model_kind, self._history[slot])
        if self.controller.latest_model(slot) is not None:
            self._refresh_side_panels()
        else:
            self.gallery.clear()

    # -- current point ------------------------------------------------------------------
    def set_current_point(self, x: float, y: float) -> None:
        """Make (x, y) on the shown map axes the current point; decode it in every map."""
        self._current_xy = (float(x), float(y))
        self._picked_z = None
        self._refresh_decodes()

    def pick_latent(self, z: np.ndarray) -> None:
        """A gallery sample was clicked: mark its z on the map and decode exactly it."""
        z = np.asarray(z, dtype=np.float32).reshape(-1)
        ax, ay = self.map_panel.axes
        if ax < z.size and ay < z.size:
            self._current_xy = (float(z[ax]), float(z[ay]))
        self._picked_z = (self.primary_slot, z)
        self._refresh_decodes()

    def current_z(self, slot: str) -> np.ndarray | None:
        """The latent vector decoded for ``slot`` (other dims 0 for a map click)."""
        model = self.controller.latest_model(slot)
        if model is None or self._current_xy is None:
            return None
        if self._picked_z is not None and self._picked_z[0] == slot \
                and self._picked_z[1].size == model.latent_dim:
            return self._picked_z[1]
        z = np.zeros(model.latent_dim, dtype=np.float32)
        ax, ay = self.map_panel.maps[slot].axes
        z[ax], z[ay] = self._current_xy
        return z

    def _refresh_decodes(self) -> None:
        slots = self.map_panel.visible_slots()
        self.decode_view.set_slots(slots)
        self.map_panel.set_current(self._current_xy)
        for slot in slots:
            self._redecode(slot)

    def _redecode(self, slot: str) -> None:
        if slot not in self.map_panel.visible_slots():
            return
        self.decode_view.show_decoded(slot, self.controller.latest_model(slot),
                                      self.current_z(slot))
        self.decoded.emit()

    def _on_axes_changed(self) -> None:
        self._picked_z = None
        self._refresh_decodes()

    # -- export -------------------------------------------------------------------------
    def export_latent_map(self, path: str | Path, width: int, height: int | None = None) -> Path:
        """Write the visible latent map(s) to ``path`` as a PNG of ``width`` × ``height``
        pixels (height defaults to the map's own aspect ratio)."""
        if height is None:
            height = self.map_panel.natural_export_height(width)
        path = Path(path)
        self.map_panel.export_png(str(path), int(width), int(height))
        self.statusBar().showMessage(f"Saved {path} ({width}×{height})", 5000)
        return path

    def export_latent_map_dialog(self) -> None:
        view = self.map_panel.view
        aspect = view.height() / max(1, view.width())
        dialog = ExportSizeDialog(max(800, 2 * view.width()), aspect, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        start = str(Path(self._last_dir()) / "latent-map.png")
        path, _ = QFileDialog.getSaveFileName(self, "Export latent map", start,
                                              "PNG image (*.png)")
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        self.settings.setValue("export/dir", str(Path(path).parent))
        try:
            self.export_latent_map(path, dialog.width_box.value(), dialog.height_box.value())
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export failed", f"Could not save {path}:\n{exc}")

    def export_gallery_dialog(self) -> None:
        self._export_dialog("Export gallery", "gallery.png", "PNG image (*.png)", ".png",
                            self.gallery.export_png)

    def _save_path(self, title: str, name: str, filters: str, suffix: str) -> str | None:
        """Ask for a file to write; remember its folder; add ``suffix`` if missing."""
        start = str(Path(self._last_dir()) / name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        if not path:
            return None
        if not path.lower().endswith(suffix):
            path += suffix
        self.settings.setValue("export/dir", str(Path(path).parent))
        return path

    def _export_dialog(self, title: str, name: str, filters: str, suffix: str,
                       write: Callable[[str], object], failure: str = "Export failed") -> None:
        """Ask for a file, ``write(path)`` it, and report a failure in a message box (the
        writers are atomic, so a failure leaves any earlier file as it was)."""
        path = self._save_path(title, name, filters, suffix)
        if path is None:
            return
        try:
            write(path)
        except (OSError, ValueError, RuntimeError) as exc:
            QMessageBox.warning(self, failure, f"Could not save {path}:\n{exc}")
            return
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def _export_slot(self) -> str:
        """The model an export is about: the shown map's, or the selected one side by side."""
        mode = self.map_panel.mode
        return self.primary_slot if mode == "both" else mode

    def export_latent_map_svg(self, path: str | Path) -> Path:
        """Write the visible latent map(s) to ``path`` as SVG (vector dots and axes)."""
        path = Path(path)
        self.map_panel.export_svg(str(path))
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return path

    def export_latent_map_svg_dialog(self) -> None:
        self._export_dialog("Export latent map as SVG", "latent-map.svg",
                            "SVG drawing (*.svg)", ".svg", self.export_latent_map_svg)

    def export_loss_curves(self, path: str | Path, width: int = 1200) -> Path:
        """Write the loss-curve chart to ``path`` as a PNG ``width`` pixels wide."""
        path = Path(path)
        self.training_panel.export_curves_png(str(path), int(width))
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return path

    def export_loss_curves_dialog(self) -> None:
        self._export_dialog("Export loss curves", "loss-curves.png", "PNG image (*.png)",
                            ".png", self.export_loss_curves)

    def export_latent_codes(self, path: str | Path, slot: str | None = None) -> Path:
        """Write every image's latent code under ``slot``'s model (default: the shown map)
        as CSV: ``index,label,mu_1..mu_K`` (``z_1..z_K`` for an autoencoder), then
        ``logvar_1..logvar_K`` for a VAE. The file is replaced atomically."""
        slot = slot or self._export_slot()
        model = self.controller.latest_model(slot)
        if model is None:
            raise ValueError(f"the {SLOT_TITLES[slot]} has no trained model to encode with")
        mu, log_var = model.encode(self.dataset.images)
        k = mu.shape[1]
        stem = "mu" if log_var is not None else "z"
        header = ["index", "label", *(f"{stem}_{i + 1}" for i in range(k))]
        columns = [mu]
        if log_var is not None:
            header += [f"logvar_{i + 1}" for i in range(k)]
            columns.append(log_var)
        values = np.concatenate(columns, axis=1)
        labels = self.dataset.labels
        lines = [",".join(header)]
        for i, row in enumerate(values):
            label = "" if labels is None else str(int(labels[i]))
            lines.append(f"{i},{label}," + ",".join(f"{v:.9g}" for v in row))
        path = Path(path)
        atomic_write_text(path, "\n".join(lines) + "\n")
        self.statusBar().showMessage(f"Saved {len(values)} latent codes to {path}", 5000)
        return path

    def export_latent_codes_dialog(self) -> None:
        self._export_dialog("Export latent codes", "latent-codes.csv", "CSV table (*.csv)",
                            ".csv", self.export_latent_codes)

    # -- model files --------------------------------------------------------------------
    def save_model_file(self, path: str | Path, slot: str | None = None) -> Path:
        """Save ``slot``'s model (default: the selected one) with its settings and loss
        history (atomic: a failed save leaves any previous file intact)."""
        slot = slot or self.primary_slot
        model = self.controller.latest_model(slot)
        if model is None:
            raise ValueError(f"the {SLOT_TITLES[slot]} has no trained model to save")
        cfg = self.controller.requested_config(slot)
        if cfg is None or (cfg.model, cfg.latent_dim, cfg.hidden_dim) != (
                model.kind, model.latent_dim, model.hidden_dim):
            cfg = replace(self.training_panel.config(model.kind), latent_dim=model.latent_dim,
                          hidden_dim=model.hidden_dim)
        path = save_model(Path(path), model, cfg, self._history[slot])
        self.statusBar().showMessage(
            f"Saved the {SLOT_TITLES[slot]} ({len(self._history[slot])} epochs) to {path}", 6000)
        return path

    def save_model_dialog(self) -> None:
        self._export_dialog("Save model", f"latentlab-{self.training_panel.model_kind}.npz",
                            "LatentLab model (*.npz)", ".npz", self.save_model_file,
                            failure="Save failed")

    def open_model_file(self, path: str | Path) -> None:
        """Load a model file: it replaces its slot's model (training stops), appears on the
        map and its settings fill the training panel. Raises :class:`ModelFileError` and
        changes nothing when the file is bad or does not fit the data."""
        saved = load_model(path)
        model, cfg = saved.model, saved.config
        d = self.dataset.images.shape[1]
        if model.input_dim != d:
            raise ModelFileError(
                f"{path}: the model expects images of {model.input_dim} pixels; the data "
                f"has {d}")
        cfg = replace(cfg, model=model.kind, latent_dim=model.latent_dim,
                      hidden_dim=model.hidden_dim)
        slot = slot_of(model.kind)
        self.training_panel.cancel_pending_beta()
        self.training_panel.apply_settings(cfg.to_dict())
        self.controller.adopt(slot, model, cfg)
        self._history[slot] = list(saved.history)
        self._picked_z = None
        if slot not in self.map_panel.visible_slots():
            self.map_panel.set_mode(slot)
        self.map_panel.set_model(slot, model)
        self.map_panel.maps[slot].fit(force=True)
        self._sync_primary()
        self._refresh_decodes()
        n = len(saved.history)
        self.training_panel.progress.setRange(0, 1)
        self.training_panel.progress.setValue(1 if n else 0)
        self.training_panel.set_progress_text(f"{Path(path).name}: {n} epochs · Start trains on")
        self._state_label.setText("model loaded")
        self.statusBar().showMessage(
            f"Opened {path}: {SLOT_TITLES[slot]} with K = {model.latent_dim}, "
            f"{n} epochs trained", 8000)

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._last_dir(),
                                              "LatentLab model (*.npz);;All files (*)")
        if not path:
            return
        self.settings.setValue("export/dir", str(Path(path).parent))
        try:
            self.open_model_file(path)
        except ModelFileError as exc:
            QMessageBox.warning(self, "Could not open the model", str(exc))

    # -- data sets ----------------------------------------------------------------------
    def load_dataset(self, dataset: Dataset, *, train: bool = True) -> None:
        """Make ``dataset`` the data of every panel: stop training (a cancelled job's
        results never arrive), drop the models (they were fitted to the old data), clear
        the maps, decode views, gallery, trade-off points and interpolation, then train a
        VAE and an autoencoder on the new data (the shipped pretrained models instead,
        for the bundled digits)."""
        if self._shutting_down:
            return
        self.training_panel.cancel_pending_beta()
        self._slow_timer.stop()
        self._side_timer.stop()
        self.controller.set_images(dataset.images)
        self.dataset = ds = dataset
        self._history = {"vae": [], "ae": []}
        self._current_xy = (0.0, 0.0)
        self._picked_z = None
        self._startup_job = None
        self._job_labels = {}
        self._last_progress = None
        self._slow_progress = None
        self._slow_slots.clear()
        names = ds.label_names
        self.map_panel.set_data(ds.images, ds.labels, ds.image_shape, ds.name, names)
        self.decode_view.set_data(ds.images, ds.labels, ds.image_shape, names)
        self.gallery.clear()
        self.gallery.set_image_shape(ds.image_shape)
        for panel in (self.tradeoff, self.diagnostics):
            panel.show_model(None)
            panel.set_data(ds.images, ds.image_shape, ds.labels)
        self.tradeoff.clear_points()
        self.interpolation.show_model(None)
        self.interpolation.set_data(ds.images, ds.image_shape, ds.labels, ds.label_names)
        self.training_panel.set_history(self.training_panel.model_kind, [])
        self.training_panel.progress.setRange(0, 1)
        self.training_panel.progress.setValue(0)
        self.training_panel.set_progress_text("not started")
        self.setWindowTitle(f"LatentLab — {self.data_description()}")
        self._refresh_decodes()
        missing = self.load_pretrained() if ds is self._digits else ["vae", "ae"]
        if train and missing:
            self.start_initial_training(missing)
        self.statusBar().showMessage(
            f"Data: {self.data_description()}"
            + (" — training a VAE and an autoencoder on it…" if train and missing else ""),
            10000)

    def data_description(self) -> str:
        """E.g. "squares: 600 images, 16×16, 2 labels"."""
        ds = self.dataset
        h, w = ds.image_shape
        labels = "no labels" if ds.labels is None else \
            f"{len(np.unique(ds.labels))} labels"
        return f"{ds.name}: {len(ds):,} images, {h}×{w}, {labels}"

    @property
    def _digits(self) -> Dataset:
        """The bundled digits (loaded once)."""
        if self._bundled is None:
            self._bundled = load_digits()
        return self._bundled

    def use_bundled_digits(self) -> None:
        """Go back to the bundled 8×8 digits (and their pretrained models)."""
        self.load_dataset(self._digits)
        self.setWindowTitle("LatentLab — autoencoders and VAEs on 8×8 digits")

    def import_data_file(self, path: str | Path) -> Dataset:
        """Load a data file (see :func:`latentlab.core.load_dataset`) and switch to it.
        Raises :class:`DataFileError` and changes nothing when the file is bad."""
        dataset = load_dataset(path)
        self.load_dataset(dataset)
        return dataset

    def import_image_folder(self, folder: str | Path,
                            size: tuple[int, int] | None = None) -> FolderImport:
        """Load a folder of PNG/JPEG images (see :mod:`.image_folder`) and switch to it.
        Raises :class:`DataFileError` and changes nothing when nothing usable is found."""
        result = load_image_folder(folder, size)
        self.load_dataset(result.dataset)
        if result.skipped:
            self.statusBar().showMessage(
                f"Data: {self.data_description()} — skipped {len(result.skipped)} unreadable "
                f"file{'s' if len(result.skipped) != 1 else ''}", 15000)
        return result

    def import_data_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import images", self._last_dir(),
            "Image data (*.npz *.npy *.csv *idx3-ubyte *idx3-ubyte.gz);;"
            "NumPy arrays (*.npz *.npy);;CSV, one image per row (*.csv);;"
            "MNIST IDX (*idx3-ubyte *idx3-ubyte.gz);;All files (*)")
        if not path:
            return
        self.settings.setValue("export/dir", str(Path(path).parent))
        try:
            self.import_data_file(path)
        except DataFileError as exc:
            QMessageBox.warning(self, "Could not import the images", str(exc))

    def import_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of images",
                                                  self._last_dir())
        if not folder:
            return
        self.settings.setValue("export/dir", folder)
        choices = list(FOLDER_SIZES)
        choice, ok = QInputDialog.getItem(
            self, "Image size", "Resize every image to:", choices, 0, False)
        if not ok:
            return
        try:
            self.import_image_folder(folder, FOLDER_SIZES[choice])
        except DataFileError as exc:
            QMessageBox.warning(self, "Could not import the images", str(exc))

    def _last_dir(self) -> str:
        value = self.settings.value("export/dir", "")
        return str(value) if value and Path(str(value)).is_dir() else str(Path.home())

    # -- layout, settings, about --------------------------------------------------------
    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, SETTINGS_VERSION)

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state, SETTINGS_VERSION)
        raw = s.value("training/settings", "")
        if raw:
            try:
                values = json.loads(str(raw))
            except ValueError:
                values = None
            if isinstance(values, dict):
                self.training_panel.apply_settings(values)
        mode = str(s.value("map/mode", "vae"))
        if mode in ("vae", "ae", "both"):
            self.map_panel.set_mode(mode)
        self.controller.set_epochs_per_second(self.training_panel.epochs_per_second)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(SETTINGS_VERSION))
        s.setValue("training/settings", json.dumps(self.training_panel.to_settings()))
        s.setValue("map/mode", self.map_panel.mode)
        s.sync()

    def show_about(self) -> None:
        QMessageBox.about(
            self, "About LatentLab",
            f"<h3>LatentLab {latentlab.__version__}</h3>"
            "<p>Train autoencoders and variational autoencoders on small images and watch "
            "them learn: click the latent map to decode any point, drag β to feel the "
            "trade-off between sharp reconstructions and a smooth latent space, and sample "
            "new digits from the prior.</p>"
            "<p>Pure NumPy models; Qt (PySide6) and pyqtgraph interface. MIT licence.</p>")

    # -- shutdown -----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop training and wait for the worker thread (idempotent)."""
        if self._shutting_down:
            return
        self._shutting_down = True
        self._slow_timer.stop()
        self._side_timer.stop()
        self.training_panel.cancel_pending_beta()
        self.controller.shutdown()
        app = QApplication.instance()
        if app is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                app.aboutToQuit.disconnect(self.shutdown)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._shutting_down:
            self.save_settings()
        self.shutdown()
        super().closeEvent(event)


__all__ = ["MainWindow", "default_settings"]
