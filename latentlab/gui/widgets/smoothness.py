"""How smooth and data-like each model's decoded map is, as measured, for the window.

:class:`SmoothnessWatch` asks the session's analysis (:meth:`DataAnalysis.smoothness`, on
the background worker) for the smoothness of each wanted slot's model over the plane its
map shows, when the model settles (the session's slow tier), when a run stops or pauses,
when the map's axes change and when its viewer asks; never per frame. It keeps the newest
figures that arrived for each slot, with the epoch of the snapshot they were measured on.
Two views draw them:

* :class:`SmoothnessCaptions`: one line under each latent map ("Off-manifold decodes: 29 %
  of the region, 78 % in its gaps · worst neighbour jump 12.8 per σ-step (mean 2.77)"),
  with a tooltip that says how it was measured;
* :class:`SmoothnessTable`: the Diagnostics panel's section, one column per model.

The definitions are :mod:`latentlab.core.smoothness`'s; every number in a text comes from
the figures measured (grid, region, threshold, images), never from a constant here.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from latentlab.core import Model
from latentlab.core.pca import LatentPlane

from ..analysis import Asked, MeasuredSmoothness
from ..session import LabSession
from ..slots import Slot
from .map_plot import axis_names

__all__ = ["CAPTION_FORMS", "SlotSmoothness", "SmoothnessCaptions", "SmoothnessTable",
           "SmoothnessWatch", "caption_text", "how_measured"]

Observe = Callable[[SignalInstance, Callable[..., Any]], None]


@dataclass(frozen=True)
class SlotSmoothness:
    """What was measured of one slot: the figures of ``model`` (the snapshot of ``epoch``)
    over ``plane`` (None: a 1-D latent)."""

    measured: MeasuredSmoothness
    model: Model
    epoch: int
    plane: LatentPlane | None


class SmoothnessWatch(QObject):
    """The newest smoothness figures of each slot in ``wanted()`` (the slots its viewer
    shows now). ``observe`` is the panel's :meth:`Panel.observe`, so the connections end
    with the panel. Signal ``changed(slot)``: a result arrived or a slot was cleared."""

    changed = Signal(str)

    def __init__(self, session: LabSession, observe: Observe,
                 wanted: Callable[[], Iterable[Slot]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._wanted = wanted
        self._results: dict[Slot, SlotSmoothness | None] = {slot: None for slot in Slot}
        self._asked = {slot: Asked() for slot in Slot}
        # The epoch and plane of every snapshot asked about, for its result when it comes.
        self._epochs: weakref.WeakKeyDictionary[Model, int] = weakref.WeakKeyDictionary()
        self._planes: weakref.WeakKeyDictionary[Model, LatentPlane] = weakref.WeakKeyDictionary()
        observe(session.modelSettled, self._on_settled)
        # The slow tier settles only the primary slot: a run's end catches the other up.
        observe(session.trainingStateChanged, lambda _state: self.refresh())
        observe(session.axesChanged, lambda _x, _y: self.refresh())
        observe(session.mapViewChanged, lambda _view: self.refresh())
        observe(session.datasetChanged, self._clear)
        observe(session.analysis.ready, self._on_analysed)

    def result(self, slot: str) -> SlotSmoothness | None:
        """The newest figures measured for ``slot`` (perhaps of an earlier snapshot)."""
        return self._results[Slot(slot)]

    def pending(self, slot: str) -> bool:
        """True while figures asked for ``slot`` are being measured."""
        return self._asked[Slot(slot)].pending

    def refresh(self) -> None:
        """Ask for the figures of every wanted slot's model (cached ones arrive at once)."""
        for slot in self._wanted():
            self.ask(slot)

    def ask(self, slot: Slot) -> None:
        model = self.session.model(slot)
        analysis = self.session.analysis
        if model is None or not analysis.fits(model):
            self._asked[slot].clear()
            if self._results[slot] is not None:
                self._results[slot] = None
                self.changed.emit(slot.value)
            return
        epoch = self.session.slot(slot).epoch
        plane = self.session.plane(slot)  # the map's: two axes or its PCA plane
        if plane is None and model.latent_dim >= 2:
            return  # no PCA fit of this latent yet (its codes are on the worker): next settle
        if plane is None:
            self._store(slot, SlotSmoothness(MeasuredSmoothness(
                None, "a 1-D latent has no plane to measure over", len(analysis.dataset)),
                model, epoch, None))
            return
        found = analysis.smoothness(model, plane, key=slot.value)
        if found is None:  # on the worker: _on_analysed stores it
            self._epochs[model], self._planes[model] = epoch, plane
            self._asked[slot].add(model)
            self.changed.emit(slot.value)  # the views say it is being measured
        else:
            self._asked[slot].clear()
            self._store(slot, SlotSmoothness(found, model, epoch, plane))

    def _on_settled(self, slot: str) -> None:
        if Slot(slot) in list(self._wanted()):
            self.ask(Slot(slot))

    def _on_analysed(self, what: str, subject: object) -> None:
        if what != "smoothness" or not isinstance(subject, Model):
            return
        for slot, asked in self._asked.items():
            plane = self._planes.get(subject)
            if plane is not None and asked.settle(subject):
                found = self.session.analysis.smoothness(subject, plane, key=slot.value)
                if found is not None:
                    self._store(slot, SlotSmoothness(found, subject, self._epochs[subject],
                                                     plane))

    def _store(self, slot: Slot, result: SlotSmoothness) -> None:
        self._results[slot] = result
        self.changed.emit(slot.value)

    def _clear(self) -> None:
        for slot in Slot:
            self._asked[slot].clear()
            self._results[slot] = None
            self.changed.emit(slot.value)


