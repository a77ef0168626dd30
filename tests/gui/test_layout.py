"""The window fits a laptop: at 1024×700 (and at 1920×1080), with one map or both, every
control of the Training, Gallery, Interpolation, β trade-off and Decoded image panels is on
screen or scrolls into view whole, none overlaps another, no text is cut without an ellipsis
and a tooltip, the Gallery never scrolls sideways, and thumbnails are as large as their
panel's room allows (at least 48 px, the dock scrolling for the height); no dock covers another, and
every dock tab shows its whole title; tooltips are wrapped; the map's hover card is never
left behind or covered; the progress bar describes a finished run as finished."""

from __future__ import annotations

import html

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGraphicsView,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSlider,
    QTabBar,
    QWidget,
)

from latentlab.gui.widgets.elided_label import ElidedLabel
from latentlab.gui.widgets.mosaic import TILE_MIN, MosaicView

CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider, QProgressBar)
SIZES = [(1024, 700), (1920, 1080)]
LAYOUT_TIMEOUT = 20_000  # ms: a busy machine lays a window out slowly (never a measure here)
PANELS = ("training", "decode", "gallery", "tradeoff", "interpolation")


def on_window(widget: QWidget) -> QRect:
    window = widget.window()
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def _settled(qtbot, window) -> None:
    """Wait until the docks stop moving (a panel whose minimum size changed, e.g. the
    decode view with both maps, re-lays the window out over a few turns of the loop)."""
    seen: list[list[QRect]] = []

    def still() -> bool:
        QApplication.processEvents()
        seen.append([d.geometry() for d in window.docks.values()]
                    + [p.geometry() for p in window.panels.values()])
        return len(seen) > 2 and seen[-1] == seen[-2] == seen[-3]

    qtbot.waitUntil(still, timeout=LAYOUT_TIMEOUT)


def _sized(qtbot, window, size: tuple[int, int], mode: str = "vae") -> None:
    window.resize(*size)
    window.session.set_map_mode(mode)
    qtbot.waitUntil(lambda: window.width() <= size[0] and window.height() <= size[1],
                    timeout=LAYOUT_TIMEOUT)
    _settled(qtbot, window)


def _in_front(qtbot, window, name: str) -> QWidget:
    """Raise ``name``'s dock and wait until its panel is laid out on screen."""
    window.docks[name].raise_()
    panel = window.panels[name]
    qtbot.waitUntil(panel.is_seen, timeout=LAYOUT_TIMEOUT)
    _settled(qtbot, window)
    return panel


