"""The decoded manifold behind a latent map's points: what the decoder draws everywhere.

:class:`ManifoldLayer` owns one ``ImageItem`` in a map's view box, below the points and
outside its auto-range. When it is on, every change of the view (pan, zoom, resize) and
every new model snapshot asks for a new mosaic (:func:`latentlab.core.manifold.decode_mosaic`
over :func:`~latentlab.core.manifold.view_grid` of the visible region) from the
:class:`~latentlab.gui.background.BackgroundService`: the decoding runs on its worker
thread, on the snapshot (snapshots are never changed in place), and the newest request
wins. The item is part of the scene, so PNG and SVG exports of the map include it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QTimer, Signal

from latentlab.core import Model
from latentlab.core.manifold import Rect, decode_mosaic, view_grid
from latentlab.core.pca import LatentPlane

from ..background import BackgroundService

__all__ = ["MANIFOLD_ALPHA", "TILE_GAP", "TILE_PX", "ManifoldLayer", "mosaic_rgba"]

#: A tile's width on screen: big enough to read an 8×8 digit, small enough for ~20 tiles
#: across a default map.
TILE_PX = 32
#: The points stay the figure; the manifold is its ground (0..255).
MANIFOLD_ALPHA = 215
#: One data pixel of the map's own background between tiles: the digits fill their 8×8
#: frame, and tiles that touch read as one chain of strokes.
TILE_GAP = 1
_RANGE_SETTLE_MS = 60  # a drag sends a range change per mouse move: decode its end


def mosaic_rgba(mosaic: np.ndarray, alpha: int = MANIFOLD_ALPHA) -> np.ndarray:
    """A mosaic as :func:`~latentlab.core.manifold.decode_mosaic` returns it (row 0 at the
    top, NaN gaps) → ``(rows, cols, 4)`` uint8 RGBA for a row-major ``ImageItem`` in a
    y-up view: rows flipped, grey tiles at ``alpha``, gaps transparent."""
    flipped = mosaic[::-1]
    gaps = np.isnan(flipped)
    grey = np.rint(np.clip(np.where(gaps, 0.0, flipped), 0.0, 1.0) * 255.0).astype(np.uint8)
    rgba = np.empty((*flipped.shape, 4), dtype=np.uint8)
    rgba[..., :3] = grey[..., None]
    rgba[..., 3] = np.where(gaps, 0, alpha).astype(np.uint8)
    return rgba


class ManifoldLayer(QObject):
    """The decoded manifold of one map. ``rendered`` fires when a new mosaic is shown."""

    rendered = Signal()

    def __init__(self, view_box: pg.ViewBox, service: BackgroundService, key: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view_box = view_box
        self._service = service
        self._key = key
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setZValue(-100)
        self.item.setVisible(False)
        view_box.addItem(self.item, ignoreBounds=True)
        self._enabled = False
        self._model: Model | None = None
        self._plane: LatentPlane | None = None
        self._image_shape = (8, 8)
        self.shown_rect: Rect | None = None
        self.shown_grid: tuple[int, int] | None = None
        self.shown_model: Model | None = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(_RANGE_SETTLE_MS)
        self._settle.timeout.connect(self.request)
        view_box.sigRangeChanged.connect(self._on_range_changed)
        view_box.sigResized.connect(self._on_range_changed)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, on: bool) -> None:
        self._enabled = bool(on)
        self.item.setVisible(self._enabled and self.shown_rect is not None)
        if self._enabled:
            self.request()
        else:
            self._settle.stop()
            self._service.cancel(self._key)

    def set_model(self, model: Model | None, plane: LatentPlane | None,
                  image_shape: tuple[int, int]) -> None:
        """The snapshot to decode, the view it is shown in and the data's image size."""
        self._model, self._plane = model, plane
        self._image_shape = (int(image_shape[0]), int(image_shape[1]))
        if model is None or plane is None:
            self.clear()
        elif self._enabled:
            self.request()

    def clear(self) -> None:
        self._service.cancel(self._key)
        self.item.clear()
        self.item.setVisible(False)
        self.shown_rect = self.shown_grid = self.shown_model = None

    def pending(self) -> bool:
        """True while a requested mosaic has not been shown yet."""
        return self._settle.isActive() or self._service.is_pending(self._key)

    def _on_range_changed(self, *_: Any) -> None:
        if self._enabled:
            self._settle.start()

    def request(self) -> None:
        """Ask for the mosaic of the view as it is now (the newest request wins)."""
        self._settle.stop()
        model, plane, shape = self._model, self._plane, self._image_shape
        if not self._enabled or model is None or plane is None or self._service.stopped:
            return  # (a closing window resizes its maps after the worker has ended)
        (vx0, vx1), (vy0, vy1) = self.view_box.viewRange()
        width = self.view_box.width()
        if width <= 0 or not (vx1 > vx0 and vy1 > vy0):
            return
        rect, nx, ny = view_grid((vx0, vy0, vx1, vy1), width, TILE_PX)

        def work(_should_stop: Any) -> tuple[np.ndarray, Rect, tuple[int, int], Model]:
            mosaic = decode_mosaic(model, plane, rect, nx, ny, shape, gap=TILE_GAP)
            return mosaic_rgba(mosaic), rect, (nx, ny), model

        # interrupt=False: while a model trains, snapshots arrive faster than some mosaics
        # decode; interrupting would cancel every one before it is shown.
        self._service.submit(self._key, work, self._show, interrupt=False)

    def _show(self, result: tuple[np.ndarray, Rect, tuple[int, int], Model]) -> None:
        image, rect, grid, model = result
        if not self._enabled:
            return
        self.item.setImage(image, autoLevels=False)
        x0, y0, x1, y1 = rect
        self.item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.item.setVisible(True)
        self.shown_rect, self.shown_grid, self.shown_model = rect, grid, model
        self.rendered.emit()
