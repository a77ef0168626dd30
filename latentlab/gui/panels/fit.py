"""Fitting the window to a small screen: docks scroll rather than squeeze, and dock tabs
show whole titles."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QMainWindow,
    QScrollArea,
    QStyle,
    QTabBar,
    QWidget,
)


def scrollable(panel: QWidget, scroll: str = "both") -> QWidget:
    """``panel`` in a frameless scroll area: a dock smaller than the panel's minimum size
    scrolls instead of squeezing its controls over each other. ``scroll`` = "vertical":
    the dock never gets narrower than the panel (its controls stay whole side by side);
    "none": the panel itself (it shrinks by itself, e.g. a plot)."""
    if scroll == "none":
        return panel
    area = QScrollArea()
    area.setObjectName(f"{panel.objectName() or type(panel).__name__}Scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(panel)
    if scroll == "vertical":
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = area.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        area.setMinimumWidth(panel.minimumSizeHint().width() + bar)
    return area


def readable_tabs(window: QMainWindow) -> None:
    """Every dock tab bar of ``window`` shows whole titles, scrolling when they do not fit
    (Qt's default elides them to "Gall…")."""
    for bar in window.findChildren(QTabBar):
        bar.setElideMode(Qt.TextElideMode.ElideNone)
        bar.setUsesScrollButtons(True)


__all__ = ["readable_tabs", "scrollable"]
