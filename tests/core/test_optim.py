"""Optimisers: one hand-worked step asserted exactly, in-place updates, clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latentlab.core.optim import Adam, SGDMomentum, clip_by_global_norm, make_optimizer


def test_adam_first_steps_match_the_textbook_update() -> None:
    params = np.array([1.0, -2.0, 0.5])
    g = np.array([0.1, -0.3, 0.0])
    grads = g.copy()
    original = params
    opt = Adam(params, grads, lr=0.01)
    opt.step()
    # Step 1: m̂ = g, v̂ = g², so the update is lr * g / (|g| + eps) ≈ lr * sign(g).
    expected = np.array([1.0, -2.0, 0.5]) - 0.01 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(params, expected, rtol=1e-12)
    assert params is original  # updated in place

    # Step 2 against the plain formulas; a step consumes its gradients (its scratch).
    grads[...] = g
    m = 0.9 * (0.1 * g) + 0.1 * g
    v = 0.999 * (0.001 * g**2) + 0.001 * g**2
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    expected = expected - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    opt.step()
    np.testing.assert_allclose(params, expected, rtol=1e-9)
    np.testing.assert_allclose(opt.m, m, rtol=1e-12)
    np.testing.assert_allclose(opt.v, v, rtol=1e-12)


@pytest.mark.parametrize("shape", [(1000,), (3, 1000)])
def test_adam_in_chunks_updates_exactly_as_in_one_pass(shape: tuple[int, ...]) -> None:
    """Parameters beyond :attr:`Adam.chunk` are updated stretch by stretch: the same
    element-wise arithmetic, so the same bits, for one model ``(P,)`` and a stack
    ``(K, P)`` (a chunk of columns), including a short last chunk."""
    start = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    results = []
    for chunk in (shape[-1], 128):  # one pass; seven full chunks and one of 104
        params, grads = start.copy(), np.empty_like(start)
        opt = Adam(params, grads, lr=1e-2)
        opt.chunk = chunk
        gradients = np.random.default_rng(5)
        for _ in range(70):  # past the subnormal flush at step 64
            grads[...] = gradients.standard_normal(shape)
            opt.step()
        results.append((params, opt.m, opt.v))
    for one_pass, chunked in zip(*results, strict=True):
        np.testing.assert_array_equal(chunked, one_pass)
    assert np.abs(results[0][0] - start).min() > 0  # every parameter moved


def test_sgd_momentum_step() -> None:
    params, grads = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    opt = SGDMomentum(params, grads, lr=0.1, momentum=0.9)
    opt.step()
    np.testing.assert_allclose(params, [0.95, 2.1])
    grads[...] = [0.5, -1.0]  # a step consumes its gradients
    opt.step()  # v = 0.9 * (-0.05, 0.1) - 0.1 * g
    np.testing.assert_allclose(params, [0.95 - 0.045 - 0.05, 2.1 + 0.09 + 0.1])


def test_clipping_scales_to_the_norm_and_reports_the_original() -> None:
    grads = np.array([3.0, 4.0])
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grads, [0.6, 0.8])
    grads = np.array([0.3, 0.4])
    clip_by_global_norm(grads, 1.0)
    np.testing.assert_allclose(grads, [0.3, 0.4])


def test_adam_with_clipping_limits_the_first_step() -> None:
    params, grads = np.zeros(2), np.array([30.0, 40.0])
    opt = Adam(params, grads, lr=1.0, clip_norm=5.0)
    opt.step()
    np.testing.assert_allclose(opt.m, 0.1 * np.array([3.0, 4.0]))  # m = (1 - β1) g, clipped
    assert math.isclose(params[0], -1.0, rel_tol=1e-6)


def test_adam_flushes_subnormal_moments() -> None:
    params, grads = np.zeros(4, np.float32), np.zeros(4, np.float32)
    opt = Adam(params, grads, lr=1e-3)
    grads[:] = 1e-3
    opt.step()
    for _ in range(1000):
        grads[:] = 0.0  # a step consumes its gradients
        opt.step()
    m = opt.m
    assert not np.any((m != 0) & (np.abs(m) < np.finfo(np.float32).tiny))


def test_make_optimizer_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer("rmsprop", np.zeros(1), np.zeros(1), lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        make_optimizer("adam", np.zeros(1), np.zeros(1), lr=0.0)
