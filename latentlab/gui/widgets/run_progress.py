"""A run's progress as the Training panel shows it: the progress bar, the last epoch's
figures and the loss charts — the selected model's and, side by side, the other model's
below it, both growing while they train together."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from latentlab.core import EpochReport
from latentlab.core.loss_labels import RUNNING, RUNNING_PLAIN

from ..slots import has_codebook, has_kl
from .loss_curves import MIN_HEIGHT, LossCurves

#: each chart's least height with the other model's below it (two charts fit a
#: 700-px-high window's Training dock beside the settings)
TWO_CHART_HEIGHT = 110


class RunProgress(QWidget):
    """Bar, figures line and loss charts. ``curves`` is the selected model's chart (its
    last epoch is the figures line); ``beside`` the other model's, hidden unless shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setFormat("not started")
        self.bar.setTextVisible(True)
        self.figures = QLabel("—")
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures.setWordWrap(True)
        self.figures.setToolTip(f"The last epoch's {RUNNING.long}: it differs from the β "
                                "trade-off panel's evaluation at z = μ of the finished "
                                "weights.")
        self.curves = LossCurves()
        self.beside = LossCurves()
        self.beside.setObjectName("besideCurves")
        self.beside.hide()
        self._beside_pending = False  # epochs appended to `beside` and not drawn yet

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.bar)
        layout.addWidget(self.figures)
        layout.addWidget(self.curves, 1)
        layout.addWidget(self.beside, 1)

    # -- the bar ----------------------------------------------------------------------------
    def show_bar(self, text: str, value: int, maximum: int) -> None:
        self.bar.setRange(0, max(maximum, 1))
        self.bar.setValue(min(value, maximum))
        self.bar.setFormat(text)

    def show_line(self, text: str, complete: bool | None) -> None:
        """A line that is no run's; ``complete`` fills or empties the bar (None: as is)."""
        if complete is not None:
            self.bar.setRange(0, 1)
            self.bar.setValue(1 if complete else 0)
        self.bar.setFormat(text)

    # -- the selected model's chart and figures -------------------------------------------
    def set_history(self, kind: str, history: list[EpochReport], name: str = "") -> None:
        """Show every epoch of the selected model (``name`` titles its chart)."""
        self.curves.set_model_name(name)
        self.curves.set_history(kind, history)
        self._show_last()

    def append(self, reports: list[EpochReport]) -> None:
        self.curves.append(reports)

    def redraw(self) -> None:
        self.curves.redraw()
        self._show_last()

    def _show_last(self) -> None:
        h = self.curves.history
        if h:
            self.show_figures(h[-1])
        else:
            self.figures.setText("—")

    def show_figures(self, r: EpochReport) -> None:
        n = len(self.curves.history)
        kind = self.curves.kind
        if has_codebook(kind):
            self.figures.setText(
                f"<b>Recon</b> {r.recon:.2f} &nbsp; <b>VQ loss</b> {r.kl:.3f} &nbsp; "
                f"<b>Total</b> {r.total:.2f} &nbsp; <span style='color:#666'>(epoch {n}; "
                f"BCE + codebook + β_c·commitment per sample; {RUNNING_PLAIN.short})</span>")
        elif has_kl(kind):
            self.figures.setText(
                f"<b>Recon</b> {r.recon:.2f} &nbsp; <b>KL</b> {r.kl:.2f} &nbsp; "
                f"<b>Total</b> {r.total:.2f} &nbsp; <span style='color:#666'>(β = {r.beta:.2f}, "
                f"epoch {n}; BCE + β·KL per sample; {RUNNING.short})</span>")
        else:
            self.figures.setText(
                f"<b>MSE per pixel</b> {r.recon:.4f} &nbsp; <span style='color:#666'>"
                f"(epoch {n}; {RUNNING_PLAIN.short})</span>")

    # -- the other model's chart ----------------------------------------------------------
    def show_beside(self, name: str, kind: str, history: list[EpochReport]) -> None:
        """Show the other model's chart, titled ``name``, with every epoch of it."""
        self.beside.set_model_name(name)
        self.beside.set_history(kind, history)
        self._beside_pending = False
        for chart in (self.curves, self.beside):
            chart.setMinimumHeight(TWO_CHART_HEIGHT)
        self.beside.show()

    def hide_beside(self) -> None:
        self.beside.hide()
        self.curves.setMinimumHeight(MIN_HEIGHT)

    def append_beside(self, reports: list[EpochReport]) -> None:
        if reports:
            self.beside.append(reports)
            self._beside_pending = True

    def redraw_beside(self) -> None:
        """Draw the epochs appended since the last redraw (nothing when there are none)."""
        if self._beside_pending:
            self._beside_pending = False
            self.beside.redraw()


__all__ = ["RunProgress"]
