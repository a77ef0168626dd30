"""The default recipe by measurement: time to the article's 24.8 and final figures of the
2-D VAE (and the AE's MSE) on the digits for learning rates × batch sizes × learning-rate
schedules × seeds.

    python benchmarks/sweep_recipe.py [--seeds 0,1,2] [--epochs 250] > sweep.csv

One CSV row per run: kind, batch, lr, schedule, seed, epochs_to_target (checked every 5),
seconds_to_target (training time only), and the final figures of ``latentlab train``
(total_sampled, total at z = μ, kl; mse for the AE).
"""

from __future__ import annotations

import argparse
import itertools

from latentlab.blas import limit_blas_threads
from latentlab.cli import final_figures
from latentlab.core import TrainConfig, Trainer, load_digits
from latentlab.core.trainer import ARTICLE_TARGET, LR_SCHEDULES, TargetWatch


def run(kind: str, batch: int, lr: float, schedule: str, seed: int, epochs: int) -> dict:
    data = load_digits().images
    config = TrainConfig(model=kind, batch_size=batch, lr=lr, lr_schedule=schedule, seed=seed,
                         epochs=epochs)
    trainer = Trainer(config, data)
    watch = TargetWatch(ARTICLE_TARGET, data, seed)
    for report in trainer.train():
        if trainer.model.is_variational:
            watch.observe(trainer.model, report, config.beta)
    figures = final_figures(trainer.model, config, data)
    return {"kind": kind, "batch": batch, "lr": lr, "schedule": schedule, "seed": seed,
            "epochs_to_target": watch.epoch, "seconds_to_target": watch.seconds,
            "train_seconds": sum(r.seconds for r in trainer.history),
            "total_sampled": figures.get("total_sampled"), "total": figures["total"],
            "kl": figures["kl"], "mse": figures["mse"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--batches", default="64,96,128")
    parser.add_argument("--lrs", default="0.01,0.015,0.02,0.025")
    parser.add_argument("--schedules", default=",".join(LR_SCHEDULES))
    parser.add_argument("--kinds", default="vae,ae")
    args = parser.parse_args()
    limit_blas_threads(1)
    columns = ("kind", "batch", "lr", "schedule", "seed", "epochs_to_target", "seconds_to_target",
               "train_seconds", "total_sampled", "total", "kl", "mse")
    print(",".join(columns), flush=True)
    for kind, batch, lr, schedule, seed in itertools.product(
            args.kinds.split(","), [int(b) for b in args.batches.split(",")],
            [float(v) for v in args.lrs.split(",")], args.schedules.split(","),
            [int(s) for s in args.seeds.split(",")]):
        row = run(kind, batch, lr, schedule, seed, args.epochs)
        print(",".join("" if row[c] is None else f"{row[c]:.6g}" if isinstance(row[c], float)
                       else str(row[c]) for c in columns), flush=True)


if __name__ == "__main__":
    main()
