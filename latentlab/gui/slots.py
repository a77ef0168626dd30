"""The window's vocabulary: model slots and model kinds, each with one table of titles.

A *slot* is a place in the window for one model: its map, its decode row, its history.
There are two: the VAE's and the autoencoder's (which holds an AE or a linear AE).
Model *kinds* are the core's: until ``latentlab.core.registry`` lands, :class:`Kind`
mirrors ``latentlab.core.MODEL_KINDS`` here, so the GUI spells every kind in this one place.
"""

from __future__ import annotations

import enum


class _Name(str, enum.Enum):
    """A ``str`` enum that prints as its value ("vae", not "Kind.VAE")."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Kind(_Name):
    """A model kind, as the core's ``TrainConfig.model`` spells it."""

    VAE = "vae"
    AE = "ae"
    LINEAR = "linear"


#: Display names of the kinds, in the order the training panel offers them.
KIND_TITLES: dict[str, str] = {Kind.VAE: "VAE", Kind.AE: "Autoencoder", Kind.LINEAR: "Linear AE"}


class Slot(_Name):
    """A model slot of the window (a ``str``, so ``"vae"`` looks it up too)."""

    VAE = "vae"
    AE = "ae"


SLOT_TITLES: dict[str, str] = {Slot.VAE: "VAE", Slot.AE: "Autoencoder"}

#: The latent map's third mode besides one slot alone: both maps side by side.
BOTH = "both"
MAP_MODES = (Slot.VAE.value, Slot.AE.value, BOTH)


def slot_of(kind: str) -> Slot:
    """The slot a model kind belongs to: the VAE's, or the autoencoder's (AE, linear AE)."""
    return Slot.VAE if kind == Kind.VAE else Slot.AE


def is_variational(kind: str) -> bool:
    return kind == Kind.VAE


__all__ = ["BOTH", "KIND_TITLES", "MAP_MODES", "SLOT_TITLES", "Kind", "Slot", "is_variational",
           "slot_of"]
