"""The real MainWindow driven like a user: clicks, β drags, pause/resume/step, export, close.

Every test trains with the real NumPy core in the real worker thread.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

import latentlab
from latentlab.gui.panels import PANELS
from latentlab.gui.training.controller import TrainingState
from latentlab.gui.widgets.map_plot import HOVER_RADIUS_PX

TIMEOUT = 20_000  # ms: generous, the CI machine is shared


def click_map(qtbot, window, slot: str, fx: float, fy: float) -> tuple[float, float]:
    """Left-click at a fraction (fx, fy) of ``slot``'s plot area; return the data point
    that position maps to (what the window must decode)."""
    m = window.panels["map"].maps[slot]
    view = window.panels["map"].view
    rect = m.vb.sceneBoundingRect()
    scene = QPointF(rect.left() + fx * rect.width(), rect.top() + fy * rect.height())
    pixel = view.mapFromScene(scene)
    expected = m.vb.mapSceneToView(view.mapToScene(pixel))
    before = window.panels["decode"].decodes
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, QPoint(pixel.x(), pixel.y()))
    qtbot.waitUntil(lambda: window.panels["decode"].decodes > before, timeout=TIMEOUT)
    return expected.x(), expected.y()


def set_epochs(window, n: int) -> None:
    window.panels["training"].epochs_box.setValue(n)


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)


# -- latent map and decode view ------------------------------------------------------------


def test_click_on_map_decodes_exactly_the_mapped_z(qtbot, window) -> None:
    x, y = click_map(qtbot, window, "vae", 0.3, 0.65)
    model = window.session.model("vae")
    z = window.panels["decode"].z("vae")
    np.testing.assert_allclose(z, [x, y], rtol=0, atol=1e-6)
    expected = model.decode(np.array([[x, y]], dtype=np.float32))[0]
    np.testing.assert_allclose(window.panels["decode"].image("vae"), expected, rtol=0, atol=1e-6)
    # The crosshair marks the same point.
    m = window.panels["map"].maps["vae"]
    assert m.vline.isVisible()
    assert m.vline.value() == pytest.approx(x)
    assert m.hline.value() == pytest.approx(y)
    # The nearest training image is the true nearest neighbour of the decoding.
    images = window.session.dataset.images
    nearest = int(np.argmin(((images - expected) ** 2).sum(axis=1)))
    # The decoding is shown at once; the nearest image follows on the next loop turn.
    qtbot.waitUntil(lambda: not window.panels["decode"].details_pending(), timeout=TIMEOUT)
    assert window.panels["decode"].rows["vae"]._nearest_index == nearest


def test_side_by_side_each_map_has_its_own_point(qtbot, window) -> None:
    window.session.set_map_mode("both")
    qtbot.waitUntil(lambda: window.panels["map"].maps["ae"].vb.sceneBoundingRect().width() > 50)
    assert window.panels["decode"].rows["ae"].isVisible()
    decode = window.panels["decode"]
    vae_before = decode.z("vae").copy()
    x, y = click_map(qtbot, window, "ae", 0.7, 0.3)
    ae = window.session.model("ae")
    np.testing.assert_allclose(decode.z("ae"), [x, y], atol=1e-6)
    np.testing.assert_allclose(decode.image("ae"),
                               ae.decode(np.array([[x, y]], dtype=np.float32))[0], atol=1e-6)
    np.testing.assert_array_equal(decode.z("vae"), vae_before)  # the VAE keeps its point
    u, v = click_map(qtbot, window, "vae", 0.4, 0.6)
    vae = window.session.model("vae")
    np.testing.assert_allclose(decode.z("vae"), [u, v], atol=1e-6)
    np.testing.assert_allclose(decode.image("vae"),
                               vae.decode(np.array([[u, v]], dtype=np.float32))[0], atol=1e-6)
    np.testing.assert_allclose(decode.z("ae"), [x, y], atol=1e-6)
    # each map marks its own point
    mp = window.panels["map"]
    assert mp.maps["ae"].marker.pos().x() == pytest.approx(x)
    assert mp.maps["vae"].marker.pos().x() == pytest.approx(u)
    assert "Each map has its own point" in mp._hint.text()
    assert ae.kind == "ae" and vae.kind == "vae"


def test_hovering_a_point_rings_the_same_image_in_the_other_map(qtbot, window) -> None:
    window.session.set_map_mode("both")
    mp = window.panels["map"]
    qtbot.waitUntil(lambda: mp.maps["ae"].vb.sceneBoundingRect().width() > 50)
    index = 123
    vae_map, ae_map = mp.maps["vae"], mp.maps["ae"]
    scene = vae_map.vb.mapViewToScene(QPointF(*vae_map.points[index]))
    mp._on_scene_moved(scene)  # what a mouse move over that point delivers
    hovered = mp.hovered_index
    assert hovered is not None and np.allclose(vae_map.points[hovered], vae_map.points[index],
                                               atol=0.05)
    assert ae_map.link_marker.isVisible() and not vae_map.link_marker.isVisible()
    assert ae_map.link_marker.pos().x() == pytest.approx(float(ae_map.points[hovered][0]))
    assert ae_map.link_marker.pos().y() == pytest.approx(float(ae_map.points[hovered][1]))
    mp._hide_hover()
    assert not ae_map.link_marker.isVisible()


def test_map_shows_every_encoded_point_coloured_by_label(window) -> None:
    m = window.panels["map"].maps["vae"]
    mu, _ = window.session.model("vae").encode(window.session.dataset.images)
    np.testing.assert_allclose(m.points, mu[:, :2], atol=1e-6)
    # One legend entry per digit, and every point lies inside the visible range.
    legend = window.panels["map"].legend
    assert [label.text for _sample, label in legend.items] == [str(d) for d in range(10)]
    (x0, x1), (y0, y1) = m.vb.viewRange()
    assert x0 <= m.points[:, 0].min() and m.points[:, 0].max() <= x1
    assert y0 <= m.points[:, 1].min() and m.points[:, 1].max() <= y1


def test_hovering_a_point_shows_its_image_and_label(qtbot, window, settled_pixel) -> None:
    m = window.panels["map"].maps["vae"]
    view = window.panels["map"].view
    index = 123
    pixel = settled_pixel(window, index)
    QTest.mouseMove(view.viewport(), QPoint(pixel.x(), pixel.y()))
    qtbot.waitUntil(lambda: window.panels["map"].hover_card.isVisible(), timeout=TIMEOUT)
    shown = window.panels["map"].hovered_index
    assert shown is not None
    # The point described is the one nearest the cursor, within the hover radius.
    cursor = m.vb.mapSceneToView(view.mapToScene(pixel))
    px, py = m.vb.viewPixelSize()
    d2 = ((m.points[:, 0] - cursor.x()) / px) ** 2 + ((m.points[:, 1] - cursor.y()) / py) ** 2
    assert shown == int(np.argmin(d2))
    assert d2[shown] <= HOVER_RADIUS_PX**2
    label = int(window.session.dataset.labels[shown])
    assert f"label {label}" in window.panels["map"].hover_card.text.text()
    assert not window.panels["map"].hover_card.image.pixmap().isNull()


def test_gallery_pick_marks_its_z_on_the_map_and_decodes_it(qtbot, window) -> None:
    z = np.array([0.75, -1.25], dtype=np.float32)
    window.session.pick_latent(z)
    np.testing.assert_allclose(window.panels["decode"].z("vae"), z)
    m = window.panels["map"].maps["vae"]
    assert m.vline.value() == pytest.approx(0.75)
    assert m.hline.value() == pytest.approx(-1.25)
    expected = window.session.model("vae").decode(z[None, :])[0]
    np.testing.assert_allclose(window.panels["decode"].image("vae"), expected, atol=1e-6)


# -- training through the worker thread -----------------------------------------------------


def test_burst_of_beta_changes_gives_exactly_one_retrain_with_the_last_value(
        qtbot, window) -> None:
    set_epochs(window, 8)
    panel = window.panels["training"]
    started: list[int] = []
    window.controller.jobStarted.connect(started.append)
    seen_jobs: list[int] = []
    window.controller.updated.connect(lambda p: seen_jobs.append(p.job_id))
    values = np.geomspace(0.1, 10, 100)
    for beta in values:  # no event is processed in between, so the debounce cannot fire
        panel.set_beta(float(beta))
    assert window.session.beta_pending() and started == []
    final = float(values[-1])
    with qtbot.waitSignal(window.controller.jobFinished, timeout=TIMEOUT):
        window.session.settle_beta_now()  # what the debounce timer does when it fires
    assert not window.session.beta_pending()  # nothing is left to start another run
    assert len(started) == 1
    assert window.controller.config("vae").beta == pytest.approx(final)
    assert window.session.history("vae")[-1].beta == pytest.approx(final)
    assert set(seen_jobs) == {started[0]}
    wait_idle(qtbot, window)


def test_beta_change_during_training_cancels_the_run_and_no_stale_frame_arrives(
        qtbot, window) -> None:
    set_epochs(window, 100_000)
    window.training.toggle()
    first = window.controller.current_job_id
    qtbot.waitUntil(lambda: window.controller.epoch("vae") >= 3, timeout=TIMEOUT)
    frames: list[int] = []
    window.controller.updated.connect(lambda p: frames.append(p.job_id))
    for beta in (0.5, 0.7, 2.0, 3.5):
        window.panels["training"].set_beta(beta)
    qtbot.waitUntil(lambda: window.controller.current_job_id not in (None, first),
                    timeout=TIMEOUT)
    second = window.controller.current_job_id
    frames.clear()  # frames handled before the restart belonged to the first job
    qtbot.waitUntil(lambda: len(frames) >= 3, timeout=TIMEOUT)
    assert set(frames) == {second}
    assert window.controller.config("vae").beta == pytest.approx(3.5)
    assert window.controller.jobs_started == 2
    window.training.pause()
    wait_idle(qtbot, window)


def test_pause_resume_and_step(qtbot, window) -> None:
    set_epochs(window, 100_000)
    panel = window.panels["training"]
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.epoch("vae") >= 3, timeout=TIMEOUT)
    assert panel.start_button.text() == "Pause"
    assert not panel.step_button.isEnabled()

    panel.start_button.click()  # pause
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.PAUSED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    paused_at = window.controller.epoch("vae")
    qtbot.wait(300)
    assert window.controller.epoch("vae") == paused_at
    assert panel.start_button.text() == "Resume"

    panel.start_button.click()  # resume the same trainer
    qtbot.waitUntil(lambda: window.controller.epoch("vae") >= paused_at + 3, timeout=TIMEOUT)
    window.training.pause()
    wait_idle(qtbot, window)

    before = window.controller.epoch("vae")
    history_before = len(window.session.history("vae"))
    panel.step_button.click()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.controller.epoch("vae") == before + 1
    assert len(window.session.history("vae")) == history_before + 1
    # The map and decoding show the stepped model.
    model = window.session.model("vae")
    mu, _ = model.encode(window.session.dataset.images)
    np.testing.assert_allclose(window.panels["map"].maps["vae"].points, mu, atol=1e-6)


def test_space_starts_and_pauses_training(qtbot, window) -> None:
    set_epochs(window, 100_000)
    window.panels["map"].view.setFocus()
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.RUNNING, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.controller.epoch("vae") >= 1, timeout=TIMEOUT)
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.PAUSED, timeout=TIMEOUT)
    wait_idle(qtbot, window)


def test_first_start_without_pretrained_weights_trains_both_models_from_scratch(
        qtbot, make_window) -> None:
    w = make_window(pretrained=False, autostart=True)
    with qtbot.waitSignal(w.firstTrainedFrame, timeout=60_000):
        pass
    assert len(w.session.history("vae")) == w.panels["training"].epochs_box.value()
    wait_idle(qtbot, w)
    assert len(w.session.history("ae")) == w.panels["training"].epochs_box.value()
    assert w.controller.state is TrainingState.FINISHED
    assert w.panels["map"].maps["ae"].model is not None


def test_reset_then_start_trains_from_fresh_seeded_weights(qtbot, window) -> None:
    set_epochs(window, 2)
    window.training.reset()
    assert window.session.model("vae") is None
    assert window.session.history("vae") == []
    assert window.panels["decode"].image("vae") is None
    window.training.toggle()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert [r.epoch for r in window.session.history("vae")] == [1, 2]
    # Same seed, same weights: an independent run of the core gives the same model.
    from latentlab.core import Trainer

    trainer = Trainer(window.panels["training"].config("vae"), window.session.dataset.images)
    for _ in range(2):
        trainer.run_epoch()
    np.testing.assert_array_equal(window.session.model("vae").weights,
                                  trainer.model.weights)


def test_divergence_stops_with_a_message_and_keeps_a_usable_model(qtbot, window) -> None:
    window.panels["training"].lr_box.setValue(1000.0)
    set_epochs(window, 200)
    window.training.reset()
    window.training.toggle()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.DIVERGED, timeout=TIMEOUT)
    assert "diverged" in window.statusBar().currentMessage()
    model = window.session.model("vae")
    assert model is not None and np.isfinite(model.weights).all()
    wait_idle(qtbot, window)


def test_closing_during_training_stops_and_joins_the_thread(qtbot, make_window) -> None:
    w = make_window()
    set_epochs(w, 100_000)
    w.training.toggle()
    qtbot.waitUntil(lambda: w.controller.epoch("vae") >= 2, timeout=TIMEOUT)
    assert w.controller._thread.isRunning()
    w.close()
    assert not w.controller._thread.isRunning()
    assert not w.controller.busy


# -- export, settings, menus ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["vae", "both"])
def test_export_writes_a_png_of_the_requested_size(qtbot, window, tmp_path, mode) -> None:
    window.session.set_map_mode(mode)
    qtbot.wait(50)
    path = tmp_path / f"map-{mode}.png"
    window.panels["map"].export_png(str(path), 1000, 700)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1000, 700)
    # Not blank: the points are drawn in colour on white.
    pixels = image.convertToFormat(QImage.Format.Format_RGB32)
    colours = {pixels.pixel(x, y) for x in range(0, 1000, 7) for y in range(0, 700, 7)}
    assert len(colours) > 10


def test_export_height_follows_the_map_aspect_by_default(window, tmp_path) -> None:
    path = tmp_path / "map.png"
    window.panels["map"].export_png(str(path), 640)
    image = QImage(str(path))
    assert image.width() == 640
    assert image.height() == window.panels["map"].natural_export_height(640)


def test_layout_and_settings_are_restored_on_the_next_start(qtbot, make_window) -> None:
    first = make_window()
    first.session.set_map_mode("both")
    first.panels["training"].set_beta(2.5)
    first.session.cancel_pending_beta()
    first.panels["training"].latent_box.setValue(3)
    first.docks["gallery"].close()
    first.close()

    second = make_window(pretrained=False)
    assert second.panels["map"].mode == "both"
    assert second.panels["training"].beta == pytest.approx(2.5)
    assert second.panels["training"].latent_box.value() == 3
    assert not second.docks["gallery"].isVisible()
    second.menus.actions["reset"].trigger()  # not the layout: reset of the model is harmless here
    second.reset_layout()
    assert second.docks["gallery"].isVisible() or second.docks["tradeoff"].isVisible()
    assert not second.docks["gallery"].isFloating()


def test_docks_are_named_movable_and_reopenable_from_the_view_menu(window) -> None:
    names = set()
    for dock in window.docks.values():
        names.add(dock.objectName())
        features = dock.features()
        for flag in (dock.DockWidgetFeature.DockWidgetMovable,
                     dock.DockWidgetFeature.DockWidgetFloatable,
                     dock.DockWidgetFeature.DockWidgetClosable):
            assert features & flag
        toggle = dock.toggleViewAction()
        dock.close()
        assert not dock.isVisible()
        toggle.trigger()
        assert dock.isVisible()
    assert len(names) == len(PANELS) and all(names)


def test_shortcuts_and_about_box(window, monkeypatch) -> None:
    assert window.menus.actions["start"].shortcut() == QKeySequence(Qt.Key.Key_Space)
    assert window.menus.actions["export_map"].shortcut() == QKeySequence("Ctrl+E")
    assert window.menus.actions["quit"].shortcut() == QKeySequence("Ctrl+Q")
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    window.menus.actions["about"].trigger()
    assert latentlab.__version__ in shown[0]
