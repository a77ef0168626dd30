"""One thumbnail mosaic for every panel that shows a grid of small images.

Tiles are drawn into one array and shown by a single ``ImageItem`` (row-major, fixed grey
levels 0..1, nearest-neighbour; cheap to update 30 times a second), with separators drawn
over the tile borders. A mosaic holds one or more *bands* of n images each (the trade-off
panel's originals and their reconstructions); a run of ``cols`` tiles of every band forms a
block of rows, band under band, and the blocks follow each other down the view.

:class:`MosaicView` re-arranges its tiles whenever it is resized: it takes the number of
columns that gives the largest tiles in the room it has (one row of 16 interpolation steps in
a wide panel, four rows of four in a narrow one) and draws them at a whole number of screen
pixels per image pixel, so every image pixel is an equal, crisp square. Exports keep the
arrangement the panel asked for (one row for a strip, a square for the gallery) whatever the
window's size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF, QSize, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSizePolicy

from latentlab.core.io import atomic_write_path

__all__ = ["GREY", "TILE_MIN", "Mosaic", "MosaicView", "best_columns", "crisp_scale", "mosaic",
           "separator_segments", "untile"]

# Tiles are separated by gutters in the panel's white background: 8×8 digits touch
# their tile's top and bottom edges, and thin lines on black let a column of digits read
# as one tall stripe (a first impression of "stretched" tiles).
SEPARATOR_COLOR = (255, 255, 255)
SEPARATOR_WIDTH = 3
TILE_MIN = 48  # px: the least a tile is drawn when the panel can scroll to make room
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
    rows: int, cols: int, image_shape: tuple[int, int], occupied: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Line segments (x, y pairs for ``connect='pairs'``) along the inner tile borders;
    with ``occupied`` (rows, cols) bool, only the borders of occupied tiles (no grid drawn
    over the empty cells after the last image)."""
    h, w = image_shape
    full = np.ones((rows, cols), dtype=bool) if occupied is None else occupied
    xs: list[float] = []
    ys: list[float] = []
    for r in range(rows):
        for c in range(1, cols):
            if full[r, c - 1] or full[r, c]:
                xs += [c * w, c * w]
                ys += [r * h, (r + 1) * h]
    for r in range(1, rows):
        for c in range(cols):
            if full[r - 1, c] or full[r, c]:
                xs += [c * w, (c + 1) * w]
                ys += [r * h, r * h]
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def crisp_scale(scale: float) -> float:
    """Screen pixels per image pixel as drawn: a whole number once there are two or more,
    so every image pixel is an equal square."""
    return float(math.floor(scale)) if scale >= 2 else scale


def best_columns(n: int, bands: int, image_shape: tuple[int, int], width: float,
                 height: float) -> int:
    """The number of columns that draws ``bands`` bands of ``n`` tiles of ``image_shape``
    (H, W) the largest in ``width`` × ``height`` pixels; among equals, the one with the
    fewest empty cells, then the fewest rows."""
    h, w = image_shape

    def merit(cols: int) -> tuple[float, float, int, int]:
        blocks = math.ceil(n / cols)
        scale = min(width / (cols * w), height / (bands * blocks * h))
        return crisp_scale(scale), scale, -(blocks * cols - n), cols

    return max(range(1, max(1, n) + 1), key=merit)


