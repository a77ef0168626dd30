"""Side by side, the window trains the VAE and the autoencoder together: one job on the one
training thread, both maps and both loss charts moving, each model exactly what a separate
run gives. Real MainWindow, real training thread, the real core."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from latentlab.core import Trainer
from latentlab.gui.training.controller import TrainingState

TIMEOUT = 60_000  # ms: generous, the machine is shared
ROOT = Path(__file__).resolve().parents[2]


def side_by_side(window, epochs: int):
    window.session.set_map_mode("both")
    panel = window.panels["training"]
    panel.apply_settings({"epochs": epochs})
    return panel


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)


def test_side_by_side_start_trains_both_models_in_one_job(qtbot, window) -> None:
    panel = side_by_side(window, 100_000)
    pretrained = {slot: len(window.session.history(slot)) for slot in ("vae", "ae")}
    frames: list = []
    changed: list[str] = []
    window.controller.updated.connect(frames.append)
    window.session.modelChanged.connect(changed.append)
    panel.start_button.click()
    job = window.controller.current_job_id
    assert window.controller.running_slots() == ["vae", "ae"]
    # The autoencoder moves while the VAE is far from done: they train in turn, not one
    # after the other.
    qtbot.waitUntil(lambda: window.controller.epoch("ae") >= 3, timeout=TIMEOUT)
    assert window.controller.epoch("vae") < 100_000
    both = [p for p in frames if p.slots["ae"].epoch > 0 and p.slots["vae"].epoch > 0]
    assert both and {p.job_id for p in frames} == {job}
    assert window.controller.jobs_started == 1
    assert {"vae", "ae"} <= set(changed)  # both maps were given new snapshots
    # Both charts grow: the selected model's and, below it, the other one's.
    qtbot.waitUntil(lambda: len(panel.run_view.beside.history) > pretrained["ae"] + 1,
                    timeout=TIMEOUT)
    assert panel.run_view.beside.isVisible()
    assert len(panel.curves.history) > pretrained["vae"]
    panel.start_button.click()  # pause both
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.PAUSED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    for slot in ("vae", "ae"):
        # Each map shows its slot's last snapshot; each history has every epoch.
        assert window.panels["map"].maps[slot].model is window.session.model(slot)
        epochs = [r.epoch for r in window.session.history(slot)[pretrained[slot]:]]
        assert epochs == list(range(1, window.controller.epoch(slot) + 1))


def test_models_trained_together_equal_the_models_trained_separately(
        qtbot, make_window) -> None:
    window = make_window(pretrained=False)
    panel = side_by_side(window, 12)
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(3.0))  # paced: the pause
    panel.start_button.click()                                       # lands part-way
    # A pause part-way (wherever it lands, between batches) and Resume change nothing.
    qtbot.waitUntil(lambda: window.controller.epoch("ae") >= 2, timeout=TIMEOUT)
    panel.start_button.click()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
    assert window.controller.state is TrainingState.PAUSED
    panel.speed_box.setCurrentIndex(0)  # as fast as possible
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert window.controller.jobs_started == 2
    images = window.session.dataset.images
    for slot, kind in (("vae", "vae"), ("ae", "ae")):
        config = window.session.slot(slot).config
        assert config is not None and config.model == kind and config.epochs == 12
        alone = Trainer(config, images)
        assert len(list(alone.train())) == 12
        np.testing.assert_allclose(window.session.model(slot).weights, alone.model.weights,
                                   atol=1e-6)
        assert [r.epoch for r in window.session.history(slot)] == list(range(1, 13))
        assert [r.total for r in window.session.history(slot)] == pytest.approx(
            [r.total for r in alone.history], abs=1e-6)
    # Both charts grew from nothing: the selected model's and the other one's below it.
    view = panel.run_view
    assert view.beside.isVisible() and view.beside.model_name == "Autoencoder"
    assert len(view.curves.history) == len(view.beside.history) == 12


def test_a_new_beta_mid_job_restarts_the_vae_and_carries_the_autoencoder_on(
        qtbot, window) -> None:
    panel = side_by_side(window, 100_000)
    pretrained_ae = len(window.session.history("ae"))
    panel.start_button.click()
    first = window.controller.current_job_id
    qtbot.waitUntil(lambda: window.controller.epoch("ae") >= 3, timeout=TIMEOUT)
    frames: list = []
    window.controller.updated.connect(frames.append)
    panel.set_beta(2.5)
    window.session.settle_beta_now()  # what the debounce timer does when it fires
    second = window.controller.current_job_id
    assert second != first and window.controller.jobs_started == 2
    frames.clear()  # frames handled before the restart belonged to the first job
    qtbot.waitUntil(lambda: len(frames) >= 3 and frames[-1].slots["vae"].epoch >= 2,
                    timeout=TIMEOUT)
    assert {p.job_id for p in frames} == {second}  # nothing stale arrived
    assert window.controller.config("vae").beta == pytest.approx(2.5)
    # The autoencoder's run went on in the new job (same trainer, no epoch lost), the VAE's
    # started again with the new β.
    assert set(frames[-1].slots) == {"vae", "ae"}
    assert frames[-1].slots["ae"].start >= 3 and frames[-1].slots["vae"].start == 0
    assert window.session.history("vae")[-1].beta == pytest.approx(2.5)
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.PAUSED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    # Every epoch of the autoencoder's run reached its history exactly once, the last ones
    # of the cancelled job included.
    epochs = [r.epoch for r in window.session.history("ae")[pretrained_ae:]]
    assert epochs == list(range(1, window.controller.epoch("ae") + 1))


def test_progress_and_status_say_each_state(qtbot, window) -> None:
    panel = side_by_side(window, 100_000)
    bar = panel.progress
    panel.start_button.click()
    qtbot.waitUntil(lambda: bar.format().startswith("training: VAE ")
                    and " · Autoencoder " in bar.format() and bar.format().endswith(" left"),
                    timeout=TIMEOUT)
    assert window.statusBar().currentMessage() == "Training the VAE and the Autoencoder…"
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.PAUSED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    vae, ae = window.controller.epoch("vae"), window.controller.epoch("ae")
    assert bar.format() == f"paused: VAE {vae}/100000 · Autoencoder {ae}/100000"
    pretrained = len(window.session.history("vae")) - vae, len(window.session.history("ae")) - ae
    assert window.statusBar().currentMessage() == (
        f"Paused the VAE and the Autoencoder at epochs {pretrained[0] + vae} and "
        f"{pretrained[1] + ae} — Space or Resume continues")
    assert bar.value() == vae + ae and bar.maximum() == 200_000
    assert window._state_label.text() == "paused"

    panel.step_button.click()  # side by side, Step trains one more epoch of each
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert (window.controller.epoch("vae"), window.controller.epoch("ae")) == (vae + 1, ae + 1)
    assert bar.format() == (f"trained (one more epoch): VAE {vae + 1}/100000 · "
                            f"Autoencoder {ae + 1}/100000")

    panel.apply_settings({"epochs": vae + 2})  # a new config: both train a fresh run
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    n = vae + 2
    assert bar.format() == f"trained: VAE {n}/{n} · Autoencoder {n}/{n}"
    assert bar.value() == bar.maximum()
    assert window.statusBar().currentMessage().startswith(
        f"VAE and the Autoencoder trained to epochs {pretrained[0] + vae + 1 + n} and "
        f"{pretrained[1] + ae + 1 + n}.")

    panel.lr_box.setValue(1000.0)  # a model diverges: the job stops with a message
    diverged: list[str] = []
    window.controller.diverged.connect(lambda slot, _message: diverged.append(slot))
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.DIVERGED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    title = {"vae": "VAE", "ae": "Autoencoder"}[diverged[0]]
    assert bar.format() == f"stopped: the {title} diverged — see the status bar"
    assert "diverged" in window.statusBar().currentMessage()
    assert window._state_label.text() == "diverged"
    for slot in ("vae", "ae"):  # both keep finite weights
        assert np.isfinite(window.session.model(slot).weights).all()


def test_a_failed_job_says_so_and_the_trainer_is_built_on_the_worker(qtbot, window) -> None:
    gui = threading.get_ident()
    panel = side_by_side(window, 2)
    window.training.reset()  # the VAE trains from fresh weights, the AE from pretrained
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.state is TrainingState.FINISHED, timeout=TIMEOUT)
    wait_idle(qtbot, window)
    built = {slot: window.controller.built_on(slot) for slot in ("vae", "ae")}
    # Building a trainer (the whole-data check and copy) ran on the training thread.
    assert None not in built.values() and gui not in built.values()
    assert len(set(built.values())) == 1

    images = window.session.dataset.images.copy()
    images[5, 3] = np.nan
    window.controller.set_images(images)  # what the worker will find when it builds
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.progress.format().startswith("stopped: training failed"),
                    timeout=TIMEOUT)
    wait_idle(qtbot, window)
    assert "training data contains NaN or Inf" in window.statusBar().currentMessage()
    assert window.controller.state is TrainingState.PAUSED


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_side_by_side_both_loss_charts_are_whole_on_screen(qtbot, window, size) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() <= size[0] and window.height() <= size[1])
    window.session.set_map_mode("both")
    view = window.panels["training"].run_view
    charts = (view.curves, view.beside)
    assert view.beside.model_name == "Autoencoder" and view.curves.model_name == "VAE"

    def whole() -> bool:  # once the docks have settled: nothing clips either chart
        return all(c.isVisible() and c.viewport().visibleRegion().boundingRect()
                   == c.viewport().rect() for c in charts)

    qtbot.waitUntil(whole)
    top, bottom = (c.mapTo(window, c.rect().topLeft()) for c in charts)
    assert top.y() + view.curves.height() <= bottom.y()  # one above the other
    assert all(c.height() >= 110 for c in charts)
    window.session.set_map_mode("vae")  # one map: one chart, named by nothing else
    assert not view.beside.isVisible() and view.curves.model_name == ""


CLOSE_MID_TRAINING = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from latentlab.gui.app import _application
    from latentlab.gui.main_window import MainWindow

    app = _application([])
    w = MainWindow(autostart=False)
    w.show()
    w.session.set_map_mode("both")
    w.panels["training"].epochs_box.setValue(1_000_000)

    def close():
        print(f"closing mid-training: {w.controller.running_slots()}", flush=True)
        w.close()
        app.quit()

    def close_when_both_moved(_p):
        if w.controller.epoch("ae") >= 2 and w.controller.epoch("vae") >= 2:
            w.controller.updated.disconnect(close_when_both_moved)
            QTimer.singleShot(0, close)

    w.controller.updated.connect(close_when_both_moved)
    QTimer.singleShot(0, w.training.toggle)
    sys.exit(app.exec())
""")


def test_closing_the_window_while_both_train_exits_cleanly(tmp_path: Path) -> None:
    script = tmp_path / "close.py"
    script.write_text(CLOSE_MID_TRAINING)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYQTGRAPH_QT_LIB="PySide6",
               XDG_CONFIG_HOME=str(tmp_path / "config"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "closing mid-training: ['vae', 'ae']" in result.stdout
    assert "QThread: Destroyed" not in output and "Traceback" not in output
