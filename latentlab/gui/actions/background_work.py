"""One helper for the commands that read or write on the background worker: the busy bar
while it runs, the outcome (or what it raised) back on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..session import LabSession

T = TypeVar("T")


def run_in_background(session: LabSession, key: str, priority: int, busy: str,
                      work: Callable[[], T], arrived: Callable[[T], object],
                      failed: Callable[[BaseException], object]) -> None:
    """``work()`` on the session's background worker under ``key`` (a newer task of the
    same key cancels it) while the session says ``busy`` (the window shows a busy bar and
    stays live), then, on the GUI thread, ``arrived(result)`` or ``failed(exc)`` with what
    ``work`` raised (its traceback kept)."""
    session.set_busy(busy)

    def run(_stop: object) -> T | BaseException:
        try:
            return work()
        except Exception as exc:  # handed to the GUI thread with its traceback
            return exc

    def back(result: T | BaseException) -> None:
        session.set_busy("")
        if isinstance(result, BaseException):
            failed(result)
        else:
            arrived(result)

    session.background.submit(key, run, back, priority=priority)


__all__ = ["run_in_background"]
