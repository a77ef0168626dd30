"""Tooltips that read as paragraphs: every plain-text tooltip of the application is shown
as rich text wrapped at about 60 characters a line (Qt shows a plain tooltip as one line as
wide as it is long). Installed once on the application by the window."""

from __future__ import annotations

import html
import textwrap

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QHelpEvent, Qt  # QtGui's Qt has mightBeRichText
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

LINE_CHARS = 60


def wrapped(text: str, width: int = LINE_CHARS) -> str:
    """``text`` as rich text of lines of at most ``width`` characters (its own line
    breaks kept); rich text is returned as it is."""
    if not text or Qt.mightBeRichText(text):
        return text
    lines = [line for paragraph in text.split("\n")
             for line in (textwrap.wrap(paragraph, width) or [""])]
    return "<qt>" + "<br>".join(html.escape(line) for line in lines) + "</qt>"


class _TooltipWrapper(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(watched, QWidget) \
                and isinstance(event, QHelpEvent):
            text = watched.toolTip()
            if text and not Qt.mightBeRichText(text):
                QToolTip.showText(event.globalPos(), wrapped(text), watched)
                return True
        return False


def install_tooltip_wrapping(app: QApplication) -> None:
    """Wrap every plain tooltip of ``app`` (once per application)."""
    if app.findChild(_TooltipWrapper) is None:
        app.installEventFilter(_TooltipWrapper(app))


__all__ = ["LINE_CHARS", "install_tooltip_wrapping", "wrapped"]
