"""Desktop habits on the real window: drag and drop, File ▸ Open recent, the unsaved-model
guard on Reset / Open / Import / Quit (its dialog driven by the test), Help, and the map's
own context menu."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from latentlab.core import TrainConfig, Trainer, load_digits, save_model
from latentlab.gui.actions.desktop import is_model_file

TIMEOUT = 30_000


def drop(window, path: Path) -> bool:
    """Drag ``path`` over the window and drop it, as a file manager does; True if the
    window accepted the drag."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    at = QPointF(window.width() / 2, window.height() / 2)
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at.toPoint(), actions, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(window, QDropEvent(at, actions, mime, buttons, mods))
    return True


def train_one_epoch(qtbot, window) -> None:
    s = window.session
    before = s.slot(s.primary_slot).epoch
    window.training.step()
    qtbot.waitUntil(lambda: s.slot(s.primary_slot).epoch > before, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)


def answer(qtbot, window, button: QMessageBox.StandardButton) -> None:
    """Click ``button`` of the open unsaved-model question."""
    guard = window.files.guard
    qtbot.waitUntil(lambda: guard.question is not None and guard.question.isVisible())
    box = guard.question
    assert "not been saved" in box.text()
    box.button(button).click()
    assert guard.question is None


@pytest.fixture(scope="module")
def vae3_file(tmp_path_factory) -> Path:
    """A 3-D VAE model file (the window's shipped VAE is 2-D)."""
    config = TrainConfig(model="vae", latent_dim=3, epochs=2, seed=1)
    trainer = Trainer(config, load_digits().images)
    list(trainer.train())
    path = tmp_path_factory.mktemp("models") / "vae3.npz"
    save_model(path, trainer.model, config, trainer.history)
    return path


def test_dropping_a_model_file_opens_it_and_remembers_it(window, vae3_file: Path) -> None:
    assert is_model_file(vae3_file)
    assert drop(window, vae3_file)
    assert window.session.model("vae").latent_dim == 3
    assert window.files.recent.entries("model") == [str(vae3_file.resolve())]
    # A drag of two files at once, or of no file, is refused.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(vae3_file))] * 2)
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_dropping_a_data_file_and_a_folder_imports_them(qtbot, window, tmp_path: Path,
                                                       monkeypatch, warnings_shown) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 16, 16), dtype=np.uint8)
    np.savez(tmp_path / "noise.npz", images=images)
    assert not is_model_file(tmp_path / "noise.npz")
    assert drop(window, tmp_path / "noise.npz")  # read on the background worker
    qtbot.waitUntil(lambda: window.session.dataset.image_shape == (16, 16), timeout=TIMEOUT)
    assert len(window.session.dataset) == 40
    # A folder: an empty one is refused before any size is asked for…
    asked: list[str] = []

    def get_item(parent, title, label, items, current, editable):
        asked.append(title)
        return "8×8", True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    (tmp_path / "empty").mkdir()
    n_warnings = len(warnings_shown)
    assert drop(window, tmp_path / "empty")  # looked into on the background worker
    qtbot.waitUntil(lambda: len(warnings_shown) > n_warnings, timeout=TIMEOUT)
    assert asked == [] and "no PNG or JPEG images found" in warnings_shown[-1][1]
    # …one with images asks for the size and imports them (after the guard: the noise
    # data's models are training now, so discard them).
    folder = tmp_path / "pictures"
    folder.mkdir()
    from PySide6.QtGui import QColor, QImage

    for i in range(4):
        picture = QImage(12, 12, QImage.Format.Format_RGB32)
        picture.fill(QColor(60 * i, 10, 10))
        assert picture.save(str(folder / f"{i}.png"))
    qtbot.waitUntil(lambda: bool(window.files.guard.unsaved()), timeout=TIMEOUT)
    assert drop(window, folder)
    qtbot.waitUntil(lambda: asked == ["Image size"], timeout=TIMEOUT)
    answer(qtbot, window, QMessageBox.StandardButton.Discard)
    qtbot.waitUntil(lambda: len(window.session.dataset) == 4, timeout=TIMEOUT)  # read there
    assert window.session.dataset.image_shape == (8, 8)
    recent = window.files.recent.entries("data")
    assert recent == [str(folder.resolve()), str((tmp_path / "noise.npz").resolve())]


