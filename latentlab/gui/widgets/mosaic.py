"""One thumbnail mosaic for every panel that shows a grid of small images.

Tiles are drawn into one array and shown by a single ``ImageItem`` (row-major, fixed grey
levels 0..1, nearest-neighbour; cheap to update 30 times a second), with separators drawn
over the tile borders. :class:`Mosaic` lives in a view box it is given (the trade-off panel
stacks two); :class:`MosaicView` is a widget holding one (gallery, interpolation). Both
export the tiles as a PNG of an exact pixel size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSizePolicy

from latentlab.core.io import atomic_write_path

__all__ = ["GREY", "Mosaic", "MosaicView", "mosaic", "separator_segments", "untile"]

# Tiles are separated by gutters in the panel's white background: 8×8 digits touch
# their tile's top and bottom edges, and thin lines on black let a column of digits read
# as one tall stripe (a first impression of "stretched" tiles).
SEPARATOR_COLOR = (255, 255, 255)
SEPARATOR_WIDTH = 3
GREY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])  # 0 = black, 1 = white


def mosaic(images: np.ndarray, image_shape: tuple[int, int], rows: int, cols: int) -> np.ndarray:
    """Tile ``images`` (n, H*W) row by row into one (rows*H, cols*W) array.

    Missing tiles (n < rows*cols) are left at 0 (black).
    """
    h, w = image_shape
    n = images.shape[0]
    if n > rows * cols:
        raise ValueError(f"{n} images do not fit in a {rows}x{cols} mosaic")
    tiles = np.zeros((rows * cols, h * w), dtype=np.float32)
    tiles[:n] = images.reshape(n, h * w)
    return np.ascontiguousarray(
        tiles.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    )


def untile(grid: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`mosaic`: split a (rows*H, cols*W) array into (rows*cols, H*W)."""
    h, w = image_shape
    rows, cols = grid.shape[0] // h, grid.shape[1] // w
    return grid.reshape(rows, h, cols, w).transpose(0, 2, 1, 3).reshape(rows * cols, h * w)


def separator_segments(
    rows: int, cols: int, image_shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Line segments (x, y pairs for ``connect='pairs'``) along the inner tile borders."""
    h, w = image_shape
    width, height = cols * w, rows * h
    xs: list[float] = []
    ys: list[float] = []
    for c in range(1, cols):
        xs += [c * w, c * w]
        ys += [0.0, height]
    for r in range(1, rows):
        xs += [0.0, width]
        ys += [r * h, r * h]
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


class Mosaic:
    """A grid of tiles in ``view_box``: one ImageItem plus separators."""

    def __init__(self, view_box: pg.ViewBox, separator_width: int = SEPARATOR_WIDTH) -> None:
        self.view_box = view_box
        view_box.setDefaultPadding(0.0)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setLevels((0.0, 1.0))
        self.item.setColorMap(GREY)
        view_box.addItem(self.item)
        self.separators = pg.PlotCurveItem(
            pen=pg.mkPen(SEPARATOR_COLOR, width=separator_width), connect="pairs")
        view_box.addItem(self.separators)
        self.tiles = (0, 0)  # (rows, cols) shown
        self.image_shape = (0, 0)

    @property
    def image(self) -> np.ndarray | None:
        """The (rows*H, cols*W) array shown, or None."""
        return self.item.image

    def show(self, images: np.ndarray, image_shape: tuple[int, int], rows: int,
             cols: int) -> bool:
        """Tile ``images: (n, H*W)`` into ``rows`` × ``cols``; True when the grid's shape
        changed (the view was re-ranged)."""
        grid = mosaic(images, image_shape, rows, cols)
        reshape = self.item.image is None or self.item.image.shape != grid.shape
        self.item.setImage(grid, levels=(0.0, 1.0), autoLevels=False)
        self.tiles, self.image_shape = (rows, cols), (int(image_shape[0]), int(image_shape[1]))
        if reshape:
            xs, ys = separator_segments(rows, cols, image_shape)
            self.separators.setData(xs, ys)
            self.view_box.setRange(xRange=(0, grid.shape[1]), yRange=(0, grid.shape[0]),
                                   padding=0.0)
        return reshape

    def clear(self) -> None:
        self.item.clear()
        self.separators.setData([], [])

    def export_png(self, path: str | Path, scale: int, what: str) -> Path:
        """Write the tiles as a PNG with ``scale`` pixels per image pixel, i.e. exactly
        ``(cols*W*scale) x (rows*H*scale)``. ``what`` names it in error messages.

        Raises ``ValueError`` for a bad scale and ``OSError`` when the file cannot be written.
        """
        scale = int(scale)
        if scale < 1:
            raise ValueError(f"scale must be a positive integer, got {scale}")
        path = Path(path)
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise OSError(f"Cannot write {path}: folder {folder} does not exist.")
        if path.is_dir():
            raise OSError(f"Could not write the {what} PNG to {path}: it is a folder.")
        (rows, cols), (h, w) = self.tiles, self.image_shape
        # A hidden or never-shown panel (e.g. a closed dock) updates its transform lazily
        # at paint time, and the exporter reads it to find the mosaic: bring it up to date.
        self.view_box.setRange(xRange=(0, cols * w), yRange=(0, rows * h), padding=0.0)
        self.view_box.updateMatrix()
        exporter = ImageExporter(self.item)
        params = exporter.parameters()
        params.param("width").setValue(cols * w * scale, blockSignal=exporter.widthChanged)
        params.param("height").setValue(rows * h * scale, blockSignal=exporter.heightChanged)
        params.param("antialias").setValue(False)
        return atomic_write_path(path, exporter.export)


class MosaicView(pg.GraphicsLayoutWidget):
    """A widget showing one :class:`Mosaic` in a locked-aspect, non-interactive view."""

    def __init__(self, background: str | QColor = "w", separator_width: int = SEPARATOR_WIDTH,
                 minimum: tuple[int, int] = (160, 160)) -> None:
        super().__init__()
        self.setBackground(background)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(*minimum)
        self.view_box = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False,
                                        enableMenu=False)
        self.mosaic = Mosaic(self.view_box, separator_width)
