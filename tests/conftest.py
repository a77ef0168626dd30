"""Shared pytest configuration.

Qt must be told to run headless *before* anything imports it, so the environment is set at
the very top of this file, ahead of every other import.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

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
