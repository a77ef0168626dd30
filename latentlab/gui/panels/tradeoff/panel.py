"""The β trade-off panel (the article's panel 2) with a rate-distortion chart.

Top: a fixed handful of data images (one per label when labels are known), each above its
reconstruction, then random generations, each set drawn by the shared mosaic widget (as many
tiles a row as show them largest in the panel).
Below them the per-sample figures of the current model on the whole data set,
``Recon: … KL: … Total: … (β = …)``, the session's ``model.evaluate`` (the mean encoding,
no sampling, so the figures do not flicker). Bottom: a rate-distortion chart, x = KL (rate),
y = reconstruction (distortion), collecting one point per β the user has trained
(``record_point``), plus a hollow marker for where the live model is right now (:mod:`.chart`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from latentlab.core import Model
from latentlab.core.loss_labels import AT_MU, RUNNING

from ...analysis import Asked
from ...session import LabSession
from ...slots import Slot, has_kl
from ...widgets.mosaic import MosaicView
from ..base import Panel
from .chart import RateDistortionChart

__all__ = ["TradeoffPanel", "pick_examples"]

N_SHOWN = 10
GENERATION_SEED = 2024


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
        layout.addWidget(self._recon_title)
        layout.addWidget(self._recon_view, 4)
        layout.addWidget(self._gen_title)
        layout.addWidget(self._gen_view, 2)
        layout.addWidget(self._figures_label)
        layout.addWidget(self.chart, 3)
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
        self.chart.clear_points()
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
        def title(text: str) -> QLabel:
            label = QLabel(text)
            label.setWordWrap(True)
            label.setStyleSheet("color: #333;")
            return label

        self._recon_title = title("Originals, each above its reconstruction: quality")
        self._recon_view = MosaicView(minimum=(140, 70))
        self._recon_view.setToolTip("Data images and, below each, its reconstruction.")
        self._gen_title = title("Random generations: diversity")
        self._gen_view = MosaicView(minimum=(140, 40))
        self._gen_view.setToolTip("Images decoded from random z ~ N(0, I).")

    def _build_chart(self) -> None:
        self.chart = RateDistortionChart()
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
        return dict(sorted(self.chart.points.items()))

    def shown_images(self) -> dict[str, np.ndarray]:
        """The images drawn right now, read back from the mosaics: ``originals``,
        ``reconstructions`` and ``generations``, each (n, H*W); empty before a model."""
        shown: dict[str, np.ndarray] = {}
        pairs = self._recon_view.mosaic.shown_bands()
        if pairs:
            shown["originals"], shown["reconstructions"] = pairs
        generations = self._gen_view.mosaic.shown_bands()
        if generations:
            shown["generations"] = generations[0]
        return shown

    def collapsed_betas(self) -> list[float]:
        """The recorded βs whose model had no active latent dim, ascending."""
        return sorted(self.chart.collapsed)

    def collapse_label_text(self) -> str:
        """The chart's collapse annotation ("" when no point collapsed)."""
        return self.chart.collapse_label_text()

    def plotted_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(x = KL, y = reconstruction) of the recorded points as drawn on the chart."""
        return self.chart.plotted_points()

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
        self.chart.record(beta, recon, kl, collapsed)

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
        self.chart.export_png(path, width)

    def clear_points(self) -> None:
        """Remove every rate-distortion point."""
        self.chart.clear_points()

    # ------------------------------------------------------------------ internals
    def _refresh(self) -> None:
        model = self._model
        analysis = self.session.analysis
        if model is None or self._examples is None:
            self._set_figures(None, None)
            return
        if not analysis.fits(model):
            self._recon_view.mosaic.clear()
            self._gen_view.mosaic.clear()
            self._figures = self._figures_model = None
            self.chart.show_now(None, None)
            self._update_texts(
                f"This model expects {model.input_dim} pixels per image; "
                f"the data has {analysis.dataset.images.shape[1]}."
            )
            return
        n = self._examples.shape[0]
        recon = np.asarray(model.reconstruct(self._examples), dtype=np.float32)
        self._recon_view.show_tiles([self._examples, recon], self._image_shape, n)
        rng = np.random.default_rng(self._generation_seed)
        _, generated = model.sample(n, temperature=1.0, rng=rng)
        self._gen_view.show_tiles([np.asarray(generated, dtype=np.float32)], self._image_shape,
                                  n)
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
            self.chart.show_now(figures.kl, figures.recon)
        else:
            self.chart.show_now(None, None)
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
