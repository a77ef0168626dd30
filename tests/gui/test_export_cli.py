"""The command line end to end, as a user runs it: ``latentlab export``, ``sweep --plot``, a
folder of images and a header-less labelled CSV as ``--data``; bad input exits 2 with one
line; a headless run leaves the user's settings file as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from latentlab.core import TrainConfig, Trainer, load_dataset, load_digits, save_model

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", PYQTGRAPH_QT_LIB="PySide6",
               XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def latentlab(home: Path, *args: str, display: bool = True) -> subprocess.CompletedProcess[str]:
    env = _env(home)
    if not display:  # no display at all: `latentlab` runs its headless demo
        for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "latentlab", *args], cwd=home,
                            env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert "QThread: Destroyed" not in result.stderr
    return result


def refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 with one line on stderr saying ``words``."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def size_of(path: Path) -> tuple[int, int]:
    image = QImage(str(path))
    assert not image.isNull(), path
    return image.width(), image.height()


def dark_pixels(path: Path) -> int:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    stride = image.bytesPerLine()
    pixels = np.frombuffer(image.constBits(), np.uint8, count=stride * image.height())
    return int((pixels.reshape(image.height(), stride)[:, :image.width()] < 100).sum())


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-D VAE trained for 6 epochs on the digits, saved with its history."""
    config = TrainConfig(model="vae", latent_dim=2, epochs=6, seed=0)
    trainer = Trainer(config, load_digits().images)
    list(trainer.train())
    path = tmp_path_factory.mktemp("model") / "vae.npz"
    save_model(path, trainer.model, config, trainer.history)
    return path


@pytest.fixture
def image_folder(qapp, tmp_path: Path) -> Path:
    """Two classes of 20×20 images, PNG and JPEG, in sub-folders."""
    folder = tmp_path / "shapes"
    for c, name in enumerate(("circles", "squares")):
        (folder / name).mkdir(parents=True)
        for i in range(6):
            image = QImage(20, 20, QImage.Format.Format_RGB32)
            image.fill(QColor(30 * i, 120 * c, 60))
            assert image.save(str(folder / name / f"{i}.{'png' if i % 2 else 'jpg'}"))
    return folder


def test_export_writes_every_figure_with_the_windows_renderer(tmp_path: Path,
                                                              model_file: Path) -> None:
    out = tmp_path
    result = latentlab(
        tmp_path, "export", "--model", str(model_file), "--latent-map", "map.png",
        "--gallery", "gallery.png", "--count", "36", "--temperature", "0.8", "--seed", "3",
        "--interpolate", "label:3", "17", "--steps", "12", "--strip", "strip.png",
        "--codes", "codes.csv", "--loss-curves", "curves.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("wrote ") == 5
    width, height = size_of(out / "map.png")
    assert width == 1280 and 300 < height < 3000  # the map's own aspect
    assert size_of(out / "gallery.png") == (6 * 8 * 16, 6 * 8 * 16)  # 36 tiles, 16 px/pixel
    assert size_of(out / "strip.png") == (12 * 8 * 16, 8 * 16)
    assert size_of(out / "curves.png") == (1200, 720)
    rows = (out / "codes.csv").read_text().splitlines()
    assert rows[0] == "index,label,mu_1,mu_2,logvar_1,logvar_2"
    assert len(rows) == 1 + 1797
    # The same seed draws the same gallery.
    again = latentlab(tmp_path, "export", "--model", str(model_file), "--gallery",
                      "again.png", "--count", "36", "--temperature", "0.8", "--seed", "3")
    assert again.returncode == 0, again.stderr
    assert (out / "again.png").read_bytes() == (out / "gallery.png").read_bytes()


def test_export_map_size_axes_and_svg(tmp_path: Path, model_file: Path) -> None:
    result = latentlab(tmp_path, "export", "--model", str(model_file), "--latent-map",
                       "map.png", "--size", "900x700", "--axes", "2,1")
    assert result.returncode == 0, result.stderr
    assert size_of(tmp_path / "map.png") == (900, 700)
    result = latentlab(tmp_path, "export", "--model", str(model_file), "--latent-map",
                       "manifold.png", "--size", "900x700", "--manifold")
    assert result.returncode == 0, result.stderr
    assert size_of(tmp_path / "manifold.png") == (900, 700)
    # The decoded digits fill the background: far more dark pixels than points alone.
    assert dark_pixels(tmp_path / "manifold.png") > 3 * dark_pixels(tmp_path / "map.png")
    result = latentlab(tmp_path, "export", "--model", str(model_file), "--latent-map",
                       "map.svg")
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "map.svg").read_text()
    assert "<svg" in svg and svg.count("<") > 1000  # every point a vector shape


