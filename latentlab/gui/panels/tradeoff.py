"""The β trade-off panel (the article's panel 2) with a rate-distortion chart.

Top: a fixed handful of data images (one per label when labels are known) above their
reconstructions, then a row of random generations, each drawn by the shared mosaic widget.
Below them the per-sample figures of the current model on the whole data set,
``Recon: … KL: … Total: … (β = …)``, the session's ``model.evaluate`` (the mean encoding,
no sampling, so the figures do not flicker). Bottom: a rate-distortion chart, x = KL (rate),
y = reconstruction (distortion), collecting one point per β the user has trained
(``record_point``), plus a hollow marker for where the live model is right now.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from latentlab.core import Model
from latentlab.core.io import atomic_write_path
from latentlab.core.loss_labels import AT_MU, RUNNING

from ..analysis import Asked
from ..session import LabSession
from ..slots import Slot, has_kl
from ..widgets.mosaic import Mosaic, untile
from .base import Panel

__all__ = ["TradeoffPanel"]

N_SHOWN = 10
GENERATION_SEED = 2024
POINT_COLOR = (70, 130, 200)
NOW_COLOR = (255, 165, 0)
COLLAPSE_COLOR = (200, 40, 40)


def pick_examples(labels: np.ndarray | None, n_images: int, count: int = N_SHOWN) -> np.ndarray:
    """Indices of ``count`` example images: the first of each label (in label order) when
    labels are known, topped up with evenly spaced others; evenly spaced otherwise."""
    count = min(count, n_images)
    chosen: list[int] = []
    if labels is not None:
        labels = np.asarray(labels)
        for value in np.unique(labels)[:count]:
            chosen.append(int(np.flatnonzero(labels == value)[0]))
    if len(chosen) < count:
        for index in np.linspace(0, n_images - 1, count * 2).astype(int):
            if len(chosen) == count:
                break
            if int(index) not in chosen:
                chosen.append(int(index))
    return np.asarray(chosen, dtype=np.int64)


class TradeoffPanel(Panel):
    """Originals vs reconstructions, random generations, loss figures and a rate-distortion chart.

    The panel follows the session: its data set, and its primary model when it settles (or
    ``show_model`` with any snapshot); ``record_point`` adds a β to the chart, and a VAE
    run that reaches its epochs adds its own.
    """

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self._image_shape: tuple[int, int] = (8, 8)
        self._examples: np.ndarray | None = None
        self._example_index = np.zeros(0, dtype=np.int64)
        self._model: Any = None
        self._beta = 1.0
        self._figures: Any = None
        self._figures_model: Any = None  # the snapshot the figures are of
        self._asked = Asked()  # snapshots whose figures the worker has not sent yet
        self._record_when_ready: Any = None  # a finished run's model, to record
        # A recorded point whose model's diagnostics (collapsed or not) are on their way.
        self._collapse_pending: tuple[Any, float, float, float] | None = None
        self._generation_seed = GENERATION_SEED
        self._points: dict[float, tuple[float, float]] = {}
        self._collapsed: set[float] = set()  # β keys of points whose latent collapsed
        self._point_labels: list[pg.TextItem] = []

        self._heading = QLabel()
        font = self._heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self._heading.setFont(font)
        self._heading.setToolTip("The β the shown model was trained with (effective β this epoch).")

        self._new_generations = QPushButton("New generations")
        self._new_generations.setToolTip("Decode a fresh set of random latent codes z ~ N(0, I).")
        self._new_generations.clicked.connect(self.resample_generations)
        top = QHBoxLayout()
        top.addWidget(self._heading)
        top.addStretch(1)
        top.addWidget(self._new_generations)

        self._build_images()

        self._figures_label = QLabel()
        self._figures_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._figures_label.setWordWrap(True)  # narrow docks wrap instead of clipping
        self._figures_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._figures_label.setToolTip(
            "Per-sample losses of the current model on the whole data set, using the mean\n"
            "encoding μ (no sampling): reconstruction (binary cross-entropy summed over pixels\n"
            "for a VAE, per-pixel MSE for an autoencoder), KL divergence to the prior N(0, I),\n"
            "and Total = Recon + β·KL.\n"
            f"The Training panel's figures are different: the {RUNNING.long}."
        )

        self._build_chart()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self._view, 4)
        layout.addWidget(self._figures_label)
        layout.addWidget(self._chart, 3)
        layout.addLayout(self._chart_buttons)
        self.bind()

    def bind(self) -> None:
        s = self.session
        self._on_dataset()
        self.observe(s.datasetChanged, self._on_dataset)
        self.follow_primary_model()
        self.observe(s.runFinished, self._on_run_finished)
        self.observe(s.analysis.ready, self._on_analysed)

    def _on_dataset(self) -> None:
        self._model = None
        self._asked.clear()
        self._record_when_ready = None
        self._collapse_pending = None
        self._points.clear()
        self._collapsed.clear()
        self._redraw_points()
        ds = self.session.dataset
        self._image_shape = ds.image_shape
        self._example_index = pick_examples(ds.labels, len(ds))
        self._examples = ds.images[self._example_index]
        self._refresh()

    def refresh(self) -> None:
        """Show the session's primary model and its latest report (if on screen)."""
        self.show_primary_model(self.show_model)

    def _on_run_finished(self, slot: str) -> None:
        """A VAE run reached its epochs: its figures become the point for its β."""
        history = self.session.history(slot)
        model = self.session.model(slot)
        if slot == Slot.VAE and history and model is not None:
            self.show_model(model, history[-1])
            if self._figures_model is model:
                self.record_current()
            else:  # figures computed in the background: record them when they arrive
                self._record_when_ready = model

    # ------------------------------------------------------------------ construction
    def _build_images(self) -> None:
        view = pg.GraphicsLayoutWidget()
        view.setBackground("w")
        view.setMinimumHeight(150)
        view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        view.setToolTip(
            "Top: data images and, below each, its reconstruction (quality).\n"
            "Bottom: images decoded from random z ~ N(0, I) (diversity)."
        )
        ci = view.ci
        ci.setContentsMargins(2, 2, 2, 2)
        ci.setSpacing(2)
        ci.addLabel(
            "Originals (top) and reconstructions (bottom): quality",
            row=0,
            col=0,
            color="#333333",
            size="9pt",
        )
        recon_vb = ci.addViewBox(
            row=1, col=0, lockAspect=True, invertY=True, enableMouse=False, enableMenu=False
        )
        ci.addLabel("Random generations: diversity", row=2, col=0, color="#333333", size="9pt")
        gen_vb = ci.addViewBox(
            row=3, col=0, lockAspect=True, invertY=True, enableMouse=False, enableMenu=False
        )
        ci.layout.setRowStretchFactor(1, 2)
        ci.layout.setRowStretchFactor(3, 1)
        self._view = view
        self._recon_strip = Mosaic(recon_vb)
        self._gen_strip = Mosaic(gen_vb)

    def _build_chart(self) -> None:
        chart = pg.PlotWidget()
        chart.setBackground("w")
        chart.setMinimumHeight(160)
        plot = chart.getPlotItem()
        plot.setTitle("Rate-distortion (one point per β)", color="#333333", size="10pt")
        plot.setLabel("bottom", "KL (rate), nats per sample")
        plot.setLabel("left", "Recon (distortion)")
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)  # the range follows the points (_fit_chart)
        plot.hideButtons()
        chart.setToolTip(
            "Each filled point is a β you trained: KL (rate, how much the code says about\n"
            "the image) against reconstruction error (distortion). Low β: high rate, low\n"
            "distortion; high β: low rate, blurrier reconstructions.\n"
            "A red cross is a β whose latent collapsed (no dim carries information).\n"
            "The hollow orange ring is the model being shown right now."
        )
        self._curve = pg.PlotDataItem(
            pen=pg.mkPen((150, 150, 150), width=1, style=Qt.PenStyle.DashLine)
        )
        plot.addItem(self._curve)
        self._scatter = pg.ScatterPlotItem(
            size=9, brush=pg.mkBrush(POINT_COLOR), pen=pg.mkPen("w", width=1)
        )
        plot.addItem(self._scatter)
        self._collapsed_scatter = pg.ScatterPlotItem(
            size=13, symbol="x", brush=pg.mkBrush(COLLAPSE_COLOR), pen=pg.mkPen(None))
        plot.addItem(self._collapsed_scatter)
        self._collapse_label = pg.TextItem("", color=COLLAPSE_COLOR, anchor=(-0.08, -0.3))
        self._collapse_label.setVisible(False)
        plot.addItem(self._collapse_label)
        self._now = pg.ScatterPlotItem(
            size=14, brush=pg.mkBrush(None), pen=pg.mkPen(NOW_COLOR, width=2)
        )
        plot.addItem(self._now)
        self._chart = chart
        self._plot = plot

        self._record_button = QPushButton("Add current β")
        self._record_button.setToolTip("Pin the shown model's figures as the point for its β.")
        self._record_button.clicked.connect(self.record_current)
        self._clear_button = QPushButton("Clear points")
        self._clear_button.setToolTip("Remove every point from the rate-distortion chart.")
        self._clear_button.clicked.connect(self.clear_points)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self._record_button)
        buttons.addWidget(self._clear_button)
        self._chart_buttons = buttons

    # ------------------------------------------------------------------ public API
    @property
    def figures(self) -> Any:
        """The LossReport behind the shown figures (``model.evaluate(images, beta=β)``)."""
        return self._figures

    @property
    def beta(self) -> float:
        """β used for the shown figures (the latest report's β; 1.0 before any report)."""
        return self._beta

    @property
    def example_indices(self) -> np.ndarray:
        """Indices into the data set of the originals shown."""
        return self._example_index.copy()

    @property
    def points(self) -> dict[float, tuple[float, float]]:
        """Rate-distortion points: {β rounded to 3 digits: (recon, kl)}, sorted by β."""
        return dict(sorted(self._points.items()))

    def shown_images(self) -> dict[str, np.ndarray]:
        """The images drawn right now, read back from the mosaics: ``originals``,
        ``reconstructions`` and ``generations``, each (n, H*W); empty before a model."""
        shown: dict[str, np.ndarray] = {}
        recon_grid = self._recon_strip.item.image
        if recon_grid is not None:
            tiles = untile(np.asarray(recon_grid), self._image_shape)
            half = tiles.shape[0] // 2
            shown["originals"] = tiles[:half]
            shown["reconstructions"] = tiles[half:]
        gen_grid = self._gen_strip.item.image
        if gen_grid is not None:
            shown["generations"] = untile(np.asarray(gen_grid), self._image_shape)
        return shown

    def collapsed_betas(self) -> list[float]:
        """The recorded βs whose model had no active latent dim, ascending."""
        return sorted(self._collapsed)

    def collapse_label_text(self) -> str:
        """The chart's collapse annotation ("" when no point collapsed)."""
        return self._collapse_label.toPlainText() if self._collapsed else ""

    def plotted_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(x = KL, y = reconstruction) of the recorded points as drawn on the chart."""
        x, y = self._scatter.getData()
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def show_model(self, model: Any, report: Any = None) -> None:
        """Show ``model`` (an independent snapshot, GUI thread). ``report`` is the latest
        EpochReport or None; its β is used for the figures."""
        self._model = model
        if report is not None:
            self._beta = float(report.beta)
        self._refresh()

    def resample_generations(self) -> None:
        """Decode a new random set of z for the generations row."""
        self._generation_seed = int(np.random.SeedSequence().generate_state(1)[0])
        self._refresh()

    def record_point(self, beta: float, recon: float, kl: float,
                     collapsed: bool = False) -> None:
        """Add (or replace) the rate-distortion point for ``beta`` (rounded to 3 digits);
        ``collapsed``: its model had no active latent dim."""
        values = (float(beta), float(recon), float(kl))
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"rate-distortion point must be finite, got {values}")
        key = round(values[0], 3)
        self._points[key] = (values[1], values[2])
        if collapsed:
            self._collapsed.add(key)
        else:
            self._collapsed.discard(key)
        self._redraw_points()

    def record_current(self) -> None:
        """Record the shown figures as the point for the current β (marked collapsed once
        the diagnostics of their model say so: on a large data set they follow from the
        worker, and the point is redrawn then)."""
        model, figures = self._figures_model, self._figures
        if figures is None:
            return
        found = self.session.analysis.diagnose(model)
        self._collapse_pending = None if found is not None else \
            (model, self._beta, figures.recon, figures.kl)
        latents = None if found is None else found.latents
        collapsed = latents is not None and latents.fully_collapsed
        self.record_point(self._beta, figures.recon, figures.kl, collapsed)

    def export_chart_png(self, path: str, width: int = 1000) -> None:
        """Write the rate-distortion chart as a PNG ``width`` pixels wide (height follows
        the chart's aspect), atomically; never opens a dialog."""
        if width < 1:
            raise ValueError(f"export width must be positive, got {width}")
        exporter = ImageExporter(self._plot)
        params = exporter.parameters()
        params["width"] = int(width)
        params["background"] = pg.mkColor("w")
        atomic_write_path(path, exporter.export)

    def clear_points(self) -> None:
        """Remove every rate-distortion point."""
        self._points.clear()
        self._collapsed.clear()
        self._redraw_points()

    # ------------------------------------------------------------------ internals
    def _refresh(self) -> None:
        model = self._model
        analysis = self.session.analysis
        if model is None or self._examples is None:
            self._set_figures(None, None)
            return
        if not analysis.fits(model):
            self._recon_strip.clear()
            self._gen_strip.clear()
            self._figures = self._figures_model = None
            self._now.setData([], [])
            self._update_texts(
                f"This model expects {model.input_dim} pixels per image; "
                f"the data has {analysis.dataset.images.shape[1]}."
            )
            return
        n = self._examples.shape[0]
        recon = np.asarray(model.reconstruct(self._examples), dtype=np.float32)
        both = np.concatenate([self._examples, recon], axis=0)
        self._recon_strip.show(both, self._image_shape, 2, max(1, n))
        rng = np.random.default_rng(self._generation_seed)
        _, generated = model.sample(n, temperature=1.0, rng=rng)
        self._gen_strip.show(np.asarray(generated, dtype=np.float32), self._image_shape, 1,
                             max(1, n))
        figures = analysis.evaluate(model, self._beta)
        if figures is None:  # on the worker: the figures before stay until it answers
            self._asked.add(model)
            self._update_texts()
        else:
            self._set_figures(model, figures)

    def _on_analysed(self, what: str, subject: object) -> None:
        pending = self._collapse_pending
        if what == "diagnostics" and pending is not None and pending[0] is subject:
            self._collapse_pending = None
            found = self.session.analysis.diagnose(subject)
            if found is not None and found.latents is not None:
                self.record_point(*pending[1:], found.latents.fully_collapsed)
        if what != "evaluation" or not isinstance(subject, Model) \
                or not self._asked.settle(subject):
            return
        figures = self.session.analysis.evaluate(subject, self._beta)
        if figures is not None:
            self._set_figures(subject, figures)
            if self._record_when_ready is subject:
                self._record_when_ready = None
                self.record_current()

    def _set_figures(self, model: Any, figures: Any) -> None:
        """Show ``figures`` (a LossReport of ``model``, or None for none)."""
        self._figures, self._figures_model = figures, model
        if figures is not None and self._is_vae(model):
            self._now.setData([figures.kl], [figures.recon])
        else:
            self._now.setData([], [])
        self._fit_chart()
        self._update_texts()

    @staticmethod
    def _is_vae(model: Any) -> bool:
        return has_kl(model.kind)

    def _update_texts(self, message: str | None = None) -> None:
        self._heading.setText(f"β = {self._beta:.3g}")
        f = self._figures
        if message is not None:
            text = message
        elif f is None:
            text = "Figures appear once a model is trained."
        elif self._is_vae(self._figures_model):
            text = (
                f"Recon: {f.recon:.2f}    KL: {f.kl:.2f}    Total: {f.total:.2f}"
                f"    (β = {self._beta:.3g}, per sample; {AT_MU.short}{self._sample_note()})"
            )
        else:
            text = (
                f"Recon (MSE per pixel): {f.recon:.4f}    KL: none (plain autoencoder,"
                f" β has no effect; {AT_MU.short}{self._sample_note()})"
            )
        self._figures_label.setText(text)
        self._record_button.setEnabled(f is not None and self._is_vae(self._figures_model))

    def _sample_note(self) -> str:
        """", on a 10,000-image sample" when the figures are not the whole set's."""
        analysis = self.session.analysis
        n = analysis.sample_size
        return "" if n >= len(analysis.dataset) else f", on a {n:,}-image sample"

    def _redraw_points(self) -> None:
        for label in self._point_labels:
            self._plot.removeItem(label)
        self._point_labels.clear()
        items = sorted(self._points.items())
        kls = [kl for _, (_, kl) in items]
        recons = [recon for _, (recon, _) in items]
        self._scatter.setData(kls, recons)
        self._curve.setData(kls, recons)
        collapsed = [(beta, self._points[beta]) for beta in sorted(self._collapsed)]
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
            self._plot.addItem(label)
            self._point_labels.append(label)
        self._fit_chart()

    def _fit_chart(self) -> None:
        """Frame the recorded points and the live marker, KL from 0, with room for labels.

        Autorange would zoom into a single point until the tick labels are 15 digits long,
        so the range is set here with a minimum span."""
        xs = [kl for recon, kl in self._points.values()]
        ys = [recon for recon, kl in self._points.values()]
        now_x, now_y = self._now.getData()
        xs += [float(v) for v in now_x]
        ys += [float(v) for v in now_y]
        if not xs:
            self._plot.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0.0)
            return
        x_hi = max(max(xs), 1.0)
        y_lo, y_hi = min(ys), max(ys)
        min_span = max(1.0, 0.05 * max(abs(y_lo), abs(y_hi)))
        if y_hi - y_lo < min_span:
            mid = 0.5 * (y_lo + y_hi)
            y_lo, y_hi = mid - 0.5 * min_span, mid + 0.5 * min_span
        y_pad = 0.12 * (y_hi - y_lo)
        self._plot.setRange(
            xRange=(-0.08 * x_hi, 1.12 * x_hi),
            yRange=(y_lo - y_pad, y_hi + 2 * y_pad),  # extra room above for the β labels
            padding=0.0,
        )
