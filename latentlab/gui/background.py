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
  closing window never leaves "QThread: Destroyed while thread is still running" (nor
  does a service that is simply dropped, or still alive at interpreter exit).

Queued tasks run by ``priority`` (higher first: the map's encoding before a slow panel's
figures) and, within a priority, in the order they were (last) submitted, so a key that is
resubmitted every frame goes to the back of its line and cannot starve its peers. A running
task is never pre-empted: keep each task short (a sample, not the whole set, for figures
that can wait).
"""

from __future__ import annotations

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


class _Queue:
    """The tasks waiting to run, shared by the service (GUI thread) and its worker thread.
    The thread holds only this, never the service, so a service that is dropped without
    :meth:`~BackgroundService.shutdown` can still be collected, and its finaliser stops
    the thread."""

    def __init__(self, relay: _Relay) -> None:
        self.lock = threading.Condition()
        self.waiting: OrderedDict[str, TaskHandle] = OrderedDict()  # per key, in order
        self.stopping = False
        self.relay = relay

    def next_task(self) -> TaskHandle | None:
        """Block until a task is queued (→ the first of the highest priority) or the queue
        stops (→ None). Worker thread."""
        with self.lock:
            while not self.waiting and not self.stopping:
                self.lock.wait()
            if self.stopping:
                return None
            key = max(self.waiting, key=lambda k: self.waiting[k].priority)
            return self.waiting.pop(key)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            for task in self.waiting.values():
                task.cancel()
            self.waiting.clear()
            self.lock.notify_all()


class _WorkerThread(QThread):
    """Takes the next queued task, runs it, hands the outcome to the relay; repeats."""

    def __init__(self, queue: _Queue) -> None:
        super().__init__()
        self.setObjectName("latentlab-background")
        self._queue = queue

    def run(self) -> None:
        queue = self._queue
        while (task := queue.next_task()) is not None:
            task.thread_ident = threading.get_ident()
            result: Any = None
            error: str | None = None
            try:
                result = task.work(task.should_stop)
            except Exception:  # reported on the GUI thread, like the training worker's
                error = traceback.format_exc()
            if not task.cancelled:
                queue.relay.delivered.emit(task, result, error)


def _stop_thread(queue: _Queue, thread: _WorkerThread) -> None:
    """Stop ``thread`` and wait for it: at shutdown, when the service is collected, or at
    interpreter exit (a script that ends without closing its window), before Qt tears
    its objects down."""
    queue.stop()
    thread.wait()


class BackgroundService(QObject):
    """One worker thread running keyed, latest-wins tasks; create and use it on the GUI
    thread. The thread starts with the first task (a window on a small data set, whose
    work is done inline, never starts it).

    Signals (GUI thread): ``finished(key, result)`` and ``failed(key, traceback_text)``, for
    tasks that were not cancelled (after the task's own ``done``/``error`` callback).
    """

    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._relay = _Relay()
        self._relay.delivered.connect(self._on_delivered)
        self._queue = _Queue(self._relay)
        # Per key, the tasks not yet delivered nor cancelled, oldest first: at most one
        # running (or its result on its way) and one queued. GUI thread only.
        self._live: dict[str, list[TaskHandle]] = {}
        self._thread: _WorkerThread | None = None
        self._stop_thread: weakref.finalize | None = None
        #: Per key, the threads (``threading.get_ident()``) its delivered tasks ran on.
        self.threads: dict[str, set[int]] = {}

    # -- GUI thread ---------------------------------------------------------------------
    def submit(self, key: str, work: Work, done: Callable[[Any], None] | None = None,
               error: Callable[[str], None] | None = None, *,
               interrupt: bool = True, priority: int = 0) -> TaskHandle:
        """Queue ``work(should_stop)`` under ``key``, cancelling the key's queued task and,
        with ``interrupt`` (the default), its running one too.

        ``done(result)`` or ``error(traceback_text)`` runs on the GUI thread when the
        outcome arrives, unless the task was cancelled by then.
        """
        if self._queue.stopping:
            raise RuntimeError("the background service has been shut down")
        if self._thread is None:
            self._thread = _WorkerThread(self._queue)
            self._stop_thread = weakref.finalize(self, _stop_thread, self._queue, self._thread)
            self._thread.start()
        task = TaskHandle(key, work, priority, done, error)
        live = self._live.setdefault(key, [])
        with self._queue.lock:
            queued = self._queue.waiting.pop(key, None)
            for old in list(live):
                if interrupt or old is queued:
                    old.cancel()
                    live.remove(old)
            live.append(task)
            self._queue.waiting[key] = task
            self._queue.lock.notify()
        return task

    def cancel(self, key: str) -> None:
        """Cancel every task of ``key`` (queued or running); no result of it arrives."""
        with self._queue.lock:
            self._queue.waiting.pop(key, None)
        for task in self._live.pop(key, []):
            task.cancel()

    def cancel_all(self) -> None:
        for key in list(self._live):
            self.cancel(key)

    def is_pending(self, key: str) -> bool:
        """True while ``key`` has a task whose outcome has not been delivered yet."""
        return bool(self._live.get(key))

    @property
    def idle(self) -> bool:
        """True when no task is queued, running or waiting to be delivered."""
        return not any(self._live.values())

    @property
    def stopped(self) -> bool:
        """True once :meth:`shutdown` ran: :meth:`submit` refuses new work."""
        return self._queue.stopping

    @property
    def running(self) -> bool:
        """True while the worker thread runs (from the first task until shutdown)."""
        return self._thread is not None and self._thread.isRunning()

    def shutdown(self) -> None:
        """Cancel every task and wait for the worker thread to end (idempotent)."""
        self.cancel_all()
        if self._stop_thread is not None:
            self._stop_thread()  # a finaliser runs once
        else:
            self._queue.stop()

    @Slot(object, object, object)
    def _on_delivered(self, task: TaskHandle, result: Any, error: str | None) -> None:
        if task.cancelled:
            return  # cancelled after the worker emitted: stale
        if task.thread_ident is not None:
            self.threads.setdefault(task.key, set()).add(task.thread_ident)
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
