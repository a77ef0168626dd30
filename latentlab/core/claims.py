"""The measured figures the app's texts cite, and those texts, in one place.

Every number here was measured by ``benchmarks/measure_claims.py`` on the bundled digits
with the app's defaults and is reported, with how it was measured, in docs/claims.md. A
text that cites a figure takes it from here, so the window, the CLI and the tests say
the same thing; the tests re-measure the cheap ones on really trained models.
"""

from __future__ import annotations

__all__ = [
    "AE_GAP_OFF_RANGE",
    "AE_REGION_ON_RANGE",
    "COLLAPSED_KL_MAX",
    "COLLAPSE_BETA_RANGE",
    "MAX_SAFE_BETA",
    "PRIOR_SCALE_SIGMA",
    "VAE_GAP_OFF_RANGE",
    "WARMUP_TOOLTIP",
    "collapse_advice",
    "collapse_banner",
]

#: Smallest β at which a 2-D VAE on the digits had no active unit, over seeds 0–2 and
#: warm-up 0, 10, 50 and 100 epochs: 3.0 at the lowest, 3.5 at the highest.
COLLAPSE_BETA_RANGE = (3.0, 3.5)
#: The largest β of the grid at which every dim of every run stayed active.
MAX_SAFE_BETA = 2.0
#: The largest KL per dim (nats) of an inactive dim in any measured run.
COLLAPSED_KL_MAX = 0.0052

#: Smoothness (core.smoothness, 60 × 60 grid over ±2σ of the codes), AE and VAE seeds 0–2
#: with the app's defaults, in %: off-manifold decodes in the gaps, AE and VAE, and the
#: share of the AE's whole grid that is on the manifold.
AE_GAP_OFF_RANGE = (64.3, 82.6)
VAE_GAP_OFF_RANGE = (0.0, 0.5)
AE_REGION_ON_RANGE = (70.5, 76.5)

#: The prior-scale view of a VAE's map: ±3.5σ of N(0, I) holds 99.95 % of each prior dim,
#: so codes that sit in the prior's middle read as collapsed, not as a normal scatter.
PRIOR_SCALE_SIGMA = 3.5

_LOW, _HIGH = COLLAPSE_BETA_RANGE

WARMUP_TOOLTIP = (
    "KL warm-up: β ramps linearly from 0 over this many epochs. Measured on the digits "
    "(2-D VAE): it lowers the final loss a little at β = 1 (by under 0.1) but does not "
    f"prevent posterior collapse — every run collapsed by β = {_HIGH:g} with warm-up 0, 10, "
    "50 or 100 epochs.")


def collapse_advice(beta: float | None = None) -> str:
    """What a user whose VAE collapsed should know, as measured (one paragraph)."""
    now = f" (now β = {beta:g})" if beta is not None else ""
    return (
        f"On the digits a 2-D VAE collapses once β reaches {_LOW:g}–{_HIGH:g}{now}, with or "
        "without KL warm-up, also when it starts from a model trained at β = 1, and with 4 "
        "or 8 latent dims: there the collapsed latent scores better on the objective, so "
        "warm-up, which only changes the path, cannot avoid it. What helped was a lower β: "
        f"at β ≤ {MAX_SAFE_BETA:g} every dim of every measured run stayed active.")


def collapse_banner(kl_max: float, beta: float | None = None) -> str:
    """The map's banner for a VAE with no active dim; ``kl_max``: its largest KL per dim."""
    now = f" at β = {beta:g}" if beta is not None else ""
    kl = "< 0.001" if kl_max < 0.001 else f"≤ {kl_max:.3f}"
    return (
        f"Posterior collapse{now}: no latent dim carries information (KL per dim {kl} "
        f"nats). Every image gets the same code and decodes to one blur. On the "
        f"digits this happened from β ≈ {_LOW:g}–{_HIGH:g}, with or without KL warm-up; "
        f"β ≤ {MAX_SAFE_BETA:g} kept every dim.")
