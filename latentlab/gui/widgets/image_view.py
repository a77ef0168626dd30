"""One grayscale image shown whole: a locked-aspect view box with a row-major ImageItem at
fixed levels 0..1 (no auto-levelling flicker), used by the decode and drawing panels."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QSizePolicy


def image_view(min_side: int) -> tuple[pg.GraphicsView, pg.ImageItem]:
    """A view at least ``min_side`` px square that grows with its panel, and its image item."""
    view = pg.GraphicsView(background="w")
    vb = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False, enableMenu=False)
    vb.setDefaultPadding(0.02)
    view.setCentralItem(vb)
    item = pg.ImageItem(axisOrder="row-major")
    item.setLevels((0.0, 1.0))
    vb.addItem(item)
    view.setMinimumSize(min_side, min_side)
    view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return view, item