class Mosaic:
    """Bands of tiles in ``view_box``: one ImageItem plus separators."""

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
        self.bands: list[np.ndarray] = []  # each (n, H*W)
        self.image_shape = (0, 0)
        self.columns = 0  # the arrangement asked for (and exported)
        self.shown_columns = 0  # the arrangement on screen
        self.room: tuple[float, float] | None = None  # pixels to fit, once laid out

    @property
    def image(self) -> np.ndarray | None:
        """The (rows*H, cols*W) array shown, or None."""
        return self.item.image

    @property
    def count(self) -> int:
        """Tiles per band."""
        return self.bands[0].shape[0] if self.bands else 0

    @property
    def tiles(self) -> tuple[int, int]:
        """(rows, cols) of tiles on screen."""
        if not self.bands:
            return (0, 0)
        cols = self.shown_columns
        return len(self.bands) * math.ceil(self.count / cols), cols

    def show(self, bands: Sequence[np.ndarray], image_shape: tuple[int, int],
             columns: int) -> bool:
        """Show ``bands`` (each (n, H*W), the same n), ``columns`` tiles a row in exports
        and wherever the view has not said how much room it has; True when the arrangement
        on screen changed."""
        arrays = [np.asarray(b, dtype=np.float32) for b in bands]
        if not arrays or any(a.shape[0] != arrays[0].shape[0] for a in arrays):
            raise ValueError("a mosaic needs one or more bands of equally many images")
        self.bands = arrays
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.columns = max(1, min(int(columns), self.count))
        return self._arrange(self._fitting_columns())

    def fit(self, width: float, height: float) -> bool:
        """Re-arrange for a view of ``width`` × ``height`` pixels; True when the arrangement
        changed."""
        self.room = (float(width), float(height))
        if not self.bands:
            return False
        changed = self._arrange(self._fitting_columns())
        self._frame()
        return changed

    def tile_at(self, x: float, y: float) -> int | None:
        """Index (within its band) of the tile holding view point (x, y), or None."""
        if not self.bands:
            return None
        h, w = self.image_shape
        (rows, cols), col, row = self.tiles, math.floor(x / w), math.floor(y / h)
        if not (0 <= col < cols and 0 <= row < rows):
            return None
        index = (row // len(self.bands)) * cols + col
        return index if index < self.count else None

    def tile_rect(self, index: int, band: int = 0) -> QRectF:
        """Rectangle of tile ``index`` of ``band`` in view coordinates (image pixels)."""
        h, w = self.image_shape
        block, col = divmod(int(index), max(1, self.shown_columns))
        row = block * len(self.bands) + band
        return QRectF(col * w, row * h, w, h)

    def shown_bands(self) -> list[np.ndarray]:
        """The bands read back from the array on screen, each (n, H*W)."""
        grid = self.item.image
        if grid is None or not self.bands:
            return []
        tiles = untile(np.asarray(grid), self.image_shape)
        cols, nb, n = self.shown_columns, len(self.bands), self.count
        order = [[(k // cols * nb + b) * cols + k % cols for k in range(n)] for b in range(nb)]
        return [tiles[rows] for rows in order]

    def clear(self) -> None:
        self.bands = []
        self.shown_columns = 0
        self.item.clear()
        self.separators.setData([], [])

    def export_png(self, path: str | Path, scale: int, what: str) -> Path:
        """Write the tiles, arranged ``columns`` a row, as a PNG with ``scale`` pixels per
        image pixel, i.e. exactly ``(columns*W*scale) x (rows*H*scale)``. ``what`` names it
        in error messages.

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
        shown = self.shown_columns
        self._arrange(self.columns)
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
        try:
            return atomic_write_path(path, exporter.export)
        finally:
            self._arrange(shown)
            self._frame()

    # -- internals ----------------------------------------------------------------------
    def _fitting_columns(self) -> int:
        if self.room is None:
            return self.columns
        return best_columns(self.count, len(self.bands), self.image_shape, *self.room)

    def _arrange(self, cols: int) -> bool:
        """Draw the bands ``cols`` tiles a row; True when the grid's shape changed."""
        h, w = self.image_shape
        blocks = math.ceil(self.count / cols)
        n, nb = self.count, len(self.bands)
        # Cells past the last image are NaN, which the ImageItem leaves transparent: the
        # view's background, not black squares that read as dark images.
        padded = np.full((blocks * cols, h * w), np.nan, dtype=np.float32)
        stacked = []
        for band in self.bands:
            padded[:n] = band.reshape(n, h * w)
            stacked.append(padded.reshape(blocks, cols, h * w).copy())
        rows = np.stack(stacked, axis=1).reshape(blocks * nb * cols, h * w)
        grid = mosaic(rows, self.image_shape, blocks * nb, cols)
        reshape = self.item.image is None or self.item.image.shape != grid.shape
        self.item.setImage(grid, levels=(0.0, 1.0), autoLevels=False)
        self.shown_columns = cols
        if reshape:
            occupied = np.arange(blocks * cols).reshape(blocks, 1, cols) < n
            occupied = np.broadcast_to(occupied, (blocks, nb, cols)).reshape(blocks * nb, cols)
            self.separators.setData(*separator_segments(blocks * nb, cols, self.image_shape,
                                                        occupied))
            self._frame()
        return reshape

    def _frame(self) -> None:
        """Range the view on the grid: centred, a whole number of screen pixels per image
        pixel when the tiles are at least a few pixels big (equal, crisp pixels)."""
        grid = self.item.image
        if grid is None:
            return
        height, width = grid.shape
        if self.room is None:
            self.view_box.setRange(xRange=(0, width), yRange=(0, height), padding=0.0)
            return
        room_w, room_h = self.room
        scale = crisp_scale(min(room_w / width, room_h / height))
        half_w, half_h = room_w / (2 * scale), room_h / (2 * scale)
        self.view_box.setRange(xRange=(width / 2 - half_w, width / 2 + half_w),
                               yRange=(height / 2 - half_h, height / 2 + half_h), padding=0.0)


class MosaicView(pg.GraphicsLayoutWidget):
    """A widget showing one :class:`Mosaic` in a locked-aspect, non-interactive view that
    re-arranges the tiles to fit whenever it is resized.

    Signals: ``arranged()`` — the tiles moved (a new arrangement): overlays placed in tile
    coordinates (a selection frame) are to be placed again.
    """

    arranged = Signal()

    def __init__(self, background: str | QColor = "w", separator_width: int = SEPARATOR_WIDTH,
                 minimum: tuple[int, int] = (160, 160), min_tile: int = TILE_MIN) -> None:
        super().__init__()
        self.min_tile = min_tile  # 0: the tiles shrink to fit the view, however many
        self.setBackground(background)
        self.ci.setContentsMargins(2, 2, 2, 2)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumSize(*minimum)
        self.view_box = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False,
                                        enableMenu=False)
        self.mosaic = Mosaic(self.view_box, separator_width)
        self.view_box.sigResized.connect(self._fit)

    def sizeHint(self) -> QSize:
        """No bigger than the minimum: the view takes the room its panel has left and asks
        for none beyond :meth:`heightForWidth` (a panel whose controls wrap measures its
        height from its parts' hints, and a large hint would make the dock scroll)."""
        return self.minimumSize()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        """The height that shows every tile at least ``min_tile`` px at ``width``: a panel
        in a scroll area (every dock's) scrolls rather than shrink the tiles below that."""
        mosaic = self.mosaic
        margins = 4 + 2 * self.frameWidth()  # the layout's contents margins (2 a side)
        if not mosaic.bands or not self.min_tile:
            return self.minimumHeight()
        h, w = mosaic.image_shape
        tile_w = self.min_tile
        tile_h = self.min_tile * h / w
        cols = max(1, min(mosaic.count, int((width - margins) // tile_w)))
        rows = len(mosaic.bands) * math.ceil(mosaic.count / cols)
        return max(self.minimumHeight(), math.ceil(rows * tile_h) + margins)

    def show_tiles(self, bands: Sequence[np.ndarray], image_shape: tuple[int, int],
                   columns: int) -> None:
        """:meth:`Mosaic.show`, telling the overlays when the arrangement changed."""
        before = (self.mosaic.count, len(self.mosaic.bands), self.mosaic.image_shape)
        if self.mosaic.show(bands, image_shape, columns):
            self.arranged.emit()
        if (self.mosaic.count, len(self.mosaic.bands), self.mosaic.image_shape) != before:
            self.updateGeometry()  # another number of tiles needs another height

    def tile_size(self) -> float:
        """Side of one tile on screen, in pixels (0 before any tiles)."""
        if self.mosaic.image is None or not self.mosaic.bands:
            return 0.0
        return float(self.view_box.width() / self.view_box.viewRect().width()
                     * self.mosaic.image_shape[1])

    def _fit(self) -> None:
        if self.mosaic.fit(self.view_box.width(), self.view_box.height()):
            self.arranged.emit()
