"""The generation gallery driven as a user would, on a VAE trained by the real core."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from latentlab.core import TrainConfig, Trainer, load_digits
from latentlab.gui.panels import GalleryPanel
from latentlab.gui.widgets.mosaic import mosaic


@pytest.fixture
def panel(qtbot, session, trainer: Trainer) -> GalleryPanel:
    p = GalleryPanel(session)
    qtbot.addWidget(p)
    p.resize(420, 520)
    p.show_model(trainer.model.copy())
    return p


# Showing a top-level widget on Qt's offscreen platform logs this harmless warning.
SHOWS_WINDOW = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _shown_panel(qtbot, panel: GalleryPanel) -> GalleryPanel:
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: not panel.image_item.sceneBoundingRect().isEmpty())
    return panel


def _click_view_point(qtbot, panel: GalleryPanel, point: QPointF) -> None:
    """Left-click the gallery at ``point`` given in image-pixel (view) coordinates."""
    view = panel._view
    scene_pos = panel.view_box.mapViewToScene(point)
    widget_pos = view.mapFromScene(scene_pos)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)


def test_draws_through_the_core_sampler(panel: GalleryPanel, trainer: Trainer) -> None:
    panel.set_fixed_seed(True, 11)
    panel.set_temperature(1.7)
    z, images = trainer.model.sample(16, temperature=1.7, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(panel.z, z)
    np.testing.assert_array_equal(panel.images, images)
    np.testing.assert_array_equal(panel.image_item.image, mosaic(images, (8, 8), 4, 4))


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
def test_temperature_sets_the_spread_of_z(panel: GalleryPanel, temperature: float) -> None:
    panel.set_sample_count(64)
    panel.set_fixed_seed(True, 3)
    panel.set_temperature(temperature)
    z = panel.z
    assert z is not None
    assert z.shape == (64, 2)
    # 128 draws from N(0, T^2): the sample std is within 20 % of T (seeded, so not flaky).
    assert z.std() == pytest.approx(temperature, rel=0.2)
    assert abs(z.mean()) < 0.3 * temperature
    assert panel._t_slider.value() == round(temperature * 100)


def test_slider_drives_temperature(panel: GalleryPanel) -> None:
    panel._t_slider.setValue(250)
    assert panel.temperature == pytest.approx(2.5)
    assert panel.z is not None
    panel._t_slider.setValue(10)
    assert panel.temperature == pytest.approx(0.1)
    panel.set_temperature(99.0)
    assert panel.temperature == pytest.approx(3.0)


def test_fixed_seed_reproduces_z(panel: GalleryPanel) -> None:
    panel.set_fixed_seed(True, 123)
    first = panel.z
    panel.set_fixed_seed(True, 124)
    other = panel.z
    panel.set_fixed_seed(True, 123)
    again = panel.z
    assert first is not None and other is not None
    np.testing.assert_array_equal(again, first)
    assert not np.array_equal(other, first)


def test_resample_draws_new_z(panel: GalleryPanel) -> None:
    panel.set_fixed_seed(False)
    before = panel.z
    panel._resample_button.click()
    after = panel.z
    assert before is not None and after is not None
    assert not np.array_equal(before, after)
    # With a fixed seed, Resample picks (and shows) a new seed, so the result is reproducible.
    panel.set_fixed_seed(True, 5)
    panel._resample_button.click()
    seed = panel.fixed_seed
    assert seed is not None and seed == panel._seed_box.value()
    resampled = panel.z
    panel.set_fixed_seed(True, 5)
    panel.set_fixed_seed(True, seed)
    np.testing.assert_array_equal(panel.z, resampled)


def test_live_update_redecodes_the_same_z(panel: GalleryPanel, trainer: Trainer) -> None:
    panel.set_fixed_seed(True, 42)
    z_before = panel.z
    images_before = panel.images
    trainer.run_epoch()
    newer = trainer.model.copy()
    panel.show_model(newer)
    assert z_before is not None and images_before is not None
    np.testing.assert_array_equal(panel.z, z_before)
    images_after = panel.images
    assert images_after is not None
    np.testing.assert_array_equal(images_after, newer.decode(z_before))
    assert not np.array_equal(images_after, images_before)

    # Without a fixed seed the z also stays put until Resample.
    panel.set_fixed_seed(False)
    z_random = panel.z
    trainer.run_epoch()
    panel.show_model(trainer.model.copy())
    np.testing.assert_array_equal(panel.z, z_random)


def test_new_latent_size_redraws_z(panel: GalleryPanel) -> None:
    ds = load_digits()
    ae = Trainer(TrainConfig(model="ae", latent_dim=3, epochs=1, seed=1), ds.images)
    ae.run_epoch()
    panel.show_model(ae.model.copy())
    z = panel.z
    assert z is not None and z.shape == (16, 3)
    assert "AE" in panel._caption.text()


@SHOWS_WINDOW
@pytest.mark.parametrize("count", [16, 25])
def test_click_on_a_tile_emits_its_z(qtbot, panel: GalleryPanel, count: int) -> None:
    panel.set_sample_count(count)
    panel.set_fixed_seed(True, 9)
    _shown_panel(qtbot, panel)
    z = panel.z
    assert z is not None
    # Centres of a few tiles, and points near a corner inside the tile.
    for index, offset in [
        (0, (4.0, 4.0)),
        (count - 1, (4.0, 4.0)),
        (5, (0.6, 7.4)),
        (count // 2, (7.5, 0.5)),
    ]:
        rect = panel.tile_rect(index)
        point = QPointF(rect.left() + offset[0], rect.top() + offset[1])
        with qtbot.waitSignal(panel.latentPicked, timeout=2000) as blocker:
            _click_view_point(qtbot, panel, point)
        picked = blocker.args[0]
        assert isinstance(picked, np.ndarray) and picked.shape == (2,)
        np.testing.assert_array_equal(picked, z[index])
        assert panel._highlight.isVisible()
        assert panel._highlight.rect() == rect


@SHOWS_WINDOW
def test_click_outside_the_mosaic_emits_nothing(qtbot, panel: GalleryPanel) -> None:
    panel.resize(800, 420)  # a wide panel: black margins left and right of the square mosaic
    _shown_panel(qtbot, panel)
    view_rect = panel.view_box.viewRect()
    # lockAspect leaves a margin above/below or beside the square mosaic; click in it.
    if view_rect.height() > view_rect.width():
        point = QPointF(16.0, view_rect.top() + 0.5 * (0 - view_rect.top()))
    else:
        point = QPointF(view_rect.left() + 0.5 * (0 - view_rect.left()), 16.0)
    assert panel.tile_at(point.x(), point.y()) is None
    with qtbot.assertNotEmitted(panel.latentPicked, wait=50):
        _click_view_point(qtbot, panel, point)


@pytest.mark.parametrize(("count", "scale"), [(16, 8), (36, 5)])
def test_export_writes_png_of_the_mosaic(qtbot, panel: GalleryPanel, tmp_path, count, scale):
    panel.set_sample_count(count)
    panel.set_fixed_seed(True, 1)
    side = int(np.sqrt(count))
    path = panel.export_png(tmp_path / "gallery.png", scale=scale)
    image = QImage(str(path))
    assert not image.isNull()
    assert (image.width(), image.height()) == (side * 8 * scale, side * 8 * scale)
    # Pixel centres away from the tile borders carry the decoded grey value.
    grid = panel.image_item.image
    for row, col in [(1, 1), (3, 6), (side * 8 - 2, side * 8 - 3), (12, 2)]:
        colour = image.pixelColor(col * scale + scale // 2, row * scale + scale // 2)
        assert colour.red() == colour.green() == colour.blue()
        assert abs(colour.red() - 255 * grid[row, col]) <= 2


@SHOWS_WINDOW
def test_export_of_a_shown_panel(qtbot, panel: GalleryPanel, tmp_path) -> None:
    _shown_panel(qtbot, panel)
    panel.select_tile(3)  # the selection ring must not leak into the export
    path = panel.export_png(tmp_path / "shown.png", scale=4)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (128, 128)
    grid = panel.image_item.image
    colour = image.pixelColor(3 * 32 + 1 * 4 + 2, 0 * 32 + 1 * 4 + 2)  # tile 3, pixel (1, 1)
    assert abs(colour.red() - 255 * grid[1, 3 * 8 + 1]) <= 2


def test_export_errors_are_clear(qtbot, session, panel: GalleryPanel, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="does not exist"):
        panel.export_png(blocker / "gallery.png")
    with pytest.raises(OSError, match="Could not write"):
        panel.export_png(tmp_path)  # a folder, not a file
    with pytest.raises(ValueError, match="scale"):
        panel.export_png(tmp_path / "x.png", scale=0)
    empty = GalleryPanel(session)
    qtbot.addWidget(empty)
    with pytest.raises(RuntimeError, match="empty"):
        empty.export_png(tmp_path / "empty.png")