def _scroll_area(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent


def _controls(panel: QWidget) -> list[QWidget]:
    found = {id(c): c for kind in CONTROLS for c in panel.findChildren(kind)
             if c.isVisibleTo(panel) and not c.inherits("QScrollBar")}
    return list(found.values())


def _whole_on_screen(control: QWidget) -> bool:
    """Nothing clips it (a scroll area's edge, a neighbouring dock) and it is in the window."""
    return control.visibleRegion().boundingRect() == control.rect() \
        and control.window().rect().contains(on_window(control))


def _name(widget: QWidget) -> str:
    text = getattr(widget, "text", lambda: "")()
    return f"{type(widget).__name__} {text!r}"


@pytest.mark.parametrize("mode", ["vae", "both"])
@pytest.mark.parametrize("size", SIZES)
def test_every_control_is_reachable_whole_and_alone(qtbot, window, size, mode) -> None:
    """Each control is whole on screen, or scrolls into view whole (its panel's scroll area),
    and no two controls, texts or views of a panel overlap."""
    _sized(qtbot, window, size, mode)
    for name in PANELS:
        panel = _in_front(qtbot, window, name)
        controls = _controls(panel)
        assert len(controls) >= {"training": 12, "decode": 0}.get(name, 3), name
        for control in controls:
            if not _whole_on_screen(control):
                area = _scroll_area(control)
                assert area is not None, f"{name}: {_name(control)} is cut and cannot scroll"
                area.ensureWidgetVisible(control, 0, 0)
                QApplication.processEvents()
                assert _whole_on_screen(control), \
                    f"{name} at {size}: {_name(control)} stays cut: {on_window(control)} " \
                    f"shows {control.visibleRegion().boundingRect()} in {on_window(area)}"
        shown = controls + [w for kind in (QLabel, QGraphicsView) for w in
                            panel.findChildren(kind) if w.isVisibleTo(panel)]
        for i, a in enumerate(shown):
            for b in shown[i + 1:]:
                if a.isAncestorOf(b) or b.isAncestorOf(a):
                    continue  # a spin box's own line edit
                assert not on_window(a).intersects(on_window(b)), (name, _name(a), _name(b))
    # No dock covers another.
    docks = [d for d in window.docks.values() if d.isVisible() and not d.isFloating()
             and not d.visibleRegion().isEmpty()]
    for i, a in enumerate(docks):
        for b in docks[i + 1:]:
            assert not a.geometry().intersects(b.geometry()), (a.windowTitle(), b.windowTitle())


@pytest.mark.parametrize("mode", ["vae", "both"])
@pytest.mark.parametrize("size", SIZES)
def test_no_text_is_cut_and_nothing_scrolls_sideways(qtbot, window, size, mode) -> None:
    """Every caption fits its label (one line: its text's width; wrapped: its lines' height)
    or is cut with an ellipsis and says the whole text in its tooltip; the Gallery,
    Interpolation, trade-off and Decoded image docks never scroll sideways."""
    _sized(qtbot, window, size, mode)
    for name in PANELS:
        panel = _in_front(qtbot, window, name)
        area = _scroll_area(panel)
        if name != "training" and area is not None:
            assert not area.horizontalScrollBar().isVisible(), f"{name} scrolls sideways"
        for label in panel.findChildren(QLabel):
            if not label.isVisibleTo(panel) or not label.text():
                continue
            room = label.contentsRect()
            what = f"{name}: {label.text()!r} in {room.width()}×{room.height()}"
            if isinstance(label, ElidedLabel):
                metrics = label.fontMetrics()
                for line in label.shown_text().split("\n"):
                    assert metrics.horizontalAdvance(line) <= room.width(), what
                if label.shown_text() != label.text():
                    assert "…" in label.shown_text() and label.toolTip() == label.text(), what
            elif label.wordWrap():
                assert label.heightForWidth(room.width()) <= room.height(), what
            else:
                assert label.sizeHint().width() <= label.width(), what


def _tile_on_screen(view: MosaicView) -> tuple[float, float]:
    """One tile's drawn (width, height) in device pixels, from the view's own transform."""
    h, w = view.mosaic.image_shape
    vb = view.view_box
    origin = vb.mapViewToDevice(QPointF(0, 0))
    corner = vb.mapViewToDevice(QPointF(w, h))
    return abs(corner.x() - origin.x()), abs(corner.y() - origin.y())


@pytest.mark.parametrize("mode", ["vae", "both"])
@pytest.mark.parametrize("size", SIZES)
def test_thumbnails_scale_with_their_panel(qtbot, window, size, mode) -> None:
    """Gallery, interpolation strip and trade-off rows: tiles are square, drawn at a whole
    number of screen pixels per image pixel, in reading order, and at least 48 px wherever
    the panel is wide enough for one 48-px column (its dock scrolls for the height)."""
    _sized(qtbot, window, size, mode)
    strip = window.panels["interpolation"]
    views = {"gallery": [window.panels["gallery"]._view],
             "tradeoff": [window.panels["tradeoff"]._recon_view,
                          window.panels["tradeoff"]._gen_view],
             "interpolation": [strip._view]}
    for steps in (10, 16):
        for name, shown in views.items():
            if name == "interpolation":
                strip.set_steps(steps)
            _in_front(qtbot, window, name)
            for view in shown:
                qtbot.waitUntil(lambda v=view: v.mosaic.image is not None and v.mosaic.room
                                == (v.view_box.width(), v.view_box.height()),
                                timeout=LAYOUT_TIMEOUT)
                tile_w, tile_h = _tile_on_screen(view)
                what = f"{name} at {size}: {tile_w:.1f} px tiles in " \
                       f"{view.view_box.width():.0f}×{view.view_box.height():.0f}"
                assert tile_w == pytest.approx(tile_h), what
                per_pixel = tile_w / view.mosaic.image_shape[1]
                assert per_pixel < 2 or per_pixel == pytest.approx(round(per_pixel)), what
                assert not view.renderHints() & QPainter.RenderHint.SmoothPixmapTransform
                assert view.view_box.width() >= TILE_MIN, what  # the panel has the width
                assert tile_w >= TILE_MIN - 1e-6, what
    # The strip reads from A to B, row by row, whatever the arrangement.
    images = strip.images()
    assert images is not None
    np.testing.assert_array_equal(strip._view.mosaic.shown_bands()[0], images)
    if size == (1024, 700):
        assert strip._view.mosaic.tiles[0] > 1  # a narrow dock: the strip wraps


def test_both_maps_stack_in_a_tall_dock_and_stand_side_by_side_in_a_wide_one(
        qtbot, window) -> None:
    _sized(qtbot, window, (1024, 700), "both")
    panel = window.panels["map"]
    assert panel.view.height() > panel.view.width()
    qtbot.waitUntil(lambda: panel.figure.stacked, timeout=LAYOUT_TIMEOUT)
    vae, ae = (panel.maps[s].plot.sceneBoundingRect() for s in ("vae", "ae"))
    assert vae.bottom() <= ae.top() and vae.width() > 0.8 * panel.view.width()
    window.docks["training"].hide()
    window.docks["decode"].hide()
    window.docks["gallery"].hide()
    for name in ("tradeoff", "interpolation", "diagnostics", "codebook", "drawing"):
        window.docks[name].hide()
    window.resize(1920, 700)
    qtbot.waitUntil(lambda: panel.view.width() > panel.view.height() and not panel.figure.stacked,
                    timeout=LAYOUT_TIMEOUT)
    vae, ae = (panel.maps[s].plot.sceneBoundingRect() for s in ("vae", "ae"))
    assert vae.right() <= ae.left()


def test_decoded_rows_stand_side_by_side_when_that_draws_them_larger(qtbot, window) -> None:
    decode = window.panels["decode"]
    _sized(qtbot, window, (1920, 1080), "both")
    vae, ae = decode.rows["vae"], decode.rows["ae"]
    qtbot.waitUntil(lambda: decode.side_by_side and on_window(vae).right() < on_window(ae).left(),
                    timeout=LAYOUT_TIMEOUT)
    _sized(qtbot, window, (1024, 700), "both")
    qtbot.waitUntil(lambda: not decode.side_by_side
                    and on_window(vae).bottom() < on_window(ae).top(), timeout=LAYOUT_TIMEOUT)
    assert vae.decoded_view.width() >= 64 and ae.decoded_view.height() >= 64


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
