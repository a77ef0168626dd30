"""Closing the window in the middle of training, 20 times, each in its own process: every
process exits 0 with nothing on stderr — no Qt warning, no "QThread: Destroyed…", no
traceback. The close is scheduled a few hundred ms after the first training frame, so it
always lands mid-run however busy the machine is. (The β storm — a burst of 100 β changes
giving exactly one retrain with the last value — is tests/gui/test_main_window.py::
test_burst_of_beta_changes_gives_exactly_one_retrain_with_the_last_value.)"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 20
AT_ONCE = 2  # the machine has two cores
# The offscreen platform says this on every top-level show() (pyproject's qt_log_ignore).
BENIGN = "This plugin does not support propagateSizeHints()"

CLOSE_MID_TRAINING = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from latentlab.gui.app import _application
    from latentlab.gui.main_window import MainWindow

    delay_ms = int(sys.argv[1])
    app = _application([])
    window = MainWindow()
    window.show()
    window.panels["training"].epochs_box.setValue(1_000_000)
    state = {}

    def close():
        state["running"] = window.controller.running
        window.close()
        app.quit()

    def first_frame(*_):
        window.controller.updated.disconnect(first_frame)
        QTimer.singleShot(delay_ms, close)

    window.controller.updated.connect(first_frame)
    QTimer.singleShot(0, window.training.toggle)
    status = app.exec()
    print(f"running at close: {state.get('running')}", flush=True)
    sys.exit(status)
""")


def test_20_closes_mid_training_exit_0_without_warnings(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYQTGRAPH_QT_LIB": "PySide6",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    results = []
    for start in range(0, RUNS, AT_ONCE):
        batch = []
        for run in range(start, start + AT_ONCE):
            home = tmp_path / f"run{run}"
            home.mkdir()
            run_env = {**env, "XDG_CONFIG_HOME": str(home / "config"),
                       "XDG_STATE_HOME": str(home / "state")}
            delay_ms = 200 + 20 * run  # 200..580 ms after the first frame
            batch.append(subprocess.Popen(
                [sys.executable, "-c", CLOSE_MID_TRAINING, str(delay_ms)], cwd=home,
                env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for process in batch:
            out, err = process.communicate(timeout=180)
            results.append((process.returncode, out, err))
    for status, out, err in results:
        assert status == 0, err
        assert "running at close: True" in out, out + err
        assert [line for line in err.splitlines() if line != BENIGN] == [], err
