"""Refusing any corpus file fits in 100 MB above the baseline: every file is loaded in a
subprocess whose address space is capped at its size after start-up plus 100 MB, and must
still be refused by the loader's own error — never a MemoryError, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from latentlab.core import TrainConfig, Trainer, load_digits, save_model

from .corpus import CASES, build_corpus

ROOT = Path(__file__).resolve().parents[2]
HEADROOM = 100 << 20

CHILD = textwrap.dedent("""
    import json, resource, sys
    from latentlab.core import DataFileError, ModelFileError, load_dataset, load_model

    good_data, good_model, listing = sys.argv[1:4]
    load_dataset(good_data)  # warm up: every import and first-use allocation happens here
    load_model(good_model)
    size = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                if line.startswith("VmSize:"))
    limit = size + int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    results = {}
    for line in open(listing):
        kind, path = line.rstrip("\\n").split("\\t")
        load = load_dataset if kind == "data" else load_model
        try:
            load(path)
            results[path] = "loaded"
        except (DataFileError, ModelFileError) as exc:
            results[path] = type(exc).__name__ + ": " + str(exc)
        except BaseException as exc:
            results[path] = "CRASH " + type(exc).__name__ + ": " + str(exc)[:200]
    print(json.dumps(results))
""")


def test_every_refusal_fits_in_100_mb(tmp_path: Path) -> None:
    built = build_corpus(tmp_path / "corpus")
    good_data = tmp_path / "good.npz"
    np.savez_compressed(good_data, images=(load_digits().images[:50] * 255).astype(np.uint8))
    trainer = Trainer(TrainConfig(epochs=1), load_digits().images)
    list(trainer.train())
    good_model = save_model(tmp_path / "good-model.npz", trainer.model, trainer.config,
                            trainer.history)
    listing = tmp_path / "listing.tsv"
    listing.write_text("".join(f"{case.loader}\t{path}\n" for case, path in built))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", CHILD, str(good_data), str(good_model),
                             str(listing), str(HEADROOM)], capture_output=True, text=True,
                            timeout=600, env=env, check=False)
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert len(results) == len(CASES)
    for case, path in built:
        outcome = results[str(path)]
        expected = "DataFileError" if case.loader == "data" else "ModelFileError"
        assert outcome.startswith(expected + ": "), outcome
        assert "MemoryError" not in outcome and "memory" not in outcome.lower(), outcome
