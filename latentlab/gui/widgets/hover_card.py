"""The card a latent map shows beside the hovered point: the data image and a few lines
of text, placed so that it stays inside its view and never under the cursor."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

__all__ = ["HoverCard"]

_OFFSET = 16  # pixels between the cursor and the card


class HoverCard(QFrame):
    """A child of ``view`` (the maps' graphics view); transparent for the mouse, so it
    never takes the hover or a click from the map under it."""

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self.setObjectName("hoverCard")
        self.setStyleSheet(
            "QFrame#hoverCard { background: rgba(255,255,255,240); border: 1px solid #999;"
            " border-radius: 4px; } QLabel { color: #111; border: none; }")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.image = QLabel()
        self.text = QLabel()
        card = QHBoxLayout(self)
        card.setContentsMargins(6, 6, 8, 6)
        card.setSpacing(8)
        card.addWidget(self.image)
        card.addWidget(self.text)
        self.hide()

    def show_at(self, pixmap: QPixmap, html: str, view_pos: QPoint) -> None:
        """Show ``pixmap`` and ``html`` beside ``view_pos`` (the view's coordinates)."""
        self.text.setText(html)
        self.image.setPixmap(pixmap)
        self.adjustSize()
        view = self.parentWidget()
        w, h = self.width(), self.height()
        x, y = view_pos.x() + _OFFSET, view_pos.y() + _OFFSET
        if view is not None and x + w > view.width():
            x = view_pos.x() - w - _OFFSET
        if view is not None and y + h > view.height():
            y = view_pos.y() - h - _OFFSET
        self.move(max(0, x), max(0, y))
        self.show()
        self.raise_()
