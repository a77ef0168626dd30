"""The Interpolation panel (:mod:`.panel`) and the endpoints it decodes between
(:mod:`.endpoints`)."""

from .endpoints import ENDPOINT_COLORS
from .panel import InterpolationPanel

__all__ = ["ENDPOINT_COLORS", "InterpolationPanel"]
