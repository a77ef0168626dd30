"""Start the LatentLab window: ``run(argv)`` for ``latentlab`` and ``latentlab --smoke``.

The smoke check opens the real window, lets the real core train a few epochs in the real
worker thread, clicks the latent map, exports a PNG to a temporary folder, closes the
window and returns 0 — or prints what went wrong and returns 1. It never touches the
user's settings (they are redirected to the temporary folder).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

SMOKE_TIMEOUT_S = 60.0


def _application(argv: list[str]) -> QApplication:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    import latentlab

    from .main_window import APPLICATION, ORGANIZATION

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["latentlab", *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(latentlab.__version__)
    app.setDesktopFileName("latentlab")
    try:
        from latentlab.paths import resource_path

        for name in ("latentlab.svg", "latentlab.png", "icons/latentlab.svg"):
            try:
                app.setWindowIcon(QIcon(str(resource_path(name))))
                break
            except FileNotFoundError:
                continue
    except ImportError:  # pragma: no cover - paths is part of the package
        pass
    return app


def run(argv: list[str], smoke: bool = False) -> int:
    """Open the LatentLab window and run the Qt event loop; return the exit status.

    ``argv`` holds extra Qt arguments (without the program name). With ``smoke=True`` the
    window runs its self-check instead of waiting for the user (see module docstring).
    """
    if smoke:
        return _smoke(argv)
    app = _application(argv)
    from .main_window import MainWindow

    window = MainWindow()
    window.show()
    status = app.exec()
    window.shutdown()
    return int(status)


def _wait(app: QApplication, condition: Callable[[], bool], timeout: float, what: str) -> None:
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.002)


def _smoke(argv: list[str]) -> int:
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtGui import QImage
    from PySide6.QtTest import QTest

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="latentlab-smoke-") as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        app = _application(argv)
        from .main_window import MainWindow

        window = MainWindow()
        try:
            window.show()
            _wait(app, lambda: len(window.history("vae")) >= 5, SMOKE_TIMEOUT_S,
                  "five trained epochs")
            epochs = len(window.history("vae"))
            # Click the middle of the VAE map like a user would.
            m = window.map_panel.maps["vae"]
            view = window.map_panel.view
            centre = view.mapFromScene(m.vb.sceneBoundingRect().center())
            before = window.decode_view.decodes
            QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier, QPoint(centre.x(), centre.y()))
            _wait(app, lambda: window.decode_view.decodes > before, 10, "the click's decoding")
            z = window.decode_view.z("vae")
            if z is None or window.decode_view.image("vae") is None:
                raise RuntimeError("the click on the map decoded nothing")
            path = Path(tmp) / "latent-map.png"
            window.export_latent_map(path, 640, 480)
            image = QImage(str(path))
            if image.isNull() or (image.width(), image.height()) != (640, 480):
                raise RuntimeError(f"export wrote {image.width()}x{image.height()}, not 640x480")
            window.close()
            _wait(app, lambda: not window.controller.busy, 15, "the training thread to stop")
        except Exception:
            traceback.print_exc()
            window.close()
            return 1
        print(f"LatentLab smoke check passed: {epochs} epochs trained, clicked z = "
              f"({z[0]:.2f}, {z[1]:.2f}), exported {image.width()}x{image.height()} PNG, "
              f"{time.perf_counter() - started:.1f} s")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1:], smoke="--smoke" in sys.argv[1:]))
