"""The command line's data: the bundled digits, a data file, or a folder of PNG/JPEG images
read by the window's own folder reader (Qt decodes the images, offscreen), so the CLI
accepts what the window accepts and says the same when it refuses."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .core import DataFileError, Dataset, limits, load_dataset, load_digits

DATA_HELP = ("train on your own images instead of the bundled 8x8 digits: a folder of PNG/"
             "JPEG images (sub-folders as classes), .npz (arrays 'images' and optional "
             "'labels'), .npy (N×H×W or N×D), .csv (one image per row; an optional first "
             "column of integer labels) or MNIST IDX (…-idx3-ubyte[.gz]); uint8 0..255 or "
             "float 0..1")


def image_size(text: str) -> tuple[int, int]:
    """An argparse type: ``N`` or ``HxW`` (each side ≥ MIN_SIDE, ≤ MAX_PIXELS pixels)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[x×]\s*(\d+)\s*)?", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected N or HxW (e.g. 28 or 32x32), got {text!r}")
    h = int(match.group(1))
    w = int(match.group(2) or h)
    if min(h, w) < limits.MIN_SIDE or h * w > limits.MAX_PIXELS:
        raise argparse.ArgumentTypeError(
            f"expected sides of at least {limits.MIN_SIDE} and at most "
            f"{limits.MAX_PIXELS:,} pixels in all, got {h}x{w}")
    return h, w


def add_data_options(parser: argparse.ArgumentParser, data_help: str = DATA_HELP) -> None:
    parser.add_argument("--data", metavar="PATH", help=data_help)
    parser.add_argument("--image-size", type=image_size, metavar="N|HxW",
                        help="with a folder of images: resize every image to N×N or H×W "
                             "(default: 8×8 when every image is that small, else 28×28)")


def load_data(path: str | None, size: tuple[int, int] | None) -> Dataset:
    """The bundled digits, or the data at ``path`` (DataFileError with a one-line reason)."""
    if path is None:
        if size is not None:
            raise DataFileError("--image-size applies to a folder of images given with --data")
        return load_digits()
    if not Path(path).is_dir():
        if size is not None:
            raise DataFileError(f"{path}: --image-size applies to a folder of images, not "
                                "to a data file")
        return load_dataset(path)
    from .gui.headless import offscreen_application  # Qt only for a folder of images
    from .gui.image_folder import load_image_folder

    offscreen_application()
    result = load_image_folder(path, size)
    if result.skipped:
        n = len(result.skipped)
        sys.stderr.write(f"latentlab: {path}: skipped {n} unreadable file"
                         f"{'s' if n != 1 else ''}\n")
    return result.dataset


__all__ = ["DATA_HELP", "add_data_options", "image_size", "load_data"]
