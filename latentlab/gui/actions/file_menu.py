"""The File menu's commands: ask for a file, run the file or export command, and report a
failure in the one failure dialog (:func:`.dialogs.guarded`).

Pictures are drawn by panels; the window hands their writers in as :class:`Pictures`, so
this module needs no panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QWidget

from . import files
from .desktop import RecentFiles, UnsavedGuard, is_model_file
from .dialogs import (
    LAST_DIR_KEY,
    ExportSizeDialog,
    ask_open_path,
    ask_save_path,
    export_dialog,
    guarded,
    last_dir,
    show_failure,
)
from .export import export_latent_codes_in_background
from .training import TrainingCommands

DATA_FILTERS = ("Image data (*.npz *.npy *.csv *idx3-ubyte *idx3-ubyte.gz);;"
                "NumPy arrays (*.npz *.npy);;CSV, one image per row (*.csv);;"
                "MNIST IDX (*idx3-ubyte *idx3-ubyte.gz);;All files (*)")
PNG = "PNG image (*.png)"


@dataclass(frozen=True)
class Pictures:
    """The panels' picture writers (each writes the file it is given, atomically)."""

    map_png: Callable[[str, int, int], object]  # path, width, height
    map_svg: Callable[[str], object]
    map_view_size: Callable[[], tuple[int, int]]  # the map's on-screen size (w, h)
    curves_png: Callable[[str], object]
    gallery_png: Callable[[str], object]
    interpolation_png: Callable[[str], object]


class FileCommands:
    """Open/Save model, Import images, and every Export, as the File menu runs them."""

    def __init__(self, parent: QWidget, settings: QSettings, training: TrainingCommands,
                 pictures: Pictures) -> None:
        self.parent = parent
        self.settings = settings
        self.training = training
        self.pictures = pictures
        self.recent = RecentFiles(settings)
        self.guard = UnsavedGuard(parent, training, settings)

    def commands(self) -> dict[str, Callable[[], object]]:
        """The menu keys of :mod:`.menus` this class answers."""
        return {
            "open_model": self.open_model, "save_model": self.save_model,
            "import_file": self.import_file, "import_folder": self.import_folder,
            "use_digits": self.use_digits, "export_map": self.export_map,
            "export_svg": self.export_svg, "export_curves": self.export_curves,
            "export_codes": self.export_codes, "export_gallery": self.export_gallery,
            "export_interpolation": self.export_interpolation,
        }

    def _export(self, title: str, name: str, filters: str, suffix: str,
                write: Callable[[str], object], failure: str = "Export failed") -> None:
        export_dialog(self.parent, self.settings, self.training.session, title, name, filters,
                      suffix, write, failure)

    # -- model files and data sets -------------------------------------------------------
    # Each command that replaces a model asks the unsaved-model guard first, and a file
    # opened successfully joins File ▸ Open recent.
    def open_model(self) -> None:
        path = ask_open_path(self.parent, self.settings, "Open model",
                             "LatentLab model (*.npz);;All files (*)")
        if path is not None:
            self.open_model_at(path)

    def open_model_at(self, path: str) -> None:
        def run() -> None:
            def open_it() -> bool:
                files.open_model_file(self.training, path)
                return True
            if guarded(self.parent, "Could not open the model", f"Could not open {path}",
                       open_it):
                self.recent.add("model", path)
        self.guard.confirm("Opening a model", run)

    def save_model(self) -> None:
        kind = self.training.session.config().model
        slot = self.training.session.primary_slot

        def save(p: str) -> object:
            saved = files.save_model_file(self.training, p, slot)
            self.guard.mark_saved(slot)
            self.recent.add("model", saved)
            return saved
        self._export("Save model", f"latentlab-{kind}.npz", "LatentLab model (*.npz)", ".npz",
                     save, failure="Save failed")

    def import_file(self) -> None:
        path = ask_open_path(self.parent, self.settings, "Import images", DATA_FILTERS)
        if path is not None:
            self.import_file_at(path)

    def import_file_at(self, path: str) -> None:
        def run() -> None:
            files.import_data_file_in_background(
                self.training, path,
                lambda exc: show_failure(self.parent, "Could not import the images",
                                         f"Could not import {path}:\n{exc}", exc),
                done=lambda: self.recent.add("data", path))
        self.guard.confirm("Importing images", run)

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent, "Import a folder of images",
                                                  last_dir(self.settings))
        if folder:
            self.settings.setValue(LAST_DIR_KEY, folder)
            self.import_folder_at(folder)

    def import_folder_at(self, folder: str) -> None:
        # An empty or unreadable folder is refused before the size is asked for; both the
        # look into the folder and the reading run on the background worker.
        def failed(exc: BaseException) -> None:
            show_failure(self.parent, "Could not import the images",
                         f"Could not import {folder}:\n{exc}", exc)

        def found(_count: int) -> None:
            choice, ok = QInputDialog.getItem(self.parent, "Image size",
                                              "Resize every image to:", list(files.FOLDER_SIZES),
                                              0, False)
            if not ok:
                return
            self.guard.confirm("Importing images", lambda: files.import_image_folder_in_background(
                self.training, folder, files.FOLDER_SIZES[choice], failed,
                done=lambda: self.recent.add("data", folder)))

        files.check_image_folder_in_background(self.training, folder, found, failed)

    def open_path(self, path: str) -> None:
        """Open whatever ``path`` is (a dropped or recent entry): a folder of images, a
        model file, or a data file."""
        if Path(path).is_dir():
            self.import_folder_at(path)
        elif is_model_file(path):
            self.open_model_at(path)
        else:
            self.import_file_at(path)

    def use_digits(self) -> None:
        self.guard.confirm("Going back to the digits", lambda: guarded(
            self.parent, "Could not load the digits", "Could not load the bundled digits",
            lambda: files.use_bundled_digits(self.training)))

    # -- exports -------------------------------------------------------------------------
    def export_map(self) -> None:
        width, height = self.pictures.map_view_size()
        dialog = ExportSizeDialog(max(800, 2 * width), height / max(1, width), self.parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        path = ask_save_path(self.parent, self.settings, "Export latent map", "latent-map.png",
                             PNG, ".png")
        if path is None:
            return
        w, h = dialog.width_box.value(), dialog.height_box.value()
        if guarded(self.parent, "Export failed", f"Could not save {path}",
                   lambda: self.pictures.map_png(path, w, h) or True) is not None:
            self.training.session.say(f"Saved {path} ({w}×{h})", 5000)

    def export_svg(self) -> None:
        self._export("Export latent map as SVG", "latent-map.svg", "SVG drawing (*.svg)",
                     ".svg", self.pictures.map_svg)

    def export_curves(self) -> None:
        self._export("Export loss curves", "loss-curves.png", PNG, ".png",
                     self.pictures.curves_png)

    def export_codes(self) -> None:
        path = ask_save_path(self.parent, self.settings, "Export latent codes",
                             "latent-codes.csv", "CSV table (*.csv)", ".csv")
        if path is None:
            return

        def failed(exc: BaseException) -> None:
            show_failure(self.parent, "Export failed", f"Could not save {path}:\n{exc}", exc)

        guarded(self.parent, "Export failed", f"Could not save {path}",
                lambda: export_latent_codes_in_background(self.training.session, path, failed))

    def export_gallery(self) -> None:
        self._export("Export gallery", "gallery.png", PNG, ".png", self.pictures.gallery_png)

    def export_interpolation(self) -> None:
        self._export("Export interpolation", "interpolation.png", PNG, ".png",
                     self.pictures.interpolation_png)


__all__ = ["FileCommands", "Pictures"]
