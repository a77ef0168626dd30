"""The panels' common base: a widget that observes one :class:`LabSession`.

A panel subscribes to the session's signals in :meth:`Panel.bind` (through
:meth:`Panel.observe`, which remembers each connection) and lets go of them all in
:meth:`Panel.unbind`, which runs when the widget is destroyed: a closed panel is never
called back. Panels never import each other or the window; what they want done they say
with a signal of their own or a call on the session.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QWidget

from latentlab.core import EpochReport, Model

from ..session import LabSession


class Panel(QWidget):
    """A dock's widget bound to ``session``."""

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._connections: list[tuple[SignalInstance, Callable[..., Any]]] = []
        connections = self._connections  # the closure must not keep the widget alive
        self.destroyed.connect(lambda *_: _disconnect(connections))

    def observe(self, signal: SignalInstance, slot: Callable[..., Any]) -> None:
        """Connect ``signal`` of the session to ``slot`` until :meth:`unbind`."""

        def call(*args: Any) -> None:  # a plain function: disconnecting it never needs
            slot(*args)  # the (perhaps already deleted) widget

        signal.connect(call)
        self._connections.append((signal, call))

    def bind(self) -> None:
        """Subscribe to the session and show its current state (subclasses extend it)."""

    def unbind(self) -> None:
        _disconnect(self._connections)

    def is_seen(self) -> bool:
        """True when some of the panel is on screen: a dock tabbed behind another still
        says isVisible(), but has nothing of it visible (a refresh there is for nobody)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def refresh(self) -> None:
        """Catch up with the session now (the panel came into view)."""

    def follow_primary_model(self) -> None:
        """Refresh when the primary slot's model settles (the session's slow tier) and when
        another slot becomes the primary one: the habit of every panel that shows the
        primary model."""
        self.observe(self.session.modelSettled, self._on_model_settled)
        self.observe(self.session.primaryChanged, lambda _slot: self.refresh())

    def show_primary_model(self, show: Callable[[Model, EpochReport | None], None]) -> None:
        """``show(model, last report or None)`` with the primary slot's model, if it has one
        and the panel is on screen: the refresh of a panel whose figures quote the latest
        epoch (its β)."""
        slot = self.session.primary_slot
        model = self.session.model(slot)
        if model is not None and self.is_seen():
            history = self.session.history(slot)
            show(model, history[-1] if history else None)

    def _on_model_settled(self, slot: str) -> None:
        if slot == self.session.primary_slot:
            self.refresh()


def _disconnect(connections: list[tuple[SignalInstance, Callable[..., Any]]]) -> None:
    while connections:
        signal, slot = connections.pop()
        with contextlib.suppress(RuntimeError, TypeError):  # the session went first
            signal.disconnect(slot)


__all__ = ["Panel"]
