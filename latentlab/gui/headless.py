"""Qt without a window for the command line: an offscreen application whose settings live
in a temporary folder, so a headless run (``export``, a folder of images read by ``train``)
never reads or writes the user's LatentLab settings."""

from __future__ import annotations

import os
import tempfile

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

_settings_dir: tempfile.TemporaryDirectory[str] | None = None


def offscreen_application() -> QApplication:
    """The process's QApplication (made on the offscreen platform when there is none yet),
    with every user-scope QSettings redirected to a temporary folder."""
    global _settings_dir
    if _settings_dir is None:
        from .app import filter_benign_qt_messages

        filter_benign_qt_messages()
        _settings_dir = tempfile.TemporaryDirectory(prefix="latentlab-headless-")
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                          _settings_dir.name)
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never a window, even with a display
    return QApplication(["latentlab"])


def headless_settings() -> QSettings:
    """Settings a headless window may write: the temporary folder's, not the user's."""
    offscreen_application()
    assert _settings_dir is not None
    return QSettings(os.path.join(_settings_dir.name, "headless.ini"),
                     QSettings.Format.IniFormat)


__all__ = ["headless_settings", "offscreen_application"]
