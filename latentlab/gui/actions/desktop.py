"""Desktop habits: File ▸ Open recent, dropping a file or folder on the window, and asking
before a trained model that was never saved is thrown away (Reset, Open, Import, Quit).

A slot's model is *unsaved* when it has trained epochs since its history was last replaced
(seeded, loaded, shipped) or saved. The question is a window-modal box opened without
blocking (:meth:`UnsavedGuard.confirm` runs the command once it is answered), so neither
the event loop nor a test waits on it.
"""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from ..slots import SLOT_TITLES, Slot
from . import files
from .dialogs import ask_save_path, guarded
from .training import TrainingCommands

MAX_RECENT = 8
RECENT_KEYS = {"model": "recent/models", "data": "recent/data"}


def is_model_file(path: str | Path) -> bool:
    """Whether ``path`` is a LatentLab model file (a .npz holding a ``metadata`` member)
    rather than a data file; reads the archive's directory only."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "metadata.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


class RecentFiles:
    """The recently opened models and data (files or folders) in ``settings``, newest
    first; entries that no longer exist are dropped when the list is read."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def entries(self, kind: str) -> list[str]:
        raw = self.settings.value(RECENT_KEYS[kind], [])
        paths = [str(p) for p in (raw if isinstance(raw, list) else [raw]) if p]
        present = [p for p in paths if Path(p).exists()]
        if present != paths:
            self._store(kind, present)
        return present

    def add(self, kind: str, path: str | Path) -> None:
        path = str(Path(path).resolve())
        self._store(kind, [path, *(p for p in self.entries(kind) if p != path)][:MAX_RECENT])

    def clear(self) -> None:
        for key in RECENT_KEYS.values():
            self.settings.remove(key)

    def _store(self, kind: str, paths: list[str]) -> None:
        self.settings.setValue(RECENT_KEYS[kind], paths)


class UnsavedGuard(QObject):
    """Asks Save / Discard / Cancel before a command that would drop a trained, unsaved
    model. ``question`` is the open box while one waits for an answer (None otherwise)."""

    def __init__(self, parent: QWidget, training: TrainingCommands,
                 settings: QSettings) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.training = training
        self.session = session = training.session
        self.settings = settings
        self.question: QMessageBox | None = None
        self._saved_epoch = {slot: session.slot(slot).epoch for slot in Slot}
        session.historyChanged.connect(self._history_replaced)

    def _history_replaced(self, slot: str) -> None:
        self._saved_epoch[Slot(slot)] = self.session.slot(slot).epoch

    def mark_saved(self, slot: str) -> None:
        self._saved_epoch[Slot(slot)] = self.session.slot(slot).epoch

    def unsaved(self) -> list[Slot]:
        """The slots whose model has epochs trained since it was last saved or replaced."""
        return [slot for slot in Slot if self.session.model(slot) is not None
                and self.session.slot(slot).epoch > self._saved_epoch[slot]]

    def confirm(self, doing: str, proceed: Callable[[], object]) -> None:
        """Run ``proceed`` now if nothing unsaved would be lost; otherwise ask first
        ("``doing``" says what would lose it, e.g. "Reset")."""
        slots = self.unsaved()
        if not slots:
            proceed()
            return
        if self.question is not None:
            return  # one question at a time
        names = " and the ".join(f"{SLOT_TITLES[s]} ({self.session.slot(s).epoch} epochs)"
                                 for s in slots)
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved trained model",
                          f"The {names} {'has' if len(slots) == 1 else 'have'} not been "
                          "saved.", parent=self.parent_widget)
        box.setInformativeText(f"{doing} will discard it. Save it first?")
        box.setStandardButtons(QMessageBox.StandardButton.Save
                               | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        self.question = box

        def answered(_result: int) -> None:
            button = box.standardButton(box.clickedButton())
            self.question = None
            box.deleteLater()
            if button == QMessageBox.StandardButton.Discard or (
                    button == QMessageBox.StandardButton.Save and self._save(slots)):
                for slot in slots:
                    self.mark_saved(slot)  # the user decided about it: never ask again
                proceed()

        box.finished.connect(answered)
        box.open()

    def _save(self, slots: list[Slot]) -> bool:
        """Ask where to save each slot's model and save it; False if any was cancelled or
        failed (the command then does not run)."""
        for slot in slots:
            model = self.session.model(slot)
            kind = model.kind if model is not None else slot.value
            path = ask_save_path(self.parent_widget, self.settings,
                                 f"Save the {SLOT_TITLES[slot]}", f"latentlab-{kind}.npz",
                                 "LatentLab model (*.npz)", ".npz")
            if path is None:
                return False
            if guarded(self.parent_widget, "Save failed", f"Could not save {path}",
                       functools.partial(files.save_model_file, self.training, path, slot)
                       ) is None:
                return False
        return True


class DropTarget(QObject):
    """Accepts a model file, a data file or a folder of images dropped on ``window``; the
    open or import runs through ``open_path`` (the File menu's own commands)."""

    def __init__(self, window: QWidget, open_path: Callable[[str], object]) -> None:
        super().__init__(window)
        self.open_path = open_path
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    @staticmethod
    def dropped_path(event: QDragEnterEvent | QDropEvent) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        local = [u.toLocalFile() for u in urls if u.isLocalFile()]
        return local[0] if len(local) == 1 else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QDragEnterEvent | QDropEvent) and event.type() in (
                QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            path = self.dropped_path(event)
            if path is None:
                event.ignore()
                return True
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.open_path(path)
            return True
        return False


def fill_recent_menu(menu: QMenu, recent: RecentFiles,
                     open_path: Callable[[str], object]) -> None:
    """(Re)build File ▸ Open recent from ``recent``: models, then data, then Clear."""
    menu.clear()
    models, data = recent.entries("model"), recent.entries("data")
    for title, paths in (("Models", models), ("Data", data)):
        if paths:
            menu.addSection(title)
        for path in paths:
            action = menu.addAction(Path(path).name, lambda p=path: open_path(p))
            action.setToolTip(path)
    if not (models or data):
        menu.addAction("No recent files").setEnabled(False)
        return
    menu.addSeparator()
    menu.addAction("Clear the list", recent.clear)


__all__ = ["DropTarget", "RecentFiles", "UnsavedGuard", "fill_recent_menu", "is_model_file"]
