"""The small widgets that fit panels to their docks, on their own: the mosaic's choice of
arrangement, the wrapping row of controls and the caption cut with an ellipsis."""

from __future__ import annotations

import math

import pytest
from PySide6.QtWidgets import QPushButton, QWidget

from latentlab.gui.widgets.elided_label import ElidedLabel
from latentlab.gui.widgets.flow_layout import FlowLayout
from latentlab.gui.widgets.mosaic import best_columns, crisp_scale

SHOWS_WINDOW = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _scale(n: int, bands: int, cols: int, width: float, height: float) -> float:
    return min(width / (cols * 8), height / (bands * math.ceil(n / cols) * 8))


@pytest.mark.parametrize(("n", "bands", "width", "height"), [
    (10, 1, 1000, 80), (10, 1, 80, 1000), (16, 1, 245, 230), (16, 1, 387, 200),
    (10, 2, 245, 300), (24, 1, 600, 450), (1, 1, 50, 50)])
def test_best_columns_draws_the_tiles_largest(n, bands, width, height) -> None:
    cols = best_columns(n, bands, (8, 8), width, height)
    assert 1 <= cols <= n
    best = _scale(n, bands, cols, width, height)
    for other in range(1, n + 1):  # no arrangement draws them larger once drawn crisp
        assert crisp_scale(_scale(n, bands, other, width, height)) <= crisp_scale(best)
    if height <= 8 * bands:  # a strip's height: one row
        assert cols == n


@SHOWS_WINDOW
def test_a_flow_row_wraps_when_narrow_and_keeps_every_control_whole(qtbot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    row = FlowLayout(holder)
    buttons = [QPushButton(f"control number {i}") for i in range(4)]
    for button in buttons:
        row.addWidget(button)
    widest = max(b.sizeHint().width() for b in buttons)
    one_line = row.sizeHint().width()
    holder.resize(one_line, row.heightForWidth(one_line))
    holder.show()
    qtbot.waitExposed(holder)
    assert len({b.y() for b in buttons}) == 1
    holder.resize(widest, row.heightForWidth(widest))
    qtbot.waitUntil(lambda: len({b.y() for b in buttons}) == 4)
    assert row.heightForWidth(widest) > row.heightForWidth(one_line)
    assert row.minimumSize().width() == widest
    for i, a in enumerate(buttons):
        assert a.width() == a.sizeHint().width() and holder.rect().contains(a.geometry())
        for b in buttons[i + 1:]:
            assert not a.geometry().intersects(b.geometry())


@SHOWS_WINDOW
def test_a_caption_too_long_for_its_label_is_cut_with_an_ellipsis_and_a_tooltip(qtbot) -> None:
    label = ElidedLabel("nearest training image\n#945, label 8")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    metrics = label.fontMetrics()
    label.resize(metrics.horizontalAdvance("#945, label 8") + 2, 40)
    first, second = label.shown_text().split("\n")
    assert first.endswith("…") and second == "#945, label 8"
    assert metrics.horizontalAdvance(first) <= label.contentsRect().width()
    assert label.text() == label.toolTip() == "nearest training image\n#945, label 8"
    label.resize(metrics.horizontalAdvance("nearest training image") + 10, 40)
    assert label.shown_text() == label.text() and label.toolTip() == ""
