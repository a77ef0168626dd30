"""Measure the figures the app's texts cite (docs/claims.md), on the bundled digits.

    python benchmarks/measure_claims.py                  # everything (~5–10 min, 1 core)
    python benchmarks/measure_claims.py --only collapse  # one section
    python benchmarks/measure_claims.py --json out.json  # also write every figure

Sections:

* ``collapse``: 2-D VAEs (the app's defaults: hidden 32, Adam 1e-2 with cosine decay,
  batch 96, 250 epochs) over a grid of β, with KL warm-up 0, 10, 50 and 100 epochs, seeds
  0–2. After training:
  KL per dim and active units (Cov_x(μ_k) > 0.01) at z = μ, reconstruction at z = μ and
  the total at the final β. The collapse threshold of a run is the smallest β of the grid
  at which no unit is active.
* ``dims``: the same at β ∈ {3, 4, 5} for latent dims 2, 4 and 8 (warm-up 10).
* ``optimum``: is the collapsed latent where the objective wants to be at large β? VAEs
  trained at β = 1 (informative) go on training at β = 3.5 and 4 for 250 more epochs; and
  the objective at β = 4 (z sampled, mean of 10 draws) of the informative models trained
  at β = 3 beside the collapsed ones trained at β = 4.
* ``losses``: the shipped pretrained VAE's last epoch (running mean over the epoch's
  batches, z sampled, β of that epoch) beside its evaluation on all images at z = μ and
  with z sampled (mean of 10 draws).
* ``smoothness``: :func:`latentlab.core.smoothness.measure_smoothness` (60 × 60 grid over
  ±2σ of the codes) for the shipped pretrained AE and VAE and for AEs and VAEs trained
  with the app's defaults, seeds 0–2.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

import numpy as np

from latentlab.blas import limit_blas_threads
from latentlab.core import TrainConfig, Trainer, load_digits, load_model
from latentlab.core.diagnostics import diagnose_latents
from latentlab.core.smoothness import measure_smoothness
from latentlab.paths import resource_path

BETAS = (1.0, 2.0, 2.5, 3.0, 3.25, 3.5, 3.75, 4.0, 4.5, 5.0, 6.0)
WARMUPS = (0, 10, 50, 100)
SEEDS = (0, 1, 2)


def train(images: np.ndarray, **overrides: Any) -> Trainer:
    trainer = Trainer(TrainConfig(**overrides), images)
    for _ in trainer.train():
        pass
    return trainer


def latent_figures(trainer: Trainer, images: np.ndarray) -> dict[str, Any]:
    model, beta = trainer.model, trainer.config.beta
    mu, log_var = model.encode(images)
    diag = diagnose_latents(mu, log_var)
    at_mean = model.evaluate(images, beta=beta)
    return {"beta": beta, "warmup": trainer.config.warmup_epochs,
            "latent_dim": model.latent_dim, "seed": trainer.config.seed,
            "kl_per_dim": [round(float(v), 4) for v in diag.kl],
            "activity": [round(float(v), 5) for v in diag.activity],
            "n_active": diag.n_active, "recon_at_mu": round(at_mean.recon, 3),
            "total_at_mu": round(at_mean.total, 3)}


def collapse_section(images: np.ndarray) -> dict[str, Any]:
    runs = []
    for warmup in WARMUPS:
        for seed in SEEDS:
            for beta in BETAS:
                runs.append(latent_figures(
                    train(images, beta=beta, warmup_epochs=warmup, seed=seed), images))
                r = runs[-1]
                print(f"warm-up {warmup:3d}  seed {seed}  β {beta:4.2f}  active {r['n_active']}"
                      f"  KL/dim {r['kl_per_dim']}  recon@μ {r['recon_at_mu']:.2f}"
                      f"  total@μ {r['total_at_mu']:.2f}", flush=True)
    thresholds: dict[str, list[float | None]] = {}
    for warmup in WARMUPS:
        per_seed = []
        for seed in SEEDS:
            dead = [r["beta"] for r in runs if r["warmup"] == warmup and r["seed"] == seed
                    and r["n_active"] == 0]
            per_seed.append(min(dead) if dead else None)
        thresholds[str(warmup)] = per_seed
        print(f"warm-up {warmup:3d}: smallest β with no active unit, seeds {SEEDS}: "
              f"{per_seed}", flush=True)
    return {"betas": BETAS, "runs": runs, "collapse_beta": thresholds}


def dims_section(images: np.ndarray) -> dict[str, Any]:
    runs = []
    for k in (2, 4, 8):
        for beta in (3.0, 4.0, 5.0):
            for seed in SEEDS:
                runs.append(latent_figures(train(images, beta=beta, latent_dim=k, seed=seed),
                                           images))
                r = runs[-1]
                print(f"K {k}  β {beta:3.1f}  seed {seed}  active {r['n_active']}/{k}  "
                      f"KL/dim {r['kl_per_dim']}  recon@μ {r['recon_at_mu']:.2f}", flush=True)
    return {"runs": runs}


def sampled_total(trainer: Trainer, images: np.ndarray, beta: float) -> float:
    rng = np.random.default_rng(1)
    return float(np.mean([trainer.model.evaluate(images, beta=beta, sampled=True, rng=rng).total
                          for _ in range(10)]))


def optimum_section(images: np.ndarray) -> dict[str, Any]:
    restarted, compared = [], []
    for seed in SEEDS:
        informative = train(images, beta=1.0, seed=seed)
        for beta in (3.5, 4.0):
            go_on = Trainer(TrainConfig(beta=beta, warmup_epochs=0, seed=seed), images,
                            model=informative.model.copy())
            for _ in go_on.train():
                pass
            restarted.append(latent_figures(go_on, images))
            r = restarted[-1]
            print(f"seed {seed}  trained at β 1, then 200 epochs at β {beta}: active "
                  f"{r['n_active']}  KL/dim {r['kl_per_dim']}", flush=True)
        at_3, at_4 = train(images, beta=3.0, seed=seed), train(images, beta=4.0, seed=seed)
        row = {"seed": seed,
               "trained_at_3": {"n_active": latent_figures(at_3, images)["n_active"],
                                "objective_at_4": sampled_total(at_3, images, 4.0)},
               "trained_at_4": {"n_active": latent_figures(at_4, images)["n_active"],
                                "objective_at_4": sampled_total(at_4, images, 4.0)}}
        compared.append(row)
        print(f"seed {seed}  objective at β 4 (z sampled): trained at β 3 "
              f"({row['trained_at_3']['n_active']} active) "
              f"{row['trained_at_3']['objective_at_4']:.3f}, trained at β 4 "
              f"({row['trained_at_4']['n_active']} active) "
              f"{row['trained_at_4']['objective_at_4']:.3f}", flush=True)
    return {"restarted": restarted, "compared": compared}


def losses_section(images: np.ndarray) -> dict[str, Any]:
    saved = load_model(resource_path("pretrained-vae.npz"))
    last = saved.history[-1]
    at_mean = saved.model.evaluate(images, beta=saved.config.beta)
    rng = np.random.default_rng(1)
    draws = [saved.model.evaluate(images, beta=saved.config.beta, sampled=True, rng=rng)
             for _ in range(10)]
    out = {
        "running_mean_sampled": {"recon": last.recon, "kl": last.kl, "total": last.total,
                                 "beta": last.beta, "epoch": last.epoch},
        "evaluation_at_mu": {"recon": at_mean.recon, "kl": at_mean.kl, "total": at_mean.total},
        "evaluation_sampled": {"recon": float(np.mean([d.recon for d in draws])),
                               "kl": float(np.mean([d.kl for d in draws])),
                               "total": float(np.mean([d.total for d in draws]))},
    }
    for name, fig in out.items():
        print(f"{name:22s} recon {fig['recon']:.2f}  KL {fig['kl']:.2f}  "
              f"total {fig['total']:.2f}", flush=True)
    return out


def smoothness_section(images: np.ndarray) -> dict[str, Any]:
    models = {f"pretrained-{kind}": load_model(resource_path(f"pretrained-{kind}.npz")).model
              for kind in ("ae", "vae")}
    for kind in ("ae", "vae"):
        for seed in SEEDS:
            models[f"{kind} seed {seed}"] = train(images, model=kind, seed=seed).model
    out = {}
    for name, model in models.items():
        figures = measure_smoothness(model, images).figures()
        out[name] = figures
        print(f"{name:15s} off-manifold: region {100 * figures['off_share']:5.1f} %  "
              f"gaps {100 * figures['off_share_in_gaps']:5.1f} % "
              f"(gaps are {100 * figures['gap_share']:4.1f} % of the grid)  "
              f"change per σ-step: mean {figures['change_mean']:.2f} "
              f"max {figures['change_max']:.2f}  τ {figures['threshold']:.3f}", flush=True)
    return out


SECTIONS = {"collapse": collapse_section, "dims": dims_section, "optimum": optimum_section,
            "losses": losses_section,
            "smoothness": smoothness_section}


def _clean(value: Any) -> Any:
    """NaN → None so the JSON is standard."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append",
                        help="run only this section (repeatable)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    args = parser.parse_args()
    limit_blas_threads()
    images = load_digits().images
    results = {}
    for name in args.only or list(SECTIONS):
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        results[name] = SECTIONS[name](images)
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(_clean(results), f, indent=1)


if __name__ == "__main__":
    main()
