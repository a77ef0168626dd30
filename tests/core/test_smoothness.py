"""Smoothness figures on constructed models whose answers are known, and on the shipped ones."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import load_digits, load_model
from latentlab.core import smoothness as smoothness_module
from latentlab.core.claims import AE_GAP_OFF_RANGE, AE_REGION_ON_RANGE, VAE_GAP_OFF_RANGE
from latentlab.core.pca import axes_plane
from latentlab.core.smoothness import measure_smoothness
from latentlab.paths import resource_path


class _Identity:
    """Codes are the 2-pixel images themselves; decoding returns z as the image."""

    latent_dim = 2
    is_variational = False

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, None]:
        return np.asarray(x, dtype=np.float64), None

    def decode(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=np.float64)


class _Step(_Identity):
    """A decoder with a discontinuity: pixel 0 jumps from 0 to 1 at z0 = edge."""

    def __init__(self, edge: float) -> None:
        self.edge = edge

    def decode(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        return np.stack([(z[:, 0] > self.edge).astype(np.float64), np.zeros(len(z))], axis=1)


class _LatticeModel:
    """Images (a, b) on a lattice. Codes (a, b, 1); decoding gives (z0, z1, T·z2): each
    reconstruction sits exactly T above its own image, so τ = T, while a decode on the
    map's plane (z2 held at 0) is (u0, u1, 0), off-manifold exactly when the 2-D point is
    farther than T from every lattice image."""

    latent_dim = 3
    is_variational = False

    def __init__(self, lift: float) -> None:
        self.lift = lift

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, None]:
        x = np.asarray(x, dtype=np.float64)
        return np.column_stack([x[:, 0], x[:, 1], np.ones(len(x))]), None

    def decode(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        return np.column_stack([z[:, 0], z[:, 1], self.lift * z[:, 2]])


def _lattice(spacing: float, half_width: float, band: float = 0.0) -> np.ndarray:
    """Images (a, b, 0) on a square lattice over [-w, w]², without columns |a| < band."""
    axis = np.arange(-half_width, half_width + spacing / 2, spacing)
    a, b = np.meshgrid(axis, axis)
    keep = np.abs(a.ravel()) >= band - 1e-9
    return np.column_stack([a.ravel()[keep], b.ravel()[keep], np.zeros(keep.sum())])


def _cell_x(result) -> np.ndarray:
    """Map x of each cell centre, shape (n, n)."""
    n = result.off_manifold.shape[1]
    x0, _, x1, _ = result.rect
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    return np.broadcast_to(xs, result.off_manifold.shape)


def test_small_query_blocks_give_the_same_figures(monkeypatch) -> None:
    images = _lattice(0.1, 3.0, band=1.0)
    kwargs = dict(plane=axes_plane(3, 0, 1), n=12, span_sigma=1.4)
    whole = measure_smoothness(_LatticeModel(lift=0.09), images, **kwargs)
    monkeypatch.setattr(smoothness_module, "_QUERY_BLOCK", 50)
    monkeypatch.setattr(smoothness_module, "_INDEX_ROWS", 500)
    blocked = measure_smoothness(_LatticeModel(lift=0.09), images, **kwargs)
    assert blocked.threshold == whole.threshold
    np.testing.assert_array_equal(blocked.off_manifold, whole.off_manifold)
    np.testing.assert_array_equal(blocked.gap, whole.gap)


def test_identity_decoder_changes_by_one_sigma_per_sigma_step() -> None:
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((2000, 2)) * [3.0, 0.5] + [1.0, -2.0]
    result = measure_smoothness(_Identity(), codes, n=20)
    sx, sy = result.sigma
    np.testing.assert_allclose((sx, sy), codes.std(axis=0), rtol=1e-6)
    np.testing.assert_allclose(result.rect, [*(codes.mean(0) - 2 * codes.std(0)),
                                             *(codes.mean(0) + 2 * codes.std(0))], rtol=1e-6)
    # a horizontal σ-step moves pixel 0 by σx, a vertical one pixel 1 by σy, and the
    # grid has as many horizontal as vertical neighbour pairs
    assert result.change_max == pytest.approx(max(sx, sy), rel=1e-5)
    assert result.change_mean == pytest.approx((sx + sy) / 2, rel=1e-5)
    # exact reconstructions: τ = 0, so only a decode that is a training image is on it
    assert result.threshold == 0.0 and result.off_share == 1.0


def test_a_discontinuity_is_the_worst_step_and_only_one_column_of_pairs() -> None:
    rng = np.random.default_rng(2)
    codes = rng.standard_normal((1000, 2))
    n = 30
    result = measure_smoothness(_Step(edge=float(codes[:, 0].mean())), codes, n=n)
    cell = 4.0 / n  # ±2σ cut into n cells, in σ units
    assert result.change_max == pytest.approx(1.0 / cell)
    pairs = 2 * n * (n - 1)
    assert result.change_mean == pytest.approx(n * (1.0 / cell) / pairs)


def test_a_data_set_that_fills_its_region_has_no_gaps_and_nothing_off_it() -> None:
    images = _lattice(0.1, 3.0)
    result = measure_smoothness(_LatticeModel(lift=0.09), images,
                                plane=axes_plane(3, 0, 1), n=40, span_sigma=1.4)
    assert result.threshold == pytest.approx(0.09)
    # every cell centre lies within 0.1/√2 < τ of a lattice image
    assert result.off_share == 0.0
    assert result.gap_share == 0.0 and np.isnan(result.off_share_in_gaps)
    assert result.n_reference == len(images)


def test_a_gap_in_the_data_is_off_manifold_and_counted_as_a_gap() -> None:
    images = _lattice(0.1, 3.0, band=1.0)  # no images with |a| < 1
    tau = 0.09
    result = measure_smoothness(_LatticeModel(lift=tau), images,
                                plane=axes_plane(3, 0, 1), n=40, span_sigma=1.4)
    x = _cell_x(result)
    # off-manifold: farther than τ from every image; the band's columns are at |a| = 1
    assert result.off_manifold[np.abs(x) < 1.0 - tau].all()
    assert not result.off_manifold[np.abs(x) >= 1.0].any()
    # gaps: farther than 0.25 σ from every code; σ-scaled, the nearest codes are the
    # band's edge columns (the lattice's rows are 0.1/σy < 0.05 σ apart)
    sx = result.sigma[0]
    assert result.gap[np.abs(x) < 1.0 - 0.25 * sx].all()
    assert not result.gap[np.abs(x) > 1.0 - 0.24 * sx].any()
    assert 0.0 < result.gap_share < 0.5
    assert result.off_share_in_gaps == 1.0
    assert result.off_share == pytest.approx(result.off_manifold.mean())


def test_more_images_than_max_reference_use_a_seeded_subsample() -> None:
    images = _lattice(0.1, 3.0)
    kwargs = dict(plane=axes_plane(3, 0, 1), n=10, span_sigma=1.4, max_reference=500)
    a = measure_smoothness(_LatticeModel(lift=0.09), images, **kwargs)
    b = measure_smoothness(_LatticeModel(lift=0.09), images, **kwargs)
    assert a.n_reference == 500
    np.testing.assert_array_equal(a.off_manifold, b.off_manifold)
    # a sparser reference leaves more of the lattice's region off-manifold
    assert a.off_share > 0.0


def test_collapsed_codes_have_no_region() -> None:
    with pytest.raises(ValueError, match="do not vary"):
        measure_smoothness(_Identity(), np.ones((50, 2)))


def test_the_shipped_ae_is_off_manifold_in_its_gaps_and_the_vae_is_not() -> None:
    """The figures docs/claims.md reports for resources/pretrained-*.npz."""
    images = load_digits().images
    ae = measure_smoothness(load_model(resource_path("pretrained-ae.npz")).model, images)
    vae = measure_smoothness(load_model(resource_path("pretrained-vae.npz")).model, images)
    assert ae.off_share_in_gaps > 0.5 > 0.1 > vae.off_share_in_gaps
    assert ae.change_max > 2.0 * vae.change_max
    assert ae.off_share > vae.off_share
    # the shipped models are seed 0 of the ranges the texts cite (core.claims)
    for share, (low, high) in ((ae.off_share_in_gaps, AE_GAP_OFF_RANGE),
                               (vae.off_share_in_gaps, VAE_GAP_OFF_RANGE),
                               (1.0 - ae.off_share, AE_REGION_ON_RANGE)):
        assert low - 0.05 <= 100 * share <= high + 0.05


def test_gap_cells_are_those_farther_than_the_radius_from_every_code() -> None:
    """The strip search (each column meets only the codes within the radius along x) gives
    the brute-force answer: every centre against every code."""
    rng = np.random.default_rng(3)
    points = np.concatenate([rng.normal(size=(400, 2)), [[0.0, 0.0], [1.0, -1.0]]])
    ix = np.linspace(-2.0, 2.0, 17)
    iy = np.linspace(2.0, -2.0, 13)
    for radius in (0.0, 0.1, 0.25, 3.0):
        centres = np.stack(np.meshgrid(ix, iy), axis=-1)  # (13, 17, 2)
        nearest = np.linalg.norm(centres[:, :, None, :] - points, axis=-1).min(axis=-1)
        expected = nearest > radius
        np.testing.assert_array_equal(smoothness_module._gap_mask(points, ix, iy, radius),
                                      expected)
        if radius == 0.25:  # a case with both kinds of cell
            assert 0 < expected.sum() < expected.size
