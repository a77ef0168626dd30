"""The latent map's PCA view on the real window, with really trained models of more than two
latent dims: what it shows is the core's projection of the codes, and everything a click,
a hover, a drawing, an endpoint, the manifold or a VQ-VAE's codebook does goes through the
same plane."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from latentlab.core import TrainConfig, Trainer, load_digits, load_model, save_model
from latentlab.core.claims import PRIOR_SCALE_SIGMA
from latentlab.core.manifold import decode_mosaic
from latentlab.core.pca import axes_plane, pca_plane
from latentlab.core.vqvae import cell_polygon
from latentlab.gui.actions.files import open_model_file
from latentlab.gui.slots import AXES_VIEW, PCA_VIEW
from latentlab.gui.widgets.manifold_layer import TILE_GAP, mosaic_rgba

TIMEOUT = 30_000  # ms: generous, the machine is shared


def _saved(tmp_path_factory: pytest.TempPathFactory, name: str, config: TrainConfig) -> Path:
    trainer = Trainer(config, load_digits().images)
    list(trainer.train())
    path = tmp_path_factory.mktemp("models") / name
    save_model(path, trainer.model, config, trainer.history)
    return path


@pytest.fixture(scope="module")
def vae4_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-D VAE trained for 6 epochs on the digits."""
    return _saved(tmp_path_factory, "vae4.npz",
                  TrainConfig(model="vae", latent_dim=4, epochs=6, warmup_epochs=0, seed=2))


@pytest.fixture(scope="module")
def vqvae3_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VQ-VAE with 3-D codes, trained for 3 epochs."""
    return _saved(tmp_path_factory, "vq3.npz",
                  TrainConfig(model="vqvae", latent_dim=3, codes=16, epochs=3, seed=1))


def _open(qtbot, window, path: Path, slot: str):
    open_model_file(window.training, path)
    model = window.session.model(slot)
    qtbot.waitUntil(lambda: window.panels["map"].maps[slot].model is model, timeout=TIMEOUT)
    return model


def _pca_on(qtbot, window, slot: str = "vae"):
    """Turn the PCA view on with the map's toolbar button, as a user does."""
    mp = window.panels["map"]
    button = mp.findChild(QToolButton, "pcaViewButton")
    assert button is not None and button.isVisible()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: mp.maps[slot].plane is not None and mp.maps[slot].plane.is_pca,
                    timeout=TIMEOUT)
    return mp.maps[slot]


def _click(qtbot, window, slot: str, fx: float, fy: float,
           modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
           ) -> tuple[float, float]:
    """Left-click at a fraction of ``slot``'s plot area; the map point it lands on."""
    m = window.panels["map"].maps[slot]
    view = window.panels["map"].view
    rect = m.vb.sceneBoundingRect()
    pixel = view.mapFromScene(QPointF(rect.left() + fx * rect.width(),
                                      rect.top() + fy * rect.height()))
    expected = m.vb.mapSceneToView(view.mapToScene(pixel))
    before = window.panels["decode"].decodes
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier,
                     QPoint(pixel.x(), pixel.y()))
    qtbot.waitUntil(lambda: window.panels["decode"].decodes > before, timeout=TIMEOUT)
    return expected.x(), expected.y()


