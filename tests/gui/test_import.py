"""File ▸ Import images: the real MainWindow switches to a practitioner's own data set
(a 16×16 .npz, a folder of PNGs), trains on it, and a bad file changes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QProgressBar

from latentlab.core import DataFileError, Dataset, load_digits
from latentlab.gui.actions import files
from latentlab.gui.image_folder import load_image_folder

TIMEOUT = 30_000


def squares(n: int = 120, side: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A bright square at the left (label 0) or right (label 1), at varying heights."""
    images = np.zeros((n, side, side), dtype=np.uint8)
    labels = np.arange(n) % 2
    for i in range(n):
        r = 1 + (i * 3) % (side - 6)
        c = 1 if labels[i] == 0 else side - 6
        images[i, r:r + 5, c:c + 5] = 255
    return images, labels


def _trained(window, slot: str = "vae") -> bool:
    return window.session.model(slot) is not None


def test_import_a_16x16_npz_trains_on_it(qtbot, window, tmp_path: Path,
                                         monkeypatch) -> None:
    images, labels = squares()
    path = tmp_path / "squares.npz"
    np.savez_compressed(path, images=images, labels=labels)
    window.panels["training"].apply_settings({"epochs": 30})
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(path), "Image data"))
    window.menus.actions["import_file"].trigger()  # File ▸ Import images…
    # The file is read on the background worker while a busy bar shows.
    assert window.session.busy_text == "Importing squares.npz…"
    assert window.findChild(QProgressBar, "importProgress").isVisible()
    qtbot.waitUntil(lambda: window.session.dataset.name == "squares", timeout=TIMEOUT)
    assert not window.findChild(QProgressBar, "importProgress").isVisible()

    ds = window.session.dataset
    assert ds.name == "squares" and ds.image_shape == (16, 16) and len(ds) == 120
    model = window.session.model("vae")  # the digits models are gone (training may have
    assert model is None or model.input_dim == 256  # sent a snapshot of the new one)
    assert "squares: 120 images, 16×16, 2 labels" in window.statusBar().currentMessage()
    assert "squares" in window.windowTitle()
    qtbot.waitUntil(lambda: _trained(window, "vae"), timeout=TIMEOUT)
    model = window.session.model("vae")
    assert model.input_dim == 256
    vae_map = window.panels["map"].maps["vae"]
    assert vae_map.points.shape == (120, 2)
    assert "squares, 120 images 16×16" in vae_map.plot.titleLabel.text
    assert [n for _i, n, _c in _legend(window)] == ["0", "1"]
    window.session.set_current_xy(0.0, 0.0)
    assert window.panels["decode"].image("vae").shape == (256,)
    assert window.panels["decode"].rows["vae"].decoded.image.shape == (16, 16)
    qtbot.waitUntil(lambda: _trained(window, "ae"), timeout=TIMEOUT)
    assert window.session.model("ae").input_dim == 256

    window.menus.actions["use_digits"].trigger()  # File ▸ Use the bundled digits
    # The squares' models were trained here and never saved: the window asks first.
    window.files.guard.question.button(QMessageBox.StandardButton.Discard).click()
    assert window.session.dataset.name == "digits" and window.session.dataset.image_shape == (8, 8)
    assert window.session.model("vae").input_dim == 64  # pretrained again
    assert window.panels["map"].maps["vae"].points.shape == (1797, 2)


def _legend(window) -> list[tuple[None, str, str]]:
    return [(None, s.name(), "") for s in window.panels["map"].figure.legend_samples]


