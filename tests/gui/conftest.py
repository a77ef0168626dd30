"""Fixtures for the window tests: a real MainWindow, isolated settings, real training."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from latentlab.core import Dataset, TrainConfig, Trainer, load_digits


@pytest.fixture(autouse=True)
def settings_dir(tmp_path: Path) -> Path:
    """Every test gets its own empty QSettings folder (never the user's config)."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def make_window(qtbot):
    """Build shown MainWindows; each is closed (stopping its thread) at teardown."""
    from latentlab.gui import MainWindow

    made: list[MainWindow] = []

    def make(**kwargs: object) -> MainWindow:
        kwargs.setdefault("autostart", False)
        window = MainWindow(**kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
        assert not window.controller._thread.isRunning()


@pytest.fixture
def window(make_window) -> Iterator:
    """A shown window with the pretrained VAE and AE loaded and nothing training."""
    return make_window()


@pytest.fixture
def settled_pixel(qtbot):
    """``settled_pixel(window, index, slot="vae")``: where data point ``index`` is drawn in
    the map's viewport once the window's layout has settled (docks may finish sizing a loop
    turn after the window is exposed, and the equal-scale map then shifts)."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtWidgets import QApplication

    def find(window, index: int, slot: str = "vae") -> QPoint:
        m = window.panels["map"].maps[slot]
        view = window.panels["map"].view
        seen: list[QPoint] = []

        def stable() -> bool:
            QApplication.processEvents()
            scene = m.vb.mapViewToScene(QPointF(*map(float, m.points[index])))
            seen.append(view.mapFromScene(scene))
            return len(seen) > 1 and seen[-1] == seen[-2]

        qtbot.waitUntil(stable)
        return seen[-1]

    return find


@pytest.fixture
def warnings_shown(monkeypatch) -> list[tuple[str, str]]:
    """Record every failure dialog (title, summary) instead of opening the modal box; its
    details (the traceback) go to ``warnings_shown.details``."""
    from latentlab.gui.actions.dialogs import FailureDialog

    class Shown(list):
        def __init__(self) -> None:
            super().__init__()
            self.details: list[str] = []

    shown = Shown()

    def exec_(dialog: FailureDialog) -> int:
        shown.append((dialog.windowTitle(), dialog.text()))
        shown.details.append(dialog.detailedText())
        return int(QMessageBox.StandardButton.Ok.value)

    monkeypatch.setattr(FailureDialog, "exec", exec_)
    return shown


@pytest.fixture
def session(qapp, digits: Dataset):
    """A LabSession on the digits, for a panel tested on its own."""
    from latentlab.gui.session import LabSession

    return LabSession(digits)


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_digits()


@pytest.fixture(scope="module")
def trainer(digits: Dataset) -> Trainer:
    """A 2-D VAE trained for 8 epochs on the digits; one per test module, because some tests
    train it on."""
    t = Trainer(TrainConfig(model="vae", latent_dim=2, warmup_epochs=0, epochs=8, seed=0),
                digits.images)
    assert len(list(t.train())) == 8
    return t