@pytest.fixture(scope="module")
def vae4_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-D VAE trained for 6 epochs on the digits."""
    config = TrainConfig(model="vae", latent_dim=4, epochs=6, seed=2)
    trainer = Trainer(config, load_digits().images)
    list(trainer.train())
    path = tmp_path_factory.mktemp("model4") / "vae4.npz"
    save_model(path, trainer.model, config, trainer.history)
    return path


def test_export_the_pca_view_with_its_manifold(tmp_path: Path, vae4_file: Path) -> None:
    result = latentlab(tmp_path, "export", "--model", str(vae4_file), "--latent-map",
                       "pca.png", "--size", "900x700", "--pca")
    assert result.returncode == 0, result.stderr
    assert size_of(tmp_path / "pca.png") == (900, 700)
    result = latentlab(tmp_path, "export", "--model", str(vae4_file), "--latent-map",
                       "pca-manifold.png", "--size", "900x700", "--pca", "--manifold")
    assert result.returncode == 0, result.stderr
    assert size_of(tmp_path / "pca-manifold.png") == (900, 700)
    assert dark_pixels(tmp_path / "pca-manifold.png") > 3 * dark_pixels(tmp_path / "pca.png")
    # The same model on two chosen axes is another picture (the PCA plane is not z1-z2).
    result = latentlab(tmp_path, "export", "--model", str(vae4_file), "--latent-map",
                       "axes.png", "--size", "900x700", "--axes", "1,2")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "axes.png").read_bytes() != (tmp_path / "pca.png").read_bytes()
    result = latentlab(tmp_path, "export", "--model", str(vae4_file), "--latent-map",
                       "pca.svg", "--pca")
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "pca.svg").read_text()
    assert "PCA of the codes; other 2 directions at their mean" in svg  # the caption


def test_export_refuses_a_map_of_a_1d_latent(tmp_path: Path) -> None:
    config = TrainConfig(model="ae", latent_dim=1, epochs=1, seed=0)
    trainer = Trainer(config, load_digits().images)
    list(trainer.train())
    save_model(tmp_path / "ae1.npz", trainer.model, config, trainer.history)
    for extra in ((), ("--pca",)):
        refused(latentlab(tmp_path, "export", "--model", "ae1.npz", "--latent-map", "m.png",
                          *extra), "--latent-map", "1-D latent", "needs 2")
    assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize(("args", "words"), [
    (("--model", "missing.npz", "--codes", "c.csv"), ("missing.npz",)),
    (("--codes", "no-such-folder/c.csv"), ("does not exist",)),
    (("--latent-map", "m.png", "--axes", "1,3"), ("--axes 1,3", "2 latent")),
    (("--latent-map", "m.png", "--pca", "--axes", "1,2"), ("--axes and --pca",)),
    (("--gallery", "g.png", "--pca"), ("--pca", "shape --latent-map")),
    (("--latent-map", "m.jpg",), (".png or an .svg",)),
    (("--interpolate", "0", "99999", "--strip", "s.png"), ("no image 99999",)),
    (("--interpolate", "label:3", "label:x", "--strip", "s.png"), ("no label 'x'",)),
    ((), ("nothing to export",)),
])
def test_export_refuses_bad_input_with_one_line(tmp_path: Path, model_file: Path,
                                                args: tuple[str, ...],
                                                words: tuple[str, ...]) -> None:
    if "--model" not in args:
        args = ("--model", str(model_file), *args)
    refused(latentlab(tmp_path, "export", *args), "latentlab export: error:", *words)
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.csv"))


def test_export_refuses_a_model_that_does_not_fit_the_data(tmp_path: Path, model_file: Path,
                                                            image_folder: Path) -> None:
    refused(latentlab(tmp_path, "export", "--model", str(model_file), "--data",
                      str(image_folder), "--image-size", "16", "--codes", "c.csv"),
            "64 pixels", "256")


def test_train_and_export_on_a_folder_of_images(tmp_path: Path, image_folder: Path) -> None:
    result = latentlab(tmp_path, "train", "--data", str(image_folder), "--image-size", "16",
                       "--epochs", "3", "--json", "--out", "shapes.npz")
    assert result.returncode == 0, result.stderr
    figures = __import__("json").loads(result.stdout.splitlines()[-1])
    assert figures["images"] == 12 and figures["image_shape"] == [16, 16]
    assert figures["data"] == "shapes"
    result = latentlab(tmp_path, "export", "--model", "shapes.npz", "--data",
                       str(image_folder), "--image-size", "16", "--interpolate",
                       "label:circles", "label:squares", "--steps", "4", "--strip", "s.png",
                       "--codes", "codes.csv")
    assert result.returncode == 0, result.stderr
    assert size_of(tmp_path / "s.png") == (4 * 16 * 16, 16 * 16)
    labels = [row.split(",")[1] for row in (tmp_path / "codes.csv").read_text().splitlines()]
    assert labels[1:] == ["0"] * 6 + ["1"] * 6


def test_folder_and_size_refusals_say_what_the_window_says(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    refused(latentlab(tmp_path, "train", "--data", "empty", "--epochs", "1"),
            "latentlab train: error:", "no PNG or JPEG images found")
    refused(latentlab(tmp_path, "train", "--image-size", "16", "--epochs", "1"),
            "--image-size applies to a folder")
    result = latentlab(tmp_path, "train", "--data", "empty", "--image-size", "3x5000")
    assert result.returncode == 2 and "--image-size" in result.stderr


def test_a_headerless_csv_with_a_label_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (30, 64))
    labels = rng.integers(0, 3, (30, 1))
    np.savetxt(tmp_path / "labelled.csv", np.hstack([labels, pixels]), fmt="%d",
               delimiter=",")
    data = load_dataset(tmp_path / "labelled.csv")
    assert data.image_shape == (8, 8)
    assert np.array_equal(data.labels, labels[:, 0])
    assert np.array_equal(np.round(data.images * 255), pixels)
    np.savetxt(tmp_path / "halves.csv", np.hstack([labels + 0.5, pixels]), fmt="%g",
               delimiter=",")
    refused(latentlab(tmp_path, "train", "--data", "halves.csv", "--epochs", "1"),
            "halves.csv", "labels must be whole numbers")
    result = latentlab(tmp_path, "train", "--data", "labelled.csv", "--epochs", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert '"images": 30' in result.stdout


def test_sweep_plots_the_rate_distortion_curve(tmp_path: Path) -> None:
    result = latentlab(tmp_path, "sweep", "--betas", "0.5,2", "--epochs", "2", "--out",
                       "rd.csv", "--plot", "rd.png")
    assert result.returncode == 0, result.stderr
    rows = (tmp_path / "rd.csv").read_text().splitlines()
    assert rows[0].startswith("beta,") and [r.split(",")[0] for r in rows[1:]] == ["0.5", "2"]
    width, height = size_of(tmp_path / "rd.png")
    assert width == 1000 and height > 200
    refused(latentlab(tmp_path, "sweep", "--model", "ae", "--epochs", "1", "--plot", "x.png"),
            "--plot", "no KL")
    assert not (tmp_path / "x.png").exists()


def test_headless_runs_leave_the_users_settings_untouched(tmp_path: Path,
                                                         model_file: Path) -> None:
    settings = tmp_path / "config" / "LatentLab" / "LatentLab.ini"
    settings.parent.mkdir(parents=True)
    settings.write_text("[window]\nstate=@ByteArray()\n[export]\ndir=/nowhere\n")
    before = settings.read_bytes(), settings.stat().st_mtime_ns
    assert latentlab(tmp_path, "--smoke").returncode == 0
    demo = latentlab(tmp_path, display=False)
    assert demo.returncode == 0 and "headless demo" in demo.stdout
    assert (tmp_path / "latentlab-demo" / "latent-map.png").is_file()
    assert latentlab(tmp_path, "export", "--model", str(model_file), "--latent-map", "m.png",
                     "--codes", "c.csv").returncode == 0
    assert (settings.read_bytes(), settings.stat().st_mtime_ns) == before
    assert [p.name for p in settings.parent.iterdir()] == ["LatentLab.ini"]
