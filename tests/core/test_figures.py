"""The reference article's figures on the bundled digits, with the default settings."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.cli import final_figures
from latentlab.core import TrainConfig, Trainer, load_digits
from latentlab.core.pca import pca_reconstruction_mse
from latentlab.core.trainer import ARTICLE_TARGET, TargetWatch


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits().images


def _train(digits: np.ndarray, **settings: object) -> Trainer:
    trainer = Trainer(TrainConfig(**settings), digits)  # type: ignore[arg-type]
    list(trainer.train())
    return trainer


def test_pca_baseline(digits: np.ndarray) -> None:
    assert pca_reconstruction_mse(digits, 2) == pytest.approx(0.0524, abs=5e-5)
    assert pca_reconstruction_mse(digits, 64) == pytest.approx(0.0, abs=1e-12)


def test_default_vae_meets_the_article_figure_early(digits: np.ndarray) -> None:
    """The defaults of `latentlab train --model vae`: the article's 24.8 (z sampled) is
    reached by epoch 60 (55 measured; 95-110 with the earlier lr 3e-3) and the final
    figures are at least as good as the earlier recipe's (24.5 sampled, 23.65 at z = μ)."""
    config = TrainConfig()
    trainer = Trainer(config, digits)
    watch = TargetWatch(ARTICLE_TARGET, digits, config.seed)
    for report in trainer.train():
        watch.observe(trainer.model, report, config.beta)
    figures = final_figures(trainer.model, trainer.config, digits)
    assert watch.epoch is not None and watch.epoch <= 60
    assert figures["total_sampled"] <= 24.5
    assert figures["total"] <= 23.65
    assert figures["kl"] > 1.0  # the latent is in use, not collapsed


def test_autoencoder_beats_pca(digits: np.ndarray) -> None:
    figures = final_figures(_train(digits, model="ae").model, TrainConfig(model="ae"), digits)
    assert figures["mse"] <= 0.034
    assert figures["mse"] < 0.9 * pca_reconstruction_mse(digits, 2)


def test_linear_autoencoder_reaches_pca(digits: np.ndarray) -> None:
    trainer = _train(digits, model="linear", epochs=300)
    mse = trainer.model.evaluate(digits).mse
    assert mse <= 1.01 * pca_reconstruction_mse(digits, 2)


def test_beta_sweep_trades_reconstruction_for_kl(digits: np.ndarray) -> None:
    figures = [final_figures(_train(digits, beta=beta, epochs=120).model,
                             TrainConfig(beta=beta), digits) for beta in (0.25, 0.5, 1.0, 2.0)]
    recon = [f["recon"] for f in figures]
    kl = [f["kl"] for f in figures]
    assert recon == sorted(recon), recon
    assert kl == sorted(kl, reverse=True), kl
