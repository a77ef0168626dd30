"""Keep OpenBLAS to one thread in LatentLab's processes (the window and the CLI).

LatentLab's matrices are tiny (at most 1,797 × 64 × 32). NumPy's bundled OpenBLAS
starts a thread per core for every such product, and those threads spin while they wait.
With the GUI thread and the training thread already sharing the cores, that made one
``model.encode`` of the digits take ~12 ms instead of ~0.25 ms on a two-core machine and
stalled the event loop for hundreds of milliseconds. One BLAS thread is faster for every
size LatentLab uses.

``OPENBLAS_NUM_THREADS`` only works before NumPy is imported, which an entry point
cannot guarantee, so this calls OpenBLAS's own ``*_set_num_threads`` through ``ctypes`` (what
``threadpoolctl`` does), and silently does nothing where no OpenBLAS is found.
"""

from __future__ import annotations

import ctypes
import glob
import os
from pathlib import Path

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def _openblas_candidates() -> list[str]:
    import numpy as np

    paths: list[str] = []
    maps = Path("/proc/self/maps")
    if maps.exists():
        try:
            for line in maps.read_text().splitlines():
                part = line.split()[-1] if line.split() else ""
                if "openblas" in part.lower() and part not in paths:
                    paths.append(part)
        except OSError:
            pass
    root = Path(np.__file__).resolve().parent
    for folder in (root.parent / "numpy.libs", root / ".dylibs"):
        for pattern in ("*openblas*.so*", "*openblas*.dylib", "*openblas*.dll"):
            for path in glob.glob(str(folder / pattern)):
                if path not in paths:
                    paths.append(path)
    return paths


def limit_blas_threads(n: int = 1) -> bool:
    """Ask every loaded OpenBLAS to use ``n`` threads; True if one accepted."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(n))  # for child processes
    done = False
    for path in _openblas_candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is None:
                continue
            try:
                setter.argtypes = [ctypes.c_int]
                setter.restype = None
                setter(int(n))
                done = True
            except (OSError, AttributeError, ctypes.ArgumentError):  # pragma: no cover
                continue
            break
    return done


__all__ = ["limit_blas_threads"]
