"""The latent map: a pyqtgraph scatter of the encoded data, one map per model slot.

Two maps live in one ``GraphicsLayoutWidget`` — the VAE's (μ of q(z|x)) and the
autoencoder's — shown one at a time or side by side. A left click *anywhere* in a map is
turned into data coordinates with ``ViewBox.mapSceneToView`` and becomes the session's
current point (every visible slot decodes it); Shift/Ctrl+click sets an interpolation
endpoint. Hovering a point shows the original image and its label. Labels only colour the
points; they are never used for training. The points are the session's codes of the data
(:meth:`DataAnalysis.codes`); the panel encodes nothing itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QMenu, QVBoxLayout, QWidget

from latentlab.core import Model
from latentlab.core.claims import collapse_banner
from latentlab.core.diagnostics import LatentDiagnostics
from latentlab.core.vqvae import VQVAE

from ...analysis import Asked, Codes
from ...session import LabSession
from ...slots import BOTH, Slot
from ...widgets.elided_label import ElidedLabel
from ...widgets.hover_card import HoverCard
from ...widgets.manifold_layer import ManifoldLayer
from ...widgets.map_plot import MapPlot, axis_names, label_groups
from ...widgets.point_cloud import gray_pixmap
from ...widgets.smoothness import SmoothnessCaptions
from ..base import Panel
from .figure import MapFigure
from .toolbar import MapToolbar

# Two fixed lines each: short enough for a laptop's dock, and a height that never changes
# with the width (a wrapped hint re-laid the maps out under the cursor).
_HINTS = {
    False: "Click: decode · Shift/Ctrl+click: A→B · hover: image\n"
           "drag: pan · wheel: zoom · right-click: menu",
    True: "Each map has its own point: a click decodes that map's z\n"
          "hover: the image is ringed in both maps · drag: pan · wheel: zoom",
}


class LatentMapPanel(Panel):
    """The latent map dock's widget.

    Signals: ``exportRequested()`` — from a map's context menu; ``pressed()`` — a mouse
    button went down on the maps (a click may follow); ``mapUpdated(str)`` — a map was
    redrawn with a new model (for tests and benchmarks).
    """

    exportRequested = Signal()
    mapUpdated = Signal(str)
    pressed = Signal()

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("latentMapPanel")
        ds = session.dataset
        self._images = ds.images
        self._labels = ds.labels
        self._shape = ds.image_shape
        self._mode = ""
        self.updates = 0  # map redraws so far (benchmark)
        # Per map, the snapshots whose codes were asked for and have not arrived, oldest
        # first (the analysis drops the ones overtaken by newer ones).
        self._asked = {slot: Asked() for slot in Slot}
        self._collapse_asked = Asked()  # VAE snapshots whose diagnostics are on their way
        labels = ds.labels

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.setToolTip("")
        self.view.ci.setContentsMargins(4, 4, 4, 4)
        self.maps = {slot: MapPlot(slot, labels) for slot in Slot}
        self.figure = MapFigure(self.view)
        self.legend = self.figure.legend
        self._label_names: Sequence[str] | None = None
        self.figure.fill_legend(label_groups(labels))
        self._legend_title = "digit label (colour only; labels are never used in training)"
        self.legend.setToolTip(self._legend_title)
        self.data_name = "digits"
        self.toolbar = MapToolbar(session, self, self.fit_view)
        self.prior_scale_action = self.toolbar.prior_scale_action
        self.prior_scale_action.toggled.connect(self._apply_prior_scale)
        self.prior_scale_action.triggered.connect(self._prior_scale_chosen)
        self._prior_scale_auto = True  # until the user chooses, a collapse turns it on
        self.manifold_action = self.toolbar.manifold_action
        self.pca_action = self.toolbar.pca_action
        self.manifold_action.toggled.connect(self._apply_manifold)
        self._layers: dict[Slot, ManifoldLayer] = {}  # made on first use (a worker thread)
        # The maps' one context menu: our commands only (pyqtgraph's are off, MapPlot).
        self.context_menu = QMenu(self)
        self.context_menu.addAction("Fit view", self.fit_view)
        self.context_menu.addActions(self.toolbar.view_actions)
        self.context_menu.addSeparator()
        self.context_menu.addAction("Export latent map…", self.exportRequested.emit)
        self.view.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.view.viewport().installEventFilter(self)
        self.view.scene().sigMouseMoved.connect(self._on_scene_moved)
        self.hover_card = HoverCard(self.view)
        self.hovered_index: int | None = None

        self._hint = ElidedLabel(_HINTS[False])  # a narrow dock cuts it with "…" + tooltip
        self._hint.setStyleSheet("color: #555;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar.strip)
        layout.addWidget(self.view, 1)
        self.smoothness = SmoothnessCaptions(session, self.observe)  # under each map
        layout.addWidget(self.smoothness)
        hint_row = QHBoxLayout()
        hint_row.setContentsMargins(8, 0, 8, 4)
        hint_row.addWidget(self._hint)
        layout.addLayout(hint_row)
        self.toolbar.set_axis_choices(2)
        self.toolbar.show_view(session.map_view)
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.set_data()
        self.observe(s.datasetChanged, self.set_data)
        self.observe(s.modelChanged, self.show_slot)
        self.observe(s.analysis.ready, self._on_analysed)
        self.observe(s.mapModeChanged, self._show_mode)
        self.observe(s.axesChanged, lambda _x, _y: self._redraw_planes())
        self.observe(s.mapViewChanged, lambda _view: self._redraw_planes())
        self.observe(s.currentPointChanged, self.show_points)
        self.observe(s.pathChanged, lambda path: self.set_path(s.primary_slot, path))
        self.observe(s.modelSettled, self._show_collapse)
        self.observe(s.drawingChanged, self._show_drawings)
        self.observe(s.codeHighlighted, self._highlight_code)
        self._show_mode(s.map_mode)
        for slot in Slot:
            self.show_slot(slot)
        self._show_collapse(Slot.VAE)
        self.show_points()

    # -- state ----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def visible_slots(self) -> list[Slot]:
        return self.session.visible_slots()

    def _show_mode(self, mode: str) -> None:
        slots = self.visible_slots()
        self.toolbar.show_mode(mode, slots)
        self._sync_axis_choices()
        self._mode = mode
        # Equal axis scales in every mode: side by side, unequal scales squashed the
        # prior's circles into ellipses and made the two maps' geometry incomparable.
        for m in self.maps.values():
            m.vb.setAspectLocked(True, 1.0)
            m.fit(force=True)
        self._hint.setText(_HINTS[mode == BOTH])
        self.figure.show_maps([self.maps[slot].plot for slot in slots])
        for slot in slots:
            self.maps[slot].set_current(self.session.point(slot))
        self.smoothness.show_slots(slots, bool(self.figure.stacked))
        self._hide_hover()

    def set_data(self) -> None:
        """Show the session's new data set: recoloured points (one colour without labels), a
        new legend, hover images of its shape; both maps are empty until a model arrives."""
        ds = self.session.dataset
        images, labels, image_shape, name = ds.images, ds.labels, ds.image_shape, ds.name
        label_names = ds.label_names
        self._images = images
        self._labels = labels
        self._shape = image_shape
        self._label_names = label_names
        self.data_name = name
        for asked in (*self._asked.values(), self._collapse_asked):
            asked.clear()
        groups = label_groups(labels, label_names)
        h, w = image_shape
        for m in self.maps.values():
            m.data_label = "" if name == "digits" else f"{name}, {len(images):,} images {h}×{w}"
            m.set_labels(labels, groups)
        self.figure.fill_legend(groups)
        what = "label" if labels is not None else f"{name}: no labels, one colour"
        self._legend_title = f"{what} (colour only; labels are never used in training)"
        self.legend.setToolTip(self._legend_title)
        self._hide_hover()
        self._show_mode(self._mode)  # re-lay out the legend row

    def label_text(self, index: int) -> str:
        """The hover text's label of data image ``index`` ("" without labels)."""
        if self._labels is None:
            return ""
        c = int(self._labels[index])
        names = self._label_names
        return names[c] if names is not None and 0 <= c < len(names) else str(c)

    def show_slot(self, slot: str) -> None:
        """Redraw ``slot``'s map with the session's model and its codes of the data: at
        once when the analysis has them, else when they arrive (the map shows the snapshot
        before until then)."""
        slot = Slot(slot)
        model = self.session.model(slot)
        if model is None:
            self._asked[slot].clear()
            self.maps[slot].clear()
            self._feed_manifold(slot)
            return
        self._show_codes(slot, model)

    def _show_codes(self, slot: Slot, model: Model) -> None:
        codes = self.session.analysis.codes(model, key=slot.value)
        if codes is None:
            self._asked[slot].add(model)
        else:
            self._draw(slot, model, codes)

    def _on_analysed(self, what: str, subject: object) -> None:
        """Codes arrived: draw them on the map that asked, unless it shows a newer
        snapshot already (snapshots asked before them will not come any more); the
        VAE's diagnostics arrived: its collapse banner."""
        if what == "diagnostics" and isinstance(subject, Model) \
                and self._collapse_asked.settle(subject):
            found = self.session.analysis.diagnose(subject)
            self._show_banner_for(None if found is None else found.latents)
        if what == "assignment":
            for slot, m in self.maps.items():
                if isinstance(subject, Model) and m.model is subject \
                        and self.session.highlighted_code is not None:
                    self._show_codes(slot, subject)  # with the images' codes now
        if what != "codes":
            return
        for slot, asked in self._asked.items():
            if isinstance(subject, Model) and asked.settle(subject):
                codes = self.session.analysis.codes(subject, key=slot.value)  # cached
                if codes is not None:
                    self._draw(slot, subject, codes)

    def _draw(self, slot: Slot, model: Model, codes: Codes) -> None:
        self._sync_axis_choices()
        if codes.pca is not None:  # refitted with every encoding, in either view
            self.session.set_pca_plane(slot, codes.pca)
        self.maps[slot].set_model(model, codes.mu, self.session.plane(slot),
                                  self._image_codes(model))
        self._feed_manifold(slot)
        self._show_drawing(slot)
        self.updates += 1
        self.mapUpdated.emit(slot)

    def _sync_axis_choices(self) -> None:
        """The axis boxes offer the dims of the largest latent shown (the other map
        clamps to its own, :meth:`LabSession.axes_for`)."""
        k = max((m.latent_dim for m in map(self.session.model, self.visible_slots())
                 if m is not None), default=2)
        if k != self.toolbar.axis_count:
            self.toolbar.set_axis_choices(k)

    def _image_codes(self, model: Model) -> np.ndarray | None:
        """The code each image snaps to, for a VQ-VAE's map while a code is highlighted
        (its images are marked); None otherwise, so no frame pays for the assignment."""
        if not isinstance(model, VQVAE) or self.session.highlighted_code is None:
            return None
        found = self.session.analysis.code_assignment(model)  # None: on the worker
        return None if found is None else found.codes

    def _highlight_code(self, code: int | None) -> None:
        for slot, m in self.maps.items():
            if isinstance(m.model, VQVAE):
                self.show_slot(slot)  # with (or without) the images' codes
            m.codebook.highlight(code)

    def show_points(self) -> None:
        """Mark each visible map's own current point (data coordinates on its axes)."""
        for slot in self.visible_slots():  # a hidden map catches up in _show_mode
            self.maps[slot].set_current(self.session.point(slot))

    def set_path(self, slot: str, path: np.ndarray | None) -> None:
        """Show the interpolation path on ``slot``'s map only (``None`` hides it)."""
        for s, m in self.maps.items():
            m.set_path(path if s == slot else None)

    def fit_view(self) -> None:
        """Zoom every map to show all its points again (leaving the prior scale)."""
        if self.prior_scale_action.isChecked():
            self._prior_scale_auto = False
            self.prior_scale_action.setChecked(False)
        for m in self.maps.values():
            m.fit(force=True)

    # -- posterior collapse -------------------------------------------------------------
    @property
    def banner_text(self) -> str:
        """The VAE map's collapse banner as shown ("" when hidden)."""
        banner = self.maps[Slot.VAE].banner
        return banner.toPlainText() if banner.isVisible() else ""

    def _apply_prior_scale(self, on: bool) -> None:
        self.maps[Slot.VAE].set_prior_scale(on)

    def _prior_scale_chosen(self, _checked: bool) -> None:
        self._prior_scale_auto = False  # the user chose: a collapse no longer overrides it

    def _show_collapse(self, slot: str) -> None:
        """The VAE settled: a banner and (unless the user chose) the prior scale while no
        latent dim carries information."""
        if slot != Slot.VAE:
            return
        model = self.session.model(slot)
        if model is None or not self.session.analysis.fits(model):
            self._show_banner_for(None)
            return
        found = self.session.analysis.diagnose(model)
        if found is None:  # on the worker: the banner follows (_on_analysed)
            self._collapse_asked.add(model)
        else:
            self._show_banner_for(found.latents)

    def _show_banner_for(self, latents: LatentDiagnostics | None) -> None:
        collapsed = latents is not None and latents.fully_collapsed
        history = self.session.history(Slot.VAE)
        beta = history[-1].beta if history else None
        self.maps[Slot.VAE].show_banner(
            collapse_banner(float(latents.kl.max()), beta)
            if collapsed and latents is not None else None)
        if self._prior_scale_auto and collapsed != self.prior_scale_action.isChecked():
            self.prior_scale_action.setChecked(collapsed)

    # -- export ---------------------------------------------------------------------------
    def export_png(self, path: str, width: int, height: int | None = None) -> None:
        """Write the shown map(s) as a PNG (see :meth:`MapFigure.export_png`)."""
        self.figure.export_png(path, width, height)

    def laid_out_as_figure(self, width: int, height: int
                           ) -> contextlib.AbstractContextManager[None]:
        """The maps laid out as a ``width``:``height`` figure while it is open."""
        return self.figure.laid_out_as_figure(width, height)

    def export_svg(self, path: str) -> None:
        """Write the shown map(s) as an SVG drawing (every point a vector circle)."""
        self.figure.export_svg(path)

    def natural_export_height(self, width: int) -> int:
        return self.figure.natural_export_height(width)

    # -- events ---------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self.pressed.emit()  # lets the worker give the click the CPU (hold_worker)
        elif kind in (QEvent.Type.Leave, QEvent.Type.Resize):
            self._hide_hover()  # a card left behind would point at nothing
            if kind == QEvent.Type.Resize:
                self.figure.place()
                self.smoothness.set_stacked(bool(self.figure.stacked))
                self.figure.fit_legend()
        elif kind == QEvent.Type.ToolTip and self.hover_card.isVisible():
            return True  # a tooltip (e.g. a prior circle's) would cover the hover card
        return False

    def _map_at(self, scene_pos: QPointF) -> MapPlot | None:
        for slot in self.visible_slots():
            m = self.maps[slot]
            if m.vb.sceneBoundingRect().contains(scene_pos):
                return m
        return None

    def _on_scene_clicked(self, event) -> None:  # pyqtgraph MouseClickEvent
        if event.button() == Qt.MouseButton.RightButton:
            event.accept()
            self._hide_hover()
            self.context_menu.popup(event.screenPos().toPoint())
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        m = self._map_at(event.scenePos())
        if m is None:
            return
        event.accept()
        p = m.vb.mapSceneToView(event.scenePos())
        mods = event.modifiers()
        x, y = float(p.x()), float(p.y())
        if mods & Qt.KeyboardModifier.ShiftModifier:
            self.session.pick_endpoint("a", x, y)
        elif mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            self.session.pick_endpoint("b", x, y)
        self.session.set_current_xy(x, y, m.slot)

    def _on_scene_moved(self, scene_pos: QPointF) -> None:
        m = self._map_at(scene_pos)
        index = None if m is None else m.nearest(scene_pos)
        if m is None or index is None:
            self._hide_hover()
            return
        self._show_hover(m, index, scene_pos)

    def _show_hover(self, m: MapPlot, index: int, scene_pos: QPointF) -> None:
        self.hovered_index = index
        for slot in self.visible_slots():
            other = self.maps[slot]
            other.show_link(index if other is not m else None)
            other.show_hover_ellipse(self._hover_ellipse(m, index) if other is m else None)
        x, y = m.points[index]
        u, v = ("x", "y") if m.plane is None else axis_names(m.plane)
        label = "" if self._labels is None else f"<b>label {self.label_text(index)}</b><br>"
        self.hover_card.show_at(
            gray_pixmap(self._images[index], self._shape, 7),
            f"{label}<span style='color:#555'>image #{index}<br>"
            f"{u}, {v} = ({x:.2f}, {y:.2f})</span>",
            self.view.mapFromScene(scene_pos))

    def _hide_hover(self) -> None:
        self.hovered_index = None
        self.hover_card.hide()
        for m in self.maps.values():
            m.show_link(None)
            m.show_hover_ellipse(None)

    def _redraw_planes(self) -> None:
        """The axes or the view changed: every map again, through its new plane."""
        self.toolbar.show_view(self.session.map_view)
        for slot, m in self.maps.items():
            if m.model is not None:
                self._show_codes(slot, m.model)

    # -- the user's drawing and σ-ellipses ------------------------------------------------

    def _show_drawings(self) -> None:
        for slot in Slot:
            self._show_drawing(slot)

    def _show_drawing(self, slot: Slot) -> None:
        """Mark the drawing's code in ``slot``'s map, with a VAE's 1σ ellipse of q(z|x)."""
        m = self.maps[slot]
        image = self.session.drawing
        model = self.session.model(slot)
        plane = self.session.plane(slot)
        if image is None or model is None or plane is None \
                or not self.session.analysis.fits(model):
            m.show_drawing(None, None)
            return
        mu, log_var = model.encode(image[None, :])
        ring = None if log_var is None else plane.ellipse(mu[0], np.exp(log_var[0]))
        m.show_drawing(plane.project(mu)[0], ring)

    def _hover_ellipse(self, m: MapPlot, index: int) -> np.ndarray | None:
        model = m.model
        if model is None:
            return None
        codes = self.session.analysis.codes(model, key=f"{m.slot}")
        plane = self.session.plane(m.slot)
        if codes is None or codes.log_var is None or plane is None or index >= len(codes.mu):
            return None
        return plane.ellipse(codes.mu[index], np.exp(codes.log_var[index]))

    # -- decoded manifold ---------------------------------------------------------------
    def view_actions(self) -> list[QAction]:
        """The map's view toggles, for the View menu (the toolbar shares them)."""
        return self.toolbar.view_actions

    def manifold_layer(self, slot: str) -> ManifoldLayer | None:
        """``slot``'s manifold layer once the manifold was first turned on."""
        return self._layers.get(Slot(slot))

    def _apply_manifold(self, on: bool) -> None:
        if on and not self._layers:
            for slot, m in self.maps.items():
                self._layers[slot] = ManifoldLayer(m.vb, self.session.background,
                                                   f"manifold:{slot}", self)
        for slot, layer in self._layers.items():
            self._feed_manifold(slot)
            layer.set_enabled(on)

    def _feed_manifold(self, slot: Slot) -> None:
        """Hand ``slot``'s model and its map's plane to its manifold layer (if any): the
        tiles decode ``plane.lift`` of their centres, as a click there would."""
        layer = self._layers.get(slot)
        if layer is None:
            return
        model = self.session.model(slot)
        plane = self.session.plane(slot)
        if model is None or plane is None or not self.session.analysis.fits(model):
            layer.set_model(None, None, self._shape)
            return
        layer.set_model(model, plane, self._shape)