# -- texts -----------------------------------------------------------------------------
def _percent(share: float, decimals: int | None = None) -> str:
    """17.4 % style; None decimals: none from 10 % on, one below (4.9 %, 0 %, 61 %)."""
    value = 100.0 * share
    if decimals is None:
        decimals = 0 if value >= 10.0 or value == 0.0 else 1
    return f"{value:.{decimals}f} %"


def _axes(plane: LatentPlane | None) -> str:
    """"z₁ and z₂", "PC₁ and PC₂": the plane's axis names as the map writes them."""
    return "the map's axes" if plane is None else " and ".join(axis_names(plane))


#: The caption's forms, longest first: the first that fits the map's width is shown.
CAPTION_FORMS = ("long", "compact", "tiny")


def caption_text(result: SlotSmoothness | None, pending: bool, current: Model | None,
                 form: str = "long") -> str:
    """The caption under a map, two lines; ``current``: the snapshot the map shows now (the
    caption names the epoch measured when that is an older one); ``form``: one of
    :data:`CAPTION_FORMS`, shorter ones for narrow maps (side by side on a laptop)."""
    if result is None:
        return "Smoothness: measuring…" if pending else ""
    figures = result.measured.figures
    if figures is None:
        return "Smoothness not measured:\n" + result.measured.problem
    no_gaps = math.isnan(figures.off_share_in_gaps)
    off, in_gaps = _percent(figures.off_share), _percent(figures.off_share_in_gaps)
    worst, mean = f"{figures.change_max:.3g}", f"{figures.change_mean:.3g}"
    stale = "" if current is result.model else f" · epoch {result.epoch}"
    if form == "tiny":
        return (f"Off-manifold: {off}\n" + ("no gaps" if no_gaps else f"in gaps {in_gaps}")
                + f" · jump {worst}/σ{stale}")
    if form == "compact":
        return (f"Off-manifold {off} · " + ("no gaps" if no_gaps else f"gaps {in_gaps}")
                + f"\nWorst jump {worst}/σ · mean {mean}{stale}")
    return (f"Off-manifold decodes: {off} of the region, "
            + ("no gaps" if no_gaps else f"{in_gaps} in its gaps")
            + f"\nWorst neighbour jump {worst} per σ-step (mean {mean}){stale}")


def how_measured(result: SlotSmoothness, dataset_size: int) -> str:
    """How ``result`` was measured, in sentences, from its own figures ("" if it was not)."""
    figures, rows = result.measured.figures, result.measured.rows
    if figures is None:
        return ""
    n = figures.grid
    images = (f"all {rows:,} images" if rows >= dataset_size
              else f"a {rows:,}-image sample of the {dataset_size:,}")
    reference = ("each of those images" if figures.n_reference >= rows
                 else f"{figures.n_reference:,} of them, sampled")
    return (
        f"Decoded at the centres of a {n} × {n} grid over ±{figures.span_sigma:g}σ of the "
        f"codes along {_axes(result.plane)} (σ per axis; the codes of {images}). A decode is "
        f"off-manifold when it lies farther from every training image (Euclidean distance "
        f"over the pixels, to {reference}) than τ, the {figures.percentile:g}th percentile "
        f"of that distance for the model's own reconstructions. A gap is a cell farther "
        f"than {figures.gap_radius:g}σ from every code. Neighbour jump: the distance between "
        f"two adjacent decodes divided by their spacing in σ.")


