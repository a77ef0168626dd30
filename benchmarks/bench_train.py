"""Training speed, side by side in one process: the article's per-sample loop, LatentLab's
trainer and (when importable) PyTorch on the CPU, all training the same 2-D VAE on the
bundled digits. Prints times, final per-sample losses and the ratios.

    python benchmarks/bench_train.py                 # loop timed on 20 epochs, projected to 300
    python benchmarks/bench_train.py --loop-epochs 300

Targets (issue 2): LatentLab <= 0.5 s for 300 epochs at batch 64 on a 2-core machine,
>= 100x faster than the per-sample loop, >= 10x faster than PyTorch on the CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from latentlab.blas import limit_blas_threads
from latentlab.core import TrainConfig, Trainer, load_digits


def article_loop(data: np.ndarray, epochs: int, seed: int = 0) -> tuple[list[float], float]:
    """The reference article's recipe written from its maths: one sample at a time,
    64-32-(2+2)-32-64 VAE, He init, SGD with momentum 0.9, lr 0.003, every gradient
    clipped to [-1, 1], BCE (eps 1e-8) + KL. Returns (seconds of each epoch, last epoch's
    mean loss)."""
    rng = np.random.default_rng(seed)
    d, h, k = 64, 32, 2
    params = {
        "W1": rng.standard_normal((d, h)) * np.sqrt(2 / d), "b1": np.zeros(h),
        "Wmu": rng.standard_normal((h, k)) * np.sqrt(2 / h), "bmu": np.zeros(k),
        "Wlv": rng.standard_normal((h, k)) * np.sqrt(2 / h), "blv": np.zeros(k),
        "W3": rng.standard_normal((k, h)) * np.sqrt(2 / k), "b3": np.zeros(h),
        "W4": rng.standard_normal((h, d)) * np.sqrt(2 / h), "b4": np.zeros(d),
    }
    velocity = {name: np.zeros_like(p) for name, p in params.items()}
    lr, tiny = 0.003, 1e-8
    mean_loss = float("nan")
    epoch_seconds = []
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            started = time.perf_counter()
            total = 0.0
            for i in rng.permutation(len(data)):
                x = data[i]
                p = params
                h1 = np.maximum(0, x @ p["W1"] + p["b1"])
                mu = h1 @ p["Wmu"] + p["bmu"]
                lv = h1 @ p["Wlv"] + p["blv"]
                std = np.exp(0.5 * lv)
                eps = rng.standard_normal(k)
                z = mu + std * eps
                h3 = np.maximum(0, z @ p["W3"] + p["b3"])
                x_hat = 1 / (1 + np.exp(-(h3 @ p["W4"] + p["b4"])))
                bce = -np.sum(x * np.log(x_hat + tiny) + (1 - x) * np.log(1 - x_hat + tiny))
                kl = -0.5 * np.sum(1 + lv - mu**2 - np.exp(lv))
                total += bce + kl
                d_logit = -(x / (x_hat + tiny) - (1 - x) / (1 - x_hat + tiny)) * x_hat * (1 - x_hat)
                d_h3 = (d_logit @ p["W4"].T) * (h3 > 0)
                d_z = d_h3 @ p["W3"].T
                d_mu = d_z + mu
                d_lv = d_z * eps * 0.5 * std + 0.5 * (np.exp(lv) - 1)
                d_h1 = (d_mu @ p["Wmu"].T + d_lv @ p["Wlv"].T) * (h1 > 0)
                grads = {
                    "W4": np.outer(h3, d_logit), "b4": d_logit,
                    "W3": np.outer(z, d_h3), "b3": d_h3,
                    "Wmu": np.outer(h1, d_mu), "bmu": d_mu,
                    "Wlv": np.outer(h1, d_lv), "blv": d_lv,
                    "W1": np.outer(x, d_h1), "b1": d_h1,
                }
                for name, g in grads.items():
                    velocity[name] = 0.9 * velocity[name] - lr * np.clip(g, -1.0, 1.0)
                    params[name] = params[name] + velocity[name]
            mean_loss = total / len(data)
            epoch_seconds.append(time.perf_counter() - started)
    return epoch_seconds, float(mean_loss)


def latentlab_trainer(data: np.ndarray, epochs: int, batch: int) -> tuple[float, float, float]:
    """Returns (seconds, last epoch's running loss, total with sampled z on all data)."""
    trainer = Trainer(TrainConfig(model="vae", epochs=epochs, batch_size=batch, lr=3e-3,
                                  warmup_epochs=0, seed=0), data)
    started = time.perf_counter()
    for _ in trainer.train():
        pass
    seconds = time.perf_counter() - started
    sampled = trainer.model.evaluate(data, sampled=True, rng=np.random.default_rng(1)).total
    return seconds, trainer.history[-1].total, sampled


def torch_trainer(data: np.ndarray, epochs: int, batch: int,
                  threads: int) -> tuple[float, float] | None:
    """The same minibatch work in PyTorch on the CPU (float32, Adam, lr 3e-3)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x_all = torch.from_numpy(data.astype(np.float32))
    enc = torch.nn.Linear(64, 32)
    heads = torch.nn.Linear(32, 4)
    dec1 = torch.nn.Linear(2, 32)
    dec2 = torch.nn.Linear(32, 64)
    modules = torch.nn.ModuleList([enc, heads, dec1, dec2])
    opt = torch.optim.Adam(modules.parameters(), lr=3e-3)
    bce = torch.nn.BCEWithLogitsLoss(reduction="sum")
    n = len(x_all)
    mean_loss = float("nan")
    started = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        total = 0.0
        for lo in range(0, n, batch):
            x = x_all[perm[lo:lo + batch]]
            stats = heads(torch.relu(enc(x)))
            mu, log_var = stats[:, :2], stats[:, 2:]
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            logits = dec2(torch.relu(dec1(z)))
            recon = bce(logits, x)
            kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
            loss = (recon + kl) / len(x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        mean_loss = total / n
    return time.perf_counter() - started, mean_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--loop-epochs", type=int, default=20,
                        help="epochs actually run by the slow per-sample loop; its fastest "
                             "epoch is projected linearly to --epochs (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="LatentLab runs; the fastest counts, as timeit does, because a "
                             "shared machine only ever adds time (default: %(default)s)")
    args = parser.parse_args()
    limit_blas_threads(1)  # as the app and the CLI run (NumPy code only; PyTorch sets its own)
    data = load_digits().images.astype(np.float64)
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, digits {data.shape}, "
          f"load average {os.getloadavg()[0]:.2f}")

    runs = [latentlab_trainer(data, args.epochs, args.batch_size) for _ in range(args.repeats)]
    ll_s, ll_loss, ll_sampled = min(runs)
    print(f"LatentLab trainer : {ll_s:7.3f} s for {args.epochs} epochs, fastest of "
          f"{args.repeats} ({', '.join(f'{r[0]:.3f}' for r in runs)}; "
          f"{ll_s / args.epochs * 1e3:.2f} ms/epoch); last-epoch loss {ll_loss:.2f}, "
          f"all-data total with sampled z {ll_sampled:.2f}")

    epoch_seconds, loop_loss = article_loop(data, args.loop_epochs)
    # Its fastest epoch, projected: the most favourable reading for the loop.
    projected = min(epoch_seconds) * args.epochs
    print(f"Per-sample loop   : {sum(epoch_seconds):7.3f} s for {args.loop_epochs} epochs "
          f"(fastest epoch {min(epoch_seconds):.3f} s) -> {projected:.1f} s projected for "
          f"{args.epochs}; loss after {args.loop_epochs} epochs {loop_loss:.2f}")

    # PyTorch gets its best thread setting: on tiny matrices extra threads only add overhead.
    torch_result = None
    for threads in (1, 2):
        result = torch_trainer(data, args.epochs, args.batch_size, threads)
        if result is None:
            print("PyTorch           : not importable, skipped")
            break
        import torch

        print(f"PyTorch {torch.__version__} CPU, {threads} thread(s): {result[0]:7.3f} s for "
              f"{args.epochs} epochs; last-epoch loss {result[1]:.2f}")
        if torch_result is None or result[0] < torch_result[0]:
            torch_result = result

    print("Ratios (higher is better for LatentLab):")
    print(f"  per-sample loop / LatentLab    = {projected / ll_s:6.1f}x   (target >= 100x)")
    if torch_result is not None:
        print(f"  PyTorch CPU (best) / LatentLab = {torch_result[0] / ll_s:6.1f}x   "
              "(target >= 10x)")
    print(f"  LatentLab {args.epochs} epochs at batch {args.batch_size}: {ll_s:.3f} s "
          f"(target <= 0.5 s)")
    print(f"(load average at the end: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
