"""LatentLab's speed beside its targets: one table, every figure measured in this run.

    python benchmarks/run.py                 # everything (~5-10 min on 2 cores)
    python benchmarks/run.py --quick         # fewer repeats and epochs, to try it out
    python benchmarks/run.py --skip gui,60k  # leave sections out

Sections (each contender runs only when importable; the table says how to install it):

Every training contender runs on one core: the training sections pin the process to one
CPU (``os.sched_setaffinity``; OpenBLAS is limited to one thread as the app runs, PyTorch
set to one thread). XLA's CPU runtime used a second core whatever its flags said
(``--xla_cpu_multi_thread_eigen=false``: JAX's 300 epochs took 0.60-0.72 s on two cores and
0.76-0.84 s pinned, quiet machine), so flags alone did not give same-core figures. The
window's section runs unpinned: the window has a GUI thread and a training thread.

* ``digits``: the 2-D VAE on the 1,797 digits with the default recipe (Adam, lr 1e-2 with
  cosine decay, batch 96, KL warm-up 10 epochs, float32; for every contender the same
  initial weights and LatentLab's own batches and noise, :class:`LatentLabDraws`):
  300-epoch training time and time to the article's 24.8 (per-sample total with z
  sampled, one fixed draw of noise, all images, checked every 5 epochs; checking time
  excluded) for LatentLab, PyTorch eager, torch.compile and JAX with the whole epoch
  jitted (``lax.scan``; compile time reported apart), and the article's per-sample loop
  (its fastest epoch, projected to 300).
* ``stacked``: K = 1, 2, 4, 8, 16 VAEs (a β sweep) in one :class:`StackedTrainer` pass
  against one model trained alone.
* ``60k``: one epoch on 60,000 synthetic 28×28 stroke images (784→256→2 VAE) at the
  big-set batch size, LatentLab against JAX-jit, and LatentLab's peak RSS (a fresh
  process: data, trainer and the epoch).
* ``gui``: ``benchmarks/bench_gui.py`` (the window's own benchmark) in a subprocess.

Contenders alternate within each repeat (interleaved), and a figure is the fastest of
its repeats: this machine's speed drifts by up to 2x within minutes and a shared machine
only ever adds time, so only ratios within one run mean anything.
Install the optional contenders into the venv to measure them:
``pip install torch==2.13.0`` (the CPU build on this machine's disk) and
``pip install jax jaxlib``; neither is a LatentLab dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentlab.blas import limit_blas_threads
from latentlab.core import TrainConfig, Trainer, build_model, load_digits
from latentlab.core.models import Model
from latentlab.core.stacked import StackedTrainer
from latentlab.core.trainer import (
    ARTICLE_TARGET,
    BatchSource,
    TargetWatch,
    recommended_batch_size,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LAYERS = ("enc1", "heads", "dec1", "dec2")
INSTALL = {"torch": "pip install torch==2.13.0", "jax": "pip install jax jaxlib"}


@dataclass
class Run:
    """One training run: training seconds for all its epochs, and to the target."""

    seconds: float
    seconds_to_target: float | None = None
    epochs_to_target: int | None = None
    final_total_sampled: float | None = None
    compile_seconds: float | None = None


class TargetCheck:
    """Every 5 epochs, the per-sample sampled total of weights given as LatentLab's
    layout (:data:`LAYERS`, each ``(n_in + 1, n_out)``), through a LatentLab model, so
    every contender is judged by the same evaluation."""

    def __init__(self, data: np.ndarray, model: Model) -> None:
        self.data, self.model = data, model
        self.watch = TargetWatch(ARTICLE_TARGET, data, seed=0)

    def after_epoch(self, epoch: int, train_seconds: float,
                    weights: Callable[[], dict[str, np.ndarray]]) -> None:
        if self.watch.epoch is not None or epoch % self.watch.every:
            return
        if self._total_of(weights) <= self.watch.target:
            self.watch.epoch, self.watch.seconds = epoch, train_seconds

    def final(self, weights: Callable[[], dict[str, np.ndarray]]) -> float:
        """The sampled total of the contender's weights at the end of its run."""
        return self._total_of(weights)

    def _total_of(self, weights: Callable[[], dict[str, np.ndarray]]) -> float:
        for name, value in weights().items():
            self.model.store.value_views[name][...] = value
        return self.watch.sampled_total(self.model, 1.0)


