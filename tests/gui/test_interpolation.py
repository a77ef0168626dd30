"""The interpolation panel driven as a user would, on models trained by the real core."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from latentlab.core import Dataset, TrainConfig, Trainer
from latentlab.core.diagnostics import interpolation_path
from latentlab.gui.panels import InterpolationPanel
from latentlab.gui.widgets.mosaic import mosaic, untile


@pytest.fixture
def panel(qtbot, session, trainer: Trainer, digits: Dataset) -> InterpolationPanel:
    p = InterpolationPanel(session)
    qtbot.addWidget(p)
    p.resize(520, 260)
    p.set_data(digits.images, digits.image_shape, digits.labels)
    p.show_model(trainer.model.copy())
    return p


def _first(digits: Dataset, label: int) -> int:
    assert digits.labels is not None
    return int(np.flatnonzero(digits.labels == label)[0])


def test_defaults_to_a_3_and_a_7(panel: InterpolationPanel, trainer: Trainer,
                                 digits: Dataset) -> None:
    i3, i7 = _first(digits, 3), _first(digits, 7)
    assert panel.endpoint_source("a") == ("image", i3)
    assert panel.endpoint_source("b") == ("image", i7)
    mu, _ = trainer.model.encode(digits.images[[i3, i7]])
    np.testing.assert_allclose(panel.endpoint("a"), mu[0], rtol=1e-6)
    np.testing.assert_allclose(panel.endpoint("b"), mu[1], rtol=1e-6)
    assert panel._label_box["a"].currentText() == "digit 3"
    assert panel._index_box["b"].value() == i7
    assert "a 3" in panel._caption.text() and "a 7" in panel._caption.text()


@pytest.mark.parametrize("method", ["linear", "spherical"])
@pytest.mark.parametrize("steps", [2, 10, 24])
def test_strip_runs_from_decode_a_to_decode_b(panel: InterpolationPanel, trainer: Trainer,
                                              method: str, steps: int) -> None:
    model = trainer.model
    z_a, z_b = np.array([-1.5, 0.4]), np.array([0.8, 1.9])
    panel.set_endpoint("a", z_a)
    panel.set_endpoint("b", z_b)
    panel.set_steps(steps)
    panel.set_method(method)
    path = panel.path()
    assert path is not None and path.shape == (steps, 2)
    np.testing.assert_array_equal(path, interpolation_path(z_a, z_b, steps, method))
    tiles = untile(np.asarray(panel.image_item.image), (8, 8))
    assert tiles.shape == (steps, 64)
    np.testing.assert_allclose(tiles[0], model.decode(z_a)[0], atol=1e-6)
    np.testing.assert_allclose(tiles[-1], model.decode(z_b)[0], atol=1e-6)
    np.testing.assert_allclose(tiles, model.decode(path), atol=1e-6)
    # Nearest-neighbour tiles under fixed levels 0..1 in a locked-aspect view.
    assert panel.image_item.levels is not None
    np.testing.assert_array_equal(panel.image_item.levels, (0.0, 1.0))
    assert panel.view_box.state["aspectLocked"]


def test_linear_and_spherical_paths_differ_as_they_should(panel: InterpolationPanel) -> None:
    z_a, z_b = np.array([2.0, 0.0]), np.array([0.0, 2.0])
    panel.set_endpoint("a", z_a)
    panel.set_endpoint("b", z_b)
    panel.set_steps(5)
    panel.set_method("linear")
    linear = panel.path()
    assert linear is not None
    np.testing.assert_allclose(np.diff(linear, axis=0), [[-0.5, 0.5]] * 4, atol=1e-12)
    panel._method_box.setCurrentIndex(1)  # as a user picks "Spherical (slerp)"
    assert panel.method == "spherical"
    spherical = panel.path()
    assert spherical is not None
    np.testing.assert_allclose(np.linalg.norm(spherical, axis=1), 2.0, rtol=1e-12)
    np.testing.assert_allclose(spherical[2], [np.sqrt(2.0), np.sqrt(2.0)], atol=1e-12)


def test_path_changed_carries_the_path(qtbot, panel: InterpolationPanel) -> None:
    with qtbot.waitSignal(panel.pathChanged, timeout=1000) as blocker:
        panel._steps_box.setValue(7)
    emitted = blocker.args[0]
    assert isinstance(emitted, np.ndarray) and emitted.shape == (7, 2)
    np.testing.assert_array_equal(emitted, panel.path())
    with qtbot.waitSignal(panel.pathChanged, timeout=1000) as blocker:
        panel.set_endpoint("a", np.array([3.0, -3.0]))
    np.testing.assert_array_equal(blocker.args[0][0], [3.0, -3.0])
    # Re-showing the same model does not re-emit an unchanged path.
    with qtbot.assertNotEmitted(panel.pathChanged, wait=20):
        panel.show_model(panel._model)


def test_picking_by_digit_and_by_image_number(panel: InterpolationPanel, trainer: Trainer,
                                              digits: Dataset) -> None:
    combo = panel._label_box["a"]
    combo.setCurrentIndex(combo.findData(0))
    combo.activated.emit(combo.currentIndex())  # what a user's choice in the list sends
    i0 = _first(digits, 0)
    assert panel.endpoint_source("a") == ("image", i0)
    assert panel._index_box["a"].value() == i0
    np.testing.assert_allclose(panel.endpoint("a"), trainer.model.encode(
        digits.images[i0:i0 + 1])[0][0], rtol=1e-6)

    panel._index_box["b"].setValue(42)
    assert panel.endpoint_source("b") == ("image", 42)
    assert digits.labels is not None
    assert panel._label_box["b"].currentText() == f"digit {digits.labels[42]}"

    panel.set_endpoint("b", np.array([0.1, 0.2]))
    assert panel._label_box["b"].currentText() == "map point"
    assert panel._index_box["b"].text() == "image —"
    assert "map point" in panel._caption.text()


def test_swap_reverses_the_path(panel: InterpolationPanel) -> None:
    before = panel.path()
    panel._swap_button.click()
    after = panel.path()
    assert before is not None and after is not None
    np.testing.assert_allclose(after, before[::-1], atol=1e-12)


def test_live_update_reencodes_images_and_keeps_map_points(
    panel: InterpolationPanel, trainer: Trainer, digits: Dataset
) -> None:
    panel.set_endpoint("b", np.array([1.0, -1.0]))
    images_before = panel.images()
    trainer.run_epoch()
    newer = trainer.model.copy()
    panel.show_model(newer)
    i3 = _first(digits, 3)
    np.testing.assert_allclose(panel.endpoint("a"), newer.encode(digits.images[i3:i3 + 1])[0][0],
                               rtol=1e-6)
    np.testing.assert_array_equal(panel.endpoint("b"), [1.0, -1.0])
    path = panel.path()
    assert path is not None
    np.testing.assert_allclose(panel.images(), newer.decode(path), atol=1e-6)
    assert not np.array_equal(panel.images(), images_before)


def test_a_model_of_another_latent_size_drops_map_points(panel: InterpolationPanel,
                                                         digits: Dataset) -> None:
    panel.set_endpoint("b", np.array([1.0, -1.0]))
    ae = Trainer(TrainConfig(model="ae", latent_dim=3, epochs=1, seed=1), digits.images)
    ae.run_epoch()
    panel.show_model(ae.model.copy())
    assert panel.endpoint_source("b") is None
    assert panel.path() is None and panel.images() is None
    assert "Pick endpoints" in panel._caption.text()
    with pytest.raises(ValueError, match="3"):
        panel.set_endpoint("b", np.zeros(2))
    panel.pick_label("b", 7)
    path = panel.path()
    assert path is not None and path.shape == (10, 3)


def test_export_writes_a_png_of_the_strip(panel: InterpolationPanel, tmp_path) -> None:
    panel.set_steps(6)
    path = panel.export_png(tmp_path / "strip.png", scale=5)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (6 * 8 * 5, 8 * 5)
    grid = np.asarray(panel.image_item.image)
    assert grid.shape == (8, 48)
    for row, col in [(1, 1), (4, 20), (6, 46)]:
        colour = image.pixelColor(col * 5 + 2, row * 5 + 2)
        assert colour.red() == colour.green() == colour.blue()
        assert abs(colour.red() - 255 * grid[row, col]) <= 2
    default = panel.export_png(tmp_path / "default.png")
    assert QImage(str(default)).size().toTuple() == (6 * 8 * 16, 8 * 16)


def test_export_errors_are_clear(qtbot, session, panel: InterpolationPanel,
                                 tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="does not exist"):
        panel.export_png(blocker / "strip.png")
    with pytest.raises(OSError, match="folder"):
        panel.export_png(tmp_path)
    with pytest.raises(ValueError, match="scale"):
        panel.export_png(tmp_path / "x.png", scale=0)
    empty = InterpolationPanel(session)
    qtbot.addWidget(empty)
    with pytest.raises(RuntimeError, match="empty"):
        empty.export_png(tmp_path / "empty.png")
    assert not empty._export_button.isEnabled()
    # Bound to a session, the panel has its data from the start: the default 3 and 7 wait
    # for a model.
    assert empty.endpoint_source("a") == ("image", _first(session.dataset, 3))
    assert empty.images() is None
    assert "Waiting for a trained model" in empty._caption.text()


def test_bad_arguments_are_refused(panel: InterpolationPanel) -> None:
    with pytest.raises(ValueError, match="'a' or 'b'"):
        panel.set_endpoint("c", np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        panel.set_endpoint("a", np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match="between 2 and 24"):
        panel.set_steps(1)
    with pytest.raises(IndexError):
        panel.pick_image("a", 10_000)
    with pytest.raises(ValueError, match="label"):
        panel.pick_label("a", 11)


def test_export_button_asks_the_owner(qtbot, panel: InterpolationPanel) -> None:
    assert panel._export_button.isEnabled()
    with qtbot.waitSignal(panel.exportRequested, timeout=1000):
        panel._export_button.click()


def test_without_labels_images_are_picked_by_number(qtbot, session, trainer: Trainer,
                                                    digits: Dataset) -> None:
    p = InterpolationPanel(session)
    qtbot.addWidget(p)
    p.set_data(digits.images[:50], (8, 8), None)
    p.show_model(trainer.model.copy())
    assert p.endpoint_source("a") == ("image", 0)
    assert p.endpoint_source("b") == ("image", 1)
    assert p._label_box["a"].isHidden()
    with pytest.raises(RuntimeError, match="labels"):
        p.pick_label("a", 3)
    grid = np.asarray(p.image_item.image)
    path = p.path()
    assert path is not None
    np.testing.assert_allclose(grid, mosaic(trainer.model.decode(path), (8, 8), 1, 10),
                               atol=1e-6)


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_export_of_a_shown_panel(qtbot, panel: InterpolationPanel, tmp_path) -> None:
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: not panel.image_item.sceneBoundingRect().isEmpty())
    panel.set_steps(4)  # the view is re-ranged while shown
    path = panel.export_png(tmp_path / "shown.png", scale=3)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (4 * 8 * 3, 8 * 3)
    grid = np.asarray(panel.image_item.image)
    colour = image.pixelColor(3 * 24 + 5 * 3 + 1, 2 * 3 + 1)  # tile 3, pixel (2, 5)
    assert abs(colour.red() - 255 * grid[2, 3 * 8 + 5]) <= 2
