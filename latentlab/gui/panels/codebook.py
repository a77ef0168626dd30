"""The Codebook panel: a VQ-VAE's codes, what each one decodes to and how much it is used.

Every code of the autoencoder slot's VQ-VAE is decoded into one thumbnail (the shared
mosaic widget); beneath, how many images of the data set snap to each code, with the
perplexity ``exp(H(usage))``, the used and dead codes and how many dead codes training
re-seeded. Clicking a thumbnail (or a bar) highlights that code: the session passes it to
the latent map, which marks the code's cell and its images. The figures are refreshed at
the session's slow tier (``modelSettled``), so they move live while the VQ-VAE trains.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from latentlab.core.vqvae import VQVAE, CodeUsage

from ..analysis import Asked
from ..session import LabSession
from ..slots import Slot
from ..widgets.mosaic import MosaicView
from .base import Panel

__all__ = ["CodebookPanel"]

BAR_COLOUR = "#7f9fbf"
HIGHLIGHT_COLOUR = "#d4a000"
_EMPTY = ("No VQ-VAE yet: choose <b>VQ-VAE</b> as the model in the Training panel and press "
          "Start.")


class CodebookPanel(Panel):
    """Thumbnails of every code, a usage histogram and the codebook's figures."""

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("codebookPanel")
        self.model: VQVAE | None = None
        self.counts = np.zeros(0, dtype=np.int64)
        self._asked = Asked()  # snapshots whose code usage the worker has not sent yet
        self.heading = QLabel(_EMPTY)
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)

        # Up to 1024 codes: an overview that fits the panel, not a column to scroll.
        self.thumbnails = MosaicView(separator_width=1, minimum=(140, 140), min_tile=0)
        self.thumbnails.setToolTip("Every code decoded, row by row from code 0. Click one to "
                                   "mark its cell and the images that snap to it on the map.")
        self.thumbnails.scene().sigMouseClicked.connect(self._on_thumbnail_clicked)
        self.thumbnails.arranged.connect(lambda: self._show_highlight(
            self.session.highlighted_code))
        pen = pg.mkPen(HIGHLIGHT_COLOUR, width=3)
        pen.setCosmetic(True)
        self._frame = QGraphicsRectItem()
        self._frame.setPen(pen)
        self._frame.setVisible(False)
        self._frame.setZValue(5)
        self.thumbnails.view_box.addItem(self._frame)

        self.usage = pg.PlotWidget(background="w")
        self.usage.setMinimumHeight(110)
        plot = self.usage.getPlotItem()
        plot.setLabel("bottom", "code")
        plot.setLabel("left", "images")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.85, brush=BAR_COLOUR, pen=None)
        plot.addItem(self.bars)
        self.usage.setToolTip("How many images of the data set snap to each code (click a bar "
                              "to highlight its code)")
        self.usage.scene().sigMouseClicked.connect(self._on_usage_clicked)

        note = QLabel("Generation (Gallery) draws codes by how often training used them: a "
                      "VQ-VAE has no learned prior over its codes.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addWidget(self.thumbnails, 3)
        layout.addWidget(self.usage, 2)
        layout.addWidget(note)
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.observe(s.modelSettled, self._on_settled)
        self.observe(s.datasetChanged, self.refresh)
        self.observe(s.codeHighlighted, self._show_highlight)
        self.observe(s.analysis.ready, self._on_analysed)
        self.refresh()

    def _on_settled(self, slot: str) -> None:
        if slot == Slot.AE and self.is_seen():
            self.refresh()

    # -- what it shows ------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the autoencoder slot's model if it is a VQ-VAE, else say how to get one."""
        model = self.session.model(Slot.AE)
        if not isinstance(model, VQVAE) or not self.session.analysis.fits(model):
            self.model = None
            self.counts = np.zeros(0, dtype=np.int64)
            self.heading.setText(_EMPTY)
            self.thumbnails.mosaic.clear()
            self.bars.setOpts(x=[], height=[])
            self._show_highlight(None)
            return
        self.model = model
        k = model.n_codes
        self.thumbnails.show_tiles([model.decode_codes(np.arange(k))],
                                   self.session.dataset.image_shape, math.ceil(math.sqrt(k)))
        found = self.session.analysis.code_assignment(model)
        if found is None:  # on the worker: the usage follows (_on_analysed)
            self._asked.add(model)
            return
        self._show_usage(model, found.usage)

    def _on_analysed(self, what: str, subject: object) -> None:
        if what == "assignment" and isinstance(subject, VQVAE) and self._asked.settle(subject):
            found = self.session.analysis.code_assignment(subject)
            if found is not None and self.model is not None:
                self._show_usage(subject, found.usage)

    def _show_usage(self, model: VQVAE, usage: CodeUsage) -> None:
        k = model.n_codes
        self.counts = usage.counts
        n = int(usage.counts.sum())
        self.heading.setText(
            f"<b>{k} codes</b> of {model.latent_dim} dims on {n:,} images: perplexity "
            f"<b>{usage.perplexity:.1f}</b> · used <b>{usage.used}</b> · dead (no image) "
            f"<b>{k - usage.used}</b> · re-seeded during training "
            f"<b>{model.dead_codes_reseeded}</b>")
        self.heading.setToolTip(
            "Perplexity exp(H(p)), p = share of the images per code: K when every code is "
            "used equally, 1 when one code takes every image. Training moves a code no "
            f"image chose in a window of {VQVAE.WINDOW_SAMPLES_PER_CODE}·K samples onto a "
            "recent encoder output (re-seeded).")
        self._draw_bars()
        self._show_highlight(self.session.highlighted_code)

    def _draw_bars(self) -> None:
        highlighted = self.session.highlighted_code
        brushes = [pg.mkBrush(HIGHLIGHT_COLOUR if i == highlighted else BAR_COLOUR)
                   for i in range(len(self.counts))]
        self.bars.setOpts(x=np.arange(len(self.counts)), height=self.counts, brushes=brushes)
        top = max(1, int(self.counts.max(initial=0)))
        self.usage.getPlotItem().getViewBox().setRange(
            xRange=(-0.7, len(self.counts) - 0.3), yRange=(0, top * 1.08), padding=0)

    def tile_rect(self, code: int) -> QRectF:
        """Thumbnail ``code``'s rectangle in the mosaic's coordinates (image pixels)."""
        return self.thumbnails.mosaic.tile_rect(code)

    def _show_highlight(self, code: int | None) -> None:
        shown = self.model is not None and code is not None and code < self.model.n_codes
        if shown and code is not None:
            self._frame.setRect(self.tile_rect(code))
        self._frame.setVisible(shown)
        if self.model is not None:
            self._draw_bars()

    # -- clicks ---------------------------------------------------------------------------
    def code_at(self, x: float, y: float) -> int | None:
        """The code whose thumbnail holds mosaic point (x, y), if any."""
        return None if self.model is None else self.thumbnails.mosaic.tile_at(x, y)

    def pick(self, code: int | None) -> None:
        """Highlight ``code`` (again: highlight nothing)."""
        same = code is not None and code == self.session.highlighted_code
        self.session.highlight_code(None if same else code)

    def _on_thumbnail_clicked(self, event) -> None:  # pyqtgraph MouseClickEvent
        if event.button() != Qt.MouseButton.LeftButton:
            return
        p = self.thumbnails.view_box.mapSceneToView(event.scenePos())
        code = self.code_at(p.x(), p.y())
        if code is not None:
            event.accept()
            self.pick(code)

    def _on_usage_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.model is None:
            return
        p = self.usage.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        code = round(p.x())
        if 0 <= code < self.model.n_codes:
            event.accept()
            self.pick(code)
