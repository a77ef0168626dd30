"""The article's claims made visible in the real window: collapse you can see (banner,
prior-scale view, the collapse point on the rate-distortion chart), measured texts."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage

from latentlab.core.claims import PRIOR_SCALE_SIGMA, WARMUP_TOOLTIP
from latentlab.core.loss_labels import AT_MU, RUNNING
from latentlab.core.manifold import decode_mosaic
from latentlab.core.pca import axes_plane
from latentlab.gui.slots import Slot
from latentlab.gui.widgets.manifold_layer import TILE_GAP, mosaic_rgba

TIMEOUT = 60_000  # ms: a 200-epoch run on a shared 2-core machine


def retrain_vae(qtbot, window, beta: float, epochs: int = 200) -> None:
    """Retrain the VAE from scratch at ``beta`` as the training panel does; wait until the
    window has settled on the finished model."""
    panel = window.panels["training"]
    panel.beta_mode.setCurrentIndex(panel.beta_mode.findData("scratch"))
    panel.epochs_box.setValue(epochs)
    with qtbot.waitSignal(window.session.runFinished, timeout=TIMEOUT):
        panel.set_beta(beta)
        window.session.settle_beta_now()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.session.history("vae")[-1].beta == pytest.approx(beta))
    qtbot.wait(50)  # the settled tier follows one turn of the event loop later


def test_a_collapsed_vae_is_shown_at_the_prior_scale_with_a_banner(qtbot, window) -> None:
    mp = window.panels["map"]
    vae_map = mp.maps[Slot.VAE]
    assert mp.banner_text == "" and not mp.prior_scale_action.isChecked()

    retrain_vae(qtbot, window, beta=4.0)
    qtbot.waitUntil(lambda: mp.banner_text != "", timeout=TIMEOUT)
    latents = window.session.analysis.diagnose(window.session.model("vae")).latents
    assert latents is not None and latents.fully_collapsed
    text = mp.banner_text
    assert text.startswith("Posterior collapse at β = 4: no latent dim carries information")
    assert latents.kl.max() < 0.001 and "KL per dim < 0.001 nats" in text
    assert "with or without KL warm-up" in text
    # the axes show the prior's scale, not the collapsed codes' ±0.03
    assert mp.prior_scale_action.isChecked() and vae_map.prior_scale
    (x0, x1), (y0, y1) = vae_map.vb.viewRange()
    s = PRIOR_SCALE_SIGMA
    assert x0 <= -s + 1e-6 and x1 >= s - 1e-6 and y0 <= -s + 1e-6 and y1 >= s - 1e-6
    assert min(x1 - x0, y1 - y0) < 2 * s * 1.5
    assert all(ring.isVisible() for ring in vae_map.prior_rings)

    # the rate-distortion chart marks the collapsed β
    tradeoff = window.panels["tradeoff"]
    assert tradeoff.collapsed_betas() == [4.0]
    assert "posterior collapse" in tradeoff.collapse_label_text()

    # a healthy β again: no banner, and the map follows the codes again by itself
    retrain_vae(qtbot, window, beta=1.0)
    qtbot.waitUntil(lambda: mp.banner_text == "", timeout=TIMEOUT)
    assert not mp.prior_scale_action.isChecked() and not vae_map.prior_scale
    assert tradeoff.collapsed_betas() == [4.0]  # the chart keeps the collapsed point


def test_the_prior_scale_is_the_users_once_chosen(qtbot, window) -> None:
    mp = window.panels["map"]
    vae_map = mp.maps[Slot.VAE]
    mp.prior_scale_action.trigger()  # as the toolbar button and the View menu item do
    assert vae_map.prior_scale
    (x0, x1), _ = vae_map.vb.viewRange()
    assert x0 <= -PRIOR_SCALE_SIGMA + 1e-6 and x1 >= PRIOR_SCALE_SIGMA - 1e-6
    mp.fit_view()
    assert not vae_map.prior_scale and not mp.prior_scale_action.isChecked()
    mp._show_collapse(Slot.VAE)  # the healthy pretrained VAE: nothing to override
    assert not mp.prior_scale_action.isChecked()


def test_warm_up_is_described_as_measured(window) -> None:
    tip = window.panels["training"].warmup_box.toolTip()
    assert tip == WARMUP_TOOLTIP and "does not prevent posterior collapse" in tip
    assert "cure" not in tip


# -- the decoded manifold ---------------------------------------------------------------------


def _wait_manifold(qtbot, mp, slots) -> None:
    qtbot.waitUntil(lambda: all(mp.manifold_layer(s) is not None
                                and mp.manifold_layer(s).shown_rect is not None
                                and not mp.manifold_layer(s).pending() for s in slots),
                    timeout=TIMEOUT)


def test_the_manifold_tiles_each_map_with_its_decodes_and_follows_pan_and_training(
        qtbot, window, tmp_path) -> None:
    mp = window.panels["map"]
    window.session.set_map_mode("both")
    assert mp.manifold_action in window.menus.menus["view"].actions()
    plain = tmp_path / "plain.png"
    mp.export_png(str(plain), 800, 450)  # wide: the two maps side by side
    mp.manifold_action.trigger()  # the View menu item / the toolbar button
    _wait_manifold(qtbot, mp, list(Slot))
    for slot in Slot:
        layer = mp.manifold_layer(slot)
        model = window.session.model(slot)
        assert layer.shown_model is model and layer.item.isVisible()
        nx, ny = layer.shown_grid
        mosaic = decode_mosaic(model, axes_plane(2, 0, 1), layer.shown_rect, nx, ny, (8, 8),
                               gap=TILE_GAP)
        np.testing.assert_array_equal(layer.item.image, mosaic_rgba(mosaic))
        (vx0, vx1), (vy0, vy1) = mp.maps[slot].vb.viewRange()
        x0, y0, x1, y1 = layer.shown_rect
        assert x0 <= vx0 and y0 <= vy0 and x1 >= vx1 and y1 >= vy1
        assert layer.item.zValue() < mp.maps[slot].cloud.zValue()  # behind the points
    # the AE's map spans other coordinates than the VAE's: each decodes its own region
    assert mp.manifold_layer("ae").shown_rect != mp.manifold_layer("vae").shown_rect

    # the export includes it
    tiled = tmp_path / "tiled.png"
    mp.export_png(str(tiled), 800, 450)
    a, b = QImage(str(plain)), QImage(str(tiled))
    assert a.size() == b.size()
    dark = [b.pixelColor(x, b.height() // 2).lightness() < 200 for x in range(0, b.width(), 7)]
    white = [a.pixelColor(x, a.height() // 2).lightness() > 240 for x in range(0, a.width(), 7)]
    assert sum(dark) > len(dark) // 3 and sum(white) > len(white) // 2

    # panning asks for the newly visible region
    vb = mp.maps[Slot.VAE].vb
    (vx0, vx1), _ = vb.viewRange()
    vb.setXRange(vx0 + 5.0, vx1 + 5.0, padding=0)
    qtbot.waitUntil(lambda: mp.manifold_layer("vae").shown_rect[2] >= vx1 + 5.0 - 1e-9,
                    timeout=TIMEOUT)

    # training: the manifold follows the new snapshots
    window.panels["training"].epochs_box.setValue(3)
    with qtbot.waitSignal(window.session.runFinished, timeout=TIMEOUT):
        window.training.toggle()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    layer = mp.manifold_layer("vae")
    qtbot.waitUntil(lambda: layer.shown_model is window.session.model("vae")
                    and not layer.pending(), timeout=TIMEOUT)

    mp.manifold_action.trigger()
    assert not any(mp.manifold_layer(s).item.isVisible() for s in Slot)


# -- one language for losses ------------------------------------------------------------------


def test_every_loss_figure_says_how_it_was_measured(qtbot, window) -> None:
    history = window.session.history("vae")
    last = history[-1]
    training = window.panels["training"]
    text = training.figures.text()
    assert f"{last.recon:.2f}" in text and f"{last.total:.2f}" in text
    assert RUNNING.short in text and RUNNING.short in training.curves.getPlotItem().titleLabel.text

    for name in ("tradeoff", "diagnostics"):
        window.docks[name].show()
        window.docks[name].raise_()
    qtbot.waitUntil(lambda: window.panels["tradeoff"].figures is not None, timeout=TIMEOUT)
    tradeoff = window.panels["tradeoff"]
    at_mu = window.session.model("vae").evaluate(window.session.dataset.images, beta=1.0)
    label = tradeoff._figures_label.text()
    assert f"Recon: {at_mu.recon:.2f}" in label and AT_MU.short in label
    assert f"{at_mu.total:.2f}" != f"{last.total:.2f}"  # the two measures differ, labelled
    qtbot.waitUntil(lambda: AT_MU.short in window.panels["diagnostics"]._summary.text(),
                    timeout=TIMEOUT)

    # the warm-up epochs' totals, restated at the final β, dashed beside the solid ones
    epochs, totals = training.curves.warmup_totals_at_final_beta()
    warm = [r for r in history if r.beta != last.beta]
    assert len(warm) == window.session.slot("vae").config.warmup_epochs
    assert len(epochs) == len(warm) + 1
    np.testing.assert_allclose(totals, [r.recon + last.beta * r.kl
                                        for r in history[:len(epochs)]])
    assert totals[-1] == pytest.approx(history[len(warm)].total)  # it meets the solid line


# -- your own drawing ------------------------------------------------------------------------


def test_a_drawing_is_encoded_live_and_marked_on_every_map(qtbot, window) -> None:
    window.session.set_map_mode("both")
    window.docks["drawing"].show()
    window.docks["drawing"].raise_()
    panel = window.panels["drawing"]
    assert panel.pad.image_shape == window.session.dataset.image_shape
    panel.pad.draw_stroke([(1.5, 1.5), (6.0, 1.5), (3.0, 7.0)])  # a 7, at the data's 8×8
    image = panel.pad.image()
    assert image.max() == 1.0 and window.session.drawing is not None
    np.testing.assert_array_equal(window.session.drawing, image)
    vae = window.session.model("vae")
    mu, log_var = vae.encode(image[None, :])
    np.testing.assert_allclose(panel.mu, mu[0], rtol=1e-6)
    np.testing.assert_allclose(panel.sigma, np.exp(0.5 * log_var[0]), rtol=1e-6)
    np.testing.assert_allclose(panel.reconstruction, vae.decode(mu)[0], rtol=1e-6)
    images = window.session.dataset.images
    nearest = int(np.argmin(((images - image) ** 2).sum(axis=1)))
    qtbot.waitUntil(lambda: panel.nearest_index == nearest, timeout=TIMEOUT)
    assert "μ = (" in panel.code_text.text() and "σ = (" in panel.code_text.text()

    mp = window.panels["map"]
    for slot in Slot:
        model = window.session.model(slot)
        code = model.encode(image[None, :])[0][0]
        x, y = mp.maps[slot].drawing_marker.getData()
        np.testing.assert_allclose([x[0], y[0]], code, rtol=1e-5)
    # the VAE's q(z|x) 1σ ellipse around it; the autoencoder has none
    ex, ey = mp.maps[Slot.VAE].drawing_ellipse.getData()
    sigma = np.exp(0.5 * log_var[0])
    np.testing.assert_allclose(((ex - mu[0, 0]) / sigma[0]) ** 2
                               + ((ey - mu[0, 1]) / sigma[1]) ** 2, 1.0, rtol=1e-4)
    assert not mp.maps[Slot.AE].drawing_ellipse.isVisible()

    panel.pad.clear()
    assert window.session.drawing is None and panel.mu is None
    assert not mp.maps[Slot.VAE].drawing_marker.isVisible()


def test_hovering_a_vae_point_shows_its_sigma_ellipse(qtbot, window) -> None:
    mp = window.panels["map"]
    vae_map = mp.maps[Slot.VAE]
    index = 42
    scene = vae_map.vb.mapViewToScene(QPointF(*vae_map.points[index]))
    mp._on_scene_moved(scene)
    i = mp.hovered_index
    assert i is not None
    mu, log_var = window.session.model("vae").encode(window.session.dataset.images[i:i + 1])
    ex, ey = vae_map.hover_ellipse.getData()
    sigma = np.exp(0.5 * log_var[0])
    np.testing.assert_allclose(((ex - mu[0, 0]) / sigma[0]) ** 2
                               + ((ey - mu[0, 1]) / sigma[1]) ** 2, 1.0, rtol=1e-4)
    assert vae_map.hover_ellipse.isVisible()
    mp._hide_hover()
    assert not vae_map.hover_ellipse.isVisible()
