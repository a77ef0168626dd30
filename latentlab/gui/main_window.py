"""LatentLab's main window: the shell around one session, one controller and the panels.

The window builds a dock per row of the panel registry (:data:`panels.PANELS`) and the menu
bar from the menu table (:mod:`actions.menus`); it connects each panel's requests and each
menu item to a command of :mod:`actions`, shows what the session says in the status bar, and
keeps the layout and settings. It holds no state of its own: a frame of training goes
controller → session → panels without passing through here.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from typing import cast

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QWidget,
)

from latentlab.blas import limit_blas_threads
from latentlab.core import Dataset

from .actions.desktop import DropTarget, fill_recent_menu
from .actions.file_menu import FileCommands, Pictures
from .actions.files import bundled_digits, data_description
from .actions.help import show_about, show_quick_start, show_shortcuts
from .actions.menus import build_menus
from .actions.training import TrainingCommands
from .logs import setup_logging
from .panels import (
    PANELS,
    GalleryPanel,
    InterpolationPanel,
    LatentMapPanel,
    Panel,
    TrainingPanel,
)
from .panels.fit import readable_tabs, scrollable
from .session import LabSession
from .slots import MAP_MODES, Slot
from .tooltips import install_tooltip_wrapping
from .tour import TourDialog
from .training.controller import TrainingController

ORGANIZATION = "LatentLab"
APPLICATION = "LatentLab"
SETTINGS_VERSION = 1
DEFAULT_SIZE = (1440, 900)
DIGITS_TITLE = "LatentLab — autoencoders and VAEs on 8×8 digits"

log = logging.getLogger(__name__)


def default_settings() -> QSettings:
    """The user's LatentLab settings (an INI file under the user's config folder).

    Tests redirect it with ``QSettings.setPath(IniFormat, UserScope, tmp)`` or
    ``XDG_CONFIG_HOME``.
    """
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                     ORGANIZATION, APPLICATION)


class MainWindow(QMainWindow):
    """The LatentLab window. ``MainWindow()`` loads the bundled digits and shows the
    shipped pretrained VAE and autoencoder in its first frame; where a pretrained model is
    missing, unreadable or does not match the restored settings, that model is trained in
    the background at once instead (``autostart``). ``MainWindow(dataset=…)`` opens the
    window on a given data set.

    Signals: ``firstTrainedFrame()`` — the VAE map shows a trained model for the first time
    (painted).
    """

    firstTrainedFrame = Signal()

    def __init__(self, dataset: Dataset | None = None, *, settings: QSettings | None = None,
                 autostart: bool = True, pretrained: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        setup_logging()
        install_tooltip_wrapping(cast(QApplication, QApplication.instance()))
        self.setObjectName("latentLabMainWindow")
        self.settings = settings if settings is not None else default_settings()
        limit_blas_threads(1)  # tiny matrices: BLAS worker threads only steal the cores
        self.session = LabSession(dataset if dataset is not None else bundled_digits(), self)
        self.controller = TrainingController(self.session.dataset.images, self)
        self.session.follow(self.controller)
        self.training = TrainingCommands(self.session, self.controller, self)
        self.training.firstTrainedFrame.connect(self.firstTrainedFrame)
        self.panels: dict[str, Panel] = {spec.name: spec.factory(self.session)
                                         for spec in PANELS}
        self.docks: dict[str, QDockWidget] = {}
        self.tour: TourDialog | None = None
        self._build_docks()
        self.files = FileCommands(self, self.settings, self.training, self._pictures())
        self.menus = build_menus(self, self._commands(),
                                 [(self.docks[s.name], s.shortcut) for s in PANELS],
                                 self.session.set_map_mode, self._map.view_actions())
        recent = self.menus.menus["recent"]
        recent.aboutToShow.connect(
            lambda: fill_recent_menu(recent, self.files.recent, self.files.open_path))
        self.drops = DropTarget(self, self.files.open_path)
        self._build_status_bar()
        self._wire()
        self._show_title()
        self.resize(*DEFAULT_SIZE)
        self._default_state = self.saveState(SETTINGS_VERSION)
        self._restore_settings()
        readable_tabs(self)
        self._sync_mode_actions()

        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        missing = self.training.load_pretrained() if pretrained else list(Slot)
        if autostart and missing:
            QTimer.singleShot(0, lambda: self.training.start_initial_training(missing))
        log.info("window opened on %s", data_description(self.session.dataset))

    # -- construction -------------------------------------------------------------------
    def _build_docks(self) -> None:
        features = (QDockWidget.DockWidgetFeature.DockWidgetMovable
                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                    | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowNestedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)
        # No central widget: every panel is a dock, laid out as the registry says.
        columns: list[QDockWidget] = []
        widths: list[int] = []
        stack: list[tuple[QDockWidget, int]] = []  # the last column, split top to bottom
        first_tab: QDockWidget | None = None
        last: QDockWidget | None = None
        for spec in PANELS:
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(spec.dock)
            dock.setWidget(scrollable(self.panels[spec.name], spec.scroll))
            dock.setFeatures(features)
            self.docks[spec.name] = dock
            if spec.place == "column" or last is None:
                if columns:
                    self.splitDockWidget(columns[-1], dock, Qt.Orientation.Horizontal)
                else:
                    self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
                columns.append(dock)
                widths.append(spec.size[0])
                stack = [(dock, spec.size[1])]
            elif spec.place == "below":
                self.splitDockWidget(stack[-1][0], dock, Qt.Orientation.Vertical)
                stack.append((dock, spec.size[1]))
                first_tab = dock
            else:
                self.tabifyDockWidget(last, dock)
            last = dock
        if first_tab is not None:
            first_tab.raise_()
        self.resizeDocks(columns, widths, Qt.Orientation.Horizontal)
        if len(stack) > 1:
            self.resizeDocks([d for d, _ in stack], [h for _, h in stack],
                             Qt.Orientation.Vertical)

    @property
    def _map(self) -> LatentMapPanel:
        return cast(LatentMapPanel, self.panels["map"])

    @property
    def _training_panel(self) -> TrainingPanel:
        return cast(TrainingPanel, self.panels["training"])

    def _pictures(self) -> Pictures:
        p, view = self.panels, self._map.view
        return Pictures(
            map_png=self._map.export_png, map_svg=self._map.export_svg,
            map_view_size=lambda: (view.width(), view.height()),
            curves_png=self._training_panel.export_curves_png,
            gallery_png=cast(GalleryPanel, p["gallery"]).export_png,
            interpolation_png=cast(InterpolationPanel, p["interpolation"]).export_png)

    def _commands(self) -> dict[str, Callable[[], object]]:
        t = self.training
        return {**self.files.commands(), "quit": self.quit, "start": t.toggle,
                "step": t.step, "reset": self.reset_model, "fit_map": self._map.fit_view,
                "reset_layout": self.reset_layout, "about": lambda: show_about(self),
                "quick_start": lambda: show_quick_start(self),
                "shortcuts": lambda: show_shortcuts(self, self.menuBar()),
                "tour": self.show_tour}

    def reset_model(self) -> None:
        """Reset, after asking about a trained model that was never saved."""
        self.files.guard.confirm("Reset", self.training.reset)

    def quit(self) -> None:
        """Close the window, after asking about a trained model that was never saved."""
        self.files.guard.confirm("Quitting", self.close)

    def _build_status_bar(self) -> None:
        self._state_label = QLabel("")
        self._state_label.setStyleSheet("color: #555; padding-right: 8px;")
        # A busy bar while a data file is read in the background (File ▸ Import images…).
        self._busy = QProgressBar()
        self._busy.setObjectName("importProgress")
        self._busy.setRange(0, 0)
        self._busy.setTextVisible(False)
        # No taller than the status text: a taller bar would re-lay out the docks and
        # move the maps under the cursor each time it shows.
        self._busy.setMaximumSize(160, self._state_label.sizeHint().height())
        self._busy.hide()
        self.statusBar().addPermanentWidget(self._busy)
        self.statusBar().addPermanentWidget(self._state_label)
        self.statusBar().showMessage(
            "Training a VAE on the 1,797 digits… click the map to decode any point", 8000)

    def _wire(self) -> None:
        s, t, p = self.session, self.training, self.panels
        s.statusMessage.connect(self._say)
        s.stateText.connect(self._state_label.setText)
        s.busyChanged.connect(self._show_busy)
        s.datasetChanged.connect(self._show_title)
        s.mapModeChanged.connect(lambda _mode: self._sync_mode_actions())
        s.endpointPicked.connect(self._on_endpoint_picked)
        tp = self._training_panel
        tp.startPauseRequested.connect(t.toggle)
        tp.stepRequested.connect(t.step)
        tp.resetRequested.connect(self.reset_model)
        self._map.pressed.connect(self.controller.hold_worker)
        self._map.exportRequested.connect(self.files.export_map)
        cast(InterpolationPanel, p["interpolation"]).exportRequested.connect(
            self.files.export_interpolation)
        for name, dock in self.docks.items():
            panel = p[name]
            dock.visibilityChanged.connect(
                lambda visible, panel=panel: visible and panel.refresh())

    def _show_busy(self, text: str) -> None:
        self._busy.setVisible(bool(text))
        self._busy.setToolTip(text)
        if text:
            self.statusBar().showMessage(text)

    def _say(self, text: str, ms: int) -> None:
        if text:
            self.statusBar().showMessage(text, ms)
        else:
            self.statusBar().clearMessage()

    def _show_title(self) -> None:
        ds = self.session.dataset
        self.setWindowTitle(DIGITS_TITLE if ds is bundled_digits()
                            else f"LatentLab — {data_description(ds)}")

    def _sync_mode_actions(self) -> None:
        self.menus.map_modes[self.session.map_mode].setChecked(True)

    def _on_endpoint_picked(self, which: str, z: np.ndarray) -> None:
        """Shift/Ctrl+click on the map set an interpolation endpoint: show that panel."""
        dock = self.docks["interpolation"]
        if not self.panels["interpolation"].is_seen():
            dock.show()
            dock.raise_()
        plane = self.session.plane(self.session.primary_slot)  # the one it was lifted by
        where = "" if plane is None else \
            " at ({:.2f}, {:.2f}) on the map".format(*plane.project(np.asarray(z)[None, :])[0])
        self.statusBar().showMessage(
            f"Interpolation endpoint {which.upper()}{where} · Shift+click sets A, Ctrl+click "
            "sets B", 5000)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.training.pretrained_shown:
            self.training.emit_first_frame_after_paint()

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
                self._training_panel.apply_settings(values)
        mode = str(s.value("map/mode", Slot.VAE.value))
        if mode in MAP_MODES:
            self.session.set_map_mode(mode)
        self.controller.set_epochs_per_second(self.session.settings.epochs_per_second)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(SETTINGS_VERSION))
        s.setValue("training/settings", json.dumps(self._training_panel.to_settings()))
        s.setValue("map/mode", self.session.map_mode)
        s.sync()

    def show_tour(self) -> TourDialog:
        """Help ▸ Tour of the article: open the tour at its first step."""
        if self.tour is None:
            self.tour = TourDialog(self)
        self.tour.show()  # non-modal: the window stays usable beside it
        self.tour.go(0)
        return self.tour

    # -- shutdown -----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop training and wait for the worker thread (idempotent)."""
        if self.training.shutting_down:
            return
        self.training.shutdown()
        self.session.shutdown()
        app = QApplication.instance()
        if app is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                app.aboutToQuit.disconnect(self.shutdown)

    def closeEvent(self, event: QCloseEvent) -> None:
        if event.spontaneous() and self.files.guard.unsaved():  # the title bar's ×
            event.ignore()
            self.quit()
            return
        if not self.training.shutting_down:
            self.save_settings()
        self.shutdown()
        super().closeEvent(event)


__all__ = ["MainWindow", "default_settings"]
