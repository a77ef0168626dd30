"""A VQ-VAE's codebook drawn over its latent map: the code vectors, the outlines of their
cells, and one highlighted code's cell and images.

The map shows each image's pre-quantised ``z_e`` projected onto its plane (two latent
axes, or the codes' principal components); a click anywhere is lifted through that plane
and decoded after snapping to the nearest code, so the outlines show exactly which code a
click decodes: with 2-D codes on their axes the Voronoi cells, else the cells' slice
through the shown plane. Outlines are computed exactly
(:func:`latentlab.core.vqvae.voronoi_edges`, ~K³ work) over the view with a margin, at
most every :data:`REFRESH_MS` while the model changes and again when the view leaves that
margin; :meth:`CodebookOverlay.flush` draws at once (tests).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QPolygonF
from PySide6.QtWidgets import QGraphicsPolygonItem

from latentlab.core.pca import LatentPlane
from latentlab.core.vqvae import VQVAE, cell_polygon, voronoi_edges

__all__ = ["MAX_OUTLINED_CODES", "REFRESH_MS", "CodebookOverlay"]

REFRESH_MS = 150
#: Outlines cost ~K³: above this many codes only the code vectors are drawn.
MAX_OUTLINED_CODES = 256
_MARGIN = 1.0  # outlines cover the view widened by this share of its size on every side


class CodebookOverlay:
    """Items added to ``plot`` (a latent map's PlotItem); hidden until :meth:`show_model`
    gets a VQ-VAE."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.model: VQVAE | None = None
        self.plane: LatentPlane | None = None
        self.highlighted: int | None = None
        self._points = np.zeros((0, 2))
        self._image_codes: np.ndarray | None = None
        self._covered: tuple[float, float, float, float] | None = None
        outline = pg.mkPen(70, 70, 70, 170, width=1)
        outline.setCosmetic(True)
        self.edges = pg.PlotCurveItem(pen=outline, connect="pairs")
        self.edges.setZValue(0.5)  # under the points (z 1)
        self.cell = QGraphicsPolygonItem()
        self.cell.setPen(pg.mkPen("#d4a000", width=2, cosmetic=True))
        self.cell.setBrush(pg.mkBrush(255, 210, 0, 70))
        self.cell.setZValue(0.4)
        self.codes = pg.ScatterPlotItem(size=8, symbol="s", pen=pg.mkPen("#111", width=1.2),
                                        brush=pg.mkBrush(255, 255, 255, 230))
        self.codes.setZValue(3)
        self.codes.setToolTip("code vectors e_k of the codebook")
        self.members = pg.ScatterPlotItem(size=11, symbol="o", brush=None,
                                          pen=pg.mkPen("#111", width=1.5))
        self.members.setZValue(2)
        for item in (self.edges, self.cell, self.codes, self.members):
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        self._timer = QTimer(plot)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.flush)
        plot.getViewBox().sigRangeChanged.connect(self._on_range_changed)

    @property
    def outlined(self) -> bool:
        return self.model is not None and self.model.n_codes <= MAX_OUTLINED_CODES

    def show_model(self, model: object, plane: LatentPlane | None, points: np.ndarray,
                   image_codes: np.ndarray | None) -> None:
        """Draw ``model``'s codebook on the map's ``plane`` if it is a VQ-VAE (else hide
        everything); ``points: (N, 2)`` are the images' shown ``z_e`` and ``image_codes:
        (N,)`` their codes."""
        if not isinstance(model, VQVAE) or plane is None:
            self.model = None
            for item in (self.edges, self.cell, self.codes, self.members):
                item.setVisible(False)
            self._timer.stop()
            return
        self.model, self.plane = model, plane
        self._points, self._image_codes = points, image_codes
        self.codes.setData(pos=plane.project(model.codebook))
        self.codes.setVisible(True)
        self._draw_members()
        if not self._timer.isActive():
            self._timer.start()

    def highlight(self, code: int | None) -> None:
        """Mark ``code``'s cell and the images that snap to it (``None``: no mark)."""
        self.highlighted = code
        self._draw_members()
        self._draw_cell()

    def flush(self) -> None:
        """Draw the outlines and the highlighted cell now, over the view and its margin."""
        self._timer.stop()
        model, plane = self.model, self.plane
        if model is None or plane is None:
            return
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        w, h = (x1 - x0) * _MARGIN, (y1 - y0) * _MARGIN
        self._covered = (x0 - w, y0 - h, x1 + w, y1 + h)
        if self.outlined:
            segments = voronoi_edges(model.codebook, plane, self._covered)
            self.edges.setData(segments[:, :, 0].reshape(-1), segments[:, :, 1].reshape(-1))
        self.edges.setVisible(self.outlined)
        self._draw_cell()

    def _draw_cell(self) -> None:
        code, model, plane = self.highlighted, self.model, self.plane
        if model is None or plane is None or code is None or code >= model.n_codes \
                or self._covered is None:
            self.cell.setVisible(False)
            return
        polygon = cell_polygon(model.codebook, plane, self._covered, code)
        self.cell.setPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in polygon]))
        self.cell.setVisible(len(polygon) > 0)

    def _draw_members(self) -> None:
        code, codes = self.highlighted, self._image_codes
        if self.model is None or code is None or codes is None or len(codes) != len(
                self._points):
            self.members.setVisible(False)
            return
        self.members.setData(pos=self._points[codes == code])
        self.members.setVisible(True)

    def _on_range_changed(self, *_args) -> None:
        """Redraw once the view has moved out of the region the outlines cover."""
        if self.model is None or self._covered is None:
            return
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        cx0, cy0, cx1, cy1 = self._covered
        if (x0 < cx0 or x1 > cx1 or y0 < cy0 or y1 > cy1) and not self._timer.isActive():
            self._timer.start()
