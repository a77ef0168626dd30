"""Interpolation panel: decode N steps on the way from one latent code to another.

Each endpoint, A and B, is either a *data image* (picked by digit, which takes the first
image with that label, or by image number) or a *map point* (a latent code set with
``set_endpoint``, e.g. from a click on the latent map). A data image is encoded with the
model's mean encoding (μ for a VAE), and re-encoded whenever a new model snapshot arrives,
so the path stays attached to "this 3 and this 7" while the map moves under training; a map
point is a fixed z, so the same path is simply re-decoded.

The path (:func:`latentlab.core.diagnostics.interpolation_path`, linear or spherical) is
decoded into one row of tiles drawn by a single ``ImageItem`` (locked aspect, nearest
neighbour, grey levels fixed to 0..1): the shared mosaic widget. The path goes to the session
(and ``pathChanged``), so the map draws it; the panel follows the session's primary model and
its endpoints picked on the map.
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
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.diagnostics import INTERPOLATION_METHODS, interpolation_path

from ..session import LabSession
from ..widgets.mosaic import MosaicView
from .base import Panel

__all__ = ["ENDPOINT_COLORS", "InterpolationPanel"]

STEPS_MIN, STEPS_MAX, STEPS_DEFAULT = 2, 24, 10
ENDPOINT_COLORS = {"a": "#2a9d8f", "b": "#e76f51"}  # also a good pair for the map's path
_PREFERRED_LABELS = (3, 7)  # the article's "a 3 and a 7"
_METHOD_TEXT = {"linear": "Linear", "spherical": "Spherical (slerp)"}


def format_z(z: np.ndarray | None, max_dims: int = 4) -> str:
    """``z = (0.12, −1.30)``; long codes are cut after ``max_dims`` entries."""
    if z is None:
        return "z = —"
    values = [f"{v:.2f}".replace("-", "−") for v in np.asarray(z)[:max_dims]]
    more = f", … ({len(z)} dims)" if len(z) > max_dims else ""
    return f"z = ({', '.join(values)}{more})"


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
        self._data: np.ndarray | None = None  # (N, H*W)
        self._labels: np.ndarray | None = None  # (N,)
        self._image_shape: tuple[int, int] | None = None
        # Each endpoint: ("image", index) or ("z", array of shape (K,)) or None.
        self._sources: dict[str, tuple[str, Any] | None] = {"a": None, "b": None}
        self._z: dict[str, np.ndarray | None] = {"a": None, "b": None}
        self._path: np.ndarray | None = None  # (N, K)
        self._emitted: np.ndarray | None = None
        self._images: np.ndarray | None = None  # (N, H*W)
        self._problem = ""

        self._build_controls()
        self._build_view()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(self._endpoint_grid)
        layout.addLayout(self._options_row)
        layout.addWidget(self._caption)
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
    def _build_controls(self) -> None:
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self._label_box: dict[str, QComboBox] = {}
        self._index_box: dict[str, QSpinBox] = {}
        self._z_label: dict[str, QLabel] = {}
        for row, which in enumerate(("a", "b")):
            name = QLabel(f"<b style='color:{ENDPOINT_COLORS[which]}'>{which.upper()}</b>")
            name.setToolTip(
                "Start of the path (step 1)." if which == "a" else "End of the path (step N)."
            )
            combo = QComboBox()
            combo.setToolTip(
                f"Set endpoint {which.upper()} to the first data image with this label,\n"
                "encoded with the model's mean encoding (μ for a VAE).\n"
                "Shows 'map point' when the endpoint was set on the latent map."
            )
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
            spin.setToolTip(
                f"Set endpoint {which.upper()} to this data image (0-based index into the\n"
                "data set), encoded with the model's mean encoding."
            )
            spin.valueChanged.connect(lambda v, w=which: self._on_index_changed(w, v))
            z_label = QLabel(format_z(None))
            z_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            z_label.setToolTip(f"The latent code of endpoint {which.upper()}.")
            z_label.setMinimumWidth(60)
            z_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            grid.addWidget(name, row, 0)
            grid.addWidget(combo, row, 1)
            grid.addWidget(spin, row, 2)
            grid.addWidget(z_label, row, 3)
            self._label_box[which] = combo
            self._index_box[which] = spin
            self._z_label[which] = z_label
        grid.setColumnStretch(3, 1)
        self._endpoint_grid = grid

        self._steps_box = QSpinBox()
        self._steps_box.setRange(STEPS_MIN, STEPS_MAX)
        self._steps_box.setValue(STEPS_DEFAULT)
        self._steps_box.setSuffix(" steps")
        self._steps_box.setToolTip(
            f"Number of decoded images N along the path, endpoints included "
            f"({STEPS_MIN}–{STEPS_MAX})."
        )
        self._steps_box.valueChanged.connect(lambda _v: self._recompute())

        self._method_box = QComboBox()
        for method in INTERPOLATION_METHODS:
            self._method_box.addItem(_METHOD_TEXT[method], method)
        self._method_box.setToolTip(
            "Linear: equal steps along the straight line from A to B.\n"
            "Spherical (slerp): equal steps in angle on the arc between A and B; it keeps\n"
            "away from the low-density middle of a Gaussian prior. Falls back to linear when\n"
            "A or B is zero or the two point in the same or opposite directions."
        )
        self._method_box.currentIndexChanged.connect(lambda _i: self._recompute())

        self._swap_button = QPushButton("Swap")
        self._swap_button.setToolTip("Exchange endpoints A and B.")
        self._swap_button.clicked.connect(self.swap)

        self._export_button = QPushButton("Export…")
        self._export_button.setToolTip("Save the strip of decoded images as a PNG.")
        self._export_button.clicked.connect(self.exportRequested)

        options = QHBoxLayout()
        options.addWidget(self._steps_box)
        options.addWidget(self._method_box)
        options.addWidget(self._swap_button)
        options.addStretch(1)
        options.addWidget(self._export_button)
        self._options_row = options

        self._caption = QLabel()
        self._caption.setWordWrap(True)
        self._caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption.setToolTip(
            "Images decoded at evenly spaced points of the path from A (left) to B (right)."
        )

    def _build_view(self) -> None:
        # The strip is one row of tiles in a view of any height: the margins take the
        # panel's own colour so they read as space, not as part of the images.
        view = MosaicView(self.palette().color(self.backgroundRole()), separator_width=1,
                          minimum=(160, 48))
        view.setToolTip("Decoded images from A (left) to B (right).")
        self._view = view
        self._mosaic = view.mosaic
        self.view_box = view.view_box
        self.image_item = view.mosaic.item

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
        z = self._z[self._check_which(which)]
        return None if z is None else z.copy()

    def endpoint_source(self, which: str) -> tuple[str, Any] | None:
        """``("image", index)``, ``("z", z)`` or None for endpoint ``"a"`` or ``"b"``."""
        source = self._sources[self._check_which(which)]
        if source is not None and source[0] == "z":
            return ("z", np.array(source[1]))
        return source

    def set_data(
        self, images: np.ndarray, image_shape: tuple[int, int], labels: np.ndarray | None,
        label_names: Sequence[str] | None = None,
    ) -> None:
        """Use ``images`` (N, H*W) float in [0, 1] with optional ``labels`` (N,); the pickers
        call label ``i`` ``label_names[i]`` when given, else "digit i".

        Endpoints that were data images of a previous data set are reset to the defaults:
        the first 3 and the first 7 when the labels have them (otherwise the first images
        of the first two labels, or images 0 and 1).
        """
        images = np.asarray(images, dtype=np.float32)
        h, w = int(image_shape[0]), int(image_shape[1])
        if images.ndim != 2 or images.shape[1] != h * w or images.shape[0] == 0:
            raise ValueError(f"images must have shape (N, {h * w}) with N > 0, got {images.shape}")
        if labels is not None and np.shape(labels) != (images.shape[0],):
            raise ValueError("labels must have one entry per image")
        self._data = images
        self._image_shape = (h, w)
        self._labels = None if labels is None else np.asarray(labels)
        for which in ("a", "b"):
            combo = self._label_box[which]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("map point", None)
            model = combo.model()
            if isinstance(model, QStandardItemModel):
                first = model.item(0)
                if first is not None:  # set by set_endpoint only, never chosen by hand
                    first.setEnabled(False)
            if self._labels is not None:
                for value in np.unique(self._labels):
                    i = int(value)
                    name = (label_names[i] if label_names is not None
                            and 0 <= i < len(label_names) else f"digit {i}")
                    combo.addItem(name, value.item())
            combo.setVisible(self._labels is not None)
            combo.blockSignals(False)
            spin = self._index_box[which]
            spin.blockSignals(True)
            spin.setRange(-1, images.shape[0] - 1)
            spin.setEnabled(True)
            spin.blockSignals(False)
        defaults = self._default_indices()
        for which, index in zip(("a", "b"), defaults, strict=True):
            source = self._sources[which]
            if source is None or source[0] == "image":
                self._sources[which] = ("image", index)
        self._recompute()

    def set_endpoint(self, which: str, z: np.ndarray) -> None:
        """Make endpoint ``which`` (``"a"`` or ``"b"``) the fixed latent code ``z`` (K,)."""
        which = self._check_which(which)
        z = np.array(z, dtype=np.float64).reshape(-1)
        if z.size == 0 or not np.isfinite(z).all():
            raise ValueError(f"endpoint {which.upper()} must be a finite, non-empty vector")
        if self._model is not None and z.size != self._model.latent_dim:
            raise ValueError(
                f"endpoint {which.upper()} has {z.size} dims; the model has "
                f"{self._model.latent_dim}"
            )
        self._sources[which] = ("z", z)
        self._recompute()

    def pick_image(self, which: str, index: int) -> None:
        """Make endpoint ``which`` the data image ``index`` (needs ``set_data``)."""
        which = self._check_which(which)
        if self._data is None:
            raise RuntimeError("set_data() first: there are no data images to pick from")
        index = int(index)
        if not 0 <= index < self._data.shape[0]:
            raise IndexError(f"no image {index}: the data set has {self._data.shape[0]}")
        self._sources[which] = ("image", index)
        self._recompute()

    def pick_label(self, which: str, label: Any) -> None:
        """Make endpoint ``which`` the first data image with ``label`` (e.g. a 3)."""
        which = self._check_which(which)
        if self._labels is None:
            raise RuntimeError("the data set has no labels to pick by")
        hits = np.flatnonzero(self._labels == label)
        if hits.size == 0:
            raise ValueError(f"no data image has label {label!r}")
        self.pick_image(which, int(hits[0]))

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
        self._sources["a"], self._sources["b"] = self._sources["b"], self._sources["a"]
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
        """Write the strip as a PNG, ``scale`` screen pixels per image pixel.

        The PNG is H*scale high and N*W*scale wide. Raises ``RuntimeError`` when there is
        nothing to export, ``ValueError`` for a bad scale and ``OSError`` when the file
        cannot be written.
        """
        if self._images is None or self._image_shape is None:
            raise RuntimeError("The interpolation strip is empty: pick two endpoints and "
                               "train or load a model first.")
        return self._mosaic.export_png(path, scale, "interpolation")

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _check_which(which: str) -> str:
        if which not in ("a", "b"):
            raise ValueError(f"endpoint must be 'a' or 'b', not {which!r}")
        return which

    def _default_indices(self) -> tuple[int, int]:
        assert self._data is not None
        n = self._data.shape[0]
        if self._labels is not None:
            present = [v for v in np.unique(self._labels)]
            wanted = [v for v in _PREFERRED_LABELS if np.any(self._labels == v)]
            if len(wanted) < 2:
                wanted = present[:2]
            if len(wanted) == 2:
                first = [int(np.flatnonzero(self._labels == v)[0]) for v in wanted]
                return first[0], first[1]
        return 0, min(1, n - 1)

    def _on_label_chosen(self, which: str) -> None:
        value = self._label_box[which].currentData()
        if value is not None and self._labels is not None:
            self.pick_label(which, value)

    def _on_index_changed(self, which: str, value: int) -> None:
        if value >= 0 and self._data is not None:
            self.pick_image(which, value)

    def _resolve(self) -> None:
        """Turn the endpoint sources into latent codes with the current model."""
        model, self._problem = self._model, ""
        pixels_ok = (
            model is not None and self._data is not None
            and model.input_dim == self._data.shape[1]
        )
        if model is not None and self._data is not None and not pixels_ok:
            self._problem = (f"This model expects {model.input_dim} pixels per image; "
                             f"the data has {self._data.shape[1]}.")
        wanted = [s[1] for s in self._sources.values() if s is not None and s[0] == "image"]
        encoded: dict[int, np.ndarray] = {}
        if wanted and pixels_ok:
            assert self._data is not None
            index = np.asarray(sorted(set(wanted)))
            mu, _ = model.encode(self._data[index])
            encoded = {int(i): np.asarray(m, dtype=np.float64) for i, m in zip(index, mu,
                                                                                strict=True)}
        for which in ("a", "b"):
            source = self._sources[which]
            z: np.ndarray | None = None
            if source is not None and source[0] == "image":
                z = encoded.get(source[1])
            elif source is not None:
                z = source[1]
                if model is not None and z is not None and z.size != model.latent_dim:
                    self._sources[which] = None  # a code of another latent size: drop it
                    z = None
            self._z[which] = z

    def _recompute(self) -> None:
        self._resolve()
        za, zb = self._z["a"], self._z["b"]
        self._path = None
        self._images = None
        if za is not None and zb is not None and za.shape == zb.shape:
            self._path = interpolation_path(za, zb, self.steps, self.method)
            if self._model is not None and not self._problem:
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

    def _tile_shape(self) -> tuple[int, int] | None:
        if self._images is None:
            return None
        d = self._images.shape[1]
        if self._image_shape is not None and self._image_shape[0] * self._image_shape[1] == d:
            return self._image_shape
        side = math.isqrt(d)
        return (side, side) if side * side == d else (1, d)

    def _refresh_image(self) -> None:
        shape = self._tile_shape()
        if self._images is None or shape is None:
            self._mosaic.clear()
            return
        if self._image_shape is None or self._image_shape != shape:
            self._image_shape = shape
        self._mosaic.show(self._images, shape, 1, self._images.shape[0])

    def _sync_controls(self) -> None:
        """Show each endpoint's source in its combo and spin box (without feedback)."""
        for which in ("a", "b"):
            source = self._sources[which]
            combo, spin = self._label_box[which], self._index_box[which]
            combo.blockSignals(True)
            spin.blockSignals(True)
            if source is not None and source[0] == "image":
                spin.setValue(int(source[1]))
                label = None if self._labels is None else self._labels[source[1]].item()
                found = combo.findData(label) if label is not None else -1
                combo.setCurrentIndex(max(found, 0))
            else:
                spin.setValue(-1)
                combo.setCurrentIndex(0)
            if combo.count():
                combo.setItemText(0, "map point" if source is not None else "—")
            combo.blockSignals(False)
            spin.blockSignals(False)
            self._z_label[which].setText(format_z(self._z[which]))

    def _describe(self, which: str) -> str:
        source = self._sources[which]
        if source is None:
            return "not set"
        if source[0] == "z":
            return "a map point"
        index = int(source[1])
        if self._labels is not None:
            return f"a {self._labels[index]} (image #{index})"
        return f"image #{index}"

    def _update_texts(self) -> None:
        if self._problem:
            text = self._problem
        elif self._sources["a"] is None or self._sources["b"] is None:
            text = ("Pick endpoints A and B: a digit or image number above, "
                    "or a point on the latent map.")
        elif self._model is None:
            text = "Waiting for a trained model…"
        else:
            text = (f"A: {self._describe('a')} → B: {self._describe('b')} · "
                    f"{self.steps} steps, {_METHOD_TEXT[self.method].lower()}")
        self._caption.setText(text)
        self._export_button.setEnabled(self._images is not None)
