"""Start the LatentLab window: ``run(argv)`` for ``latentlab`` and ``latentlab --smoke``.

The smoke check opens the real window, lets the real core train a few epochs in the real
worker thread, clicks the latent map, exports PNGs (to a temporary folder, or to
``export_dir`` when given), closes the window and returns 0 — or prints what went wrong and
returns 1. It never touches the user's settings (they are redirected to a temporary folder).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

SMOKE_TIMEOUT_S = 60.0
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def _say(text: str) -> None:
    """Print one flushed line (a windowed frozen app on Windows has no stdout)."""
    if sys.stdout is not None:
        print(text, flush=True)


def _application(argv: list[str]) -> QApplication:
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    import latentlab
    from latentlab.paths import resource_path

    from .main_window import APPLICATION, ORGANIZATION

    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # Before the QApplication exists: the name becomes the X11 WM_CLASS, which ties the
        # window to StartupWMClass=LatentLab in resources/latentlab.desktop.
        QApplication.setApplicationName(APPLICATION)
        QApplication.setOrganizationName(ORGANIZATION)
        app = QApplication(["latentlab", *argv])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationVersion(latentlab.__version__)
    app.setDesktopFileName("latentlab")  # the Wayland app_id → latentlab.desktop
    icon = QIcon()
    for size in ICON_SIZES:
        try:
            icon.addFile(str(resource_path(f"icons/latentlab-{size}.png")), QSize(size, size))
        except FileNotFoundError:
            continue
    if not icon.isNull():
        app.setWindowIcon(icon)
    return app


# Qt's offscreen platform says this on every top-level show(); it is noise, not a warning
# about LatentLab, and the headless demo should print only what matters.
_BENIGN_QT_MESSAGES = ("This plugin does not support propagateSizeHints",)


def filter_benign_qt_messages() -> None:
    """Drop known-benign Qt messages and pass every other one to the previous handler (or,
    without one, to stderr as Qt would)."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    previous = None

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message.startswith(_BENIGN_QT_MESSAGES):
            return
        if previous is not None:
            previous(mode, context, message)
        elif sys.stderr is not None:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def run(argv: list[str], smoke: bool = False, export_dir: Path | None = None) -> int:
    """Open the LatentLab window and run the Qt event loop; return the exit status.

    ``argv`` holds extra Qt arguments (without the program name). With ``smoke=True`` the
    window runs its self-check instead of waiting for the user (see the module docstring);
    ``export_dir`` keeps the smoke check's PNGs there.
    """
    filter_benign_qt_messages()
    if smoke:
        return _smoke(argv, export_dir)
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


def _smoke(argv: list[str], export_dir: Path | None) -> int:
    from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
    from PySide6.QtGui import QImage
    from PySide6.QtTest import QTest

    from .panels import DecodeView, GalleryPanel, LatentMapPanel
    from .slots import Slot

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="latentlab-smoke-") as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        app = _application(argv)
        from .main_window import MainWindow

        window = MainWindow()
        out = Path(tmp) if export_dir is None else Path(export_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            window.show()
            shown = []
            QTimer.singleShot(0, lambda: shown.append(True))
            _wait(app, lambda: bool(shown), 10, "the window to be shown")
            _say(f"smoke: window shown after {time.perf_counter() - started:.2f} s")
            # Train a few epochs of the selected model in the worker thread.
            session = window.session
            before = session.slot(session.primary_slot).epoch
            window.training.toggle()
            _wait(app, lambda: session.slot(session.primary_slot).epoch >= before + 5,
                  SMOKE_TIMEOUT_S, "five trained epochs")
            window.training.pause()
            _wait(app, lambda: not window.controller.busy, 15, "training to pause")
            epochs = session.slot(session.primary_slot).epoch - before
            # Click the middle of the VAE map like a user would.
            map_panel = cast(LatentMapPanel, window.panels["map"])
            decode = cast(DecodeView, window.panels["decode"])
            m = map_panel.maps[Slot.VAE]
            view = map_panel.view
            centre = view.mapFromScene(m.vb.sceneBoundingRect().center())
            decodes = decode.decodes
            QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier, QPoint(centre.x(), centre.y()))
            _wait(app, lambda: decode.decodes > decodes, 10, "the click's decoding")
            z = decode.z(Slot.VAE)
            if z is None or decode.image(Slot.VAE) is None:
                raise RuntimeError("the click on the map decoded nothing")
            # 1280 wide at the map's own aspect ratio, so its equal-scale axes fill the PNG.
            height = map_panel.natural_export_height(1280)
            map_png = out / "latent-map.png"
            map_panel.export_png(str(map_png), 1280, height)
            image = QImage(str(map_png))
            if image.isNull() or (image.width(), image.height()) != (1280, height):
                raise RuntimeError(f"export wrote {image.width()}x{image.height()}, "
                                   f"not 1280x{height}")
            gallery = cast(GalleryPanel, window.panels["gallery"])
            gallery_png = Path(gallery.export_png(out / "gallery.png"))
            if QImage(str(gallery_png)).isNull():
                raise RuntimeError("the gallery export is not a readable PNG")
            window.close()
            _wait(app, lambda: not window.controller.busy, 15, "the training thread to stop")
        except Exception:
            traceback.print_exc()
            window.close()
            return 1
        _say(f"LatentLab smoke check passed: {epochs} epochs trained, clicked z = "
             f"({z[0]:.2f}, {z[1]:.2f}), {time.perf_counter() - started:.1f} s")
        if export_dir is not None:
            _say(f"exported {map_png}")
            _say(f"exported {gallery_png}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1:], smoke="--smoke" in sys.argv[1:]))
