"""The β trade-off panel (:mod:`.panel`) and its rate-distortion chart (:mod:`.chart`)."""

from .panel import TradeoffPanel, pick_examples

__all__ = ["TradeoffPanel", "pick_examples"]