def _write_png(path: Path, size: int, shade: int) -> None:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor(shade, shade // 2, 255 - shade))
    assert image.save(str(path))


def test_folder_of_pngs_with_classes(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "shapes"
    for name, shade in (("circles", 40), ("boxes", 220)):
        (folder / name).mkdir(parents=True)
        for i in range(4):
            _write_png(folder / name / f"{i}.png", 20, shade)
    (folder / "boxes" / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "notes.txt").write_text("ignored")

    result = load_image_folder(folder)
    ds = result.dataset
    assert ds.image_shape == (28, 28)  # larger than 8×8: the default 28×28
    assert ds.label_names == ("boxes", "circles")  # sorted sub-folders
    assert ds.labels is not None and list(ds.labels) == [0] * 4 + [1] * 4
    assert [p.name for p in result.skipped] == ["broken.png"]
    gray = ds.images.reshape(8, -1).mean(axis=1)
    assert gray[0] > gray[-1]  # the light "boxes" stay lighter than the dark "circles"

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("16×16", True))
    window.panels["training"].apply_settings({"epochs": 5})
    said: list[str] = []
    window.session.statusMessage.connect(lambda text, _ms: said.append(text))
    window.menus.actions["import_folder"].trigger()
    # Looked into, then read, on the background worker.
    qtbot.waitUntil(lambda: window.session.dataset.name == "shapes", timeout=TIMEOUT)
    assert window.session.busy_text == ""
    assert window.session.dataset.image_shape == (16, 16)
    assert window.session.dataset.name == "shapes"
    assert any("skipped 1 unreadable file" in text for text in said)
    assert [s.name() for s in window.panels["map"].figure.legend_samples] == ["boxes", "circles"]
    picker = window.panels["interpolation"]._label_box["a"]
    assert [picker.itemText(i) for i in range(1, picker.count())] == ["boxes", "circles"]
    qtbot.waitUntil(lambda: _trained(window), timeout=TIMEOUT)
    assert window.panels["map"].maps["vae"].points.shape == (8, 2)


def test_small_flat_folder_is_8x8_without_labels(tmp_path: Path, qapp) -> None:
    for i in range(3):
        _write_png(tmp_path / f"{i}.PNG", 6, 100 + i)
    ds = load_image_folder(tmp_path).dataset
    assert ds.image_shape == (8, 8) and ds.labels is None and len(ds) == 3


def test_empty_or_unreadable_folder_is_refused(tmp_path: Path, qapp) -> None:
    with pytest.raises(DataFileError, match="no PNG or JPEG images"):
        load_image_folder(tmp_path)
    (tmp_path / "a.png").write_bytes(b"junk")
    (tmp_path / "b.jpg").write_bytes(b"")
    with pytest.raises(DataFileError, match="none of the 2 image files could be read"):
        load_image_folder(tmp_path)
    with pytest.raises(DataFileError, match="not a folder"):
        load_image_folder(tmp_path / "a.png")


def test_bad_file_shows_a_message_and_keeps_the_digits(qtbot, window, tmp_path: Path,
                                                       monkeypatch, warnings_shown) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((10, 16, 16), 3.0))
    before = window.session.model("vae")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.files.import_file()
    qtbot.waitUntil(lambda: len(warnings_shown) > 0, timeout=TIMEOUT)
    assert len(warnings_shown) == 1
    assert window.session.busy_text == ""
    title, text = warnings_shown[0]
    assert title == "Could not import the images" and "expected values in [0, 1]" in text
    assert window.session.dataset.name == "digits" and window.session.dataset.image_shape == (8, 8)
    assert window.session.model("vae") is before
    assert window.panels["map"].maps["vae"].points.shape == (1797, 2)


def test_dataset_without_labels_gets_one_colour(qtbot, make_window) -> None:
    images, _ = squares(40)
    ds = Dataset(images=images.reshape(40, -1).astype(np.float32) / 255, labels=None,
                 image_shape=(16, 16), name="plain")
    window = make_window()
    window.panels["training"].apply_settings({"epochs": 3})
    files.switch_dataset(window.training, ds)
    assert [s.name() for s in window.panels["map"].figure.legend_samples] == ["data"]
    qtbot.waitUntil(lambda: _trained(window), timeout=TIMEOUT)
    window.panels["map"]._show_hover(window.panels["map"].maps["vae"], 0,
                                 window.panels["map"].maps["vae"].vb.mapViewToScene(
                                     window.panels["map"].maps["vae"].vb.viewRect().center()))
    assert "label" not in window.panels["map"].hover_card.text.text()
    assert load_digits().name == "digits"


def test_window_opened_on_a_given_data_set_trains_on_it(qtbot, make_window) -> None:
    images, labels = squares(60)
    ds = Dataset(images=images.reshape(60, -1).astype(np.float32) / 255, labels=labels,
                 image_shape=(16, 16), name="given")
    window = make_window(dataset=ds, autostart=True)
    assert window.session.dataset is ds and "given: 60 images, 16×16" in window.windowTitle()
    qtbot.waitUntil(lambda: _trained(window), timeout=TIMEOUT)  # no pretrained model fits
    assert window.session.model("vae").input_dim == 256
    assert window.panels["map"].maps["vae"].points.shape == (60, 2)
    window.training.pause()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
