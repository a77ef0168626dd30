"""PCA views of a latent space and the decoded-manifold mosaic, against their stated maths."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.manifold import (
    decode_grid,
    decode_mosaic,
    grid_centres,
    tile_mosaic,
    view_grid,
)
from latentlab.core.pca import (
    LatentPlane,
    axes_plane,
    pca_plane,
    pca_reconstruction_mse,
    principal_axes,
)


@pytest.fixture
def codes() -> np.ndarray:
    """5-D codes, most variance along two known oblique directions."""
    rng = np.random.default_rng(3)
    a = np.array([1.0, 1.0, 0.0, 0.0, 0.0]) / np.sqrt(2)
    b = np.array([0.0, 0.0, 1.0, -1.0, 0.0]) / np.sqrt(2)
    t = rng.standard_normal((400, 2)) * [3.0, 1.5]
    return 0.05 * rng.standard_normal((400, 5)) + t[:, :1] * a + t[:, 1:] * b + [1, 2, 3, 4, 5]


def test_principal_axes_find_the_planted_directions(codes: np.ndarray) -> None:
    mean, basis, variance = principal_axes(codes, 2)
    np.testing.assert_allclose(mean, codes.mean(axis=0))
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-12)
    # up to the sign convention: largest-magnitude entry positive
    assert abs(basis[0] @ np.array([1, 1, 0, 0, 0]) / np.sqrt(2)) > 0.999
    assert abs(basis[1] @ np.array([0, 0, 1, -1, 0]) / np.sqrt(2)) > 0.999
    assert (basis[np.arange(2), np.argmax(np.abs(basis), axis=1)] > 0).all()
    np.testing.assert_allclose(variance, np.var((codes - mean) @ basis.T, axis=0), rtol=1e-10)


def test_pca_mse_is_the_residual_of_the_principal_plane(codes: np.ndarray) -> None:
    mean, basis, _ = principal_axes(codes, 2)
    centred = codes - mean
    expected = np.mean((centred - centred @ basis.T @ basis) ** 2)
    assert pca_reconstruction_mse(codes, 2) == pytest.approx(expected, rel=1e-12)
    assert pca_reconstruction_mse(codes, 5) == pytest.approx(0.0, abs=1e-20)


def test_pca_plane_round_trip_holds_the_rest_at_the_mean(codes: np.ndarray) -> None:
    plane = pca_plane(codes)
    assert plane.is_pca and plane.axis_names == ("PC1", "PC2")
    assert plane.explained is not None and plane.explained[0] > plane.explained[1] > 0.0
    assert sum(plane.explained) > 0.99  # the planted plane holds nearly all the variance
    uv = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.25]])
    z = plane.lift(uv)
    np.testing.assert_allclose(z[0], codes.mean(axis=0))  # the map's origin is the data mean
    np.testing.assert_allclose(plane.project(z), uv, atol=1e-12)
    # a code off the plane lands on its orthogonal projection, whose residual is
    # orthogonal to both axes
    shown = plane.project(codes)
    residual = codes - plane.lift(shown)
    np.testing.assert_allclose(residual @ plane.basis.T, 0.0, atol=1e-9)
    np.testing.assert_allclose(plane.project(plane.lift(shown)), shown, atol=1e-12)


def test_axes_plane_shows_two_dims_and_holds_the_others() -> None:
    rest = np.array([0.5, -1.0, 2.0, 7.0])
    plane = axes_plane(4, 2, 0, rest=rest)
    assert plane.axis_names == ("z3", "z1") and not plane.is_pca
    z = plane.lift(np.array([[4.0, -3.0]]))
    np.testing.assert_allclose(z, [[-3.0, -1.0, 4.0, 7.0]])
    np.testing.assert_allclose(plane.project(np.array([[9.0, 8.0, 7.0, 6.0]])), [[7.0, 9.0]])
    np.testing.assert_allclose(axes_plane(2, 0, 1).lift(np.array([[1.0, 2.0]])), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="two different dims"):
        axes_plane(3, 1, 1)
    with pytest.raises(ValueError, match="orthonormal"):
        LatentPlane(np.zeros(2), np.array([[1.0, 0.0], [1.0, 1.0]]), ("a", "b"))


def test_pca_plane_needs_two_dims_and_survives_identical_codes() -> None:
    with pytest.raises(ValueError, match="K >= 2"):
        pca_plane(np.zeros((10, 1)))
    plane = pca_plane(np.ones((1, 3)))  # one code: any orthonormal pair will do
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    assert plane.explained == (0.0, 0.0)


class _PixelDecoder:
    """Decodes z to a 2×3 image whose pixels are fixed affine functions of z (K=2)."""

    latent_dim = 2

    def decode(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        return np.stack([z[:, 0], z[:, 1], z[:, 0] + z[:, 1],
                         10 + z[:, 0], 20 + z[:, 1], 0 * z[:, 0]], axis=1)


def test_grid_centres_run_left_to_right_and_top_down() -> None:
    c = grid_centres((0.0, 0.0, 4.0, 2.0), nx=4, ny=2)
    assert c.shape == (2, 4, 2)
    np.testing.assert_allclose(c[0, :, 0], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(c[:, 0, 1], [1.5, 0.5])  # row 0 is the top (largest y)
    with pytest.raises(ValueError, match="x_max > x_min"):
        grid_centres((1.0, 0.0, 1.0, 1.0), 2, 2)
    with pytest.raises(ValueError, match="cells"):
        grid_centres((0.0, 0.0, 1.0, 1.0), 0, 2)


def test_mosaic_places_each_cells_decode_upright_in_its_tile() -> None:
    model, rect = _PixelDecoder(), (-1.0, -2.0, 3.0, 2.0)
    mosaic = decode_mosaic(model, axes_plane(2, 0, 1), rect, nx=2, ny=4, image_shape=(2, 3))
    assert mosaic.shape == (8, 6) and mosaic.dtype == np.float32
    centres = grid_centres(rect, 2, 4)
    for r in range(4):
        for c in range(2):
            tile = mosaic[2 * r:2 * r + 2, 3 * c:3 * c + 3]
            expected = model.decode(centres[r, c][None, :]).reshape(2, 3)
            np.testing.assert_allclose(tile, expected, rtol=1e-6)


def test_grid_decodes_through_the_plane_with_the_rest_held() -> None:
    class FirstAndLast:
        latent_dim = 3

        def decode(self, z: np.ndarray) -> np.ndarray:
            return np.asarray(z)[:, [0, 2]]

    plane = axes_plane(3, 1, 2, rest=np.array([0.75, 0.0, 0.0]))
    images = decode_grid(FirstAndLast(), plane, (0.0, 0.0, 1.0, 1.0), nx=3, ny=2)
    np.testing.assert_allclose(images[..., 0], 0.75)  # z1 held at the given value
    np.testing.assert_allclose(images[:, 0, 1], [0.75, 0.25], rtol=1e-6)  # z3 = the map's y
    with pytest.raises(ValueError, match="3-D latent"):
        decode_grid(_PixelDecoder(), plane, (0.0, 0.0, 1.0, 1.0), 2, 2)


def test_a_gap_separates_the_tiles_with_nan() -> None:
    images = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)  # 2×3 tiles of 2×2
    tiled = tile_mosaic(images, (2, 2), gap=1)
    assert tiled.shape == (6, 9)
    np.testing.assert_array_equal(tiled[3:5, 6:8], images[1, 2].reshape(2, 2))
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[:, 5]).all()
    assert np.isnan(tiled).sum() == 6 * 9 - 2 * 3 * 4
    np.testing.assert_array_equal(tile_mosaic(images, (2, 2))[2:4, 4:6],
                                  images[1, 2].reshape(2, 2))


def test_tile_mosaic_rejects_a_wrong_image_size() -> None:
    with pytest.raises(ValueError, match=r"\(ny, nx, 4\)"):
        tile_mosaic(np.zeros((2, 2, 5)), (2, 2))


def test_view_grid_covers_the_view_with_square_cells_that_stay_put_when_panning() -> None:
    rect, nx, ny = view_grid((-3.1, -2.05, 2.9, 1.95), width_px=600, tile_px=30)
    x0, y0, x1, y1 = rect
    side = (x1 - x0) / nx
    assert (y1 - y0) / ny == pytest.approx(side)  # square cells
    assert side == pytest.approx(6.0 / 20)  # 600 px / 30 px = 20 cells across the view
    assert x0 <= -3.1 and y0 <= -2.05 and x1 >= 2.9 and y1 >= 1.95  # covers the view
    assert x1 - x0 < 6.0 + 2 * side and y1 - y0 < 4.0 + 2 * side
    assert x0 / side == pytest.approx(round(x0 / side))  # on the lattice of the side
    panned, _, _ = view_grid((-3.0, -2.05, 3.0, 1.95), width_px=600, tile_px=30)
    lattice = np.array(panned) / side
    np.testing.assert_allclose(lattice, np.round(lattice), atol=1e-9)


def test_view_grid_grows_its_cells_to_stay_under_the_cap() -> None:
    rect, nx, ny = view_grid((0.0, 0.0, 1.0, 1.0), width_px=4000, tile_px=1, max_cells=400)
    assert nx * ny <= 400 and nx >= 15
    assert rect[2] >= 1.0 and rect[3] >= 1.0


def test_sigma_ellipses_are_the_projected_gaussians_contours(codes: np.ndarray) -> None:
    mu, variance = np.array([0.5, -1.0, 2.0, 0.0, 1.0]), np.array([4.0, 0.25, 1.0, 9.0, 2.0])
    plane = axes_plane(5, 0, 1)
    ring = plane.ellipse(mu, variance, n_sigma=2.0, n_points=8)
    assert ring.shape == (9, 2)
    np.testing.assert_allclose(ring[0], ring[-1])  # closed
    # axis-aligned: semi-axes 2σ = 4 along z1 and 1 along z2, centred on (0.5, -1)
    np.testing.assert_allclose(((ring - [0.5, -1.0]) ** 2 / [16.0, 1.0]).sum(1), 1.0)
    pca = pca_plane(codes)
    ring = pca.ellipse(mu, variance, n_sigma=1.0)
    cov = (pca.basis * variance) @ pca.basis.T
    d = ring - pca.project(mu[None, :])
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 1.0)


def _codes_along(direction: list[float], seed: int = 5) -> np.ndarray:
    """400 6-D codes spread mostly along ``direction`` (then along z3)."""
    rng = np.random.default_rng(seed)
    d = np.array(direction + [0.0] * (6 - len(direction)))
    d /= np.linalg.norm(d)
    t = rng.standard_normal((400, 2)) * [3.0, 1.0]
    return t[:, :1] * d + t[:, 1:] * np.eye(6)[2] + 0.01 * rng.standard_normal((400, 6))


def test_a_refit_keeps_the_previous_fits_orientation() -> None:
    # PC1 close to (1, -1)/√2: which entry is the largest flips between the two fits, and
    # with it the sign convention of a fit on its own: the picture would be mirrored.
    before, after = _codes_along([1.01, -1.0]), _codes_along([1.0, -1.01])
    first, refit = pca_plane(before), pca_plane(after)
    assert first.basis[0] @ refit.basis[0] < -0.99  # the precondition: a raw refit flips
    kept = refit.oriented_like(first)
    assert (np.einsum("ik,ik->i", kept.basis, first.basis) > 0.99).all()
    assert kept.explained == refit.explained and kept.axis_names == ("PC1", "PC2")
    np.testing.assert_allclose(kept.origin, refit.origin)
    # The same codes land where they were (the data moved by ~1 %, the picture with it).
    moved = np.abs(kept.project(after) - first.project(before)).max()
    assert moved < 0.01 < np.abs(refit.project(after) - first.project(before)).max()
    uv = np.array([[0.3, -1.2], [2.0, 0.5]])
    np.testing.assert_allclose(kept.project(kept.lift(uv)), uv, atol=1e-12)
    # Nothing to follow: the plane as it is.
    assert refit.oriented_like(None) is refit
    assert refit.oriented_like(pca_plane(np.random.default_rng(1).normal(size=(50, 4)))) is refit
    assert first.oriented_like(first) is first


def test_the_prior_centre_is_where_the_map_shows_z_zero(codes: np.ndarray) -> None:
    np.testing.assert_allclose(axes_plane(5, 1, 3, rest=np.arange(5.0)).prior_centre, [0, 0])
    plane = pca_plane(codes)
    np.testing.assert_allclose(plane.prior_centre, -(codes.mean(axis=0) @ plane.basis.T))
    np.testing.assert_allclose(plane.prior_centre, plane.project(np.zeros((1, 5)))[0])
