"""LatentLab's Qt interface (PySide6 + pyqtgraph). The model core never imports this.

``from latentlab.gui import MainWindow`` loads Qt lazily, so importing the package alone
(for example to reach :func:`latentlab.gui.app.run`) stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["MainWindow"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from .main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
