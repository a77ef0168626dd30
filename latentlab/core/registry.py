"""The model kinds LatentLab knows: one table of names, capabilities and builders.

Callers ask a kind what it *has* (``kind.has_kl``, ``kind.samples_noise``, …) and never
compare kind strings. :class:`ModelKind` is a ``str`` enum, so ``ModelKind.VAE == "vae"``
and a kind reads and writes as its plain value in JSON, CSV and command lines.

Adding a kind
-------------
1. Write its model class in its own module (e.g. ``latentlab/core/vqvae.py``): a
   :class:`~.models.Model` subclass whose ``_build`` sets ``encoder`` and ``decoder``
   (lists of :class:`~.layers.Layer`) and ``bottleneck``, the layer between them that owns
   the latent (a :class:`~.layers.Bottleneck`: what it does to the encoder output, the
   noise it draws, the regulariser it adds to the loss), and whose class attribute
   ``reconstruction`` is the loss on the decoder output. The generic
   :meth:`~.models.Model.train_step` then trains it; override only ``evaluate``,
   ``encode``/``decode`` and what the kind adds.
2. Add one member to :class:`ModelKind` and one :class:`KindInfo` row to ``_TABLE``
   naming that class as ``"module:Class"`` (imported on first build, so the model modules
   may import this one).
Nothing else dispatches on the kind: ``build_model``, ``ModelConfig``/``TrainConfig``
validation, the CLI's ``--model`` choices and the model-file checks all read this table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Model


class ModelKind(str, Enum):
    """A model kind; its value is the name used on the command line and in files."""

    AE = "ae"
    VAE = "vae"
    LINEAR = "linear"
    VQVAE = "vqvae"

    def __str__(self) -> str:  # "vae", not "ModelKind.VAE", in messages and f-strings
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def parse(cls, value: object) -> ModelKind:
        """``ModelKind`` of a kind or its string value; ``ValueError`` naming the choices."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"model kind must be one of {', '.join(MODEL_KINDS)}, "
                             f"not {value!r}") from None

    @property
    def info(self) -> KindInfo:
        return _TABLE[self]

    @property
    def display_name(self) -> str:
        """What the window and reports call it: "Autoencoder", "VAE", …"""
        return self.info.display_name

    @property
    def description(self) -> str:
        """One line for help texts."""
        return self.info.description

    @property
    def samples_noise(self) -> bool:
        """Training draws z ~ q(z|x) (the reparameterisation trick): the model encodes to
        a distribution, takes noise each step and reports a sampled figure too."""
        return self.info.samples_noise

    @property
    def has_kl(self) -> bool:
        """The loss has a KL term to a prior, weighted by β (and its warm-up)."""
        return self.info.has_kl

    @property
    def has_prior(self) -> bool:
        """``sample()`` draws from a distribution the model was trained towards (the VAE's
        N(0, I), the VQ-VAE's code usage); an autoencoder's latent has none."""
        return self.info.has_prior

    @property
    def regulariser_name(self) -> str | None:
        """What the second loss term is ("KL", "VQ loss"), ``None`` when there is none."""
        return self.info.regulariser_name

    @property
    def reconstruction_name(self) -> str:
        """The reconstruction loss: "BCE" summed over pixels or "MSE" per pixel."""
        return self.info.reconstruction_name

    @property
    def has_codebook(self) -> bool:
        """The latent snaps to a learned codebook (its size, commitment and EMA settings;
        code usage and perplexity to report)."""
        return self.info.has_codebook

    @property
    def pca_baseline(self) -> bool:
        """Its optimum spans the PCA subspace, so reports compare it with PCA."""
        return self.info.pca_baseline

    @property
    def stacks(self) -> bool:
        """Several models of this kind can train in one pass (:mod:`.stacked`)."""
        return self.info.stacks

    @property
    def model_class(self) -> type[Model]:
        module, _, name = self.info.model_class.partition(":")
        cls: type[Model] = getattr(importlib.import_module(module), name)
        return cls


@dataclass(frozen=True)
class KindInfo:
    """One row of the table: see the :class:`ModelKind` properties of the same names.
    ``model_class`` is ``"module:Class"``."""

    display_name: str
    description: str
    model_class: str
    reconstruction_name: str
    regulariser_name: str | None = None
    samples_noise: bool = False
    has_kl: bool = False
    has_prior: bool = False
    has_codebook: bool = False
    pca_baseline: bool = False
    stacks: bool = True


_TABLE: dict[ModelKind, KindInfo] = {
    ModelKind.AE: KindInfo(
        "Autoencoder", "autoencoder", "latentlab.core.models:Autoencoder", "MSE"),
    ModelKind.VAE: KindInfo(
        "VAE", "variational autoencoder", "latentlab.core.models:VAE", "BCE",
        regulariser_name="KL", samples_noise=True, has_kl=True, has_prior=True),
    ModelKind.LINEAR: KindInfo(
        "Linear AE", "linear autoencoder (compare with PCA)",
        "latentlab.core.models:LinearAutoencoder", "MSE", pca_baseline=True),
    ModelKind.VQVAE: KindInfo(
        "VQ-VAE", "vector-quantised VAE", "latentlab.core.vqvae:VQVAE", "BCE",
        regulariser_name="VQ loss", has_prior=True, has_codebook=True, stacks=False),
}

#: every kind's value, in table order (for argparse choices and file checks)
MODEL_KINDS: tuple[str, ...] = tuple(kind.value for kind in ModelKind)

__all__ = ["MODEL_KINDS", "KindInfo", "ModelKind"]
