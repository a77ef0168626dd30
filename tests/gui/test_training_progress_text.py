"""The progress bar's text in every state, from the run's own figures."""

from __future__ import annotations

from latentlab.gui.training.controller import TrainingState
from latentlab.gui.training.jobs import Progress, SlotProgress
from latentlab.gui.training.progress_text import bar_values, describe_run

TITLES = {"vae": "VAE", "ae": "Autoencoder"}


def _progress(vae: int, ae: int, *, final: bool = False, target: int = 300,
              start: int = 0) -> Progress:
    slots = {"vae": SlotProgress(vae, target, start, 300), "ae": SlotProgress(ae, target, start,
                                                                            300)}
    return Progress(job_id=1, models={}, reports={}, slots=slots,
                    first_report={"vae": 0, "ae": 0}, elapsed=12.0, final=final)


def test_each_state_says_what_is_happening_to_each_slot() -> None:
    running = _progress(120, 118)
    # 238 epochs in 12 s, 362 to go: 18 s left
    assert describe_run(running, TrainingState.RUNNING, TITLES) == (
        "training: VAE 120/300 · Autoencoder 118/300 · 0:18 left")
    assert describe_run(running, TrainingState.PAUSED, TITLES) == (
        "paused: VAE 120/300 · Autoencoder 118/300")
    stopped = _progress(120, 118, final=True)  # the last frame of a run stopped part-way
    assert describe_run(stopped, TrainingState.RUNNING, TITLES) == (
        "stopped: VAE 120/300 · Autoencoder 118/300")
    done = _progress(300, 300, final=True)
    for state in (TrainingState.RUNNING, TrainingState.FINISHED):
        assert describe_run(done, state, TITLES, purpose="β = 2.00") == (
            "trained (β = 2.00): VAE 300/300 · Autoencoder 300/300")
    assert bar_values(running) == (238, 600) and bar_values(done) == (600, 600)


def test_one_slot_names_the_models_own_epoch_when_it_differs() -> None:
    p = Progress(job_id=1, models={}, reports={}, slots={"vae": SlotProgress(3, 3, 0, 3)},
                 first_report={"vae": 0}, elapsed=1.0, final=True)
    assert describe_run(p, TrainingState.FINISHED, TITLES, model_epoch=203) == (
        "trained: VAE 3/3 (epoch 203)")
    assert describe_run(p, TrainingState.FINISHED, TITLES, model_epoch=3) == "trained: VAE 3/3"
