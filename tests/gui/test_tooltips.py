"""Every control of every panel explains itself in a tooltip."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QScrollBar,
    QWidget,
)

from latentlab.gui.panels import GalleryPanel, InterpolationPanel, TradeoffPanel, TrainingPanel


@pytest.mark.parametrize(("panel_cls", "at_least"), [
    (GalleryPanel, 6), (InterpolationPanel, 8), (TradeoffPanel, 2), (TrainingPanel, 12),
])
def test_every_control_has_a_tooltip(qtbot, session, panel_cls: type[QWidget],
                                     at_least: int) -> None:
    panel = panel_cls(session)
    qtbot.addWidget(panel)
    controls = [
        w for w in panel.findChildren(QWidget)
        if isinstance(w, QAbstractButton | QAbstractSlider | QAbstractSpinBox | QComboBox)
        and not isinstance(w, QScrollBar)  # a graphics view's own (hidden) scroll bars
        and w.objectName() != "qt_spinbox_lineedit"
    ]
    assert len(controls) >= at_least
    assert [type(w).__name__ + ":" + (w.text() if isinstance(w, QAbstractButton) else "")
            for w in controls if not w.toolTip()] == []
