"""One latent map: a PlotItem with the encoded points of a slot's model, coloured by
label, with a crosshair, the prior's circles (VAE), the interpolation path and a fit that
follows the data without re-ranging every frame. The latent map panel shows one or two.

Everything is drawn through the map's :class:`~latentlab.core.pca.LatentPlane` (two
latent axes, or the codes' first two principal components): codes, the path, the
codebook and the prior's circles are projected onto it, and the axis titles and the
title's second line say which plane it is and what it holds fixed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem

from latentlab.core import Model
from latentlab.core.claims import PRIOR_SCALE_SIGMA
from latentlab.core.pca import LatentPlane

from ..slots import SLOT_TITLES, ModelKind, Slot
from .codebook_overlay import CodebookOverlay
from .point_cloud import PointCloudItem

#: Matplotlib's "tab10": ten colours that stay distinguishable for most colour-vision types.
LABEL_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
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


class MapPlot:
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
        # pyqtgraph's own menus (View All / Mouse Mode / Plot Options / Export…) are off:
        # the panel shows its own on a right-click.
        self.plot.setMenuEnabled(False)
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
        # Side by side, the image hovered in the other map is ringed in this one: the maps
        # are linked by data, not by coordinates.
        self.link_marker = QGraphicsEllipseItem(-9.0, -9.0, 18.0, 18.0)
        self.link_marker.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.link_marker.setPen(pg.mkPen("#e6007e", width=2.5))
        # The user's drawing: its code (a star) and, for a VAE, its q(z|x) 1σ ellipse;
        # the hovered image's 1σ ellipse.
        self.drawing_marker = pg.ScatterPlotItem(size=18, symbol="star",
                                                 brush=pg.mkBrush("#ffd400"),
                                                 pen=pg.mkPen("#111", width=1.2))
        self.drawing_ellipse = pg.PlotDataItem(pen=pg.mkPen("#111", width=1.5))
        self.hover_ellipse = pg.PlotDataItem(
            pen=pg.mkPen("#e6007e", width=1.5, style=Qt.PenStyle.DashLine))
        for item in (self.vline, self.hline, self.marker, self.link_marker,
                     self.drawing_marker, self.drawing_ellipse, self.hover_ellipse):
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
            for r in (1.0, 2.0, 3.0):  # moved to the plane's prior centre (set_model)
                ring = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
                ring.setPen(ring_pen)
                ring.setZValue(0)
                ring.setToolTip(f"{r:g}σ circle of the prior N(0, I)")
                self.plot.addItem(ring, ignoreBounds=True)
                self.prior_rings.append(ring)
        # The VAE's collapse banner: a child of the view box (not of its data), so it stays
        # in the map's top-left corner at any zoom and is part of every export.
        self.banner = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(255, 243, 205, 235),
                                  border=pg.mkPen("#e0b040"), color="#5c4300")
        self.banner.setParentItem(self.vb)
        self.banner.setZValue(20)
        self.banner.setVisible(False)
        self.vb.sigResized.connect(self._place_banner)
        self.prior_scale = False  # axes fixed to ±PRIOR_SCALE_SIGMA instead of the codes
        self.codebook = CodebookOverlay(self.plot)  # drawn for a VQ-VAE only
        self.model: Model | None = None
        self.data_label = ""  # e.g. "squares, 600 images" after an import ("" = digits)
        self.points = np.zeros((0, 2), dtype=np.float32)  # the shown 2-D coordinates
        self.plane: LatentPlane | None = None  # what the map shows of the latent
        self._axis_titles = ("z₁", "z₂")

    def set_model(self, model: Model, mu: np.ndarray, plane: LatentPlane | None,
                  image_codes: np.ndarray | None = None) -> None:
        """Show ``model`` whose codes of the data are ``mu: (N, K)``, projected onto
        ``plane`` (None: a 1-D latent, no map); for a VQ-VAE (``mu`` is z_e)
        ``image_codes: (N,)`` are the codes the images snap to."""
        if plane is None:
            self.clear(f"{SLOT_TITLES[self.slot]} — a {model.latent_dim}-D latent has no map "
                       "(it needs 2 dims)")
            return
        self.model, self.plane = model, plane
        self.points = np.ascontiguousarray(plane.project(mu), dtype=np.float32)
        self.cloud.set_points(self.points)
        self._place_prior_rings()
        self.fit(force=False)
        self.codebook.show_model(model, plane, self.points, image_codes)
        kind = ModelKind.parse(model.kind)
        name = kind.display_name if self.slot == Slot.AE else SLOT_TITLES[self.slot]
        if kind.samples_noise:
            title = f"{name} latent space (μ)"
        elif kind.has_codebook:  # with more dims the cells are the slice a click decodes in
            title = f"{name} latent space (z_e" + (
                "; cells in the shown plane)" if model.latent_dim > 2 else ")")
        else:
            title = f"{name} latent space"
        if self.data_label:
            title += f" · {self.data_label}"
        caption = view_caption(plane)
        if caption:
            title += f"<br><span style='font-size:8pt; color:#555'>{caption}</span>"
        self._set_title(title)
        titles = axis_titles(plane)
        if titles != self._axis_titles:
            self._axis_titles = titles
            self.plot.setLabel("bottom", titles[0])
            self.plot.setLabel("left", titles[1])
        self._draw_path()

    def _set_title(self, title: str) -> None:
        if title != self._title:  # a title change re-lays-out the plot: only when needed
            self._title = title
            self.plot.setTitle(title)

    @property
    def title(self) -> str:
        """The map's title as set (HTML: the caption is its second line)."""
        return self._title

    @property
    def axis_labels(self) -> tuple[str, str]:
        """The horizontal and vertical axis titles as shown."""
        return self._axis_titles

    def _place_prior_rings(self) -> None:
        """Centre the prior's circles where the plane shows z = 0. The prior N(0, I)
        projected onto an orthonormal plane is N(centre, I₂): circles of the same radii."""
        if self.plane is None:
            return
        cx, cy = (float(v) for v in self.plane.prior_centre)
        for ring in self.prior_rings:
            ring.setPos(cx, cy)

    def set_labels(self, labels: np.ndarray | None,
                   groups: list[tuple[np.ndarray | None, str, str]]) -> None:
        """A new data set: new point colours, no model, no path, a fresh fit."""
        self.cloud.set_groups([pg.mkColor(c) for _i, _n, c in groups],
                              _colour_index(labels, groups))
        self.set_path(None)
        self.auto_fit = True
        self.clear()

    def clear(self, title: str | None = None) -> None:
        """Forget the model (after Reset): an empty map until the next model arrives."""
        self.model = self.plane = None
        self.codebook.show_model(None, None, self.points, None)
        self.points = np.zeros((0, 2), dtype=np.float32)
        self.cloud.set_points(self.points)
        title = title or f"{SLOT_TITLES[self.slot]} — not trained (press Start)"
        if self.data_label:
            title += f" · {self.data_label}"
        self._set_title(title)
        self._draw_path()

    def set_path(self, path: np.ndarray | None) -> None:
        """Draw ``path`` (N, K) projected onto the map's plane (``None`` hides it)."""
        self.path = None if path is None else np.asarray(path, dtype=np.float64)
        self._draw_path()

    def _draw_path(self) -> None:
        path, plane = self.path, self.plane
        if path is None or plane is None or path.ndim != 2 or path.shape[1] != plane.latent_dim:
            self.path_item.setData([], [])
            self.path_item.setVisible(False)
            return
        uv = plane.project(path)
        self.path_item.setData(uv[:, 0], uv[:, 1])
        self.path_item.setVisible(True)

    def set_current(self, xy: tuple[float, float] | None) -> None:
        visible = xy is not None
        for item in (self.vline, self.hline, self.marker):
            item.setVisible(visible)
        if xy is not None:
            self.vline.setValue(xy[0])
            self.hline.setValue(xy[1])
            self.marker.setPos(float(xy[0]), float(xy[1]))

    def show_drawing(self, xy: np.ndarray | None, ring: np.ndarray | None) -> None:
        """Mark the drawing's code ``xy: (2,)`` and its σ-ellipse ``ring: (n, 2)``."""
        self.drawing_marker.setVisible(xy is not None)
        if xy is not None:
            self.drawing_marker.setData([float(xy[0])], [float(xy[1])])
        _show_ring(self.drawing_ellipse, ring)

    def show_hover_ellipse(self, ring: np.ndarray | None) -> None:
        """The hovered image's q(z|x) σ-ellipse ``(n, 2)`` (``None`` hides it)."""
        _show_ring(self.hover_ellipse, ring)

    def show_link(self, index: int | None) -> None:
        """Ring data image ``index`` (hovered in the other map); ``None`` hides the ring."""
        visible = index is not None and 0 <= index < len(self.points)
        self.link_marker.setVisible(visible)
        if visible and index is not None:
            x, y = self.points[index]
            self.link_marker.setPos(float(x), float(y))

    def _on_manual_range(self, *_args) -> None:
        self.auto_fit = False  # the user panned or zoomed: stop following the data

    def set_prior_scale(self, on: bool) -> None:
        """Fix the axes to ±PRIOR_SCALE_SIGMA (the prior's scale) or follow the codes again."""
        self.prior_scale = bool(on)
        self.fit(force=True)

    def show_banner(self, text: str | None) -> None:
        """Show ``text`` in the map's banner (``None`` hides it)."""
        if text is None:
            self.banner.setVisible(False)
            return
        self.banner.setText(text)
        self.banner.setVisible(True)
        self._place_banner()

    def _place_banner(self, *_args) -> None:
        width = self.vb.width()
        if width > 40:
            self.banner.setTextWidth(width - 16)
        self.banner.setPos(8, 6)

    def fit(self, force: bool) -> None:
        """Keep every point in view without re-ranging on every frame.

        The range only changes when points leave it or the cloud shrinks to under half of
        it, so the axes (slow to re-tick) are not regenerated 30 times a second.
        """
        if force:
            self.auto_fit = True
        if self.prior_scale:
            s = PRIOR_SCALE_SIGMA
            cx, cy = (0.0, 0.0) if self.plane is None else self.plane.prior_centre
            if force or self.auto_fit:
                self.vb.setRange(xRange=(cx - s, cx + s), yRange=(cy - s, cy + s), padding=0)
            return
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


