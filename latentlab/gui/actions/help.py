"""Help ▸ Quick start and Help ▸ Keyboard shortcuts. The shortcut list is read from the
window's own menus, so it cannot drift from them; the mouse's gestures on the map are
listed beside it."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QMessageBox, QWidget

import latentlab

QUICK_START = """
<h3>Quick start</h3>
<ol>
<li><b>Watch it learn.</b> Press <b>Start</b> (Space) in the Training panel: the VAE trains
on the 1,797 8×8 digits and the latent map fills in, one dot per image.</li>
<li><b>Decode any point.</b> Click anywhere on the map: the Decoded image panel shows what
the model draws there. Hover a dot to see its image.</li>
<li><b>Feel β.</b> Drag the β slider: low β gives sharp images and a gappy map, high β a
smooth map and blurry images. The β trade-off panel plots each β you train.</li>
<li><b>Compare.</b> View ▸ Both maps side by side shows the plain autoencoder's map beside
the VAE's: decodes in the AE's gaps stray further from any digit (View ▸ Decoded manifold
shows it; Help ▸ Tour of the article gives the measured share).</li>
<li><b>Use your own images.</b> Drop a folder of PNG/JPEG images (sub-folders as classes),
a data file (.npz, .npy, .csv, MNIST IDX) or a saved model on the window, or use the File
menu. File ▸ Export writes every figure; <code>latentlab export</code> does it without a
window.</li>
</ol>
"""

MOUSE = (
    ("Click the map", "decode that point"),
    ("Shift+click / Ctrl+click", "set interpolation endpoint A / B"),
    ("Drag / wheel", "pan / zoom the map"),
    ("Right-click the map", "fit the view, export the map"),
    ("Drop a file or folder", "open a model, import images"),
)


def menu_shortcuts(bar: QMenuBar) -> list[tuple[str, str]]:
    """(item, shortcut) of every item of ``bar``'s menus that has a shortcut, in order."""
    found: list[tuple[str, str]] = []

    def walk(actions: list[QAction]) -> None:
        for action in actions:
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub.actions())
            elif not action.shortcut().isEmpty():
                found.append((action.text().replace("&", ""),
                              action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))

    walk(bar.actions())
    return found


def shortcuts_html(bar: QMenuBar) -> str:
    rows = "".join(f"<tr><td>{escape(item)}</td><td><b>{escape(keys)}</b></td></tr>"
                   for item, keys in menu_shortcuts(bar))
    mouse = "".join(f"<tr><td>{escape(what)}</td><td><b>{escape(gesture)}</b></td></tr>"
                    for gesture, what in MOUSE)
    return (f"<h3>Keyboard shortcuts</h3><table cellspacing='4'>{rows}</table>"
            f"<h3>Mouse</h3><table cellspacing='4'>{mouse}</table>")


def _show(parent: QWidget, title: str, html: str) -> QMessageBox:
    """A help box opened without blocking (it deletes itself when closed)."""
    box = QMessageBox(QMessageBox.Icon.Information, title, html, parent=parent)
    box.setObjectName(title)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def show_quick_start(parent: QWidget) -> QMessageBox:
    return _show(parent, "Quick start", QUICK_START)


def show_shortcuts(parent: QWidget, bar: QMenuBar) -> QMessageBox:
    return _show(parent, "Keyboard shortcuts", shortcuts_html(bar))


__all__ = [
    "QUICK_START",
    "menu_shortcuts",
    "shortcuts_html",
    "show_quick_start",
    "show_shortcuts",
]


def show_about(parent: QWidget) -> None:
    """Help ▸ About LatentLab."""
    QMessageBox.about(
        parent, "About LatentLab",
        f"<h3>LatentLab {latentlab.__version__}</h3>"
        "<p>Train autoencoders and variational autoencoders on small images and watch "
        "them learn: click the latent map to decode any point, drag β to feel the "
        "trade-off between sharp reconstructions and a smooth latent space, and sample "
        "new digits from the prior.</p>"
        "<p>Pure NumPy models; Qt (PySide6) and pyqtgraph interface. MIT licence.</p>")
