"""``latentlab train`` and friends, run as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentlab import __version__
from latentlab.core import load_model


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "latentlab", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"LatentLab {__version__}"


def test_train_vae_json_and_saved_model(tmp_path: Path) -> None:
    out = tmp_path / "vae.npz"
    result = _run("train", "--model", "vae", "--epochs", "5", "--beta", "0.5",
                  "--latent-dim", "3", "--seed", "4", "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["model"] == "vae" and figures["epochs"] == 5
    for key in ("seconds", "recon", "kl", "total", "total_sampled"):
        assert isinstance(figures[key], float)
    assert figures["total"] == figures["recon"] + 0.5 * figures["kl"]
    assert "\r" not in result.stderr  # no progress bar when not on a terminal
    saved = load_model(out)
    assert saved.model.latent_dim == 3 and saved.config.seed == 4
    assert len(saved.history) == 5


def test_train_ae_reports_mse() -> None:
    result = _run("train", "--model", "ae", "--epochs", "2", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["mse"] == figures["recon"] and figures["kl"] == 0.0


def test_human_readable_output() -> None:
    result = _run("train", "--model", "linear", "--epochs", "2")
    assert result.returncode == 0
    assert "pca_mse" in result.stdout and "linear: 2 epochs" in result.stdout


def test_bad_arguments_exit_2_with_a_message() -> None:
    for args in (["--lr", "-1"], ["--model", "gan"], ["--batch-size", "0"], ["--beta", "nan"]):
        result = _run("train", *args)
        assert result.returncode == 2
        assert "error:" in result.stderr


def test_divergence_exits_1_with_a_usable_saved_model(tmp_path: Path) -> None:
    out = tmp_path / "diverged.npz"
    result = _run("train", "--model", "vae", "--optimizer", "sgd", "--lr", "10",
                  "--epochs", "3", "--json", "--out", str(out))
    assert result.returncode == 1
    assert "diverged" in result.stderr
    assert "diverged" in json.loads(result.stdout.strip().splitlines()[-1])
    load_model(out)  # the last finite weights were kept and saved


@pytest.mark.parametrize(("out", "reason"), [
    ("/nonexistent-dir/model.npz", "does not exist"),
    ("/dev/null", "a device, not a file"),
    ("{tmp}/pipe", "a FIFO (named pipe), not a file"),
    ("{tmp}", "folder"),
])
def test_bad_out_is_refused_before_training(tmp_path: Path, out: str, reason: str) -> None:
    os.mkfifo(tmp_path / "pipe")
    target = out.format(tmp=tmp_path)
    # 10**6 epochs would take hours: exiting at once shows nothing was trained.
    for command, option in (("train", "--out"), ("sweep", "--csv")):
        result = _run(command, "--epochs", "1000000", option, target)
        assert result.returncode == 2, result.stderr
        assert reason in result.stderr and target in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)


def test_a_diverged_run_keeps_an_existing_model_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "good.npz"
    assert _run("train", "--epochs", "2", "--out", str(out)).returncode == 0
    good = out.read_bytes()
    diverging = ("train", "--optimizer", "sgd", "--lr", "10", "--epochs", "3", "--out", str(out))
    result = _run(*diverging)
    assert result.returncode == 1
    assert "was not replaced" in result.stderr and "--save-diverged" in result.stderr
    assert out.read_bytes() == good
    replaced = _run(*diverging, "--save-diverged")
    assert replaced.returncode == 1 and out.read_bytes() != good
    load_model(out)
    assert "--save-diverged" in _run("train", "--help").stdout


def test_a_failed_save_after_training_exits_1_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    out = folder / "m.npz"
    out.write_bytes(b"old")
    # --out passes the check; RLIMIT_FSIZE then makes the save's write fail (EFBIG), as a
    # disk filling up during training would.
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000));"
            "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
            "from latentlab.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "train", "--epochs", "1", "--out",
                             str(out)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 1, result.stderr
    assert "cannot write" in result.stderr and "unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert out.read_bytes() == b"old" and sorted(os.listdir(folder)) == ["m.npz"]


def test_sweep_writes_rate_distortion_csv(tmp_path: Path) -> None:
    out = tmp_path / "sweep.csv"
    result = _run("sweep", "--betas", "0.5,2", "--epochs", "40", "--csv", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "beta,epochs,recon,kl,total,total_sampled,mse,seconds"
    rows = [dict(zip(lines[0].split(","), map(float, line.split(",")), strict=True))
            for line in lines[1:]]
    assert [r["beta"] for r in rows] == [0.5, 2.0]
    assert rows[0]["recon"] < rows[1]["recon"]  # more β: worse reconstruction ...
    assert rows[0]["kl"] > rows[1]["kl"]  # ... and a smaller rate


def test_sweep_to_stdout_and_bad_betas() -> None:
    result = _run("sweep", "--betas", "1", "--epochs", "1", "--model", "vae")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("beta,epochs,recon")
    assert len(result.stdout.splitlines()) == 2
    assert _run("sweep", "--betas", "1,-2").returncode == 2


def _synthetic_16x16(path: Path, n: int = 60) -> Path:
    """Bright squares at two positions: a small 16×16 data set with labels 0/1."""
    images = np.zeros((n, 16, 16), dtype=np.uint8)
    labels = np.arange(n) % 2
    for i in range(n):
        r = 2 + (i * 3) % 5
        c = 2 if labels[i] == 0 else 9
        images[i, r:r + 5, c:c + 5] = 255
    np.savez_compressed(path, images=images, labels=labels)
    return path


def test_train_on_own_data(tmp_path: Path) -> None:
    data = _synthetic_16x16(tmp_path / "squares.npz")
    out = tmp_path / "model.npz"
    result = _run("train", "--data", str(data), "--model", "vae", "--epochs", "3",
                  "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["data"] == "squares" and figures["images"] == 60
    assert figures["image_shape"] == [16, 16]
    assert load_model(out).model.input_dim == 256  # the model's input follows the data
    human = _run("train", "--data", str(data), "--model", "ae", "--epochs", "1")
    assert human.returncode == 0 and "on squares (60 images, 16×16)" in human.stdout
    sweep = _run("sweep", "--data", str(data), "--betas", "1", "--epochs", "1")
    assert sweep.returncode == 0, sweep.stderr
    assert len(sweep.stdout.splitlines()) == 2


def test_bad_data_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((4, 8, 8), 7.5))
    for command in ("train", "sweep"):
        result = _run(command, "--data", str(bad), "--epochs", "1")
        assert result.returncode == 2
        assert "error:" in result.stderr and "expected values in [0, 1]" in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    missing = _run("train", "--data", str(tmp_path / "none.npz"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
