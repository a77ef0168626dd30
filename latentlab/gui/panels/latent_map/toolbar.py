"""The latent map's tool row: which map(s) to show, the latent axes, the view toggles
(PCA view, decoded manifold, prior scale) and Fit view. The toggles are QActions the View
menu and the maps' context menu share, so each has one state wherever it is shown."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from latentlab.core.claims import PRIOR_SCALE_SIGMA

from ...session import LabSession
from ...slots import AXES_VIEW, BOTH, MAP_MODES, PCA_VIEW, SLOT_TITLES, Slot
from ...widgets.flow_layout import FlowLayout
from ...widgets.map_plot import subscript

_MODE_TIPS = {
    Slot.VAE: "Show the VAE's latent map (smooth: every point decodes to a digit-like image)",
    Slot.AE: "Show the plain autoencoder's map (gappy: its gaps decode further from any "
             "training image than the VAE's)",
    BOTH: "Show both maps side by side. Each map has its own point: a click decodes that "
          "map's z in that model (their codes live on different scales). Hovering an "
          "image's point rings the same image in the other map: the maps are linked by "
          "data, not by coordinates.",
}


class MapToolbar:
    """The row's widgets and actions; ``strip`` is the row as the panel lays it out: its
    groups (map mode, axes, PCA, the other toggles) wrap onto a second line in a narrow dock,
    so every button stays on screen without scrolling. The map-mode buttons and the axis
    boxes set the session's state; the panel acts on the toggles."""

    def __init__(self, session: LabSession, parent: QWidget, fit_view: Callable[[], None]
                 ) -> None:
        self.session = session
        self._groups: list[QWidget] = []

        def _group() -> QHBoxLayout:
            """A new group of buttons that stay together on one line."""
            group = QWidget()
            layout = QHBoxLayout(group)
            layout.setContentsMargins(0, 0, 0, 0)
            self._groups.append(group)
            return layout

        self.mode_group = QButtonGroup(parent)
        self.mode_group.setExclusive(True)
        row = _group()
        row.addWidget(QLabel("Show:"))
        for mode, text in zip(MAP_MODES, (*SLOT_TITLES.values(), "Side by side"), strict=True):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(_MODE_TIPS[mode])
            button.setObjectName(f"mapMode-{mode}")
            button.setAutoRaise(False)
            self.mode_group.addButton(button)
            button.clicked.connect(lambda _=False, m=mode: session.set_map_mode(m))
            row.addWidget(button)
        row = _group()
        self.axis_label = QLabel("Axes:")
        self.ax_x = QComboBox()
        self.ax_y = QComboBox()
        for combo in (self.ax_x, self.ax_y):
            combo.currentIndexChanged.connect(self._on_axes_combo)
        row.addWidget(self.axis_label)
        row.addWidget(self.ax_x)
        row.addWidget(self.ax_y)
        self.pca_action = QAction("&PCA view (the codes' first two principal components)",
                                  parent)
        self.pca_action.setCheckable(True)
        self.pca_action.setObjectName("pcaViewAction")
        self.pca_action.setIconText("PCA")
        self.pca_action.setShortcut("Ctrl+Shift+P")
        self.pca_action.setToolTip(
            "Show each map in the plane of its codes' first two principal components "
            "instead of two chosen latent dims. A map point (u, v) is z = mean + u·PC₁ + "
            "v·PC₂: every other direction is held at the codes' mean, and a click, an "
            "interpolation endpoint and the manifold decode exactly that z. The axes say "
            "how much of the codes' variance each PC holds. Refitted with every new "
            "encoding as the model trains, keeping each axis's direction from the last fit "
            "(the map never mirrors itself). With a 2-D latent it shows the same codes "
            "turned onto their main directions and centred on their mean.")
        self.pca_action.toggled.connect(
            lambda on: session.set_map_view(PCA_VIEW if on else AXES_VIEW))
        pca_button = QToolButton()
        pca_button.setDefaultAction(self.pca_action)
        pca_button.setObjectName("pcaViewButton")
        row.addWidget(pca_button)
        row = _group()
        self.prior_scale_action = QAction(f"&Prior scale (±{PRIOR_SCALE_SIGMA:g}σ) on the VAE map",
                                          parent)
        self.prior_scale_action.setCheckable(True)
        self.prior_scale_action.setObjectName("priorScaleAction")
        self.prior_scale_action.setIconText(f"Prior scale ±{PRIOR_SCALE_SIGMA:g}σ")
        self.prior_scale_action.setToolTip(
            f"Fix the VAE map's axes to ±{PRIOR_SCALE_SIGMA:g}σ of the prior N(0, I), with its "
            "1σ/2σ/3σ circles, instead of zooming to the codes: a collapsed latent then shows "
            "as a dot at the prior's centre, not as a normal-looking scatter. On by itself "
            "after a collapse.")
        self.manifold_action = QAction("Decoded &manifold behind the points", parent)
        self.manifold_action.setCheckable(True)
        self.manifold_action.setObjectName("manifoldAction")
        self.manifold_action.setIconText("Manifold")
        self.manifold_action.setShortcut("Ctrl+M")
        self.manifold_action.setToolTip(
            "Tile each map with what its decoder draws at every point of the view (decoded "
            "off the GUI thread, redrawn as you pan, zoom and train): the autoencoder's gaps "
            "and the VAE's continuity at a glance. Exports include it.")
        manifold_button = QToolButton()
        manifold_button.setDefaultAction(self.manifold_action)
        manifold_button.setObjectName("manifoldButton")
        row.addWidget(manifold_button)
        self.prior_button = QToolButton()
        self.prior_button.setDefaultAction(self.prior_scale_action)
        self.prior_button.setObjectName("priorScaleButton")
        row.addWidget(self.prior_button)
        fit = QToolButton()
        fit.setText("Fit view")
        fit.setToolTip("Zoom to show every point again (pan: drag, zoom: wheel)")
        fit.clicked.connect(fit_view)
        row.addWidget(fit)
        self.strip = QWidget()
        flow = FlowLayout(self.strip, spacing=12)
        flow.setContentsMargins(6, 4, 6, 0)
        for group in self._groups:
            flow.addWidget(group)

    @property
    def view_actions(self) -> list[QAction]:
        """The toggles, for the View menu and the context menu."""
        return [self.pca_action, self.manifold_action, self.prior_scale_action]

    def show_mode(self, mode: str, slots: list[Slot]) -> None:
        """Check ``mode``'s button; the prior scale is offered while the VAE map is shown."""
        for button in self.mode_group.buttons():
            button.setChecked(button.objectName() == f"mapMode-{mode}")
        self.prior_button.setVisible(Slot.VAE in slots)

    def show_view(self, view: str) -> None:
        """Check the PCA toggle for the PCA view; the axis boxes choose nothing there."""
        pca = view == PCA_VIEW
        if self.pca_action.isChecked() != pca:
            self.pca_action.setChecked(pca)
        for combo, which in ((self.ax_x, "horizontal"), (self.ax_y, "vertical")):
            combo.setEnabled(not pca)
            combo.setToolTip(
                "The PCA view is on: turn it off (PCA) to choose two latent dims" if pca
                else f"Latent dimension on the {which} axis (the other dimensions of a "
                     "clicked z are 0)")

    @property
    def axis_count(self) -> int:
        return self.ax_x.count()

    def set_axis_choices(self, k: int) -> None:
        """Offer ``k`` latent dims on each axis box (hidden for k ≤ 2), keeping the session's
        axes when they still exist."""
        for combo in (self.ax_x, self.ax_y):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([f"z{subscript(i + 1)}" for i in range(k)])
            combo.blockSignals(False)
        ax, ay = self.session.axes
        if ax >= k or ay >= k or ax == ay:
            ax, ay = 0, min(1, k - 1)
        self.session.set_axes(ax, ay)
        for combo, i in ((self.ax_x, ax), (self.ax_y, ay)):
            combo.blockSignals(True)
            combo.setCurrentIndex(i)
            combo.blockSignals(False)
        for w in (self.axis_label, self.ax_x, self.ax_y):
            w.setVisible(k > 2)

    def _on_axes_combo(self) -> None:
        ax, ay = self.ax_x.currentIndex(), self.ax_y.currentIndex()
        if ax >= 0 and ay >= 0:
            self.session.set_axes(ax, ay)
