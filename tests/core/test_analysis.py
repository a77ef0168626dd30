"""Chunked whole-data helpers agree with the one-shot model calls and brute force."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import ModelConfig, build_model
from latentlab.core.analysis import (
    NearestImageIndex,
    encode_in_chunks,
    encode_into,
    evaluate_in_chunks,
    pca_residual_mse,
    sample_rows,
)
from latentlab.core.pca import pca_reconstruction_mse
from latentlab.core.synthetic import synthetic_strokes


@pytest.fixture(scope="module")
def strokes():
    return synthetic_strokes(1_500, seed=0, side=12)


@pytest.mark.parametrize("kind", ["vae", "ae", "linear"])
@pytest.mark.parametrize("chunk", [1, 7, 512, 10_000])
def test_chunked_encoding_equals_encoding_at_once(strokes, kind: str, chunk: int) -> None:
    model = build_model(ModelConfig(kind=kind, input_dim=144, latent_dim=3), seed=1)
    mu, log_var = encode_in_chunks(model, strokes.images, chunk=chunk)
    ref_mu, ref_log_var = model.encode(strokes.images)
    np.testing.assert_allclose(mu, ref_mu, rtol=1e-5, atol=1e-6)
    if kind == "vae":
        assert log_var is not None and ref_log_var is not None
        np.testing.assert_allclose(log_var, ref_log_var, rtol=1e-5, atol=1e-6)
    else:
        assert log_var is None


def test_encode_into_stops_between_chunks_and_checks_shapes(strokes) -> None:
    model = build_model(ModelConfig(kind="vae", input_dim=144), seed=0)
    mu = np.full((len(strokes), 2), np.nan, dtype=np.float32)
    calls = []

    def stop_after_two() -> bool:
        calls.append(1)
        return len(calls) > 2

    assert encode_into(model, strokes.images, mu, chunk=500, should_stop=stop_after_two) \
        is False
    assert np.isfinite(mu[:1000]).all() and np.isnan(mu[1000:]).all()
    with pytest.raises(ValueError, match="shape"):
        encode_into(model, strokes.images, np.empty((10, 2), dtype=np.float32))


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_chunked_evaluation_equals_evaluation_at_once(strokes, kind: str) -> None:
    model = build_model(ModelConfig(kind=kind, input_dim=144), seed=2)
    got = evaluate_in_chunks(model, strokes.images, beta=0.5, chunk=333)
    ref = model.evaluate(strokes.images, beta=0.5)
    for name in ("recon", "kl", "total", "mse"):
        assert getattr(got, name) == pytest.approx(getattr(ref, name), rel=1e-5, abs=1e-7)


def test_sample_rows_is_fixed_sorted_distinct_and_all_when_small() -> None:
    a = sample_rows(60_000, 5_000, seed=0)
    assert a.shape == (5_000,) and np.all(np.diff(a) > 0) and a[-1] < 60_000
    np.testing.assert_array_equal(a, sample_rows(60_000, 5_000, seed=0))
    assert not np.array_equal(a, sample_rows(60_000, 5_000, seed=1))
    np.testing.assert_array_equal(sample_rows(300, 5_000), np.arange(300))


@pytest.mark.parametrize("chunk", [1, 100, 16_384])
def test_nearest_image_matches_brute_force(strokes, chunk: int) -> None:
    index = NearestImageIndex(strokes.images, chunk=chunk)
    rng = np.random.default_rng(0)
    queries = np.clip(strokes.images[rng.integers(0, len(strokes), 25)]
                      + rng.normal(0, 0.2, (25, 144)), 0, 1).astype(np.float32)
    got, dist = index.query_many(queries)
    x = strokes.images.astype(np.float64)
    d = np.sqrt(((queries[:, None, :].astype(np.float64) - x[None]) ** 2).sum(axis=2))
    np.testing.assert_array_equal(got, d.argmin(axis=1))
    np.testing.assert_allclose(dist, d.min(axis=1), rtol=1e-6)
    # An image of the set is its own nearest neighbour, at distance 0.
    i, zero = index.query(strokes.images[123])
    assert i == 123 and zero == pytest.approx(0.0, abs=1e-6)


def test_nearest_image_refuses_a_wrong_width(strokes) -> None:
    with pytest.raises(ValueError, match="queries"):
        NearestImageIndex(strokes.images).query(np.zeros(10))


def test_pca_residual_mse_matches_pca_for_every_k(strokes) -> None:
    curve = pca_residual_mse(strokes.images, chunk=400)
    assert curve.shape == (145,)
    assert np.all(np.diff(curve) <= 1e-12) and curve[-1] == 0.0
    x = strokes.images.astype(np.float64)
    assert curve[0] == pytest.approx(np.mean((x - x.mean(axis=0)) ** 2), rel=1e-6)
    for k in (1, 2, 5, 20, 100):
        assert curve[k] == pytest.approx(pca_reconstruction_mse(strokes.images, k),
                                         rel=1e-4, abs=1e-9)


def test_row_subsets_equal_the_helpers_on_the_selected_images(strokes) -> None:
    rows = sample_rows(len(strokes), 400, seed=3)
    part = strokes.images[rows]
    model = build_model(ModelConfig(kind="vae", input_dim=144), seed=4)
    mu, log_var = encode_in_chunks(model, strokes.images, rows=rows, chunk=150)
    ref_mu, ref_log_var = model.encode(part)
    np.testing.assert_allclose(mu, ref_mu, rtol=1e-5, atol=1e-6)
    assert log_var is not None and ref_log_var is not None
    np.testing.assert_allclose(log_var, ref_log_var, rtol=1e-5, atol=1e-6)
    got = evaluate_in_chunks(model, strokes.images, rows=rows, chunk=150)
    assert got.total == pytest.approx(model.evaluate(part).total, rel=1e-5)
    np.testing.assert_allclose(pca_residual_mse(strokes.images, rows=rows, chunk=150),
                               pca_residual_mse(part), rtol=1e-4, atol=1e-7)
