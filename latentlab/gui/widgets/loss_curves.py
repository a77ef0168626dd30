"""The live loss-curve chart: reconstruction, KL (a VQ-VAE's VQ loss) and total per epoch,
as growing arrays.

Every figure is what training reports (:data:`latentlab.core.loss_labels.RUNNING`): the
mean over an epoch's batches with z sampled, the total at that epoch's β. During a KL
warm-up that β is below the final one, so the warm-up epochs' totals are also drawn at
the final β (dashed), comparable with the rest of the curve."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF, QSize, Qt

from latentlab.core import EpochReport
from latentlab.core.io import atomic_write_path
from latentlab.core.loss_labels import RUNNING, RUNNING_PLAIN, totals_at

from ..slots import ModelKind

CURVE_COLOURS = {"recon": "#1f77b4", "kl": "#d62728", "total": "#333333"}
#: the chart's least height (the Training panel lowers it to fit a second chart)
MIN_HEIGHT = 150
_RECON, _KL, _TOTAL, _BETA = range(4)  # the columns of LossCurves._values


class LossCurves(pg.PlotWidget):
    """Per-sample losses of one model's history; the second term (KL, or a VQ-VAE's VQ
    loss) and the total only for the kinds that have one."""

    def __init__(self) -> None:
        super().__init__(background="w")
        self.setMinimumHeight(MIN_HEIGHT)
        plot = self.getPlotItem()
        self.model_name = ""  # named in the title when two charts are shown
        self._set_title(RUNNING.short)
        self.setToolTip(f"Each epoch's {RUNNING.long}. Dashed: a KL warm-up epoch's total "
                        "restated at the final β.")
        plot.setLabel("bottom", "epoch")
        # No grid and 1-px pens: measured on the live window, the grid cost ~6 ms and
        # 1.6-px pens ~3 ms per repaint of this chart (11.9 ms -> 1.4 ms without both).
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setMouseEnabled(x=False, y=False)
        plot.getViewBox().disableAutoRange()
        plot.hideButtons()
        self._legend = legend = plot.addLegend(offset=(-6, 6), labelTextSize="8pt", colCount=3,
                                brush=pg.mkBrush(255, 255, 255, 200))
        legend.setLabelTextColor("#222")
        self._curve = {
            key: plot.plot([], [], name=name, pen=pg.mkPen(CURVE_COLOURS[key], width=1))
            for key, name in (("recon", "reconstruction"), ("kl", "KL"), ("total", "total"))
        }
        self._curve["final"] = plot.plot(
            [], [], name="total at final β",
            pen=pg.mkPen(CURVE_COLOURS["total"], width=1, style=Qt.PenStyle.DashLine))
        self.history: list[EpochReport] = []
        # The curves' data as growing arrays (recon, kl, total per epoch): a redraw
        # never rebuilds them from the whole history, however long the session runs.
        self._values = np.zeros((0, 4), dtype=np.float64)
        self.kind = ""

    def sizeHint(self) -> QSize:
        # Ask for the minimum only: a panel in a scroll area is laid out at its preferred
        # height, and pyqtgraph's 480 px made the Training panel scroll on a 1080-px screen
        # with two charts. The layout's stretch gives the chart the room that is left.
        return QSize(super().sizeHint().width(), self.minimumHeight())

    def _set_title(self, measure: str) -> None:
        # Two lines: the measure is as long as the title, and a narrow dock cut it off.
        head = f"{self.model_name}: loss per sample" if self.model_name else "Loss per sample"
        title = f"{head}<br><span style='font-size:8pt; color:#666'>{measure}</span>"
        if self.getPlotItem().titleLabel.text != title:
            self.getPlotItem().setTitle(title, size="10pt", color="#333")

    def set_model_name(self, name: str) -> None:
        """Name the model in the title ("" for none); applied at the next redraw."""
        self.model_name = name

    def set_history(self, kind: str, history: list[EpochReport]) -> None:
        """Show ``history`` of a model of ``kind`` (redrawn now)."""
        self.kind = kind
        self.history = list(history)
        self._values = np.array([[r.recon, r.kl, r.total, r.beta] for r in history],
                                dtype=np.float64).reshape(-1, 4)
        self.redraw()

    def append(self, reports: list[EpochReport]) -> None:
        """Add epochs (drawn at the next :meth:`redraw`)."""
        if reports:
            self.history.extend(reports)
            new = np.array([[r.recon, r.kl, r.total, r.beta] for r in reports],
                           dtype=np.float64)
            self._values = np.concatenate([self._values, new])

    @property
    def two_terms(self) -> bool:
        """Whether the kind's loss has a second term: the VAE's KL, the VQ-VAE's VQ loss."""
        return bool(self.kind) and ModelKind.parse(self.kind).regulariser_name is not None

    def redraw(self) -> None:
        v = self._values
        x = np.arange(1, len(v) + 1, dtype=np.float64)
        two = self.two_terms
        self._curve["recon"].setData(x, v[:, 0])
        self._curve["total"].setData(x, v[:, 2])
        self._curve["kl"].setData(x if two else np.zeros(0), v[:, 1] if two else np.zeros(0))
        self._curve["kl"].setVisible(two)
        self._curve["total"].setVisible(two)
        x_final, y_final = self.warmup_totals_at_final_beta()
        self._curve["final"].setData(x_final, y_final)
        self._curve["final"].setVisible(two and len(x_final) > 0)
        # Only a kind that samples z trains "with z sampled" (an AE, a VQ-VAE never does).
        plain = bool(self.kind) and not ModelKind.parse(self.kind).samples_noise
        self._set_title((RUNNING_PLAIN if plain else RUNNING).short)
        name = (ModelKind.parse(self.kind).regulariser_name if two else None) or "KL"
        self._show_legend(name)
        self._fit()

    def _show_legend(self, regulariser: str) -> None:
        """The legend lists the drawn curves only (pyqtgraph marks a hidden curve's entry
        with a crossed-out eye, which read as a broken chart)."""
        names = {"recon": "reconstruction", "kl": regulariser, "total": "total",
                 "final": "total at final β"}
        wanted = [(self._curve[key], names[key]) for key in names
                  if self._curve[key].isVisible()]
        shown = [(sample.item, label.text) for sample, label in self._legend.items]
        if shown != wanted:
            self._legend.clear()
            for curve, label in wanted:
                self._legend.addItem(curve, label)

    def warmup_totals_at_final_beta(self) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, totals at the last epoch's β) of the epochs trained at another β, and
        the first epoch after them, so the dashed line meets the solid one."""
        v = self._values
        if not len(v) or not self.two_terms:
            return np.zeros(0), np.zeros(0)
        final = v[-1, _BETA]
        differs = np.flatnonzero(v[:, _BETA] != final)
        if not differs.size:
            return np.zeros(0), np.zeros(0)
        rows = np.arange(0, min(len(v), int(differs.max()) + 2))
        return (rows + 1.0), totals_at(v[rows, _RECON], v[rows, _KL], final)

    def _fit(self) -> None:
        """Grow the x axis in nice steps and move the y axis only when the curves leave it
        or shrink to a fraction of it: re-ticking axes on every redraw is what costs."""
        n = len(self.history)
        vb = self.getPlotItem().getViewBox()
        if not n:
            vb.setRange(xRange=(0, 10), yRange=(0, 1), padding=0)
            return
        step = 10 ** max(1, math.floor(math.log10(max(n, 1))))
        x_max = max(10, math.ceil(n / step) * step)
        cols = self._values[:, :3] if self.two_terms else self._values[:, :1]
        values = cols[max(0, n // 10):] if n > 20 else cols  # ignore the first, huge epochs
        values = values[np.isfinite(values)]
        if values.size == 0:
            return
        lo, hi = min(0.0, float(values.min())), float(values.max())
        hi = hi if hi > lo else lo + 1.0
        (cx0, cx1), (cy0, cy1) = vb.viewRange()
        if (cx0, cx1) != (0, x_max):
            vb.setRange(xRange=(0, x_max), padding=0)
        if hi > cy1 or lo < cy0 or hi < cy0 + 0.5 * (cy1 - cy0):
            vb.setRange(yRange=(lo, lo + (hi - lo) * 1.15), padding=0)

    def export_png(self, path: str, width: int = 1200) -> None:
        """Write the chart as a PNG ``width`` × 0.6 ``width`` pixels (a figure's shape,
        whatever the dock's); never opens a dialog."""
        if width < 1:
            raise ValueError(f"export width must be positive, got {width}")
        plot = self.getPlotItem()
        shown = plot.geometry()
        # Lay the chart out as a 1000 × 600 figure for the export, then give it back its
        # place on screen.
        plot.setGeometry(QRectF(0, 0, 1000, 600))
        exporter = ImageExporter(plot)
        params = exporter.parameters()
        params["width"] = int(width)
        params["background"] = pg.mkColor("w")
        try:
            atomic_write_path(path, exporter.export)
        finally:
            plot.setGeometry(shown)


__all__ = ["LossCurves"]
