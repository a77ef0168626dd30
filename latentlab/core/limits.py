"""Every limit LatentLab enforces, stated once: training settings and file loading.

Training settings are :class:`Range` objects. The CLI's argument parser, ``TrainConfig``
validation and the GUI's spin boxes all read them, so a value one accepts the others
accept too::

    from latentlab.core import limits
    limits.EPOCHS.problem(value)       # None, or "epochs must be a whole number from 0 …"
    limits.EPOCHS.low, limits.EPOCHS.high
    limits.LATENT_DIM.widget_low       # where a spin box starts (2: the map needs 2 dims)
    limits.LR.describe()               # "> 0 and ≤ 1000", for help texts and messages

``problem`` checks the type too: an integer setting takes ``int`` (never ``bool``, never
``32.0`` or ``"64"``); a real setting takes ``int`` or ``float`` (never ``bool``) and
rejects NaN and infinities. ``widget_low`` is where a GUI control starts when that is
above ``low`` (a window cannot show a 1-D map; the learning-rate box has 4 decimals);
files and the CLI may still use anything from ``low``. ``BETA_SLIDER`` is the slider's
logarithmic span inside the wider ``BETA`` a config or the CLI may use.

Loading limits are plain integers, checked against what a file *declares* (array headers,
IDX dimensions, zip member sizes, file sizes) before anything is read or allocated, so
refusing a hostile file costs little memory:

- data sets: ``MIN_IMAGES``..``MAX_IMAGES`` images, each side ≥ ``MIN_SIDE`` and
  ≤ ``MAX_PIXELS`` pixels per image, ≤ ``MAX_VALUES`` values in all, any one array
  ≤ ``MAX_ARRAY_BYTES`` decoded, ≤ ``MAX_DECODED_BYTES`` inflated from one file,
  files ≤ ``MAX_DATA_FILE_BYTES`` (CSV: ≤ ``MAX_CSV_BYTES``, lines ≤ ``MAX_CSV_LINE_BYTES``),
  labels ≤ ``MAX_LABEL_BYTES``;
- model files: ≤ ``MAX_MODEL_FILE_BYTES`` on disk, ≤ ``MAX_MODEL_WEIGHTS`` weights, input
  dimension in ``INPUT_DIM``, metadata JSON ≤ ``MAX_METADATA_CHARS`` characters nested
  ≤ ``MAX_METADATA_DEPTH`` deep, ≤ ``MAX_HISTORY_EPOCHS`` history rows.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """The allowed values of one setting: ``low ≤ value ≤ high`` (``<`` where open)."""

    name: str
    low: float
    high: float
    integer: bool = False
    low_open: bool = False
    high_open: bool = False
    widget_low: float | None = None

    def describe(self) -> str:
        """The range in words, e.g. ``"a whole number from 1 to 1,024"``."""
        if self.integer:
            return f"a whole number from {self.low:,} to {self.high:,}"
        low = f"> {self.low:g}" if self.low_open else f"≥ {self.low:g}"
        high = f"< {self.high:g}" if self.high_open else f"≤ {self.high:g}"
        return f"a number {low} and {high}"

    def contains(self, value: object) -> bool:
        return self.problem(value) is None

    def problem(self, value: object, name: str | None = None) -> str | None:
        """``None`` when ``value`` is allowed, else a message naming the setting (as
        ``name``, e.g. a config field or a CLI option, when given)."""
        wrong = f"{name or self.name} must be {self.describe()}, not {_shown(value)}"
        if isinstance(value, bool):
            return wrong
        if self.integer:
            if not isinstance(value, numbers.Integral):
                return wrong
            number: float = int(value)  # int against float compares exactly, never overflows
        else:
            if not isinstance(value, numbers.Real):
                return wrong
            try:
                number = float(value)
            except OverflowError:  # an int beyond any float
                return wrong
            if not math.isfinite(number):
                return wrong
        if number < self.low or (self.low_open and number == self.low):
            return wrong
        if number > self.high or (self.high_open and number == self.high):
            return wrong
        return None


def _shown(value: object) -> str:
    """``repr(value)`` cut to 40 characters (a hostile file's value can be enormous)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        return "an enormous number"
    return text if len(text) <= 40 else text[:40] + "…"


# -- training settings -----------------------------------------------------------------
EPOCHS = Range("epochs", 0, 1_000_000, integer=True, widget_low=1)
WARMUP_EPOCHS = Range("warm-up epochs", 0, 100_000, integer=True)
LATENT_DIM = Range("latent dimensions", 1, 32, integer=True, widget_low=2)
HIDDEN_DIM = Range("hidden dimensions", 1, 1024, integer=True, widget_low=4)
BATCH_SIZE = Range("batch size", 1, 4096, integer=True)
LR = Range("learning rate", 0.0, 1000.0, low_open=True, widget_low=1e-4)
BETA = Range("β", 0.0, 1000.0)
BETA_SLIDER = Range("β (slider)", 0.1, 10.0)
MOMENTUM = Range("momentum", 0.0, 1.0, high_open=True)
CLIP_NORM = Range("gradient clip norm", 0.0, 1e6, low_open=True)
SEED = Range("seed", 0, 2**31 - 1, integer=True)
CODES = Range("codebook size", 2, 1024, integer=True)  # VQ-VAE: K code vectors
COMMITMENT = Range("commitment weight β_c", 0.0, 100.0)
EMA_DECAY = Range("EMA decay", 0.0, 1.0, high_open=True)  # 1 would freeze the codebook

# -- data sets -------------------------------------------------------------------------
MIN_IMAGES = 2
MAX_IMAGES = 200_000
MIN_SIDE = 2
MAX_PIXELS = 4096  # per image, e.g. 64×64
MAX_VALUES = 64_000_000  # images × pixels (256 MB as float32); MNIST's 60,000×784 fits
MAX_ARRAY_BYTES = 1 << 30  # one array as declared (shape × item size)
MAX_DECODED_BYTES = 2 << 30  # everything inflated or read from one file
MAX_DATA_FILE_BYTES = 2 << 30
MAX_CSV_BYTES = 1 << 30
MAX_CSV_LINE_BYTES = 256 << 10  # 4,097 numbers of up to 60 characters each
MAX_LABEL_BYTES = 16 << 20  # e.g. 200,000 class names of 20 characters

# -- model files -----------------------------------------------------------------------
INPUT_DIM = Range("input dimensions", MIN_SIDE * MIN_SIDE, MAX_PIXELS, integer=True)
MAX_MODEL_WEIGHTS = 16_000_000  # the largest in-range VAE has ~8.5 million
MAX_MODEL_FILE_BYTES = 256 << 20
MAX_METADATA_CHARS = 1_000_000
MAX_METADATA_DEPTH = 16
MAX_HISTORY_EPOCHS = int(EPOCHS.high)