class LatentLabDraws:
    """Each epoch's sample order and noise exactly as LatentLab's trainer draws them
    (:class:`~latentlab.core.trainer.BatchSource` on the config's seed), so every
    contender trains on the same batches with the same noise from the same initial
    weights: the same run up to float rounding, which leaves the speed of a step as the
    only difference between them."""

    def __init__(self, data: np.ndarray, config: TrainConfig) -> None:
        self.source = BatchSource(data, config.batch_size, noise_rows=2,
                                  rng=np.random.default_rng(config.seed))

    def next_epoch(self) -> tuple[np.ndarray, np.ndarray]:
        """``(order: (N,), noise: (N, 2) float32)``; noise row ``i`` goes with position
        ``i`` of the order (batch ``j`` takes rows ``j B`` to ``(j + 1) B``)."""
        self.source.shuffle()
        assert self.source.noise is not None
        return self.source.order.copy(), self.source.noise.copy()


def initial_weights(input_dim: int, hidden: int) -> dict[str, np.ndarray]:
    model = build_model(TrainConfig(hidden_dim=hidden).model_config(input_dim), seed=0)
    return {name: model.store.value_views[name].copy() for name in LAYERS}


# -- LatentLab ------------------------------------------------------------------------
def latentlab_vae(data: np.ndarray, epochs: int) -> Run:
    config = TrainConfig(epochs=epochs)
    trainer = Trainer(config, data)
    watch = TargetWatch(ARTICLE_TARGET, data, config.seed)
    for report in trainer.train():
        watch.observe(trainer.model, report, config.beta)
    return Run(sum(r.seconds for r in trainer.history), watch.seconds, watch.epoch,
               watch.sampled_total(trainer.model, config.beta))


def latentlab_stack(data: np.ndarray, k: int, epochs: int) -> float:
    configs = [TrainConfig(epochs=epochs, beta=0.25 * (i + 1)) for i in range(k)]
    stack = StackedTrainer(configs, data)
    started = time.perf_counter()
    for _ in stack.train():
        pass
    return time.perf_counter() - started


def latentlab_alone(data: np.ndarray, epochs: int) -> float:
    trainer = Trainer(TrainConfig(epochs=epochs), data)
    started = time.perf_counter()
    for _ in trainer.train():
        pass
    return time.perf_counter() - started


# -- the article's per-sample loop ----------------------------------------------------
def article_epoch_seconds(data: np.ndarray, epochs: int) -> float:
    sys.path.insert(0, str(HERE))
    from bench_train import article_loop  # the loop as issue 2 measured it

    epoch_seconds, _ = article_loop(data.astype(np.float64), epochs)
    return min(epoch_seconds)


