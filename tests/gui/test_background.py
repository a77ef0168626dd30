"""The background service: keyed latest-wins tasks on one worker thread, results on the
GUI thread only, a clean shutdown. Needs only QtCore (one test proves it in a process
with a bare QCoreApplication)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from latentlab.gui.background import BackgroundService

WAIT = 10.0  # seconds an Event may take on a busy machine before the test fails


@pytest.fixture
def service(qtbot):
    s = BackgroundService()
    yield s
    s.shutdown()
    assert not s.running


def _gate_task(service: BackgroundService, key: str = "gate") -> threading.Event:
    """Occupy the worker until the returned event is set."""
    started, gate = threading.Event(), threading.Event()

    def work(_stop):
        started.set()
        gate.wait(WAIT)

    service.submit(key, work)
    assert started.wait(WAIT)
    return gate


def test_work_runs_on_the_worker_and_the_result_arrives_on_the_gui_thread(service, qtbot):
    gui = threading.get_ident()
    seen: dict[str, int] = {}

    def work(_stop):
        seen["work"] = threading.get_ident()
        return 41 + 1

    def done(result):
        seen["done"] = threading.get_ident()
        seen["result"] = result

    with qtbot.waitSignal(service.finished, timeout=int(WAIT * 1000)) as signal:
        task = service.submit("answer", work, done)
    assert signal.args == ["answer", 42]
    assert seen["result"] == 42
    assert seen["work"] != gui
    assert task.thread_ident == seen["work"]
    assert seen["done"] == gui
    assert service.idle


def test_a_newer_task_of_the_same_key_replaces_the_queued_ones(service, qtbot):
    gate = _gate_task(service)
    ran: list[int] = []
    delivered: list[int] = []
    for i in range(3):
        service.submit("map", lambda _stop, i=i: ran.append(i) or i, delivered.append)
    assert service.is_pending("map")
    gate.set()
    qtbot.waitUntil(lambda: not service.is_pending("map"), timeout=int(WAIT * 1000))
    assert ran == [2]  # the two older ones never ran
    assert delivered == [2]


def test_a_running_task_is_stopped_and_its_result_never_arrives(service, qtbot):
    started, stopped = threading.Event(), threading.Event()

    def slow(should_stop):
        started.set()
        while not should_stop():
            stopped.wait(0.001)
        stopped.set()
        return "stale"

    delivered: list[str] = []
    first = service.submit("encode", slow, delivered.append)
    assert started.wait(WAIT)
    service.submit("encode", lambda _stop: "fresh", delivered.append)
    assert first.cancelled
    assert stopped.wait(WAIT)
    qtbot.waitUntil(lambda: service.idle, timeout=int(WAIT * 1000))
    assert delivered == ["fresh"]


def test_without_interrupt_the_running_task_delivers_and_only_the_newest_follows(
        service, qtbot):
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    delivered: list[str] = []

    def frame(name: str, block: bool = False):
        def work(_stop):
            if block:
                started.set()
                release.wait(WAIT)
            ran.append(name)
            return name
        return work

    first = service.submit("map", frame("frame 1", block=True), delivered.append,
                           interrupt=False)
    assert started.wait(WAIT)
    for i in (2, 3, 4):  # snapshots arriving while frame 1 is encoded
        service.submit("map", frame(f"frame {i}"), delivered.append, interrupt=False)
    assert not first.cancelled
    release.set()
    qtbot.waitUntil(lambda: service.idle, timeout=int(WAIT * 1000))
    assert ran == ["frame 1", "frame 4"]
    assert delivered == ["frame 1", "frame 4"]


def test_cancel_drops_a_result_already_on_its_way(service, qtbot):
    done_on_worker = threading.Event()
    delivered: list[str] = []

    def work(_stop):
        done_on_worker.set()
        return "late"

    task = service.submit("nearest", work, delivered.append)
    assert done_on_worker.wait(WAIT)
    # The worker has returned (the queued delivery may already be posted): cancel wins.
    service.cancel("nearest")
    assert task.cancelled and not service.is_pending("nearest")
    gate = _gate_task(service, "after")  # a later task's turn proves the queue moved on
    gate.set()
    qtbot.waitUntil(lambda: service.idle, timeout=int(WAIT * 1000))
    assert delivered == []


def test_keys_run_in_the_order_they_were_last_submitted(service, qtbot):
    gate = _gate_task(service)
    order: list[str] = []
    for key in ("map", "diagnostics", "map", "nearest"):
        service.submit(key, lambda _stop, key=key: order.append(key))
    gate.set()
    qtbot.waitUntil(lambda: service.idle, timeout=int(WAIT * 1000))
    assert order == ["diagnostics", "map", "nearest"]


def test_a_higher_priority_runs_first_and_ties_keep_their_order(service, qtbot):
    gate = _gate_task(service)
    order: list[str] = []
    for key, priority in (("figures", 0), ("nearest", 1), ("diagnostics", 0), ("map", 2),
                          ("codes", 2)):
        service.submit(key, lambda _stop, key=key: order.append(key), priority=priority)
    gate.set()
    qtbot.waitUntil(lambda: service.idle, timeout=int(WAIT * 1000))
    assert order == ["map", "codes", "nearest", "figures", "diagnostics"]


def test_an_exception_is_reported_on_the_gui_thread_with_its_traceback(service, qtbot):
    errors: list[str] = []

    def bad(_stop):
        raise ValueError("chunk 3 is not finite")

    with qtbot.waitSignal(service.failed, timeout=int(WAIT * 1000)) as signal:
        service.submit("evaluate", bad, error=errors.append)
    key, text = signal.args
    assert key == "evaluate"
    assert errors == [text]
    assert "Traceback" in text and "ValueError: chunk 3 is not finite" in text
    # The worker survives a failed task.
    with qtbot.waitSignal(service.finished, timeout=int(WAIT * 1000)) as signal:
        service.submit("evaluate", lambda _stop: "ok")
    assert signal.args == ["evaluate", "ok"]


def test_shutdown_stops_a_running_task_and_waits_for_the_thread(qtbot):
    service = BackgroundService()
    started = threading.Event()
    delivered: list[str] = []

    def endless(should_stop):
        started.set()
        while not should_stop():
            threading.Event().wait(0.001)
        return "stopped"

    service.submit("encode", endless, delivered.append)
    assert started.wait(WAIT)
    service.shutdown()
    assert not service.running
    service.shutdown()  # idempotent
    with pytest.raises(RuntimeError, match="shut down"):
        service.submit("encode", endless)
    qtbot.wait(0)  # let any posted delivery through: none may arrive
    assert delivered == []


_CORE_ONLY = textwrap.dedent("""
    import sys, threading
    from PySide6.QtCore import QCoreApplication, QTimer
    from latentlab.gui.background import BackgroundService
    app = QCoreApplication([])
    service = BackgroundService()
    out = {}
    def done(result):
        out["result"] = result
        out["gui"] = threading.get_ident() == main
        app.quit()
    main = threading.get_ident()
    service.submit("sum", lambda _stop: sum(range(10)), done)
    QTimer.singleShot(20_000, app.quit)
    app.exec()
    service.shutdown()
    gui_modules = [m for m in ("PySide6.QtWidgets", "PySide6.QtGui", "pyqtgraph")
                   if m in sys.modules]
    print(out.get("result"), out.get("gui"), gui_modules)
""")


def test_the_service_needs_only_a_qcoreapplication() -> None:
    result = subprocess.run([sys.executable, "-c", _CORE_ONLY], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "45 True []"
    assert "QThread" not in result.stderr