def how_measured_briefly(result: SlotSmoothness, dataset_size: int) -> str:
    """:func:`how_measured` in one short paragraph ("" if it was not measured)."""
    figures, rows = result.measured.figures, result.measured.rows
    if figures is None:
        return ""
    images = (f"all {rows:,} images" if rows >= dataset_size
              else f"a {rows:,}-image sample of the {dataset_size:,}")
    return (f"{figures.grid} × {figures.grid} decodes over ±{figures.span_sigma:g}σ of the "
            f"codes along {_axes(result.plane)}, codes of {images}. Off-manifold: farther "
            f"from every training image than τ, the {figures.percentile:g}th percentile of "
            f"the reconstructions' distances. Gap: farther than {figures.gap_radius:g}σ from "
            f"every code.")


def caption_tooltip(result: SlotSmoothness, dataset_size: int) -> str:
    """The caption's tooltip (rich text, so Qt wraps it)."""
    figures = result.measured.figures
    if figures is None:
        return ""
    return (f"<p>Smoothness of this map's decoder, measured on the background worker when "
            f"the model settles (epoch {result.epoch}).</p><p>{how_measured(result, dataset_size)}"
            f"</p><p>Here τ = {figures.threshold:.3f} and the gaps are "
            f"{_percent(figures.gap_share, 1)} of the grid. The Diagnostics panel (Ctrl+7) "
            f"shows every figure of each model.</p>")


class SmoothnessCaptions(QWidget):
    """One caption per shown map, laid out like the maps (side by side, or one above the
    other). Two lines high whatever they say (or while they say nothing): a caption that
    grew when its figures arrived would re-lay the maps out under the cursor."""

    def __init__(self, session: LabSession, observe: Observe,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("smoothnessCaptions")
        self._shown: list[Slot] = []
        self.watch = SmoothnessWatch(session, observe, lambda: list(self._shown), self)
        self.watch.changed.connect(self._draw)
        self.labels: dict[Slot, QLabel] = {}
        self._row = row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 0)
        row.setSpacing(12)
        for slot in Slot:
            label = QLabel()
            label.setObjectName(f"smoothnessCaption-{slot}")
            label.setStyleSheet("color: #333;")
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            self._line_pair = 2 * label.fontMetrics().lineSpacing() + 2
            label.setFixedHeight(self._line_pair)
            label.hide()
            row.addWidget(label, 1, Qt.AlignmentFlag.AlignTop)
            self.labels[slot] = label

    def show_slots(self, slots: Iterable[Slot], stacked: bool = False) -> None:
        """Caption ``slots``' maps (and only them) in their order: side by side, or one
        above the other like ``stacked`` maps. With two, each caption names its model."""
        self._shown = list(slots)
        # As high as the captions stacked, however they are laid out: a height that changed
        # with the layout would change the maps' shape, which decides the layout.
        n = len(self._shown)
        self.setFixedHeight(n * self._line_pair + max(0, n - 1) * self._row.spacing())
        for i, slot in enumerate(self._shown):  # the maps' order
            self._row.removeWidget(self.labels[slot])
            self._row.insertWidget(i, self.labels[slot], 1, Qt.AlignmentFlag.AlignTop)
        self.set_stacked(stacked)
        for slot in Slot:
            self._draw(slot.value)
        self.watch.refresh()

    def set_stacked(self, stacked: bool) -> None:
        """Lay the captions out as the maps are: one above the other, or side by side."""
        direction = (QBoxLayout.Direction.TopToBottom if stacked
                     else QBoxLayout.Direction.LeftToRight)
        if self._row.direction() != direction:
            self._row.setDirection(direction)
            self._row.setGeometry(self.rect())  # now: the widget's size does not change

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        for slot in self._shown:  # the long form or the compact one, whichever fits
            self._draw(slot.value)

    def text(self, slot: str) -> str:
        """``slot``'s caption as shown, on one line ("" when hidden)."""
        label = self.labels[Slot(slot)]
        return label.text().replace("\n", " · ") if not label.isHidden() else ""

    def _draw(self, slot: str) -> None:
        slot = Slot(slot)
        label = self.labels[slot]
        session = self.watch.session
        result = self.watch.result(slot)
        facts = (result, self.watch.pending(slot), session.model(slot))
        title = f"{session.slot_title(slot)} · " if len(self._shown) > 1 else ""
        metrics = label.fontMetrics()
        for form in CAPTION_FORMS:  # the longest that fits (else the shortest, clipped)
            text = caption_text(*facts, form=form)
            text = title + text if text else ""
            if max(map(metrics.horizontalAdvance, text.split("\n"))) <= label.width():
                break
        label.setText(text)
        label.setVisible(slot in self._shown)
        label.setToolTip("" if result is None
                         else caption_tooltip(result, len(session.analysis.dataset)))


