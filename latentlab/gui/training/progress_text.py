"""What the progress bar says about a run: its state and where each of its slots stands.

One function for every state, so the bar never describes a state the run has left (a
finished run does not say "training …", a paused one does not count down).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .controller import Progress, TrainingState


def format_duration(seconds: float) -> str:
    """``m:ss``."""
    minutes, rest = divmod(max(0, round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def describe_run(p: Progress, state: TrainingState, titles: Mapping[str, str], *,
                 purpose: str = "", model_epoch: int | None = None) -> str:
    """The bar's text for run ``p`` in ``state``, e.g. "training: VAE 120/300 ·
    Autoencoder 118/300 · 0:12 left" or "trained: VAE 300/300 · Autoencoder 300/300"
    (each slot's epoch of its run's epochs; "trained" once the job has done its part,
    which for Step is one more epoch).

    ``titles`` names the slots; ``purpose`` ("β = 2.00") says why the run was started;
    ``model_epoch`` is the model's own epoch count (pretrained history and earlier runs
    included) of a one-slot run, shown when it differs from the run's so the bar agrees
    with the curves and the figures line.
    """
    parts = [f"{titles[slot]} {where.epoch}/{where.run_epochs}"
             for slot, where in p.slots.items()]
    if len(p.slots) == 1 and model_epoch is not None:
        (where,) = p.slots.values()
        if model_epoch != where.epoch:
            parts[0] += f" (epoch {model_epoch})"
    complete = all(where.epoch >= where.target for where in p.slots.values())
    tail = ""
    if complete and (p.final or state is TrainingState.FINISHED):
        head = "trained"
    elif state is TrainingState.PAUSED:
        head = "paused"
    elif p.final or state is not TrainingState.RUNNING:
        head = "stopped"  # the state that says why (paused, diverged, failed) follows
    else:
        head = "training"
        done, total = p.epochs_done, p.epochs_total
        left = p.elapsed / done * (total - done) if done > 0 else math.nan
        if math.isfinite(left):
            tail = f" · {format_duration(left)} left"
    why = f" ({purpose})" if purpose else ""
    return f"{head}{why}: {' · '.join(parts)}{tail}"


def bar_values(p: Progress) -> tuple[int, int]:
    """(value, maximum) of the bar: every slot's epochs against every slot's target."""
    total = sum(where.target for where in p.slots.values())
    done = sum(min(where.epoch, where.target) for where in p.slots.values())
    return done, max(total, 1)


__all__ = ["bar_values", "describe_run", "format_duration"]
