"""Help ▸ Tour of the article: six steps that set the window up and say what to look at.

Each step is a title, a text that cites only what was measured (:mod:`latentlab.core.claims`,
docs/claims.md) and a ``setup(window)`` made of the same public calls the tests use (map
mode, the manifold action, the interpolation pickers, a β retrain, the gallery's
temperature, the drawing pad). :class:`TourDialog` walks them; a test walks it end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.claims import (
    AE_GAP_OFF_RANGE,
    AE_REGION_ON_RANGE,
    VAE_GAP_OFF_RANGE,
    collapse_advice,
)

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["TOUR", "TourDialog", "TourStep"]

#: β of the collapse step: above every measured collapse threshold (3–3.75).
COLLAPSE_BETA = 4.0
#: A hand-drawn 7 for the last step, as canvas points of an 8×8 pad.
SAMPLE_STROKE = [(1.5, 1.5), (6.0, 1.5), (3.0, 7.0)]


@dataclass(frozen=True)
class TourStep:
    title: str
    text: str
    setup: Callable[[MainWindow], Any]


def _raise(window: MainWindow, name: str) -> None:
    dock = window.docks[name]
    dock.show()
    dock.raise_()


def _gaps(window: MainWindow) -> None:
    window.session.set_map_mode("both")
    action = window.panels["map"].manifold_action  # type: ignore[attr-defined]
    if not action.isChecked():
        action.trigger()


def _interpolate(window: MainWindow) -> None:
    window.session.set_map_mode("vae")
    panel: Any = window.panels["interpolation"]
    panel.pick_label("a", 3)
    panel.pick_label("b", 7)
    _raise(window, "interpolation")


def _tradeoff(window: MainWindow) -> None:
    window.session.set_map_mode("vae")
    _raise(window, "tradeoff")


def _collapse(window: MainWindow) -> None:
    window.session.set_map_mode("vae")
    panel: Any = window.panels["training"]
    panel.beta_mode.setCurrentIndex(panel.beta_mode.findData("scratch"))
    panel.set_beta(COLLAPSE_BETA)
    window.session.settle_beta_now()
    _raise(window, "diagnostics")


def _generate(window: MainWindow) -> None:
    panel: Any = window.panels["training"]
    window.training.pause()
    panel.set_beta(1.0)
    window.session.cancel_pending_beta()
    window.training.load_pretrained()  # back to the healthy β = 1 VAE
    window.session.set_map_mode("vae")
    gallery: Any = window.panels["gallery"]
    gallery.set_temperature(0.5)
    _raise(window, "gallery")


def _draw(window: MainWindow) -> None:
    window.session.set_map_mode("both")
    _raise(window, "drawing")
    pad = window.panels["drawing"].pad  # type: ignore[attr-defined]
    pad.clear()
    pad.draw_stroke(SAMPLE_STROKE)


def _pct(low_high: tuple[float, float]) -> str:
    return f"{low_high[0]:g}–{low_high[1]:g} %"


TOUR = (
    TourStep(
        "1 · An autoencoder's gaps, a VAE's continuity",
        "Both maps, each tiled with what its decoder draws at every point (the decoded "
        "manifold). Between the autoencoder's clusters lie gaps; measured on a 60 × 60 grid "
        f"over ±2σ of the codes, {_pct(AE_GAP_OFF_RANGE)} of the autoencoder's decodes in its "
        "gaps are farther from every training image than 95 % of its reconstructions, against "
        f"{_pct(VAE_GAP_OFF_RANGE)} for the VAE. Most of the autoencoder's grid still looks "
        f"digit-like ({_pct(AE_REGION_ON_RANGE)} on the data's manifold): 'garbage' overstates "
        "it. Click either map: each decodes its own point.", _gaps),
    TourStep(
        "2 · Interpolating from a 3 to a 7",
        "The Interpolation panel walks the VAE's latent space from a 3 to a 7; the path is "
        "drawn on the map. Every step decodes to something digit-like because the VAE's "
        "space has no gaps to cross. Try 'spherical' to stay where the prior puts its mass.",
        _interpolate),
    TourStep(
        "3 · The β trade-off",
        "β weighs the KL term. Drag β in the Training panel: each trained β becomes a point "
        "on the rate–distortion chart (KL against reconstruction, both evaluations at z = μ). "
        "Low β: sharp reconstructions, more rate; high β: blurrier, less rate.", _tradeoff),
    TourStep(
        f"4 · Collapse at β = {COLLAPSE_BETA:g}, and why warm-up does not cure it here",
        f"The VAE retrains from scratch at β = {COLLAPSE_BETA:g}. Watch the map: once no "
        "latent dim carries information it switches to the prior's scale (±3.5σ) and a banner "
        "says so; the Diagnostics panel shows the KL per dim near 0 and the trade-off chart "
        f"marks the point with a red cross. {collapse_advice(COLLAPSE_BETA)}", _collapse),
    TourStep(
        "5 · Generation with temperature",
        "Back to the pretrained β = 1 VAE. The Gallery decodes z ~ N(0, T²I): at T = 0.5 the "
        "samples are clean and alike, at T = 1 the prior itself, more varied and sometimes "
        "ambiguous. Move the T slider.", _generate),
    TourStep(
        "6 · Your own drawing",
        "Draw a digit in the Draw panel. It is encoded as you draw: both maps mark its code "
        "with a star, the VAE with its q(z|x) 1σ ellipse, and the panel shows the "
        "reconstruction and the nearest training image.", _draw),
)


class TourDialog(QDialog):
    """A non-modal walk through :data:`TOUR`; ``go(i)`` runs step i's setup."""

    stepShown = Signal(int)

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self.setObjectName("tourDialog")
        self.setWindowTitle("Tour of the article")
        self.setModal(False)
        self._window = window
        self.index = -1
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        close = QPushButton("Close")
        self.back_button.clicked.connect(lambda: self.go(self.index - 1))
        self.next_button.clicked.connect(lambda: self.go(self.index + 1))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.resize(460, 260)

    def go(self, index: int) -> None:
        """Set the window up for step ``index`` and show its text."""
        index = max(0, min(index, len(TOUR) - 1))
        step = TOUR[index]
        self.index = index
        step.setup(self._window)
        self.title.setText(step.title)
        self.text.setText(step.text)
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(TOUR) - 1)
        self.stepShown.emit(index)
