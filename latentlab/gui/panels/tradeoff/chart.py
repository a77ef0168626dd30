"""The rate-distortion chart of the β trade-off panel: x = KL (rate), y = reconstruction
(distortion), one point per β the user has trained, a red cross on each β whose latent
collapsed, and a hollow marker for where the live model is right now."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QSize, Qt

from latentlab.core.io import atomic_write_path

__all__ = ["RateDistortionChart"]

POINT_COLOR = (70, 130, 200)
NOW_COLOR = (255, 165, 0)
COLLAPSE_COLOR = (200, 40, 40)


class RateDistortionChart(pg.PlotWidget):
    """Points {β rounded to 3 digits: (recon, kl)}, framed by themselves (no autorange)."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.setMinimumSize(160, 120)
        plot = self.getPlotItem()
        plot.setTitle("Rate-distortion (one point per β)", color="#333333", size="10pt")
        plot.setLabel("bottom", "KL (rate), nats per sample")
        plot.setLabel("left", "Recon (distortion)")
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)  # the range follows the points (_fit)
        plot.hideButtons()
        self.setToolTip(
            "Each filled point is a β you trained: KL (rate, how much the code says about "
            "the image) against reconstruction error (distortion). Low β: high rate, low "
            "distortion; high β: low rate, blurrier reconstructions.\n"
            "A red cross is a β whose latent collapsed (no dim carries information).\n"
            "The hollow orange ring is the model being shown right now."
        )
        self.plot = plot
        self._curve = pg.PlotDataItem(
            pen=pg.mkPen((150, 150, 150), width=1, style=Qt.PenStyle.DashLine))
        plot.addItem(self._curve)
        self._scatter = pg.ScatterPlotItem(
            size=9, brush=pg.mkBrush(POINT_COLOR), pen=pg.mkPen("w", width=1))
        plot.addItem(self._scatter)
        self._collapsed_scatter = pg.ScatterPlotItem(
            size=13, symbol="x", brush=pg.mkBrush(COLLAPSE_COLOR), pen=pg.mkPen(None))
        plot.addItem(self._collapsed_scatter)
        self._collapse_label = pg.TextItem("", color=COLLAPSE_COLOR, anchor=(-0.08, -0.3))
        self._collapse_label.setVisible(False)
        plot.addItem(self._collapse_label)
        self._now = pg.ScatterPlotItem(
            size=14, brush=pg.mkBrush(None), pen=pg.mkPen(NOW_COLOR, width=2))
        plot.addItem(self._now)
        self.points: dict[float, tuple[float, float]] = {}
        self.collapsed: set[float] = set()  # β keys of points whose latent collapsed
        self.point_labels: list[pg.TextItem] = []

    def sizeHint(self) -> QSize:
        """The minimum: the panel's wrapped texts make its dock measure the panel by its
        parts' hints, and a large one here would make the dock scroll for nothing."""
        return self.minimumSize()

    def record(self, beta: float, recon: float, kl: float, collapsed: bool = False) -> None:
        """Add (or replace) the point for ``beta`` (rounded to 3 digits)."""
        values = (float(beta), float(recon), float(kl))
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"rate-distortion point must be finite, got {values}")
        key = round(values[0], 3)
        self.points[key] = (values[1], values[2])
        if collapsed:
            self.collapsed.add(key)
        else:
            self.collapsed.discard(key)
        self._redraw()

    def clear_points(self) -> None:
        self.points.clear()
        self.collapsed.clear()
        self._redraw()

    def show_now(self, kl: float | None, recon: float | None) -> None:
        """Ring the live model at (kl, recon); None hides the ring."""
        if kl is None or recon is None:
            self._now.setData([], [])
        else:
            self._now.setData([kl], [recon])
        self._fit()

    def plotted_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(x = KL, y = reconstruction) of the recorded points as drawn."""
        x, y = self._scatter.getData()
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def collapse_label_text(self) -> str:
        """The collapse annotation ("" when no point collapsed)."""
        return self._collapse_label.toPlainText() if self.collapsed else ""

    def export_png(self, path: str, width: int = 1000) -> None:
        """Write the chart as a PNG ``width`` pixels wide (height follows the chart's
        aspect), atomically; never opens a dialog."""
        if width < 1:
            raise ValueError(f"export width must be positive, got {width}")
        exporter = ImageExporter(self.plot)
        params = exporter.parameters()
        params["width"] = int(width)
        params["background"] = pg.mkColor("w")
        atomic_write_path(path, exporter.export)

    def _redraw(self) -> None:
        for label in self.point_labels:
            self.plot.removeItem(label)
        self.point_labels.clear()
        items = sorted(self.points.items())
        kls = [kl for _, (_, kl) in items]
        recons = [recon for _, (recon, _) in items]
        self._scatter.setData(kls, recons)
        self._curve.setData(kls, recons)
        collapsed = [(beta, self.points[beta]) for beta in sorted(self.collapsed)]
        self._collapsed_scatter.setData([kl for _, (_, kl) in collapsed],
                                        [recon for _, (recon, _) in collapsed])
        self._collapse_label.setVisible(bool(collapsed))
        if collapsed:
            first, (recon, kl) = collapsed[0]
            self._collapse_label.setText(f"posterior collapse (β = {first:g})")
            self._collapse_label.setPos(kl, recon)
        for beta, (recon, kl) in items:
            label = pg.TextItem(f"β={beta:g}", color=(40, 40, 40), anchor=(0.5, 1.15))
            label.setPos(kl, recon)
            self.plot.addItem(label)
            self.point_labels.append(label)
        self._fit()

    def _fit(self) -> None:
        """Frame the recorded points and the live marker, KL from 0, with room for labels.

        Autorange would zoom into a single point until the tick labels are 15 digits long,
        so the range is set here with a minimum span."""
        xs = [kl for recon, kl in self.points.values()]
        ys = [recon for recon, kl in self.points.values()]
        now_x, now_y = self._now.getData()
        xs += [float(v) for v in now_x]
        ys += [float(v) for v in now_y]
        if not xs:
            self.plot.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0.0)
            return
        x_hi = max(max(xs), 1.0)
        y_lo, y_hi = min(ys), max(ys)
        min_span = max(1.0, 0.05 * max(abs(y_lo), abs(y_hi)))
        if y_hi - y_lo < min_span:
            mid = 0.5 * (y_lo + y_hi)
            y_lo, y_hi = mid - 0.5 * min_span, mid + 0.5 * min_span
        y_pad = 0.12 * (y_hi - y_lo)
        self.plot.setRange(
            xRange=(-0.08 * x_hi, 1.12 * x_hi),
            yRange=(y_lo - y_pad, y_hi + 2 * y_pad),  # extra room above for the β labels
            padding=0.0,
        )
