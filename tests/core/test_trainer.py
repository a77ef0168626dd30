"""Trainer: seeded reproducibility, stopping and resuming, warm-up, divergence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from latentlab.core import TrainConfig, Trainer, TrainingDiverged, load_digits


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits().images


def test_digits_are_bundled_and_scaled() -> None:
    data = load_digits()
    assert data.images.shape == (1797, 64)
    assert data.images.dtype == np.float32
    assert data.images.min() == 0.0 and data.images.max() == 1.0
    assert data.labels is not None and set(np.unique(data.labels)) == set(range(10))
    assert data.image_shape == (8, 8)


@pytest.mark.parametrize("kind", ["vae", "ae", "linear"])
def test_same_seed_gives_bit_identical_weights(kind: str, digits: np.ndarray) -> None:
    config = TrainConfig(model=kind, epochs=3, seed=7)
    a, b = Trainer(config, digits), Trainer(config, digits)
    list(a.train())
    list(b.train())
    np.testing.assert_array_equal(a.model.weights, b.model.weights)
    def figures(history: list) -> list[tuple[float, ...]]:
        return [(r.epoch, r.recon, r.kl, r.total, r.beta) for r in history]

    assert figures(a.history) == figures(b.history)
    c = Trainer(TrainConfig(model=kind, epochs=3, seed=8), digits)
    list(c.train())
    assert not np.array_equal(a.model.weights, c.model.weights)


def test_stopping_between_batches_and_resuming_changes_nothing(digits: np.ndarray) -> None:
    config = TrainConfig(epochs=2, seed=3)
    straight = Trainer(config, digits)
    list(straight.train())

    paused = Trainer(config, digits)
    calls = {"n": 0}

    def stop_after_five_batches() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    assert paused.run_epoch(should_stop=stop_after_five_batches) is None
    assert paused.epoch == 0
    assert not np.array_equal(paused.model.weights, Trainer(config, digits).model.weights)
    list(paused.train())
    assert paused.epoch == 2
    np.testing.assert_array_equal(paused.model.weights, straight.model.weights)


def test_stop_flag_set_before_the_first_batch_trains_nothing(digits: np.ndarray) -> None:
    trainer = Trainer(TrainConfig(epochs=5), digits)
    before = trainer.model.weights.copy()
    assert list(trainer.train(should_stop=lambda: True)) == []
    np.testing.assert_array_equal(trainer.model.weights, before)


def test_reports_are_per_sample_and_losses_fall(digits: np.ndarray) -> None:
    trainer = Trainer(TrainConfig(epochs=15, warmup_epochs=0), digits)
    reports = list(trainer.train())
    assert [r.epoch for r in reports] == list(range(1, 16))
    first, last = reports[0], reports[-1]
    assert last.total < first.total
    assert 15 < last.recon < 45  # BCE summed over 64 pixels, per sample
    assert last.total == pytest.approx(last.recon + last.kl)


def test_kl_warmup_ramps_beta_linearly(digits: np.ndarray) -> None:
    config = TrainConfig(beta=2.0, warmup_epochs=4, epochs=6)
    assert [config.beta_at(e) for e in range(6)] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    reports = list(Trainer(config, digits).train())
    assert [r.beta for r in reports] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]


def test_divergence_stops_with_a_message_and_finite_weights(digits: np.ndarray) -> None:
    trainer = Trainer(TrainConfig(model="vae", optimizer="sgd", lr=10.0, epochs=5), digits)
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        list(trainer.train())
    assert np.all(np.isfinite(trainer.model.weights))
    assert np.isfinite(trainer.model.evaluate(digits).total)  # still a usable model
    with pytest.raises(TrainingDiverged):  # refuses to continue
        trainer.run_epoch()


def test_continue_from_existing_weights(digits: np.ndarray) -> None:
    first = Trainer(TrainConfig(epochs=3), digits)
    list(first.train())
    second = Trainer(TrainConfig(epochs=1, beta=2.0), digits, model=first.model)
    assert second.model is first.model
    before = first.model.weights.copy()
    list(second.train())
    assert not np.array_equal(first.model.weights, before)


@pytest.mark.parametrize(
    ("field", "value"),
    [("model", "gan"), ("beta", -1.0), ("lr", 0.0), ("batch_size", 0), ("epochs", -1),
     ("warmup_epochs", -2), ("optimizer", "lbfgs"), ("clip_norm", 0.0),
     ("lr_schedule", "step")])
def test_invalid_configs_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field.split("_")[0]):
        TrainConfig(**{field: value})  # type: ignore[arg-type]


def test_cosine_schedule_decays_from_lr_to_near_zero_and_constant_keeps_it() -> None:
    config = TrainConfig(lr=0.02, epochs=100, lr_schedule="cosine")
    rates = [config.lr_at(e) for e in range(100)]
    assert rates[0] == 0.02
    assert all(a > b for a, b in itertools.pairwise(rates))
    assert rates[50] == pytest.approx(0.01)
    assert 0 < rates[-1] < 0.02 * 1e-3
    assert config.lr_at(100) == config.lr_at(500) == rates[-1]  # past the end: never 0
    constant = TrainConfig(lr=0.02, epochs=100, lr_schedule="constant")
    assert {constant.lr_at(e) for e in range(100)} == {0.02}


def test_trainer_sets_each_epochs_rate_and_a_stop_keeps_it(digits: np.ndarray) -> None:
    config = TrainConfig(epochs=4, lr=0.02)
    trainer = Trainer(config, digits)
    for epoch in range(3):
        trainer.run_epoch()
        assert trainer.optimizer.lr == config.lr_at(epoch)
    calls = iter([False, False, True])
    assert trainer.run_epoch(lambda: next(calls)) is None  # stopped inside epoch 4
    assert trainer.optimizer.lr == config.lr_at(3)
    trainer.run_epoch()
    assert trainer.optimizer.lr == config.lr_at(3) and trainer.done
    # the schedule changes the run: a constant rate gives other weights
    constant = Trainer(TrainConfig(epochs=4, lr=0.02, lr_schedule="constant"), digits)
    list(constant.train())
    assert not np.array_equal(constant.model.weights, trainer.model.weights)


def test_a_saved_config_from_before_schedules_reads_as_constant() -> None:
    saved = TrainConfig(lr_schedule="constant").to_dict()
    del saved["lr_schedule"]
    assert TrainConfig.from_dict(saved).lr_schedule == "constant"
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()


def test_bad_data_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        Trainer(TrainConfig(), np.zeros((0, 64)))
    bad = np.zeros((10, 64))
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Trainer(TrainConfig(), bad)


def test_model_batch_apis(digits: np.ndarray) -> None:
    trainer = Trainer(TrainConfig(epochs=2), digits)
    list(trainer.train())
    model = trainer.model
    mu, log_var = model.encode(digits[:5])
    assert mu.shape == (5, 2) and log_var is not None and log_var.shape == (5, 2)
    images = model.decode(mu)
    assert images.shape == (5, 64) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_allclose(model.reconstruct(digits[:5]), images)
    z, samples = model.sample(4000, temperature=0.5, rng=np.random.default_rng(0))
    assert samples.shape == (4000, 64)
    assert z.std() == pytest.approx(0.5, rel=0.05)
    copy = model.copy()
    copy.weights[:] = 0
    assert np.any(model.weights != 0)
    with pytest.raises(ValueError, match="shape"):
        model.decode(np.zeros((3, 5)))
