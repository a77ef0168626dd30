"""A drawing pad at the data's own image size (8×8, 16×16, 28×28 …), drawn large.

The canvas is an ``(H, W)`` float array in [0, 1] (1 = ink, as in the data). A stroke
from ``p0`` to ``p1`` (canvas coordinates: x right, y down, pixel (r, c) centred at
(c + 0.5, r + 0.5)) inks each pixel by its anti-aliased coverage
``clip(radius + 0.5 − d, 0, 1)``, ``d`` the distance from the pixel's centre to the
segment; the brush takes the maximum with the canvas, the eraser the minimum with
``1 − coverage``. :class:`DrawingPad` emits ``imageChanged`` with the flat ``(H·W,)``
image after every stroke step, so the image can be encoded live.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["BRUSH", "ERASER", "DrawingPad", "default_radius", "segment_coverage"]

BRUSH, ERASER = "brush", "eraser"
_GRID_MAX = 16  # beyond 16×16 pixels a grid is more lines than picture


def default_radius(image_shape: tuple[int, int]) -> float:
    """A brush radius (canvas pixels) whose strokes are about as thick as the data's: the
    8×8 digits' strokes are ~2 pixels wide, a 28×28 digit's ~3–4."""
    return max(0.5, min(image_shape) / 16.0 + 0.3)


def segment_coverage(shape: tuple[int, int], p0: tuple[float, float],
                     p1: tuple[float, float], radius: float) -> np.ndarray:
    """Coverage ``(H, W)`` in [0, 1] of a round brush of ``radius`` dragged from ``p0`` to
    ``p1`` (see the module docstring for the coordinates)."""
    h, w = shape
    cy, cx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    ax, ay = p0
    dx, dy = p1[0] - ax, p1[1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else np.clip(((cx - ax) * dx + (cy - ay) * dy) / length2, 0, 1)
    d = np.hypot(cx - (ax + t * dx), cy - (ay + t * dy))
    return np.clip(radius + 0.5 - d, 0.0, 1.0)


class DrawingPad(QWidget):
    """Draw with the left button (brush or eraser); the image is at the data's size."""

    imageChanged = Signal(object)  # (H*W,) float32 copy

    def __init__(self, image_shape: tuple[int, int] = (8, 8),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.tool = BRUSH
        self._last: tuple[float, float] | None = None
        self.set_image_shape(image_shape)

    # -- state ---------------------------------------------------------------------------
    @property
    def image_shape(self) -> tuple[int, int]:
        return self._canvas.shape[0], self._canvas.shape[1]

    def set_image_shape(self, image_shape: tuple[int, int]) -> None:
        """A new data size: the canvas is cleared and the brush resized to suit it."""
        h, w = (int(v) for v in image_shape)
        self._canvas = np.zeros((h, w), dtype=np.float32)
        self.radius = default_radius((h, w))
        self.update()
        self.imageChanged.emit(self.image())

    def image(self) -> np.ndarray:
        """The drawing as the data stores an image: ``(H*W,)`` float32 in [0, 1]."""
        return self._canvas.reshape(-1).copy()

    def is_blank(self) -> bool:
        return not bool(self._canvas.any())

    def set_image(self, image: np.ndarray) -> None:
        """Replace the drawing with ``image`` (``(H*W,)`` or ``(H, W)``, clipped to [0, 1])."""
        image = np.asarray(image, dtype=np.float32).reshape(self._canvas.shape)
        self._canvas = np.clip(image, 0.0, 1.0)
        self.update()
        self.imageChanged.emit(self.image())

    def clear(self) -> None:
        self._canvas[...] = 0.0
        self.update()
        self.imageChanged.emit(self.image())

    def set_tool(self, tool: str) -> None:
        if tool not in (BRUSH, ERASER):
            raise ValueError(f"tool must be {BRUSH!r} or {ERASER!r}, not {tool!r}")
        self.tool = tool

    def draw_stroke(self, points: list[tuple[float, float]]) -> None:
        """Draw a polyline through ``points`` (canvas coordinates) with the current tool,
        as a mouse drag through them would; one ``imageChanged`` at the end."""
        if not points:
            return
        for p0, p1 in zip(points[:1] + points[:-1], points, strict=True):
            self._stamp(p0, p1)
        self.update()
        self.imageChanged.emit(self.image())

    def _stamp(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        cover = segment_coverage(self._canvas.shape, p0, p1, self.radius).astype(np.float32)
        if self.tool == BRUSH:
            np.maximum(self._canvas, cover, out=self._canvas)
        else:
            np.minimum(self._canvas, 1.0 - cover, out=self._canvas)

    # -- geometry ------------------------------------------------------------------------
    def canvas_rect(self) -> QRectF:
        """Where the canvas is drawn: the largest rectangle of the image's aspect that
        fits, centred (square pixels)."""
        h, w = self.image_shape
        scale = min(self.width() / w, self.height() / h)
        cw, ch = w * scale, h * scale
        return QRectF((self.width() - cw) / 2, (self.height() - ch) / 2, cw, ch)

    def to_canvas(self, pos: QPointF) -> tuple[float, float]:
        """A widget position → canvas coordinates."""
        r = self.canvas_rect()
        h, w = self.image_shape
        return ((pos.x() - r.x()) / r.width() * w, (pos.y() - r.y()) / r.height() * h)

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    # -- events --------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = self.to_canvas(event.position())
            self.draw_stroke([self._last])
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None and event.buttons() & Qt.MouseButton.LeftButton:
            here = self.to_canvas(event.position())
            self.draw_stroke([self._last, here])
            self._last = here
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._last = None
        super().mouseReleaseEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        grey = np.ascontiguousarray((self._canvas * 255.0 + 0.5).astype(np.uint8))
        h, w = grey.shape
        image = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        target = self.canvas_rect()
        painter.drawImage(target, image)  # no smoothing: one square per data pixel
        if max(h, w) <= _GRID_MAX:  # a faint pixel grid makes a small image's size plain
            painter.setPen(QPen(QColor(90, 90, 90), 1))
            for c in range(1, w):
                x = target.x() + c * target.width() / w
                painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
            for r in range(1, h):
                y = target.y() + r * target.height() / h
                painter.drawLine(QPointF(target.left(), y), QPointF(target.right(), y))
        painter.setPen(QPen(QColor(160, 160, 160), 1))
        painter.drawRect(target)
        painter.end()
