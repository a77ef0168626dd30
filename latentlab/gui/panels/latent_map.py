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

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from latentlab.core import Model
from latentlab.core.io import atomic_write_bytes

from ..session import LabSession
from ..slots import KIND_TITLES, MAP_MODES, SLOT_TITLES, Kind, Slot, is_variational
from ..widgets.point_cloud import PointCloudItem, gray_pixmap
from .base import Panel

#: Matplotlib's "tab10": ten colours that stay distinguishable for most colour-vision types.
LABEL_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
MAX_LEGEND_ENTRIES = 24  # more classes than this: the legend says "+N more"
HOVER_RADIUS_PX = 8.0


def label_groups(labels: np.ndarray | None, names: Sequence[str] | None = None
                 ) -> list[tuple[np.ndarray | None, str, str]]:
    """(row indices or None for all, legend name, colour) per label, in label order;
    ``names[c]`` is label c's legend name (default: the number)."""
    if labels is None:
        return [(None, "data", "#4477aa")]

    def name(c: int) -> str:
        return names[c] if names is not None and 0 <= c < len(names) else str(c)

    return [(np.flatnonzero(labels == c), name(int(c)), LABEL_COLOURS[i % len(LABEL_COLOURS)])
            for i, c in enumerate(np.unique(labels))]


def _colour_index(labels: np.ndarray | None,
                  groups: list[tuple[np.ndarray | None, str, str]]) -> np.ndarray | None:
    if labels is None:
        return None
    colour_of = np.zeros(len(labels), dtype=int)
    for i, (idx, _n, _c) in enumerate(groups):
        colour_of[idx] = i
    return colour_of


