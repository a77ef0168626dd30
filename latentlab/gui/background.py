"""One background worker for the window's whole-data work (QtCore only, no widgets).

Encoding 60,000 images for the map, evaluating a model, the diagnostics and the nearest-
image search each take tens to hundreds of milliseconds: on the GUI thread they would
freeze the window. :class:`BackgroundService` runs them on one worker thread, the way
Orange3 runs its widgets' work on one executor:

* every task has a *key* (e.g. ``"map:vae"``); submitting a task cancels the previous task
  of the same key — a queued one never runs, a running one sees its stop flag and its
  result is dropped — so the latest request wins and a stale result never arrives;
* a live view that resubmits faster than its work takes (a map re-encoded for every
  training snapshot) submits with ``interrupt=False``: the running task then finishes and
  delivers, and only the newest of the requests made meanwhile runs next — cancelling the
  running one every time would starve the view of results;
* a task is ``work(should_stop) -> result``, a plain function that runs on the worker
  thread, may poll ``should_stop()`` between chunks, and must not touch a widget;
* results reach the GUI thread through a queued signal only; the ``done`` callback (and the
  :attr:`~BackgroundService.finished` signal) run there, and only for the current task of
  its key;
* :meth:`~BackgroundService.shutdown` cancels everything and waits for the thread, so a
  closing window never leaves "QThread: Destroyed while thread is still running".

Queued tasks run by ``priority`` (higher first: the map's encoding before a slow panel's
figures) and, within a priority, in the order they were (last) submitted, so a key that is
resubmitted every frame goes to the back of its line and cannot starve its peers. A running
task is never pre-empted: keep each task short (a sample, not the whole set, for figures
that can wait).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import threading
import traceback
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

__all__ = ["BackgroundService", "StopFlag", "TaskHandle"]

StopFlag = Callable[[], bool]
Work = Callable[[StopFlag], Any]


@dataclass(eq=False)
class TaskHandle:
    """One submitted task. ``cancel()`` (or a newer task of the same key) stops it."""

    key: str
    task_id: int
    work: Work
    priority: int
    done: Callable[[Any], None] | None
    error: Callable[[str], None] | None
    _stop: threading.Event = field(default_factory=threading.Event)
    #: The thread the work ran on (``threading.get_ident()``), once it has started.
    thread_ident: int | None = None

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        self._stop.set()


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits through it (a queued connection)."""

    delivered = Signal(object, object, object)  # TaskHandle, result, traceback text or None


class _WorkerThread(QThread):
    """Takes the oldest queued task, runs it, hands the outcome to the relay; repeats."""

    def __init__(self, service: BackgroundService) -> None:
        super().__init__()
        self.setObjectName("latentlab-background")
        self._service = service

    def run(self) -> None:
        service = self._service
        while (task := service._next_task()) is not None:
            task.thread_ident = threading.get_ident()
            result: Any = None
            error: str | None = None
            try:
                result = task.work(task.should_stop)
            except Exception:  # reported on the GUI thread, like the training worker's
                error = traceback.format_exc()
            if not task.cancelled:
                service._relay.delivered.emit(task, result, error)


_LIVE_SERVICES: weakref.WeakSet[BackgroundService] = weakref.WeakSet()


@atexit.register
def _stop_live_services() -> None:
    """A script that ends without closing its window must not leave the thread running
    while Qt tears its objects down."""
    for service in list(_LIVE_SERVICES):
        with contextlib.suppress(RuntimeError):  # C++ side already deleted
            service.shutdown()


class BackgroundService(QObject):
    """One worker thread running keyed, latest-wins tasks; create and use it on the GUI
    thread.

    Signals (GUI thread): ``finished(key, result)`` and ``failed(key, traceback_text)``, for
    tasks that were not cancelled (after the task's own ``done``/``error`` callback).
    """

    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Condition()
        self._queue: OrderedDict[str, TaskHandle] = OrderedDict()  # waiting to run, per key
        # Per key, the tasks not yet delivered nor cancelled, oldest first: at most one
        # running (or its result on its way) and one queued.
        self._live: dict[str, list[TaskHandle]] = {}
        self._ids = itertools.count(1)
        self._stopping = False
        self._relay = _Relay()
        self._relay.delivered.connect(self._on_delivered)
        self._thread = _WorkerThread(self)
        self._thread.start()
        _LIVE_SERVICES.add(self)

    # -- GUI thread ---------------------------------------------------------------------
    def submit(self, key: str, work: Work, done: Callable[[Any], None] | None = None,
               error: Callable[[str], None] | None = None, *,
               interrupt: bool = True, priority: int = 0) -> TaskHandle:
        """Queue ``work(should_stop)`` under ``key``, cancelling the key's queued task and,
        with ``interrupt`` (the default), its running one too.

        ``done(result)`` or ``error(traceback_text)`` runs on the GUI thread when the
        outcome arrives, unless the task was cancelled by then.
        """
        if self._stopping:
            raise RuntimeError("the background service has been shut down")
        task = TaskHandle(key, next(self._ids), work, priority, done, error)
        with self._lock:
            queued = self._queue.pop(key, None)
            live = self._live.setdefault(key, [])
            for old in list(live):
                if interrupt or old is queued:
                    old.cancel()
                    live.remove(old)
            live.append(task)
            self._queue[key] = task
            self._lock.notify()
        return task

    def cancel(self, key: str) -> None:
        """Cancel every task of ``key`` (queued or running); no result of it arrives."""
        with self._lock:
            tasks = self._live.pop(key, [])
            self._queue.pop(key, None)
        for task in tasks:
            task.cancel()

    def cancel_all(self) -> None:
        with self._lock:
            tasks = [task for live in self._live.values() for task in live]
            self._live.clear()
            self._queue.clear()
        for task in tasks:
            task.cancel()

    def is_pending(self, key: str) -> bool:
        """True while ``key`` has a task whose outcome has not been delivered yet."""
        return bool(self._live.get(key))

    @property
    def idle(self) -> bool:
        """True when no task is queued, running or waiting to be delivered."""
        return not any(self._live.values())

    def shutdown(self) -> None:
        """Cancel every task and wait for the worker thread to end (idempotent)."""
        if self._stopping:
            return
        self._stopping = True
        self.cancel_all()
        with self._lock:
            self._lock.notify_all()
        self._thread.wait()
        _LIVE_SERVICES.discard(self)

    @Slot(object, object, object)
    def _on_delivered(self, task: TaskHandle, result: Any, error: str | None) -> None:
        if task.cancelled:
            return  # cancelled after the worker emitted: stale
        with self._lock:
            live = self._live.get(task.key, [])
            if task in live:
                live.remove(task)
            if not live:
                self._live.pop(task.key, None)
        if error is not None:
            if task.error is not None:
                task.error(error)
            self.failed.emit(task.key, error)
            return
        if task.done is not None:
            task.done(result)
        self.finished.emit(task.key, result)

    # -- worker thread ------------------------------------------------------------------
    def _next_task(self) -> TaskHandle | None:
        """Block until a task is queued (→ it) or the service stops (→ None)."""
        with self._lock:
            while not self._queue and not self._stopping:
                self._lock.wait()
            if self._stopping:
                return None
            key = max(self._queue, key=lambda k: self._queue[k].priority)  # first of the best
            return self._queue.pop(key)
