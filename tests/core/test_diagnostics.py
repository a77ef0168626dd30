"""Latent diagnostics and interpolation paths against the maths they state (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import ModelConfig, TrainConfig, Trainer, build_model, load_digits
from latentlab.core.diagnostics import (
    ACTIVE_UNIT_THRESHOLD,
    diagnose_latents,
    interpolation_path,
    kl_per_dim,
    latent_activity,
)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits().images


@pytest.fixture(scope="module")
def vae(digits: np.ndarray):
    """A 3-D VAE trained briefly, so every dim carries some information."""
    t = Trainer(TrainConfig(model="vae", latent_dim=3, epochs=15, warmup_epochs=0, seed=0),
                digits)
    list(t.train())
    return t.model


def test_kl_per_dim_by_hand() -> None:
    mu = np.array([[0.0, 1.0], [2.0, -1.0]])
    log_var = np.array([[0.0, np.log(4.0)], [np.log(0.25), 0.0]])
    # dim 0: 0.5*(0+1-0-1)=0 and 0.5*(4+0.25+ln4-1); dim 1: 0.5*(1+4-ln4-1) and 0.5*(1+1-0-1)
    expected = np.array([
        0.5 * (0.0 + 0.5 * (4.0 + 0.25 + np.log(4.0) - 1.0)),
        0.5 * (0.5 * (1.0 + 4.0 - np.log(4.0) - 1.0) + 0.5),
    ])
    np.testing.assert_allclose(kl_per_dim(mu, log_var), expected, rtol=1e-12)


def test_kl_per_dim_sums_to_the_models_kl(vae, digits: np.ndarray) -> None:
    mu, log_var = vae.encode(digits)
    per_dim = kl_per_dim(mu, log_var)
    assert per_dim.shape == (3,)
    assert (per_dim > 0).all()
    report = vae.evaluate(digits)
    assert per_dim.sum() == pytest.approx(report.kl, rel=1e-4)


def test_a_collapsed_dim_is_inactive(vae, digits: np.ndarray) -> None:
    healthy = diagnose_latents(*vae.encode(digits))
    assert healthy.n_active == 3 and not healthy.collapsed

    collapsed = vae.copy()
    heads = collapsed.encoder[-1]  # the fused Dense(H, 2K) layer: [mu | log_var] columns
    k, dim = collapsed.latent_dim, 1
    heads.Wb[:, dim] = 0.0  # mu_1 = 0 for every x
    heads.Wb[:, k + dim] = 0.0  # log_var_1 = 0: q(z_1|x) = N(0, 1) = the prior
    mu, log_var = collapsed.encode(digits)
    np.testing.assert_array_equal(mu[:, dim], 0.0)
    np.testing.assert_array_equal(log_var[:, dim], 0.0)

    diag = diagnose_latents(mu, log_var)
    assert diag.latent_dim == 3
    assert diag.n_active == 2
    assert diag.collapsed
    assert diag.inactive_dims == [dim]
    assert diag.kl[dim] == 0.0
    assert diag.activity[dim] == 0.0
    assert diag.total_kl == pytest.approx(collapsed.evaluate(digits).kl, rel=1e-4)
    assert not diag.fully_collapsed

    heads.Wb[:, :k] = 0.0  # every mu_k = 0 for every x: no dim says anything
    heads.Wb[:, k:] = 0.0
    none_active = diagnose_latents(*collapsed.encode(digits))
    assert none_active.n_active == 0 and none_active.fully_collapsed
    np.testing.assert_array_equal(none_active.kl, 0.0)


def test_activity_is_the_variance_of_mu_and_uses_burdas_threshold() -> None:
    rng = np.random.default_rng(0)
    mu = np.column_stack([rng.normal(0, 1.0, 500), rng.normal(3.0, 0.05, 500),
                          np.full(500, 7.0)])
    np.testing.assert_allclose(latent_activity(mu), mu.var(axis=0))
    diag = diagnose_latents(mu)  # deterministic encoder: no KL
    np.testing.assert_array_equal(diag.kl, 0.0)
    assert ACTIVE_UNIT_THRESHOLD == 0.01
    assert diag.active.tolist() == [True, False, False]  # 0.05² = 0.0025 < 0.01


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="same shape"):
        kl_per_dim(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        latent_activity(np.zeros(5))


# -- interpolation ------------------------------------------------------------------------
def test_linear_path() -> None:
    a, b = np.array([1.0, -2.0, 0.5]), np.array([-3.0, 4.0, 0.5])
    path = interpolation_path(a, b, 5, "linear")
    assert path.shape == (5, 3)
    for i, t in enumerate(np.linspace(0, 1, 5)):
        np.testing.assert_allclose(path[i], (1 - t) * a + t * b, atol=1e-15)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile((b - a) / 4, (4, 1)), atol=1e-12)


@pytest.mark.parametrize("steps", [2, 3, 10, 24])
def test_slerp_endpoints_and_norms(steps: int) -> None:
    rng = np.random.default_rng(steps)
    a = rng.standard_normal(4)
    b = rng.standard_normal(4)
    b *= np.linalg.norm(a) / np.linalg.norm(b)  # equal norms
    path = interpolation_path(a, b, steps, "spherical")
    assert path.shape == (steps, 4)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    # Every point keeps the common norm and the angle advances in equal steps.
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-12)
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(unit[:-1] * unit[1:], axis=1), -1, 1))
    np.testing.assert_allclose(angles, angles[0], rtol=1e-7)
    total = np.arccos(np.dot(a, b) / np.dot(a, a))
    assert angles.sum() == pytest.approx(total, rel=1e-9)
    if steps > 2:  # the path bows outwards: its middle is longer than the chord's middle
        mid = path[steps // 2] if steps % 2 else 0.5 * (path[steps // 2 - 1] + path[steps // 2])
        assert np.linalg.norm(mid) > np.linalg.norm(0.5 * (a + b)) - 1e-12


def test_slerp_of_unequal_norms_stays_in_the_plane_and_interpolates_the_angle() -> None:
    a, b = np.array([2.0, 0.0]), np.array([0.0, 1.0])
    path = interpolation_path(a, b, 3, "spherical")
    # t = 1/2, Ω = π/2: sin(π/4)/1 · (a + b)
    np.testing.assert_allclose(path[1], np.sin(np.pi / 4) * (a + b), atol=1e-12)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([1.0, 2.0], [2.0, 4.0]),  # parallel
        ([1.0, 2.0], [-1.0, -2.0]),  # anti-parallel: sin Ω = 0
        ([0.0, 0.0], [1.0, -1.0]),  # a zero vector
        ([3.0, 1.0], [3.0, 1.0]),  # the same point
    ],
)
def test_slerp_falls_back_to_linear(a, b) -> None:
    np.testing.assert_allclose(
        interpolation_path(np.array(a), np.array(b), 7, "spherical"),
        interpolation_path(np.array(a), np.array(b), 7, "linear"),
        atol=1e-12,
    )
    assert np.isfinite(interpolation_path(np.array(a), np.array(b), 7, "spherical")).all()


def test_interpolation_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        interpolation_path(np.zeros(2), np.ones(2), 1)
    with pytest.raises(ValueError, match="method"):
        interpolation_path(np.zeros(2), np.ones(2), 4, "cubic")
    with pytest.raises(ValueError, match="same size"):
        interpolation_path(np.zeros(2), np.ones(3), 4)
    with pytest.raises(ValueError, match="finite"):
        interpolation_path(np.array([np.nan, 0.0]), np.ones(2), 4)


def test_diagnostics_of_an_untrained_linear_model(digits: np.ndarray) -> None:
    model = build_model(ModelConfig(kind="linear", latent_dim=2), seed=0)
    mu, log_var = model.encode(digits)
    assert log_var is None
    diag = diagnose_latents(mu, log_var)
    assert diag.kl.shape == (2,) and diag.n_active == 2
