"""The maps as a figure: the one legend above them (its columns fit the dock), two maps side
by side in a wide view and one above the other in a tall one, and the PNG and SVG exports,
laid out at a fixed scene width so text and points scale with the PNG."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QRectF

from latentlab.core.io import atomic_write_bytes, atomic_write_path

LEGEND_TEXT = "9pt"
EXPORT_LEGEND_TEXT = "11pt"
FIGURE_WIDTH = 720  # an exported map's width in scene units: a 1280 px PNG draws at ~1.8×
MAX_LEGEND_ENTRIES = 24  # more classes than this: the legend says "+N more"


class MapFigure:
    """The maps' ``GraphicsLayoutWidget`` and its legend (a row of its own above the maps,
    never over the points)."""

    def __init__(self, view: pg.GraphicsLayoutWidget) -> None:
        self.view = view
        self.legend = pg.LegendItem(colCount=1, labelTextSize=LEGEND_TEXT, horSpacing=10,
                                    frame=False, labelTextColor="#222")
        self.legend_samples: list[pg.ScatterPlotItem] = []
        self.plots: list[pg.PlotItem] = []  # the maps shown, in order
        self.stacked: bool | None = None  # the maps one above the other (None: not placed)

    def show_maps(self, plots: list[pg.PlotItem]) -> None:
        """Show the legend and ``plots`` (the maps of the visible slots), placed afresh."""
        self.plots = plots
        self.stacked = None
        self.place()

    def place(self, width: float | None = None, height: float | None = None) -> None:
        """The legend, then the maps: side by side in a wide view (or a figure of ``width``
        × ``height``), one above the other in a tall one. Two equal-scale maps side by side
        in a tall dock are each half its width; stacked, each is as wide as the dock."""
        if width is None or height is None:
            width, height = self.view.width(), self.view.height()
        stacked = len(self.plots) > 1 and height > width
        if stacked == self.stacked:
            return
        self.stacked = stacked
        ci = self.view.ci
        ci.clear()
        ci.addItem(self.legend, row=0, col=0, colspan=1 if stacked else len(self.plots))
        for i, plot in enumerate(self.plots):
            ci.addItem(plot, row=1 + i if stacked else 1, col=0 if stacked else i)

    def fill_legend(self, groups: list[tuple[np.ndarray | None, str, str]]) -> None:
        """One entry per (indices, name, colour) group, at most MAX_LEGEND_ENTRIES."""
        self.legend.clear()
        self.legend_samples = []
        shown = groups[:MAX_LEGEND_ENTRIES]
        for _idx, name, colour in shown:
            sample = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(colour), name=name)
            self.legend_samples.append(sample)
            self.legend.addItem(sample, name)
        if len(groups) > len(shown):
            more = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush("#bbbbbb"))
            self.legend_samples.append(more)
            self.legend.addItem(more, f"+{len(groups) - len(shown)} more")
        self.fit_legend()

    def fit_legend(self) -> None:
        """As many legend columns (≤ 12) as fit the view's width: a legend row wider than
        the dock would widen the maps' layout and cut the maps off at the right."""
        items = self.legend.items
        if not items:
            return
        widest = max(label.item.boundingRect().width() for _sample, label in items) + 34
        room = self.view.width() if self.view.isVisible() else 10_000  # not laid out yet
        columns = max(1, min(len(items), 12, int(room // widest)))
        if columns != self.legend.columnCount:
            self.legend.setColumnCount(columns)
            self.view.ci.layout.activate()  # now, not on a later turn: the maps move once

    def export_png(self, path: str, width: int, height: int | None = None) -> None:
        """Write the shown map(s) as a ``width`` × ``height`` PNG (never opens a dialog);
        the height defaults to the map's own aspect ratio."""
        if height is None:
            height = self.natural_export_height(width)
        if width < 1 or height < 1:
            raise ValueError(f"export size must be positive, got {width}×{height}")
        with self.laid_out_as_figure(width, height):
            exporter = ImageExporter(self.view.ci)
            params = exporter.parameters()
            params["width"] = int(width)
            # Setting the height re-derives the width from the aspect ratio unless that
            # handler is blocked; the scene then renders centred in the requested canvas.
            params.param("height").setValue(int(height), blockSignal=exporter.heightChanged)
            params["background"] = pg.mkColor("w")
            atomic_write_path(path, exporter.export)

    @contextlib.contextmanager
    def laid_out_as_figure(self, width: int, height: int) -> Iterator[None]:
        """Lay the maps and legend out at ``width``:``height`` as a figure FIGURE_WIDTH
        scene units wide (so text and points scale with the PNG, whatever the dock's size),
        two maps stacked or side by side by the figure's shape, with the legend's text at a
        size a printed figure can read; then give them back."""
        layout = self.view.ci
        shown = layout.geometry()
        self._set_legend_text(EXPORT_LEGEND_TEXT)
        self.place(width, height)
        layout.setGeometry(QRectF(0, 0, FIGURE_WIDTH, FIGURE_WIDTH * height / width))
        try:
            yield
        finally:
            self._set_legend_text(LEGEND_TEXT)
            self.place()
            layout.setGeometry(shown)

    def _set_legend_text(self, size: str) -> None:
        self.legend.setLabelTextSize(size)
        for _sample, label in self.legend.items:
            label.setText(label.text)  # setLabelTextSize keeps the old size until redrawn

    def export_svg(self, path: str) -> None:
        """Write the shown map(s) as an SVG drawing (every point a vector circle)."""
        exporter = SVGExporter(self.view.ci)
        exporter.parameters()["background"] = pg.mkColor("w")
        atomic_write_bytes(path, bytes(exporter.export(toBytes=True)))

    def natural_export_height(self, width: int) -> int:
        rect = self.view.ci.sceneBoundingRect()
        if rect.width() <= 0:
            return int(width * 0.75)
        return max(1, round(width * rect.height() / rect.width()))


__all__ = ["EXPORT_LEGEND_TEXT", "FIGURE_WIDTH", "LEGEND_TEXT", "MAX_LEGEND_ENTRIES",
           "MapFigure"]
