"""``latentlab train`` and friends, run as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_unwritable_output_is_reported() -> None:
    result = _run("train", "--epochs", "1", "--out", "/nonexistent-dir/model.npz")
    assert result.returncode == 1
    assert "cannot save" in result.stderr


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
