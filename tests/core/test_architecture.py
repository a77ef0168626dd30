"""The core is pure NumPy: it never imports Qt or pyqtgraph."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import latentlab.core

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "latentlab.gui")


def test_core_sources_import_no_gui_module() -> None:
    core_dir = Path(latentlab.core.__file__).parent
    offenders = []
    for path in sorted(core_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module if node.level == 0 else "." * node.level + node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)
                          or n.startswith("..gui")]
    assert offenders == []
    assert len(list(core_dir.glob("*.py"))) >= 8  # the scan really looked at the core


def test_importing_the_core_and_training_loads_no_qt() -> None:
    code = (
        "import sys; import latentlab.core as c; import latentlab.cli; "
        "t = c.Trainer(c.TrainConfig(epochs=1), c.load_digits().images); list(t.train()); "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        "or m.startswith('latentlab.gui')]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
