"""Diagnostics panel: per-dimension KL, active units and posterior collapse; AE vs PCA.

For a VAE the panel encodes the whole data set with the current model and shows, per
latent dimension, the mean KL(q(z_k|x) || N(0, 1)) as a bar (blue: active, grey: inactive),
the number of *active units* (Burda et al. 2016: dims whose mean encoding varies over the
data, ``Cov_x(mu_k) > 0.01``) and a warning when fewer units are active than there are
latent dims — posterior collapse: those dims copy the prior and carry no information.

For an autoencoder or a linear autoencoder it compares the reconstruction error (per-pixel
MSE of ``decode(encode(x))``) with PCA using as many components as the model has latent
dims; a linear AE can at best match PCA. The PCA figure is computed once per data set and
latent size and cached. Every model also gets the MSE-vs-PCA line under the chart.

Below them, the smoothness of every model's decoded map (the VAE's and the autoencoder's
side by side: off-manifold decodes over the region and in its gaps, neighbour jumps per
σ-step; :class:`~latentlab.gui.widgets.smoothness.SmoothnessTable`).

The maths lives in :mod:`latentlab.core.diagnostics` and :mod:`latentlab.core.smoothness`,
the whole-data work in the session's analysis (:meth:`DataAnalysis.diagnose`,
:meth:`DataAnalysis.smoothness`); this module only draws it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from latentlab.core import Model
from latentlab.core.claims import COLLAPSE_BETA_RANGE, MAX_SAFE_BETA, collapse_advice
from latentlab.core.diagnostics import ACTIVE_UNIT_THRESHOLD, LatentDiagnostics
from latentlab.core.loss_labels import AT_MU
from latentlab.core.vqvae import VQVAE

from ..analysis import Asked, ModelDiagnostics
from ..session import LabSession
from ..slots import ModelKind, Slot
from ..widgets.map_plot import subscript
from ..widgets.smoothness import SmoothnessTable
from .base import Panel

__all__ = ["DiagnosticsPanel", "collapse_warning"]

ACTIVE_COLOR = (70, 130, 200)
INACTIVE_COLOR = (175, 175, 175)
MODEL_COLOR = (70, 130, 200)
PCA_COLOR = (240, 150, 60)
_MAX_VALUE_LABELS = 12  # more bars than this: no number above each bar
_MAX_LISTED_DIMS = 5
_KL_AXIS_MIN = 0.5  # nats: the KL axis never zooms in further than this
_WARNING_STYLE = (
    "QLabel { background: #fff3cd; color: #5c4300; border: 1px solid #e0b040;"
    " border-radius: 4px; padding: 6px; }"
)


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def collapse_warning(diag: LatentDiagnostics, beta: float | None = None) -> str:
    """The posterior-collapse message for ``diag`` (dims numbered from 1), or "" if none.

    E.g. "Posterior collapse: 1 of 2 latent dims carry information (KL ≈ 0.00 in dim 2).",
    then what was measured about it on the digits (:func:`core.claims.collapse_advice`).
    """
    if not diag.collapsed:
        return ""
    inactive = diag.inactive_dims
    shown = inactive[:_MAX_LISTED_DIMS]
    kls = [f"{diag.kl[i]:.2f}" for i in shown]
    dims = [str(i + 1) for i in shown]
    if len(inactive) > len(shown):
        dims.append(f"{len(inactive) - len(shown)} more")
    if len(set(kls)) == 1:
        where = f"KL ≈ {kls[0]} in dim{'s' if len(inactive) > 1 else ''} {_and_list(dims)}"
    else:
        where = ", ".join(f"KL ≈ {kl} in dim {d}" for kl, d in zip(kls, dims, strict=False))
        if len(inactive) > len(shown):
            where += f" and {len(inactive) - len(shown)} more dims"
    verb = "carries" if diag.n_active == 1 else "carry"
    text = (f"Posterior collapse: {diag.n_active} of {diag.latent_dim} latent dims {verb} "
            f"information ({where}).")
    if diag.n_active == 0:
        text += " The decoder ignores z and draws much the same image for every input."
    return text + " " + collapse_advice(beta)


class _Chart(pg.PlotWidget):
    """The bar chart, preferring a modest height: pyqtgraph's 640×480 hint made the panel
    taller than a 1080-pixel screen's dock, so the smoothness section below it needed a
    scroll; it still takes whatever room the dock has (Expanding)."""

    def sizeHint(self) -> QSize:
        return QSize(320, 220)


class DiagnosticsPanel(Panel):
    """Per-dim KL bars, active units and a collapse warning (VAE); MSE vs PCA (AE, linear).

    The panel follows the session's primary model when it settles (or ``show_model`` with
    any snapshot), on the session's data set.
    """

    def __init__(self, session: LabSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("diagnosticsPanel")
        self._model: Any = None
        self._beta: float | None = None
        self._diagnostics: LatentDiagnostics | None = None
        self._shown_model: Any = None  # the snapshot whose diagnostics are drawn
        self._asked = Asked()  # snapshots whose diagnostics the worker has not sent yet
        self._model_mse: float | None = None
        self._value_labels: list[pg.TextItem] = []
        self._chart_mode = ""

        self._heading = QLabel()
        font = self._heading.font()
        font.setBold(True)
        self._heading.setFont(font)
        self._heading.setToolTip("The model being diagnosed, and the β of its latest epoch.")

        self._warning = QLabel()
        self._warning.setWordWrap(True)
        self._warning.setStyleSheet(_WARNING_STYLE)
        self._warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._warning.setToolTip(
            "Posterior collapse: some latent dims encode nothing about the input; their\n"
            "posterior q(z|x) equals the prior N(0, 1) for every image, so their KL is ~0.\n"
            f"Measured on the digits (2-D VAE): every run collapsed by β = "
            f"{COLLAPSE_BETA_RANGE[1]:g}, with or\nwithout KL warm-up; at β ≤ "
            f"{MAX_SAFE_BETA:g} every dim of every run stayed active."
        )
        self._warning.hide()

        self._summary = QLabel()
        self._summary.setWordWrap(True)
        self._summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._summary.setToolTip(
            f"A latent dim is an active unit when its mean encoding μₖ varies across the\n"
            f"data: Var_x(μₖ) > {ACTIVE_UNIT_THRESHOLD:g} (Burda, Grosse & Salakhutdinov, "
            "2016).\nAn inactive dim says the same thing for every image."
        )

        self._build_chart()

        self._comparison = QLabel()
        self._comparison.setWordWrap(True)
        self._comparison.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._comparison.setToolTip(
            "Per-pixel mean squared error of the reconstructions decode(encode(x)) (μ for a\n"
            "VAE) on the whole data set, next to PCA keeping as many components as the\n"
            "model has latent dims (the best any linear K-dim code can do)."
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self._heading)
        layout.addWidget(self._warning)
        layout.addWidget(self._summary)
        layout.addWidget(self._chart, 1)
        layout.addWidget(self._comparison)
        # Every model's, not only the primary one's: the AE's gaps beside the VAE's.
        self.smoothness = SmoothnessTable(session, self.observe,
                                          lambda: list(Slot) if self.is_seen() else [])
        layout.addWidget(self.smoothness)
        layout.addStretch(0)  # takes the room only while the chart is hidden
        self.bind()

    def bind(self) -> None:
        s = self.session
        self.observe(s.datasetChanged, self.clear)
        self.follow_primary_model()
        self.observe(s.analysis.ready, self._on_analysed)
        self._refresh()

    def refresh(self) -> None:
        """Diagnose the session's primary model and its latest β, and measure every model's
        smoothness (if on screen)."""
        self.show_primary_model(self.show_model)
        self.smoothness.refresh()

    def _build_chart(self) -> None:
        chart = _Chart()
        chart.setBackground("w")
        chart.setMinimumHeight(150)
        chart.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        plot = chart.getPlotItem()
        plot.showGrid(x=False, y=True, alpha=0.25)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#333333")
            plot.getAxis(axis).setPen("#888888")
        # No "(x1e-06)" rescaling of the axis: a collapsed dim's KL must read as ~0.
        plot.getAxis("left").enableAutoSIPrefix(False)
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.6, pen=pg.mkPen(None))
        plot.addItem(self._bars)
        self._chart = chart
        self._plot = plot

    # ------------------------------------------------------------------ public API
    @property
    def diagnostics(self) -> LatentDiagnostics | None:
        """Per-dim KL and active units of the shown VAE (None for other models)."""
        return self._diagnostics

    @property
    def model_mse(self) -> float | None:
        """Per-pixel reconstruction MSE of the shown model on the data set."""
        return self._model_mse

    @property
    def pca_mse(self) -> float | None:
        """PCA's per-pixel MSE with as many components as the shown model's latent dims."""
        if self._model is None:
            return None
        return self.session.analysis.pca_mse(int(self._model.latent_dim))

    @property
    def warning_text(self) -> str:
        """The collapse warning shown right now ("" when hidden)."""
        return self._warning.text() if not self._warning.isHidden() else ""

    def bar_heights(self) -> np.ndarray:
        """Heights of the drawn bars: KL per dim (VAE) or [model MSE, PCA MSE]."""
        return np.asarray(self._bars.opts.get("height", []), dtype=float)

    def show_model(self, model: Any, report: Any = None) -> None:
        """Diagnose ``model`` (an independent snapshot, GUI thread). ``report`` is the
        latest EpochReport or None; its β is quoted in the heading and the warning."""
        self._model = model
        if report is not None:
            self._beta = float(report.beta)
        self._refresh()

    def clear(self) -> None:
        """Forget the model and show nothing."""
        self._model = None
        self._beta = None
        self._refresh()

    # ------------------------------------------------------------------ internals
    def _refresh(self) -> None:
        model, analysis = self._model, self.session.analysis
        problem = ""
        if model is not None and not analysis.fits(model):
            problem = (f"This model expects {model.input_dim} pixels per image; "
                       f"the data has {analysis.dataset.images.shape[1]}.")
        found = None if model is None or problem else analysis.diagnose(model)
        if found is None and model is not None and not problem:
            # On the worker: the figures of an earlier snapshot of the same kind of model
            # stay until it answers (_on_analysed).
            self._asked.add(model)
            shown = self._shown_model
            if shown is not None and (shown.kind, shown.latent_dim) == (
                    model.kind, model.latent_dim):
                return
        self._show(model, found, problem)

    def _on_analysed(self, what: str, subject: object) -> None:
        if what == "diagnostics" and isinstance(subject, Model) and self._asked.settle(subject):
            self._show(subject, self.session.analysis.diagnose(subject))
        elif what == "assignment" and subject is self._model:
            self._update_texts()

    def _show(self, model: Any, found: ModelDiagnostics | None, problem: str = "") -> None:
        """Draw ``found`` (the diagnostics of ``model``; None: nothing to draw yet)."""
        self._diagnostics = None
        self._model_mse = None
        self._shown_model = None if found is None else model
        if found is None:
            self._draw_bars(np.zeros(0), [], [])
            self._chart.hide()  # empty axes would only puzzle
            self._update_texts(problem)
            return
        self._chart.show()
        self._model_mse = found.model_mse
        k = int(model.latent_dim)
        pca = found.pca_mse
        diag = found.latents
        if diag is not None:
            self._diagnostics = diag
            colours = [ACTIVE_COLOR if a else INACTIVE_COLOR for a in diag.active]
            self._set_chart_mode("kl", k)
            self._draw_bars(diag.kl, colours, [f"{v:.2f}" for v in diag.kl], floor=_KL_AXIS_MIN)
        else:
            self._set_chart_mode("mse", k)
            self._draw_bars(np.array([self._model_mse, pca]), [MODEL_COLOR, PCA_COLOR],
                            [f"{self._model_mse:.4f}", f"{pca:.4f}"])
        self._update_texts()

    def _set_chart_mode(self, mode: str, k: int) -> None:
        key = f"{mode}:{k}"
        if key == self._chart_mode:
            return
        self._chart_mode = key
        plot = self._plot
        bottom = plot.getAxis("bottom")
        if mode == "kl":
            plot.setTitle("KL per latent dimension", color="#333333", size="10pt")
            plot.setLabel("left", "KL, nats per sample")
            plot.setLabel("bottom", "latent dimension")
            step = max(1, k // 16)
            bottom.setTicks([[(i, f"z{subscript(i + 1)}") for i in range(0, k, step)], []])
            plot.setXRange(-0.6, k - 0.4, padding=0.0)
            self._chart.setToolTip(
                "Mean KL(q(zₖ|x) ‖ N(0, 1)) over the data for each latent dim: how many nats\n"
                "of information the code puts in that dim. Blue: active unit; grey: inactive\n"
                "(collapsed to the prior). The bars sum to the KL in the loss figures."
            )
        else:
            plot.setTitle("Reconstruction error vs PCA", color="#333333", size="10pt")
            plot.setLabel("left", "MSE per pixel")
            plot.setLabel("bottom", "")
            bottom.setTicks([[(0, "this model"), (1, f"PCA, {k} component{'s' * (k != 1)}")],
                             []])
            plot.setXRange(-0.6, 1.6, padding=0.0)
            self._chart.setToolTip(
                "Per-pixel reconstruction MSE of the model (blue) and of PCA with as many\n"
                "components as the model has latent dims (orange). A linear autoencoder can\n"
                "at best match PCA; a non-linear one can beat it."
            )

    def _draw_bars(self, heights: np.ndarray, colours: list, texts: list[str],
                   floor: float = 0.0) -> None:
        """Bars at x = 0..n-1; the y axis reaches at least ``floor`` (so bars of ~0 look
        like ~0 instead of filling the chart)."""
        n = len(heights)
        x = np.arange(n, dtype=float)
        # One shared (invisible) pen: pyqtgraph 0.14 fails on an empty ``pens`` list.
        self._bars.setOpts(x=x, height=np.asarray(heights, dtype=float), width=0.6,
                           pen=pg.mkPen(None), pens=None,
                           brushes=[pg.mkBrush(c) for c in colours] if n else None)
        wanted = n if n <= _MAX_VALUE_LABELS else 0
        while len(self._value_labels) > wanted:  # reuse the text items: creating them is slow
            self._plot.removeItem(self._value_labels.pop())
        while len(self._value_labels) < wanted:
            label = pg.TextItem("", color="#333333", anchor=(0.5, 1.0))
            self._plot.addItem(label)
            self._value_labels.append(label)
        for label, xi, h, text in zip(self._value_labels, x, heights, texts, strict=False):
            label.setText(text)
            label.setPos(float(xi), float(h))
        top = max(float(np.max(heights)) * 1.2 if n else 0.0, floor)
        self._plot.setYRange(0.0, top if top > 0 else 1.0, padding=0.0)

    def _update_texts(self, problem: str = "") -> None:
        model = self._model
        beta = f" · β = {self._beta:g}" if self._beta is not None else ""
        if model is None:
            self._heading.setText("No model yet")
        else:
            kind = ModelKind.parse(model.kind)
            k = int(model.latent_dim)
            self._heading.setText(f"{kind.display_name} · {k} latent dim{'s' * (k != 1)}"
                                  + (beta if kind.has_kl else ""))
        diag = self._diagnostics
        warning = collapse_warning(diag, self._beta) if diag is not None else ""
        self._warning.setText(warning)
        self._warning.setVisible(bool(warning))
        if problem:
            self._summary.setText(problem)
        elif model is None:
            self._summary.setText("Train or load a model to see its diagnostics.")
        elif diag is not None:
            self._summary.setText(
                f"Active units: {diag.n_active} of {diag.latent_dim} "
                f"(Var over the data of μₖ > {diag.threshold:g}) · "
                f"KL {diag.total_kl:.2f} nats per sample ({AT_MU.short})"
            )
        elif isinstance(model, VQVAE) and self.session.analysis.fits(model):
            found = self.session.analysis.code_assignment(model)  # None: on the worker
            usage = "" if found is None else \
                f"{found.usage.used} in use, perplexity {found.usage.perplexity:.1f} "
            self._summary.setText(
                f"A VQ-VAE reconstructs every image from one of its {model.n_codes} codes: "
                f"{usage}(the Codebook panel, Ctrl+8, shows each code and its usage).")
        elif ModelKind.parse(model.kind).pca_baseline:
            self._summary.setText(
                "A linear autoencoder can at best match PCA: its optimum spans the same "
                "subspace as the top principal components."
            )
        else:
            self._summary.setText(
                "A non-linear autoencoder can reconstruct better than PCA with the same "
                "number of components."
            )
        mse, pca = self._model_mse, self.pca_mse
        if mse is None or pca is None:
            self._comparison.setText("")
            return
        k = int(model.latent_dim)
        change = (mse - pca) / pca if pca > 0 else 0.0
        if abs(change) < 0.005:
            verdict = "the same as PCA"
        else:
            verdict = f"{abs(change):.0%} {'lower' if change < 0 else 'higher'} than PCA"
        analysis = self.session.analysis
        on = "" if analysis.sample_size >= len(analysis.dataset) else \
            f" On a {analysis.sample_size:,}-image sample of the {len(analysis.dataset):,}."
        self._comparison.setText(
            f"Reconstruction MSE per pixel: this model {mse:.4f}, PCA with {k} "
            f"component{'s' * (k != 1)} {pca:.4f} ({verdict}).{on}"
        )
