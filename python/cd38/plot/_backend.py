"""Figures without pyplot: cd38 draws on ``matplotlib.figure.Figure`` objects
and renders them with the Agg canvas, so plotting works headless, in threads and
in notebooks alike, and never touches pyplot's global figure list."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["new_figure", "to_png"]


def _ensure_backend() -> None:
    """Choose Agg for pyplot only when nobody chose a backend and there is no display.

    An explicit choice (``MPLBACKEND``, ``matplotlib.use``, matplotlibrc) always
    wins, and so does a desktop session, where pyplot users expect a window.
    """
    if os.environ.get("MPLBACKEND"):
        return
    chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: "unknown")()
    if chosen is not None:
        return
    has_display = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if not has_display:
        matplotlib.use("Agg")


_ensure_backend()


def new_figure(width: float, height: float, **kwargs: Any) -> Figure:
    """A figure with an Agg canvas attached (so it can be saved without pyplot)."""
    fig = Figure(figsize=(width, height), layout=kwargs.pop("layout", "constrained"), **kwargs)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure, dpi: float = 110) -> bytes:
    """The figure as PNG bytes."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
