"""What each latent map shows of its model's latent: the view (two chosen latent axes, or
the PCA plane of the codes), the chosen axes, and per slot the PCA plane last fitted on its
codes. :class:`~latentlab.gui.session.LabSession` owns one and announces its changes; the
rules live here.

The PCA plane is refitted with every encoding of the data the map draws (as a model trains,
every snapshot's): the map shows the codes of the model it shows, and a click there
decodes through the same plane. Each refit keeps the previous fit's axis directions
(:meth:`~latentlab.core.pca.LatentPlane.oriented_like`), so the map never mirrors itself
from one frame to the next."""

from __future__ import annotations

import numpy as np

from latentlab.core.pca import LatentPlane, axes_plane

from .slots import AXES_VIEW, MAP_VIEWS, PCA_VIEW, Slot

__all__ = ["MapPlanes"]


class MapPlanes:
    """The maps' view, axes and PCA fits (no signals: the session's setters emit them)."""

    def __init__(self) -> None:
        self.view = AXES_VIEW
        self.axes = (0, 1)
        self._pca: dict[Slot, LatentPlane | None] = {slot: None for slot in Slot}

    def set_view(self, view: str) -> bool:
        """Show ``view`` (AXES_VIEW or PCA_VIEW); True when it changed."""
        if view not in MAP_VIEWS:
            raise ValueError(f"map view must be one of {MAP_VIEWS}")
        changed, self.view = view != self.view, view
        return changed

    def forget_fits(self) -> None:
        """A new data set: its codes start a new picture."""
        self._pca = {slot: None for slot in Slot}

    def axes_for(self, latent_dim: int) -> tuple[int, int]:
        """The chosen axes, limited to a latent of ``latent_dim`` dims."""
        return min(self.axes[0], latent_dim - 1), min(self.axes[1], latent_dim - 1)

    def plane(self, slot: str, latent_dim: int) -> LatentPlane | None:
        """The plane a ``latent_dim``-D latent is shown in on ``slot``'s map: its chosen
        axes (other dims 0), or in the PCA view the last PCA fit of that size (None until
        one arrives); None for a 1-D latent."""
        if latent_dim < 2:
            return None
        if self.view == PCA_VIEW:
            plane = self._pca[Slot(slot)]
            return plane if plane is not None and plane.latent_dim == latent_dim else None
        return axes_plane(latent_dim, *self.axes_for(latent_dim))

    def fit(self, slot: str, plane: LatentPlane) -> bool:
        """Keep ``plane`` (a fresh PCA fit of ``slot``'s codes) oriented like the last fit;
        True when it differs from that fit (False: the same codes drawn again)."""
        slot = Slot(slot)
        before = self._pca[slot]
        plane = plane.oriented_like(before)
        if before is not None and before.latent_dim == plane.latent_dim \
                and np.array_equal(before.basis, plane.basis) \
                and np.array_equal(before.origin, plane.origin):
            return False
        self._pca[slot] = plane
        return True
