"""Generation gallery: samples decoded from z ~ N(0, T²·I) (the article's panel 3).

The panel keeps one matrix of latent codes ``z`` (n, K) and re-decodes it whenever a new
model snapshot arrives, so a person watches the *same* samples sharpen while the model
trains. ``z`` is only redrawn when the user asks for it: Resample, a new temperature,
sample count or seed, or a model with a different latent size.

Every draw goes through the core's ``model.sample(n, temperature, rng)`` with
``rng = np.random.default_rng(seed)``. With "fixed seed" ticked the seed is the one in the
seed box (so the gallery is reproducible); otherwise it is a private random seed that
Resample replaces.

All images are tiled into the shared mosaic widget (:mod:`latentlab.gui.widgets.mosaic`).
Clicking a tile makes its z the session's current point (and emits ``latentPicked``). The
panel shows the session's primary model when it settles, and only while it is on screen.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latentlab.core import limits
from latentlab.core.vqvae import VQVAE

from ..session import LabSession
from ..widgets.flow_layout import FlowLayout
from ..widgets.mosaic import MosaicView
from .base import Panel

__all__ = ["GalleryPanel"]

SAMPLE_COUNTS = (16, 25, 36, 64)
T_MIN, T_MAX = 0.1, 3.0
_SLIDER_STEPS_PER_UNIT = 100  # slider ticks are hundredths of T
_SEED_MAX = int(limits.SEED.high)
HIGHLIGHT_COLOR = (255, 165, 0)


class GalleryPanel(Panel):
    """Grid of samples decoded from z ~ N(0, T²·I) with temperature, resample and seed controls.

    Signals
    -------
    latentPicked(object)
        Emitted when a tile is clicked, with that tile's latent code, a float array of shape (K,).
    """

    latentPicked = Signal(object)  # noqa: N815, RUF100 (Qt signal naming)

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self._model: Any = None
        self._z: np.ndarray | None = None  # (n, K)
        self._codes: np.ndarray | None = None  # (n,) the codes a VQ-VAE's samples are
        self._images: np.ndarray | None = None  # (n, D)
        self._image_shape: tuple[int, int] = (8, 8)
        self._grid = 4
        self._random_seed = self._new_seed()
        self._selected: int | None = None

        self._build_controls()
        self._build_view()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(self._controls_row1)
        layout.addLayout(self._controls_row2)
        layout.addWidget(self._caption)
        layout.addWidget(self._view, 1)
        self._update_caption()
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.set_image_shape(s.dataset.image_shape)
        self.observe(s.datasetChanged, self._on_dataset)
        self.follow_primary_model()

    def _on_dataset(self) -> None:
        self.clear()
        self.set_image_shape(self.session.dataset.image_shape)

    def refresh(self) -> None:
        """Show the session's primary model (if the panel is on screen)."""
        model = self.session.model(self.session.primary_slot)
        if model is None:
            self.clear()
        elif self.is_seen():
            self.show_model(model)

    # ------------------------------------------------------------------ construction
    def _build_controls(self) -> None:
        self._count_box = QComboBox()
        for n in SAMPLE_COUNTS:
            self._count_box.addItem(f"{n} samples", n)
        self._count_box.setToolTip("How many samples to show (a square grid in exports; on "
                                   "screen, as many a row as shows them largest).")
        self._count_box.currentIndexChanged.connect(self._on_count_changed)

        self._t_slider = QSlider(Qt.Orientation.Horizontal)
        self._t_slider.setRange(
            round(T_MIN * _SLIDER_STEPS_PER_UNIT), round(T_MAX * _SLIDER_STEPS_PER_UNIT)
        )
        self._t_slider.setValue(_SLIDER_STEPS_PER_UNIT)
        self._t_slider.setToolTip(
            "Temperature T: samples are decoded from z ~ N(0, T²·I).\n"
            "Low T stays near the centre of the latent space (typical, similar digits);\n"
            "high T reaches far out (diverse, often garbled digits)."
        )
        self._t_slider.setMinimumWidth(80)
        self._t_slider.valueChanged.connect(self._on_slider_changed)

        self._t_box = QDoubleSpinBox()
        self._t_box.setRange(T_MIN, T_MAX)
        self._t_box.setDecimals(2)
        self._t_box.setSingleStep(0.05)
        self._t_box.setValue(1.0)
        self._t_box.setToolTip("Temperature T (0.1 to 3): the standard deviation of the sampled z.")
        self._t_box.valueChanged.connect(self._on_t_box_changed)

        self._resample_button = QPushButton("Resample")
        self._resample_button.setToolTip(
            "Draw new latent codes z. With a fixed seed, a new seed is picked and shown."
        )
        self._resample_button.clicked.connect(self.resample)

        self._fixed_box = QCheckBox("Fixed seed")
        self._fixed_box.setToolTip(
            "Draw z from the seed on the right, so the same seed always gives the same samples."
        )
        self._fixed_box.toggled.connect(self._on_fixed_toggled)

        self._seed_box = QSpinBox()
        self._seed_box.setRange(0, _SEED_MAX)
        self._seed_box.setValue(0)
        self._seed_box.setEnabled(False)
        self._seed_box.setToolTip("Random seed used for z when 'Fixed seed' is ticked.")
        self._seed_box.valueChanged.connect(self._on_seed_changed)

        t_label = QLabel("T")
        t_label.setToolTip(self._t_slider.toolTip())

        row1 = QHBoxLayout()
        row1.addWidget(t_label)
        row1.addWidget(self._t_slider, 1)
        row1.addWidget(self._t_box)
        row2 = FlowLayout()  # wraps in a narrow dock instead of scrolling it sideways
        for widget in (self._count_box, self._resample_button, self._fixed_box,
                       self._seed_box):
            row2.addWidget(widget)
        self._controls_row1 = row1
        self._controls_row2 = row2

        self._caption = QLabel()
        self._caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption.setWordWrap(True)
        self._caption.setToolTip("Click a sample to show its z on the latent map.")

    def _build_view(self) -> None:
        view = MosaicView()
        view.setToolTip("Click a sample to show its latent code z on the latent map.")
        highlight = QGraphicsRectItem()
        pen = pg.mkPen(HIGHLIGHT_COLOR, width=2)
        pen.setCosmetic(True)
        highlight.setPen(pen)
        highlight.setBrush(Qt.BrushStyle.NoBrush)
        highlight.setVisible(False)
        view.view_box.addItem(highlight)
        view.scene().sigMouseClicked.connect(self._on_scene_clicked)
        view.arranged.connect(self._place_highlight)
        self._view = view
        self._mosaic = view.mosaic
        self.view_box = view.view_box
        self.image_item = view.mosaic.item
        self._highlight = highlight

    # ------------------------------------------------------------------ public API
    @property
    def z(self) -> np.ndarray | None:
        """Copy of the current latent codes, shape (n, K), or None before a model arrives."""
        return None if self._z is None else self._z.copy()

    @property
    def images(self) -> np.ndarray | None:
        """Copy of the currently shown decoded samples, shape (n, D)."""
        return None if self._images is None else self._images.copy()

    @property
    def temperature(self) -> float:
        return float(self._t_box.value())

    @property
    def sample_count(self) -> int:
        return self._grid * self._grid

    @property
    def fixed_seed(self) -> int | None:
        """The user's seed when 'Fixed seed' is ticked, else None."""
        return int(self._seed_box.value()) if self._fixed_box.isChecked() else None

    @property
    def current_seed(self) -> int:
        """Seed of the generator that drew the current z."""
        fixed = self.fixed_seed
        return self._random_seed if fixed is None else fixed

    def set_image_shape(self, image_shape: tuple[int, int]) -> None:
        """Set the (H, W) of one decoded image (default 8x8); H*W must equal the model's D."""
        self._image_shape = (int(image_shape[0]), int(image_shape[1]))
        self._refresh_image()

    def set_temperature(self, temperature: float) -> None:
        """Set T (clipped to 0.1..3); redraws z."""
        self._t_box.setValue(float(np.clip(temperature, T_MIN, T_MAX)))

    def set_sample_count(self, n: int) -> None:
        """Show ``n`` samples; ``n`` must be one of 16, 25, 36, 64."""
        if n not in SAMPLE_COUNTS:
            raise ValueError(f"sample count must be one of {SAMPLE_COUNTS}, got {n}")
        self._count_box.setCurrentIndex(SAMPLE_COUNTS.index(n))

    def set_fixed_seed(self, enabled: bool, seed: int | None = None) -> None:
        """Tick or untick 'Fixed seed', optionally setting the seed; redraws z."""
        if seed is not None:
            self._seed_box.blockSignals(True)
            self._seed_box.setValue(int(seed))
            self._seed_box.blockSignals(False)
        if self._fixed_box.isChecked() == enabled:
            self._draw()
        else:
            self._fixed_box.setChecked(enabled)

    def resample(self) -> None:
        """Draw new z. With a fixed seed, a new seed is chosen and shown in the seed box."""
        if self._fixed_box.isChecked():
            self._seed_box.setValue(self._new_seed())  # valueChanged redraws
        else:
            self._random_seed = self._new_seed()
            self._draw()

    def show_model(self, model: Any) -> None:
        """Show samples from ``model`` (an independent snapshot; call on the GUI thread).

        The current z is kept and only re-decoded, so the same samples evolve as training goes
        on; z is redrawn when the model's latent size or kind differs.
        """
        kind_changed = getattr(self._model, "kind", None) != model.kind
        self._model = model
        # Another kind draws z differently (a VQ-VAE draws code vectors): draw afresh.
        if self._z is None or self._z.shape[1] != model.latent_dim or kind_changed:
            self._draw()
            return
        if isinstance(model, VQVAE):  # the same codes, wherever the codebook moved them
            if self._codes is None or self._codes.max(initial=0) >= model.n_codes:
                self._draw()
                return
            self._z = model.codebook[self._codes].copy()
        self._images = np.asarray(model.decode(self._z), dtype=np.float32)
        self._refresh_image()

    def clear(self) -> None:
        """Forget the model and show nothing."""
        self._model = None
        self._z = None
        self._codes = None
        self._images = None
        self._selected = None
        self._mosaic.clear()
        self._highlight.setVisible(False)
        self._update_caption()

    def tile_at(self, x: float, y: float) -> int | None:
        """Index of the tile containing view point (x, y) (image pixels), or None if outside."""
        return None if self._z is None else self._mosaic.tile_at(x, y)

    def tile_rect(self, index: int) -> QRectF:
        """Rectangle of tile ``index`` in view coordinates (image pixels)."""
        return self._mosaic.tile_rect(index)

    def select_tile(self, index: int) -> None:
        """Mark tile ``index`` and emit ``latentPicked`` with its z."""
        if self._z is None or not 0 <= index < self._z.shape[0]:
            raise IndexError(f"no sample {index} in the gallery")
        self._selected = int(index)
        self._place_highlight()
        z = self._z[index].copy()
        self.session.pick_latent(z)
        self.latentPicked.emit(z)

    def export_png(self, path: str | Path, scale: int = 16) -> Path:
        """Write the mosaic as a PNG, ``scale`` screen pixels per image pixel.

        The PNG is (rows*H*scale) high and (cols*W*scale) wide. Raises ``RuntimeError`` when
        there is nothing to export and ``OSError`` when the file cannot be written.
        """
        if self._images is None:
            raise RuntimeError("The gallery is empty: train or load a model first.")
        was_visible = self._highlight.isVisible()
        self._highlight.setVisible(False)  # the selection outline is not part of the figure
        try:
            return self._mosaic.export_png(path, scale, "gallery")
        finally:
            self._highlight.setVisible(was_visible)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _new_seed() -> int:
        return int(np.random.SeedSequence().generate_state(1)[0] & _SEED_MAX)

    def _draw(self) -> None:
        """Draw a fresh z for the current settings and decode it."""
        if self._model is None:
            self._update_caption()
            return
        rng = np.random.default_rng(self.current_seed)
        z, images = self._model.sample(self.sample_count, temperature=self.temperature, rng=rng)
        self._z = np.asarray(z)
        self._codes = self._model.quantise(self._z) if isinstance(self._model, VQVAE) else None
        self._images = np.asarray(images, dtype=np.float32)
        self._selected = None
        self._highlight.setVisible(False)
        self._refresh_image()

    def _refresh_image(self) -> None:
        self._update_caption()
        if self._images is None:
            return
        h, w = self._image_shape
        if self._images.shape[1] != h * w:
            side = math.isqrt(self._images.shape[1])
            if side * side != self._images.shape[1]:
                raise ValueError(
                    f"decoded images have {self._images.shape[1]} pixels; "
                    "call set_image_shape((H, W)) first"
                )
            self._image_shape = (side, side)
            h, w = side, side
        self._view.show_tiles([self._images], self._image_shape, self._grid)

    def _place_highlight(self) -> None:
        if self._selected is None:
            self._highlight.setVisible(False)
            return
        self._highlight.setRect(self.tile_rect(self._selected))
        self._highlight.setVisible(True)

    def _update_caption(self) -> None:
        t = self.temperature
        n = self.sample_count
        dist = "N(0, I)" if abs(t - 1.0) < 1e-9 else f"N(0, {t:.2f}²·I)"
        if self._model is None:
            text = f"{n} samples from z ~ {dist} will appear once a model is trained."
        elif isinstance(self._model, VQVAE):
            how = "by their usage" if abs(t - 1.0) < 1e-9 else f"∝ usage^(1/{t:.2f})"
            text = f"{n} codes drawn {how}  ·  VQ-VAE (no learned prior)"
        else:
            kind = str(getattr(self._model, "kind", "")).upper()
            text = f"{n} samples from z ~ {dist}" + (f"  ·  {kind}" if kind else "")
        self._caption.setText(text)

    # ------------------------------------------------------------------ slots
    def _on_slider_changed(self, value: int) -> None:
        t = value / _SLIDER_STEPS_PER_UNIT
        if abs(self._t_box.value() - t) > 1e-9:
            self._t_box.setValue(t)  # the box's valueChanged redraws

    def _on_t_box_changed(self, value: float) -> None:
        tick = round(value * _SLIDER_STEPS_PER_UNIT)
        if self._t_slider.value() != tick:
            self._t_slider.blockSignals(True)
            self._t_slider.setValue(tick)
            self._t_slider.blockSignals(False)
        self._draw()

    def _on_count_changed(self, index: int) -> None:
        self._grid = math.isqrt(SAMPLE_COUNTS[index])
        self._draw()

    def _on_fixed_toggled(self, checked: bool) -> None:
        self._seed_box.setEnabled(checked)
        self._draw()

    def _on_seed_changed(self, _value: int) -> None:
        if self._fixed_box.isChecked():
            self._draw()

    def _on_scene_clicked(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double() or self._z is None:
            return
        p = self.view_box.mapSceneToView(ev.scenePos())
        index = self.tile_at(p.x(), p.y())
        if index is not None:
            ev.accept()
            self.select_tile(index)
