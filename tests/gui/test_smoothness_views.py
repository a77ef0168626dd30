"""The smoothness figures in the window: a caption under each latent map and a section of
the Diagnostics panel, measured on the background worker (core.smoothness), checked against
figures computed here independently on the session's own models."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest

from latentlab.core.pca import axes_plane
from latentlab.core.smoothness import Smoothness, measure_smoothness
from latentlab.gui.analysis import SMOOTHNESS_REFERENCE
from latentlab.gui.slots import BOTH, Slot

TIMEOUT = 60_000
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _measure(window, slot: str) -> Smoothness:
    """The figures of ``slot``'s model over its map's axes, measured here, on this thread."""
    model = window.session.model(slot)
    return measure_smoothness(model, window.session.dataset.images,
                              axes_plane(model.latent_dim, 0, 1),
                              max_reference=SMOOTHNESS_REFERENCE)


def _check_caption(text: str, figures: Smoothness) -> None:
    """The caption (in any form) prints the % off-manifold over the region and in its gaps
    (whole or one decimal), then the worst jump and, but in the tiny form, the mean one
    (3 significant digits)."""
    if not text.startswith("Off-manifold"):  # side by side each caption names its model
        title, text = text.split(" · ", 1)
        assert title in ("VAE", "Autoencoder"), title
    assert text.startswith("Off-manifold"), text
    numbers = [float(x) for x in _NUMBER.findall(text)]
    assert len(numbers) in (3, 4), text
    off, gaps, worst = numbers[:3]
    assert off == pytest.approx(100 * figures.off_share, abs=0.5)
    assert gaps == pytest.approx(100 * figures.off_share_in_gaps, abs=0.5)
    assert worst == pytest.approx(figures.change_max, rel=5e-3)
    if len(numbers) == 4:
        assert numbers[3] == pytest.approx(figures.change_mean, rel=5e-3)


def _show_diagnostics(window):
    dock = window.docks["diagnostics"]
    dock.show()
    dock.raise_()
    panel = window.panels["diagnostics"]
    panel.refresh()
    return panel.smoothness


def _measured_cells(table, slots) -> bool:
    cells = table.cells()
    return all(slot in cells and cells[slot][0].endswith("%") for slot in slots)


def _check_cells(cells: list[str], figures: Smoothness, epoch: int) -> None:
    off, gaps, gap_share, mean, worst, tau, at = cells
    for printed, share in ((off, figures.off_share), (gaps, figures.off_share_in_gaps),
                           (gap_share, figures.gap_share)):
        assert abs(float(printed.rstrip(" %")) - 100 * share) <= 0.051
    for printed, value, digits in ((mean, figures.change_mean, 2),
                                   (worst, figures.change_max, 2), (tau, figures.threshold, 3)):
        assert abs(float(printed) - value) <= 0.51 * 10 ** -digits
    assert at == str(epoch)


def test_captions_and_diagnostics_show_the_pretrained_models_figures(qtbot, window) -> None:
    panel = window.panels["map"]
    captions = panel.smoothness
    qtbot.waitUntil(lambda: captions.text("vae").startswith("Off-manifold"), timeout=TIMEOUT)
    assert captions.text("ae") == ""  # its map is not shown: nothing asked, nothing shown
    assert captions.watch.result("ae") is None
    vae = _measure(window, "vae")
    _check_caption(captions.text("vae"), vae)
    assert "epoch" not in captions.text("vae")  # the shown snapshot's own figures
    tip = captions.labels[Slot.VAE].toolTip()
    assert "60 × 60 grid over ±2σ" in tip and "95th percentile" in tip
    assert f"τ = {vae.threshold:.3f}" in tip and "all 1,797 images" in tip

    # Side by side: the autoencoder's map gets its own caption, beside the VAE's.
    window.session.set_map_mode(BOTH)
    qtbot.waitUntil(lambda: captions.text("ae").startswith("Autoencoder · Off-manifold"),
                    timeout=TIMEOUT)
    assert captions.text("vae").startswith("VAE · Off-manifold")
    ae = _measure(window, "ae")
    _check_caption(captions.text("ae"), ae)
    # Laid out as the maps are: one above the other in a tall dock, else side by side.
    vae_label, ae_label = captions.labels[Slot.VAE], captions.labels[Slot.AE]

    def in_order(stacked: bool) -> bool:
        vae, ae = vae_label.geometry(), ae_label.geometry()
        return vae.bottom() < ae.top() if stacked else vae.right() < ae.left()

    for size, stacked in (((800, 1000), True), ((1900, 700), False)):
        window.resize(*size)
        qtbot.waitUntil(lambda s=stacked: panel.figure.stacked is s and in_order(s))
    # The shipped models (docs/claims.md): the AE's gaps leave the data, the VAE's do not.
    assert ae.off_share_in_gaps > 0.5 > 0.1 > vae.off_share_in_gaps

    table = _show_diagnostics(window)
    qtbot.waitUntil(lambda: _measured_cells(table, (Slot.VAE, Slot.AE)), timeout=TIMEOUT)
    assert table.columns() == [Slot.VAE, Slot.AE]
    for slot, figures in ((Slot.VAE, vae), (Slot.AE, ae)):
        _check_cells(table.cells()[slot], figures, window.session.slot(slot).epoch)
    method = table.method.text()
    assert "60 × 60 decodes over ±2σ of the codes along z₁ and z₂" in method
    assert "95th percentile" in method and "all 1,797 images" in method
    assert "60 × 60 grid over ±2σ of the codes along z₁ and z₂" in table.method.toolTip()

    threads = window.session.analysis.worker_threads["smoothness"]
    assert threads and threading.get_ident() not in threads  # measured on the worker


def test_a_run_of_both_models_is_measured_once_it_ends(
        qtbot, make_window) -> None:
    window = make_window(pretrained=False)
    session = window.session
    session.set_map_mode(BOTH)
    table = _show_diagnostics(window)
    window.panels["training"].apply_settings({"epochs": 6, "warmup_epochs": 0})
    window.training.start_initial_training()  # the VAE, then the autoencoder, from scratch
    qtbot.waitUntil(lambda: session.training_state.value == "finished", timeout=TIMEOUT)
    captions = window.panels["map"].smoothness

    def final(slot: str) -> bool:
        result = captions.watch.result(slot)
        return (result is not None and result.model is session.model(slot)
                and not captions.watch.pending(slot))

    qtbot.waitUntil(lambda: final("vae") and final("ae"), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: _measured_cells(table, (Slot.VAE, Slot.AE))
                    and table.cells()[Slot.AE][-1] == "6", timeout=TIMEOUT)
    for slot in Slot:
        figures = _measure(window, slot)
        assert "epoch" not in captions.text(slot)
        _check_caption(captions.text(slot), figures)
        shown = captions.watch.result(slot).measured.figures
        assert shown is not None
        # The worker measured what this thread measures on the same snapshot.
        for name, value in figures.figures().items():
            assert shown.figures()[name] == pytest.approx(value, nan_ok=True), name
        np.testing.assert_array_equal(shown.off_manifold, figures.off_manifold)
        assert 0.0 <= shown.off_share <= 1.0 and 0.0 <= shown.gap_share <= 1.0
        assert 0.0 <= shown.change_mean <= shown.change_max
        _check_cells(table.cells()[slot], figures, 6)


def test_a_model_without_a_region_says_so(qtbot, window) -> None:
    """Every weight 0: every image gets the code 0, so the codes span no region."""
    session = window.session
    model = session.model(Slot.VAE).copy()
    model.load_weights(np.zeros_like(model.weights))
    session.adopt(Slot.VAE, model, session.slot(Slot.VAE).config, [])
    captions = window.panels["map"].smoothness
    qtbot.waitUntil(lambda: captions.text("vae").startswith("Smoothness not measured"),
                    timeout=TIMEOUT)
    assert "do not vary along both axes" in captions.text("vae")
    table = _show_diagnostics(window)
    qtbot.waitUntil(lambda: table.cells().get(Slot.VAE, [""])[0] == "not measured",
                    timeout=TIMEOUT)
    assert "VAE: the codes do not vary" in table.method.text()



def test_the_caption_names_the_epoch_of_an_older_snapshot_and_fits_a_narrow_map(
        qtbot, window) -> None:
    """The texts of the window's own measured figures: a caption of a snapshot the map no
    longer shows names its epoch; the compact form keeps every figure."""
    from latentlab.gui.widgets.smoothness import CAPTION_FORMS, caption_text

    watch = window.panels["map"].smoothness.watch
    qtbot.waitUntil(lambda: watch.result("vae") is not None, timeout=TIMEOUT)
    result = watch.result("vae")
    shown = window.session.model("vae")
    newer = shown.copy()  # what the map would show while the worker measures it
    assert "epoch" not in caption_text(result, False, shown)
    assert caption_text(result, True, newer).endswith(f" · epoch {result.epoch}")
    forms = [caption_text(result, False, shown, form=form) for form in CAPTION_FORMS]
    widths = [max(map(len, text.split("\n"))) for text in forms]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == len(widths)
    for text in forms:
        assert len(text.split("\n")) == 2
        assert _NUMBER.findall(text)[:3] == _NUMBER.findall(forms[0])[:3]  # off, gaps, worst
    for text in forms:
        _check_caption(text, result.measured.figures)
