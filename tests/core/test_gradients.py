"""Every layer, every loss and whole training steps against central differences (float64).

Training-path arrays are feature-major, ``(features, B)``; see latentlab.core.layers."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import ModelConfig, build_model
from latentlab.core.layers import Dense, GaussianSample, ReLU, Sigmoid, homogeneous_batch
from latentlab.core.losses import bce_with_logits, gaussian_kl, mse
from latentlab.core.params import ParameterStore

from .gradcheck import assert_gradients_close, numerical_gradient

F64 = np.float64


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def _dense(rng: np.random.Generator, n_in: int = 5, n_out: int = 3) -> tuple[Dense, ParameterStore]:
    store = ParameterStore(F64)
    layer = Dense(store, "layer", n_in, n_out)
    store.finalize()
    layer.bind(store)
    layer.init_he(rng)
    layer.b[...] = rng.standard_normal(n_out)
    return layer, store


def test_dense_forward_matches_affine_map(rng: np.random.Generator) -> None:
    layer, _ = _dense(rng)
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(layer.forward(homogeneous_batch(x)), (x @ layer.W + layer.b).T)
    np.testing.assert_allclose(layer.apply(x), x @ layer.W + layer.b)


def test_dense_gradients(rng: np.random.Generator) -> None:
    layer, _ = _dense(rng)
    x_h = homogeneous_batch(rng.standard_normal((4, 5)))  # (6, 4)
    weights = rng.standard_normal((3, 4))  # loss = sum(weights * y), y: (3, 4)

    def loss() -> float:
        return float(np.sum(weights * layer.forward(x_h)))

    layer.forward(x_h)
    dx = layer.backward(weights.copy()).copy()
    assert dx.shape == (5, 4)
    assert_gradients_close(layer.dWb, numerical_gradient(loss, layer.Wb))
    assert_gradients_close(dx, numerical_gradient(loss, x_h[:-1]))


def test_dense_bias_gradient_is_row_sum(rng: np.random.Generator) -> None:
    layer, _ = _dense(rng)
    x_h = homogeneous_batch(rng.standard_normal((6, 5)))
    dy = rng.standard_normal((3, 6))
    layer.forward(x_h)
    layer.backward(dy)
    np.testing.assert_allclose(layer.dWb[-1], dy.sum(axis=1))
    np.testing.assert_allclose(layer.dWb[:-1], x_h[:-1] @ dy.T)


@pytest.mark.parametrize("layer_cls", [ReLU, Sigmoid])
def test_activation_gradients(layer_cls: type, rng: np.random.Generator) -> None:
    layer = layer_cls()
    # Keep inputs away from ReLU's kink so the finite difference is well defined.
    x = rng.standard_normal((6, 4))
    x[np.abs(x) < 0.05] += 0.2
    weights = rng.standard_normal((6, 4))

    def out(v: np.ndarray) -> np.ndarray:
        y = layer.forward(v)
        return y[:-1] if layer_cls is ReLU else y  # ReLU output is homogeneous

    def loss() -> float:
        return float(np.sum(weights * out(x)))

    out(x)
    dx = layer.backward(weights.copy()).copy()
    assert_gradients_close(dx, numerical_gradient(loss, x))
    np.testing.assert_allclose(out(x), layer.apply(x))


def test_relu_output_carries_a_row_of_ones(rng: np.random.Generator) -> None:
    h = ReLU().forward(rng.standard_normal((4, 3)))
    assert h.shape == (5, 3)
    np.testing.assert_array_equal(h[-1], 1.0)


def test_sigmoid_is_stable_for_huge_logits() -> None:
    layer = Sigmoid()
    y = layer.apply(np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]]))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-15)


def test_gaussian_sample_forward_and_gradients(rng: np.random.Generator) -> None:
    k = 3
    sampler = GaussianSample(k)
    stats = rng.standard_normal((2 * k, 5))
    eps = rng.standard_normal((k, 5))
    z_h = sampler.forward_noise(stats, eps)
    # The reparameterisation uses sigma = exp(log_var / 2), not exp(log_var).
    np.testing.assert_allclose(z_h[:k], stats[:k] + np.exp(0.5 * stats[k:]) * eps)
    np.testing.assert_array_equal(z_h[-1], 1.0)
    weights = rng.standard_normal((k, 5))

    def loss() -> float:
        return float(np.sum(weights * sampler.forward_noise(stats, eps)[:k]))

    sampler.forward_noise(stats, eps)
    dstats = sampler.backward(weights.copy()).copy()
    assert_gradients_close(dstats, numerical_gradient(loss, stats))


def test_bce_value_matches_definition_and_gradient(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((7, 4)) * 3  # 7 pixels, 4 samples
    x = rng.uniform(size=(7, 4))
    value, grad = bce_with_logits(logits, x)
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p)) / 4
    assert value == pytest.approx(expected, rel=1e-12)
    grad = grad.copy()
    np.testing.assert_allclose(grad, (p - x) / 4, rtol=1e-12)
    assert_gradients_close(grad, numerical_gradient(lambda: bce_with_logits(logits, x)[0],
                                                    logits))


def test_bce_is_exact_for_saturated_logits() -> None:
    logits = np.array([[-80.0], [80.0], [30.0], [-30.0]])
    x = np.array([[1.0], [0.0], [1.0], [0.0]])
    value, grad = bce_with_logits(logits, x)
    expected = float(np.sum(np.logaddexp(0, logits) - x * logits))  # 80 + 80 + ~0 + ~0
    assert value == pytest.approx(expected, rel=1e-9)
    assert np.all(np.isfinite(grad))


def test_mse_value_and_gradient(rng: np.random.Generator) -> None:
    x_hat, x = rng.uniform(size=(5, 3)), rng.uniform(size=(5, 3))
    value, grad = mse(x_hat, x)
    assert value == pytest.approx(np.mean((x_hat - x) ** 2), rel=1e-12)
    grad = grad.copy()
    assert_gradients_close(grad, numerical_gradient(lambda: mse(x_hat, x)[0], x_hat))


@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_gaussian_kl_value_and_gradient(scale: float, rng: np.random.Generator) -> None:
    k = 2
    stats = rng.standard_normal((2 * k, 6))
    value, grad = gaussian_kl(stats, scale=scale)
    mu, log_var = stats[:k], stats[k:]
    expected = -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var)) / 6
    assert value == pytest.approx(expected, rel=1e-12)
    grad = grad.copy()
    numeric = scale * numerical_gradient(lambda: gaussian_kl(stats)[0], stats)
    assert_gradients_close(grad, numeric)


def test_gaussian_kl_is_zero_at_the_prior() -> None:
    value, grad = gaussian_kl(np.zeros((6, 4)))
    assert value == 0.0
    np.testing.assert_array_equal(grad, 0.0)


@pytest.mark.parametrize(("kind", "beta"), [("vae", 1.0), ("vae", 2.5), ("ae", 1.0),
                                            ("linear", 1.0)])
def test_whole_training_step_gradients(kind: str, beta: float, rng: np.random.Generator) -> None:
    """A full step, including the reparameterisation with fixed noise, against central
    differences of the per-sample loss recon + beta * KL over every weight."""
    model = build_model(ModelConfig(kind=kind, input_dim=6, hidden_dim=5, latent_dim=2,
                                    dtype="float64"), seed=3)
    x_h = homogeneous_batch(rng.uniform(size=(4, 6)))
    eps = rng.standard_normal((2, 4)) if model.is_variational else None

    def loss() -> float:
        recon, kl = model.train_step(x_h, beta, eps)
        return recon + beta * kl

    loss()
    analytic = model.store.grads.copy()
    numeric = numerical_gradient(loss, model.weights)
    assert_gradients_close(analytic, numeric, rtol=1e-5)


def test_vae_step_loss_equals_evaluate_with_same_noise(rng: np.random.Generator) -> None:
    model = build_model(ModelConfig(kind="vae", input_dim=6, hidden_dim=5, latent_dim=2,
                                    dtype="float64"), seed=3)
    x = rng.uniform(size=(4, 6))
    recon, kl = model.train_step(homogeneous_batch(x), 1.0, np.zeros((2, 4)))
    report = model.evaluate(x)  # z = mu, the same as zero noise
    assert recon == pytest.approx(report.recon, rel=1e-12)
    assert kl == pytest.approx(report.kl, rel=1e-12)


@pytest.mark.parametrize("beta", [1.0, 0.4])
def test_gaussian_bottleneck_adds_the_weighted_kl_gradient(beta: float,
                                                           rng: np.random.Generator) -> None:
    """``forward_train`` + ``backward`` give d(sum(w * z) + β KL)/dstats."""
    k = 2
    sampler = GaussianSample(k)
    stats = rng.standard_normal((2 * k, 5))
    eps = rng.standard_normal((k, 5))
    weights = rng.standard_normal((k, 5))

    def loss() -> float:
        z = sampler.forward_train(stats, eps, beta)[:k]
        return float(np.sum(weights * z)) + beta * sampler.regulariser

    loss()
    assert sampler.regulariser == pytest.approx(gaussian_kl(stats)[0], rel=1e-12)
    dstats = sampler.backward(weights.copy()).copy()
    assert_gradients_close(dstats, numerical_gradient(loss, stats))


def test_loss_sums_keep_no_weight_vector_the_size_of_a_whole_evaluation() -> None:
    """The BLAS sums' cached weight vectors stay small: an evaluation of many images
    (here 64 × 20,000 logits) builds its vector and drops it, a batch's is kept."""
    from latentlab.core import losses

    rng = np.random.default_rng(0)
    big = rng.standard_normal((64, 20_000)).astype(np.float32)
    losses.bce_with_logits(big, np.zeros_like(big))
    assert not any(len(v) == big.size for v in losses._WEIGHTS.values())
    batch = big[:, :64].copy()
    losses.bce_with_logits(batch, np.zeros_like(batch))
    assert any(len(v) == batch.size for v in losses._WEIGHTS.values())
