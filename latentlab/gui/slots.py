"""The window's vocabulary: model slots, each with one table of titles, and which model
kinds (:class:`latentlab.core.registry.ModelKind`) the window trains in them.

A *slot* is a place in the window for one model: its map, its decode row, its history.
There are two: the VAE's and the autoencoder's (which holds an AE, a linear AE or a VQ-VAE,
the kinds without a KL). What a
kind *has* (a KL term, a PCA baseline, its display name) is asked of the core's registry;
the window never compares kind strings.
"""

from __future__ import annotations

import enum

from latentlab.core.registry import ModelKind


class Slot(str, enum.Enum):
    """A model slot of the window (a ``str``, so ``"vae"`` looks it up too)."""

    VAE = "vae"
    AE = "ae"

    def __str__(self) -> str:  # "vae", not "Slot.VAE", in messages and f-strings
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


SLOT_TITLES: dict[str, str] = {Slot.VAE: "VAE", Slot.AE: "Autoencoder"}
#: The kind a slot trains unless the training panel chose another for it.
SLOT_KINDS: dict[str, ModelKind] = {Slot.VAE: ModelKind.VAE, Slot.AE: ModelKind.AE}
#: The kinds the window trains, in the order the training panel offers them.
WINDOW_KINDS = (ModelKind.VAE, ModelKind.AE, ModelKind.LINEAR, ModelKind.VQVAE)

#: The latent map's third mode besides one slot alone: both maps side by side.
BOTH = "both"
MAP_MODES = (Slot.VAE.value, Slot.AE.value, BOTH)
#: How a map shows a latent of more than two dims: two chosen latent axes (the other dims
#: 0), or the codes' first two principal components (the other directions at their mean).
AXES_VIEW, PCA_VIEW = "axes", "pca"
MAP_VIEWS = (AXES_VIEW, PCA_VIEW)


def slot_of(kind: str) -> Slot:
    """The slot a model kind belongs to: the VAE's (a KL-regularised kind), or the
    autoencoder's (AE, linear AE, VQ-VAE)."""
    return Slot.VAE if ModelKind.parse(kind).has_kl else Slot.AE


def has_kl(kind: str) -> bool:
    """The kind's loss has a KL term (β matters; KL curves and rate-distortion points)."""
    return ModelKind.parse(kind).has_kl


def has_codebook(kind: str) -> bool:
    """The kind's latent snaps to a codebook (its settings, the Codebook panel)."""
    return ModelKind.parse(kind).has_codebook


__all__ = ["AXES_VIEW", "BOTH", "MAP_MODES", "MAP_VIEWS", "PCA_VIEW", "SLOT_KINDS",
           "SLOT_TITLES", "WINDOW_KINDS", "ModelKind", "Slot", "has_codebook", "has_kl",
           "slot_of"]
