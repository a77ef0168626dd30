"""Interpolation panel: decode N steps on the way from one latent code to another.

The endpoints A and B (:mod:`.endpoints`) are data images, re-encoded whenever a new model
snapshot arrives, or map points (e.g. from a click on the latent map). The path
(:func:`latentlab.core.diagnostics.interpolation_path`, linear or spherical) is decoded into
tiles drawn by the shared mosaic widget: one row in exports, wrapped into as many rows as
show the tiles largest on screen. The path goes to the session (and ``pathChanged``), so the
map draws it; the panel follows the session's primary model and its endpoints picked on the
map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.diagnostics import INTERPOLATION_METHODS, interpolation_path

from ...session import LabSession
from ...widgets.flow_layout import FlowLayout
from ...widgets.mosaic import MosaicView
from ..base import Panel
from .endpoints import ENDPOINT_COLORS, ENDS, Endpoints, check_end, format_z

__all__ = ["InterpolationPanel"]

STEPS_MIN, STEPS_MAX, STEPS_DEFAULT = 2, 24, 10
_METHOD_TEXT = {"linear": "Linear", "spherical": "Spherical (slerp)"}


class InterpolationPanel(Panel):
    """Two endpoints, N steps, linear or spherical; the decoded strip in one mosaic.

    Signals
    -------
    pathChanged(object)
        The latent path, a float64 array of shape (N, K), whenever it changes (endpoints,
        steps, method, or a data endpoint re-encoded by a new model); ``None`` when there
        is no complete path.
    exportRequested()
        The user pressed "Export…"; the owner asks for a file name and calls ``export_png``.
    """

    pathChanged = Signal(object)
    exportRequested = Signal()

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("interpolationPanel")
        self._model: Any = None
        self._ends = Endpoints()
        self._path: np.ndarray | None = None  # (N, K)
        self._emitted: np.ndarray | None = None
        self._images: np.ndarray | None = None  # (N, H*W)
        self._label_box: dict[str, QComboBox] = {}
        self._index_box: dict[str, QSpinBox] = {}
        self._z_label: dict[str, QLabel] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        for which in ENDS:
            layout.addLayout(self._build_endpoint_row(which))
        layout.addLayout(self._build_options_row())
        self._caption = QLabel()
        self._caption.setWordWrap(True)
        self._caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption.setToolTip(
            "Images decoded at evenly spaced points of the path from A (first) to B (last).")
        layout.addWidget(self._caption)
        # The margins around the tiles take the panel's own colour so they read as space,
        # not as part of the images.
        self._view = MosaicView(self.palette().color(self.backgroundRole()), separator_width=1,
                                minimum=(160, 48))
        self._view.setToolTip("Decoded images from A to B, row by row.")
        self._mosaic = self._view.mosaic
        self.view_box = self._view.view_box
        self.image_item = self._mosaic.item
        layout.addWidget(self._view, 1)
        self._update_texts()
        self.bind()

    def bind(self) -> None:
        s = self.session
        self._on_dataset()
        self.observe(s.datasetChanged, self._on_dataset)
        self.follow_primary_model()
        self.observe(s.endpointPicked, self._on_endpoint_picked)

    def _on_dataset(self) -> None:
        ds = self.session.dataset
        self._model = None
        self.set_data(ds.images, ds.image_shape, ds.labels, ds.label_names)

    def _on_model_settled(self, slot: str) -> None:
        if slot == self.session.primary_slot and (self.is_seen() or self._path is not None):
            self.refresh()  # cheap; keeps the map's path live

    def refresh(self) -> None:
        model = self.session.model(self.session.primary_slot)
        if model is not None:
            self.show_model(model)

    def _on_endpoint_picked(self, which: str, z: np.ndarray) -> None:
        self.refresh()
        self.set_endpoint(which, z)

    # ------------------------------------------------------------------ construction
    def _build_endpoint_row(self, which: str) -> FlowLayout:
        """A or B: its name, the label picker, the image number and its z (wrapping onto
        a second line in a narrow panel)."""
        name = QLabel(f"<b style='color:{ENDPOINT_COLORS[which]}'>{which.upper()}</b>")
        name.setToolTip("Start of the path (step 1)." if which == "a" else
                        "End of the path (step N).")
        combo = QComboBox()
        combo.setToolTip(
            f"Set endpoint {which.upper()} to the first data image with this label, encoded "
            "with the model's mean encoding (μ for a VAE). Shows 'map point' when the "
            "endpoint was set on the latent map.")
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.activated.connect(lambda _i, w=which: self._on_label_chosen(w))
        combo.setVisible(False)  # until set_data brings labels
        spin = QSpinBox()
        spin.setRange(-1, 0)
        spin.setSpecialValueText("image —")
        spin.setPrefix("image #")
        spin.setKeyboardTracking(False)
        spin.setValue(-1)
        spin.setEnabled(False)  # until set_data brings images
        spin.setToolTip(f"Set endpoint {which.upper()} to this data image (0-based index into "
                        "the data set), encoded with the model's mean encoding.")
        spin.valueChanged.connect(lambda v, w=which: self._on_index_changed(w, v))
        z_label = QLabel(format_z(None))
        z_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        z_label.setToolTip(f"The latent code of endpoint {which.upper()}.")
        z_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        row = FlowLayout()
        for widget in (name, combo, spin, z_label):
            row.addWidget(widget)
        self._label_box[which] = combo
        self._index_box[which] = spin
        self._z_label[which] = z_label
        return row

    def _build_options_row(self) -> FlowLayout:
        self._steps_box = QSpinBox()
        self._steps_box.setRange(STEPS_MIN, STEPS_MAX)
        self._steps_box.setValue(STEPS_DEFAULT)
        self._steps_box.setSuffix(" steps")
        self._steps_box.setToolTip(
            f"Number of decoded images N along the path, endpoints included "
            f"({STEPS_MIN}–{STEPS_MAX}).")
        self._steps_box.valueChanged.connect(lambda _v: self._recompute())

        self._method_box = QComboBox()
        for method in INTERPOLATION_METHODS:
            self._method_box.addItem(_METHOD_TEXT[method], method)
        self._method_box.setToolTip(
            "Linear: equal steps along the straight line from A to B.\n"
            "Spherical (slerp): equal steps in angle on the arc between A and B; it keeps "
            "away from the low-density middle of a Gaussian prior. Falls back to linear when "
            "A or B is zero or the two point in the same or opposite directions.")
        self._method_box.currentIndexChanged.connect(lambda _i: self._recompute())

        self._swap_button = QPushButton("Swap")
        self._swap_button.setToolTip("Exchange endpoints A and B.")
        self._swap_button.clicked.connect(self.swap)

        self._export_button = QPushButton("Export…")
        self._export_button.setToolTip("Save the strip of decoded images as a PNG (one row).")
        self._export_button.clicked.connect(self.exportRequested)

        row = FlowLayout()
        for widget in (self._steps_box, self._method_box, self._swap_button,
                       self._export_button):
            row.addWidget(widget)
        return row

    # ------------------------------------------------------------------ public API
    @property
    def steps(self) -> int:
        return int(self._steps_box.value())

    @property
    def method(self) -> str:
        """``"linear"`` or ``"spherical"``."""
        return str(self._method_box.currentData())

    def path(self) -> np.ndarray | None:
        """Copy of the latent path, shape (N, K) float64, or None without two endpoints."""
        return None if self._path is None else self._path.copy()

    def images(self) -> np.ndarray | None:
        """Copy of the decoded strip, shape (N, H*W), or None."""
        return None if self._images is None else self._images.copy()

    def endpoint(self, which: str) -> np.ndarray | None:
        """The latent code of endpoint ``"a"`` or ``"b"`` (K,), or None."""
        z = self._ends.z[check_end(which)]
        return None if z is None else z.copy()

    def endpoint_source(self, which: str) -> tuple[str, Any] | None:
        """``("image", index)``, ``("z", z)`` or None for endpoint ``"a"`` or ``"b"``."""
        source = self._ends.sources[check_end(which)]
        if source is not None and source[0] == "z":
            return ("z", np.array(source[1]))
        return source

    def set_data(
        self, images: np.ndarray, image_shape: tuple[int, int], labels: np.ndarray | None,
        label_names: Sequence[str] | None = None,
    ) -> None:
        """Use ``images`` (N, H*W) float in [0, 1] with optional ``labels`` (N,); the pickers
        call label ``i`` ``label_names[i]`` when given, else "digit i". Data-image endpoints
        go back to the defaults (:meth:`Endpoints.set_data`)."""
        self._ends.set_data(images, image_shape, labels)
        ends = self._ends
        assert ends.data is not None
        for which in ENDS:
            combo = self._label_box[which]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("map point", None)
            model = combo.model()
            if isinstance(model, QStandardItemModel):
                first = model.item(0)
                if first is not None:  # set by set_endpoint only, never chosen by hand
                    first.setEnabled(False)
            if ends.labels is not None:
                for value in np.unique(ends.labels):
                    i = int(value)
                    name = (label_names[i] if label_names is not None
                            and 0 <= i < len(label_names) else f"digit {i}")
                    combo.addItem(name, value.item())
            combo.setVisible(ends.labels is not None)
            combo.blockSignals(False)
            spin = self._index_box[which]
            spin.blockSignals(True)
            spin.setRange(-1, ends.data.shape[0] - 1)
            spin.setEnabled(True)
            spin.blockSignals(False)
        self._recompute()

    def set_endpoint(self, which: str, z: np.ndarray) -> None:
        """Make endpoint ``which`` (``"a"`` or ``"b"``) the fixed latent code ``z`` (K,)."""
        self._ends.set_z(which, z, None if self._model is None else self._model.latent_dim)
        self._recompute()

    def pick_image(self, which: str, index: int) -> None:
        """Make endpoint ``which`` the data image ``index`` (needs ``set_data``)."""
        self._ends.set_image(which, index)
        self._recompute()

    def pick_label(self, which: str, label: Any) -> None:
        """Make endpoint ``which`` the first data image with ``label`` (e.g. a 3)."""
        self._ends.set_label(which, label)
        self._recompute()

    def set_steps(self, steps: int) -> None:
        """Decode ``steps`` images along the path (2–24)."""
        steps = int(steps)
        if not STEPS_MIN <= steps <= STEPS_MAX:
            raise ValueError(f"steps must be between {STEPS_MIN} and {STEPS_MAX}, got {steps}")
        self._steps_box.setValue(steps)

    def set_method(self, method: str) -> None:
        """``"linear"`` or ``"spherical"``."""
        if method not in INTERPOLATION_METHODS:
            raise ValueError(f"method must be one of {INTERPOLATION_METHODS}, not {method!r}")
        self._method_box.setCurrentIndex(INTERPOLATION_METHODS.index(method))

    def swap(self) -> None:
        """Exchange endpoints A and B."""
        self._ends.swap()
        self._recompute()

    def show_model(self, model: Any) -> None:
        """Decode the path with ``model`` (an independent snapshot; call on the GUI thread).

        Cheap: encodes at most the two endpoint images and decodes N ≤ 24 codes. A map-point
        endpoint whose size no longer matches the model's latent size is dropped.
        """
        self._model = model
        self._recompute()

    def clear(self) -> None:
        """Forget the model (the endpoints are kept) and show nothing."""
        self._model = None
        self._recompute()

    def export_png(self, path: str | Path, scale: int = 16) -> Path:
        """Write the strip as one row of tiles in a PNG, ``scale`` pixels per image pixel.

        The PNG is H*scale high and N*W*scale wide. Raises ``RuntimeError`` when there is
        nothing to export, ``ValueError`` for a bad scale and ``OSError`` when the file
        cannot be written.
        """
        if self._images is None:
            raise RuntimeError("The interpolation strip is empty: pick two endpoints and "
                               "train or load a model first.")
        return self._mosaic.export_png(path, scale, "interpolation")

    # ------------------------------------------------------------------ internals
    def _on_label_chosen(self, which: str) -> None:
        value = self._label_box[which].currentData()
        if value is not None and self._ends.labels is not None:
            self.pick_label(which, value)

    def _on_index_changed(self, which: str, value: int) -> None:
        if value >= 0 and self._ends.data is not None:
            self.pick_image(which, value)

    def _recompute(self) -> None:
        self._ends.resolve(self._model)
        za, zb = self._ends.z["a"], self._ends.z["b"]
        self._path = None
        self._images = None
        if za is not None and zb is not None and za.shape == zb.shape:
            self._path = interpolation_path(za, zb, self.steps, self.method)
            if self._model is not None and not self._ends.problem:
                self._images = np.asarray(self._model.decode(self._path), dtype=np.float32)
        self._refresh_image()
        self._sync_controls()
        self._update_texts()
        path = self._path
        same = (path is None and self._emitted is None) or (
            path is not None and self._emitted is not None
            and path.shape == self._emitted.shape and np.array_equal(path, self._emitted)
        )
        if not same:
            self._emitted = None if path is None else path.copy()
            self.session.set_path(self.path())
            self.pathChanged.emit(self.path())

    def _tile_shape(self, d: int) -> tuple[int, int]:
        shape = self._ends.image_shape
        if shape is not None and shape[0] * shape[1] == d:
            return shape
        side = math.isqrt(d)
        return (side, side) if side * side == d else (1, d)

    def _refresh_image(self) -> None:
        if self._images is None:
            self._mosaic.clear()
            return
        n, d = self._images.shape
        self._view.show_tiles([self._images], self._tile_shape(d), n)

    def _sync_controls(self) -> None:
        """Show each endpoint's source in its combo and spin box (without feedback)."""
        labels = self._ends.labels
        for which in ENDS:
            source = self._ends.sources[which]
            combo, spin = self._label_box[which], self._index_box[which]
            combo.blockSignals(True)
            spin.blockSignals(True)
            if source is not None and source[0] == "image":
                spin.setValue(int(source[1]))
                label = None if labels is None else labels[source[1]].item()
                found = combo.findData(label) if label is not None else -1
                combo.setCurrentIndex(max(found, 0))
            else:
                spin.setValue(-1)
                combo.setCurrentIndex(0)
            if combo.count():
                combo.setItemText(0, "map point" if source is not None else "—")
            combo.blockSignals(False)
            spin.blockSignals(False)
            self._z_label[which].setText(format_z(self._ends.z[which]))

    def _update_texts(self) -> None:
        ends = self._ends
        if ends.problem:
            text = ends.problem
        elif ends.sources["a"] is None or ends.sources["b"] is None:
            text = ("Pick endpoints A and B: a digit or image number above, "
                    "or a point on the latent map.")
        elif self._model is None:
            text = "Waiting for a trained model…"
        else:
            text = (f"A: {ends.describe('a')} → B: {ends.describe('b')} · "
                    f"{self.steps} steps, {_METHOD_TEXT[self.method].lower()}")
        self._caption.setText(text)
        self._export_button.setEnabled(self._images is not None)
