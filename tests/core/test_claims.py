"""The claims the app's texts cite, re-measured where it is cheap (really trained VAEs)."""

from __future__ import annotations

import pytest

from latentlab.core import TrainConfig, Trainer, load_digits
from latentlab.core.claims import (
    COLLAPSE_BETA_RANGE,
    COLLAPSED_KL_MAX,
    MAX_SAFE_BETA,
    WARMUP_TOOLTIP,
    collapse_advice,
    collapse_banner,
)
from latentlab.core.diagnostics import diagnose_latents


def _trained(beta: float, warmup: int, seed: int = 0):
    images = load_digits().images
    trainer = Trainer(TrainConfig(model="vae", beta=beta, warmup_epochs=warmup, seed=seed),
                      images)
    for _ in trainer.train():
        pass
    return diagnose_latents(*trainer.model.encode(images))


@pytest.mark.parametrize("warmup", [0, 100])
def test_above_the_range_the_vae_collapses_with_or_without_warm_up(warmup: int) -> None:
    diag = _trained(COLLAPSE_BETA_RANGE[1], warmup)
    assert diag.fully_collapsed
    assert diag.kl.max() <= COLLAPSED_KL_MAX


def test_at_the_safe_beta_every_dim_stays_active() -> None:
    diag = _trained(MAX_SAFE_BETA, warmup=0)
    assert diag.n_active == 2 and diag.kl.min() > COLLAPSED_KL_MAX


def test_the_texts_cite_the_figures_and_do_not_promise_a_cure() -> None:
    low, high = COLLAPSE_BETA_RANGE
    advice = collapse_advice(4.0)
    assert f"{low:g}–{high:g}" in advice and "now β = 4" in advice
    assert f"β ≤ {MAX_SAFE_BETA:g}" in advice
    assert "does not prevent posterior collapse" in WARMUP_TOOLTIP
    assert "cure" not in (advice + WARMUP_TOOLTIP).lower()


def test_the_banner_states_the_collapsed_kl_and_the_measured_range() -> None:
    assert "KL per dim < 0.001 nats" in collapse_banner(0.0004, 4.0)
    assert "KL per dim ≤ 0.005 nats" in collapse_banner(0.0051)
    assert collapse_banner(0.0, 4.0).startswith("Posterior collapse at β = 4:")
    low, high = COLLAPSE_BETA_RANGE
    assert f"β ≈ {low:g}–{high:g}, with or without KL warm-up" in collapse_banner(0.0)
