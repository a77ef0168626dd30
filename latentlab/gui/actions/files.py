"""File commands: model files and data sets, as functions of the training commands (which
carry the session and the controller), testable without a window.

Each loader raises (``ModelFileError``, ``DataFileError``, or anything a hostile file
provokes) *before* it changes anything, so a failed open or import leaves the data and the
models as they were; the menu handlers in :mod:`.dialogs` catch it, log it and show it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from latentlab.core import (
    Dataset,
    ModelFileError,
    load_dataset,
    load_digits,
    load_model,
    save_model,
)

from ..image_folder import FolderImport, check_image_folder, load_image_folder
from ..slots import Slot, slot_of
from .background_work import run_in_background
from .training import TrainingCommands, adopt_model

#: The image sizes a folder import offers (None: 8×8 when every image is that small).
FOLDER_SIZES: dict[str, tuple[int, int] | None] = {
    "Automatic (8×8 if every image is that small, else 28×28)": None,
    "8×8": (8, 8), "16×16": (16, 16), "28×28": (28, 28), "32×32": (32, 32),
    "64×64": (64, 64),
}


#: The background worker's key and priority for reading a data file (before any analysis
#: of the data it replaces: that is cancelled when the new data arrives).
IMPORT_KEY = "import"
IMPORT_PRIORITY = 10


@functools.cache
def bundled_digits() -> Dataset:
    """The bundled 8×8 digits, loaded once (their pretrained models fit only them)."""
    return load_digits()


def data_description(ds: Dataset) -> str:
    """E.g. "squares: 600 images, 16×16, 2 labels"."""
    h, w = ds.image_shape
    labels = "no labels" if ds.labels is None else f"{len(np.unique(ds.labels))} labels"
    return f"{ds.name}: {len(ds):,} images, {h}×{w}, {labels}"


# -- model files ------------------------------------------------------------------------
def save_model_file(training: TrainingCommands, path: str | Path,
                    slot: str | None = None) -> Path:
    """Save ``slot``'s model (default: the primary one) with its settings and loss history
    (atomic: a failed save leaves any previous file intact)."""
    s = training.session
    slot = slot or s.primary_slot
    state = s.slot(slot)
    model = state.model
    if model is None:
        raise ValueError(f"the {s.slot_title(slot)} has no trained model to save")
    cfg = state.config
    if cfg is None or (cfg.model, cfg.latent_dim, cfg.hidden_dim) != (
            model.kind, model.latent_dim, model.hidden_dim):
        cfg = replace(s.config(model.kind), latent_dim=model.latent_dim,
                      hidden_dim=model.hidden_dim, codes=model.config.codes,
                      commitment=model.config.commitment, ema_decay=model.config.ema_decay)
    path = save_model(Path(path), model, cfg, state.history)
    s.say(f"Saved the {s.slot_title(slot)} ({state.epoch} epochs) to {path}", 6000)
    return path


def open_model_file(training: TrainingCommands, path: str | Path) -> None:
    """Load a model file: it replaces its slot's model (training stops), appears on the map
    and its settings fill the training panel. Raises :class:`ModelFileError` and changes
    nothing when the file is bad or does not fit the data."""
    s = training.session
    saved = load_model(path)
    model, cfg = saved.model, saved.config
    d = s.dataset.images.shape[1]
    if model.input_dim != d:
        raise ModelFileError(
            f"{path}: the model expects images of {model.input_dim} pixels; the data has {d}")
    cfg = replace(cfg, model=model.kind, latent_dim=model.latent_dim,
                  hidden_dim=model.hidden_dim)
    slot = slot_of(model.kind)
    s.cancel_pending_beta()
    s.set_settings(replace(s.settings, config=cfg))
    adopt_model(s, training.controller, slot, model, cfg, saved.history)
    if slot not in s.visible_slots():
        s.set_map_mode(slot)
    x, y = s.point(slot) or (0.0, 0.0)
    s.set_current_xy(x, y, slot)  # an exact gallery pick belonged to the old model
    n = len(saved.history)
    s.show_progress_text(f"{Path(path).name}: {n} epochs · Start trains on", complete=n > 0)
    s.set_state_text("model loaded")
    s.say(f"Opened {path}: {s.slot_title(slot)} with K = {model.latent_dim}, {n} epochs "
          "trained", 8000)


# -- data sets --------------------------------------------------------------------------
def switch_dataset(training: TrainingCommands, dataset: Dataset, *, train: bool = True) -> None:
    """Make ``dataset`` the data of every panel: stop training (a cancelled job's results
    never arrive), drop the models (they were fitted to the old data), then train a VAE and
    an autoencoder on the new data (the shipped pretrained models instead, for the bundled
    digits)."""
    if training.shutting_down:
        return
    s = training.session
    s.background.cancel(IMPORT_KEY)  # the data the user chose last wins
    s.set_busy("")
    s.cancel_pending_beta()
    training.controller.set_images(dataset.images)
    training.forget_startup()
    s.set_dataset(dataset)
    s.show_progress_text("not started", complete=False)
    missing = training.load_pretrained() if dataset is bundled_digits() else list(Slot)
    if train and missing:
        training.start_initial_training(missing)
    s.say(f"Data: {data_description(dataset)}"
          + (" — training a VAE and an autoencoder on it…" if train and missing else ""), 10000)


def import_data_file(training: TrainingCommands, path: str | Path) -> Dataset:
    """Load a data file (see :func:`latentlab.core.load_dataset`) and switch to it.
    Raises :class:`DataFileError` and changes nothing when the file is bad."""
    dataset = load_dataset(path)
    switch_dataset(training, dataset)
    return dataset


def import_data_file_in_background(training: TrainingCommands, path: str | Path,
                                   failed: Callable[[BaseException], object],
                                   done: Callable[[], object] | None = None) -> None:
    """Read a data file on the background worker (60,000 × 28×28 take ~1 s) and switch to
    it on the GUI thread. A bad file: ``failed(exc)`` with the :class:`DataFileError` (or
    whatever the file provoked) and nothing changes; a good one: ``done()`` after the
    switch."""

    def arrived(dataset: Dataset) -> None:
        switch_dataset(training, dataset)
        if done is not None:
            done()

    run_in_background(training.session, IMPORT_KEY, IMPORT_PRIORITY,
                      f"Importing {Path(path).name}…", lambda: load_dataset(path),
                      arrived, failed)


def check_image_folder_in_background(training: TrainingCommands, folder: str | Path,
                                     found: Callable[[int], object],
                                     failed: Callable[[BaseException], object]) -> None:
    """Count the images of ``folder`` on the background worker (a folder of 60,000 files
    takes a directory walk): ``found(count)``, or ``failed(exc)`` with the
    :class:`DataFileError` when there is nothing to import."""
    run_in_background(training.session, IMPORT_KEY, IMPORT_PRIORITY,
                      f"Looking for images in {Path(folder).name}…",
                      lambda: check_image_folder(folder), found, failed)


def import_image_folder_in_background(training: TrainingCommands, folder: str | Path,
                                      size: tuple[int, int] | None,
                                      failed: Callable[[BaseException], object],
                                      done: Callable[[], object] | None = None) -> None:
    """Read a folder of PNG/JPEG images (see :mod:`..image_folder`) on the background
    worker and switch to it on the GUI thread, saying how many files were unreadable.
    Nothing usable: ``failed(exc)`` with the :class:`DataFileError`, and nothing changes."""

    def arrived(result: FolderImport) -> None:
        switch_dataset(training, result.dataset)
        if result.skipped:
            n = len(result.skipped)
            training.session.say(f"Data: {data_description(result.dataset)} — skipped {n} "
                                 f"unreadable file{'s' if n != 1 else ''}", 15000)
        if done is not None:
            done()

    run_in_background(training.session, IMPORT_KEY, IMPORT_PRIORITY,
                      f"Importing the images of {Path(folder).name}…",
                      lambda: load_image_folder(folder, size), arrived, failed)


def use_bundled_digits(training: TrainingCommands) -> None:
    """Go back to the bundled 8×8 digits (and their pretrained models)."""
    switch_dataset(training, bundled_digits())


__all__ = ["FOLDER_SIZES", "IMPORT_KEY", "bundled_digits", "check_image_folder_in_background",
           "data_description", "import_data_file", "import_data_file_in_background",
           "import_image_folder_in_background", "open_model_file", "save_model_file",
           "switch_dataset", "use_bundled_digits"]
