"""The application as a process: ``python -m latentlab --smoke`` and a 60-second soak of the
live, training window. Both must exit 0 without Qt's thread-destruction abort; the soak is
what catches a binding build that kills a live app within a minute."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYQTGRAPH_QT_LIB"] = "PySide6"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _check_clean_exit(result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "QThread: Destroyed while thread" not in output
    assert "Traceback" not in output
    assert "none_dealloc" not in output


def test_smoke_subprocess_exits_0(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "latentlab", "--smoke"], cwd=tmp_path, env=_env(tmp_path),
        capture_output=True, text=True, timeout=180)
    _check_clean_exit(result)
    assert "smoke: window shown" in result.stdout
    assert "smoke check passed" in result.stdout


def test_smoke_keeps_its_pngs_in_export_dir(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    code = (f"import sys; from pathlib import Path; from latentlab.gui.app import run; "
            f"sys.exit(run([], smoke=True, export_dir=Path({str(out)!r})))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(tmp_path),
                            capture_output=True, text=True, timeout=180)
    _check_clean_exit(result)
    from PySide6.QtGui import QImage

    image = QImage(str(out / "latent-map.png"))
    assert image.width() == 1280 and 300 < image.height() < 3000  # the map's own aspect
    assert not QImage(str(out / "gallery.png")).isNull()


SOAK = textwrap.dedent("""
    import random, sys
    from PySide6.QtCore import QTimer
    from latentlab.gui.app import _application
    from latentlab.gui.main_window import MainWindow

    POKES = int(sys.argv[1])
    app = _application([])
    w = MainWindow()
    w.show()
    w.panels["training"].epochs_box.setValue(1_000_000)
    rng = random.Random(0)
    pokes = [0]
    frames = [0]
    late = [0]  # frames after the last poke: the soak ends at the first, so it was live

    def count(_p):
        frames[0] += 1
        if pokes[0] >= POKES:
            late[0] += 1

    w.controller.updated.connect(count)

    def poke():
        if pokes[0] >= POKES:
            if late[0] > 0:  # a window that stopped training never quits: the hang guard
                w.close()
                app.quit()
            return
        pokes[0] += 1
        r = rng.random()
        if r < 0.3:
            w.panels["training"].set_beta(10 ** rng.uniform(-1, 1))
        elif r < 0.6:
            w.session.set_current_xy(rng.uniform(-2, 2), rng.uniform(-2, 2))
        elif r < 0.7:
            w.session.set_map_mode(rng.choice(["vae", "ae", "both"]))
        elif r < 0.8:
            w.panels["gallery"].resample()
        if not w.controller.running and r > 0.5:
            w.training.toggle()

    timer = QTimer()
    timer.timeout.connect(poke)
    timer.start(250)
    QTimer.singleShot(0, w.training.toggle)
    status = app.exec()
    print(f"soak finished: status {status}, {pokes[0]} pokes, {frames[0]} frames, "
          f"{late[0]} late frames, {w.controller.jobs_started} training runs", flush=True)
    sys.exit(status)
""")

#: user actions in a soak, one per 250 ms timer tick (about a minute on an idle machine):
#: its length is counted in the window's own events, never measured on a clock
SOAK_POKES = 240
#: only against a hung window; a busy machine stretches the soak, which passes all the same
SOAK_HANG_GUARD_S = 900


@pytest.mark.slow
def test_soak_live_training_window_through_240_user_actions_exits_0(tmp_path: Path) -> None:
    script = tmp_path / "soak.py"
    script.write_text(SOAK)
    result = subprocess.run([sys.executable, str(script), str(SOAK_POKES)], cwd=tmp_path,
                            env=_env(tmp_path), capture_output=True, text=True,
                            timeout=SOAK_HANG_GUARD_S)
    _check_clean_exit(result)
    assert f"soak finished: status 0, {SOAK_POKES} pokes" in result.stdout
    late = int(result.stdout.split(" late frames")[0].rsplit(" ", 1)[1])
    assert late > 0  # it ended on a frame that arrived after its last action: live throughout
