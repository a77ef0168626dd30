"""Model files (File ▸ Open / Save), the File ▸ Export formats, and what the window says
about a run (progress bar, status bar) — all on the real MainWindow with real files."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage, QKeySequence

from latentlab.core import TrainConfig, Trainer, load_model, save_model
from latentlab.gui.actions import files
from latentlab.gui.actions.export import export_latent_codes
from latentlab.gui.training.controller import TrainingState

TIMEOUT = 20_000


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)


# -- model files ----------------------------------------------------------------------------


def test_file_menu_has_open_and_save_shortcuts(window) -> None:
    assert window.menus.actions["open_model"].shortcut() == QKeySequence("Ctrl+O")
    assert window.menus.actions["save_model"].shortcut() == QKeySequence("Ctrl+S")
    texts = [a.text() for a in window.menus.menus["export"].actions()]
    assert any("SVG" in t for t in texts) and any("CSV" in t for t in texts)


def test_save_then_open_restores_model_settings_and_history(qtbot, window, tmp_path) -> None:
    saved_model = window.session.model("vae")
    history = list(window.session.history("vae"))
    path = files.save_model_file(window.training, tmp_path / "vae.npz")
    on_disk = load_model(path)
    np.testing.assert_array_equal(on_disk.model.weights, saved_model.weights)
    assert len(on_disk.history) == len(history)

    window.training.reset()  # forget it, then open it again
    assert window.session.model("vae") is None
    files.open_model_file(window.training, path)
    model = window.session.model("vae")
    np.testing.assert_array_equal(model.weights, saved_model.weights)
    assert len(window.session.history("vae")) == len(history)
    mu, _ = model.encode(window.session.dataset.images)
    np.testing.assert_allclose(window.panels["map"].maps["vae"].points, mu, atol=1e-6)
    assert window.panels["decode"].image("vae") is not None
    assert str(path.name) in window.panels["training"].progress.format()
    # Training continues from the opened weights.
    window.panels["training"].epochs_box.setValue(2)
    window.training.toggle()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert len(window.session.history("vae")) == len(history) + 2


def test_opened_model_shows_its_config_in_the_training_panel(qtbot, window, tmp_path) -> None:
    cfg = TrainConfig(model="ae", latent_dim=3, hidden_dim=24, epochs=2, lr=0.002,
                      batch_size=32, seed=7)
    trainer = Trainer(cfg, window.session.dataset.images)
    for _ in range(2):
        trainer.run_epoch()
    path = save_model(tmp_path / "ae3.npz", trainer.model, cfg, trainer.history)
    files.open_model_file(window.training, path)
    tp = window.panels["training"]
    assert tp.model_kind == "ae"
    assert (tp.latent_box.value(), tp.hidden_box.value(), tp.batch_box.value(),
            tp.seed_box.value()) == (3, 24, 32, 7)
    assert tp.lr_box.value() == pytest.approx(0.002)
    assert window.panels["map"].mode == "ae"  # the opened model is on screen
    assert window.panels["map"].maps["ae"].model.latent_dim == 3
    np.testing.assert_array_equal(window.session.model("ae").weights,
                                  trainer.model.weights)
    assert window.menus.map_modes["ae"].isChecked()


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04truncated"])
def test_bad_model_file_shows_a_message_and_changes_nothing(
        qtbot, window, tmp_path, warnings_shown, monkeypatch, content) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content)
    before = window.session.model("vae")
    history = len(window.session.history("vae"))
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName",
                        lambda *a, **k: (str(bad), ""))
    window.menus.actions["open_model"].trigger()
    assert len(warnings_shown) == 1
    title, text = warnings_shown[0]
    assert "open" in title.lower() and "bad.npz" in text
    assert window.session.model("vae") is before
    assert len(window.session.history("vae")) == history


def test_model_for_other_image_size_is_refused(window, tmp_path, warnings_shown,
                                               monkeypatch) -> None:
    cfg = TrainConfig(model="vae", epochs=1)
    trainer = Trainer(cfg, np.random.default_rng(0).random((50, 16), dtype=np.float32))
    path = save_model(tmp_path / "tiny.npz", trainer.model, cfg, [])
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName",
                        lambda *a, **k: (str(path), ""))
    before = window.session.model("vae")
    window.menus.actions["open_model"].trigger()
    assert "16 pixels" in warnings_shown[0][1]
    assert window.session.model("vae") is before


def test_save_failure_shows_a_message_and_keeps_the_old_file(
        window, tmp_path, warnings_shown, monkeypatch) -> None:
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "missing-folder" / "m.npz"), ""))
    window.menus.actions["save_model"].trigger()
    assert warnings_shown and "Save failed" in warnings_shown[0][0]
    # Saving over an existing file replaces it whole.
    target = tmp_path / "m.npz"
    target.write_bytes(b"old")
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target.with_suffix("")), ""))
    window.menus.actions["save_model"].trigger()
    assert load_model(target).model.kind == "vae"
    assert len(warnings_shown) == 1


# -- exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["vae", "both"])
def test_latent_map_svg_export(qtbot, window, tmp_path, mode) -> None:
    window.session.set_map_mode(mode)
    qtbot.wait(20)
    path = tmp_path / "map.svg"
    window.panels["map"].export_svg(str(path))
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = path.read_text()
    # Vector points, not one bitmap: at least one drawing element per data point.
    n = len(window.session.dataset.images) * len(window.panels["map"].visible_slots())
    assert text.count("<path") + text.count("<ellipse") + text.count("<circle") >= n
    assert "z₁" in text or "z&#8321;" in text


def test_loss_curves_png_export(window, tmp_path) -> None:
    path = tmp_path / "curves.png"
    window.panels["training"].export_curves_png(str(path), 900)
    image = QImage(str(path))
    assert image.width() == 900 and image.height() > 100
    pixels = image.convertToFormat(QImage.Format.Format_RGB32)
    colours = {pixels.pixel(x, y) for x in range(0, 900, 5) for y in range(0, image.height(), 5)}
    assert len(colours) > 5  # curves and text, not a blank image


@pytest.mark.parametrize("slot", ["vae", "ae"])
def test_latent_codes_csv_export(window, tmp_path, slot) -> None:
    path = export_latent_codes(window.session, tmp_path / f"codes-{slot}.csv", slot)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    model = window.session.model(slot)
    mu, log_var = model.encode(window.session.dataset.images)
    k = model.latent_dim
    if slot == "vae":
        assert rows[0] == ["index", "label", *[f"mu_{i}" for i in range(1, k + 1)],
                           *[f"logvar_{i}" for i in range(1, k + 1)]]
        expected = np.concatenate([mu, log_var], axis=1)
    else:
        assert rows[0] == ["index", "label", *[f"z_{i}" for i in range(1, k + 1)]]
        expected = mu
    body = rows[1:]
    assert len(body) == len(window.session.dataset.images)
    assert [int(r[0]) for r in body] == list(range(len(body)))
    assert [int(r[1]) for r in body] == window.session.dataset.labels.tolist()
    values = np.array([[float(v) for v in r[2:]] for r in body])
    np.testing.assert_allclose(values, expected, rtol=1e-6, atol=1e-6)


def test_export_without_a_model_is_a_clear_error(window, tmp_path) -> None:
    window.training.reset()
    with pytest.raises(ValueError, match="no trained model"):
        export_latent_codes(window.session, tmp_path / "codes.csv", "vae")
    with pytest.raises(ValueError, match="no trained model"):
        files.save_model_file(window.training, tmp_path / "m.npz", "vae")
    assert not (tmp_path / "codes.csv").exists()


# -- progress and status --------------------------------------------------------------------


def test_progress_counts_the_models_epochs_and_the_run(qtbot, window) -> None:
    """A run on top of the pretrained history: the bar says the model's epoch (as the
    curves and figures do) and the run's share, and the status bar agrees at the end."""
    pretrained = len(window.session.history("vae"))
    window.panels["training"].epochs_box.setValue(3)
    window.training.toggle()
    assert window.statusBar().currentMessage().startswith("Training the VAE")
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    fmt = window.panels["training"].progress.format()
    assert fmt == f"trained: VAE 3/3 (epoch {pretrained + 3})"
    assert f"epoch {pretrained + 3}" in window.panels["training"].figures.text()
    message = window.statusBar().currentMessage()
    assert "Training" not in message and f"epoch {pretrained + 3}" in message
    assert window._state_label.text() == "finished"