def test_the_pca_view_shows_the_codes_projection_and_says_so(qtbot, window,
                                                             vae4_file: Path) -> None:
    model = _open(qtbot, window, vae4_file, "vae")
    mp = window.panels["map"]
    m = mp.maps["vae"]
    mu, _ = model.encode(window.session.dataset.images)
    # The axes view first: two latent dims, the other two held at 0, said in the caption.
    assert m.axis_labels == ("z₁", "z₂") and "z₃, z₄ held at 0" in m.title
    np.testing.assert_allclose(m.points, mu[:, :2], atol=1e-6)
    # The same toggle is in the View menu and the map's context menu.
    assert mp.pca_action in window.menus.menus["view"].actions()
    assert mp.pca_action in mp.context_menu.actions()

    _pca_on(qtbot, window)
    assert window.session.map_view == PCA_VIEW and mp.pca_action.isChecked()
    expected = pca_plane(mu)
    shown = window.session.plane("vae")
    assert shown is m.plane and shown.is_pca
    # The core's PCA of these codes (up to each axis's sign, kept from the last fit) ...
    np.testing.assert_allclose(np.abs(np.einsum("ik,ik->i", shown.basis, expected.basis)), 1.0,
                               atol=1e-6)
    np.testing.assert_allclose(shown.origin, mu.mean(axis=0), atol=1e-6)
    # ... and the points are exactly the codes projected onto it.
    np.testing.assert_allclose(m.points, shown.project(mu), atol=1e-5)
    e1, e2 = expected.explained
    assert m.axis_labels == (f"PC₁ ({100 * e1:.0f} % of variance)",
                             f"PC₂ ({100 * e2:.0f} % of variance)")
    assert "PCA of the codes; other 2 directions at their mean" in m.title
    combos = (mp.toolbar.ax_x, mp.toolbar.ax_y)
    assert all(c.isVisibleTo(mp) and not c.isEnabled() for c in combos)
    assert "PCA view is on" in combos[0].toolTip()
    # The smoothness caption under the map is measured over the same plane.
    watch = mp.smoothness.watch
    qtbot.waitUntil(lambda: watch.result("vae") is not None
                    and watch.result("vae").plane is window.session.plane("vae"),
                    timeout=TIMEOUT)

    # Back to two chosen axes: labels, caption and points follow.
    mp.pca_action.trigger()
    qtbot.waitUntil(lambda: not m.plane.is_pca, timeout=TIMEOUT)
    assert window.session.map_view == AXES_VIEW
    assert m.axis_labels == ("z₁", "z₂") and "PCA" not in m.title
    np.testing.assert_allclose(m.points, mu[:, :2], atol=1e-6)
    assert all(c.isEnabled() for c in combos)


