"""The decode view: the session's current z decoded by each visible model, beside its
nearest training image (a memorisation check, asked of the session's analysis), with z
printed.

Images are ``ImageItem(axisOrder='row-major')`` with fixed levels 0..1 (no auto-levelling
flicker) in aspect-locked, non-interactive view boxes; Qt scales them nearest-neighbour.
Text lives in ordinary ``QLabel``s, so changing it never re-lays-out the graphics scene.
With both maps shown, the two models' rows stand side by side when that draws the images
larger (a wide dock), else one above the other.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from latentlab.core import Model
from latentlab.core.vqvae import VQVAE

from ..session import LabSession
from ..slots import SLOT_TITLES, ModelKind, Slot
from ..widgets.elided_label import ElidedLabel
from ..widgets.image_view import image_view
from .base import Panel

IMAGE_MIN = 64  # px: an 8×8 digit at 8 screen pixels a pixel


class _SlotRow(QWidget):
    def __init__(self, slot: Slot, mono: QFont) -> None:
        super().__init__()
        self.slot = slot
        self.title = QLabel(f"<b>{SLOT_TITLES[slot]}</b>")
        self.decoded_view, self.decoded = image_view(IMAGE_MIN)
        self.nearest_view, self.nearest = image_view(IMAGE_MIN)
        self.decoded_caption = ElidedLabel("decoded z\n")
        self.nearest_caption = ElidedLabel("nearest training image\n")
        for caption in (self.decoded_caption, self.nearest_caption):
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            caption.setStyleSheet("color: #444;")
        self.z_text = QLabel("")
        # Text that changes every frame must not re-lay-out the window around it.
        self.z_text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.z_text.setFont(mono)
        self.z_text.setWordWrap(True)
        self.z_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.title, 0, 0, 1, 2)
        grid.addWidget(self.decoded_view, 1, 0)
        grid.addWidget(self.nearest_view, 1, 1)
        grid.addWidget(self.decoded_caption, 2, 0)
        grid.addWidget(self.nearest_caption, 2, 1)
        grid.addWidget(self.z_text, 3, 0, 1, 2)
        grid.setRowStretch(1, 1)
        self.image: np.ndarray | None = None  # the (D,) decoded image shown
        self.z: np.ndarray | None = None
        self.code: int | None = None  # the code a VQ-VAE snapped z to
        self._nearest_index = -1


class DecodeView(Panel):
    """Shows ``decode(z)`` for each visible slot. GUI thread only."""

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("decodeView")
        self.setToolTip(
            "The current latent point decoded by each model (left) and the training image "
            "closest to that decoding in pixel space (right). If they are identical "
            "everywhere, the model memorises rather than generalises.")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.rows: dict[str, _SlotRow] = {slot: _SlotRow(slot, mono) for slot in Slot}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(0)
        self.side_by_side = False  # the rows' arrangement (with both shown)
        self._place_rows()
        self.decodes = 0
        self._details_due: set[str] = set()
        self._details_timer = QTimer(self)
        self._details_timer.setSingleShot(True)
        self._details_timer.setInterval(0)
        self._details_timer.timeout.connect(self.flush_details)
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.observe(s.datasetChanged, self._clear_all)
        self.observe(s.modelChanged, self.redecode)
        self.observe(s.currentPointChanged, self.redecode_visible)
        self.observe(s.mapModeChanged, lambda _mode: self.redecode_visible())
        self.observe(s.analysis.ready, self._on_analysed)
        self.redecode_visible()

    def _on_analysed(self, what: str, subject: object) -> None:
        if what == "nearest" and subject in self.rows:
            self._show_details(str(subject))

    def _clear_all(self) -> None:
        """A new data set: clear what is shown until the next decoding."""
        self._details_due.clear()
        for slot in self.rows:
            self.show_decoded(slot, None, None)

    def redecode_visible(self) -> None:
        """Show the rows of the visible slots and decode the current point in each."""
        slots = self.session.visible_slots()
        for slot, row in self.rows.items():
            row.setVisible(slot in slots)
        self._arrange()
        for slot in slots:
            self.redecode(slot)

    def redecode(self, slot: str) -> None:
        """Decode the session's current z for ``slot`` with its model (if it is shown)."""
        if slot in self.session.visible_slots():
            self.show_decoded(slot, self.session.model(slot), self.session.current_z(slot))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Rows side by side when that draws the images larger and the panel is wide enough
        for both rows' minimum; otherwise one above the other."""
        shown = self._shown_rows()
        side = False
        if len(shown) == 2:
            row_min = shown[0].minimumSizeHint()
            extra = row_min.height() - IMAGE_MIN  # title, captions, z text, margins
            w, h = self.width(), self.height()
            stacked = min(w / 2, h / 2 - extra)
            beside = min(w / 4, h - extra)
            side = beside > stacked and w >= 2 * row_min.width()
        if side != self.side_by_side:
            self.side_by_side = side
            self._place_rows()

    def minimumSizeHint(self) -> QSize:
        """The rows' minimum one above the other, whatever their arrangement: were it that
        of two rows side by side, a dock made narrower could never get narrow enough to
        stack them."""
        shown = self._shown_rows() or list(self.rows.values())[:1]
        hints = [row.minimumSizeHint() for row in shown]
        return QSize(max(h.width() for h in hints), sum(h.height() for h in hints))

    def _shown_rows(self) -> list[_SlotRow]:
        return [row for row in self.rows.values() if not row.isHidden()]

    def _place_rows(self) -> None:
        for i, row in enumerate(self.rows.values()):
            self._grid.removeWidget(row)
            at = (0, i) if self.side_by_side else (i, 0)
            self._grid.addWidget(row, *at)
        for i in range(len(self.rows)):
            self._grid.setRowStretch(i, 0 if self.side_by_side and i else 1)
            self._grid.setColumnStretch(i, 1 if self.side_by_side or not i else 0)

    def image(self, slot: str) -> np.ndarray | None:
        """The (D,) image currently shown for ``slot`` (tests compare it with the core)."""
        return self.rows[slot].image

    def z(self, slot: str) -> np.ndarray | None:
        return self.rows[slot].z

    def show_decoded(self, slot: str, model: Model | None, z: np.ndarray | None) -> None:
        """Decode ``z: (K,)`` with ``model`` and show it (``None`` clears the row)."""
        row = self.rows[Slot(slot)]
        if model is None or z is None:
            self._details_due.discard(slot)
            row.image = None
            row.z = None
            row.decoded.clear()
            row.nearest.clear()
            row._nearest_index = -1
            row.nearest_caption.setText("nearest training image\n")
            row.z_text.setText("click the latent map to pick a point" if model else
                               "not trained yet")
            return
        z = np.asarray(z, dtype=np.float32).reshape(-1)
        image = model.decode(z[None, :])[0]  # a VQ-VAE snaps z to its nearest code first
        row.z = z
        row.image = image
        row.code = int(model.quantise(z[None, :])[0]) if isinstance(model, VQVAE) else None
        name = ModelKind.parse(model.kind).display_name if row.code is not None else None
        title = f"<b>{name or SLOT_TITLES[slot]}</b>"
        if row.title.text() != title:
            row.title.setText(title)
        h, w = self.session.dataset.image_shape
        row.decoded.setImage(image.reshape(h, w), levels=(0.0, 1.0), autoLevels=False)
        self.decodes += 1
        # Only the decoding is urgent (a click must show it within a frame); the nearest
        # image and the text follow on the next turn of the event loop, once per turn.
        self._details_due.add(slot)
        if not self._details_timer.isActive():
            self._details_timer.start()

    def flush_details(self) -> None:
        """Bring the nearest images and z texts up to date now (normally a zero-timer)."""
        self._details_timer.stop()
        due, self._details_due = self._details_due, set()
        for slot in due:
            self._show_details(slot)

    def details_pending(self) -> bool:
        return bool(self._details_due)

    def _show_details(self, slot: str) -> None:
        row = self.rows[Slot(slot)]
        z, image = row.z, row.image
        if z is None or image is None:
            return
        ds = self.session.dataset
        analysis = self.session.analysis
        # Searched on the worker: until this image's answer arrives (ready → here again),
        # the row keeps the previous one.
        nearest = analysis.nearest(image, key=str(slot)) or analysis.latest_nearest(str(slot))
        if nearest is None:
            return
        i = nearest.index
        if i != row._nearest_index:
            row._nearest_index = i
            row.nearest.setImage(ds.images[i].reshape(ds.image_shape), levels=(0.0, 1.0),
                                 autoLevels=False)
            label = "" if ds.labels is None else f", label {ds.label_name(int(ds.labels[i]))}"
            row.nearest_caption.setText(f"nearest training image\n#{i}{label}")
        coords = ", ".join(f"{v:+.2f}" for v in z)
        snapped = "" if row.code is None else f" → code {row.code}"
        # Two lines of their own: wrapped by the label, one line broke inside "distance to".
        text = f"z = ({coords}){snapped}\ndistance to nearest: {nearest.distance:.2f}"
        if row.z_text.text() != text:
            row.z_text.setText(text)
