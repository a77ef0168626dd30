"""The window fits a laptop: at 1024×700 (and at 1920×1080) every control of the Training
panel is on screen, whole and not overlapped, no dock covers another, and every dock tab
shows its whole title; tooltips are wrapped; the map's hover card is never left behind or
covered; the progress bar describes a finished run as finished."""

from __future__ import annotations

import html

import pytest
from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QProgressBar,
    QSlider,
    QTabBar,
    QWidget,
)

CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider, QProgressBar)


def on_window(widget: QWidget) -> QRect:
    window = widget.window()
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_every_training_control_is_whole_and_alone(qtbot, window, size) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() <= size[0] and window.height() <= size[1])
    panel = window.panels["training"]
    controls = [c for kind in CONTROLS for c in panel.findChildren(kind)
                if c.isVisibleTo(panel) and not c.inherits("QScrollBar")]
    assert len(controls) >= 12  # model, dims, β, epochs, Start/Step/Reset, progress…
    inside = window.rect()
    for control in controls:
        assert control.isVisible(), control.objectName() or type(control).__name__
        rect = on_window(control)
        name = getattr(control, "text", lambda: "")() or type(control).__name__
        assert inside.contains(rect), f"{name} at {rect} leaves the window"
        # Whole on screen: nothing clips it (a scroll area, a neighbouring dock).
        assert control.visibleRegion().boundingRect() == control.rect(), name
    for i, a in enumerate(controls):
        for b in controls[i + 1:]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue  # a spin box's own line edit
            assert not on_window(a).intersects(on_window(b)), (a, b)
    # No dock covers another.
    docks = [d for d in window.docks.values() if d.isVisible() and not d.isFloating()
             and not d.visibleRegion().isEmpty()]
    for i, a in enumerate(docks):
        for b in docks[i + 1:]:
            assert not a.geometry().intersects(b.geometry()), (a.windowTitle(), b.windowTitle())


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_dock_tabs_show_whole_titles(qtbot, window, size) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() <= size[0])
    bars = [b for b in window.findChildren(QTabBar) if b.isVisible() and b.count()]
    assert bars
    for bar in bars:
        assert bar.elideMode() == Qt.TextElideMode.ElideNone
        metrics = bar.fontMetrics()
        for i in range(bar.count()):
            assert bar.tabRect(i).width() >= metrics.horizontalAdvance(bar.tabText(i)), \
                bar.tabText(i)


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the offscreen tooltip
def test_tooltips_are_wrapped_rich_text(qtbot, window) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    from latentlab.gui.tooltips import LINE_CHARS, wrapped

    assert wrapped("<b>rich</b> text") == "<b>rich</b> text"
    button = window.panels["training"].findChildren(QAbstractButton)[0]
    button.setToolTip("word " * 40 + "\nsecond paragraph & more")
    at = button.mapToGlobal(QPoint(2, 2))
    QApplication.sendEvent(button, QHelpEvent(QEvent.Type.ToolTip, QPoint(2, 2), at))
    qtbot.waitUntil(QToolTip.isVisible)
    shown = QToolTip.text()
    assert shown.startswith("<qt>")
    lines = [html.unescape(line) for line in shown[4:-5].split("<br>")]
    assert len(lines) >= 4 and max(map(len, lines)) <= LINE_CHARS
    assert lines[-1] == "second paragraph & more"
    QToolTip.hideText()


def test_hover_card_hides_on_resize_and_leave_and_is_never_under_a_tooltip(
        qtbot, window, settled_pixel) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QToolTip

    panel = window.panels["map"]
    viewport = panel.view.viewport()

    def hover_first_point() -> None:
        QTest.mouseMove(viewport, settled_pixel(window, 0))
        qtbot.waitUntil(lambda: panel.hovered_index is not None and panel.hover_card.isVisible())

    hover_first_point()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, QPoint(5, 5),
                                                viewport.mapToGlobal(QPoint(5, 5))))
    assert not QToolTip.isVisible()  # the prior circles' tooltips would cover the card
    window.resize(window.width() - 80, window.height() - 40)
    qtbot.waitUntil(lambda: not panel.hover_card.isVisible())
    hover_first_point()
    QApplication.sendEvent(viewport, QEvent(QEvent.Type.Leave))
    assert not panel.hover_card.isVisible()


def test_progress_says_what_a_finished_run_made(qtbot, window) -> None:
    from latentlab.gui.training.controller import TrainingState

    window.panels["training"].apply_settings({"epochs": 2})
    window.training.start_initial_training()
    progress = window.panels["training"].progress
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED
                    and not window.controller.busy, timeout=60_000)
    qtbot.waitUntil(lambda: progress.format() == "trained: VAE 2/2 · Autoencoder 2/2")