_ROWS = (  # (row title, figure → cell text); the figures of core.smoothness.Smoothness
    ("Off-manifold decodes over the region", lambda f: _percent(f.off_share, 1)),
    ("… in its gaps",
     lambda f: "no gaps" if math.isnan(f.off_share_in_gaps)
     else _percent(f.off_share_in_gaps, 1)),
    ("Gaps (share of the grid)", lambda f: _percent(f.gap_share, 1)),
    ("Change per σ-step: mean", lambda f: f"{f.change_mean:.2f}"),
    ("Worst neighbour jump per σ-step", lambda f: f"{f.change_max:.2f}"),
    ("Threshold τ", lambda f: f"{f.threshold:.3f}"),
)


class SmoothnessTable(QWidget):
    """The Diagnostics panel's smoothness section: one column per model, the figures as
    measured, and how they were measured."""

    def __init__(self, session: LabSession, observe: Observe,
                 wanted: Callable[[], Iterable[Slot]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("smoothnessTable")
        self.watch = SmoothnessWatch(session, observe, wanted, self)
        self.watch.changed.connect(lambda _slot: self._draw())
        self._cells: dict[Slot, list[str]] = {}
        self.heading = QLabel("Smoothness of the decoded map")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setToolTip(
            "Does the decoder draw data-like images everywhere around its codes, and how\n"
            "much does the image change between neighbouring points of the map?")
        self.table = QLabel()
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.method = QLabel()
        self.method.setWordWrap(True)
        self.method.setStyleSheet("color: #555;")
        self.method.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.heading)
        layout.addWidget(self.table)
        layout.addWidget(self.method)
        self._draw()

    def refresh(self) -> None:
        self.watch.refresh()

    def columns(self) -> list[Slot]:
        """The slots with a model, the VAE's first."""
        return [slot for slot in Slot if self.watch.session.model(slot) is not None]

    def cells(self) -> dict[Slot, list[str]]:
        """Per shown column, its cells top to bottom (tests read what is drawn)."""
        return self._cells

    def _draw(self) -> None:
        session = self.watch.session
        columns = self.columns()
        self._cells = {}
        if not columns:
            self.table.setText("Train or load a model to measure its decoded map.")
            self.method.setText("")
            return
        titles = [title for title, _ in _ROWS] + ["Measured at epoch"]
        notes: list[str] = []
        for slot in columns:
            result = self.watch.result(slot)
            figures = None if result is None else result.measured.figures
            if result is not None and figures is not None:
                self._cells[slot] = [cell(figures) for _, cell in _ROWS] + [str(result.epoch)]
            else:
                waiting = result is None or self.watch.pending(slot)
                self._cells[slot] = (["measuring…" if waiting else "not measured"]
                                     + [""] * (len(titles) - 1))
                if result is not None and not waiting:
                    notes.append(f"{session.slot_title(slot)}: {result.measured.problem}.")
        head = "".join(f"<th align='right'>&nbsp;&nbsp;{session.slot_title(s)}</th>"
                       for s in columns)
        body = "".join(
            f"<tr><td>{title}</td>"
            + "".join(f"<td align='right'>{self._cells[s][i]}</td>" for s in columns)
            + "</tr>" for i, title in enumerate(titles))
        self.table.setText(f"<table cellspacing='0' cellpadding='2'><tr><th></th>{head}</tr>"
                           f"{body}</table>")
        measured = [r for r in map(self.watch.result, columns)
                    if r is not None and r.measured.figures is not None]
        if measured:
            size = len(session.analysis.dataset)
            notes.insert(0, how_measured_briefly(measured[0], size))
            self.method.setToolTip(f"<p>{how_measured(measured[0], size)}</p>")
        self.method.setText(" ".join(notes))
