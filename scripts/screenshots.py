"""Screenshots of the real window for the README: the window at W×H after its first trained
frame, with settings in a temporary folder (the user's are never touched).

    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/screenshots.py 1024x700 out.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def main(size: str, out: str) -> int:
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
    sys.exit(main(sys.argv[1], sys.argv[2]))
