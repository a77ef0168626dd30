"""The fused training steps (latentlab.core.fused) against the layer path: the same
gradients and losses to the bit, for every batch size an epoch uses, in float32 and
float64, for one model and for a stack. Their central-difference checks are in
test_gradients.py and test_stacked.py (``train_step`` of a VAE or autoencoder, single
or stacked, is the fused step)."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import ModelConfig, TrainConfig, Trainer, build_model
from latentlab.core.fused import FusedAutoencoderStep, FusedVAEStep
from latentlab.core.layers import homogeneous_batch


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("kind", "beta"), [("vae", 1.0), ("vae", 0.37), ("ae", 1.0)])
@pytest.mark.parametrize("batch", [1, 7, 96])
def test_fused_step_equals_layer_path_to_the_bit(kind: str, beta: float, batch: int,
                                                 dtype: str) -> None:
    rng = np.random.default_rng(batch)
    model = build_model(ModelConfig(kind=kind, input_dim=12, hidden_dim=9, latent_dim=3,
                                    dtype=dtype), seed=2)
    model.weights[...] += rng.normal(0, 0.3, model.weights.shape)  # non-zero biases too
    x_h = homogeneous_batch(rng.uniform(size=(batch, 12)).astype(dtype))
    eps = rng.standard_normal((3, batch)).astype(dtype) if model.is_variational else None
    for _ in range(2):  # a second call reuses every buffer
        layer_losses = model.layer_train_step(x_h, beta, eps)
        layer_grads = model.store.grads.copy()
        model.store.grads[...] = np.nan
        fused_losses = model.train_step(x_h, beta, eps)
        assert fused_losses == layer_losses
        np.testing.assert_array_equal(model.store.grads, layer_grads)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["vae", "ae"])
@pytest.mark.parametrize("shared", [True, False], ids=["shared batch", "batch per model"])
@pytest.mark.parametrize(("dims", "batch"), [((12, 9, 3), 7), ((64, 32, 2), 96),
                                             ((40, 40, 30), 1)])
def test_stacked_fused_step_equals_stacked_layer_path_to_the_bit(
        kind: str, shared: bool, dims: tuple[int, int, int], batch: int, dtype: str) -> None:
    """A stack of 3 with per-model β, its batch and noise shared (a β sweep) or one per
    model (different seeds). The digits' dims take the stack's transposed copy of dy in
    the 64 → 32 and 32 → 64 layers; (40, 40, 30) takes it in all four, the small ones
    in none."""
    input_dim, hidden_dim, latent_dim = dims
    rng = np.random.default_rng(batch)
    config = ModelConfig(kind=kind, input_dim=input_dim, hidden_dim=hidden_dim,
                         latent_dim=latent_dim, dtype=dtype)
    model = config.kind.model_class(config, stack=3)
    model.weights[...] = rng.normal(0, 0.3, model.weights.shape)
    lead = () if shared else (3,)
    x_h = np.stack([homogeneous_batch(rng.uniform(size=(batch, input_dim)).astype(dtype))
                    for _ in range(1 if shared else 3)]).reshape(*lead, input_dim + 1, batch)
    eps = (rng.standard_normal((*lead, latent_dim, batch)).astype(dtype)
           if model.is_variational else None)
    beta = np.array([0.25, 1.0, 4.0], dtype=dtype).reshape(3, 1, 1)
    for _ in range(2):  # a second call reuses every buffer
        layer_recon, layer_reg = model.layer_train_step(x_h, beta, eps)
        layer_grads = model.store.grads.copy()
        model.store.grads[...] = np.nan
        fused_recon, fused_reg = model.train_step(x_h, beta, eps)
        np.testing.assert_array_equal(fused_recon, layer_recon)
        np.testing.assert_array_equal(fused_reg, layer_reg)
        np.testing.assert_array_equal(model.store.grads, layer_grads)
    assert np.shape(fused_recon) == (3,)


def test_kinds_with_and_without_a_fused_step() -> None:
    def kind_step(kind: str) -> type | None:
        return build_model(ModelConfig(kind=kind), seed=0).fused_step
    assert kind_step("vae") is FusedVAEStep
    assert kind_step("ae") is FusedAutoencoderStep
    assert kind_step("linear") is None
    assert kind_step("vqvae") is None


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_training_with_the_fused_step_equals_the_layer_path(kind: str) -> None:
    """Whole epochs (full batches and the shorter last one, β warm-up, Adam): the
    weights of the two paths stay identical."""
    rng = np.random.default_rng(0)
    data = rng.uniform(size=(203, 16)).astype(np.float32)
    config = TrainConfig(model=kind, epochs=4, batch_size=32, hidden_dim=8, warmup_epochs=2)
    fused, layered = Trainer(config, data), Trainer(config, data)
    layered.model.train_step = layered.model.layer_train_step  # type: ignore[method-assign]
    for _ in range(config.epochs):
        a, b = fused.run_epoch(), layered.run_epoch()
        assert a is not None and b is not None
        assert (a.recon, a.kl) == (b.recon, b.kl)
    np.testing.assert_array_equal(fused.model.weights, layered.model.weights)


def test_fused_step_follows_new_storage() -> None:
    """After ``share_storage`` (a stack's row) the step writes the new gradient buffer."""
    model = build_model(ModelConfig(kind="vae", input_dim=6, hidden_dim=4), seed=1)
    x_h = homogeneous_batch(np.full((5, 6), 0.5, dtype=np.float32))
    eps = np.zeros((2, 5), dtype=np.float32)
    model.train_step(x_h, 1.0, eps)
    values, grads = model.weights.copy(), np.zeros_like(model.weights)
    model.share_storage(values, grads)
    model.train_step(x_h, 1.0, eps)
    assert np.any(grads != 0)
