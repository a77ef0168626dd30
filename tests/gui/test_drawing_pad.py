"""The drawing pad: strokes at the data's size, brush and eraser, live image signal."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from latentlab.gui.widgets.drawing_pad import (
    ERASER,
    DrawingPad,
    default_radius,
    segment_coverage,
)


def test_a_dot_covers_the_pixels_within_the_radius() -> None:
    cover = segment_coverage((5, 5), (2.5, 2.5), (2.5, 2.5), radius=1.0)
    assert cover[2, 2] == 1.0  # the centre pixel: d = 0
    assert cover[2, 3] == 0.5  # a neighbour's centre is 1 away: 1 + 0.5 - 1
    assert cover[3, 3] == pytest.approx(1.5 - np.sqrt(2))
    assert cover[0, 0] == 0.0 and cover[2, 4] == 0.0  # 2 away
    np.testing.assert_array_equal(cover, cover.T)  # round


def test_a_segment_inks_the_pixels_along_it_evenly() -> None:
    cover = segment_coverage((8, 8), (1.5, 4.5), (6.5, 4.5), radius=0.5)
    np.testing.assert_array_equal(cover[4, 1:7], 1.0)
    np.testing.assert_array_equal(cover[3], 0.0)  # one full pixel away: 0.5 + 0.5 - 1
    assert cover[4, 0] == 0.0 and cover[4, 7] == 0.0


def _mouse(pad: DrawingPad, kind: QEvent.Type, canvas_xy: tuple[float, float],
           buttons: Qt.MouseButton) -> None:
    r = pad.canvas_rect()
    h, w = pad.image_shape
    pos = QPointF(r.x() + canvas_xy[0] / w * r.width(), r.y() + canvas_xy[1] / h * r.height())
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else \
        Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, pos, pad.mapToGlobal(QPoint(int(pos.x()), int(pos.y()))).toPointF(),
                        button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(pad, event)


def test_dragging_the_mouse_draws_and_the_eraser_removes(qtbot) -> None:
    pad = DrawingPad((8, 8))
    qtbot.addWidget(pad)
    pad.resize(320, 240)  # not square: the canvas is centred, square pixels
    pad.show()
    qtbot.waitExposed(pad)
    assert pad.canvas_rect().width() == pad.canvas_rect().height() == 240
    seen: list[np.ndarray] = []
    pad.imageChanged.connect(seen.append)
    left = Qt.MouseButton.LeftButton
    _mouse(pad, QEvent.Type.MouseButtonPress, (1.5, 1.5), left)
    _mouse(pad, QEvent.Type.MouseMove, (6.5, 1.5), left)
    _mouse(pad, QEvent.Type.MouseButtonRelease, (6.5, 1.5), Qt.MouseButton.NoButton)
    image = pad.image().reshape(8, 8)
    assert len(seen) == 2 and seen[-1].shape == (64,) and seen[-1].dtype == np.float32
    np.testing.assert_array_equal(seen[-1], pad.image())
    np.testing.assert_array_equal(image[1, 1:7], 1.0)  # the stroke's row
    assert image[5:].max() == 0.0  # nothing far from it
    # a move with no button held draws nothing
    before = pad.image()
    _mouse(pad, QEvent.Type.MouseMove, (4.5, 6.5), Qt.MouseButton.NoButton)
    np.testing.assert_array_equal(pad.image(), before)

    pad.set_tool(ERASER)
    pad.draw_stroke([(3.5, 1.5), (4.5, 1.5)])
    image = pad.image().reshape(8, 8)
    assert image[1, 3] == image[1, 4] == 0.0 and image[1, 1] == 1.0
    pad.clear()
    assert pad.is_blank()


def test_the_pad_follows_the_data_size(qtbot) -> None:
    pad = DrawingPad((8, 8))
    qtbot.addWidget(pad)
    assert pad.radius == default_radius((8, 8))
    pad.draw_stroke([(2.0, 2.0)])
    pad.set_image_shape((28, 28))
    assert pad.image().shape == (784,) and pad.is_blank()
    assert default_radius((28, 28)) > default_radius((8, 8))
    pad.set_image(np.full(784, 2.0))
    assert pad.image().max() == 1.0
    with pytest.raises(ValueError, match="tool"):
        pad.set_tool("spray")
