"""The β trade-off panel driven with models trained by the real core."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractButton, QWidget

from latentlab.core import Dataset, EpochReport, Model, TrainConfig, Trainer
from latentlab.gui.panels.tradeoff import TradeoffPanel, pick_examples
from latentlab.gui.session import LabSession

CONFIG = TrainConfig(model="vae", latent_dim=2, warmup_epochs=0, epochs=6, seed=0)


@pytest.fixture(scope="module")
def trained(digits: Dataset) -> tuple[Model, EpochReport]:
    """A VAE trained for a few epochs at β = 0.5, with its last EpochReport."""
    trainer = Trainer(dataclasses.replace(CONFIG, beta=0.5), digits.images)
    reports = list(trainer.train())
    return trainer.model.copy(), reports[-1]


@pytest.fixture
def panel(qtbot, session: LabSession) -> TradeoffPanel:
    p = TradeoffPanel(session)
    qtbot.addWidget(p)
    p.resize(560, 640)
    return p


def test_figures_equal_the_core_evaluate(panel: TradeoffPanel, digits: Dataset, trained) -> None:
    model, report = trained
    assert report.beta == pytest.approx(0.5)
    panel.show_model(model, report)
    expected = model.evaluate(digits.images, beta=report.beta)
    assert panel.figures == expected
    assert panel.beta == report.beta
    text = panel._figures_label.text()
    for figure in (expected.recon, expected.kl, expected.total):
        assert f"{figure:.2f}" in text
    assert "β = 0.5" in text
    assert panel._heading.text() == "β = 0.5"


def test_rows_show_originals_reconstructions_generations(
    panel: TradeoffPanel, digits: Dataset, trained
) -> None:
    model, report = trained
    panel.show_model(model, report)
    index = panel.example_indices
    assert digits.labels is not None
    np.testing.assert_array_equal(digits.labels[index], np.arange(10))  # one per digit
    shown = panel.shown_images()
    np.testing.assert_array_equal(shown["originals"], digits.images[index])
    np.testing.assert_allclose(shown["reconstructions"], model.reconstruct(digits.images[index]))
    assert shown["generations"].shape == (10, 64)
    _, expected_generations = model.sample(10, temperature=1.0, rng=np.random.default_rng(2024))
    np.testing.assert_allclose(shown["generations"], expected_generations)


def test_generations_stay_put_until_asked(panel: TradeoffPanel, trained) -> None:
    model, report = trained
    panel.show_model(model, report)
    first = panel.shown_images()["generations"]
    panel.show_model(model, report)
    np.testing.assert_array_equal(panel.shown_images()["generations"], first)
    panel._new_generations.click()
    assert not np.array_equal(panel.shown_images()["generations"], first)


def test_rate_distortion_points_accumulate_per_beta(
    panel: TradeoffPanel, digits: Dataset, trained
) -> None:
    model, report = trained
    # One real point per β: train at β = 0.5 (fixture) and at β = 4, record what the panel shows.
    panel.show_model(model, report)
    panel._record_button.click()
    trainer = Trainer(dataclasses.replace(CONFIG, beta=4.0), digits.images)
    last = list(trainer.train())[-1]
    high = trainer.model.copy()
    panel.show_model(high, last)
    panel.record_current()
    low_fig = model.evaluate(digits.images, beta=0.5)
    high_fig = high.evaluate(digits.images, beta=4.0)
    assert panel.points == {0.5: (low_fig.recon, low_fig.kl), 4.0: (high_fig.recon, high_fig.kl)}

    # Same β (to 3 digits) replaces the point; a new β adds one.
    panel.record_point(4.0004, 30.0, 1.0)
    assert panel.points[4.0] == (30.0, 1.0)
    assert len(panel.points) == 2
    panel.record_point(1.0, 25.0, 3.0)
    assert list(panel.points) == [0.5, 1.0, 4.0]
    x, y = panel.plotted_points()
    np.testing.assert_allclose(x, [low_fig.kl, 3.0, 1.0])
    np.testing.assert_allclose(y, [low_fig.recon, 25.0, 30.0])
    labels = sorted(item.textItem.toPlainText() for item in panel.chart.point_labels)
    assert labels == ["β=0.5", "β=1", "β=4"]

    panel._clear_button.click()
    assert panel.points == {}
    assert panel.plotted_points()[0].size == 0
    assert panel.chart.point_labels == []
    with pytest.raises(ValueError, match="finite"):
        panel.record_point(1.0, float("nan"), 1.0)


def test_autoencoder_figures(panel: TradeoffPanel, digits: Dataset) -> None:
    trainer = Trainer(dataclasses.replace(CONFIG, model="ae", epochs=2), digits.images)
    last = list(trainer.train())[-1]
    ae = trainer.model.copy()
    panel.show_model(ae, last)
    expected = ae.evaluate(digits.images, beta=last.beta)
    assert panel.figures == expected
    assert f"{expected.recon:.4f}" in panel._figures_label.text()
    assert "MSE" in panel._figures_label.text()
    assert not panel._record_button.isEnabled()  # no KL: nothing to put on the chart


def test_without_labels_and_without_report(qtbot, session: LabSession, digits: Dataset,
                                           trained) -> None:
    model, _ = trained
    session.set_dataset(Dataset(digits.images, None, digits.image_shape, "unlabelled"))
    p = TradeoffPanel(session)
    qtbot.addWidget(p)
    p.show_model(model, None)
    index = p.example_indices
    assert len(index) == 10 and len(set(index.tolist())) == 10
    assert p.figures == model.evaluate(digits.images, beta=1.0)  # β defaults to 1
    np.testing.assert_array_equal(p.shown_images()["originals"], digits.images[index])


def test_pick_examples_tops_up_missing_labels() -> None:
    labels = np.array([2, 2, 7, 7, 7, 2, 9, 9, 9, 9, 9, 9, 9, 9])
    index = pick_examples(labels, len(labels), count=5)
    assert index[:3].tolist() == [0, 2, 6]  # first of each label, in label order
    assert len(set(index.tolist())) == 5
    assert pick_examples(None, 3).tolist() == [0, 1, 2]


def test_data_shape_mismatch(panel: TradeoffPanel, session: LabSession, trained) -> None:
    model, report = trained
    with pytest.raises(ValueError, match=r"shape \(N, 16\)"):
        Dataset(np.zeros((5, 64), np.float32), None, (4, 4), "wrong")
    session.set_dataset(Dataset(np.zeros((5, 16), np.float32), None, (4, 4), "tiny"))
    panel.show_model(model, report)  # a 64-pixel model on 16-pixel data: says so, no crash
    assert panel.figures is None
    assert "64 pixels" in panel._figures_label.text()


def test_every_control_has_a_tooltip(panel: TradeoffPanel) -> None:
    buttons = [w for w in panel.findChildren(QWidget) if isinstance(w, QAbstractButton)]
    assert len(buttons) == 3
    assert all(b.toolTip() for b in buttons)


def test_chart_frames_a_single_point_sensibly(panel: TradeoffPanel, trained) -> None:
    model, report = trained
    panel.show_model(model, report)
    panel.record_current()  # the point sits exactly under the live marker
    (x_lo, x_hi), (y_lo, y_hi) = panel.chart.plot.getViewBox().viewRange()
    figures = panel.figures
    assert x_lo < 0.0 < figures.kl < x_hi  # KL axis starts at (just below) zero
    assert y_lo < figures.recon < y_hi
    assert y_hi - y_lo >= 1.0  # not zoomed into float noise (15-digit tick labels)
    panel.record_point(4.0, figures.recon + 10.0, 0.2)
    (_, _), (y_lo, y_hi) = panel.chart.plot.getViewBox().viewRange()
    assert y_lo < figures.recon and figures.recon + 10.0 < y_hi
