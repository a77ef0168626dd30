"""Help ▸ Tour of the article, walked end to end on the real window with real training."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.gui.slots import Slot
from latentlab.gui.tour import COLLAPSE_BETA, TOUR

TIMEOUT = 60_000


def test_the_tour_runs_end_to_end(qtbot, window) -> None:
    window.menus.actions["tour"].trigger()
    tour = window.tour
    assert tour is not None and tour.isVisible()
    assert tour.index == 0 and 5 <= len(TOUR) <= 7
    assert not tour.back_button.isEnabled()
    mp = window.panels["map"]
    # 1: both maps, the decoded manifold on, the measured gap figures cited
    assert window.session.map_mode == "both" and mp.manifold_action.isChecked()
    assert "64.3–82.6 %" in tour.text.text() and "0–0.5 %" in tour.text.text()

    # 2: an interpolation from the first 3 to the first 7
    tour.next_button.click()
    labels = window.session.dataset.labels
    interpolation = window.panels["interpolation"]
    assert interpolation.endpoint_source("a") == ("image", int(np.flatnonzero(labels == 3)[0]))
    assert interpolation.endpoint_source("b") == ("image", int(np.flatnonzero(labels == 7)[0]))
    assert window.docks["interpolation"].isVisible()

    # 3: the trade-off panel
    tour.next_button.click()
    assert window.docks["tradeoff"].isVisible() and window.session.map_mode == "vae"

    # 4: collapse at β = 4 from scratch: the map shows it
    with qtbot.waitSignal(window.session.runFinished, timeout=TIMEOUT):
        tour.next_button.click()
    qtbot.waitUntil(lambda: mp.banner_text != "", timeout=TIMEOUT)
    assert window.session.history("vae")[-1].beta == pytest.approx(COLLAPSE_BETA)
    assert mp.prior_scale_action.isChecked()
    assert "with or without KL warm-up" in tour.text.text()

    # 5: back to the pretrained β = 1 VAE; generations at T = 0.5
    tour.next_button.click()
    qtbot.waitUntil(lambda: mp.banner_text == "", timeout=TIMEOUT)
    assert window.session.history("vae")[-1].beta == pytest.approx(1.0)
    assert window.panels["gallery"].temperature == pytest.approx(0.5)
    assert not mp.prior_scale_action.isChecked()

    # 6: a drawing, encoded and marked on both maps
    tour.next_button.click()
    assert window.session.drawing is not None
    assert all(mp.maps[slot].drawing_marker.isVisible() for slot in Slot)
    assert not tour.next_button.isEnabled() and tour.index == len(TOUR) - 1
    tour.back_button.click()
    assert tour.index == len(TOUR) - 2
    tour.close()
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=TIMEOUT)
