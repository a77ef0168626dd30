"""The menu bar as one table: every command's text, shortcut and tooltip, in menu order.

:func:`build_menus` turns :data:`MENUS` into ``QAction``s and connects each to the callable
the window hands in under the row's key; the View menu also gets a toggle per dock (from the
panel registry) and the map modes as radio items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from ..slots import BOTH, SLOT_TITLES, Slot


@dataclass(frozen=True)
class Row:
    key: str
    text: str
    shortcut: str = ""
    tip: str = ""
    role: QAction.MenuRole = QAction.MenuRole.NoRole


SEPARATOR = None
DOCK_TOGGLES = "dock toggles"  # where the View menu lists the docks
MAP_MODE_ITEMS = "map modes"  # where the View menu offers the map's three modes
MAP_VIEW_ITEMS = "map views"  # where it offers the map panel's own toggles (manifold …)
RECENT_ITEMS = "recent files"  # where the File menu has Open recent (filled when shown)

MENUS: tuple[tuple[str, Sequence[object]], ...] = (
    ("&File", (
        Row("open_model", "&Open model…", "Ctrl+O",
            "Load a model and its settings from a .npz model file"),
        RECENT_ITEMS,
        Row("save_model", "&Save model…", "Ctrl+S",
            "Save the selected model, its settings and its loss history to one .npz file"),
        SEPARATOR,
        Row("import_file", "&Import images…", "Ctrl+I",
            "Train on your own images: .npz, .npy, .csv or MNIST IDX (…-idx3-ubyte[.gz])"),
        Row("import_folder", "Import a &folder of images…", "",
            "Train on a folder of PNG/JPEG images (grayscale, resized); sub-folders are "
            "classes"),
        Row("use_digits", "Use the bundled &digits", "", "Go back to the 1,797 8×8 digits"),
        SEPARATOR,
        ("&Export", (
            Row("export_map", "Latent &map as PNG…", "Ctrl+E",
                "Save the latent map as a PNG at a size you choose"),
            Row("export_svg", "Latent map as &SVG…", "",
                "Save the latent map as a scalable vector drawing"),
            Row("export_curves", "&Loss curves as PNG…"),
            Row("export_codes", "Latent &codes as CSV…", "",
                "One row per image: index, label, the encoding μ (and log σ² for a VAE)"),
            Row("export_gallery", "&Gallery as PNG…", "Ctrl+Shift+E"),
            Row("export_interpolation", "&Interpolation strip as PNG…"),
        )),
        SEPARATOR,
        Row("quit", "&Quit", "Ctrl+Q", role=QAction.MenuRole.QuitRole),
    )),
    ("&Training", (
        Row("start", "&Start / pause", "Space"),
        Row("step", "S&tep one epoch", "Ctrl+T"),
        Row("reset", "&Reset model"),
    )),
    ("&View", (
        DOCK_TOGGLES,
        SEPARATOR,
        MAP_MODE_ITEMS,
        MAP_VIEW_ITEMS,
        Row("fit_map", "&Fit map to the data", "Ctrl+0"),
        SEPARATOR,
        Row("reset_layout", "Reset &layout"),
    )),
    ("&Help", (
        Row("quick_start", "&Quick start", "F1", "What to try first, in five steps"),
        Row("shortcuts", "&Keyboard shortcuts", "Ctrl+/",
            "Every shortcut of the menus, and what the mouse does on the map"),
        Row("tour", "&Tour of the article", "Shift+F1",
            "Six steps that set the window up for each claim of the article (AE gaps, "
            "interpolation, the β trade-off, collapse, generation, your own drawing) and "
            "say what to look at, with the measured figures"),
        SEPARATOR,
        Row("about", "&About LatentLab", role=QAction.MenuRole.AboutRole),
    )),
)

#: The map modes in the View menu: (mode, text, shortcut).
MAP_MODE_ROWS = ((Slot.VAE.value, f"&{SLOT_TITLES[Slot.VAE]} map", "Alt+1"),
                 (Slot.AE.value, f"&{SLOT_TITLES[Slot.AE]} map", "Alt+2"),
                 (BOTH, "&Both maps side by side", "Alt+3"))


@dataclass
class Menus:
    """What :func:`build_menus` made: actions by key, menus by their plain title
    ("file", "export", "view", …) and the map-mode radio items by mode."""

    actions: dict[str, QAction]
    menus: dict[str, QMenu]
    map_modes: dict[str, QAction]


def build_menus(window: QMainWindow, commands: dict[str, Callable[[], object]],
                docks: Sequence[tuple[QDockWidget, str]],
                set_map_mode: Callable[[str], None],
                map_views: Sequence[QAction] = ()) -> Menus:
    """Fill ``window``'s menu bar from :data:`MENUS`; ``docks`` = (dock, shortcut) pairs;
    ``map_views``: the latent map's checkable view actions (its toolbar shares them)."""
    made = Menus({}, {}, {})

    def fill(menu: QMenu, rows: Sequence[object]) -> None:
        for row in rows:
            if row is SEPARATOR:
                menu.addSeparator()
            elif row == DOCK_TOGGLES:
                for dock, shortcut in docks:
                    toggle = dock.toggleViewAction()
                    toggle.setShortcut(QKeySequence(shortcut))
                    menu.addAction(toggle)
            elif row == MAP_VIEW_ITEMS:
                for action in map_views:
                    menu.addAction(action)
            elif row == RECENT_ITEMS:
                made.menus["recent"] = menu.addMenu("Open &recent")
            elif row == MAP_MODE_ITEMS:
                group = QActionGroup(window)
                group.setExclusive(True)
                for mode, text, key in MAP_MODE_ROWS:
                    action = QAction(text, window)
                    action.setCheckable(True)
                    action.setShortcut(QKeySequence(key))
                    action.triggered.connect(lambda _=False, m=mode: set_map_mode(m))
                    group.addAction(action)
                    menu.addAction(action)
                    made.map_modes[mode] = action
            elif isinstance(row, Row):
                action = QAction(row.text, window)
                if row.shortcut:
                    action.setShortcut(QKeySequence(row.shortcut))
                if row.tip:
                    action.setToolTip(row.tip)
                action.setMenuRole(row.role)
                command = commands[row.key]
                action.triggered.connect(lambda _=False, c=command: c())
                menu.addAction(action)
                made.actions[row.key] = action
            else:
                title, sub = cast(tuple[str, Sequence[object]], row)
                submenu = QMenu(title, menu)
                menu.addMenu(submenu)
                made.menus[_plain(title)] = submenu
                fill(submenu, sub)

    for title, rows in MENUS:
        menu = window.menuBar().addMenu(title)
        made.menus[_plain(title)] = menu
        fill(menu, rows)
    return made


def _plain(title: str) -> str:
    return title.replace("&", "").lower()


__all__ = ["MENUS", "Menus", "Row", "build_menus"]