def test_a_click_decodes_the_lifted_point_and_everything_agrees(qtbot, window,
                                                                vae4_file: Path) -> None:
    model = _open(qtbot, window, vae4_file, "vae")
    m = _pca_on(qtbot, window)
    plane = window.session.plane("vae")
    decode = window.panels["decode"]
    u, v = _click(qtbot, window, "vae", 0.3, 0.65)
    z = plane.lift(np.array([[u, v]]))
    np.testing.assert_allclose(decode.z("vae"), z[0], atol=1e-5)
    np.testing.assert_allclose(decode.image("vae"),
                               model.decode(z.astype(np.float32))[0], atol=1e-6)
    # Not the axes view's z (u, v, 0, 0): the other directions are at the codes' mean.
    assert np.abs(decode.z("vae") - [u, v, 0.0, 0.0]).max() > 0.05
    assert m.marker.pos().x() == pytest.approx(u) and m.marker.pos().y() == pytest.approx(v)

    # Shift+click and Ctrl+click: interpolation endpoints lifted the same way, and the
    # path drawn on the map starts and ends at the clicked points.
    a = _click(qtbot, window, "vae", 0.25, 0.3, Qt.KeyboardModifier.ShiftModifier)
    b = _click(qtbot, window, "vae", 0.7, 0.75, Qt.KeyboardModifier.ControlModifier)
    strip = window.panels["interpolation"]
    np.testing.assert_allclose(strip.endpoint("a"), plane.lift(np.array([a]))[0], atol=1e-5)
    np.testing.assert_allclose(strip.endpoint("b"), plane.lift(np.array([b]))[0], atol=1e-5)
    qtbot.waitUntil(lambda: m.path_item.isVisible(), timeout=TIMEOUT)
    xs, ys = m.path_item.getData()
    np.testing.assert_allclose([xs[0], ys[0]], a, atol=1e-5)
    np.testing.assert_allclose([xs[-1], ys[-1]], b, atol=1e-5)

    # The user's drawing: its μ and its q(z|x) 1σ ellipse, projected onto the plane.
    image = window.session.dataset.images[5]
    window.session.set_drawing(image)
    mu, log_var = model.encode(image[None, :])
    xs, ys = m.drawing_marker.getData()
    np.testing.assert_allclose([xs[0], ys[0]], plane.project(mu)[0], atol=1e-5)
    ring = plane.ellipse(mu[0], np.exp(log_var[0]))
    np.testing.assert_allclose(np.column_stack(m.drawing_ellipse.getData()), ring, atol=1e-5)

    # Hover: the card names the PCs, the ellipse is the image's projected q(z|x).
    mp = window.panels["map"]
    index = 321
    mp._on_scene_moved(m.vb.mapViewToScene(QPointF(*map(float, m.points[index]))))
    hovered = mp.hovered_index
    assert hovered is not None and "PC₁, PC₂ = (" in mp.hover_card.text.text()
    mus, log_vars = model.encode(window.session.dataset.images)
    np.testing.assert_allclose(np.column_stack(m.hover_ellipse.getData()),
                               plane.ellipse(mus[hovered], np.exp(log_vars[hovered])), atol=1e-5)
    mp._hide_hover()

    # The prior N(0, I) is drawn where the plane shows z = 0.
    for ring_item in m.prior_rings:
        assert (ring_item.pos().x(), ring_item.pos().y()) == pytest.approx(
            tuple(plane.prior_centre))
    # The prior scale view: ±3.5σ around that centre.
    mp.prior_scale_action.trigger()
    (x0, x1), (y0, y1) = m.vb.viewRange()
    assert ((x0 + x1) / 2, (y0 + y1) / 2) == pytest.approx(tuple(plane.prior_centre), abs=1e-6)
    assert min(x1 - x0, y1 - y0) == pytest.approx(2 * PRIOR_SCALE_SIGMA, rel=1e-3)


def test_the_manifold_in_the_pca_view_decodes_the_lifted_grid(qtbot, window,
                                                              vae4_file: Path) -> None:
    model = _open(qtbot, window, vae4_file, "vae")
    _pca_on(qtbot, window)
    mp = window.panels["map"]
    mp.manifold_action.trigger()
    qtbot.waitUntil(lambda: mp.manifold_layer("vae") is not None
                    and mp.manifold_layer("vae").shown_model is model
                    and not mp.manifold_layer("vae").pending(), timeout=TIMEOUT)
    layer = mp.manifold_layer("vae")
    plane = window.session.plane("vae")
    nx, ny = layer.shown_grid
    mosaic = decode_mosaic(model, plane, layer.shown_rect, nx, ny, (8, 8), gap=TILE_GAP)
    np.testing.assert_array_equal(layer.item.image, mosaic_rgba(mosaic))
    # Not the axes view's slice: the other directions at the mean decode other images.
    axes = decode_mosaic(model, axes_plane(4, 0, 1), layer.shown_rect, nx, ny, (8, 8),
                         gap=TILE_GAP)
    assert np.nanmax(np.abs(axes - mosaic)) > 0.1


def test_the_plane_refits_as_the_model_trains_without_mirroring(qtbot, window,
                                                                vae4_file: Path) -> None:
    _open(qtbot, window, vae4_file, "vae")
    m = _pca_on(qtbot, window)
    mp = window.panels["map"]
    planes = [window.session.plane("vae")]
    mp.mapUpdated.connect(lambda slot: planes.append(window.session.plane("vae"))
                          if slot == "vae" else None)
    training = window.panels["training"]
    training.epochs_box.setValue(len(window.session.history("vae")) + 8)
    # Paced (10 epochs a second): at full speed the run could end within a frame or two,
    # and "it refitted as it trained" would depend on the machine's speed.
    training.speed_box.setCurrentIndex(training.speed_box.findData(10.0))
    training.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state.name == "FINISHED", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    final = window.session.model("vae")
    qtbot.waitUntil(lambda: m.model is final, timeout=TIMEOUT)
    refits = [p for i, p in enumerate(planes) if i == 0 or p is not planes[i - 1]]
    assert len(refits) >= 3  # refitted with the encodings, as the model trained
    for before, after in itertools.pairwise(refits):
        assert (np.einsum("ik,ik->i", before.basis, after.basis) > 0).all()
    mu, _ = final.encode(window.session.dataset.images)
    np.testing.assert_allclose(m.points, window.session.plane("vae").project(mu), atol=1e-5)


