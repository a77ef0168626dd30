"""VQ-VAE: the quantiser, its losses against central differences, the straight-through
training step against its stated maths, dead-code re-seeding, EMA updates, training.

Training-path arrays are feature-major, ``(features, B)``; see latentlab.core.layers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentlab.core import (
    ModelConfig,
    ModelFileError,
    TrainConfig,
    Trainer,
    build_model,
    load_digits,
    load_model,
    save_model,
)
from latentlab.core.layers import homogeneous_batch
from latentlab.core.losses import bce_with_logits
from latentlab.core.models import _apply
from latentlab.core.params import ParameterStore
from latentlab.core.pca import LatentPlane, axes_plane
from latentlab.core.vqvae import (
    VQVAE,
    CodeUsage,
    VectorQuantiser,
    cell_polygon,
    codebook_loss,
    commitment_loss,
    nearest_codes,
    perplexity,
    squared_distances,
    voronoi_edges,
)

from .gradcheck import assert_gradients_close, numerical_gradient

F64 = np.float64


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(4321)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits().images


def _vqvae(codes: int = 5, code_dim: int = 2, commitment: float = 0.25,
           ema_decay: float | None = None, seed: int = 3) -> VQVAE:
    model = build_model(ModelConfig(kind="vqvae", input_dim=6, hidden_dim=5,
                                    latent_dim=code_dim, codes=codes, commitment=commitment,
                                    ema_decay=ema_decay, dtype="float64"), seed=seed)
    assert isinstance(model, VQVAE)
    return model


def test_squared_distances_and_nearest_codes_match_brute_force(
        rng: np.random.Generator) -> None:
    z, codebook = rng.standard_normal((40, 3)), rng.standard_normal((7, 3))
    brute = np.sum((z[:, None, :] - codebook[None, :, :]) ** 2, axis=2)  # (N, K)
    np.testing.assert_allclose(squared_distances(z, codebook), brute, atol=1e-12)
    np.testing.assert_array_equal(nearest_codes(z, codebook), np.argmin(brute, axis=1))


def test_a_point_on_a_code_snaps_to_that_code(rng: np.random.Generator) -> None:
    codebook = rng.standard_normal((9, 4))
    np.testing.assert_array_equal(nearest_codes(codebook[[4, 0, 8]], codebook), [4, 0, 8])


def _nearest_on_map(codebook: np.ndarray, plane: LatentPlane, uv: np.ndarray) -> np.ndarray:
    """Distances from the map points ``uv: (N, 2)`` (lifted) to every code → ``(N, K)``."""
    return squared_distances(plane.lift(uv), codebook)


@pytest.mark.parametrize("dims", [2, 3])
def test_voronoi_edges_lie_between_exactly_two_nearest_codes(
        dims: int, rng: np.random.Generator) -> None:
    codebook = rng.standard_normal((12, dims))
    plane = axes_plane(dims, 0, 1) if dims == 2 else axes_plane(
        3, 0, 2, rest=np.array([0.0, 0.4, 0.0]))
    rect = (-2.5, -2.0, 2.5, 2.0)
    edges = voronoi_edges(codebook, plane, rect, pairs_per_chunk=7)  # chunking too
    assert len(edges) >= 12
    assert np.all((edges[..., 0] >= rect[0] - 1e-9) & (edges[..., 0] <= rect[2] + 1e-9))
    assert np.all((edges[..., 1] >= rect[1] - 1e-9) & (edges[..., 1] <= rect[3] + 1e-9))
    for share in (0.1, 0.5, 0.9):  # points along every edge
        d = np.sort(_nearest_on_map(codebook, plane, edges[:, 0] + share * (
            edges[:, 1] - edges[:, 0])), axis=1)
        np.testing.assert_allclose(d[:, 0], d[:, 1], atol=1e-9)  # two codes tie …
        assert np.all(d[:, 2] > d[:, 1] - 1e-9)  # … and no third is nearer
    # Every border between neighbouring grid points is crossed by some edge: the edge
    # count matches a dense sampling of where the nearest code changes.
    grid = np.stack(np.meshgrid(np.linspace(-2.5, 2.5, 301), np.linspace(-2, 2, 241)), -1)
    nearest = np.argmin(_nearest_on_map(codebook, plane, grid.reshape(-1, 2)), axis=1)
    nearest = nearest.reshape(grid.shape[:2])
    neighbours = {tuple(sorted(pair)) for pair in zip(
        nearest[:, :-1].ravel(), nearest[:, 1:].ravel(), strict=True) if pair[0] != pair[1]}
    d = _nearest_on_map(codebook, plane, edges.mean(axis=1))
    edge_pairs = {tuple(sorted(np.argsort(row)[:2].tolist())) for row in d}
    assert neighbours <= edge_pairs


def test_two_codes_share_one_straight_edge() -> None:
    codebook = np.array([[-1.0, 0.0], [1.0, 0.0]])
    edges = voronoi_edges(codebook, axes_plane(2, 0, 1), (-3.0, -2.0, 3.0, 2.0))
    assert edges.shape == (1, 2, 2)
    np.testing.assert_allclose(sorted(edges[0].tolist()), [[0.0, -2.0], [0.0, 2.0]],
                               atol=1e-12)
    far = np.array([[-1.0, 0.0], [9.0, 0.0]])  # their border x = 4 is outside the view
    assert voronoi_edges(far, axes_plane(2, 0, 1), (-3.0, -2.0, 3.0, 2.0)).shape == (0, 2, 2)


@pytest.mark.parametrize("dims", [2, 3])
def test_cell_polygons_tile_the_view_and_hold_their_points(
        dims: int, rng: np.random.Generator) -> None:
    codebook = rng.standard_normal((9, dims))
    plane = axes_plane(dims, 0, 1)
    rect = (-2.0, -1.5, 2.0, 1.5)
    area = 0.0
    inside = rng.uniform([-2, -1.5], [2, 1.5], size=(4000, 2))
    owner = np.argmin(_nearest_on_map(codebook, plane, inside), axis=1)
    for code in range(9):
        polygon = cell_polygon(codebook, plane, rect, code)
        if len(polygon) == 0:
            assert not np.any(owner == code)
            continue
        x, y = polygon[:, 0], polygon[:, 1]
        area += 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        d = _nearest_on_map(codebook, plane, polygon)  # its corners are nearest to it
        assert np.all(d[:, code] <= d.min(axis=1) + 1e-9)
        centre = polygon.mean(axis=0, keepdims=True)  # convex: the centroid is inside
        assert np.argmin(_nearest_on_map(codebook, plane, centre)) == code
    assert area == pytest.approx(4.0 * 3.0, rel=1e-9)


def test_codebook_loss_value_and_gradient(rng: np.random.Generator) -> None:
    z_e, codebook = rng.standard_normal((3, 6)), rng.standard_normal((4, 3))  # D=3, B=6, K=4
    codes = np.array([0, 2, 2, 1, 0, 2])  # code 3 unused: its gradient is zero
    value, grad = codebook_loss(z_e, codebook, codes)
    assert value == pytest.approx(np.sum((z_e.T - codebook[codes]) ** 2) / 6, rel=1e-12)
    grad = grad.copy()
    np.testing.assert_array_equal(grad[3], 0.0)
    numeric = numerical_gradient(lambda: codebook_loss(z_e, codebook, codes)[0], codebook)
    assert_gradients_close(grad, numeric)


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_commitment_loss_value_and_gradient(scale: float, rng: np.random.Generator) -> None:
    z_e, z_q = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    value, grad = commitment_loss(z_e, z_q, scale=scale)
    assert value == pytest.approx(np.sum((z_e - z_q) ** 2) / 5, rel=1e-12)
    grad = grad.copy()
    numeric = scale * numerical_gradient(lambda: commitment_loss(z_e, z_q)[0], z_e)
    assert_gradients_close(grad, numeric)


def test_perplexity_is_the_exponential_of_the_usage_entropy() -> None:
    assert perplexity(np.full(8, 5)) == pytest.approx(8.0)
    assert perplexity(np.array([0, 12, 0, 0])) == pytest.approx(1.0)
    assert perplexity(np.array([1, 1, 2])) == pytest.approx(np.exp(1.5 * np.log(2)))
    assert perplexity(np.zeros(3)) == 0.0
    usage = CodeUsage.from_codes(np.array([2, 2, 0]), 4)
    assert usage.counts.tolist() == [1, 0, 2, 0] and usage.used == 2


def test_quantiser_layer_snaps_and_passes_gradients_straight_through(
        rng: np.random.Generator) -> None:
    store = ParameterStore(F64)
    beta_c = 0.4
    layer = VectorQuantiser(store, "codebook", codes=6, code_dim=2, commitment=beta_c)
    store.finalize()
    layer.bind(store)
    layer.codebook[...] = rng.standard_normal((6, 2))
    z_e = rng.standard_normal((2, 8))
    z_q_h = layer.forward(z_e)
    codes = nearest_codes(z_e.T, layer.codebook)
    np.testing.assert_array_equal(layer.last_codes, codes)
    np.testing.assert_array_equal(z_q_h[:-1], layer.codebook[codes].T)
    np.testing.assert_array_equal(z_q_h[-1], 1.0)
    np.testing.assert_array_equal(layer.apply(z_e.T), layer.codebook[codes])
    dz_q = rng.standard_normal((2, 8))
    dz_e = layer.backward(dz_q.copy())
    np.testing.assert_allclose(dz_e, dz_q + beta_c * 2 * (z_e - layer.codebook[codes].T) / 8,
                               rtol=1e-12)
    np.testing.assert_allclose(layer.dcodebook, codebook_loss(z_e, layer.codebook, codes)[1])
    assert layer.last_loss == pytest.approx(np.sum((z_e.T - layer.codebook[codes]) ** 2) / 8)


@pytest.mark.parametrize("ema_decay", [None, 0.9])
def test_whole_training_step_follows_the_straight_through_maths(
        ema_decay: float | None, rng: np.random.Generator) -> None:
    """Each weight's gradient against central differences of the loss the VQ-VAE paper
    states for it: the decoder's of the reconstruction; the codebook's of the codebook
    loss ‖sg[z_e] − e‖² (none with EMA); the encoder's of the surrogate
    recon(dec(z_e + sg[z_q − z_e])) + β_c ‖z_e − sg[z_q]‖², i.e. the decoder's gradient
    at z_q passed unchanged to z_e, plus the commitment gradient."""
    beta_c = 0.3
    model = _vqvae(commitment=beta_c, ema_decay=ema_decay)
    x = rng.uniform(size=(7, 6))
    x_h = homogeneous_batch(x)
    model.codebook[...] = _apply(model.encoder, x)[:5] + 0.1  # several codes in use
    recon, vq_loss = model.train_step(x_h, 1.0, None)
    grads = {name: view.copy() for name, view in model.store.grad_views.items()}
    codes = model.quantiser.last_codes.copy()
    z_e0 = _apply(model.encoder, x)
    offset = model.codebook[codes] - z_e0  # sg[z_q − z_e], fixed
    quantisation = np.mean(np.sum(offset**2, axis=1))
    weight = beta_c + (ema_decay is None)  # codebook + commitment, or commitment alone
    assert vq_loss == pytest.approx(weight * quantisation, rel=1e-12)

    def reconstruction_from(z: np.ndarray) -> float:
        return bce_with_logits(_apply(model.decoder, z).T, x.T)[0]

    def decoder_loss() -> float:
        return reconstruction_from(model.codebook[codes])

    def codebook_term() -> float:
        return codebook_loss(z_e0.T, model.codebook, codes)[0]

    def encoder_surrogate() -> float:
        z_e = _apply(model.encoder, x)
        return reconstruction_from(z_e + offset) + beta_c * float(
            np.mean(np.sum((z_e - model.codebook[codes]) ** 2, axis=1)))

    views = model.store.value_views
    assert recon == pytest.approx(decoder_loss(), rel=1e-12)
    for name in ("dec1", "dec2"):
        assert_gradients_close(grads[name], numerical_gradient(decoder_loss, views[name]),
                               rtol=1e-5)
    for name in ("enc1", "enc2"):
        assert_gradients_close(grads[name], numerical_gradient(encoder_surrogate, views[name]),
                               rtol=1e-5)
    if ema_decay is None:
        assert_gradients_close(grads["codebook"],
                               numerical_gradient(codebook_term, views["codebook"]))
    else:
        np.testing.assert_array_equal(grads["codebook"], 0.0)


def test_the_encoder_receives_the_decoder_gradient_at_z_q_unchanged(
        rng: np.random.Generator) -> None:
    """With β_c = 0 the gradient arriving at z_e is, bit for bit, the one the decoder's
    first layer sends back to its input z_q."""
    model = _vqvae(commitment=0.0)
    model.train_step(homogeneous_batch(rng.uniform(size=(6, 6))), 1.0, None)
    decoder_input_grad = model.decoder[0]._buffers["dx"]
    encoder_output_grad = model.quantiser._buffers["dz_e"]
    assert decoder_input_grad.any()
    np.testing.assert_array_equal(encoder_output_grad, decoder_input_grad)


def test_ema_with_decay_zero_moves_each_used_code_to_the_mean_of_its_outputs(
        rng: np.random.Generator) -> None:
    model = _vqvae(codes=4, ema_decay=0.0)
    x = rng.uniform(size=(12, 6))
    model.codebook[...] = _apply(model.encoder, x)[[0, 5, 9, 11]]
    before = model.codebook.copy()
    model.train_step(homogeneous_batch(x), 1.0, None)
    codes = model.quantiser.last_codes.copy()
    z_e = _apply(model.encoder, x)
    model.after_step()
    for k in range(4):
        chosen = codes == k
        expected = z_e[chosen].mean(axis=0) if chosen.any() else before[k]
        np.testing.assert_allclose(model.codebook[k], expected, rtol=1e-12)


def test_ema_leaves_an_unused_code_in_place(rng: np.random.Generator) -> None:
    model = _vqvae(codes=3, ema_decay=0.8)
    x = rng.uniform(size=(10, 6))
    model.codebook[2] = 1e3  # far from everything: never chosen
    for _ in range(5):
        model.train_step(homogeneous_batch(x), 1.0, None)
        model.after_step()
    np.testing.assert_allclose(model.codebook[2], 1e3, rtol=1e-12)


def test_dead_codes_are_reseeded_from_recent_encoder_outputs(
        rng: np.random.Generator) -> None:
    model = _vqvae(codes=4)
    x = rng.uniform(size=(16, 6))
    model.codebook[1] = model.codebook[3] = 1e3  # two codes no output can reach
    window = VQVAE.WINDOW_SAMPLES_PER_CODE * 4
    outputs, chosen = [], []
    for _ in range(window // 16):
        model.train_step(homogeneous_batch(x), 1.0, None)
        outputs.append(model.quantiser.last_inputs.T.copy())
        chosen.append(model.quantiser.last_codes.copy())
        assert model.dead_codes_reseeded == 0
        model.after_step()
    dead = np.setdiff1d(np.arange(4), np.concatenate(chosen))
    assert {1, 3} <= set(dead.tolist())
    assert model.dead_codes_reseeded == len(dead)
    recent = np.concatenate(outputs)
    for k in dead:  # each now sits exactly on one of the remembered outputs
        assert np.min(np.sum((recent - model.codebook[k]) ** 2, axis=1)) < 1e-20
    assert len({tuple(model.codebook[k]) for k in dead}) == len(dead)  # on distinct ones
    assert model.code_usage[dead].tolist() == [0] * len(dead)  # the window that found them
    assert model.code_usage.sum() == window


def test_sampling_draws_codes_by_usage(rng: np.random.Generator) -> None:
    model = _vqvae(codes=5)
    model.code_usage[...] = [0, 3, 0, 1, 0]
    z, images = model.sample(400, rng=rng)
    codes = model.quantise(z)
    assert set(codes.tolist()) == {1, 3}
    assert 0.65 < np.mean(codes == 1) < 0.85
    np.testing.assert_allclose(images, model.decode_codes(codes))
    np.testing.assert_allclose(model.decode(z + 1e-3), images)  # decode snaps to the codes
    np.testing.assert_allclose(model.sampling_probabilities(1.0), [0, 0.75, 0, 0.25, 0])
    np.testing.assert_allclose(model.sampling_probabilities(1e-3), [0, 1, 0, 0, 0])
    np.testing.assert_allclose(model.sampling_probabilities(1e6), [0, 0.5, 0, 0.5, 0],
                               atol=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, temperature=0.0)
    model.code_usage[...] = 0  # never trained: every code alike
    np.testing.assert_allclose(model.sampling_probabilities(), 0.2)


def test_training_on_the_digits_reduces_the_loss_and_uses_most_codes(
        digits: np.ndarray) -> None:
    config = TrainConfig(model="vqvae", epochs=20, seed=1)
    trainer = Trainer(config, digits)
    reports = list(trainer.train())
    assert reports[-1].recon < 0.85 * reports[0].recon
    report = trainer.model.evaluate(digits)
    assert report.used_codes >= 0.8 * config.codes
    assert report.perplexity > 0.6 * config.codes


def test_default_vqvae_figures_on_the_digits(digits: np.ndarray) -> None:
    """The defaults of `latentlab train --model vqvae` (README's figures table)."""
    trainer = Trainer(TrainConfig(model="vqvae"), digits)
    list(trainer.train())
    report = trainer.model.evaluate(digits)
    assert report.recon < 21.3  # BCE per sample; the 2-D VAE at z = μ: 21.10
    assert report.used_codes >= 60 and report.perplexity > 55


def test_same_seed_same_weights_and_pausing_changes_nothing(digits: np.ndarray) -> None:
    config = TrainConfig(model="vqvae", epochs=3, seed=5)
    straight = Trainer(config, digits)
    list(straight.train())
    paused = Trainer(config, digits)
    calls = {"n": 0}

    def stop_after_seven_batches() -> bool:
        calls["n"] += 1
        return calls["n"] > 7

    assert paused.run_epoch(should_stop=stop_after_seven_batches) is None
    list(paused.train())
    np.testing.assert_array_equal(paused.model.weights, straight.model.weights)
    assert isinstance(paused.model, VQVAE) and isinstance(straight.model, VQVAE)
    assert paused.model.dead_codes_reseeded == straight.model.dead_codes_reseeded
    np.testing.assert_array_equal(paused.model.code_usage, straight.model.code_usage)


def test_save_and_load_keep_the_codebook_usage_and_settings(
        digits: np.ndarray, tmp_path: Path) -> None:
    config = TrainConfig(model="vqvae", epochs=2, codes=16, latent_dim=3, commitment=0.5,
                         ema_decay=0.95)
    trainer = Trainer(config, digits)
    list(trainer.train())
    model = trainer.model
    assert isinstance(model, VQVAE) and model.code_usage.any()
    path = save_model(tmp_path / "vq.npz", model, config, trainer.history)
    saved = load_model(path)
    loaded = saved.model
    assert isinstance(loaded, VQVAE) and saved.config == config
    assert loaded.config == model.config
    np.testing.assert_array_equal(loaded.codebook, model.codebook)
    np.testing.assert_array_equal(loaded.code_usage, model.code_usage)
    assert loaded.dead_codes_reseeded == model.dead_codes_reseeded
    np.testing.assert_array_equal(loaded.quantise(loaded.encode(digits)[0]),
                                  model.quantise(model.encode(digits)[0]))
    copy = model.copy()
    assert isinstance(copy, VQVAE)
    np.testing.assert_array_equal(copy.code_usage, model.code_usage)


@pytest.mark.parametrize("state", [
    {"code_usage": [1.0] * 15, "dead_codes_reseeded": 0},
    {"code_usage": [-1.0] * 16, "dead_codes_reseeded": 0},
    {"code_usage": [1.0] * 16, "dead_codes_reseeded": True},
    {"code_usage": [1.0] * 16},
    [],
])
def test_a_model_file_with_bad_vq_state_is_refused(
        state: object, digits: np.ndarray, tmp_path: Path) -> None:
    config = TrainConfig(model="vqvae", epochs=0, codes=16)
    trainer = Trainer(config, digits)
    path = save_model(tmp_path / "vq.npz", trainer.model, config)
    with np.load(path, allow_pickle=False) as archive:
        weights, metadata = archive["weights"], json.loads(str(archive["metadata"]))
    metadata["state"] = state
    np.savez(path, weights=weights, metadata=np.array(json.dumps(metadata)))
    with pytest.raises(ModelFileError, match="invalid model state"):
        load_model(path)


def test_cli_trains_a_vqvae_and_prints_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "vq.npz"
    result = subprocess.run(
        [sys.executable, "-m", "latentlab", "train", "--model", "vqvae", "--codes", "24",
         "--code-dim", "3", "--commitment", "0.5", "--epochs", "8", "--json", "--out",
         str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["model"] == "vqvae" and figures["codes"] == 24
    assert "kl" not in figures  # its regulariser is the VQ loss
    assert figures["total"] == pytest.approx(figures["recon"] + figures["vq_loss"])
    assert figures["vq_loss"] == pytest.approx(1.5 * figures["quantisation"])
    assert 1.0 <= figures["perplexity"] <= figures["used_codes"] <= 24
    assert isinstance(figures["dead_codes_reseeded"], int)
    for key in ("recon", "vq_loss", "perplexity", "used_codes", "dead_codes_reseeded"):
        assert "snapped" in figures["measured"][key] or key == "dead_codes_reseeded"
    saved = load_model(out)
    assert isinstance(saved.model, VQVAE)
    assert (saved.model.n_codes, saved.model.latent_dim) == (24, 3)
    report = saved.model.evaluate(load_digits().images)
    assert report.recon == pytest.approx(figures["recon"], rel=1e-9)
    assert report.used_codes == figures["used_codes"]


@pytest.mark.parametrize("args", [["--codes", "1"], ["--commitment", "-1"],
                                  ["--ema-decay", "1"], ["--code-dim", "0"]])
def test_cli_refuses_bad_vq_settings(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "latentlab", "train", "--model", "vqvae",
                             *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "error:" in result.stderr
