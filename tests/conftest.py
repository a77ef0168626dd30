"""Shared pytest configuration.

Qt must be told to run headless *before* anything imports it, so the environment is set at
the very top of this file, ahead of every other import.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point XDG_CONFIG_HOME (and so every QSettings file) and XDG_STATE_HOME (and so the
    log file) at temporary folders.

    Tests never read or write the user's real LatentLab settings or log; subprocesses
    started by tests inherit the same temporary folders through the environment.
    """
    config_home = tmp_path_factory.mktemp("config-home")
    os.environ["XDG_CONFIG_HOME"] = str(config_home)
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state-home"))
    return config_home


_EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the test process with pytest's own exit status once every report is written.

    A fresh-clone CI run (751 passed) and three hand-picked runs by a helper ended in a
    segmentation fault during interpreter finalisation, after the summary, with no
    traceback; the likeliest cause is Python tearing down PySide6/pyqtgraph objects in an
    order Qt does not survive (not proven). The app's own exit paths are tested in
    subprocesses (tests/gui/test_subprocess.py and the close tests); what crashed was only
    the test process's teardown. So the process exits without finalisation (deleting Qt's
    leftovers first did not help: a loaded run still ended in a segmentation fault after its
    summary, which, as the process then ended with os._exit, suggests the deleting itself
    crashed).

    Measured on 3 Dec 2026 (PySide6 6.10.3, pyqtgraph 0.14.0, Python 3.11.7, 2 loaded
    cores) with this exit disabled: test_latent_map_pca.py + test_layout.py +
    core/test_cli.py ran 14 times (10 of them under gdb): 42 passed each time, 13 exits
    recorded as 0 (the 14th not recorded; its log shows no fault), no segmentation fault,
    so no backtrace was obtained and the crash stays unexplained (the whole suite was not
    run with this exit disabled: too slow on the loaded machine). What
    does outlive the session (shiboken's valid wrappers at pytest_unconfigure after
    test_latent_map_pca.py + test_layout.py): the last
    test's MainWindow (closed, its deleteLater never processed, so still a top-level
    widget), Python-owned pyqtgraph items (PlotItem, GraphicsLayout, ScatterPlotItem, 53
    QGraphicsTextItem), some outside any scene, the window's LabSession with its background
    _WorkerThread and the training QThread (not running), and Python-owned QPixmap, QImage,
    QPicture and QIcon (not QObjects, so, as we read PySide6's exit handler, not deleted
    with the QApplication but after it). Those are the candidates; none was shown to crash.
    """
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None:  # pytest stopped before the session ran (usage error, --help)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
