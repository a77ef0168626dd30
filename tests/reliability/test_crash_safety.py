"""Saves survive being killed and a full disk: kill -9 in the middle of a save leaves the
old file or the new one, both loadable, and the next save removes the litter; a write that
fails for lack of space (RLIMIT_FSIZE makes it fail as a full disk would, unprivileged)
leaves the old file byte-identical and no temporary file, for every kind of export."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from latentlab.core import ModelConfig, TrainConfig, build_model, load_model, save_model

ROOT = Path(__file__).resolve().parents[2]
BIG = ModelConfig(kind="ae", input_dim=1024, hidden_dim=1024, latent_dim=2)  # 8 MB a save
TEMP = re.compile(r"\.model\.npz\.latentlab-[a-z0-9_]{8}\.tmp\.npz")


def _env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYQTGRAPH_QT_LIB": "PySide6",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")]))}


SAVER = textwrap.dedent("""
    import sys
    from latentlab.core import ModelConfig, TrainConfig, build_model, save_model
    config = ModelConfig(kind="ae", input_dim=1024, hidden_dim=1024, latent_dim=2)
    models = [build_model(config, seed=seed) for seed in (1, 2)]
    train = TrainConfig(model="ae", hidden_dim=1024)
    i = 0
    while True:
        save_model(sys.argv[1], models[i % 2], train)
        print("saved", flush=True)
        i += 1
""")


def _wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def test_kill_9_during_a_save_leaves_a_loadable_file_and_the_next_save_cleans_up(
        tmp_path: Path) -> None:
    target = tmp_path / "model.npz"
    candidates = [build_model(BIG, seed=seed).weights for seed in (1, 2)]
    for _ in range(3):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(target)], env=_env(),
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert saver.stdout is not None
            assert saver.stdout.readline() == "saved\n"  # the target exists
            _wait_for(lambda: any(TEMP.fullmatch(n) for n in os.listdir(tmp_path)),
                      "a save in progress")
            os.kill(saver.pid, signal.SIGKILL)
        finally:
            saver.wait(timeout=60)
            if saver.stdout is not None:
                saver.stdout.close()
        assert saver.returncode == -signal.SIGKILL
        weights = load_model(target).model.weights
        assert any(np.array_equal(weights, c) for c in candidates)
    assert any(TEMP.fullmatch(n) for n in os.listdir(tmp_path))  # the killed saves' litter
    save_model(target, build_model(BIG, seed=3), TrainConfig(model="ae", hidden_dim=1024))
    assert os.listdir(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(load_model(target).model.weights,
                                  build_model(BIG, seed=3).weights)


FULL_DISK = textwrap.dedent("""
    import json, resource, signal, sys
    from pathlib import Path
    import pyqtgraph as pg
    from pyqtgraph.exporters import ImageExporter, SVGExporter
    from PySide6.QtGui import QColor, QImage
    from latentlab.core import ModelConfig, TrainConfig, build_model, save_model
    from latentlab.core.io import atomic_write_path, atomic_write_text

    folder = Path(sys.argv[1])
    app = pg.mkQApp()
    plot = pg.PlotWidget()
    plot.plot([0, 1, 2, 3], [3, 1, 2, 0], symbol="o")
    plot.resize(640, 480)
    image = QImage(640, 480, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    model = build_model(ModelConfig(kind="ae", input_dim=784, hidden_dim=256))
    train = TrainConfig(model="ae", hidden_dim=256)
    writers = {
        "model.npz": lambda p: save_model(p, model, train),
        "codes.csv": lambda p: atomic_write_text(p, "z1,z2\\n" + "0.5,0.25\\n" * 50_000),
        "map.svg": lambda p: atomic_write_path(p, SVGExporter(plot.plotItem).export),
        "curves.png": lambda p: atomic_write_path(p, ImageExporter(plot.plotItem).export),
        "gallery.png": lambda p: atomic_write_path(p, lambda name: image.save(name)),
    }
    old = {}
    for name in writers:
        (folder / name).write_bytes(b"the old file " + name.encode())
        old[name] = (folder / name).read_bytes()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
    results = {}
    for name, write in writers.items():
        try:
            write(folder / name)
            results[name] = "written"
        except OSError as exc:
            results[name] = type(exc).__name__ + ": " + str(exc)
        results[name + " unchanged"] = (folder / name).read_bytes() == old[name]
    results["files"] = sorted(p.name for p in folder.iterdir())
    print(json.dumps(results))
""")


@pytest.mark.parametrize("name", ["model.npz", "codes.csv", "map.svg", "curves.png",
                                  "gallery.png"])
def test_a_full_disk_keeps_every_old_export(tmp_path: Path, name: str,
                                            full_disk: dict[str, object]) -> None:
    outcome = str(full_disk[name])
    assert outcome.startswith("WriteFailed: cannot write "), outcome
    assert "unchanged" in outcome and "\n" not in outcome
    assert full_disk[name + " unchanged"] is True
    assert full_disk["files"] == sorted(["model.npz", "codes.csv", "map.svg", "curves.png",
                                         "gallery.png"])


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("full-disk")
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(folder)], env=_env(),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
