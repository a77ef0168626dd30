"""Every computation over the whole data set that the window needs, in one place.

Encoding the data for the map, evaluating a model, its latent diagnostics, PCA and the
nearest-image search all cost time proportional to the number of images N. They live here,
behind :class:`DataAnalysis`, and nowhere in the panels: the panels ask the session, the
session asks this object, so moving the work to a worker thread is a change of this module
and its caller alone. Results are cached per model snapshot (snapshots are never changed in
place: the controller sends fresh copies), so several panels asking about one snapshot cost
one computation.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from latentlab.core import Dataset, LossReport, Model
from latentlab.core.diagnostics import LatentDiagnostics, diagnose_latents
from latentlab.core.pca import pca_reconstruction_mse
from latentlab.core.vqvae import VQVAE, CodeUsage


@dataclass(frozen=True)
class Codes:
    """The encoding of every image: ``mu: (N, K)``; ``log_var: (N, K)`` for a VAE, else None."""

    mu: np.ndarray
    log_var: np.ndarray | None


@dataclass(frozen=True)
class CodeAssignment:
    """A VQ-VAE on the whole data set: ``codes: (N,)``, the code each image snaps to, and
    ``usage`` (counts per code, perplexity, used codes)."""

    codes: np.ndarray
    usage: CodeUsage


@dataclass(frozen=True)
class ModelDiagnostics:
    """A model on the whole data set: per-pixel reconstruction MSE of decode(μ), PCA's MSE
    with as many components as the model has latent dims, and (VAE only) the per-dim KL
    and active units."""

    model_mse: float
    pca_mse: float
    latents: LatentDiagnostics | None


@dataclass(frozen=True)
class Nearest:
    """The training image nearest to a decoding in pixel space."""

    index: int
    distance: float


class DataAnalysis:
    """Whole-data computations on one data set (GUI thread for now; see the module doc)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        images = dataset.images
        self._sq_norms = np.einsum("ij,ij->i", images, images)  # (N,)
        self._pca: dict[int, float] = {}
        self._codes: weakref.WeakKeyDictionary[Model, Codes] = weakref.WeakKeyDictionary()
        self._evaluations: weakref.WeakKeyDictionary[Model, dict[float, LossReport]] = \
            weakref.WeakKeyDictionary()
        self._diagnostics: weakref.WeakKeyDictionary[Model, ModelDiagnostics] = \
            weakref.WeakKeyDictionary()
        self._assignments: weakref.WeakKeyDictionary[Model, CodeAssignment] = \
            weakref.WeakKeyDictionary()
        self.encodes = 0  # whole-data encodings so far (tests and the benchmark)

    def fits(self, model: Model) -> bool:
        """True when ``model`` takes images of this data set's size."""
        return model.input_dim == self.dataset.images.shape[1]

    def codes(self, model: Model) -> Codes:
        """Encode every image with ``model`` (cached per snapshot)."""
        found = self._codes.get(model)
        if found is None:
            mu, log_var = model.encode(self.dataset.images)
            found = self._codes[model] = Codes(mu, log_var)
            self.encodes += 1
        return found

    def code_assignment(self, model: VQVAE) -> CodeAssignment:
        """The code every image snaps to under a VQ-VAE, and their usage (cached per
        snapshot)."""
        found = self._assignments.get(model)
        if found is None:
            codes = model.quantise(self.codes(model).mu)
            found = CodeAssignment(codes, CodeUsage.from_codes(codes, model.n_codes))
            self._assignments[model] = found
        return found

    def evaluate(self, model: Model, beta: float) -> LossReport:
        """``model.evaluate`` on every image at ``beta`` (the mean encoding, no sampling)."""
        per_beta = self._evaluations.setdefault(model, {})
        if beta not in per_beta:
            per_beta[beta] = model.evaluate(self.dataset.images, beta=beta)
        return per_beta[beta]

    def pca_mse(self, k: int) -> float:
        """PCA's per-pixel reconstruction MSE with ``k`` components (cached per data set)."""
        if k not in self._pca:
            self._pca[k] = pca_reconstruction_mse(self.dataset.images, k)
        return self._pca[k]

    def diagnose(self, model: Model) -> ModelDiagnostics:
        """Reconstruction error against PCA's and, for a VAE, per-dim KL and active units."""
        found = self._diagnostics.get(model)
        if found is None:
            codes = self.codes(model)
            images = self.dataset.images
            mse = float(np.mean((model.decode(codes.mu) - images) ** 2, dtype=np.float64))
            latents = None if codes.log_var is None else diagnose_latents(codes.mu,
                                                                           codes.log_var)
            found = ModelDiagnostics(mse, self.pca_mse(int(model.latent_dim)), latents)
            self._diagnostics[model] = found
        return found

    def nearest(self, image: np.ndarray) -> Nearest:
        """The training image nearest to ``image: (D,)``: ||x||² − 2 x·y (+ ||y||²)."""
        d2 = self._sq_norms - 2.0 * (self.dataset.images @ image)
        i = int(np.argmin(d2))
        return Nearest(i, float(np.sqrt(max(0.0, float(d2[i]) + float(image @ image)))))


__all__ = ["CodeAssignment", "Codes", "DataAnalysis", "ModelDiagnostics", "Nearest"]
