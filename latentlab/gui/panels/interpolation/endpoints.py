"""The two ends of an interpolation path, A and B, and the latent codes they stand for.

Each endpoint is either a *data image* (``("image", index)``, picked by number or as the
first image with a label) or a *map point* (``("z", z)``, a fixed latent code). A data image
is encoded with the model's mean encoding (μ for a VAE) each time :meth:`Endpoints.resolve`
is given a model, so the path stays attached to "this 3 and this 7" while the map moves
under training. No Qt here: the panel shows what this holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ENDPOINT_COLORS", "ENDS", "Endpoints", "format_z"]

ENDS = ("a", "b")
ENDPOINT_COLORS = {"a": "#2a9d8f", "b": "#e76f51"}  # also a good pair for the map's path
_PREFERRED_LABELS = (3, 7)  # the article's "a 3 and a 7"


def format_z(z: np.ndarray | None, max_dims: int = 4) -> str:
    """``z = (0.12, −1.30)``; long codes are cut after ``max_dims`` entries."""
    if z is None:
        return "z = —"
    values = [f"{v:.2f}".replace("-", "−") for v in np.asarray(z)[:max_dims]]
    more = f", … ({len(z)} dims)" if len(z) > max_dims else ""
    return f"z = ({', '.join(values)}{more})"


def check_end(which: str) -> str:
    if which not in ENDS:
        raise ValueError(f"endpoint must be 'a' or 'b', not {which!r}")
    return which


class Endpoints:
    """Endpoints A and B over one data set: where each comes from and, once resolved with a
    model, its latent code (K,) and what kept it from one (``problem``)."""

    def __init__(self) -> None:
        self.data: np.ndarray | None = None  # (N, H*W)
        self.labels: np.ndarray | None = None  # (N,)
        self.image_shape: tuple[int, int] | None = None
        # Each endpoint: ("image", index) or ("z", array of shape (K,)) or None.
        self.sources: dict[str, tuple[str, Any] | None] = {"a": None, "b": None}
        self.z: dict[str, np.ndarray | None] = {"a": None, "b": None}
        self.problem = ""

    def set_data(self, images: np.ndarray, image_shape: tuple[int, int],
                 labels: np.ndarray | None) -> None:
        """Use ``images`` (N, H*W) float in [0, 1] with optional ``labels`` (N,).

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
        self.data = images
        self.image_shape = (h, w)
        self.labels = None if labels is None else np.asarray(labels)
        for which, index in zip(ENDS, self._default_indices(), strict=True):
            source = self.sources[which]
            if source is None or source[0] == "image":
                self.sources[which] = ("image", index)

    def set_z(self, which: str, z: np.ndarray, latent_dim: int | None) -> None:
        """Make endpoint ``which`` the fixed latent code ``z`` (K,); ``latent_dim``: the
        model's, when there is one."""
        which = check_end(which)
        z = np.array(z, dtype=np.float64).reshape(-1)
        if z.size == 0 or not np.isfinite(z).all():
            raise ValueError(f"endpoint {which.upper()} must be a finite, non-empty vector")
        if latent_dim is not None and z.size != latent_dim:
            raise ValueError(
                f"endpoint {which.upper()} has {z.size} dims; the model has {latent_dim}")
        self.sources[which] = ("z", z)

    def set_image(self, which: str, index: int) -> None:
        """Make endpoint ``which`` the data image ``index`` (needs ``set_data``)."""
        which = check_end(which)
        if self.data is None:
            raise RuntimeError("set_data() first: there are no data images to pick from")
        index = int(index)
        if not 0 <= index < self.data.shape[0]:
            raise IndexError(f"no image {index}: the data set has {self.data.shape[0]}")
        self.sources[which] = ("image", index)

    def set_label(self, which: str, label: Any) -> None:
        """Make endpoint ``which`` the first data image with ``label`` (e.g. a 3)."""
        which = check_end(which)
        if self.labels is None:
            raise RuntimeError("the data set has no labels to pick by")
        hits = np.flatnonzero(self.labels == label)
        if hits.size == 0:
            raise ValueError(f"no data image has label {label!r}")
        self.set_image(which, int(hits[0]))

    def swap(self) -> None:
        self.sources["a"], self.sources["b"] = self.sources["b"], self.sources["a"]

    def resolve(self, model: Any) -> None:
        """Turn the sources into latent codes with ``model`` (or None: images have no code
        yet). A map point of another latent size than the model's is dropped."""
        self.problem = ""
        pixels_ok = (model is not None and self.data is not None
                     and model.input_dim == self.data.shape[1])
        if model is not None and self.data is not None and not pixels_ok:
            self.problem = (f"This model expects {model.input_dim} pixels per image; "
                            f"the data has {self.data.shape[1]}.")
        wanted = [s[1] for s in self.sources.values() if s is not None and s[0] == "image"]
        encoded: dict[int, np.ndarray] = {}
        if wanted and pixels_ok:
            assert self.data is not None
            index = np.asarray(sorted(set(wanted)))
            mu, _ = model.encode(self.data[index])
            encoded = {int(i): np.asarray(m, dtype=np.float64)
                       for i, m in zip(index, mu, strict=True)}
        for which in ENDS:
            source = self.sources[which]
            z: np.ndarray | None = None
            if source is not None and source[0] == "image":
                z = encoded.get(source[1])
            elif source is not None:
                z = source[1]
                if model is not None and z is not None and z.size != model.latent_dim:
                    self.sources[which] = None  # a code of another latent size: drop it
                    z = None
            self.z[which] = z

    def describe(self, which: str) -> str:
        """"a 3 (image #12)", "a map point" or "not set"."""
        source = self.sources[check_end(which)]
        if source is None:
            return "not set"
        if source[0] == "z":
            return "a map point"
        index = int(source[1])
        if self.labels is not None:
            return f"a {self.labels[index]} (image #{index})"
        return f"image #{index}"

    def _default_indices(self) -> tuple[int, int]:
        assert self.data is not None
        n = self.data.shape[0]
        if self.labels is not None:
            present = list(np.unique(self.labels))
            wanted = [v for v in _PREFERRED_LABELS if np.any(self.labels == v)]
            if len(wanted) < 2:
                wanted = present[:2]
            if len(wanted) == 2:
                first = [int(np.flatnonzero(self.labels == v)[0]) for v in wanted]
                return first[0], first[1]
        return 0, min(1, n - 1)
