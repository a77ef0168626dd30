"""DataAnalysis: whole-data work runs on the background worker, results are cached per
snapshot and announced on the GUI thread, and a new data set cancels what was asked of
the old one. Real models, real data (synthetic strokes), no window."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from latentlab.core import ModelConfig, build_model
from latentlab.core.analysis import evaluate_in_chunks, sample_rows
from latentlab.core.diagnostics import diagnose_latents
from latentlab.core.pca import pca_reconstruction_mse
from latentlab.core.synthetic import synthetic_strokes
from latentlab.gui.analysis import INLINE_VALUES, SAMPLE_SIZE, DataAnalysis
from latentlab.gui.background import BackgroundService

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def strokes():
    """2,000 × 28×28: above INLINE_VALUES, so the work goes to the worker."""
    ds = synthetic_strokes(2_000, seed=0)
    assert ds.images.size > INLINE_VALUES
    return ds


@pytest.fixture
def analysis(qtbot, strokes):
    service = BackgroundService()
    analysis = DataAnalysis(strokes, service)
    yield analysis
    analysis.close()
    service.shutdown()


def _vae(seed: int = 0, input_dim: int = 784):
    return build_model(ModelConfig(kind="vae", input_dim=input_dim, latent_dim=3), seed=seed)


def _hold_worker(analysis: DataAnalysis) -> threading.Event:
    """Occupy the analysis's worker until the returned event is set."""
    started, gate = threading.Event(), threading.Event()

    def work(_stop):
        started.set()
        gate.wait(WAIT_MS / 1000)

    analysis.service.submit("test-gate", work, priority=10)
    assert started.wait(WAIT_MS / 1000)
    return gate


def test_codes_are_computed_on_the_worker_and_announced(analysis, strokes, qtbot):
    model = _vae()
    with qtbot.waitSignal(analysis.ready, timeout=WAIT_MS) as signal:
        assert analysis.codes(model) is None  # queued, not computed here
    assert signal.args == ["codes", model]
    codes = analysis.codes(model)
    assert codes is not None
    mu, log_var = model.encode(strokes.images)
    np.testing.assert_allclose(codes.mu, mu, rtol=1e-5, atol=1e-6)
    assert codes.log_var is not None
    np.testing.assert_allclose(codes.log_var, log_var, rtol=1e-5, atol=1e-6)
    assert threading.get_ident() not in analysis.worker_threads["codes"]
    assert analysis.encodes == 1


def test_snapshots_asked_while_the_worker_is_busy_collapse_to_the_newest(analysis, qtbot):
    gate = _hold_worker(analysis)
    snapshots = [_vae(seed) for seed in range(4)]
    announced: list[object] = []
    analysis.ready.connect(lambda what, model: announced.append(model))
    for model in snapshots:
        assert analysis.codes(model, key="vae") is None
    gate.set()
    # The first snapshot was on its way; of the three asked meanwhile only the newest runs.
    qtbot.waitUntil(lambda: len(announced) == 2, timeout=WAIT_MS)
    assert announced == [snapshots[0], snapshots[-1]]
    assert analysis.encodes == 2
    assert [analysis.codes(m, key="vae") is not None for m in snapshots[1:-1]] == [False] * 2


def test_a_new_data_set_cancels_what_was_asked_of_the_old_one(analysis, qtbot):
    gate = _hold_worker(analysis)
    old_model = _vae()
    announced: list[tuple[str, object]] = []
    analysis.ready.connect(lambda what, subject: announced.append((what, subject)))
    assert analysis.codes(old_model) is None
    assert analysis.nearest(np.zeros(784, dtype=np.float32)) is None
    other = synthetic_strokes(1_500, seed=1, side=30)
    analysis.set_dataset(other)
    gate.set()
    new_model = _vae(input_dim=900)
    with qtbot.waitSignal(analysis.ready, timeout=WAIT_MS):
        analysis.codes(new_model)
    assert announced == [("codes", new_model)]
    codes = analysis.codes(new_model)
    assert codes is not None and codes.mu.shape == (1_500, 3)


