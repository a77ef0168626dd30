"""Measure LatentLab's start-up time: launch -> main window shown, median of N runs.

Usage (under an X server, e.g. Xvfb):

    xvfb-run -a -s "-screen 0 1280x800x24" python3 packaging/measure_startup.py \
        [--runs 5] [--] dist/LatentLab/LatentLab --smoke

Each run starts the command with QT_QPA_PLATFORM=xcb and records, from the moment the
process is spawned:
  * ``mapped``: when the X server maps the app's first top-level window (an X11
    MapNotify on the root window for a window whose WM_CLASS contains "LatentLab"),
    observed from outside the app, so it needs no cooperation from it;
  * ``line``: when the app prints a line containing "window shown" (the GUI's
    --smoke hook), if it does.
The command must exit by itself (``--smoke`` does); its exit code is checked.
Standard library only (the X11 client library is used through ctypes).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import selectors
import statistics
import subprocess
import sys
import time

MAP_NOTIFY = 19
SUBSTRUCTURE_NOTIFY_MASK = 1 << 19


class _XMapEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("event", ctypes.c_ulong),
        ("window", ctypes.c_ulong),
        ("override_redirect", ctypes.c_int),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xmap", _XMapEvent), ("pad", ctypes.c_long * 24)]


class _XClassHint(ctypes.Structure):
    _fields_ = [("res_name", ctypes.c_void_p), ("res_class", ctypes.c_void_p)]


class X11MapWatcher:
    """Report the first mapped top-level window whose WM_CLASS contains ``needle``."""

    def __init__(self, needle: bytes = b"latentlab") -> None:
        name = ctypes.util.find_library("X11") or "libX11.so.6"
        self.x = ctypes.CDLL(name)
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x.XDefaultRootWindow.restype = ctypes.c_ulong
        self.x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.x.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
        self.x.XPending.argtypes = [ctypes.c_void_p]
        self.x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(_XEvent)]
        self.x.XGetClassHint.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(_XClassHint),
        ]
        self.x.XConnectionNumber.argtypes = [ctypes.c_void_p]
        self.x.XFlush.argtypes = [ctypes.c_void_p]
        self.x.XFree.argtypes = [ctypes.c_void_p]
        self.x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.dpy = self.x.XOpenDisplay(None)
        if not self.dpy:
            raise RuntimeError("cannot open the X display (is DISPLAY set? run under xvfb-run)")
        self.needle = needle
        root = self.x.XDefaultRootWindow(self.dpy)
        self.x.XSelectInput(self.dpy, root, SUBSTRUCTURE_NOTIFY_MASK)
        self.x.XFlush(self.dpy)

    def fileno(self) -> int:
        return int(self.x.XConnectionNumber(self.dpy))

    def _wm_class(self, window: int) -> bytes:
        hint = _XClassHint()
        if not self.x.XGetClassHint(self.dpy, window, ctypes.byref(hint)):
            return b""
        parts = []
        for ptr in (hint.res_name, hint.res_class):
            if ptr:
                parts.append(ctypes.string_at(ptr))
                self.x.XFree(ptr)
        return b".".join(parts)

    def poll(self) -> bool:
        """Drain pending events; True once a matching window was mapped."""
        found = False
        event = _XEvent()
        while self.x.XPending(self.dpy):
            self.x.XNextEvent(self.dpy, ctypes.byref(event))
            if event.type != MAP_NOTIFY:
                continue
            if self.needle in self._wm_class(event.xmap.window).lower():
                found = True
        return found

    def close(self) -> None:
        self.x.XCloseDisplay(self.dpy)


def run_once(command: list[str], timeout: float) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    watcher = X11MapWatcher()
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    sel = selectors.DefaultSelector()
    sel.register(watcher.fileno(), selectors.EVENT_READ, "x11")
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    mapped = line_at = None
    buffer = b""
    output = []
    try:
        while True:
            if mapped is None and watcher.poll():
                mapped = time.perf_counter() - t0
            for key, _ in sel.select(timeout=0.005):
                if key.data != "out":
                    continue
                chunk = proc.stdout.read()
                if not chunk:
                    sel.unregister(proc.stdout)
                    continue
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    text = raw.decode(errors="replace")
                    output.append(text)
                    if line_at is None and "window shown" in text:
                        line_at = time.perf_counter() - t0
            stdout_open = any(k.fileobj is proc.stdout for k in sel.get_map().values())
            if proc.poll() is not None and not stdout_open:
                break
            if time.perf_counter() - t0 > timeout:
                proc.kill()
                proc.wait()
                raise TimeoutError(f"{command} did not exit within {timeout} s")
    finally:
        sel.close()
        watcher.close()
    if buffer:
        output.append(buffer.decode(errors="replace"))
    return {"mapped": mapped, "line": line_at, "rc": proc.returncode, "output": output,
            "total": time.perf_counter() - t0}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("command", nargs="+",
                        help="the app and its arguments, e.g. dist/LatentLab/LatentLab --smoke")
    args = parser.parse_args(argv)
    results = []
    for i in range(args.runs):
        r = run_once(args.command, args.timeout)
        results.append(r)
        print(f"run {i + 1}: window mapped {_fmt(r['mapped'])}, "
              f"'window shown' line {_fmt(r['line'])}, exit {r['rc']}, total {r['total']:.2f} s",
              flush=True)
        if r["rc"] != 0:
            print("\n".join(r["output"][-30:]))
            print(f"measure_startup: run {i + 1} exited {r['rc']}", file=sys.stderr)
            return 1
    labels = {"mapped": "launch -> window mapped (X11)", "line": "launch -> 'window shown' line"}
    for key, label in labels.items():
        values = [r[key] for r in results if r[key] is not None]
        if len(values) == len(results):
            print(f"{label}: median {statistics.median(values):.3f} s of {len(values)} "
                  f"(min {min(values):.3f}, max {max(values):.3f})")
        else:
            print(f"{label}: seen in {len(values)} of {len(results)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