class _MapPlot:
    """One PlotItem: per-label scatters, a legend, a crosshair and the current model."""

    def __init__(self, slot: str, labels: np.ndarray | None) -> None:
        self.slot = slot
        self.plot = pg.PlotItem()
        self.plot.setObjectName(f"latentMap-{slot}")
        self._title = f"{SLOT_TITLES[slot]} — training…"
        self.plot.setTitle(self._title)
        self.plot.setLabel("bottom", "z₁")
        self.plot.setLabel("left", "z₂")
        for axis in ("bottom", "left"):
            # Latent coordinates are plain numbers: never relabel them "×0.001".
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        # No grid: an axis that draws grid lines repaints with every frame of the cloud.
        # The VAE map gets the prior's 1σ/2σ/3σ circles instead, a more useful guide.
        self.plot.setMenuEnabled(True)
        self.plot.hideButtons()
        self.vb: pg.ViewBox = self.plot.getViewBox()
        self.vb.setAspectLocked(True, 1.0)  # equal scales: the prior's circles stay round
        groups = label_groups(labels)
        self.cloud = PointCloudItem([pg.mkColor(c) for _i, _n, c in groups],
                                    _colour_index(labels, groups))
        self.cloud.setZValue(1)
        self.plot.addItem(self.cloud)
        self.auto_fit = True
        self.vb.disableAutoRange()
        self.vb.sigRangeChangedManually.connect(self._on_manual_range)
        pen = pg.mkPen("#111", width=1.5, style=Qt.PenStyle.DashLine)
        self.vline = pg.InfiniteLine(angle=90, pen=pen, movable=False)
        self.hline = pg.InfiniteLine(angle=0, pen=pen, movable=False)
        # A plain ellipse that ignores the view's scaling: a 14-px ring at any zoom, moved
        # with setPos (a ScatterPlotItem rebuilds its spots and bounds on every click).
        self.marker = QGraphicsEllipseItem(-7.0, -7.0, 14.0, 14.0)
        self.marker.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.marker.setPen(pg.mkPen("#111", width=2))
        self.marker.setBrush(pg.mkBrush(255, 255, 255, 90))
        for item in (self.vline, self.hline, self.marker):
            item.setZValue(10)
            item.setVisible(False)
            self.plot.addItem(item, ignoreBounds=True)
        # The interpolation path (drawn on the map of the model it interpolates).
        self.path_item = pg.PlotDataItem(
            pen=pg.mkPen("#222", width=2, style=Qt.PenStyle.DashLine), symbol="o",
            symbolSize=6, symbolBrush=pg.mkBrush("#ffffff"), symbolPen=pg.mkPen("#222"))
        self.path_item.setZValue(9)
        self.path_item.setVisible(False)
        self.plot.addItem(self.path_item, ignoreBounds=True)
        self.path: np.ndarray | None = None  # (N, K) latent path, or None
        self.prior_rings: list[QGraphicsEllipseItem] = []
        if slot == Slot.VAE:
            ring_pen = pg.mkPen(150, 150, 150, 140, width=1, style=Qt.PenStyle.DashLine)
            ring_pen.setCosmetic(True)
            for r in (1.0, 2.0, 3.0):
                ring = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
                ring.setPen(ring_pen)
                ring.setZValue(0)
                ring.setToolTip(f"{r:g}σ circle of the prior N(0, I)")
                self.plot.addItem(ring, ignoreBounds=True)
                self.prior_rings.append(ring)
        self.model: Model | None = None
        self.data_label = ""  # e.g. "squares, 600 images" after an import ("" = digits)
        self.points = np.zeros((0, 2), dtype=np.float32)  # the shown 2-D coordinates
        self.axes = (0, 1)
        self._axis_names = (0, 1)

    def set_model(self, model: Model, mu: np.ndarray, axes: tuple[int, int]) -> None:
        """Show ``model`` whose codes of the data are ``mu: (N, K)``, on ``axes``."""
        self.model = model
        ax, ay = axes
        self.axes = (ax, ay)
        self.points = np.ascontiguousarray(mu[:, [ax, ay]])
        self.cloud.set_points(self.points)
        self.fit(force=False)
        name = KIND_TITLES[Kind(model.kind)] if self.slot == Slot.AE else SLOT_TITLES[self.slot]
        title = (f"{name} latent space (μ)" if is_variational(model.kind)
                 else f"{name} latent space")
        if self.data_label:
            title += f" · {self.data_label}"
        if title != self._title:  # a title change re-lays-out the plot: only when needed
            self._title = title
            self.plot.setTitle(title)
        if self._axis_names != (ax, ay):
            self._axis_names = (ax, ay)
            self._draw_path()
            self.plot.setLabel("bottom", f"z{_sub(ax + 1)}")
            self.plot.setLabel("left", f"z{_sub(ay + 1)}")

    def set_labels(self, labels: np.ndarray | None,
                   groups: list[tuple[np.ndarray | None, str, str]]) -> None:
        """A new data set: new point colours, no model, no path, a fresh fit."""
        self.cloud.set_groups([pg.mkColor(c) for _i, _n, c in groups],
                              _colour_index(labels, groups))
        self.set_path(None)
        self.auto_fit = True
        self.clear()

    def clear(self) -> None:
        """Forget the model (after Reset): an empty map until the next model arrives."""
        self.model = None
        self.points = np.zeros((0, 2), dtype=np.float32)
        self.cloud.set_points(self.points)
        name = SLOT_TITLES[self.slot]
        self._title = f"{name} — not trained (press Start)"
        if self.data_label:
            self._title += f" · {self.data_label}"
        self.plot.setTitle(self._title)

    def set_path(self, path: np.ndarray | None) -> None:
        """Draw ``path`` (N, K) projected to the shown axes (``None`` hides it)."""
        self.path = None if path is None else np.asarray(path, dtype=np.float64)
        self._draw_path()

    def _draw_path(self) -> None:
        path = self.path
        ax, ay = self.axes
        if path is None or path.ndim != 2 or path.shape[1] <= max(ax, ay):
            self.path_item.setData([], [])
            self.path_item.setVisible(False)
            return
        self.path_item.setData(path[:, ax], path[:, ay])
        self.path_item.setVisible(True)

    def set_current(self, xy: tuple[float, float] | None) -> None:
        visible = xy is not None
        for item in (self.vline, self.hline, self.marker):
            item.setVisible(visible)
        if xy is not None:
            self.vline.setValue(xy[0])
            self.hline.setValue(xy[1])
            self.marker.setPos(float(xy[0]), float(xy[1]))

    def _on_manual_range(self, *_args) -> None:
        self.auto_fit = False  # the user panned or zoomed: stop following the data

    def fit(self, force: bool) -> None:
        """Keep every point in view without re-ranging on every frame.

        The range only changes when points leave it or the cloud shrinks to under half of
        it, so the axes (slow to re-tick) are not regenerated 30 times a second.
        """
        if force:
            self.auto_fit = True
        bounds = self.cloud.bounds()
        if not self.auto_fit or bounds is None:
            return
        (x0, x1), (y0, y1) = bounds
        span_x, span_y = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
        (cx0, cx1), (cy0, cy1) = self.vb.viewRange()
        inside = cx0 <= x0 and x1 <= cx1 and cy0 <= y0 and y1 <= cy1
        # With a locked aspect one axis is always wider than the data: only both count.
        loose = span_x < 0.5 * (cx1 - cx0) and span_y < 0.5 * (cy1 - cy0)
        if force or not inside or loose:
            pad_x, pad_y = 0.12 * span_x, 0.12 * span_y
            self.vb.setRange(xRange=(x0 - pad_x, x1 + pad_x), yRange=(y0 - pad_y, y1 + pad_y),
                             padding=0)

    def nearest(self, scene_pos: QPointF) -> int | None:
        """Index of the data point within a few pixels of ``scene_pos``, if any."""
        if len(self.points) == 0:
            return None
        p = self.vb.mapSceneToView(scene_pos)
        px, py = self.vb.viewPixelSize()
        if not (px > 0 and py > 0):
            return None
        dx = (self.points[:, 0] - p.x()) / px
        dy = (self.points[:, 1] - p.y()) / py
        d2 = dx * dx + dy * dy
        i = int(np.argmin(d2))
        return i if d2[i] <= HOVER_RADIUS_PX**2 else None


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


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
        self._current: tuple[float, float] | None = None
        self.updates = 0  # map redraws so far (benchmark)
        labels = ds.labels

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.setToolTip("")
        self.view.ci.setContentsMargins(4, 4, 4, 4)
        self.maps = {slot: _MapPlot(slot, labels) for slot in Slot}
        # One legend for both maps, in a row of its own above them (never over the points).
        self._label_names: Sequence[str] | None = None
        self.legend = pg.LegendItem(colCount=1, labelTextSize="9pt", horSpacing=10,
                                    frame=False, labelTextColor="#222")
        self._legend_samples: list[pg.ScatterPlotItem] = []
        self._fill_legend(label_groups(labels))
        self._legend_title = "digit label (colour only; labels are never used in training)"
        self.legend.setToolTip(self._legend_title)
        self.data_name = "digits"
        for m in self.maps.values():
            action = QAction("Export latent map…", m.vb.menu)
            action.triggered.connect(self.exportRequested)
            m.vb.menu.addSeparator()
            m.vb.menu.addAction(action)
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
            "vae": "Show the VAE's latent map (smooth: every point decodes to a digit-like image)",
            "ae": "Show the plain autoencoder's map (gappy: empty regions decode to garbage)",
            "both": "Show both maps side by side; a click decodes the same z in both",
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
        fit = QToolButton()
        fit.setText("Fit view")
        fit.setToolTip("Zoom to show every point again (pan: drag, zoom: wheel)")
        fit.clicked.connect(self.fit_view)
        row.addWidget(fit)
        self._hint = QLabel("Click: decode · Shift/Ctrl+click: path A→B · hover: image · "
                            "drag: pan · wheel: zoom · right-click: export")
        self._hint.setStyleSheet("color: #555;")
        self._hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
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
        self.observe(s.mapModeChanged, self._show_mode)
        self.observe(s.axesChanged, lambda _x, _y: self._redraw_axes())
        self.observe(s.currentPointChanged, lambda: self.set_current(s.current_xy))
        self.observe(s.pathChanged, lambda path: self.set_path(s.primary_slot, path))
        self._show_mode(s.map_mode)
        for slot in Slot:
            self.show_slot(slot)
        self.set_current(s.current_xy)

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
        self.view.ci.addItem(self.legend, row=0, col=0, colspan=len(slots))
        for col, slot in enumerate(slots):
            self.view.ci.addItem(self.maps[slot].plot, row=1, col=col)
            self.maps[slot].set_current(self._current)
        self._hide_hover()

    def _fill_legend(self, groups: list[tuple[np.ndarray | None, str, str]]) -> None:
        self.legend.clear()
        self._legend_samples = []
        shown = groups[:MAX_LEGEND_ENTRIES]
        self.legend.setColumnCount(min(len(shown), 12))
        for _idx, name, colour in shown:
            sample = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(colour), name=name)
            self._legend_samples.append(sample)
            self.legend.addItem(sample, name)
        if len(groups) > len(shown):
            more = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush("#bbbbbb"))
            self._legend_samples.append(more)
            self.legend.addItem(more, f"+{len(groups) - len(shown)} more")

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
        """Redraw ``slot``'s map with the session's model and its codes of the data."""
        model = self.session.model(slot)
        m = self.maps[Slot(slot)]
        if model is None:
            m.clear()
            return
        if model.latent_dim != self._ax_x.count():
            self._set_axis_choices(model.latent_dim)
        m.set_model(model, self.session.analysis.codes(model).mu, self.session.axes_for(slot))
        self.updates += 1
        self.mapUpdated.emit(slot)

    def set_current(self, xy: tuple[float, float] | None) -> None:
        """Mark the current point (data coordinates on the shown axes) in every map."""
        self._current = xy
        for slot in self.visible_slots():  # a hidden map catches up in set_mode
            self.maps[slot].set_current(xy)

    def set_path(self, slot: str, path: np.ndarray | None) -> None:
        """Show the interpolation path on ``slot``'s map only (``None`` hides it)."""
        for s, m in self.maps.items():
            m.set_path(path if s == slot else None)

    def fit_view(self) -> None:
        """Zoom every map to show all its points again."""
        for m in self.maps.values():
            m.fit(force=True)

    # -- export ---------------------------------------------------------------------------
    def export_png(self, path: str, width: int, height: int | None = None) -> None:
        """Write the visible map(s) as a ``width`` × ``height`` PNG (never opens a dialog);
        the height defaults to the map's own aspect ratio."""
        if height is None:
            height = self.natural_export_height(width)
        if width < 1 or height < 1:
            raise ValueError(f"export size must be positive, got {width}×{height}")
        exporter = ImageExporter(self.view.ci)
        params = exporter.parameters()
        params["width"] = int(width)
        # Setting the height re-derives the width from the aspect ratio unless that
        # handler is blocked; the scene then renders centred in the requested canvas.
        params.param("height").setValue(int(height), blockSignal=exporter.heightChanged)
        params["background"] = pg.mkColor("w")
        exporter.export(str(path))

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
        if event.type() == QEvent.Type.MouseButtonPress:
            self.pressed.emit()  # lets the worker give the click the CPU (hold_worker)
        return False

    def _map_at(self, scene_pos: QPointF) -> _MapPlot | None:
        for slot in self.visible_slots():
            m = self.maps[slot]
            if m.vb.sceneBoundingRect().contains(scene_pos):
                return m
        return None

    def _on_scene_clicked(self, event) -> None:  # pyqtgraph MouseClickEvent
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
        self.session.set_current_xy(x, y)

    def _on_scene_moved(self, scene_pos: QPointF) -> None:
        m = self._map_at(scene_pos)
        index = None if m is None else m.nearest(scene_pos)
        if m is None or index is None:
            self._hide_hover()
            return
        self._show_hover(m, index, scene_pos)

    def _show_hover(self, m: _MapPlot, index: int, scene_pos: QPointF) -> None:
        self.hovered_index = index
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

    def _set_axis_choices(self, k: int) -> None:
        for combo in (self._ax_x, self._ax_y):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([f"z{_sub(i + 1)}" for i in range(k)])
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
                m.set_model(m.model, self.session.analysis.codes(m.model).mu,
                            self.session.axes_for(slot))