def test_a_2d_latent_gets_the_pca_view_too(qtbot, window) -> None:
    m = _pca_on(qtbot, window)  # the shipped 2-D VAE
    assert m.plane.explained is not None and sum(m.plane.explained) == pytest.approx(1.0)
    assert "PCA of the codes" in m.title and "directions" not in m.title
    mu, _ = window.session.model("vae").encode(window.session.dataset.images)
    np.testing.assert_allclose(m.points, m.plane.project(mu), atol=1e-5)
    assert "With a 2-D latent" in window.panels["map"].pca_action.toolTip()


def test_the_codebook_is_drawn_through_the_pca_plane(qtbot, window, vqvae3_file: Path) -> None:
    model = _open(qtbot, window, vqvae3_file, "ae")
    m = _pca_on(qtbot, window, "ae")
    plane = window.session.plane("ae")
    overlay = m.codebook
    overlay.flush()
    np.testing.assert_allclose(np.column_stack(overlay.codes.getData()),
                               plane.project(model.codebook), atol=1e-5)
    window.session.highlight_code(0)
    overlay.flush()
    polygon = overlay.cell.polygon()
    corners = np.array([[polygon.at(i).x(), polygon.at(i).y()] for i in range(polygon.size())])
    np.testing.assert_allclose(corners, cell_polygon(model.codebook, plane, overlay._covered, 0),
                               atol=1e-9)
    assert "cells in the shown plane" in m.title


def test_a_picked_z_stays_exact_and_its_marker_follows_each_refit(session,
                                                                   vae4_file: Path) -> None:
    saved = load_model(vae4_file)
    session.adopt("vae", saved.model, saved.config, saved.history)
    session.set_map_view(PCA_VIEW)
    mu, _ = saved.model.encode(session.dataset.images)
    first = pca_plane(mu)
    session.set_pca_plane("vae", first)
    assert session.plane("vae") is not None and session.plane("vae").basis.tolist() == \
        first.basis.tolist()
    z = mu[7]
    session.pick_latent(z)  # a gallery pick: that exact z, marked where the map shows it
    np.testing.assert_allclose(session.point("vae"), first.project(z[None, :])[0], atol=1e-6)
    np.testing.assert_array_equal(session.current_z("vae"), z)
    # A refit (codes of a model that moved on): the marker moves with the picture, the
    # decoded z does not change.
    session.set_pca_plane("vae", pca_plane(mu[:900] * 1.1))
    refit = session.plane("vae")
    assert refit is not None and not np.allclose(refit.basis, first.basis)
    assert (np.einsum("ik,ik->i", refit.basis, first.basis) > 0).all()
    np.testing.assert_allclose(session.point("vae"), refit.project(z[None, :])[0], atol=1e-6)
    np.testing.assert_array_equal(session.current_z("vae"), z)
    # A click: the map point lifted through the plane.
    session.set_current_xy(0.5, -0.25, "vae")
    np.testing.assert_allclose(session.current_z("vae"),
                               refit.lift(np.array([[0.5, -0.25]]))[0], atol=1e-6)
    # Back to two axes: the other dims are 0 again.
    session.set_map_view(AXES_VIEW)
    np.testing.assert_allclose(session.current_z("vae"), [0.5, -0.25, 0.0, 0.0])