# -- PyTorch --------------------------------------------------------------------------
def torch_vae(data: np.ndarray, epochs: int, compiled: bool) -> Run | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    init = initial_weights(data.shape[1], 32)
    params = {}
    for name, wb in init.items():
        params[name + ".W"] = torch.tensor(wb[:-1], requires_grad=True)
        params[name + ".b"] = torch.tensor(wb[-1], requires_grad=True)
    config = TrainConfig(epochs=epochs)
    opt = torch.optim.Adam(params.values(), lr=config.lr)
    x_all = torch.from_numpy(data)
    batch = config.batch_size

    def loss_fn(x: torch.Tensor, eps: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        p = params
        h = torch.relu(x @ p["enc1.W"] + p["enc1.b"])
        stats = h @ p["heads.W"] + p["heads.b"]
        mu, log_var = stats[:, :2], stats[:, 2:]
        z = mu + torch.exp(0.5 * log_var) * eps
        logits = torch.relu(z @ p["dec1.W"] + p["dec1.b"]) @ p["dec2.W"] + p["dec2.b"]
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = 0.5 * torch.sum(mu * mu + torch.exp(log_var) - log_var - 1.0)
        return (bce + beta * kl) / x.shape[0]

    step_loss = torch.compile(loss_fn, dynamic=False) if compiled else loss_fn
    check = TargetCheck(data, build_model(TrainConfig().model_config(data.shape[1])))

    def weights() -> dict[str, np.ndarray]:
        return {name: np.vstack([params[name + ".W"].detach().numpy(),
                                 params[name + ".b"].detach().numpy()[None]])
                for name in LAYERS}

    compile_seconds = None
    if compiled:  # compile both batch shapes before the clock starts
        started = time.perf_counter()
        for rows in {batch, len(data) % batch or batch}:
            step_loss(x_all[:rows], torch.zeros(rows, 2), torch.tensor(0.0)).backward()
        opt.zero_grad(set_to_none=True)
        compile_seconds = time.perf_counter() - started
    n, train_seconds = len(data), 0.0
    draws = LatentLabDraws(data, config)
    for epoch in range(epochs):
        order, noise = draws.next_epoch()  # drawn before the clock, as JAX's are
        order_t, noise_t = torch.from_numpy(order), torch.from_numpy(noise)
        started = time.perf_counter()
        beta = torch.tensor(config.beta_at(epoch))  # a tensor: no recompile per value
        for group in opt.param_groups:
            group["lr"] = config.lr_at(epoch)
        for lo in range(0, n, batch):
            x = x_all[order_t[lo:lo + batch]]
            loss = step_loss(x, noise_t[lo:lo + batch], beta)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        train_seconds += time.perf_counter() - started
        check.after_epoch(epoch + 1, train_seconds, weights)
    return Run(train_seconds, check.watch.seconds, check.watch.epoch, check.final(weights),
               compile_seconds)


# -- JAX ------------------------------------------------------------------------------
def jax_vae(data: np.ndarray, epochs: int, hidden: int = 32, batch: int = TrainConfig.batch_size,
            check_target: bool = True) -> Run | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_platforms", "cpu")
    init = initial_weights(data.shape[1], hidden)
    k = 2
    config = TrainConfig(hidden_dim=hidden, batch_size=batch, epochs=epochs)
    b1, b2, adam_eps = 0.9, 0.999, 1e-8

    def loss_fn(params: dict, x: jax.Array, eps: jax.Array, beta: jax.Array) -> jax.Array:
        def dense(name: str, a: jax.Array) -> jax.Array:
            return a @ params[name][:-1] + params[name][-1]
        stats = dense("heads", jax.nn.relu(dense("enc1", x)))
        mu, log_var = stats[:, :k], stats[:, k:]
        z = mu + jnp.exp(0.5 * log_var) * eps
        logits = dense("dec2", jax.nn.relu(dense("dec1", z)))
        bce = jnp.sum(jax.nn.softplus(logits) - x * logits)
        kl = 0.5 * jnp.sum(mu * mu + jnp.exp(log_var) - log_var - 1.0)
        return (bce + beta * kl) / x.shape[0]

    def step(state: tuple, x: jax.Array, eps: jax.Array, beta: jax.Array,
             lr: jax.Array) -> tuple:
        params, m, v, t = state
        loss, grads = jax.value_and_grad(loss_fn)(params, x, eps, beta)
        t = t + 1
        m = jax.tree.map(lambda m_, g: b1 * m_ + (1 - b1) * g, m, grads)
        v = jax.tree.map(lambda v_, g: b2 * v_ + (1 - b2) * g * g, v, grads)
        scale = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        params = jax.tree.map(lambda p, m_, v_: p - scale * m_ / (jnp.sqrt(v_) + adam_eps),
                              params, m, v)
        return (params, m, v, t), loss

    @jax.jit
    def epoch_fn(state: tuple, xb: jax.Array, epsb: jax.Array, beta: jax.Array,
                 lr: jax.Array) -> tuple:
        return jax.lax.scan(lambda s, inp: step(s, inp[0], inp[1], beta, lr), state,
                            (xb, epsb))

    tail_fn = jax.jit(step)
    params = {name: jnp.asarray(w) for name, w in init.items()}
    state = (params, jax.tree.map(jnp.zeros_like, params),
             jax.tree.map(jnp.zeros_like, params), jnp.float32(0.0))
    n, d = data.shape
    full, rest = divmod(n, batch)

    def run_epoch(state: tuple, epoch: int, order: np.ndarray, noise: np.ndarray) -> tuple:
        beta, lr = jnp.float32(config.beta_at(epoch)), jnp.float32(config.lr_at(epoch))
        xb = data[order[:full * batch]].reshape(full, batch, d)
        state, _ = epoch_fn(state, xb, noise[:full * batch].reshape(full, batch, k), beta, lr)
        if rest:
            state, _ = tail_fn(state, data[order[full * batch:]], noise[full * batch:], beta,
                               lr)
        jax.block_until_ready(state)
        return state

    started = time.perf_counter()  # compile: one epoch run on a throw-away state
    run_epoch(state, 0, *LatentLabDraws(data, config).next_epoch())
    compile_seconds = time.perf_counter() - started
    check = TargetCheck(data, build_model(config.model_config(d)))

    def weights() -> dict[str, np.ndarray]:
        return {name: np.asarray(w) for name, w in state[0].items()}

    train_seconds = 0.0
    draws = LatentLabDraws(data, config)
    for epoch in range(epochs):
        order, noise = draws.next_epoch()
        started = time.perf_counter()
        state = run_epoch(state, epoch, order, noise)
        train_seconds += time.perf_counter() - started
        if check_target:
            check.after_epoch(epoch + 1, train_seconds, weights)
    if not check_target:
        return Run(train_seconds, compile_seconds=compile_seconds)
    return Run(train_seconds, check.watch.seconds, check.watch.epoch, check.final(weights),
               compile_seconds)


# -- 60,000 images ----------------------------------------------------------------------
def big_set(n: int) -> np.ndarray:
    from latentlab.core.synthetic import stroke_images

    images, _ = stroke_images(n, seed=0)
    return np.ascontiguousarray(images.reshape(n, -1), dtype=np.float32)


def latentlab_big_epoch_in_child(n: int) -> dict:
    """One LatentLab epoch in a fresh process: its seconds and the process's peak RSS."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent.
    code = ("import json, sys; sys.path.insert(0, sys.argv[2]);"
            "from run import big_set, latentlab_big_epoch, peak_rss_mb;"
            "s = latentlab_big_epoch(big_set(int(sys.argv[1])));"
            "print(json.dumps({'seconds': s, 'peak_rss_mb': peak_rss_mb()}))")
    out = subprocess.run([sys.executable, "-c", code, str(n), str(HERE)], check=True,
                         capture_output=True, text=True, env={**os.environ,
                                                              "PYTHONPATH": str(ROOT)})
    result: dict = json.loads(out.stdout.splitlines()[-1])
    return result


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latentlab_big_epoch(data: np.ndarray) -> float:
    limit_blas_threads(1)
    config = TrainConfig(hidden_dim=256, batch_size=recommended_batch_size(len(data)),
                         epochs=1)
    trainer = Trainer(config, data)
    trainer.run_epoch()
    return trainer.history[-1].seconds


# -- the table --------------------------------------------------------------------------
class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, name: str, value: str, target: str = "", verdict: str = "") -> None:
        self.rows.append((name, value, target, verdict))

    def render(self) -> str:
        widths = [max(len(r[i]) for r in [("figure", "measured", "target", ""), *self.rows])
                  for i in range(4)]
        lines = []
        for row in [("figure", "measured", "target", "ratio / verdict"), *self.rows]:
            lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                         + " |")
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)


def _best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.3f} s"


def digits_section(table: Table, data: np.ndarray, epochs: int, repeats: int,
                   loop_epochs: int) -> None:
    contenders: dict[str, Callable[[], Run | None]] = {
        "LatentLab": lambda: latentlab_vae(data, epochs),
        "PyTorch eager": lambda: torch_vae(data, epochs, compiled=False),
        "torch.compile": lambda: torch_vae(data, epochs, compiled=True),
        "JAX-jit (lax.scan)": lambda: jax_vae(data, epochs),
    }
    runs: dict[str, list[Run]] = {name: [] for name in contenders}
    missing: set[str] = set()
    for repeat in range(repeats):
        for name, contender in contenders.items():
            # PyTorch is 10-100x slower here: one run of each is enough for its ratio.
            if name in missing or (name.startswith(("PyTorch", "torch")) and repeat > 0):
                continue
            result = contender()
            if result is None:
                missing.add(name)
            else:
                runs[name].append(result)
    ours = _best(runs["LatentLab"])
    loop = article_epoch_seconds(data, loop_epochs) * epochs
    table.add(f"digits VAE, {epochs} epochs: LatentLab", _fmt(ours.seconds))
    table.add("  the article's per-sample loop (projected)", f"{loop:.1f} s", "",
              f"{loop / ours.seconds:.0f}x slower")
    jax_best = _best(runs["JAX-jit (lax.scan)"]) if runs["JAX-jit (lax.scan)"] else None
    for name in ("PyTorch eager", "torch.compile", "JAX-jit (lax.scan)"):
        if not runs[name]:
            package = "jax" if name.startswith("JAX") else "torch"
            table.add(f"  {name}", "not importable", "", INSTALL[package])
            continue
        best = _best(runs[name])
        extra = "" if best.compile_seconds is None else f" (+{best.compile_seconds:.2f} s compile)"
        target = "LatentLab ≤" if name.startswith("JAX") else ""
        table.add(f"  {name}", _fmt(best.seconds) + extra, target,
                  f"{best.seconds / ours.seconds:.2f}x LatentLab's time")
    best_to = min((r for r in runs["LatentLab"] if r.seconds_to_target is not None),
                  key=lambda r: r.seconds_to_target or 0.0, default=ours)
    table.add(f"time to {ARTICLE_TARGET} (sampled): LatentLab",
              f"{_fmt(best_to.seconds_to_target)} (epoch {best_to.epochs_to_target})")
    for name in ("PyTorch eager", "torch.compile", "JAX-jit (lax.scan)"):
        reached = [r for r in runs[name] if r.seconds_to_target is not None]
        if not reached:
            if runs[name]:
                table.add(f"  {name}", f"not reached in {epochs} epochs")
            continue
        best = min(reached, key=lambda r: r.seconds_to_target or 0.0)
        assert best.seconds_to_target is not None and best_to.seconds_to_target is not None
        with_compile = (best.seconds_to_target + (best.compile_seconds or 0.0))
        verdict = f"{best.seconds_to_target / best_to.seconds_to_target:.2f}x LatentLab's"
        if best.compile_seconds is not None:
            verdict += f"; {with_compile / best_to.seconds_to_target:.2f}x with compile"
        table.add(f"  {name}", f"{_fmt(best.seconds_to_target)} (epoch {best.epochs_to_target})",
                  "LatentLab ≤" if name.startswith("JAX") else "", verdict)
    table.add("final total, z sampled (LatentLab, fixed noise)",
              f"{ours.final_total_sampled:.3f}", "≤ 24.5")
    if jax_best is not None and jax_best.final_total_sampled is not None:
        table.add("  JAX-jit, same recipe", f"{jax_best.final_total_sampled:.3f}")


def stacked_section(table: Table, data: np.ndarray, epochs: int, repeats: int) -> None:
    sizes = (1, 2, 4, 8, 16)
    alone: list[float] = []
    stacks: dict[int, list[float]] = {k: [] for k in sizes}
    for _ in range(repeats):
        alone.append(latentlab_alone(data, epochs))
        for k in sizes:
            stacks[k].append(latentlab_stack(data, k, epochs))
    one = min(alone)
    table.add(f"one VAE alone, {epochs} epochs", _fmt(one))
    for k in sizes:
        ratio = min(stacks[k]) / one
        target = "≤ 3.5x one" if k == 8 else ""
        verdict = f"{ratio:.2f}x one" + (("  ok" if ratio <= 3.5 else "  MISSED") if k == 8
                                          else "")
        table.add(f"  K = {k} stacked", _fmt(min(stacks[k])), target, verdict)


def big_section(table: Table, n: int, repeats: int) -> None:
    batch = recommended_batch_size(n)
    ours: list[dict] = []
    theirs: list[Run] = []
    data = None
    for _ in range(repeats):
        ours.append(latentlab_big_epoch_in_child(n))
        if data is None:
            data = big_set(n)
        result = jax_vae(data, 1, hidden=256, batch=batch, check_target=False)
        if result is not None:
            theirs.append(result)
    best = min(r["seconds"] for r in ours)
    peak = max(r["peak_rss_mb"] for r in ours)
    table.add(f"{n:,} images, 784→256→2, one epoch at batch {batch}: LatentLab", _fmt(best))
    if theirs:
        jax_best = _best(theirs).seconds
        verdict = f"{best / jax_best:.2f}x JAX's" + ("  ok" if best <= jax_best else "  MISSED")
        table.add("  JAX-jit, same work", _fmt(jax_best), "LatentLab ≤", verdict)
    else:
        table.add("  JAX-jit", "not importable", "", INSTALL["jax"])
    table.add("  LatentLab peak RSS (data + training)", f"{peak:.0f} MB", "≤ 600 MB",
              "ok" if peak <= 600 else "MISSED")


def gui_section(table: Table, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "gui.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
        subprocess.run([sys.executable, str(HERE / "bench_gui.py"), "--seconds", str(seconds),
                        "--json", str(out)], check=True, env=env, capture_output=True)
        figures = json.loads(out.read_text())
    live = figures["live"]
    for name, key, target, ok in (
            ("window: worst event-loop gap", "worst_gap_ms", "≤ 50 ms", lambda v: v <= 50),
            ("window: p99 event-loop gap", "p99_gap_ms", "≤ 16 ms", lambda v: v <= 16),
            ("window: map updates per second", "map_updates_per_s", "≥ 30", lambda v: v >= 30),
            ("window: click → decoded (median)", "decode_ms", "≤ 5 ms", lambda v: v <= 5)):
        unit = "" if key == "map_updates_per_s" else " ms"
        table.add(name, f"{live[key]}{unit}", target, "ok" if ok(live[key]) else "MISSED")
    first = figures["launch_to_first_trained_frame_pretrained_s"]
    table.add("window: launch → first trained frame", f"{first} s", "≤ 1.5 s",
              "ok" if first <= 1.5 else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 repeat, 100 epochs, 10,000 big-set images, 5 s of GUI")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    args = parser.parse_args()
    limit_blas_threads(1)  # as the app and the CLI run (tiny matrices)
    skip = set(filter(None, args.skip.split(",")))
    repeats = 1 if args.quick else args.repeats
    epochs = 100 if args.quick else 300
    data = load_digits().images.astype(np.float32)
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    table = Table()
    cores = os.sched_getaffinity(0)
    # One core for every training contender (threads started from here on inherit it).
    os.sched_setaffinity(0, {min(cores)})
    if "digits" not in skip:
        digits_section(table, data, epochs, repeats, loop_epochs=2 if args.quick else 5)
    if "stacked" not in skip:
        stacked_section(table, data, 30 if args.quick else 60, repeats)
    if "60k" not in skip:
        big_section(table, 10_000 if args.quick else 60_000, repeats)
    os.sched_setaffinity(0, cores)
    if "gui" not in skip:
        gui_section(table, 5.0 if args.quick else 10.0)
    print(table.render())
    print(f"(load average at the end: {os.getloadavg()[0]:.2f}; peak RSS of this process "
          f"{peak_rss_mb():.0f} MB)")


if __name__ == "__main__":
    main()
