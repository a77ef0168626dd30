"""Command line: ``latentlab`` opens the window; subcommands work without a display."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import __version__
from .blas import limit_blas_threads
from .cli_data import add_data_options, load_data
from .core import (
    MODEL_KINDS,
    DataFileError,
    Dataset,
    Model,
    TrainConfig,
    Trainer,
    TrainingDiverged,
    limits,
    save_model,
)
from .core.io import WriteFailed, atomic_write_text, writable_target
from .core.loss_labels import AT_MU, JSON_FIELDS, SAMPLED, VQ_JSON_FIELDS
from .core.pca import pca_reconstruction_mse
from .core.registry import ModelKind
from .core.smoothness import measure_smoothness
from .core.stacked import MAX_MODELS, StackedTrainer
from .core.trainer import (
    ARTICLE_TARGET,
    BIG_SET_BATCH_SIZE,
    BIG_SET_IMAGES,
    LR_SCHEDULES,
    TargetWatch,
    recommended_batch_size,
)
from .core.vqvae import VQVAE, VQLossReport
from .export_cli import add_export_parser, plot_rate_distortion, run_export

_DEFAULTS = TrainConfig()


def _within(allowed: limits.Range) -> Callable[[str], float]:
    """An argparse type: parse a number and check it against ``allowed`` (exit 2 if not)."""
    def parse(text: str) -> float:
        shown = text if len(text) <= 40 else text[:40] + "…"
        try:
            value: float = int(text) if allowed.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {allowed.describe()}, got {shown!r}") from None
        problem = allowed.problem(value)
        if problem:
            raise argparse.ArgumentTypeError(f"expected {allowed.describe()}, got {shown}")
        return value
    parse.__name__ = allowed.name  # argparse names the type in "invalid … value"
    return parse


def _beta_list(text: str) -> list[float]:
    parse = _within(limits.BETA)
    try:
        values = [parse(part) for part in text.split(",") if part.strip()]
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated β values ({exc})") from exc
    if not values:
        raise argparse.ArgumentTypeError("expected at least one β")
    return values


def _add_training_options(parser: argparse.ArgumentParser, with_beta: bool) -> None:
    parser.add_argument("--model", choices=MODEL_KINDS, default=str(_DEFAULTS.model),
                        help=", ".join(f"{kind}: {kind.description}" for kind in ModelKind)
                        + " (default: %(default)s)")
    if with_beta:
        parser.add_argument("--beta", type=_within(limits.BETA), default=_DEFAULTS.beta,
                            help="weight of the KL term (β-VAE) (default: %(default)s)")
    parser.add_argument("--warmup", type=_within(limits.WARMUP_EPOCHS),
                        default=_DEFAULTS.warmup_epochs,
                        help="KL warm-up: epochs over which β ramps from 0 "
                             "(default: %(default)s)")
    parser.add_argument("--latent-dim", "--code-dim", type=_within(limits.LATENT_DIM),
                        default=_DEFAULTS.latent_dim,
                        help="latent dimensions; for vqvae the dimensions of each code "
                             "vector (default: %(default)s)")
    parser.add_argument("--hidden-dim", type=_within(limits.HIDDEN_DIM),
                        default=_DEFAULTS.hidden_dim,
                        help="hidden layer width (default: %(default)s)")
    vq = parser.add_argument_group("VQ-VAE (--model vqvae)")
    vq.add_argument("--codes", type=_within(limits.CODES), default=_DEFAULTS.codes,
                    help="codebook size K (default: %(default)s)")
    vq.add_argument("--commitment", type=_within(limits.COMMITMENT),
                    default=_DEFAULTS.commitment,
                    help="commitment weight β_c of ‖z_e − sg[e]‖² (default: %(default)s)")
    vq.add_argument("--ema-decay", type=_within(limits.EMA_DECAY), default=None, metavar="G",
                    help="update the codebook as an exponential moving average with decay G "
                         "in [0, 1) instead of by its loss's gradient (e.g. 0.99)")
    parser.add_argument("--epochs", type=_within(limits.EPOCHS), default=_DEFAULTS.epochs,
                        help="epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=_within(limits.BATCH_SIZE), default=None,
                        help=f"minibatch size (default: {_DEFAULTS.batch_size}, or "
                             f"{BIG_SET_BATCH_SIZE} for sets of more than {BIG_SET_IMAGES:,} "
                             "images)")
    parser.add_argument("--lr", type=_within(limits.LR), default=_DEFAULTS.lr,
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=_DEFAULTS.lr_schedule,
                        help="cosine: the learning rate decays along half a cosine from --lr "
                             "to near 0 in the last epoch; constant: --lr throughout "
                             "(default: %(default)s)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default=_DEFAULTS.optimizer,
                        help="adam, or sgd with momentum 0.9 (default: %(default)s)")
    parser.add_argument("--clip-norm", type=_within(limits.CLIP_NORM), default=None,
                        help="clip the gradient's global L2 norm to this value")
    parser.add_argument("--seed", type=_within(limits.SEED), default=_DEFAULTS.seed,
                        help="random seed; the same seed gives identical weights "
                             "(default: %(default)s)")
    add_data_options(parser)


def _config_from(args: argparse.Namespace, beta: float, n_images: int) -> TrainConfig:
    batch_size = recommended_batch_size(n_images) if args.batch_size is None \
        else args.batch_size
    return TrainConfig(
        model=args.model, latent_dim=args.latent_dim, hidden_dim=args.hidden_dim, beta=beta,
        warmup_epochs=args.warmup, epochs=args.epochs, batch_size=batch_size,
        lr=args.lr, lr_schedule=args.lr_schedule, optimizer=args.optimizer,
        clip_norm=args.clip_norm, seed=args.seed,
        codes=args.codes, commitment=args.commitment, ema_decay=args.ema_decay)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="latentlab",
        description="Train autoencoders and VAEs on small images and watch them learn. "
        "Without a subcommand, opens the LatentLab window.")
    parser.add_argument("--version", action="version", version=f"LatentLab {__version__}")
    parser.add_argument("--smoke", action="store_true",
                        help="self-check: open the window, train a few epochs, click the map, "
                             "export a PNG to a temporary folder, close, exit 0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train", help="train a model on the bundled digits (or --data) without a display",
        description="Train a model on the bundled 8x8 digits (or your own images with "
                    "--data) and report per-sample losses "
                    "(BCE summed over pixels and KL summed over latent dims, averaged over "
                    "samples, for a VAE; per-pixel MSE for an autoencoder).")
    _add_training_options(train, with_beta=True)
    train.add_argument("--out", metavar="FILE",
                       help="save the trained model to FILE (.npz with JSON metadata); the "
                            "folder must exist and FILE must be absent or a regular file "
                            "(checked before training)")
    train.add_argument("--save-diverged", action="store_true",
                       help="if training diverges, replace an existing FILE with the last "
                            "finite weights anyway (default: a diverged run writes FILE "
                            "only when it does not exist yet)")
    train.add_argument("--target", type=float, default=None, metavar="T",
                       help="report the first epoch (checked every 5) at which the per-sample "
                            "total with z sampled reaches T, and the training seconds to it "
                            f"(default: {ARTICLE_TARGET}, the article's VAE figure, for a VAE "
                            "on the bundled digits; none otherwise)")
    train.add_argument("--json", action="store_true",
                       help="print one JSON object with the final figures as the last line; "
                            "its \"measured\" object says how each figure was measured")

    sweep = sub.add_parser(
        "sweep", help="train one model per β and write the rate-distortion figures as CSV",
        description="Train the same model once per β (same seed and settings; up to "
                    f"{MAX_MODELS} βs at a time in one stacked pass) and write one CSV row "
                    "per β: the per-sample reconstruction (distortion), KL (rate) and "
                    "totals of the trained model on the whole data set; seconds is the "
                    "time of the pass that trained it. On a terminal it shows each model's "
                    "progress.")
    _add_training_options(sweep, with_beta=False)
    sweep.add_argument("--betas", type=_beta_list, default=[0.25, 0.5, 1.0, 2.0, 4.0],
                       help="comma-separated β values (default: 0.25,0.5,1,2,4)")
    sweep.add_argument("--csv", "--out", metavar="FILE", dest="csv",
                       help="write the CSV to FILE (atomically) instead of standard output")
    sweep.add_argument("--plot", metavar="PNG",
                       help="also draw the rate-distortion curve (KL against reconstruction, "
                            "one point per β) as a PNG")
    add_export_parser(sub)
    return parser


class _ProgressBar:
    """A one-line text progress bar, drawn only when the stream is a terminal."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.enabled = stream.isatty() and total > 0
        self.started = time.perf_counter()
        self._drawn = 0.0

    def update(self, epoch: int, total_loss: float, label: str = "") -> None:
        now = time.perf_counter()
        # Redraw at most ~20 times a second: an epoch can take a millisecond.
        if not self.enabled or (now - self._drawn < 0.05 and epoch < self.total):
            return
        self._drawn = now
        width = 30
        filled = int(width * epoch / self.total)
        elapsed = time.perf_counter() - self.started
        eta = elapsed / epoch * (self.total - epoch) if epoch else 0.0
        self.stream.write(
            f"\r{label + ' ' if label else ''}[{'#' * filled}{'.' * (width - filled)}] "
            f"{epoch}/{self.total} loss {total_loss:.4f}  ETA {eta:4.1f}s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def final_figures(model: Model, config: TrainConfig, images: np.ndarray) -> dict[str, Any]:
    """Per-sample losses of the trained model on the whole data set: with z = mu and,
    for a VAE, averaged over 10 draws of z ~ q(z|x) (seeded from the config); for a
    VQ-VAE (z snapped to its code) the VQ loss instead of a KL, the perplexity, used
    codes and how many dead codes training re-seeded."""
    at_mean = model.evaluate(images, beta=config.beta)
    figures: dict[str, Any] = {"recon": at_mean.recon, "kl": at_mean.kl,
                               "total": at_mean.total, "mse": at_mean.mse}
    if model.is_variational:
        rng = np.random.default_rng([config.seed, 1])
        draws = [model.evaluate(images, beta=config.beta, sampled=True, rng=rng)
                 for _ in range(10)]
        figures["recon_sampled"] = float(np.mean([d.recon for d in draws]))
        figures["total_sampled"] = float(np.mean([d.total for d in draws]))
    if model.kind.pca_baseline:
        figures["pca_mse"] = pca_reconstruction_mse(images, model.latent_dim)
    if isinstance(model, VQVAE):
        assert isinstance(at_mean, VQLossReport)
        del figures["kl"]  # the regulariser is the VQ loss, not a KL
        figures.update(vq_loss=at_mean.kl, quantisation=at_mean.quantisation,
                       perplexity=at_mean.perplexity, used_codes=at_mean.used_codes,
                       codes=model.n_codes, commitment=model.config.commitment,
                       ema_decay=model.config.ema_decay,
                       dead_codes_reseeded=model.dead_codes_reseeded)
    return figures


def smoothness_figures(model: Model, images: np.ndarray) -> dict[str, Any] | None:
    """:func:`~latentlab.core.smoothness.measure_smoothness` of the trained model with its
    defaults, JSON-ready (NaN, as "in the gaps" without gaps, → null); ``{"problem": …}``
    when the codes span no region; None for a 1-D latent (no plane)."""
    if model.latent_dim < 2:
        return None
    try:
        figures = measure_smoothness(model, images).figures()
    except ValueError as exc:  # e.g. a collapsed latent: every code the same
        return {"problem": str(exc)}
    return {k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in figures.items()}


def _load_data(args: argparse.Namespace) -> Dataset:
    """The bundled digits, or the data set named by ``--data`` (DataFileError if bad)."""
    return load_data(args.data, args.image_size)


def run_train(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    out = writable_target(args.out) if args.out else None  # before any training
    data = _load_data(args)
    config = _config_from(args, args.beta, len(data))
    trainer = Trainer(config, data.images)
    target = args.target if args.target is not None else (
        ARTICLE_TARGET if args.data is None else None)
    watch = (TargetWatch(target, data.images, config.seed)
             if target is not None and trainer.model.kind.samples_noise else None)
    progress = _ProgressBar(config.epochs, stderr)
    started = time.perf_counter()
    diverged = None
    try:
        for report in trainer.train():
            if watch is not None:
                watch.observe(trainer.model, report, config.beta)
            progress.update(report.epoch, report.total)
    except TrainingDiverged as exc:
        diverged = str(exc)
    finally:
        progress.close()
    seconds = time.perf_counter() - started

    result: dict[str, Any] = {"model": config.model, "epochs": trainer.epoch,
                              "seconds": round(seconds, 4), "beta": config.beta,
                              "lr": config.lr, "lr_schedule": config.lr_schedule,
                              "batch_size": config.batch_size,
                              "target": None if watch is None else watch.target,
                              "epochs_to_target": None if watch is None else watch.epoch,
                              "seconds_to_target": None if watch is None or watch.seconds
                              is None else round(watch.seconds, 4),
                              "latent_dim": config.latent_dim, "seed": config.seed,
                              "data": data.name, "images": len(data),
                              "image_shape": list(data.image_shape)}
    if diverged is None:
        result.update(final_figures(trainer.model, config, data.images))
        if trainer.history:
            result["train_total"] = trainer.history[-1].total
        result["smoothness"] = smoothness_figures(trainer.model, data.images)
        fields = VQ_JSON_FIELDS if isinstance(trainer.model, VQVAE) else JSON_FIELDS
        result["measured"] = {k: v for k, v in fields.items() if k in result}
    else:
        result["diverged"] = diverged
    if out is not None and diverged is not None and out.exists() and not args.save_diverged:
        diverged += (f" {args.out} was not replaced (--save-diverged replaces it with the "
                     "last finite weights).")
    elif out is not None:
        try:
            save_model(args.out, trainer.model, config, trainer.history)
        except OSError as exc:
            stderr.write(f"latentlab train: {exc}\n")
            return 1
        result["out"] = str(args.out)

    if diverged is not None:
        stderr.write(f"latentlab: {diverged}\n")
    if args.json:
        stdout.write(json.dumps(result) + "\n")
    else:
        h, w = data.image_shape
        lines = [f"{config.model}: {trainer.epoch} epochs in {seconds:.2f} s on {data.name} "
                 f"({len(data)} images, {h}×{w})"]
        if "total_sampled" in result:  # a VAE: two evaluations to tell apart
            lines.append(f"  recon, kl, total, mse: {AT_MU.short}; "
                         f"total_sampled: {SAMPLED.short}")
        for key in ("recon", "kl", "vq_loss", "total", "total_sampled", "mse", "pca_mse",
                    "perplexity"):
            if key in result:
                lines.append(f"  {key:14s} {result[key]:.4f}")
        if "used_codes" in result:
            lines.append(f"  {'used_codes':14s} {result['used_codes']} of {result['codes']} "
                         f"({result['dead_codes_reseeded']} dead codes re-seeded)")
        if "out" in result:
            lines.append(f"  saved to {result['out']}")
        stdout.write("\n".join(lines) + "\n")
    return 1 if diverged is not None else 0


SWEEP_COLUMNS = ("beta", "epochs", "recon", "kl", "total", "total_sampled", "mse", "seconds")


def run_sweep(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.plot is not None and args.model != "vae":
        stderr.write(f"latentlab sweep: error: --plot draws KL (rate) against reconstruction; "
                     f"a {args.model} model has no KL (use --model vae)\n")
        return 2
    for target in (args.csv, args.plot):
        if target is not None:
            writable_target(target)  # before any training
    data = _load_data(args)
    configs = [_config_from(args, beta, len(data)) for beta in args.betas]
    group_size = MAX_MODELS if ModelKind(args.model).stacks else 1
    rows = []
    points = []
    for lo in range(0, len(configs), group_size):
        group = configs[lo:lo + group_size]
        started = time.perf_counter()
        try:
            models = _train_together(group, data.images, stderr)
        except TrainingDiverged as exc:
            stderr.write(f"latentlab: {exc}\n")
            return 1
        seconds = round(time.perf_counter() - started, 4)
        for config, model in zip(group, models, strict=True):
            figures = final_figures(model, config, data.images)
            figures.update(beta=config.beta, epochs=config.epochs, seconds=seconds)
            rows.append(",".join("" if figures.get(c) is None else f"{figures[c]:.6g}"
                                 for c in SWEEP_COLUMNS))
            if "kl" in figures:
                points.append((config.beta, figures["recon"], figures["kl"]))
    text = ",".join(SWEEP_COLUMNS) + "\n" + "\n".join(rows) + "\n"
    try:
        if args.csv is None:
            stdout.write(text)
        else:
            atomic_write_text(args.csv, text)
        if args.plot is not None:
            plot_rate_distortion(args.plot, points)
    except OSError as exc:
        stderr.write(f"latentlab sweep: {exc}\n")
        return 1
    return 0


def _train_together(configs: list[TrainConfig], images: np.ndarray,
                    stderr: TextIO) -> list[Model]:
    """Train ``configs`` (one stack, or one model of a kind that does not stack) to
    their epochs, showing each model's running total on a terminal."""
    if len(configs) == 1 and not ModelKind(configs[0].model).stacks:
        trainer = Trainer(configs[0], images)
        progress = _ProgressBar(configs[0].epochs, stderr)
        try:
            for report in trainer.train():
                progress.update(report.epoch, report.total, f"β = {configs[0].beta:g}")
        finally:
            progress.close()
        return [trainer.model]
    stack = StackedTrainer(configs, images)
    show = stderr.isatty()
    drawn = 0.0
    try:
        for reports in stack.train():
            now = time.perf_counter()
            if show and (now - drawn >= 0.1 or stack.done):
                drawn = now
                losses = "  ".join(f"β {c.beta:g}: {r.total:.3f}"
                                   for c, r in zip(configs, reports, strict=True))
                stderr.write(f"\repoch {stack.epoch}/{stack.epochs}  {losses} ")
                stderr.flush()
    finally:
        if show:
            stderr.write("\n")
    return stack.models


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


DEMO_DIR = Path("latentlab-demo")


def has_display() -> bool:
    """Whether Qt can open a window: always off Linux; on Linux an X11 or Wayland display,
    or a platform chosen explicitly with QT_QPA_PLATFORM (e.g. offscreen)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    limit_blas_threads(1)  # tiny matrices: BLAS worker threads only steal the cores
    if args.command in ("train", "sweep", "export"):
        command = {"train": run_train, "sweep": run_sweep, "export": run_export}[args.command]
        try:
            return command(args, sys.stdout, sys.stderr)
        except (DataFileError, WriteFailed) as exc:
            # Bad input (a data file, --out or --csv): one line, never a traceback.
            sys.stderr.write(f"latentlab {args.command}: error: {_one_line(exc)}\n")
            return 2
    export_dir = None
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if not args.smoke:
            export_dir = DEMO_DIR
            print("No display found: running LatentLab's headless demo instead of the window "
                  f"(it trains, clicks the map and exports PNGs to {DEMO_DIR}/).", flush=True)
    from .gui.app import run  # Qt is imported only when the window is wanted

    return run([], smoke=args.smoke or export_dir is not None, export_dir=export_dir)
