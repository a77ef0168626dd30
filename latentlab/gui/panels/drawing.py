"""Draw your own input: a pad at the data's image size, encoded live by the chosen model.

The drawing is the session's (:meth:`LabSession.set_drawing`), so the latent map marks
its μ and its q(z|x) σ-ellipse; this panel shows what the chosen model makes of it — its
reconstruction decode(μ), the training image nearest to the drawing and the code itself.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..session import LabSession
from ..slots import SLOT_TITLES
from ..widgets.drawing_pad import BRUSH, ERASER, DrawingPad
from ..widgets.image_view import image_view
from .base import Panel

__all__ = ["DrawingPanel"]

_NEAREST_KEY = "drawing"  # the analysis's nearest-image query of this panel


class DrawingPanel(Panel):
    """A drawing pad, and the chosen model's reconstruction and code of the drawing."""

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("drawingPanel")
        self.pad = DrawingPad(session.dataset.image_shape)
        self.pad.setObjectName("drawingPad")
        self.pad.setToolTip("Draw a digit with the left mouse button. It is encoded as you "
                            "draw: the map marks its code μ and, for the VAE, the 1σ ellipse "
                            "of q(z|x).")
        self._tools = QButtonGroup(self)
        tool_row = QHBoxLayout()
        tool_row.setContentsMargins(0, 0, 0, 0)
        for tool, text, tip in ((BRUSH, "Brush", "Draw ink"), (ERASER, "Eraser", "Remove ink")):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setChecked(tool == BRUSH)
            button.setObjectName(f"drawingTool-{tool}")
            button.clicked.connect(lambda _=False, t=tool: self.pad.set_tool(t))
            self._tools.addButton(button)
            tool_row.addWidget(button)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Start a new drawing")
        self.clear_button.clicked.connect(self.pad.clear)
        tool_row.addWidget(self.clear_button)
        tool_row.addStretch(1)

        self.recon_view, self.recon = image_view(80)
        self.nearest_view, self.nearest = image_view(80)
        self.recon_caption = QLabel("reconstruction")
        self.nearest_caption = QLabel("nearest training image")
        for caption in (self.recon_caption, self.nearest_caption):
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            caption.setStyleSheet("color: #444;")
        self.code_text = QLabel("")
        self.code_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code_text.setWordWrap(True)
        self.code_text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.code_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        results = QGridLayout()
        results.addWidget(self.recon_view, 0, 0)
        results.addWidget(self.nearest_view, 0, 1)
        results.addWidget(self.recon_caption, 1, 0)
        results.addWidget(self.nearest_caption, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(tool_row)
        layout.addWidget(self.pad, 3)
        layout.addLayout(results, 2)
        layout.addWidget(self.code_text)
        self.mu: np.ndarray | None = None  # the shown model's code of the drawing (K,)
        self.sigma: np.ndarray | None = None  # its q(z|x) σ (K,), VAE only
        self.reconstruction: np.ndarray | None = None  # (D,)
        self.nearest_index: int | None = None
        self.pad.imageChanged.connect(self._on_drawn)
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.observe(s.datasetChanged, self._on_dataset)
        self.observe(s.modelChanged, self._on_model)
        self.observe(s.primaryChanged, lambda _slot: self.refresh())
        self.observe(s.analysis.ready, self._on_analysed)
        self.refresh()

    def _on_analysed(self, what: str, subject: object) -> None:
        if what == "nearest" and subject == _NEAREST_KEY:
            self._show_nearest()

    def _on_dataset(self) -> None:
        self.pad.set_image_shape(self.session.dataset.image_shape)  # → _on_drawn (blank)

    def _on_model(self, slot: str) -> None:
        if slot == self.session.primary_slot and self.is_seen():
            self.refresh()

    def _on_drawn(self, image: np.ndarray) -> None:
        self.session.set_drawing(None if self.pad.is_blank() else image)
        self.refresh()

    def refresh(self) -> None:
        """Encode the drawing with the chosen model and show what it makes of it."""
        slot = self.session.primary_slot
        model = self.session.model(slot)
        ds = self.session.dataset
        if model is None or self.pad.is_blank() or not self.session.analysis.fits(model):
            self.mu = self.sigma = self.reconstruction = None
            self.nearest_index = None
            self.recon.clear()
            self.nearest.clear()
            self.code_text.setText("Draw in the box above." if model is not None else
                                   f"The {SLOT_TITLES[slot]} is not trained yet.")
            return
        image = self.pad.image()
        mu, log_var = model.encode(image[None, :])
        self.mu = mu[0].astype(np.float64)
        self.sigma = None if log_var is None else np.exp(0.5 * log_var[0].astype(np.float64))
        self.reconstruction = model.decode(mu)[0]
        self.recon.setImage(self.reconstruction.reshape(ds.image_shape), levels=(0.0, 1.0),
                            autoLevels=False)
        self.recon_caption.setText(f"{SLOT_TITLES[slot]}'s reconstruction")
        self._show_nearest()
        coords = ", ".join(f"{v:+.2f}" for v in self.mu)
        text = f"μ = ({coords})" if self.sigma is not None else f"z = ({coords})"
        if self.sigma is not None:
            text += "\nσ = (" + ", ".join(f"{v:.2f}" for v in self.sigma) + ")"
        self.code_text.setText(text)

    def _show_nearest(self) -> None:
        """The training image nearest to the drawing (searched on the worker; shown when
        it arrives)."""
        if self.reconstruction is None:
            return
        ds = self.session.dataset
        nearest = self.session.analysis.nearest(self.pad.image(), key=_NEAREST_KEY)
        if nearest is None:
            return  # ready("nearest", _NEAREST_KEY) brings it
        self.nearest_index = nearest.index
        self.nearest.setImage(ds.images[nearest.index].reshape(ds.image_shape),
                              levels=(0.0, 1.0), autoLevels=False)
        label = "" if ds.labels is None else \
            f", label {ds.label_name(int(ds.labels[nearest.index]))}"
        self.nearest_caption.setText(f"nearest training image\n#{nearest.index}{label} "
                                     f"(distance {nearest.distance:.2f})")