def test_pause_replaces_the_training_message(qtbot, window) -> None:
    window.panels["training"].epochs_box.setValue(100_000)
    window.training.toggle()
    qtbot.waitUntil(lambda: window.controller.epoch("vae") >= 2, timeout=TIMEOUT)
    window.training.toggle()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.PAUSED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Paused")
    assert "paused" in window.panels["training"].progress.format()
    assert window._state_label.text() == "paused"


# -- look -----------------------------------------------------------------------------------


def test_gallery_tiles_are_square_on_screen(qtbot, window) -> None:
    window.docks["gallery"].raise_()
    qtbot.waitUntil(lambda: window.panels["gallery"].image_item.image is not None, timeout=TIMEOUT)
    qtbot.wait(50)
    vb = window.panels["gallery"].view_box
    rect = vb.mapViewToScene(window.panels["gallery"].tile_rect(5)).boundingRect()
    assert rect.width() > 10
    assert rect.width() == pytest.approx(rect.height(), rel=0.02)


def test_side_by_side_maps_keep_equal_axis_scales(qtbot, window) -> None:
    window.menus.map_modes["both"].trigger()
    assert window.panels["map"].mode == "both"
    assert window.menus.map_modes["both"].isChecked()
    qtbot.wait(50)
    for slot in ("vae", "ae"):
        px, py = window.panels["map"].maps[slot].vb.viewPixelSize()
        assert px == pytest.approx(py, rel=0.01)
    window.session.set_map_mode("vae")  # the toolbar and the View menu stay in step
    assert window.menus.map_modes["vae"].isChecked()


