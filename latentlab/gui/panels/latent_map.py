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
from collections.abc import Iterator, Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from latentlab.core import Model
from latentlab.core.claims import PRIOR_SCALE_SIGMA, collapse_banner
from latentlab.core.diagnostics import LatentDiagnostics
from latentlab.core.io import atomic_write_bytes, atomic_write_path
from latentlab.core.pca import LatentPlane, axes_plane
from latentlab.core.vqvae import VQVAE

from ..analysis import Asked
from ..session import LabSession
from ..slots import BOTH, MAP_MODES, SLOT_TITLES, Slot
from ..widgets.manifold_layer import ManifoldLayer
from ..widgets.map_plot import MapPlot, label_groups, subscript
from ..widgets.point_cloud import gray_pixmap
from .base import Panel
from .fit import toolbar_strip

LEGEND_TEXT = "9pt"
EXPORT_LEGEND_TEXT = "11pt"
FIGURE_WIDTH = 720  # an exported map's width in scene units: a 1280 px PNG draws at ~1.8×
# Two fixed lines each: short enough for a laptop's dock, and a height that never changes
# with the width (a wrapped hint re-laid the maps out under the cursor).
_HINTS = {
    False: "Click: decode · Shift/Ctrl+click: A→B · hover: image\n"
           "drag: pan · wheel: zoom · right-click: menu",
    True: "Each map has its own point: a click decodes that map's z\n"
          "hover: the image is ringed in both maps · drag: pan · wheel: zoom",
}
MAX_LEGEND_ENTRIES = 24  # more classes than this: the legend says "+N more"


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
        # One legend for both maps, in a row of its own above them (never over the points).
        self._label_names: Sequence[str] | None = None
        self.legend = pg.LegendItem(colCount=1, labelTextSize=LEGEND_TEXT, horSpacing=10,
                                    frame=False, labelTextColor="#222")
        self._legend_samples: list[pg.ScatterPlotItem] = []
        self._fill_legend(label_groups(labels))
        self._legend_title = "digit label (colour only; labels are never used in training)"
        self.legend.setToolTip(self._legend_title)
        self.data_name = "digits"
        # The maps' one context menu: our commands only (pyqtgraph's are off, MapPlot).
        self.context_menu = QMenu(self)
        self.context_menu.addAction("Fit view", self.fit_view)
        self.context_menu.addSeparator()
        self.context_menu.addAction("Export latent map…", self.exportRequested.emit)
        self.view.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.view.viewport().installEventFilter(self)
        self.view.scene().sigMouseMoved.connect(self._on_scene_moved)

        self._hover = QFrame(self.view)
        self._hover.setObjectName("hoverCard")
        self._hover.setStyleSheet(
            "QFrame#hoverCard { background: rgba(255,255,255,240); border: 1px solid #999;"
            " border-radius: 4px; } QLabel { color: #111; border: none; }")
        self._hover.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._hover_image = QLabel()
        self._hover_text = QLabel()
        card = QHBoxLayout(self._hover)
        card.setContentsMargins(6, 6, 8, 6)
        card.setSpacing(8)
        card.addWidget(self._hover_image)
        card.addWidget(self._hover_text)
        self._hover.hide()
        self.hovered_index: int | None = None

        # -- tool row ----------------------------------------------------------------------
        self._mode_group = QButtonGroup(self)
        self._mode_group.setExclusive(True)
        row = QHBoxLayout()
        row.setContentsMargins(6, 4, 6, 0)
        row.addWidget(QLabel("Show:"))
        tips = {
            Slot.VAE: "Show the VAE's latent map (smooth: every point decodes to a digit-like "
                      "image)",
            Slot.AE: "Show the plain autoencoder's map (gappy: its gaps decode further from any "
                     "training image than the VAE's)",
            BOTH: "Show both maps side by side. Each map has its own point: a click decodes "
                  "that map's z in that model (their codes live on different scales). "
                  "Hovering an image's point rings the same image in the other map: the maps "
                  "are linked by data, not by coordinates.",
        }
        for mode, text in zip(MAP_MODES, (*SLOT_TITLES.values(), "Side by side"), strict=True):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(tips[mode])
            button.setObjectName(f"mapMode-{mode}")
            button.setAutoRaise(False)
            self._mode_group.addButton(button)
            button.clicked.connect(lambda _=False, m=mode: self.session.set_map_mode(m))
            row.addWidget(button)
        row.addSpacing(12)
        self._axis_label = QLabel("Axes:")
        self._ax_x = QComboBox()
        self._ax_y = QComboBox()
        for combo, tip in ((self._ax_x, "Latent dimension on the horizontal axis"),
                           (self._ax_y, "Latent dimension on the vertical axis")):
            combo.setToolTip(tip + " (the other dimensions of a clicked z are 0)")
            combo.currentIndexChanged.connect(self._on_axes_combo)
        row.addWidget(self._axis_label)
        row.addWidget(self._ax_x)
        row.addWidget(self._ax_y)
        row.addStretch(1)
        self.prior_scale_action = QAction(f"&Prior scale (±{PRIOR_SCALE_SIGMA:g}σ) on the VAE map",
                                          self)
        self.prior_scale_action.setCheckable(True)
        self.prior_scale_action.setObjectName("priorScaleAction")
        self.prior_scale_action.setIconText(f"Prior scale ±{PRIOR_SCALE_SIGMA:g}σ")
        self.prior_scale_action.setToolTip(
            f"Fix the VAE map's axes to ±{PRIOR_SCALE_SIGMA:g}σ of the prior N(0, I), with its "
            "1σ/2σ/3σ circles, instead of zooming to the codes: a collapsed latent then shows "
            "as a dot at the prior's centre, not as a normal-looking scatter. On by itself "
            "after a collapse.")
        self.prior_scale_action.toggled.connect(self._apply_prior_scale)
        self.prior_scale_action.triggered.connect(self._prior_scale_chosen)
        self._prior_scale_auto = True  # until the user chooses, a collapse turns it on
        self.manifold_action = QAction("Decoded &manifold behind the points", self)
        self.manifold_action.setCheckable(True)
        self.manifold_action.setObjectName("manifoldAction")
        self.manifold_action.setIconText("Manifold")
        self.manifold_action.setShortcut("Ctrl+M")
        self.manifold_action.setToolTip(
            "Tile each map with what its decoder draws at every point of the view (decoded "
            "off the GUI thread, redrawn as you pan, zoom and train): the autoencoder's gaps "
            "and the VAE's continuity at a glance. Exports include it.")
        self.manifold_action.toggled.connect(self._apply_manifold)
        self.context_menu.insertActions(self.context_menu.actions()[1],
                                        [self.manifold_action, self.prior_scale_action])
        self._layers: dict[Slot, ManifoldLayer] = {}  # made on first use (a worker thread)
        manifold_button = QToolButton()
        manifold_button.setDefaultAction(self.manifold_action)
        manifold_button.setObjectName("manifoldButton")
        row.addWidget(manifold_button)
        self._prior_button = QToolButton()
        self._prior_button.setDefaultAction(self.prior_scale_action)
        self._prior_button.setObjectName("priorScaleButton")
        row.addWidget(self._prior_button)
        fit = QToolButton()
        fit.setText("Fit view")
        fit.setToolTip("Zoom to show every point again (pan: drag, zoom: wheel)")
        fit.clicked.connect(self.fit_view)
        row.addWidget(fit)
        self._hint = QLabel(_HINTS[False])
        self._hint.setStyleSheet("color: #555;")
        self._hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(toolbar_strip(row))
        layout.addWidget(self.view, 1)
        hint_row = QHBoxLayout()
        hint_row.setContentsMargins(8, 0, 8, 4)
        hint_row.addWidget(self._hint)
        layout.addLayout(hint_row)
        self._set_axis_choices(2)
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.set_data()
        self.observe(s.datasetChanged, self.set_data)
        self.observe(s.modelChanged, self.show_slot)
        self.observe(s.analysis.ready, self._on_analysed)
        self.observe(s.mapModeChanged, self._show_mode)
        self.observe(s.axesChanged, lambda _x, _y: self._redraw_axes())
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
        for button in self._mode_group.buttons():
            button.setChecked(button.objectName() == f"mapMode-{mode}")
        self._mode = mode
        self.view.ci.clear()
        slots = self.visible_slots()
        # Equal axis scales in every mode: side by side, unequal scales squashed the
        # prior's circles into ellipses and made the two maps' geometry incomparable.
        for m in self.maps.values():
            m.vb.setAspectLocked(True, 1.0)
            m.fit(force=True)
        self._prior_button.setVisible(Slot.VAE in slots)
        self._hint.setText(_HINTS[mode == BOTH])
        self.view.ci.addItem(self.legend, row=0, col=0, colspan=len(slots))
        for col, slot in enumerate(slots):
            self.view.ci.addItem(self.maps[slot].plot, row=1, col=col)
            self.maps[slot].set_current(self.session.point(slot))
        self._hide_hover()

    def _fill_legend(self, groups: list[tuple[np.ndarray | None, str, str]]) -> None:
        self.legend.clear()
        self._legend_samples = []
        shown = groups[:MAX_LEGEND_ENTRIES]
        for _idx, name, colour in shown:
            sample = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(colour), name=name)
            self._legend_samples.append(sample)
            self.legend.addItem(sample, name)
        if len(groups) > len(shown):
            more = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush("#bbbbbb"))
            self._legend_samples.append(more)
            self.legend.addItem(more, f"+{len(groups) - len(shown)} more")
        self._fit_legend()

    def _fit_legend(self) -> None:
        """As many legend columns (≤ 12) as fit the view's width: a legend row wider than
        the dock would widen the maps' layout and cut the maps off at the right."""
        items = self.legend.items
        if not items:
            return
        widest = max(label.item.boundingRect().width() for _sample, label in items) + 34
        room = self.view.width() if self.view.isVisible() else 10_000  # not laid out yet
        columns = max(1, min(len(items), 12, int(room // widest)))
        if columns != self.legend.columnCount:
            self.legend.setColumnCount(columns)
            self.view.ci.layout.activate()  # now, not on a later turn: the maps move once
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
        self._fill_legend(groups)
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
            self._draw(slot, model, codes.mu)

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
                    self._draw(slot, subject, codes.mu)

    def _draw(self, slot: Slot, model: Model, mu: np.ndarray) -> None:
        k = int(mu.shape[1])
        if k != self._ax_x.count():
            self._set_axis_choices(k)
        ax, ay = self.session.axes
        self.maps[slot].set_model(model, mu, (min(ax, k - 1), min(ay, k - 1)),
                                  self._image_codes(model))
        self._feed_manifold(slot)
        self._show_drawing(slot)
        self.updates += 1
        self.mapUpdated.emit(slot)

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
        """Write the visible map(s) as a ``width`` × ``height`` PNG (never opens a dialog);
        the height defaults to the map's own aspect ratio."""
        if height is None:
            height = self.natural_export_height(width)
        if width < 1 or height < 1:
            raise ValueError(f"export size must be positive, got {width}×{height}")
        with self.laid_out_as_figure(width, height):
            exporter = ImageExporter(self.view.ci)
            params = exporter.parameters()
            params["width"] = int(width)
            # Setting the height re-derives the width from the aspect ratio unless that
            # handler is blocked; the scene then renders centred in the requested canvas.
            params.param("height").setValue(int(height), blockSignal=exporter.heightChanged)
            params["background"] = pg.mkColor("w")
            atomic_write_path(path, exporter.export)

    @contextlib.contextmanager
    def laid_out_as_figure(self, width: int, height: int) -> Iterator[None]:
        """Lay the maps and legend out at ``width``:``height`` as a figure FIGURE_WIDTH
        scene units wide (so text and points scale with the PNG, whatever the dock's size),
        with the legend's text at a size a printed figure can read; then give them back."""
        layout = self.view.ci
        shown = layout.geometry()
        self._set_legend_text(EXPORT_LEGEND_TEXT)
        layout.setGeometry(QRectF(0, 0, FIGURE_WIDTH, FIGURE_WIDTH * height / width))
        try:
            yield
        finally:
            self._set_legend_text(LEGEND_TEXT)
            layout.setGeometry(shown)

    def _set_legend_text(self, size: str) -> None:
        self.legend.setLabelTextSize(size)
        for _sample, label in self.legend.items:
            label.setText(label.text)  # setLabelTextSize keeps the old size until redrawn

    def export_svg(self, path: str) -> None:
        """Write the visible map(s) as an SVG drawing (every point a vector circle)."""
        exporter = SVGExporter(self.view.ci)
        exporter.parameters()["background"] = pg.mkColor("w")
        atomic_write_bytes(path, bytes(exporter.export(toBytes=True)))

    def natural_export_height(self, width: int) -> int:
        rect = self.view.ci.sceneBoundingRect()
        if rect.width() <= 0:
            return int(width * 0.75)
        return max(1, round(width * rect.height() / rect.width()))

    # -- events ---------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self.pressed.emit()  # lets the worker give the click the CPU (hold_worker)
        elif kind in (QEvent.Type.Leave, QEvent.Type.Resize):
            self._hide_hover()  # a card left behind would point at nothing
            if kind == QEvent.Type.Resize:
                self._fit_legend()
        elif kind == QEvent.Type.ToolTip and self._hover.isVisible():
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
        label = "" if self._labels is None else f"<b>label {self.label_text(index)}</b><br>"
        self._hover_text.setText(
            f"{label}<span style='color:#555'>image #{index}<br>z = ({x:.2f}, {y:.2f})</span>")
        self._hover_image.setPixmap(gray_pixmap(self._images[index], self._shape, 7))
        self._hover.adjustSize()
        self._place_hover(self.view.mapFromScene(scene_pos))
        self._hover.show()
        self._hover.raise_()

    def _place_hover(self, view_pos: QPoint) -> None:
        w, h = self._hover.width(), self._hover.height()
        x = view_pos.x() + 16
        y = view_pos.y() + 16
        if x + w > self.view.width():
            x = view_pos.x() - w - 16
        if y + h > self.view.height():
            y = view_pos.y() - h - 16
        self._hover.move(max(0, x), max(0, y))

    def _hide_hover(self) -> None:
        self.hovered_index = None
        self._hover.hide()
        for m in self.maps.values():
            m.show_link(None)
            m.show_hover_ellipse(None)

    def _set_axis_choices(self, k: int) -> None:
        for combo in (self._ax_x, self._ax_y):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([f"z{subscript(i + 1)}" for i in range(k)])
            combo.blockSignals(False)
        ax, ay = self.session.axes
        if ax >= k or ay >= k or ax == ay:
            ax, ay = 0, min(1, k - 1)
        self.session.set_axes(ax, ay)
        for combo, i in ((self._ax_x, ax), (self._ax_y, ay)):
            combo.blockSignals(True)
            combo.setCurrentIndex(i)
            combo.blockSignals(False)
        show = k > 2
        for w in (self._axis_label, self._ax_x, self._ax_y):
            w.setVisible(show)

    def _on_axes_combo(self) -> None:
        ax, ay = self._ax_x.currentIndex(), self._ax_y.currentIndex()
        if ax >= 0 and ay >= 0:
            self.session.set_axes(ax, ay)

    def _redraw_axes(self) -> None:
        for slot, m in self.maps.items():
            if m.model is not None:
                self._show_codes(slot, m.model)

    # -- the user's drawing and σ-ellipses ------------------------------------------------
    def _plane(self, slot: Slot, model: Model) -> LatentPlane | None:
        """The shown axes of ``slot`` as a plane of ``model``'s latent (None: one dim)."""
        ax, ay = self.session.axes_for(slot)
        return None if ax == ay else axes_plane(model.latent_dim, ax, ay)

    def _show_drawings(self) -> None:
        for slot in Slot:
            self._show_drawing(slot)

    def _show_drawing(self, slot: Slot) -> None:
        """Mark the drawing's code in ``slot``'s map, with a VAE's 1σ ellipse of q(z|x)."""
        m = self.maps[slot]
        image = self.session.drawing
        model = self.session.model(slot)
        plane = None if model is None else self._plane(slot, model)
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
        plane = self._plane(Slot(m.slot), model)
        if codes is None or codes.log_var is None or plane is None or index >= len(codes.mu):
            return None
        return plane.ellipse(codes.mu[index], np.exp(codes.log_var[index]))

    # -- decoded manifold ---------------------------------------------------------------
    def view_actions(self) -> list[QAction]:
        """The map's view toggles, for the View menu (the toolbar shares them)."""
        return [self.manifold_action, self.prior_scale_action]

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
        """Hand ``slot``'s model and the shown axes to its manifold layer (if any)."""
        layer = self._layers.get(slot)
        if layer is None:
            return
        model = self.session.model(slot)
        ax, ay = self.session.axes_for(slot)
        if model is None or ax == ay or not self.session.analysis.fits(model):
            layer.set_model(None, None, self._shape)
            return
        layer.set_model(model, axes_plane(model.latent_dim, ax, ay), self._shape)
