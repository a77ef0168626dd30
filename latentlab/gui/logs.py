"""The window's log: Python ``logging`` for the ``latentlab`` package, into a file in the
user's state folder (``$XDG_STATE_HOME/latentlab/latentlab.log``, by default
``~/.local/state/latentlab/latentlab.log``), so a failure keeps its whole story (the
traceback) even when only its summary reached the screen. Tests point ``XDG_STATE_HOME`` at
a temporary folder (``tests/conftest.py``)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import types
from pathlib import Path

LOGGER = "latentlab"
MAX_BYTES = 1_000_000  # then the file rolls over, keeping two old ones
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_path() -> Path:
    """Where the log file lives (the folder need not exist yet)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "latentlab" / "latentlab.log"


def setup_logging() -> Path | None:
    """Send the package's log records to :func:`log_path` (once per path; idempotent) and
    log uncaught exceptions with their traceback. Returns the file, or None when it cannot
    be written (records then reach stderr only)."""
    path = log_path()
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=2,
                                                       encoding="utf-8", delay=True)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    for old in [h for h in logger.handlers if isinstance(h, logging.FileHandler)]:
        logger.removeHandler(old)  # a test or a new state folder: one file at a time
        old.close()
    logger.addHandler(handler)
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _log_uncaught
    return path


def _log_uncaught(kind: type[BaseException], value: BaseException,
                  tb: types.TracebackType | None) -> None:
    """An exception nobody caught (e.g. in a Qt slot): into the log, then to stderr."""
    logging.getLogger(LOGGER).error("Uncaught exception", exc_info=(kind, value, tb))
    sys.__excepthook__(kind, value, tb)


__all__ = ["log_path", "setup_logging"]
