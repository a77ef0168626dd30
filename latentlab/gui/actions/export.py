"""Data exports that need no widget: the latent codes of the data set as CSV.

(Pictures — the map, the curves, the gallery, the interpolation strip — are drawn by their
panels; the window hands each panel's writer to :func:`.dialogs.export_dialog`.)

The window writes the codes on the background worker (:func:`export_latent_codes_in_background`:
at 60,000 images, encoding and formatting them take a second or more); the CLI, which has
no window to keep live, writes them at once (:func:`export_latent_codes`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from latentlab.core import Model
from latentlab.core.analysis import encode_in_chunks
from latentlab.core.io import atomic_write_text

from ..analysis import Codes
from ..session import LabSession
from ..slots import SLOT_TITLES
from .background_work import run_in_background

#: The background worker's key and priority for writing the codes: the user waits for it.
EXPORT_KEY = "export:codes"
EXPORT_PRIORITY = 10


def _model_to_export(session: LabSession, slot: str | None) -> Model:
    """``slot``'s model (default: the shown map's); ValueError when it has none."""
    slot = slot or session.export_slot()
    model = session.model(slot)
    if model is None:
        raise ValueError(f"the {SLOT_TITLES[slot]} has no trained model to encode with")
    return model


def write_latent_codes(path: str | Path, codes: Codes, labels: np.ndarray | None) -> Path:
    """Write ``codes`` of every image as CSV: ``index,label,mu_1..mu_K`` (``z_1..z_K`` for
    an autoencoder), then ``logvar_1..logvar_K`` for a VAE. The file is replaced
    atomically. Any thread."""
    k = codes.mu.shape[1]
    stem = "mu" if codes.log_var is not None else "z"
    header = ["index", "label", *(f"{stem}_{i + 1}" for i in range(k))]
    columns = [codes.mu]
    if codes.log_var is not None:
        header += [f"logvar_{i + 1}" for i in range(k)]
        columns.append(codes.log_var)
    values = np.concatenate(columns, axis=1)
    lines = [",".join(header)]
    for i, row in enumerate(values):
        label = "" if labels is None else str(int(labels[i]))
        lines.append(f"{i},{label}," + ",".join(f"{v:.9g}" for v in row))
    path = Path(path)
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def export_latent_codes(session: LabSession, path: str | Path,
                        slot: str | None = None) -> Path:
    """Write every image's latent code under ``slot``'s model (default: the shown map's)
    (:func:`write_latent_codes`), at once on the calling thread."""
    model = _model_to_export(session, slot)
    path = write_latent_codes(path, session.analysis.codes_now(model), session.dataset.labels)
    session.say(f"Saved {len(session.dataset):,} latent codes to {path}", 5000)
    return path


def export_latent_codes_in_background(session: LabSession, path: str | Path,
                                      failed: Callable[[BaseException], object],
                                      slot: str | None = None) -> None:
    """Write the codes as :func:`export_latent_codes` does, on the background worker,
    while the session says it is busy saving; then say so, or ``failed(exc)`` (the old
    file, if any, is left as it was). Raises ValueError at once when the slot has no
    model."""
    model = _model_to_export(session, slot)
    cached = session.analysis.cached_codes(model)  # the map's, when it has them
    images, labels = session.dataset.images, session.dataset.labels

    def write() -> Path:
        codes = cached if cached is not None else Codes.of(*encode_in_chunks(model, images))
        return write_latent_codes(path, codes, labels)

    def arrived(written: Path) -> None:
        session.say(f"Saved {len(images):,} latent codes to {written}", 5000)

    run_in_background(session, EXPORT_KEY, EXPORT_PRIORITY,
                      f"Saving the latent codes to {Path(path).name}…", write, arrived, failed)


__all__ = ["EXPORT_KEY", "export_latent_codes", "export_latent_codes_in_background",
           "write_latent_codes"]
