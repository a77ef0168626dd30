"""The decode view: the current z decoded by each visible model, beside its nearest
training image (a memorisation check), with z printed.

Images are ``ImageItem(axisOrder='row-major')`` with fixed levels 0..1 (no auto-levelling
flicker) in aspect-locked, non-interactive view boxes; Qt scales them nearest-neighbour.
Text lives in ordinary ``QLabel``s, so changing it never re-lays-out the graphics scene.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from latentlab.core import Model

from .latent_map import SLOT_TITLES


def _image_view() -> tuple[pg.GraphicsView, pg.ImageItem]:
    view = pg.GraphicsView(background="w")
    vb = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False, enableMenu=False)
    vb.setDefaultPadding(0.02)
    view.setCentralItem(vb)
    item = pg.ImageItem(axisOrder="row-major")
    item.setLevels((0.0, 1.0))
    vb.addItem(item)
    view.setMinimumSize(90, 90)
    view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return view, item


class _SlotRow(QWidget):
    def __init__(self, slot: str, mono: QFont) -> None:
        super().__init__()
        self.slot = slot
        self.title = QLabel(f"<b>{SLOT_TITLES[slot]}</b>")
        self.decoded_view, self.decoded = _image_view()
        self.nearest_view, self.nearest = _image_view()
        self.decoded_caption = QLabel("decoded z\n")
        self.nearest_caption = QLabel("nearest training image\n")
        for caption in (self.decoded_caption, self.nearest_caption):
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            caption.setStyleSheet("color: #444;")
            caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
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
        self._nearest_index = -1


class DecodeView(QWidget):
    """Shows ``decode(z)`` for each visible slot. GUI thread only."""

    def __init__(self, images: np.ndarray, labels: np.ndarray | None,
                 image_shape: tuple[int, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decodeView")
        self.setToolTip(
            "The current latent point decoded by each model (left) and the training image "
            "closest to that decoding in pixel space (right). If they are identical "
            "everywhere, the model memorises rather than generalises.")
        self._images = images
        self._labels = labels
        self._shape = image_shape
        self._label_names: Sequence[str] | None = None
        self._sq_norms = np.einsum("ij,ij->i", images, images)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.rows = {slot: _SlotRow(slot, mono) for slot in ("vae", "ae")}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for row in self.rows.values():
            layout.addWidget(row, 1)
        self.set_slots(["vae"])
        self.decodes = 0
        self._details_due: set[str] = set()
        self._details_timer = QTimer(self)
        self._details_timer.setSingleShot(True)
        self._details_timer.setInterval(0)
        self._details_timer.timeout.connect(self.flush_details)

    def set_data(self, images: np.ndarray, labels: np.ndarray | None,
                 image_shape: tuple[int, int],
                 label_names: Sequence[str] | None = None) -> None:
        """A new data set: decodings are ``image_shape``; nearest images come from
        ``images``. Clears what is shown until the next show_decoded."""
        self._images = images
        self._labels = labels
        self._shape = image_shape
        self._label_names = label_names
        self._sq_norms = np.einsum("ij,ij->i", images, images)
        self._details_due.clear()
        for slot in self.rows:
            self.show_decoded(slot, None, None)

    def _label_text(self, i: int) -> str:
        if self._labels is None:
            return ""
        c = int(self._labels[i])
        names = self._label_names
        return names[c] if names is not None and 0 <= c < len(names) else str(c)

    def set_slots(self, slots: list[str]) -> None:
        for slot, row in self.rows.items():
            row.setVisible(slot in slots)

    def image(self, slot: str) -> np.ndarray | None:
        """The (D,) image currently shown for ``slot`` (tests compare it with the core)."""
        return self.rows[slot].image

    def z(self, slot: str) -> np.ndarray | None:
        return self.rows[slot].z

    def show_decoded(self, slot: str, model: Model | None, z: np.ndarray | None) -> None:
        """Decode ``z: (K,)`` with ``model`` and show it (``None`` clears the row)."""
        row = self.rows[slot]
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
        image = model.decode(z[None, :])[0]
        row.z = z
        row.image = image
        h, w = self._shape
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
        row = self.rows[slot]
        z, image = row.z, row.image
        if z is None or image is None:
            return
        h, w = self._shape
        # Nearest training image in pixel space: ||x||² - 2 x·y (+ ||y||², constant).
        d2 = self._sq_norms - 2.0 * (self._images @ image)
        i = int(np.argmin(d2))
        if i != row._nearest_index:
            row._nearest_index = i
            row.nearest.setImage(self._images[i].reshape(h, w), levels=(0.0, 1.0),
                                 autoLevels=False)
            label = "" if self._labels is None else f", label {self._label_text(i)}"
            row.nearest_caption.setText(f"nearest training image\n#{i}{label}")
        coords = ", ".join(f"{v:+.2f}" for v in z)
        dist = float(np.sqrt(max(0.0, float(d2[i]) + float(image @ image))))
        text = f"z = ({coords})   distance to nearest: {dist:.2f}"
        if row.z_text.text() != text:
            row.z_text.setText(text)
