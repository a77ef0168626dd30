"""Widgets for many points: a point cloud drawn from a pixmap atlas, and a greyscale pixmap
of one image (the latent map's hover card)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem


def gray_pixmap(image: np.ndarray, shape: tuple[int, int], scale: int) -> QPixmap:
    """An (H*W,) image in [0, 1] as a nearest-neighbour-scaled greyscale pixmap."""
    h, w = shape
    data = np.ascontiguousarray(np.clip(image.reshape(h, w), 0, 1) * 255, dtype=np.uint8)
    qimage = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(
        w * scale, h * scale, Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation)


class PointCloudItem(pg.GraphicsObject):
    """Many fixed-size round dots in a few colours, drawn as pixmap fragments.

    A ``ScatterPlotItem`` per label costs ~2 ms per ``setData`` (it rebuilds per-spot
    records) and antialiased ``drawPoints`` ~9 ms per paint on a slow laptop. This item
    pre-renders one dot per colour into a small atlas and blits every point with a single
    ``QPainter.drawPixmapFragments`` call, filled straight from NumPy — the technique
    pyqtgraph's scatter uses, without its per-spot bookkeeping. Dots keep a constant
    on-screen size, like ``pxMode=True``. Image export draws real circles instead.
    """

    def __init__(self, colours: list[QColor], groups: np.ndarray | None,
                 size: float = 5.0) -> None:
        super().__init__()
        self._colours = colours
        self._size = size
        self._groups = groups  # (N,) colour index per point, or None for colour 0
        self._cell = math.ceil(size) + 2
        self._atlas: QPixmap | None = None
        self._atlas_dpr = 0.0
        self._xy = np.zeros((0, 2))
        self._finite = np.zeros(0, dtype=bool)
        self._bounds = np.zeros((2, 2))  # [[xmin, xmax], [ymin, ymax]]
        self._frags = pg.Qt.internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self._frags_for: tuple[int, float] | None = None  # (points, dpr) of its columns
        self._drawn_x = self._drawn_y = self._drawn_groups = np.zeros(0)
        self._export: dict | None = None
        # Qt asks for the bounding rect on every mouse event (pyqtgraph's itemsNearEvent)
        # and paint; pixelLength() is slow, so the rect is cached until the points or the
        # view transform change.
        self._brect: QRectF | None = None
        # Blitting 60,000 dots costs ~10 ms; a click, the hover card or the crosshair
        # repaint the map many times between two sets of points. Qt keeps the drawn
        # cloud in a pixmap and repaints from it (~1 ms) until the points or the view
        # change (export mode paints for real: see setExportMode).
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_groups(self, colours: list[QColor], groups: np.ndarray | None) -> None:
        """New colours and per-point colour indices (a new data set); clears the points."""
        self._colours = colours
        self._groups = groups
        self._atlas = None
        self.set_points(np.zeros((0, 2)))

    def _render_atlas(self, dpr: float) -> QPixmap:
        cell = self._cell
        pix = QPixmap(round(cell * len(self._colours) * dpr), round(cell * dpr))
        pix.setDevicePixelRatio(dpr)
        pix.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        r = self._size / 2
        for i, colour in enumerate(self._colours):
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(i * cell + cell / 2, cell / 2), r, r)
        painter.end()
        return pix

    def set_points(self, xy: np.ndarray) -> None:
        """``xy: (N, 2)`` data coordinates (non-finite rows are not drawn)."""
        self.prepareGeometryChange()
        self._brect = None
        xy = np.asarray(xy, dtype=np.float64)
        self._xy = xy
        finite = np.isfinite(xy).all(axis=1)
        self._finite = finite
        # What every paint needs and only new points change, kept: the drawn points'
        # columns and colour indices (a paint of 60,000 dots spent ~40 % of its time
        # re-deriving them).
        self._drawn_x, self._drawn_y = (np.ascontiguousarray(xy[finite, 0]),
                                        np.ascontiguousarray(xy[finite, 1]))
        self._drawn_groups = (np.zeros(len(self._drawn_x)) if self._groups is None
                              else self._groups[finite].astype(np.float64))
        self._frags_for = None  # the fragments' constant columns are filled on next paint
        if finite.any():
            pts = xy[finite]
            self._bounds = np.array([[pts[:, 0].min(), pts[:, 0].max()],
                                     [pts[:, 1].min(), pts[:, 1].max()]])
        self.update()

    def bounds(self) -> np.ndarray | None:
        return None if not len(self._xy) or not self._finite.any() else self._bounds

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        b = self.bounds()
        return (None, None) if b is None else tuple(b[ax])

    def pixelPadding(self) -> float:
        return self._size

    def setExportMode(self, export: bool, opts: dict | None = None) -> None:
        self._export = dict(opts or {}) if export else None
        # An export must draw vector circles, not the cached picture of the dots.
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache if export
                          else QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()
        self._brect = None
        super().viewTransformChanged()

    def boundingRect(self) -> QRectF:
        if self._brect is not None:
            return QRectF(self._brect)
        b = self.bounds()
        if b is None:
            return QRectF()
        (x0, x1), (y0, y1) = b
        px = self.pixelLength(pg.Point(1, 0)) or 0.0
        py = self.pixelLength(pg.Point(0, 1)) or 0.0
        pad_x, pad_y = px * self._size, py * self._size
        rect = QRectF(x0 - pad_x, y0 - pad_y, (x1 - x0) + 2 * pad_x, (y1 - y0) + 2 * pad_y)
        if px and py:  # only cache a rect computed with a real view transform
            self._brect = rect
        return QRectF(rect)

    def paint(self, painter: QPainter, option=None, widget=None) -> None:
        if self.bounds() is None:
            return
        transform = painter.transform()
        painter.resetTransform()
        if self._export is not None:  # vector-quality circles at the export's resolution
            self._paint_circles(painter, transform)
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        if self._atlas is None or dpr != self._atlas_dpr:
            self._atlas = self._render_atlas(dpr)
            self._atlas_dpr = dpr
            self._frags_for = None
        frags = self._fragments(dpr)
        # Points to device pixels, written straight into the fragments: x' = m11 x + m21 y
        # + dx, y' = m12 x + m22 y + dy; clipped (only when the bounds' corners fall
        # outside) so Qt's fixed-point maths cannot overflow.
        (x0, x1), (y0, y1) = self._bounds
        corners = [transform.map(QPointF(cx, cy)) for cx in (x0, x1) for cy in (y0, y1)]
        inside = all(abs(c.x()) < 2**30 and abs(c.y()) < 2**30 for c in corners)
        x, y = self._drawn_x, self._drawn_y
        if not transform.isAffine():  # a perspective view: pyqtgraph's general mapping
            frags[:, 0:2] = pg.functions.transformCoordinates(transform, np.vstack([x, y])).T
        else:
            for column, (a, b, c) in enumerate((
                    (transform.m11(), transform.m21(), transform.dx()),
                    (transform.m12(), transform.m22(), transform.dy()))):
                out = frags[:, column]
                np.multiply(x, a, out=out)
                if b:
                    out += b * y
                out += c
        if not inside:
            np.clip(frags[:, 0:2], -(2**30), 2**30, out=frags[:, 0:2])
        painter.drawPixmapFragments(*self._frags.drawargs(), self._atlas)  # type: ignore[call-arg]

    def _fragments(self, dpr: float) -> np.ndarray:
        """The ``(N, 10)`` fragment array, its constant columns (the atlas cell of each
        point's colour, the size, the scale) filled once per set of points and scale."""
        n = len(self._drawn_x)
        if self._frags_for != (n, dpr):
            self._frags.resize(n)
            frags = self._frags.ndarray()
            cell = self._cell * dpr
            frags[:, 2] = self._drawn_groups * cell
            frags[:, 3] = 0.0
            frags[:, 4] = cell
            frags[:, 5] = cell
            frags[:, 6:10] = [1 / dpr, 1 / dpr, 0.0, 1.0]
            self._frags_for = (n, dpr)
        return self._frags.ndarray()

    def _paint_circles(self, painter: QPainter, transform) -> None:
        scale = float(self._export.get("resolutionScale", 1.0)) if self._export else 1.0
        pts = pg.functions.transformCoordinates(
            transform, np.vstack([self._drawn_x, self._drawn_y]))
        pts = pg.functions.clip_array(pts, -(2**30), 2**30)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        r = self._size / 2 * scale
        for i, colour in enumerate(self._colours):
            painter.setBrush(colour)
            for px, py in pts[:, self._drawn_groups == i].T:
                painter.drawEllipse(QPointF(px, py), r, r)


__all__ = ["PointCloudItem", "gray_pixmap"]
