"""The decoded-manifold layer on a real plot with the real background worker."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from latentlab.core import load_model
from latentlab.core.manifold import decode_mosaic
from latentlab.core.pca import axes_plane
from latentlab.gui.background import BackgroundService
from latentlab.gui.widgets.manifold_layer import (
    MANIFOLD_ALPHA,
    TILE_GAP,
    ManifoldLayer,
    mosaic_rgba,
)
from latentlab.paths import resource_path


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(600, 450)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def service():
    s = BackgroundService()
    yield s
    s.shutdown()


def _rendered(qtbot, layer: ManifoldLayer) -> None:
    qtbot.waitUntil(lambda: not layer.pending(), timeout=10_000)


def test_the_layer_draws_the_decodes_of_the_visible_region_behind_the_points(
        qtbot, plot, service) -> None:
    vae = load_model(resource_path("pretrained-vae.npz")).model
    vb = plot.getPlotItem().getViewBox()
    scatter = pg.ScatterPlotItem(x=[-0.2, 0.3], y=[0.1, 0.4])
    plot.addItem(scatter)
    plot.setXRange(-3, 3, padding=0)
    plot.setYRange(-2, 2, padding=0)
    layer = ManifoldLayer(vb, service, "manifold:vae")
    plane = axes_plane(2, 0, 1)
    layer.set_model(vae, plane, (8, 8))
    assert not layer.item.isVisible()  # off until asked for
    with qtbot.waitSignal(layer.rendered, timeout=10_000):
        layer.set_enabled(True)
    assert layer.item.isVisible() and layer.item.zValue() < scatter.zValue()
    x0, y0, x1, y1 = layer.shown_rect
    (vx0, vx1), (vy0, vy1) = vb.viewRange()
    assert x0 <= vx0 and y0 <= vy0 and x1 >= vx1 and y1 >= vy1
    nx, ny = layer.shown_grid
    mosaic = decode_mosaic(vae, plane, layer.shown_rect, nx, ny, (8, 8), gap=TILE_GAP)
    np.testing.assert_array_equal(layer.item.image, mosaic_rgba(mosaic))
    assert layer.item.image.shape == (ny * (8 + TILE_GAP), nx * (8 + TILE_GAP), 4)
    bounds = layer.item.mapRectToParent(layer.item.boundingRect())
    assert bounds.left() == pytest.approx(x0) and bounds.bottom() == pytest.approx(y1)

    # panning asks for the new region; the background never widens the auto-range
    with qtbot.waitSignal(layer.rendered, timeout=10_000):
        plot.setXRange(1, 7, padding=0)
    assert layer.shown_rect[2] >= 7
    vb.autoRange()
    (ax0, ax1), _ = vb.viewRange()
    assert ax1 - ax0 < 1.0  # only the points count

    # a new snapshot is decoded too
    trained_on = vae.copy()
    trained_on.weights[:] *= 0.5
    with qtbot.waitSignal(layer.rendered, timeout=10_000):
        layer.set_model(trained_on, plane, (8, 8))
    assert layer.shown_model is trained_on

    layer.set_enabled(False)
    assert not layer.item.isVisible()
    _rendered(qtbot, layer)


def test_a_burst_of_snapshots_shows_the_last_one(qtbot, plot, service) -> None:
    vae = load_model(resource_path("pretrained-vae.npz")).model
    layer = ManifoldLayer(plot.getPlotItem().getViewBox(), service, "manifold:vae")
    layer.set_enabled(True)
    plane = axes_plane(2, 0, 1)
    snapshots = [vae.copy() for _ in range(20)]
    for s in snapshots:
        layer.set_model(s, plane, (8, 8))
    _rendered(qtbot, layer)
    assert layer.shown_model is snapshots[-1]


def test_mosaic_rgba_flips_the_rows_and_makes_the_gaps_transparent() -> None:
    mosaic = np.array([[0.0, np.nan], [1.0, 0.5]], dtype=np.float32)
    rgba = mosaic_rgba(mosaic)
    assert rgba.shape == (2, 2, 4) and rgba.dtype == np.uint8
    np.testing.assert_array_equal(rgba[0, :, 0], [255, 128])  # the bottom row first
    np.testing.assert_array_equal(rgba[1, 0], [0, 0, 0, MANIFOLD_ALPHA])
    assert rgba[1, 1, 3] == 0


def test_a_view_change_after_shutdown_asks_for_nothing(qtbot, plot, service) -> None:
    vae = load_model(resource_path("pretrained-vae.npz")).model
    layer = ManifoldLayer(plot.getPlotItem().getViewBox(), service, "manifold:vae")
    layer.set_model(vae, axes_plane(2, 0, 1), (8, 8))
    layer.set_enabled(True)
    _rendered(qtbot, layer)
    service.shutdown()
    assert service.stopped
    layer.request()  # what a resize of a closing window does: no error, no task
    assert not layer.pending()
