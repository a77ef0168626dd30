"""The training figures of ``latentlab train --json`` and the stacked ``latentlab sweep``
(in process: ``cli.main`` with captured streams)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from latentlab.cli import build_parser, run_sweep, run_train
from latentlab.core import TrainConfig


def _train_json(*args: str) -> dict:
    out, err = io.StringIO(), io.StringIO()
    assert run_train(build_parser().parse_args(["train", *args, "--json"]), out, err) == 0
    result: dict = json.loads(out.getvalue().splitlines()[-1])
    return result


def test_train_json_reports_the_recipe_and_the_time_to_the_target() -> None:
    result = _train_json("--model", "vae", "--epochs", "30", "--target", "30")
    defaults = TrainConfig()
    assert (result["lr"], result["lr_schedule"], result["batch_size"], result["target"]) == (
        defaults.lr, defaults.lr_schedule, defaults.batch_size, 30.0)
    assert result["epochs_to_target"] % 5 == 0 and 5 <= result["epochs_to_target"] <= 30
    assert 0 < result["seconds_to_target"] <= result["seconds"]
    assert "epochs_to_target" in result["measured"]


def test_train_takes_the_schedule_and_a_constant_rate_gives_another_run() -> None:
    cosine = _train_json("--model", "ae", "--epochs", "4")
    constant = _train_json("--model", "ae", "--epochs", "4", "--lr-schedule", "constant")
    assert (cosine["lr_schedule"], constant["lr_schedule"]) == ("cosine", "constant")
    assert constant["mse"] != cosine["mse"]


def test_no_time_to_target_when_it_is_not_reached_or_has_no_meaning() -> None:
    unreached = _train_json("--model", "vae", "--epochs", "5", "--target", "1")
    assert unreached["epochs_to_target"] is None and unreached["seconds_to_target"] is None
    ae = _train_json("--model", "ae", "--epochs", "5")
    assert ae["target"] is None and ae["epochs_to_target"] is None


def test_sweep_trains_its_betas_together_as_separate_runs_would() -> None:
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(["sweep", "--betas", "0.5,2", "--epochs", "15"])
    assert run_sweep(args, out, err) == 0
    lines = out.getvalue().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    assert [float(r["beta"]) for r in rows] == [0.5, 2.0]
    for row in rows:
        alone = _train_json("--model", "vae", "--epochs", "15", "--beta", row["beta"])
        for column in ("recon", "kl", "total_sampled", "mse"):
            assert float(row[column]) == pytest.approx(alone[column], rel=1e-4), column
    assert rows[0]["seconds"] == rows[1]["seconds"]  # one pass trained both
    assert float(rows[0]["kl"]) > float(rows[1]["kl"])
    assert np.isfinite([float(r["total"]) for r in rows]).all()


def test_train_json_reports_the_smoothness_of_the_trained_model(tmp_path) -> None:
    from latentlab.core import load_digits, load_model
    from latentlab.core.smoothness import measure_smoothness

    out = tmp_path / "ae.npz"
    result = _train_json("--model", "ae", "--epochs", "5", "--out", str(out))
    expected = measure_smoothness(load_model(out).model, load_digits().images).figures()
    shown = result["smoothness"]
    assert set(shown) == set(expected)
    for name, value in expected.items():
        assert shown[name] == (None if value != value else pytest.approx(value)), name
    assert "smoothness" in result["measured"]
    assert _train_json("--model", "ae", "--epochs", "1", "--latent-dim", "1")["smoothness"] \
        is None  # a 1-D latent has no plane to measure over
