"""Locate bundled resources in the source tree, an installed wheel or a frozen app."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_path(name: str) -> Path:
    """Return the path of a bundled resource file such as ``"digits.npz"``.

    Looks, in order, in a PyInstaller bundle (``sys._MEIPASS/resources``), the
    source checkout's top-level ``resources/`` folder, and the installed
    ``latentlab/resources`` package data.
    """
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        candidates.append(Path(frozen_root) / "resources")
    package_dir = Path(__file__).resolve().parent
    candidates.append(package_dir.parent / "resources")
    candidates.append(package_dir / "resources")
    for folder in candidates:
        path = folder / name
        if path.exists():
            return path
    searched = ", ".join(str(folder) for folder in candidates)
    raise FileNotFoundError(f"LatentLab resource {name!r} not found (searched {searched})")
