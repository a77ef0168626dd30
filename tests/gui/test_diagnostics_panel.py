"""The diagnostics panel on models trained by the real core: collapse, health and PCA."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core import Dataset, TrainConfig, Trainer
from latentlab.core.diagnostics import diagnose_latents
from latentlab.core.pca import pca_reconstruction_mse
from latentlab.gui.panels.diagnostics import ACTIVE_COLOR, INACTIVE_COLOR, DiagnosticsPanel
from latentlab.gui.session import LabSession


def _trained(digits: Dataset, epochs: int, **kwargs) -> Trainer:
    t = Trainer(TrainConfig(latent_dim=2, warmup_epochs=0, epochs=epochs, seed=0, **kwargs),
                digits.images)
    assert len(list(t.train())) == epochs
    return t


@pytest.fixture(scope="module")
def collapsed_vae(digits: Dataset) -> Trainer:
    """β = 4 with summed BCE squeezes every bit out of a 2-D latent in ~40 epochs."""
    return _trained(digits, 40, model="vae", beta=4.0)


@pytest.fixture(scope="module")
def healthy_vae(digits: Dataset) -> Trainer:
    return _trained(digits, 60, model="vae", beta=1.0)


@pytest.fixture(scope="module")
def ae(digits: Dataset) -> Trainer:
    return _trained(digits, 30, model="ae")


@pytest.fixture(scope="module")
def linear(digits: Dataset) -> Trainer:
    return _trained(digits, 60, model="linear")


@pytest.fixture
def panel(qtbot, session: LabSession) -> DiagnosticsPanel:
    p = DiagnosticsPanel(session)
    qtbot.addWidget(p)
    p.resize(420, 420)
    return p


def _brushes(panel: DiagnosticsPanel) -> list[tuple[int, int, int]]:
    return [b.color().getRgb()[:3] for b in panel._bars.opts["brushes"]]


def test_collapse_warning_for_a_beta_4_vae(panel: DiagnosticsPanel, collapsed_vae: Trainer,
                                           digits: Dataset) -> None:
    panel.show_model(collapsed_vae.model.copy(), collapsed_vae.history[-1])
    diag = panel.diagnostics
    assert diag is not None
    assert diag.latent_dim == 2 and diag.n_active < 2
    warning = panel.warning_text
    assert warning.startswith(f"Posterior collapse: {diag.n_active} of 2 latent dims")
    assert "KL ≈ 0.00" in warning
    # The KL axis keeps a floor, so the collapsed bars read as ~0 rather than filling it.
    assert panel._plot.getViewBox().viewRange()[1][1] >= 0.5
    # what was measured, not a promise: warm-up does not prevent it, a lower β did
    assert "with or without KL warm-up" in warning and "lower β" in warning
    assert "now β = 4" in warning and "Try KL warm-up" not in warning
    assert panel._warning.isVisibleTo(panel)
    assert f"Active units: {diag.n_active} of 2" in panel._summary.text()
    assert "β = 4" in panel._heading.text()
    # The bars are the per-dim KL, grey for the inactive dims.
    mu, log_var = collapsed_vae.model.encode(digits.images)
    np.testing.assert_allclose(panel.bar_heights(), diagnose_latents(mu, log_var).kl,
                               rtol=1e-9)
    for dim in diag.inactive_dims:
        assert _brushes(panel)[dim] == INACTIVE_COLOR


def test_no_warning_for_a_beta_1_vae(panel: DiagnosticsPanel, healthy_vae: Trainer,
                                     digits: Dataset) -> None:
    model = healthy_vae.model.copy()
    panel.show_model(model, healthy_vae.history[-1])
    diag = panel.diagnostics
    assert diag is not None and diag.n_active == 2
    assert panel.warning_text == ""
    assert not panel._warning.isVisibleTo(panel)
    assert "Active units: 2 of 2" in panel._summary.text()
    heights = panel.bar_heights()
    assert heights.shape == (2,) and (heights > 0.3).all()
    assert heights.sum() == pytest.approx(model.evaluate(digits.images).kl, rel=1e-4)
    assert _brushes(panel) == [ACTIVE_COLOR, ACTIVE_COLOR]
    assert not panel._chart.isHidden()
    assert [t.toPlainText() for t in panel._value_labels] == [f"{h:.2f}" for h in heights]


def test_warning_goes_away_when_the_model_recovers(panel: DiagnosticsPanel,
                                                   collapsed_vae: Trainer,
                                                   healthy_vae: Trainer) -> None:
    panel.show_model(collapsed_vae.model.copy())
    assert panel.warning_text
    panel.show_model(healthy_vae.model.copy())
    assert panel.warning_text == ""


@pytest.mark.parametrize("kind", ["ae", "linear"])
def test_autoencoders_are_compared_with_pca(request, panel: DiagnosticsPanel, digits: Dataset,
                                            kind: str) -> None:
    trainer: Trainer = request.getfixturevalue(kind)
    model = trainer.model.copy()
    panel.show_model(model)
    pca = pca_reconstruction_mse(digits.images, 2)
    mse = model.evaluate(digits.images).mse
    assert panel.pca_mse == pytest.approx(pca, rel=1e-12)
    assert panel.model_mse == pytest.approx(mse, rel=1e-5)
    np.testing.assert_allclose(panel.bar_heights(), [mse, pca], rtol=1e-5)
    text = panel._comparison.text()
    assert f"this model {mse:.4f}" in text and f"PCA with 2 components {pca:.4f}" in text
    assert panel.diagnostics is None and panel.warning_text == ""
    ticks = panel._plot.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == ["this model", "PCA, 2 components"]
    if kind == "linear":
        # The article's point: a trained linear AE lands on (not below) PCA's error.
        assert pca - 1e-6 <= mse < 1.15 * pca
        assert "PCA" in panel._summary.text()
    else:
        assert mse < pca
        assert "lower than PCA" in text


def test_pca_is_computed_once_per_data_set(panel: DiagnosticsPanel, session: LabSession,
                                           ae: Trainer, digits: Dataset, monkeypatch) -> None:
    import latentlab.gui.analysis as module

    calls: list[int] = []
    real = module.pca_residual_mse  # PCA's error for every k at once

    def counting(x: np.ndarray, **kwargs: object) -> np.ndarray:
        calls.append(len(x))
        return real(x, **kwargs)

    monkeypatch.setattr(module, "pca_residual_mse", counting)
    model = ae.model.copy()
    for _ in range(5):
        panel.show_model(model)
    assert calls == [len(digits)]
    # New data: recomputed.
    session.set_dataset(Dataset(digits.images[:500], None, digits.image_shape, "first 500"))
    panel.show_model(model)
    assert calls == [len(digits), 500]
    assert panel.pca_mse == pytest.approx(pca_reconstruction_mse(digits.images[:500], 2),
                                          rel=1e-12)


def test_mismatched_data_and_empty_states(qtbot, panel: DiagnosticsPanel, session: LabSession,
                                          healthy_vae: Trainer) -> None:
    empty = DiagnosticsPanel(session)
    qtbot.addWidget(empty)
    assert "Train or load" in empty._summary.text()
    assert empty.bar_heights().size == 0
    assert empty._chart.isHidden()  # no empty axes before a model
    session.set_dataset(Dataset(np.zeros((10, 16), dtype=np.float32), None, (4, 4), "tiny"))
    panel.show_model(healthy_vae.model.copy())
    assert "expects 64 pixels" in panel._summary.text()
    assert panel.diagnostics is None and panel.bar_heights().size == 0
    assert panel._chart.isHidden()
    with pytest.raises(ValueError, match="shape"):
        Dataset(np.zeros((10, 15)), None, (4, 4), "wrong")
