"""Data exports that need no widget: the latent codes of the data set as CSV.

(Pictures — the map, the curves, the gallery, the interpolation strip — are drawn by their
panels; the window hands each panel's writer to :func:`.dialogs.export_dialog`.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentlab.core.io import atomic_write_text

from ..session import LabSession
from ..slots import SLOT_TITLES


def export_latent_codes(session: LabSession, path: str | Path,
                        slot: str | None = None) -> Path:
    """Write every image's latent code under ``slot``'s model (default: the shown map's) as
    CSV: ``index,label,mu_1..mu_K`` (``z_1..z_K`` for an autoencoder), then
    ``logvar_1..logvar_K`` for a VAE. The file is replaced atomically."""
    slot = slot or session.export_slot()
    model = session.model(slot)
    if model is None:
        raise ValueError(f"the {SLOT_TITLES[slot]} has no trained model to encode with")
    codes = session.analysis.codes_now(model)
    k = codes.mu.shape[1]
    stem = "mu" if codes.log_var is not None else "z"
    header = ["index", "label", *(f"{stem}_{i + 1}" for i in range(k))]
    columns = [codes.mu]
    if codes.log_var is not None:
        header += [f"logvar_{i + 1}" for i in range(k)]
        columns.append(codes.log_var)
    values = np.concatenate(columns, axis=1)
    labels = session.dataset.labels
    lines = [",".join(header)]
    for i, row in enumerate(values):
        label = "" if labels is None else str(int(labels[i]))
        lines.append(f"{i},{label}," + ",".join(f"{v:.9g}" for v in row))
    path = Path(path)
    atomic_write_text(path, "\n".join(lines) + "\n")
    session.say(f"Saved {len(values)} latent codes to {path}", 5000)
    return path


__all__ = ["export_latent_codes"]
