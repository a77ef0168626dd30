"""One flat buffer for every parameter and one for every gradient.

Layers receive *views* into these buffers, so an optimiser updates the whole model
with a handful of vectorised calls on two 1-D arrays instead of one call per layer.
"""

from __future__ import annotations

import numpy as np


class ParameterStore:
    """Flat parameter and gradient storage, carved into named views.

    Build it in two phases: :meth:`declare` every parameter shape, then :meth:`finalize`
    allocates ``values`` and ``grads`` (both shape ``(size,)``) and returns the views.
    A store of a stack of K models (``stack=K``, :mod:`.stacked`) holds ``(K, size)``
    arrays, one row per model, and views ``(K, *shape)``.
    """

    def __init__(self, dtype: np.dtype | type = np.float32, stack: int | None = None) -> None:
        self.dtype = np.dtype(dtype)
        self.stack = stack
        self._shapes: dict[str, tuple[int, ...]] = {}
        self.values = np.zeros(0, dtype=self.dtype)
        self.grads = np.zeros(0, dtype=self.dtype)
        self.value_views: dict[str, np.ndarray] = {}
        self.grad_views: dict[str, np.ndarray] = {}

    def declare(self, name: str, shape: tuple[int, ...]) -> None:
        if name in self._shapes:
            raise ValueError(f"parameter {name!r} declared twice")
        self._shapes[name] = shape

    def finalize(self) -> None:
        size = sum(int(np.prod(s)) for s in self._shapes.values())
        lead = () if self.stack is None else (self.stack,)
        self.adopt(np.zeros((*lead, size), dtype=self.dtype),
                   np.zeros((*lead, size), dtype=self.dtype))

    def adopt(self, values: np.ndarray, grads: np.ndarray) -> None:
        """Use ``values`` and ``grads`` (``(size,)``, or ``(K, size)`` for a stack; e.g.
        one row of a stack's arrays) as the storage and carve the views from them; the
        layers must :meth:`bind` again."""
        self.values, self.grads = values, grads
        lead = values.shape[:-1]
        offset = 0
        for name, shape in self._shapes.items():
            n = int(np.prod(shape))
            self.value_views[name] = values[..., offset:offset + n].reshape(*lead, *shape)
            self.grad_views[name] = grads[..., offset:offset + n].reshape(*lead, *shape)
            offset += n

    @property
    def size(self) -> int:
        return int(self.values.shape[-1])
