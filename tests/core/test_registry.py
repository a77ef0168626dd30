"""The model-kind registry: one table that builds every kind and says what each has."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentlab.cli import build_parser
from latentlab.core import MODEL_KINDS, ModelConfig, ModelKind, TrainConfig, build_model
from latentlab.core.layers import Bottleneck, Deterministic, GaussianSample
from latentlab.core.vqvae import VectorQuantiser


def test_every_kind_has_one_row_and_builds_its_class() -> None:
    assert tuple(kind.value for kind in ModelKind) == MODEL_KINDS
    for kind in ModelKind:
        model = build_model(ModelConfig(kind=kind, input_dim=6, hidden_dim=4))
        assert type(model) is kind.model_class
        assert model.kind is kind
        assert isinstance(model.bottleneck, Bottleneck)
        assert model.layers[len(model.encoder)] is model.bottleneck


def test_kinds_read_and_write_as_their_plain_values() -> None:
    assert ModelKind("vae") is ModelKind.VAE and ModelKind.VAE == "vae"
    assert f"{ModelKind.LINEAR}" == "linear" and str(ModelKind.AE) == "ae"
    config = TrainConfig(model="ae")
    assert config.model is ModelKind.AE
    assert json.loads(json.dumps(config.to_dict()))["model"] == "ae"
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert ModelConfig(kind="vqvae").kind is ModelKind.VQVAE


def test_unknown_kinds_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="ae, vae, linear, vqvae"):
        ModelConfig(kind="gan")
    with pytest.raises(ValueError, match="model must be one of"):
        TrainConfig(model="gan")


@pytest.mark.parametrize(("kind", "bottleneck", "noise", "kl", "prior"), [
    (ModelKind.AE, Deterministic, False, False, False),
    (ModelKind.LINEAR, Deterministic, False, False, False),
    (ModelKind.VAE, GaussianSample, True, True, True),
    (ModelKind.VQVAE, VectorQuantiser, False, False, True),
])
def test_what_each_kind_has(kind: ModelKind, bottleneck: type, noise: bool, kl: bool,
                            prior: bool) -> None:
    model = build_model(ModelConfig(kind=kind, input_dim=6, hidden_dim=4, latent_dim=3))
    assert isinstance(model.bottleneck, bottleneck)
    assert (kind.samples_noise, kind.has_kl, kind.has_prior) == (noise, kl, prior)
    assert model.is_variational == noise
    assert model.noise_rows == (3 if noise else 0)
    assert model.regulariser_uses_beta == (kind is not ModelKind.VQVAE)


def test_display_names_are_distinct_and_the_cli_offers_every_kind() -> None:
    names = [kind.display_name for kind in ModelKind]
    assert len(set(names)) == len(names)
    assert ModelKind.AE.display_name == "Autoencoder"
    train = build_parser().parse_args(["train", "--model", "linear"])
    assert train.model == "linear"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--model", "gan"])


def test_the_generic_step_trains_through_the_bottleneck() -> None:
    """The same graph code trains every kind: a VAE step without noise is refused by its
    bottleneck, not by a special case in the caller."""
    model = build_model(ModelConfig(kind="vae", input_dim=6, hidden_dim=4, dtype="float64"))
    x_h = np.vstack([np.full((6, 3), 0.5), np.ones((1, 3))])
    with pytest.raises(ValueError, match="needs noise"):
        model.train_step(x_h, 1.0, None)
    recon, kl = model.train_step(x_h, 1.0, np.zeros((2, 3)))
    report = model.evaluate(x_h[:-1].T)  # z = μ, the same as zero noise
    assert (recon, kl) == (pytest.approx(report.recon, rel=1e-12),
                           pytest.approx(report.kl, rel=1e-12))
