"""The panel registry: one row per dock. A new panel is one row here and its own file.

``place`` lays out the default window: ``"column"`` starts a new column to the right,
``"below"`` splits the last column under its panel, ``"tab"`` tabs behind the panel before
it. ``size`` is the default (width, height) in pixels (0: whatever is left); ``scroll`` how
the dock scrolls when it is smaller than the panel (:func:`.fit.scrollable`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..session import LabSession
from .base import Panel
from .codebook import CodebookPanel
from .decode import DecodeView
from .diagnostics import DiagnosticsPanel
from .drawing import DrawingPanel
from .gallery import GalleryPanel
from .interpolation import InterpolationPanel
from .latent_map import LatentMapPanel
from .tradeoff import TradeoffPanel
from .training import TrainingPanel


@dataclass(frozen=True)
class PanelSpec:
    name: str  # the key in MainWindow.panels and .docks
    title: str  # the dock's title and its View menu item
    dock: str  # the dock's objectName: saved layouts find it by this name
    shortcut: str  # shows (and raises) the dock
    factory: Callable[[LabSession], Panel]
    place: str = "tab"
    size: tuple[int, int] = (0, 0)
    scroll: str = "both"  # how the dock scrolls when smaller than the panel (panels.fit)


PANELS = (
    PanelSpec("training", "Training", "trainingDock", "Ctrl+1", TrainingPanel, "column",
              (380, 0), "vertical"),
    PanelSpec("map", "Latent map", "latentMapDock", "Ctrl+2", LatentMapPanel, "column",
              (600, 0), "none"),
    PanelSpec("decode", "Decoded image", "decodeDock", "Ctrl+3", DecodeView, "column",
              (440, 330), "none"),
    PanelSpec("gallery", "Gallery", "galleryDock", "Ctrl+4", GalleryPanel, "below", (0, 520)),
    PanelSpec("tradeoff", "β trade-off", "tradeoffDock", "Ctrl+5", TradeoffPanel),
    PanelSpec("interpolation", "Interpolation", "interpolationDock", "Ctrl+6",
              InterpolationPanel),
    PanelSpec("diagnostics", "Diagnostics", "diagnosticsDock", "Ctrl+7", DiagnosticsPanel),
    PanelSpec("codebook", "Codebook", "codebookDock", "Ctrl+8", CodebookPanel),
    PanelSpec("drawing", "Draw", "drawingDock", "Ctrl+9", DrawingPanel),
)

__all__ = ["PANELS", "CodebookPanel", "DecodeView", "DiagnosticsPanel", "DrawingPanel",
           "GalleryPanel",
           "InterpolationPanel", "LatentMapPanel", "Panel", "PanelSpec", "TradeoffPanel",
           "TrainingPanel"]
