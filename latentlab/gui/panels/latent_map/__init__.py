"""The latent map dock: :class:`LatentMapPanel` (:mod:`.panel`) with its tool row
(:mod:`.toolbar`) and its legend and exports (:mod:`.figure`)."""

from .panel import LatentMapPanel

__all__ = ["LatentMapPanel"]
