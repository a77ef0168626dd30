"""Stacked training: K models in one pass, each matching its separate run."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import ModelConfig, TrainConfig, Trainer, TrainingDiverged, load_digits
from latentlab.core.layers import homogeneous_batch
from latentlab.core.registry import ModelKind
from latentlab.core.stacked import MAX_MODELS, InterleavedTrainer, StackedTrainer
from latentlab.core.trainer import BatchSource

from .gradcheck import assert_gradients_close, numerical_gradient


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits().images[:400]


def _separate(config: TrainConfig, data: np.ndarray) -> Trainer:
    trainer = Trainer(config, data)
    list(trainer.train())
    return trainer


@pytest.mark.parametrize("kind", ["vae", "ae", "linear"])
@pytest.mark.parametrize("seeds", [(0, 0, 0), (0, 1, 2)])
def test_every_model_matches_its_separate_run(kind: str, seeds: tuple[int, ...],
                                              digits: np.ndarray) -> None:
    configs = [TrainConfig(model=kind, epochs=6, beta=beta, seed=seed, warmup_epochs=warmup,
                           batch_size=50)
               for beta, seed, warmup in zip((0.5, 1.0, 2.0), seeds, (0, 3, 10), strict=True)]
    stack = StackedTrainer(configs, digits)
    list(stack.train())
    for config, model, history in zip(configs, stack.models, stack.histories, strict=True):
        alone = _separate(config, digits)
        np.testing.assert_allclose(model.weights, alone.model.weights, atol=1e-5, rtol=0)
        assert len(history) == len(alone.history) == 6
        for ours, theirs in zip(history, alone.history, strict=True):
            assert ours.beta == theirs.beta
            assert ours.total == pytest.approx(theirs.total, rel=1e-5)


def test_clipping_is_per_model(digits: np.ndarray) -> None:
    configs = [TrainConfig(epochs=3, beta=beta, clip_norm=0.5, lr=0.02) for beta in (0.5, 3.0)]
    stack = StackedTrainer(configs, digits)
    list(stack.train())
    for config, model in zip(configs, stack.models, strict=True):
        np.testing.assert_allclose(model.weights, _separate(config, digits).model.weights,
                                   atol=1e-5, rtol=0)


def test_models_are_live_views_and_stop_resume_changes_nothing(digits: np.ndarray) -> None:
    configs = [TrainConfig(epochs=3, beta=b, seed=s) for b, s in ((1.0, 0), (2.0, 5))]
    straight = StackedTrainer(configs, digits)
    list(straight.train())
    paused = StackedTrainer(configs, digits)
    calls = iter(range(10_000))
    stop = lambda: next(calls) % 4 == 3  # noqa: E731 - stops every few batches
    while not paused.done:
        paused.run_epoch(stop)
    for a, b in zip(paused.models, straight.models, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)
    live = StackedTrainer(configs, digits)
    live.run_epoch()
    after_one, snapshot = live.models[1].weights.copy(), live.models[1].copy()
    live.run_epoch()  # the models' weights are the stack's rows: they train in place
    assert not np.array_equal(live.models[1].weights, after_one)
    np.testing.assert_array_equal(snapshot.weights, after_one)  # a copy stays as it was


def test_what_a_stack_refuses(digits: np.ndarray) -> None:
    with pytest.raises(ValueError, match="1 to 16"):
        StackedTrainer([TrainConfig()] * (MAX_MODELS + 1), digits)
    with pytest.raises(ValueError, match="may differ only in"):
        StackedTrainer([TrainConfig(lr=1e-3), TrainConfig(lr=2e-3)], digits)
    with pytest.raises(ValueError, match="cannot be trained in a stack"):
        StackedTrainer([TrainConfig(model=ModelKind.VQVAE)], digits)


def test_divergence_names_the_model_and_keeps_finite_weights(digits: np.ndarray) -> None:
    configs = [TrainConfig(epochs=5, lr=1.0, optimizer="sgd", beta=b) for b in (1.0, 2.0)]
    stack = StackedTrainer(configs, digits * 1e4)
    with pytest.raises(TrainingDiverged, match="β = "):
        list(stack.train())
    assert all(np.isfinite(m.weights).all() for m in stack.models)


def test_stacked_step_gradients_against_central_differences() -> None:
    """A stack of two VAEs with different β and per-model batches: each row of the
    stacked gradient is d(recon_k + β_k KL_k)/d(weights_k)."""
    rng = np.random.default_rng(7)
    config = ModelConfig(kind="vae", input_dim=5, hidden_dim=4, latent_dim=2, dtype="float64")
    model = ModelKind.VAE.model_class(config, stack=2)
    model.weights[...] = rng.standard_normal(model.weights.shape) * 0.5
    x_h = np.stack([homogeneous_batch(rng.uniform(size=(3, 5))) for _ in range(2)])
    eps = rng.standard_normal((2, 2, 3))
    beta = np.array([0.5, 2.0]).reshape(2, 1, 1)

    def loss() -> float:
        recon, kl = model.train_step(x_h, beta, eps)
        return float(np.sum(recon + beta[:, 0, 0] * kl))

    loss()
    analytic = model.store.grads.copy()
    assert_gradients_close(analytic, numerical_gradient(loss, model.weights), rtol=1e-5)


def test_batches_are_gathered_rows_in_the_shuffled_order() -> None:
    data = np.arange(21, dtype=np.float32).reshape(7, 3)
    source = BatchSource(data, batch_size=3, noise_rows=2, rng=np.random.default_rng(0))
    source.shuffle()
    assert len(source) == 3
    seen = []
    for i in range(3):
        x_h, eps = source.batch(i)
        rows = source.order[3 * i:3 * i + 3]
        np.testing.assert_array_equal(x_h, homogeneous_batch(data[rows]))
        assert eps is not None
        np.testing.assert_array_equal(eps, source.noise[3 * i:3 * i + 3].T)
        seen.extend(rows)
    assert sorted(seen) == list(range(7))


def test_interleaved_trainer_runs_different_architectures_in_turn(digits: np.ndarray) -> None:
    vae = Trainer(TrainConfig(model="vae", epochs=2), digits)
    ae = Trainer(TrainConfig(model="ae", epochs=3, hidden_dim=16), digits)
    job = InterleavedTrainer([vae, ae])
    calls = iter(range(10_000))
    order = []
    while not job.done:
        reports = job.run_epoch(lambda: next(calls) % 5 == 4)
        if reports is not None:
            order.append([index for index, _ in reports])
    assert order == [[0, 1], [0, 1], [1]]
    for config, trainer in ((vae.config, vae), (ae.config, ae)):
        np.testing.assert_array_equal(trainer.model.weights,
                                      _separate(config, digits).model.weights)