# -- interpolation and diagnostics docks ----------------------------------------------------


def _click_with(qtbot, window, fx: float, fy: float, modifier) -> tuple[float, float]:
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtTest import QTest

    m = window.panels["map"].maps["vae"]
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


def test_shift_and_ctrl_clicks_set_the_interpolation_path_drawn_on_the_map(
        qtbot, window) -> None:
    from PySide6.QtCore import Qt

    a = _click_with(qtbot, window, 0.3, 0.3, Qt.KeyboardModifier.ShiftModifier)
    b = _click_with(qtbot, window, 0.7, 0.6, Qt.KeyboardModifier.ControlModifier)
    panel = window.panels["interpolation"]
    np.testing.assert_allclose(panel.endpoint("a"), a, atol=1e-6)
    np.testing.assert_allclose(panel.endpoint("b"), b, atol=1e-6)
    assert window.docks["interpolation"].isVisible()
    path = panel.path()
    assert path is not None and len(path) == panel.steps
    item = window.panels["map"].maps["vae"].path_item
    assert item.isVisible()
    xs, ys = item.getData()
    np.testing.assert_allclose(xs, path[:, 0], atol=1e-9)
    np.testing.assert_allclose(ys, path[:, 1], atol=1e-9)
    # The strip decodes the path with the map's model.
    model = window.session.model("vae")
    np.testing.assert_allclose(panel.images(), model.decode(path.astype(np.float32)),
                               atol=1e-5)


def test_diagnostics_dock_shows_the_selected_model_when_raised(qtbot, window) -> None:
    dock = window.docks["diagnostics"]
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: window.panels["diagnostics"].diagnostics is not None, timeout=TIMEOUT)
    assert window.panels["diagnostics"].bar_heights().size == window.session.model(
        "vae").latent_dim


# A floating dock is a top-level window; the offscreen platform cannot raise one.
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_new_docks_are_in_the_view_menu_and_restored(qtbot, make_window) -> None:
    first = make_window()
    titles = [a.text() for a in first.menus.menus["view"].actions()]
    assert "Interpolation" in titles and "Diagnostics" in titles
    first.docks["interpolation"].setFloating(True)
    first.docks["diagnostics"].close()
    first.close()
    second = make_window(pretrained=False)
    assert second.docks["interpolation"].isFloating()
    assert not second.docks["diagnostics"].isVisible()
    second.reset_layout()
    assert not second.docks["interpolation"].isFloating()


# -- the File menu's dialogs ------------------------------------------------------------


@pytest.mark.parametrize(("dialog", "suffix", "check"), [
    ("export_gallery", ".png", lambda p: not QImage(str(p)).isNull()),
    ("export_curves", ".png", lambda p: not QImage(str(p)).isNull()),
    ("export_svg", ".svg", lambda p: ET.parse(p).getroot() is not None),
    ("export_codes", ".csv", lambda p: len(p.read_text().splitlines()) == 1798),
    ("save_model", ".npz", lambda p: load_model(p).model is not None),
])
def test_dialogs_write_the_chosen_file_with_its_suffix(
        qtbot, window, tmp_path, monkeypatch, warnings_shown, dialog, suffix, check) -> None:
    from PySide6.QtWidgets import QFileDialog

    chosen = tmp_path / "out"  # no suffix: the dialog adds it
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (str(chosen), ""))
    getattr(window.files, dialog)()
    qtbot.waitUntil(lambda: window.session.busy_text == "")  # the codes: on the worker
    written = chosen.with_suffix(suffix)
    assert warnings_shown == []
    assert check(written)
    assert window.settings.value("export/dir") == str(tmp_path)
    assert str(written) in window.statusBar().currentMessage()


def test_a_failed_export_is_reported_and_keeps_the_old_file(
        qtbot, window, tmp_path, monkeypatch, warnings_shown) -> None:
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "codes.csv"
    target.write_text("precious\n")
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (str(target), ""))

    def broken_write(path, text):
        raise OSError("disk full")

    monkeypatch.setattr("latentlab.gui.actions.export.atomic_write_text", broken_write)
    window.files.export_codes()
    qtbot.waitUntil(lambda: warnings_shown != [])  # written (and failed) on the worker
    assert len(warnings_shown) == 1 and "disk full" in warnings_shown[0][1]
    assert target.read_text() == "precious\n"
