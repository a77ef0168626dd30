"""The window on a larger data set (synthetic 28×28 strokes, 10 labels): every point of the
map, the nearest images and the figures come from the background worker, never from the
GUI thread, and a long epoch still sends snapshots. Real window, real training thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from latentlab.core import TrainConfig
from latentlab.core.synthetic import CLASS_NAMES, synthetic_strokes
from latentlab.gui.analysis import INLINE_VALUES
from latentlab.gui.training.controller import TrainingController

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def strokes():
    ds = synthetic_strokes(5_000, seed=0)
    assert ds.images.size > INLINE_VALUES  # large enough for the worker
    return ds


def _show_dock(window, name: str) -> None:
    dock = window.docks[name]
    dock.show()
    dock.raise_()


def test_whole_data_work_runs_on_the_worker_and_the_map_gets_every_point(
        qtbot, make_window, strokes) -> None:
    gui = threading.get_ident()
    window = make_window(dataset=strokes, pretrained=False)
    session, analysis = window.session, window.session.analysis
    window.panels["training"].apply_settings({"epochs": 4, "warmup_epochs": 0})
    window.training.toggle()  # Start: the VAE trains in the controller's thread
    vae_map = window.panels["map"].maps["vae"]
    qtbot.waitUntil(lambda: vae_map.model is not None, timeout=TIMEOUT)
    assert vae_map.points.shape == (5_000, 2)
    # The points are the drawn snapshot's own codes of every image.
    mu, _ = vae_map.model.encode(strokes.images)
    np.testing.assert_allclose(vae_map.points, mu[:, :2], rtol=1e-5, atol=1e-6)
    assert [s.name() for s in window.panels["map"].figure.legend_samples] == list(CLASS_NAMES)

    # A click decodes at once; the nearest training image follows from the worker.
    session.set_current_xy(0.5, -0.5)
    decode = window.panels["decode"]
    assert decode.image("vae") is not None
    qtbot.waitUntil(lambda: "#" in decode.rows["vae"].nearest_caption.text(),
                    timeout=TIMEOUT)
    # The trade-off figures and the diagnostics, once their docks are seen.
    for name in ("tradeoff", "diagnostics"):
        _show_dock(window, name)
        window.panels[name].refresh()
    qtbot.waitUntil(lambda: window.panels["tradeoff"].figures is not None
                    and window.panels["diagnostics"].model_mse is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.training.session.training_state.value == "finished",
                    timeout=TIMEOUT)

    # The smoothness figures are asked for when the run finishes: wait for them to arrive.
    qtbot.waitUntil(lambda: "smoothness" in analysis.worker_threads, timeout=TIMEOUT)
    threads = analysis.worker_threads
    assert set(threads) == {"codes", "nearest", "evaluation", "diagnostics", "smoothness"}
    used = set().union(*threads.values())
    assert gui not in used  # no whole-data work on the GUI thread
    assert len(used) == 1  # one worker for all of it
    assert analysis.encodes >= 1


def test_import_reads_the_file_in_the_background_and_maps_every_image(
        qtbot, window, tmp_path, strokes, warnings_shown) -> None:
    from latentlab.core.synthetic import stroke_images
    from latentlab.gui.actions import files

    images, labels = stroke_images(len(strokes), seed=0, dtype=np.uint8)
    path = tmp_path / "strokes.npz"
    np.savez(path, images=images, labels=labels)
    window.panels["training"].apply_settings({"epochs": 2})
    files.import_data_file_in_background(window.training, path, warnings_shown.append)
    assert window.session.busy_text == "Importing strokes.npz…"
    assert window.session.dataset.name == "digits"  # nothing changes until it has arrived
    qtbot.waitUntil(lambda: window.session.dataset.name == "strokes", timeout=TIMEOUT)
    assert window.session.busy_text == ""
    vae_map = window.panels["map"].maps["vae"]
    qtbot.waitUntil(lambda: len(vae_map.points) == len(strokes), timeout=TIMEOUT)
    assert warnings_shown == []


def test_folder_import_and_codes_export_run_on_the_worker(
        qtbot, window, tmp_path, monkeypatch, strokes, warnings_shown) -> None:
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from latentlab.gui.actions.export import EXPORT_KEY
    from latentlab.gui.actions.files import IMPORT_KEY

    gui = threading.get_ident()
    folder = tmp_path / "strokes"
    side = strokes.image_shape[0]
    for label in range(3):  # 3 classes of 100 images, one sub-folder each
        (folder / f"class{label}").mkdir(parents=True)
        for i in range(100):
            pixels = np.ascontiguousarray(
                (strokes.images[100 * label + i] * 255).astype(np.uint8).reshape(side, side))
            image = QImage(pixels.data, side, side, side, QImage.Format.Format_Grayscale8)
            assert image.save(str(folder / f"class{label}" / f"{i:03d}.png"))
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("28×28", True))
    window.panels["training"].apply_settings({"epochs": 2})
    window.files.import_folder_at(str(folder))
    assert window.session.busy_text == "Looking for images in strokes…"
    qtbot.waitUntil(lambda: window.session.dataset.name == "strokes", timeout=TIMEOUT)
    assert window.session.busy_text == "" and warnings_shown == []
    assert len(window.session.dataset) == 300
    assert window.session.dataset.label_names == ("class0", "class1", "class2")
    # The look into the folder and the reading: two tasks, both on the worker.
    threads = window.session.background.threads[IMPORT_KEY]
    assert threads and gui not in threads

    qtbot.waitUntil(lambda: window.session.model("vae") is not None, timeout=TIMEOUT)
    model = window.session.model("vae")
    window.session.set_map_mode("vae")
    target = tmp_path / "codes.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.files.export_codes()
    assert window.session.busy_text == "Saving the latent codes to codes.csv…"
    qtbot.waitUntil(lambda: window.session.busy_text == "", timeout=TIMEOUT)
    assert warnings_shown == []
    rows = target.read_text().splitlines()
    assert rows[0] == "index,label,mu_1,mu_2,logvar_1,logvar_2" and len(rows) == 301
    mu, log_var = model.encode(window.session.dataset.images)
    written = np.array([[float(v) for v in row.split(",")[2:]] for row in rows[1:]])
    np.testing.assert_allclose(written, np.concatenate([mu, log_var], axis=1),
                               rtol=1e-6, atol=1e-6)
    threads = window.session.background.threads[EXPORT_KEY]
    assert threads and gui not in threads


def test_a_long_epoch_sends_snapshots_before_it_ends(qtbot) -> None:
    # 20,000 steps of one image: an epoch far longer than the snapshot interval.
    data = synthetic_strokes(20_000, seed=1, side=10).images
    controller = TrainingController(data)
    seen = []
    controller.updated.connect(seen.append)
    try:
        controller.train({"vae": TrainConfig(model="vae", epochs=1, batch_size=1,
                                             warmup_epochs=0)})
        qtbot.waitUntil(lambda: any(p.final for p in seen), timeout=TIMEOUT)
    finally:
        controller.shutdown()
    within = [p for p in seen if not p.final and not p.reports["vae"]]
    assert within, "no snapshot arrived within the epoch"
    assert all(p.moved == {"vae"} for p in within)
    assert seen[-1].reports["vae"] or any(p.reports["vae"] for p in seen)
    # Each snapshot is a model of its own (the GUI may keep it while training goes on).
    assert len({id(p.models["vae"]) for p in seen}) == len(seen)
