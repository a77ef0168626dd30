"""One language for loss figures: every number says how it was measured.

The same VAE's loss reads differently depending on how it is measured — on the digits
the pretrained VAE's last epoch reports 22.10 / 2.50 / 24.59 (recon / KL / total) and its
evaluation at z = μ 21.10 / 2.52 / 23.62 (docs/claims.md). Every panel and the CLI label
their figures with one of these :class:`Measure` s, so the two are never confused:

* :data:`RUNNING` — what training reports: the mean over one epoch's minibatches while
  the weights change, z sampled from q(z|x), total at that epoch's β (a warm-up epoch's β
  is below the final one: :func:`totals_at` restates its total at the final β);
* :data:`AT_MU` — an evaluation of the finished weights on all images at z = μ;
* :data:`SAMPLED` — the same evaluation with z sampled from q(z|x), mean of 10 draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AT_MU", "JSON_FIELDS", "RUNNING", "SAMPLED", "VQ_JSON_FIELDS", "Measure",
           "totals_at"]


@dataclass(frozen=True)
class Measure:
    """``short``: a caption of a few words; ``long``: the full sentence for a tooltip or
    a file."""

    short: str
    long: str


RUNNING = Measure(
    "running mean during training, z sampled",
    "mean over the epoch's minibatches while training, z sampled from q(z|x), "
    "total at the epoch's β")
#: RUNNING for a deterministic model (an autoencoder samples nothing).
RUNNING_PLAIN = Measure(
    "running mean during training",
    "mean over the epoch's minibatches while training")
AT_MU = Measure(
    "evaluation at z = μ",
    "evaluation of the trained model on all images with z = μ, the encoder's output "
    "(no sampling)")
SAMPLED = Measure(
    "evaluation, z sampled",
    "evaluation of the trained model on all images with z sampled from q(z|x), "
    "mean of 10 draws")

#: What each figure of ``latentlab train --json`` is (the ``"measured"`` object).
_RECON = ("reconstruction loss (VAE, VQ-VAE: binary cross-entropy summed over an image's "
          "pixels; AE, linear: squared error per pixel)")
_VQ = "evaluation of the trained VQ-VAE on all images with z_e snapped to its nearest code"
_SMOOTHNESS = ("core.smoothness.measure_smoothness of the trained model with its defaults: "
               "grid x grid decodes over +-span_sigma sigma of every image's code along z1, z2 "
               "(the codes' PCA plane for K > 2); off_share / off_share_in_gaps: shares of "
               "decodes farther from every one of n_reference images than threshold, the "
               "percentile-th percentile of the reconstructions' distances, over the region / "
               "in its gap cells (farther than gap_radius sigma from every code; null: none); "
               "change_mean / change_max: distance between neighbouring decodes per sigma "
               "(docs/claims.md section 3); null for a 1-D latent")
JSON_FIELDS = {
    "recon": f"{_RECON}: {AT_MU.long}",
    "kl": f"KL(q(z|x) || N(0, I)) per image, 0 for a deterministic model: {AT_MU.long}",
    "total": f"recon + beta * kl: {AT_MU.long}",
    "mse": f"squared error per pixel: {AT_MU.long}",
    "recon_sampled": f"{_RECON}: {SAMPLED.long}",
    "total_sampled": f"recon + beta * kl: {SAMPLED.long}",
    "train_total": f"total of the last epoch: {RUNNING.long}",
    "pca_mse": "squared error per pixel of the best affine rank-K (PCA) reconstruction",
    "epochs_to_target": "first epoch (checked every 5) whose recon + beta * kl with z "
                        "sampled (one fixed draw of noise, all images) is at most target; "
                        "null if none or no target",
    "seconds_to_target": "training seconds up to epochs_to_target (the checks' evaluation "
                         "time excluded)",
    "smoothness": _SMOOTHNESS,
}
#: The same for a VQ-VAE, whose figures are at the snapped code and whose term beside the
#: reconstruction is the VQ loss.
VQ_JSON_FIELDS = {
    "recon": f"{_RECON}: {_VQ}",
    "vq_loss": f"codebook + commitment * (z_e − code)² per image (commitment alone with "
               f"ema_decay), the VQ-VAE's term in place of a KL: {_VQ}",
    "total": f"recon + vq_loss: {_VQ}",
    "mse": f"squared error per pixel: {_VQ}",
    "quantisation": f"squared distance from z_e to its code per image: {_VQ}",
    "perplexity": f"exp(entropy of the share of images per code): {_VQ}",
    "used_codes": f"codes at least one image snaps to: {_VQ}",
    "smoothness": f"{_SMOOTHNESS}; the decoder snaps each z to its nearest code",
    "dead_codes_reseeded": "codes no image chose in a training window of 32 × codes samples, "
                           "moved onto recent encoder outputs, counted over the whole run",
    "train_total": "total of the last epoch: mean over the epoch's minibatches while "
                   "training (recon + vq_loss)",
}


def totals_at(recon: np.ndarray, kl: np.ndarray, beta: float) -> np.ndarray:
    """``recon + beta * kl`` per epoch (``(E,)`` each → ``(E,)`` float64): a history's
    totals restated at one β, so warm-up epochs compare with the rest."""
    return np.asarray(recon, dtype=np.float64) + float(beta) * np.asarray(kl, dtype=np.float64)
