"""The window's dialogs: one failure dialog for every failed open, import, export or save;
asking for a file; the latent map's export size.

:func:`guarded` is the action boundary: it runs a command, and whatever it raises — a
``DataFileError`` or ``ModelFileError`` with a clear message, or an error nobody foresaw —
is logged with its traceback and shown in a :class:`FailureDialog` (the summary, and the
traceback under "Show Details…"). The loaders raise before they change anything, so the
loaded data and models stay as they were.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from ..session import LabSession

log = logging.getLogger(__name__)
T = TypeVar("T")

LAST_DIR_KEY = "export/dir"


class FailureDialog(QMessageBox):
    """A failure: ``title``, a one-paragraph ``summary`` and the traceback as details."""

    def __init__(self, parent: QWidget | None, title: str, summary: str, details: str) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(title)
        self.setText(summary)
        self.setDetailedText(details)  # the "Show Details…" button
        self.setStandardButtons(QMessageBox.StandardButton.Ok)


def show_failure(parent: QWidget | None, title: str, summary: str, exc: BaseException) -> None:
    """Log ``exc`` with its traceback and show it in a :class:`FailureDialog`."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("%s: %s\n%s", title, summary, details.rstrip())
    FailureDialog(parent, title, summary, details).exec()


def guarded(parent: QWidget | None, title: str, what: str,
            command: Callable[[], T]) -> T | None:
    """Run ``command``; on any exception report "``what``:" and the error, return None."""
    try:
        return command()
    except Exception as exc:  # the action boundary: nothing may reach stderr only
        show_failure(parent, title, f"{what}:\n{exc}", exc)
        return None


# -- files ------------------------------------------------------------------------------
def last_dir(settings: QSettings) -> str:
    value = settings.value(LAST_DIR_KEY, "")
    return str(value) if value and Path(str(value)).is_dir() else str(Path.home())


def ask_open_path(parent: QWidget, settings: QSettings, title: str, filters: str) -> str | None:
    """Ask for a file to read; remember its folder."""
    path, _ = QFileDialog.getOpenFileName(parent, title, last_dir(settings), filters)
    if not path:
        return None
    settings.setValue(LAST_DIR_KEY, str(Path(path).parent))
    return path


def ask_save_path(parent: QWidget, settings: QSettings, title: str, name: str, filters: str,
                  suffix: str) -> str | None:
    """Ask for a file to write; remember its folder; add ``suffix`` if missing."""
    start = str(Path(last_dir(settings)) / name)
    path, _ = QFileDialog.getSaveFileName(parent, title, start, filters)
    if not path:
        return None
    if not path.lower().endswith(suffix):
        path += suffix
    settings.setValue(LAST_DIR_KEY, str(Path(path).parent))
    return path


def export_dialog(parent: QWidget, settings: QSettings, session: LabSession, title: str,
                  name: str, filters: str, suffix: str, write: Callable[[str], object],
                  failure: str = "Export failed") -> None:
    """Ask for a file, ``write(path)`` it, and report a failure in the failure dialog (the
    writers are atomic, so a failure leaves any earlier file as it was)."""
    path = ask_save_path(parent, settings, title, name, filters, suffix)
    if path is None:
        return
    done = guarded(parent, failure, f"Could not save {path}", lambda: write(path) or True)
    if done is not None:
        session.say(f"Saved {path}", 5000)


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


__all__ = ["ExportSizeDialog", "FailureDialog", "ask_open_path", "ask_save_path",
           "export_dialog", "guarded", "last_dir", "show_failure"]
