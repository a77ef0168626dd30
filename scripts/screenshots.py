"""Screenshots of the real window for the README: the window at W×H after its first trained
frame, with settings in a temporary folder (the user's are never touched).

    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/screenshots.py 1024x700 out.png
    … scripts/screenshots.py 1024x700 out.png --map-mode both --raise interpolation

``--map-mode`` shows the map that way (vae, ae, both); ``--raise`` brings a tabbed panel
(gallery, tradeoff, interpolation, …) to the front.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def main(size: str, out: str, map_mode: str | None, panel: str | None) -> int:
    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    width, height = (int(v) for v in size.lower().split("x"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      tempfile.mkdtemp(prefix="latentlab-shots-"))
    app = QApplication(["latentlab"])
    from latentlab.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(width, height)
    window.show()
    if map_mode:
        window.session.set_map_mode(map_mode)
    if panel:
        window.docks[panel].raise_()
    ready: list[bool] = []
    window.firstTrainedFrame.connect(lambda: ready.append(True))
    deadline = time.monotonic() + 60
    settle = None
    while time.monotonic() < deadline and (settle is None or time.monotonic() < settle):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if ready and settle is None:
            settle = time.monotonic() + 1.5  # let the slower panels draw the frame
    if not ready:
        print("no trained frame within 60 s", file=sys.stderr)
        return 1
    if not window.grab().save(out):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(f"{out}: {window.width()}×{window.height()}")
    window.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", help="window size, e.g. 1024x700")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--map-mode", choices=("vae", "ae", "both"))
    parser.add_argument("--raise", dest="panel", help="panel to bring to the front")
    args = parser.parse_args()
    sys.exit(main(args.size, args.out, args.map_mode, args.panel))
