"""``latentlab export``: the window's figures and tables from a saved model, without a display.

The command opens the real window offscreen (settings in a temporary folder, nothing
trained), opens the model file as File ▸ Open model does, and asks each panel for its
picture with the same writer the File ▸ Export menu uses: one renderer for the window and
the command line. ``sweep --plot`` draws its rate-distortion curve with the β trade-off
panel's chart the same way.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .cli_data import add_data_options, load_data
from .core import DataFileError, ModelFileError, limits
from .core.io import WriteFailed, writable_target

if TYPE_CHECKING:
    from .core import Dataset
    from .gui.main_window import MainWindow

#: The gallery's sample counts and temperature range (as its panel offers them).
GALLERY_COUNTS = (16, 25, 36, 64)
GALLERY_T = (0.1, 3.0)
#: The interpolation panel's step range.
STEPS = (2, 24)
#: The window size the figures are laid out in (the map's aspect follows from it).
WINDOW_SIZE = (1440, 900)
MAP_WIDTH = 1280
WAIT_TIMEOUT_S = 120.0  # for the map's codes and its decoded manifold (on the worker)


class ExportRefused(ValueError):
    """An export the model or the data cannot give (one line; exit 2)."""


@dataclass(frozen=True)
class Endpoint:
    """An interpolation endpoint: a data index, or the first image with a label."""

    index: int | None = None
    label: str | None = None


def endpoint(text: str) -> Endpoint:
    """An argparse type: ``17`` (a data index) or ``label:3`` (the first image labelled 3)."""
    if text.startswith("label:") and text[6:].strip():
        return Endpoint(label=text[6:].strip())
    if text.isdigit():
        return Endpoint(index=int(text))
    raise argparse.ArgumentTypeError(f"expected a data index or label:L, got {text!r}")


def size(text: str) -> tuple[int, int]:
    """An argparse type: ``WxH`` in pixels, each 16..16384."""
    match = re.fullmatch(r"\s*(\d+)\s*[x×]\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected WxH in pixels (e.g. 1600x1200), got {text!r}")
    w, h = int(match.group(1)), int(match.group(2))
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"expected sides from 16 to 16384 pixels, got {w}x{h}")
    return w, h


def axes(text: str) -> tuple[int, int]:
    """An argparse type: ``I,J``, two different latent dimensions counted from 1."""
    match = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", text)
    if match is None or match.group(1) == match.group(2) or "0" in (match.group(1),
                                                                     match.group(2)):
        raise argparse.ArgumentTypeError(
            f"expected two different latent dimensions I,J counted from 1, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _ranged(name: str, low: float, high: float, kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {name} from {low} to {high}, "
                                             f"got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {name} from {low} to {high}, got {text}")
        return value
    parse.__name__ = name
    return parse


def add_export_parser(sub: Any) -> None:
    """The ``export`` subcommand on ``sub`` (argparse's subparsers)."""
    p = sub.add_parser(
        "export", help="write the window's figures and tables from a saved model, headless",
        description="Open a model saved by the window or by 'latentlab train --out' and "
                    "write its figures with the window's own renderer, without a display. "
                    "Give --model and at least one output.")
    p.add_argument("--model", required=True, metavar="FILE", help="a LatentLab model (.npz)")
    add_data_options(p, "encode this data instead of the bundled digits (a folder of PNG/"
                        "JPEG images, .npz, .npy, .csv or MNIST IDX); the model must fit "
                        "its image size")
    m = p.add_argument_group("latent map")
    m.add_argument("--latent-map", metavar="PNG|SVG",
                   help="the latent map, as a PNG or (by its suffix) an SVG drawing")
    m.add_argument("--size", type=size, metavar="WxH",
                   help=f"the PNG's size (default: {MAP_WIDTH} wide at the map's own aspect)")
    m.add_argument("--axes", type=axes, metavar="I,J",
                   help="the latent dimensions on the map's axes, from 1 (default: 1,2)")
    m.add_argument("--manifold", action="store_true",
                   help="draw the decoded manifold behind the points")
    m.add_argument("--pca", action="store_true",
                   help="the window's PCA view: the codes' first two principal components "
                        "as the axes, every other direction held at the codes' mean (the "
                        "manifold decodes that plane too)")
    g = p.add_argument_group("gallery")
    g.add_argument("--gallery", metavar="PNG", help="samples decoded from the prior")
    g.add_argument("--temperature", type=_ranged("a temperature", *GALLERY_T, float),
                   default=1.0, metavar="T", help="scale of the prior's σ (default: 1)")
    g.add_argument("--count", type=int, choices=GALLERY_COUNTS, default=25, metavar="N",
                   help="samples: 16, 25, 36 or 64 (default: 25)")
    g.add_argument("--seed", type=_ranged("a seed", 0, int(limits.SEED.high), int),
                   default=0, metavar="S", help="seed of the sampled z (default: 0)")
    i = p.add_argument_group("interpolation")
    i.add_argument("--interpolate", nargs=2, type=endpoint, metavar=("A", "B"),
                   help="endpoints: data indices (e.g. 0 17) or labels (label:3 label:7)")
    i.add_argument("--steps", type=_ranged("steps", *STEPS, int), default=10, metavar="N",
                   help="images along the path, 2..24 (default: 10)")
    i.add_argument("--strip", metavar="PNG", help="the interpolation strip (with --interpolate)")
    p.add_argument("--codes", metavar="CSV", help="every image's latent code as CSV")
    p.add_argument("--loss-curves", metavar="PNG", help="the model's saved loss history")


def _outputs(args: argparse.Namespace) -> list[str]:
    return [path for path in (args.latent_map, args.gallery, args.strip, args.codes,
                              args.loss_curves) if path]


def _check_arguments(args: argparse.Namespace) -> None:
    """Refuse what cannot be done before anything is loaded (ExportRefused)."""
    if not _outputs(args):
        raise ExportRefused("nothing to export: give --latent-map, --gallery, --strip, "
                            "--codes or --loss-curves")
    if (args.interpolate is None) != (args.strip is None):
        raise ExportRefused("--interpolate A B and --strip PNG go together")
    if args.axes is not None and args.pca:
        raise ExportRefused("--axes and --pca are two choices of axes: give one")
    if (args.size or args.axes or args.manifold or args.pca) and not args.latent_map:
        raise ExportRefused("--size, --axes, --manifold and --pca shape --latent-map: give it")
    if args.latent_map and Path(args.latent_map).suffix.lower() not in (".png", ".svg"):
        raise ExportRefused(f"{args.latent_map}: --latent-map writes a .png or an .svg")
    if args.size and args.latent_map and args.latent_map.lower().endswith(".svg"):
        raise ExportRefused("--size applies to a PNG; an SVG drawing scales freely")
    for path in _outputs(args):
        writable_target(path)


def run_export(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Write every asked-for file; 0, or 2 with one line for bad input."""
    try:
        _check_arguments(args)
    except ExportRefused as exc:
        stderr.write(f"latentlab export: error: {exc}\n")
        return 2
    from .gui.headless import offscreen_application

    app = offscreen_application()
    window = None
    try:
        data = load_data(args.data, args.image_size) if args.data or args.image_size else None
        window = _open_window(data)
        app.processEvents()
        from .gui.actions.files import open_model_file

        open_model_file(window.training, args.model)
        app.processEvents()
        for written in _write(window, args):
            stdout.write(f"wrote {written}\n")
    except (DataFileError, ModelFileError, WriteFailed, ExportRefused) as exc:
        stderr.write(f"latentlab export: error: {' '.join(str(exc).split())}\n")
        return 2
    finally:
        if window is not None:
            window.close()
            window.shutdown()
            window.deleteLater()
        app.processEvents()
    return 0


def _open_window(data: Dataset | None) -> MainWindow:
    from .gui.headless import headless_settings
    from .gui.main_window import MainWindow

    window = MainWindow(data, settings=headless_settings(), autostart=False, pretrained=False)
    window.resize(*WINDOW_SIZE)
    window.show()
    return window


def _write(window: MainWindow, args: argparse.Namespace) -> Sequence[str]:
    """Each asked-for file, written by the panel (or export command) the window uses."""
    from .gui.actions.export import export_latent_codes
    from .gui.slots import PCA_VIEW

    s = window.session
    slot = s.primary_slot  # the opened model's slot
    model = s.model(slot)
    assert model is not None
    s.set_map_mode(slot.value)
    written = []
    if args.latent_map:
        if model.latent_dim < 2:
            raise ExportRefused("--latent-map: the model has a 1-D latent; a map needs 2 "
                                "latent dimensions")
        if args.axes is not None:
            i, j = args.axes
            if max(i, j) > model.latent_dim:
                raise ExportRefused(f"--axes {i},{j}: the model has {model.latent_dim} latent "
                                    "dimensions")
            s.set_axes(i - 1, j - 1)
        if args.pca:
            s.set_map_view(PCA_VIEW)
        panel: Any = window.panels["map"]
        window.docks["map"].raise_()
        shown = panel.maps[slot]
        # A larger data set is encoded on the worker: draw once the map shows this model.
        _wait_until(lambda: shown.model is model and shown.plane is not None
                    and shown.plane.is_pca == args.pca, "the latent map")
        panel.fit_view()
        if args.latent_map.lower().endswith(".svg"):
            _show_manifold(panel, slot, args.manifold)
            panel.export_svg(args.latent_map)
        else:
            w, h = args.size or (MAP_WIDTH, panel.natural_export_height(MAP_WIDTH))
            with panel.laid_out_as_figure(w, h):  # the manifold is decoded for this view
                _show_manifold(panel, slot, args.manifold)
                panel.export_png(args.latent_map, w, h)
        written.append(args.latent_map)
    if args.gallery:
        gallery: Any = window.panels["gallery"]
        gallery.set_sample_count(args.count)
        gallery.set_temperature(args.temperature)
        gallery.set_fixed_seed(True, args.seed)
        gallery.show_model(model)
        written.append(str(gallery.export_png(args.gallery)))
    if args.strip:
        strip: Any = window.panels["interpolation"]
        for which, end in zip(("a", "b"), args.interpolate, strict=True):
            _pick(strip, which, end, s.dataset)
        strip.set_steps(args.steps)
        strip.show_model(model)
        written.append(str(strip.export_png(args.strip)))
    if args.codes:
        written.append(str(export_latent_codes(s, args.codes, slot)))
    if args.loss_curves:
        if not s.history(slot):
            raise ExportRefused(f"{args.model} holds no loss history to draw")
        curves: Any = window.panels["training"]
        curves.show_primary_history()
        curves.export_curves_png(args.loss_curves)
        written.append(args.loss_curves)
    return written


def _show_manifold(panel: Any, slot: str, on: bool) -> None:
    """Turn the map's decoded manifold on and wait (bounded) until the background worker
    has drawn it for the view as it is now."""
    if not on:
        return
    panel.manifold_action.setChecked(True)
    layer = panel.manifold_layer(slot)
    model = panel.session.model(slot)
    layer.request()  # for the current view at once, not after the pan/zoom settle delay
    _wait_until(lambda: not layer.pending() and layer.shown_model is model,
                "the decoded manifold")


def _wait_until(done: Callable[[], bool], what: str) -> None:
    """Let the window work until ``done()`` (bounded: ExportRefused after WAIT_TIMEOUT_S)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while not done():
        if time.monotonic() > deadline:
            raise ExportRefused(f"{what} was not drawn within {WAIT_TIMEOUT_S:.0f} s")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def _pick(strip: Any, which: str, end: Endpoint, data: Dataset) -> None:
    name = f"endpoint {which.upper()}"
    if end.index is not None:
        if end.index >= len(data):
            raise ExportRefused(f"{name}: no image {end.index}; the data has {len(data):,} "
                                f"(indices 0..{len(data) - 1})")
        strip.pick_image(which, end.index)
        return
    if data.labels is None:
        raise ExportRefused(f"{name}: label:{end.label} needs labelled data; {data.name} "
                            "has no labels")
    names = list(data.label_names or ())
    label = end.label or ""
    if label in names:
        value = names.index(label)
    elif label.lstrip("-").isdigit():
        value = int(label)
    else:
        raise ExportRefused(f"{name}: no label {label!r}")
    if not (data.labels == value).any():
        raise ExportRefused(f"{name}: no image has label {label}")
    strip.pick_label(which, value)


def plot_rate_distortion(path: str, points: Sequence[tuple[float, float, float]]) -> None:
    """Draw (β, recon, kl) points as the β trade-off panel's rate-distortion chart."""
    from .core import load_digits
    from .gui.headless import offscreen_application
    from .gui.panels.tradeoff import TradeoffPanel
    from .gui.session import LabSession

    app = offscreen_application()
    session = LabSession(load_digits())
    panel = TradeoffPanel(session)
    panel.resize(900, 700)
    for beta, recon, kl in points:
        panel.record_point(beta, recon, kl)
    app.processEvents()
    panel.export_chart_png(path)
    panel.deleteLater()
    app.processEvents()


__all__ = ["add_export_parser", "plot_rate_distortion", "run_export"]
