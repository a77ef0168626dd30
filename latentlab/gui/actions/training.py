"""Training commands: Start/Pause/Step/Reset, a settled β, the first run and the shipped
pretrained models, as one small class of (session, controller), testable without a window.

The commands tell the controller what to train and the session what was asked for; the
controller's results reach the session by themselves (:meth:`LabSession.follow`). What the
window says about a run (status bar, the permanent state word) is said through the session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from PySide6.QtCore import QObject, QTimer, Signal

from latentlab.core import Model, ModelFileError, TrainConfig, load_model
from latentlab.paths import resource_path

from ..session import LabSession
from ..slots import BOTH, SLOT_KINDS, SLOT_TITLES, Slot
from ..training.controller import Progress, TrainingController, TrainingState

log = logging.getLogger(__name__)

STATE_WORDS = {
    TrainingState.IDLE: "not trained",
    TrainingState.RUNNING: "training…",
    TrainingState.PAUSED: "paused",
    TrainingState.FINISHED: "finished",
    TrainingState.DIVERGED: "diverged",
}


def adopt_model(session: LabSession, controller: TrainingController, slot: str, model: Model,
                config: TrainConfig, history: Iterable) -> None:
    """Use an already trained ``model`` in ``slot``: shown by the session, and the weights
    the controller trains on from."""
    controller.adopt(slot, model, config)
    session.adopt(slot, model, config, list(history))


class TrainingCommands(QObject):
    """Every training command of the window. Signals: ``firstTrainedFrame()`` — the VAE map
    shows a trained model for the first time (after its repaint)."""

    firstTrainedFrame = Signal()

    def __init__(self, session: LabSession, controller: TrainingController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.controller = controller
        self.startup_job: int | None = None
        self._first_frame_sent = False
        self.pretrained_shown = False
        self.shutting_down = False
        controller.updated.connect(self._check_first_frame)  # after the session stored it
        controller.stateChanged.connect(self._on_state)
        controller.diverged.connect(self._on_diverged)
        controller.failed.connect(self._on_failed)
        controller.jobFinished.connect(self._on_job_finished)
        session.betaSettled.connect(self.retrain_with_beta)
        session.settingsChanged.connect(
            lambda: controller.set_epochs_per_second(session.settings.epochs_per_second))

    # -- the first frame -----------------------------------------------------------------
    def load_pretrained(self) -> list[Slot]:
        """Show the shipped pretrained models; return the slots that could not be loaded.

        A pretrained model is only used when the bundled digits are the data and its
        architecture matches the (possibly restored) training settings.
        """
        s = self.session
        ae_kind = s.config().model if s.primary_slot is Slot.AE else SLOT_KINDS[Slot.AE].value
        missing: list[Slot] = []
        problems: list[str] = []
        for slot, kind in ((Slot.VAE, SLOT_KINDS[Slot.VAE].value), (Slot.AE, ae_kind)):
            wanted = s.config(kind)
            try:
                if s.dataset.name != "digits":
                    raise ModelFileError("pretrained models are for the bundled digits")
                saved = load_model(resource_path(f"pretrained-{kind}.npz"))
                m = saved.model
                if (m.kind, m.latent_dim, m.hidden_dim, m.input_dim) != (
                        kind, wanted.latent_dim, wanted.hidden_dim, s.dataset.images.shape[1]):
                    raise ModelFileError("it does not match the current settings")
            except (FileNotFoundError, ModelFileError) as exc:
                missing.append(slot)
                problems.append(f"{SLOT_TITLES[slot]}: {exc}")
                continue
            adopt_model(s, self.controller, slot, m, wanted, saved.history)
        if s.primary_slot not in missing:
            n = s.slot(s.primary_slot).epoch
            s.show_progress_text(f"pretrained: {n} epochs · Start trains on")
        if not missing:
            self.pretrained_shown = True
            s.say("Showing the pretrained VAE. Click anywhere on the map to decode that z; drag "
                  "β to retrain live; Reset then Start (Space) to watch a model learn from "
                  "scratch.", 15000)
        else:
            s.say("Training from scratch (" + "; ".join(problems) + ")", 8000)
        return missing

    def start_initial_training(self, slots: Iterable[str] | None = None) -> int | None:
        """Train ``slots`` (default both, together) from scratch, live."""
        chosen = None if slots is None else {Slot(x) for x in slots}
        configs = {x: cfg for x, cfg in self._configs(both=True).items()
                   if chosen is None or x in chosen}
        if not configs or self.shutting_down:
            return None
        job = self._train(configs, from_scratch=True)
        self.startup_job = job
        return job

    def _configs(self, both: bool) -> dict[Slot, TrainConfig]:
        """The config of the selected model's slot and, with ``both``, of the other slot
        after it: the same settings for the kind that slot holds."""
        s = self.session
        primary = s.primary_slot
        configs = {primary: s.config()}
        if both:
            other = Slot.AE if primary is Slot.VAE else Slot.VAE
            configs[other] = s.config(s.slot(other).kind or SLOT_KINDS[other])
        return configs

    @property
    def side_by_side(self) -> bool:
        """Both maps are shown: Start, Resume and Step train both models together."""
        return self.session.map_mode == BOTH

    def forget_startup(self) -> None:
        """A new data set: the first run starts afresh."""
        self.startup_job = None

    def _check_first_frame(self, p: Progress) -> None:
        vae = self.controller.config(Slot.VAE)
        if (p.job_id == self.startup_job and not self._first_frame_sent
                and self.session.history(Slot.VAE) and vae is not None
                and self.controller.epoch(Slot.VAE) >= vae.epochs):
            self.emit_first_frame_after_paint()

    def emit_first_frame_after_paint(self) -> None:
        if self._first_frame_sent:
            return
        self._first_frame_sent = True
        # The map repaints in the next turn of the event loop; report after it.
        QTimer.singleShot(0, self.firstTrainedFrame.emit)

    # -- Start, Pause, Step, Reset, β ----------------------------------------------------
    def toggle(self) -> None:
        """Space: pause a running job, otherwise start or resume the selected model."""
        if self.controller.running:
            self.controller.pause()
            self.session.say("Pausing…")
        else:
            self.resume()

    def pause(self) -> None:
        if self.controller.running:
            self.controller.pause()

    def resume(self) -> None:
        if not self.controller.running:
            self._train(self._configs(both=self.side_by_side))

    def step(self) -> None:
        configs = self._configs(both=self.side_by_side)
        job = self.controller.step({str(k): v for k, v in configs.items()})
        self._after_launch(job, configs, "one more epoch")

    def reset(self) -> None:
        s = self.session
        slot = s.primary_slot
        s.cancel_pending_beta()
        self.controller.reset(slot)
        s.clear_slot(slot)
        s.show_progress_text("not started", complete=False)
        s.say(f"{s.slot_title(slot)} reset — press Start to train it from fresh weights", 5000)

    def retrain_with_beta(self, beta: float) -> int | None:
        """A settled β: cancel whatever runs and retrain the VAE with it; a model that was
        training beside it (the autoencoder) goes on with its run in the same job."""
        s = self.session
        if s.primary_slot is not Slot.VAE or self.shutting_down:
            return None
        scratch = s.settings.beta_from_scratch
        how = "from scratch" if scratch else "from the current weights"
        beside = [x for x in self.controller.running_slots() if x != Slot.VAE]
        return self._train({Slot.VAE: s.config(SLOT_KINDS[Slot.VAE])}, from_scratch=scratch,
                           purpose=f"β = {beta:.2f}", carry_on=beside,
                           message=f"Retraining the VAE with β = {beta:.2f} {how}…")

    def _train(self, configs: dict[Slot, TrainConfig], *, from_scratch: bool = False,
               purpose: str = "", message: str = "", carry_on: Iterable[str] = ()) -> int:
        job = self.controller.train({str(k): v for k, v in configs.items()},
                                    from_scratch=from_scratch, carry_on=carry_on)
        self._after_launch(job, configs, purpose, message)
        return job

    def _after_launch(self, job: int, configs: dict[Slot, TrainConfig], purpose: str = "",
                      message: str = "") -> None:
        s = self.session
        for slot, cfg in configs.items():
            if slot in self.controller.fresh_slots:
                s.start_history(slot, cfg)
            else:
                s.set_config(slot, cfg)
        s.run_job, s.run_label = job, purpose
        slots = self.controller.running_slots()
        names = " and the ".join(s.slot_title(x) for x in slots)
        why = f" ({purpose})" if purpose else ""
        s.show_progress_text(f"training{why}: {' · '.join(s.slot_title(x) for x in slots)}…",
                             complete=False)
        s.set_state_text(STATE_WORDS[TrainingState.RUNNING])
        s.say(message or f"Training the {names}…")

    # -- what the controller reports -----------------------------------------------------
    def _on_state(self, state: TrainingState) -> None:
        """Keep both ends of the status bar in step: a state change replaces whatever
        message the previous state left behind."""
        s = self.session
        s.set_state_text(STATE_WORDS[state])
        if self.shutting_down:
            return
        if state is TrainingState.RUNNING:
            slots = self.controller.running_slots() or [s.primary_slot]
        else:  # the slots of the run that just stopped or ended
            p = s.last_progress
            slots = list(p.slots) if p is not None and p.job_id == s.run_job else [
                s.primary_slot]
        names = " and the ".join(s.slot_title(x) for x in slots)
        epochs = " and ".join(str(s.slot(x).epoch) for x in slots)
        at = f"epoch{'s' if len(slots) > 1 else ''} {epochs}"
        if state is TrainingState.RUNNING:
            s.say(f"Training the {names}…")
        elif state is TrainingState.PAUSED:
            s.say(f"Paused the {names} at {at} — Space or Resume continues", 8000)
        elif state is TrainingState.FINISHED:
            s.say(f"{names[0].upper()}{names[1:]} trained to {at}. Click the map to decode "
                  "any z; Space trains another run.", 10000)
        else:  # IDLE, DIVERGED (the divergence message follows from _on_diverged)
            s.say("")

    def _on_job_finished(self, job_id: int) -> None:
        c = self.controller
        if job_id != c.current_job_id and c.running:
            return
        if c.state is TrainingState.FINISHED:
            self.session.runFinished.emit(self.session.primary_slot.value)
            if job_id == self.startup_job:
                self.session.say("Trained. Click anywhere on the map to decode that z; drag β "
                                 "to retrain live; Space trains more.", 10000)

    def _on_diverged(self, slot: str, message: str) -> None:
        title = self.session.slot_title(slot)
        self.session.show_progress_text(f"stopped: the {title} diverged — see the status bar")
        self.session.say(f"{title} training stopped: {message}")

    def _on_failed(self, message: str) -> None:
        log.error("Training failed:\n%s", message)
        last = message.strip().splitlines()[-1] if message.strip() else "unknown error"
        self.session.show_progress_text("stopped: training failed — see the status bar")
        self.session.say(f"Training failed: {last}")

    def shutdown(self) -> None:
        """Stop training and wait for the worker thread (idempotent)."""
        if self.shutting_down:
            return
        self.shutting_down = True
        self.session.stop_pacing()
        self.controller.shutdown()


__all__ = ["STATE_WORDS", "TrainingCommands", "adopt_model"]
