"""One language for loss figures: the labels the CLI writes and the totals restated at one β."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentlab import cli
from latentlab.core import TrainConfig, Trainer, load_digits
from latentlab.core.loss_labels import AT_MU, JSON_FIELDS, RUNNING, SAMPLED, totals_at


def test_totals_at_restate_warm_up_epochs_at_the_final_beta() -> None:
    config = TrainConfig(model="vae", beta=2.0, warmup_epochs=4, epochs=6, seed=0)
    trainer = Trainer(config, load_digits().images[:256])
    history = list(trainer.train())
    recon = np.array([r.recon for r in history])
    kl = np.array([r.kl for r in history])
    restated = totals_at(recon, kl, config.beta)
    reported = np.array([r.total for r in history])
    # from the end of the warm-up on, the reported total already is at the final β ...
    np.testing.assert_allclose(restated[4:], reported[4:], rtol=1e-12)
    # ... during it the reported total used a smaller β, so it reads lower
    assert (restated[:4] > reported[:4]).all()
    assert [r.beta for r in history[:4]] == pytest.approx([0.0, 0.5, 1.0, 1.5])


def test_train_json_says_how_each_figure_was_measured(capsys) -> None:
    code = cli.main(["train", "--model", "vae", "--epochs", "2", "--json"])
    assert code == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    measured = figures["measured"]
    assert set(measured) == {k for k in JSON_FIELDS if k in figures}
    assert {"recon", "kl", "total", "total_sampled", "train_total"} <= set(measured)
    assert AT_MU.long in measured["recon"] and AT_MU.long in measured["total"]
    assert SAMPLED.long in measured["total_sampled"]
    assert RUNNING.long in measured["train_total"]


def test_train_text_output_names_the_measure(capsys) -> None:
    assert cli.main(["train", "--model", "vae", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert f"recon, kl, total, mse: {AT_MU.short}; total_sampled: {SAMPLED.short}" in out
