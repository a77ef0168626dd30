"""Cost of refusing each file of the malformed corpus (tests/reliability/corpus.py): peak
RSS above the process's baseline (Linux: VmHWM reset through /proc/self/clear_refs just
before the load) and wall time, each file in a fresh process.

    PYTHONPATH=. python benchmarks/bench_refusals.py

Prints one line per file and the worst figures; issue 8 asks for ≤ 100 MB and ≤ 2 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.corpus import build_corpus  # noqa: E402

CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from latentlab.core import load_dataset, load_model

    kind, path, warm_data, warm_model = sys.argv[1:5]
    load_dataset(warm_data); load_model(warm_model)  # imports and first-use allocations

    def status(field):
        return next(int(line.split()[1]) for line in open("/proc/self/status")
                    if line.startswith(field + ":"))

    with open("/proc/self/clear_refs", "w") as refs:  # reset VmHWM (peak RSS) to VmRSS
        refs.write("5")
    base = status("VmRSS")
    started = time.perf_counter()
    try:
        (load_dataset if kind == "data" else load_model)(path)
        outcome = "LOADED"
    except Exception as exc:
        outcome = type(exc).__name__
    seconds = time.perf_counter() - started
    peak = status("VmHWM")
    print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_mb": (peak - base) / 1024}))
""")


def main() -> None:
    import numpy as np

    from latentlab.core import TrainConfig, Trainer, load_digits, save_model

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        built = build_corpus(folder / "corpus")
        warm_data = folder / "warm.npz"
        np.savez_compressed(warm_data, images=(load_digits().images[:50] * 255).astype(np.uint8))
        trainer = Trainer(TrainConfig(epochs=1), load_digits().images)
        warm_model = save_model(folder / "warm-model.npz", trainer.model, trainer.config)
        worst_mb, worst_s = (0.0, ""), (0.0, "")
        for case, path in built:
            result = subprocess.run([sys.executable, "-c", CHILD, case.loader, str(path),
                                     str(warm_data), str(warm_model)],
                                    capture_output=True, text=True, timeout=120, check=True)
            figures = json.loads(result.stdout)
            print(f"{case.name:28s} {figures['outcome']:15s} {figures['peak_mb']:7.1f} MB "
                  f"{figures['seconds'] * 1000:8.1f} ms", flush=True)
            worst_mb = max(worst_mb, (figures["peak_mb"], case.name))
            worst_s = max(worst_s, (figures["seconds"], case.name))
        print(f"\n{len(built)} files; worst peak above baseline {worst_mb[0]:.1f} MB "
              f"({worst_mb[1]}), slowest refusal {worst_s[0] * 1000:.0f} ms ({worst_s[1]})")


if __name__ == "__main__":
    main()