def test_recent_files_menu_opens_and_forgets_what_is_gone(window, vae3_file: Path,
                                                          tmp_path: Path) -> None:
    gone = tmp_path / "gone.npz"
    gone.write_bytes(vae3_file.read_bytes())
    window.files.recent.add("model", vae3_file)
    window.files.recent.add("model", gone)
    menu = window.menus.menus["recent"]
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions() if a.text()] [:3] == ["Models", "gone.npz",
                                                                   "vae3.npz"]
    gone.unlink()
    menu.aboutToShow.emit()
    names = [a.text() for a in menu.actions()]
    assert "gone.npz" not in names
    assert window.settings.value("recent/models") == [str(vae3_file.resolve())]
    next(a for a in menu.actions() if a.text() == "vae3.npz").trigger()
    assert window.session.model("vae").latent_dim == 3
    next(a for a in menu.actions() if a.text() == "Clear the list").trigger()
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions()] == ["No recent files"]


def test_reset_asks_before_discarding_a_trained_model(qtbot, window) -> None:
    s = window.session
    window.menus.actions["reset"].trigger()  # the shipped model is saved: no question
    assert s.model("vae") is None and window.files.guard.question is None
    train_one_epoch(qtbot, window)
    epochs = s.slot("vae").epoch
    assert window.files.guard.unsaved() == ["vae"]
    window.menus.actions["reset"].trigger()
    answer(qtbot, window, QMessageBox.StandardButton.Cancel)
    assert s.slot("vae").epoch == epochs  # kept
    window.panels["training"].resetRequested.emit()  # the panel's Reset button
    answer(qtbot, window, QMessageBox.StandardButton.Discard)
    assert s.model("vae") is None


def test_open_saves_first_when_asked(qtbot, window, vae3_file: Path, tmp_path: Path,
                                     monkeypatch) -> None:
    train_one_epoch(qtbot, window)
    trained = window.session.model("vae").weights.copy()
    target = tmp_path / "mine.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args: (str(target), "")))
    window.files.open_model_at(str(vae3_file))
    assert window.session.model("vae").latent_dim == 2  # not yet: the question is open
    answer(qtbot, window, QMessageBox.StandardButton.Save)
    from latentlab.core import load_model

    np.testing.assert_array_equal(load_model(target).model.weights, trained)
    assert window.session.model("vae").latent_dim == 3


def test_quit_asks_and_cancel_keeps_the_window(qtbot, window, tmp_path: Path,
                                               monkeypatch) -> None:
    train_one_epoch(qtbot, window)
    window.menus.actions["quit"].trigger()
    answer(qtbot, window, QMessageBox.StandardButton.Cancel)
    assert window.isVisible()
    # Save, but cancel the file dialog: still nothing is lost and the window stays.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: ("", "")))
    window.menus.actions["quit"].trigger()
    answer(qtbot, window, QMessageBox.StandardButton.Save)
    assert window.isVisible()
    window.menus.actions["quit"].trigger()
    answer(qtbot, window, QMessageBox.StandardButton.Discard)
    assert not window.isVisible() and window.training.shutting_down


def test_help_menu_quick_start_and_shortcuts(qtbot, window) -> None:
    titles = [a.text() for a in window.menus.menus["help"].actions()]
    assert titles[:2] == ["&Quick start", "&Keyboard shortcuts"]
    window.menus.actions["shortcuts"].trigger()
    box = window.findChild(QMessageBox, "Keyboard shortcuts")
    qtbot.waitUntil(box.isVisible)
    text = box.text()
    for item, keys in (("Open model…", "Ctrl+O"), ("Start / pause", "Space"),
                       ("Quick start", "F1"), ("Training", "Ctrl+1")):
        assert item in text and keys in text, item
    box.close()
    window.menus.actions["quick_start"].trigger()
    box = window.findChild(QMessageBox, "Quick start")
    qtbot.waitUntil(box.isVisible)
    assert "Drop a folder" in box.text()
    box.close()


# A popup menu on Qt's offscreen platform: it says it cannot raise or grab the keyboard.
@pytest.mark.qt_log_ignore("This plugin does not support raise",
                           "This plugin does not support grabbing the keyboard")
def test_the_map_menu_holds_our_actions_only(qtbot, window) -> None:
    panel = window.panels["map"]
    m = panel.maps["vae"]
    assert not m.vb.menuEnabled() and not m.plot.menuEnabled()
    view = panel.view
    centre = view.mapFromScene(m.vb.sceneBoundingRect().center())
    QTest.mouseClick(view.viewport(), Qt.MouseButton.RightButton,
                     Qt.KeyboardModifier.NoModifier, centre)
    qtbot.waitUntil(panel.context_menu.isVisible)
    assert [a.text() for a in panel.context_menu.actions() if a.text()] == [
        "Fit view", panel.pca_action.text(), panel.manifold_action.text(),
        panel.prior_scale_action.text(), "Export latent map…"]
    assert [w for w in QApplication.topLevelWidgets()
            if w.isVisible() and w is not panel.context_menu and w.inherits("QMenu")] == []
    panel.context_menu.hide()