def _show_ring(item: pg.PlotDataItem, ring: np.ndarray | None) -> None:
    item.setVisible(ring is not None)
    if ring is not None:
        item.setData(ring[:, 0], ring[:, 1])


def subscript(n: int) -> str:
    """12 → "₁₂" (axis names such as z₁₂)."""
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def axis_names(plane: LatentPlane) -> tuple[str, str]:
    """The plane's axes as the hover card and status bar name them: "z₃", "PC₁"."""
    def name(text: str) -> str:
        stem = text.rstrip("0123456789")
        return stem + subscript(int(text[len(stem):]))

    return name(plane.axis_names[0]), name(plane.axis_names[1])


def axis_titles(plane: LatentPlane) -> tuple[str, str]:
    """The map's axis titles: "z₁", or "PC₁ (61 % of variance)" in a PCA view."""
    names = axis_names(plane)
    if plane.explained is None:
        return names
    return (f"{names[0]} ({100 * plane.explained[0]:.0f} % of variance)",
            f"{names[1]} ({100 * plane.explained[1]:.0f} % of variance)")


def view_caption(plane: LatentPlane) -> str:
    """What the map holds fixed, as its title's second line ("" for a 2-D latent's axes)."""
    k = plane.latent_dim
    if plane.is_pca:
        if k == 2:
            return "PCA of the codes"
        return f"PCA of the codes; other {k - 2} direction{'s' * (k > 3)} at their mean"
    if k == 2:
        return ""
    shown = {int(np.argmax(row)) for row in plane.basis}
    rest = [f"z{subscript(i + 1)}" for i in range(k) if i not in shown]
    return (", ".join(rest) if len(rest) <= 3 else f"the other {len(rest)} dims") + " held at 0"


__all__ = ["HOVER_RADIUS_PX", "LABEL_COLOURS", "MapPlot", "axis_names", "axis_titles",
           "label_groups", "subscript", "view_caption"]