def test_nearest_image_is_searched_on_the_worker_and_cached(analysis, strokes, qtbot):
    query = np.clip(strokes.images[77] + 0.05, 0, 1)
    with qtbot.waitSignal(analysis.ready, timeout=WAIT_MS) as signal:
        assert analysis.nearest(query, key="vae") is None
    assert signal.args == ["nearest", "vae"]
    found = analysis.nearest(query, key="vae")
    d = np.linalg.norm(strokes.images.astype(np.float64) - query, axis=1)
    assert found is not None and found.index == int(d.argmin())
    assert found.distance == pytest.approx(float(d.min()), rel=1e-6)
    assert threading.get_ident() not in analysis.worker_threads["nearest"]
    # Another image: None until searched, meanwhile the last result stays available.
    assert analysis.nearest(strokes.images[5], key="vae") is None
    assert analysis.latest_nearest("vae") == found


def test_figures_on_a_small_set_are_the_whole_set_figures(analysis, strokes, qtbot):
    model = _vae(seed=2)
    with qtbot.waitSignal(analysis.ready, timeout=WAIT_MS):
        assert analysis.evaluate(model, 0.5) is None
    report = analysis.evaluate(model, 0.5)
    assert report is not None and analysis.sample_size == len(strokes)
    assert report.total == pytest.approx(model.evaluate(strokes.images, beta=0.5).total,
                                         rel=1e-5)
    with qtbot.waitSignal(analysis.ready, timeout=WAIT_MS):
        assert analysis.diagnose(model) is None
    found = analysis.diagnose(model)
    assert found is not None and found.rows == len(strokes)
    mu, log_var = model.encode(strokes.images)
    ref = diagnose_latents(mu, log_var)
    assert found.latents is not None
    np.testing.assert_allclose(found.latents.kl, ref.kl, rtol=1e-4)
    assert found.pca_mse == pytest.approx(pca_reconstruction_mse(strokes.images, 3), rel=1e-4)
    assert found.model_mse == pytest.approx(model.evaluate(strokes.images).mse, rel=1e-5)


def test_figures_on_a_large_set_use_the_fixed_sample(qtbot):
    big = synthetic_strokes(SAMPLE_SIZE + 2_000, seed=3, side=10)
    service = BackgroundService()
    analysis = DataAnalysis(big, service)
    try:
        model = _vae(input_dim=100)
        with qtbot.waitSignal(analysis.ready, timeout=WAIT_MS):
            analysis.evaluate(model, 1.0)
        report = analysis.evaluate(model, 1.0)
        rows = sample_rows(len(big), SAMPLE_SIZE)
        assert analysis.sample_size == SAMPLE_SIZE
        assert report is not None
        assert report.total == pytest.approx(
            evaluate_in_chunks(model, big.images, 1.0, rows=rows).total, rel=1e-6)
        with qtbot.waitSignal(analysis.ready, timeout=WAIT_MS):
            analysis.codes(model)
        codes = analysis.codes(model)
        assert codes is not None and len(codes.mu) == len(big)  # the map gets every point
    finally:
        analysis.close()
        service.shutdown()


def test_a_small_data_set_is_answered_at_once_on_the_calling_thread(qtbot, digits):
    assert digits.images.size <= INLINE_VALUES
    service = BackgroundService()
    analysis = DataAnalysis(digits, service)
    try:
        model = _vae(input_dim=64)
        announced: list[object] = []
        analysis.ready.connect(lambda what, subject: announced.append(subject))
        codes = analysis.codes(model)
        assert codes is not None and len(codes.mu) == len(digits)
        assert analysis.worker_threads["codes"] == {threading.get_ident()}
        found = analysis.nearest(digits.images[9])
        assert found is not None and found.index == 9 and found.distance == 0.0
        assert announced == []  # nothing to wait for
    finally:
        analysis.close()
        service.shutdown()
