"""The VQ-VAE in the real window: chosen in the Training panel, trained live by the real
worker thread; the Codebook panel's thumbnails, usage and figures; a click on a code marks
its cell and images on the map; a click on the map decodes the snapped code."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from latentlab.core.vqvae import VQVAE, cell_polygon, perplexity
from latentlab.gui.slots import Slot
from latentlab.gui.training.controller import TrainingState

TIMEOUT = 30_000  # ms: generous, the CI machine is shared


def _show_codebook(window):
    window.docks["codebook"].show()
    window.docks["codebook"].raise_()
    return window.panels["codebook"]


def _train_vqvae(qtbot, window, epochs: int = 12, codes: int = 16) -> VQVAE:
    tp = window.panels["training"]
    tp.model_box.setCurrentIndex(tp.model_box.findData("vqvae"))
    tp.codes_box.setValue(codes)
    tp.epochs_box.setValue(epochs)
    assert window.session.primary_slot is Slot.AE
    assert tp.codes_box.isVisible() and not tp.beta_slider.isVisible()
    window.training.toggle()  # Space: start the chosen model
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    model = window.session.model(Slot.AE)
    assert isinstance(model, VQVAE) and model.n_codes == codes
    assert window.session.slot(Slot.AE).epoch == epochs
    return model


def _click_scene(view, vb, point: QPointF) -> None:
    """Left-click the widget pixel where view box ``vb`` shows data point ``point``."""
    pixel = view.mapFromScene(vb.mapViewToScene(point))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, QPoint(pixel.x(), pixel.y()))


def test_codebook_panel_follows_a_live_vqvae_and_marks_a_clicked_code_on_the_map(
        qtbot, window) -> None:
    panel = _show_codebook(window)
    assert panel.model is None and "No VQ-VAE yet" in panel.heading.text()
    refreshed = []
    window.session.modelSettled.connect(lambda slot: refreshed.append(
        (slot, panel.model is not None)))
    # Paced with the panel's Speed control (12 epochs over ~1.2 s; the slow tier flushes
    # every 120 ms): at full speed the run can end inside one flush, so "it moved during
    # training" would depend on the machine's speed.
    speed = window.panels["training"].speed_box
    speed.setCurrentIndex(speed.findData(10.0))
    model = _train_vqvae(qtbot, window)
    qtbot.waitUntil(lambda: panel.model is model, timeout=TIMEOUT)
    assert sum(1 for slot, _ in refreshed if slot == Slot.AE) >= 2  # it moved during training

    # Every code decoded as one thumbnail, row by row (as many a row as fit the panel).
    rows, cols = panel.thumbnails.mosaic.tiles
    assert rows * cols >= 16 > (rows - 1) * cols
    h, w = window.session.dataset.image_shape
    shown = panel.thumbnails.mosaic.image
    assert shown is not None and shown.shape == (rows * h, cols * w)
    np.testing.assert_allclose(panel.thumbnails.mosaic.shown_bands()[0],
                               model.decode_codes(np.arange(16)), atol=1e-6)
    # The usage histogram counts every image once, by the code it snaps to.
    images = window.session.dataset.images
    codes_of_images = model.quantise(model.encode(images)[0])
    counts = np.bincount(codes_of_images, minlength=16)
    np.testing.assert_array_equal(panel.counts, counts)
    assert f"perplexity <b>{perplexity(counts):.1f}</b>" in panel.heading.text()
    used = int(np.count_nonzero(counts))
    assert f"used <b>{used}</b>" in panel.heading.text()
    assert f"re-seeded during training <b>{model.dead_codes_reseeded}</b>" in \
        panel.heading.text()

    # Click the thumbnail of the most used code: the session highlights it …
    code = int(np.argmax(counts))
    centre = panel.tile_rect(code).center()
    _click_scene(panel.thumbnails, panel.thumbnails.view_box, centre)
    qtbot.waitUntil(lambda: window.session.highlighted_code == code, timeout=TIMEOUT)
    assert panel._frame.isVisible() and panel._frame.rect() == panel.tile_rect(code)
    # … and the map marks exactly that code's images and its cell.
    window.session.set_map_mode("ae")
    overlay = window.panels["map"].maps["ae"].codebook
    overlay.flush()
    assert overlay.members.isVisible()
    marked = np.column_stack(overlay.members.getData())
    expected = model.encode(images)[0][codes_of_images == code]
    assert len(marked) == len(expected) == counts[code]
    np.testing.assert_allclose(np.sort(marked, axis=0), np.sort(expected, axis=0), atol=1e-5)
    assert overlay.cell.isVisible() and overlay.edges.isVisible()
    polygon = overlay.cell.polygon()
    corners = np.array([[polygon.at(i).x(), polygon.at(i).y()] for i in range(polygon.size())])
    np.testing.assert_allclose(corners, cell_polygon(model.codebook, overlay.plane,
                                                     overlay._covered, code), atol=1e-9)
    # Clicking the same code again clears the mark.
    _click_scene(panel.thumbnails, panel.thumbnails.view_box, centre)
    qtbot.waitUntil(lambda: window.session.highlighted_code is None, timeout=TIMEOUT)
    assert not overlay.members.isVisible() and not panel._frame.isVisible()
    # The Diagnostics panel states the same usage.
    window.docks["diagnostics"].show()
    window.docks["diagnostics"].raise_()
    window.panels["diagnostics"].refresh()
    qtbot.waitUntil(lambda: "perplexity" in window.panels["diagnostics"]._summary.text(),
                    timeout=TIMEOUT)
    assert f"{used} in use, perplexity {perplexity(counts):.1f}" in \
        window.panels["diagnostics"]._summary.text()


def test_a_click_on_the_vqvae_map_decodes_the_snapped_code(qtbot, window) -> None:
    model = _train_vqvae(qtbot, window, epochs=6)
    window.session.set_map_mode("ae")
    m = window.panels["map"].maps["ae"]
    qtbot.waitUntil(lambda: m.model is model, timeout=TIMEOUT)
    target = model.codebook[3] + np.array([0.05, -0.05])  # inside code 3's cell, near e_3
    assert model.quantise(target[None])[0] == 3
    before = window.panels["decode"].decodes
    _click_scene(window.panels["map"].view, m.vb, QPointF(*target))
    qtbot.waitUntil(lambda: window.panels["decode"].decodes > before, timeout=TIMEOUT)
    z = window.session.current_z("ae")
    assert z is not None and model.quantise(z[None])[0] == 3
    decode = window.panels["decode"]
    np.testing.assert_allclose(decode.image("ae"), model.decode_codes(np.array([3]))[0],
                               atol=1e-6)
    decode.flush_details()
    assert "→ code 3" in decode.rows["ae"].z_text.text()
    assert "VQ-VAE" in decode.rows["ae"].title.text()


def test_gallery_says_a_vqvae_draws_codes_by_usage(qtbot, window) -> None:
    model = _train_vqvae(qtbot, window, epochs=4)
    window.docks["gallery"].show()
    window.docks["gallery"].raise_()
    gallery = window.panels["gallery"]
    gallery.refresh()
    qtbot.waitUntil(lambda: gallery.z is not None, timeout=TIMEOUT)
    assert "drawn by their usage" in gallery._caption.text()
    assert "no learned prior" in gallery._caption.text()
    z = gallery.z
    assert z is not None
    drawn = model.quantise(z)
    np.testing.assert_allclose(z, model.codebook[drawn])  # every sample is a code vector
    assert set(drawn.tolist()) <= set(np.flatnonzero(model.code_usage).tolist())


@pytest.mark.parametrize("ema", [False, True])
def test_training_panel_sends_the_vq_settings(window, ema: bool) -> None:
    tp = window.panels["training"]
    tp.model_box.setCurrentIndex(tp.model_box.findData("vqvae"))
    tp.codes_box.setValue(40)
    tp.commitment_box.setValue(0.5)
    tp.ema_box.setChecked(ema)
    tp.ema_decay_box.setValue(0.95)
    cfg = window.session.config()
    assert (cfg.model, cfg.codes, cfg.commitment) == ("vqvae", 40, 0.5)
    assert cfg.ema_decay == (0.95 if ema else None)
    assert tp.ema_decay_box.isEnabled() is ema
    restored = tp.to_settings()
    tp.model_box.setCurrentIndex(tp.model_box.findData("vae"))
    assert tp.beta_slider.isVisible() and not tp.codes_box.isVisible()
    tp.apply_settings(restored)
    assert window.session.config() == cfg


def test_a_saved_vqvae_opens_again_with_its_codebook(qtbot, window, tmp_path) -> None:
    from latentlab.gui.actions.files import open_model_file, save_model_file

    model = _train_vqvae(qtbot, window, epochs=3, codes=12)
    path = save_model_file(window.training, tmp_path / "vq.npz")
    window.training.reset()
    assert window.session.model(Slot.AE) is None
    open_model_file(window.training, path)
    loaded = window.session.model(Slot.AE)
    assert isinstance(loaded, VQVAE) and loaded.n_codes == 12
    np.testing.assert_array_equal(loaded.codebook, model.codebook)
    np.testing.assert_array_equal(loaded.code_usage, model.code_usage)
    assert window.session.config().codes == 12
    assert window.panels["training"].codes_box.value() == 12
    panel = _show_codebook(window)
    panel.refresh()
    assert panel.model is loaded
