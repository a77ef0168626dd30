"""The session, the controller and the commands without a window: real training in the real
worker thread, real files, and one run under a bare QCoreApplication (no widget module)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from latentlab.core import Dataset, ModelFileError, TrainConfig, Trainer
from latentlab.gui.actions import files
from latentlab.gui.actions.dialogs import FailureDialog, guarded
from latentlab.gui.actions.export import export_latent_codes
from latentlab.gui.actions.training import TrainingCommands
from latentlab.gui.logs import log_path, setup_logging
from latentlab.gui.session import LabSession
from latentlab.gui.slots import Slot
from latentlab.gui.training.controller import TrainingController, TrainingState

TIMEOUT = 30_000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lab(qapp, digits: Dataset):
    """A session following a controller, with the training commands; no widget at all."""
    session = LabSession(digits)
    controller = TrainingController(digits.images)
    session.follow(controller)
    commands = TrainingCommands(session, controller)
    cfg = TrainConfig(model="vae", latent_dim=2, warmup_epochs=0, epochs=3, seed=4)
    session.set_settings(replace(session.settings, config=cfg))
    yield session, controller, commands
    commands.shutdown()
    assert not controller.busy


def _finish(qtbot, controller: TrainingController) -> None:
    qtbot.waitUntil(lambda: controller.state is TrainingState.FINISHED and not controller.busy,
                    timeout=TIMEOUT)


def test_a_run_lands_in_the_session_in_its_three_tiers(qtbot, lab, digits: Dataset) -> None:
    session, controller, commands = lab
    appended: list[int] = []
    changed: list[str] = []
    settled: list[str] = []
    progress = []
    session.historyAppended.connect(lambda slot, reports: appended.extend(r.epoch for r in reports))
    session.modelChanged.connect(changed.append)
    session.modelSettled.connect(settled.append)
    session.progressChanged.connect(progress.append)
    commands.resume()  # Start: a fresh VAE from the seed
    _finish(qtbot, controller)
    assert appended == [1, 2, 3]
    assert [r.epoch for r in session.history(Slot.VAE)] == [1, 2, 3]
    assert set(changed) == {"vae"} and settled and set(settled) == {"vae"}
    assert progress[-1].final and progress[-1].epochs_done == 3
    assert session.slot(Slot.VAE).config == session.config()
    # The session's model is the core's: an independent run from the same seed matches.
    trainer = Trainer(session.config(), digits.images)
    for _ in range(3):
        trainer.run_epoch()
    np.testing.assert_array_equal(session.model(Slot.VAE).weights, trainer.model.weights)
    # Its codes of the data come from the one place that encodes the whole data set.
    mu, _ = trainer.model.encode(digits.images)
    np.testing.assert_allclose(session.analysis.codes(session.model(Slot.VAE)).mu, mu,
                               atol=1e-6)


def test_a_burst_of_beta_settings_retrains_once_with_the_last(qtbot, lab) -> None:
    session, controller, _commands = lab
    started: list[int] = []
    controller.jobStarted.connect(started.append)
    values = np.geomspace(0.1, 10, 100)
    for beta in values:
        session.set_settings(replace(session.settings,
                                     config=replace(session.config(), beta=float(beta))))
        session.schedule_beta_retrain()
    assert session.beta_pending() and started == []
    session.settle_beta_now()
    _finish(qtbot, controller)
    assert len(started) == 1 and not session.beta_pending()
    assert controller.config("vae").beta == pytest.approx(values[-1])
    assert session.history(Slot.VAE)[-1].beta == pytest.approx(values[-1])


def test_current_point_is_per_slot_and_a_pick_is_exact(qtbot, lab) -> None:
    session, controller, commands = lab
    commands.resume()
    _finish(qtbot, controller)
    points: list[bool] = []
    session.currentPointChanged.connect(lambda: points.append(True))
    session.set_current_xy(0.5, -1.0)
    np.testing.assert_array_equal(session.current_z(Slot.VAE), [0.5, -1.0])
    assert session.current_z(Slot.AE) is None  # no autoencoder yet
    session.pick_latent(np.array([0.25, 0.75]))
    np.testing.assert_array_equal(session.current_z(Slot.VAE), [0.25, 0.75])
    assert session.current_xy == (0.25, 0.75)
    assert len(points) == 2


def test_model_files_round_trip_and_a_bad_file_changes_nothing(qtbot, lab, tmp_path) -> None:
    session, controller, commands = lab
    commands.resume()
    _finish(qtbot, controller)
    trained = session.model(Slot.VAE)
    path = files.save_model_file(commands, tmp_path / "vae.npz")
    commands.reset()
    assert session.model(Slot.VAE) is None and session.history(Slot.VAE) == []
    files.open_model_file(commands, path)
    np.testing.assert_array_equal(session.model(Slot.VAE).weights, trained.weights)
    assert len(session.history(Slot.VAE)) == 3
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not a model")
    shown = session.model(Slot.VAE)
    with pytest.raises(ModelFileError):
        files.open_model_file(commands, bad)
    assert session.model(Slot.VAE) is shown and len(session.history(Slot.VAE)) == 3
    csv = export_latent_codes(session, tmp_path / "codes.csv", Slot.VAE)
    assert len(csv.read_text().splitlines()) == 1 + len(session.dataset)


def test_a_failed_command_is_logged_and_shown_with_its_traceback(qapp, monkeypatch) -> None:
    shown: list[FailureDialog] = []
    monkeypatch.setattr(FailureDialog, "exec", lambda dialog: shown.append(dialog) or 0)
    path = setup_logging()
    assert path == log_path() and str(path).startswith(os.environ["XDG_STATE_HOME"])

    def broken_loader() -> None:
        raise KeyError("a field nobody expected")

    assert guarded(None, "Could not import the images", "Could not import x.npz",
                   broken_loader) is None
    (dialog,) = shown
    assert dialog.windowTitle() == "Could not import the images"
    assert dialog.text().startswith("Could not import x.npz:") and "nobody expected" in \
        dialog.text()
    assert "Traceback" in dialog.detailedText() and "broken_loader" in dialog.detailedText()
    for handler in logging.getLogger("latentlab").handlers:
        handler.flush()
    logged = path.read_text(encoding="utf-8")
    assert "Could not import x.npz" in logged and "broken_loader" in logged


def test_a_destroyed_panel_is_never_called_back(qtbot, session, trainer) -> None:
    from shiboken6 import delete

    from latentlab.gui.panels import GalleryPanel

    panel = GalleryPanel(session)
    assert panel._connections
    delete(panel)  # what closing a dock for good does to its widget
    session.adopt(Slot.VAE, trainer.model.copy(), trainer.config, trainer.history)
    session.set_settings(replace(session.settings, config=replace(session.config(),
                                                                  model="ae")))
    assert session.model(Slot.VAE) is not None  # the signals went out to nobody, safely


CORE_ONLY = textwrap.dedent("""
    import sys
    from dataclasses import replace
    from PySide6.QtCore import QCoreApplication, QTimer
    from latentlab.core import TrainConfig, load_digits
    from latentlab.gui.actions.training import TrainingCommands
    from latentlab.gui.session import LabSession
    from latentlab.gui.training.controller import TrainingController, TrainingState

    app = QCoreApplication([])
    digits = load_digits()
    session = LabSession(digits)
    controller = TrainingController(digits.images)
    session.follow(controller)
    commands = TrainingCommands(session, controller)
    session.set_settings(replace(session.settings, config=TrainConfig(epochs=2, seed=1)))

    def done(state):
        if state is TrainingState.FINISHED:
            QTimer.singleShot(0, app.quit)

    controller.stateChanged.connect(done)
    QTimer.singleShot(0, commands.resume)
    QTimer.singleShot(60_000, app.quit)
    app.exec()
    commands.shutdown()
    print("epochs", len(session.history("vae")), "widgets", "PySide6.QtWidgets" in sys.modules)
""")


def test_session_and_commands_run_under_a_bare_qcoreapplication(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("QT_QPA_PLATFORM", None)  # no GUI platform needed at all
    result = subprocess.run([sys.executable, "-c", CORE_ONLY], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "epochs 2 widgets False" in result.stdout
    assert "QThread: Destroyed" not in result.stderr
