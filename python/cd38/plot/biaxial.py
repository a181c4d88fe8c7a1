"""Biaxial density plots and histograms of one population, with its gates drawn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cd38.errors import InvalidArgumentError
from cd38.gating.model import Dimension, Gate
from cd38.plot._axes import Axis, _dim_channel, axes_values, channel_of, resolve_axis
from cd38.plot._backend import new_figure
from cd38.plot._density import bin1d, bin2d, draw_density, set_ticks
from cd38.plot._gates import GateDrawer

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cd38.gating.result import GatingResult

__all__ = ["biaxial", "histogram"]

GateSelection = str | Sequence[str] | None


def _gates(result: GatingResult, population: str | None, gates: GateSelection) -> list[Gate]:
    """``"children"``: the gates whose parent is ``population``; or the named gates or populations."""
    st = result.strategy
    if gates is None:
        return []
    if isinstance(gates, str) and gates == "children":
        ids = st.children(population)
    else:
        ids = [gates] if isinstance(gates, str) else list(gates)
    out: list[Gate] = []
    for pid in ids:
        g = st.gates[pid] if pid in st.gates else st.gate_of(pid)
        if g not in out:
            out.append(g)
    return out


def _prefer(result: GatingResult, gates: list[Gate], name: str | Dimension) -> str | Dimension:
    """The dimension the drawn gates use for ``name``, so events and gates share a scale."""
    if isinstance(name, Dimension):
        return name
    sample = result.sample
    channel = channel_of(sample, name, result.strategy)
    for g in gates:
        for d in g.dimensions_used():
            if _dim_channel(d, sample, result.strategy) == channel:
                return d
    return name


def _events(result: GatingResult, population: str | None, max_events: int | None) -> Any:
    idx: npt.NDArray[Any] | None = None if population is None else result.indices(population)
    n = result.n_events if idx is None else len(idx)
    if max_events is not None and n > max_events:
        # An even stride keeps every part of the file (and is deterministic).
        step = -(-n // max_events)
        idx = np.arange(0, n, step) if idx is None else idx[::step]
    return idx


def _percent(result: GatingResult, population: str | None) -> Any:
    denom = result.n_events if population is None else result.count(population)

    def pct(pid: str) -> float | None:
        return 100.0 * result.count(pid) / denom if denom else None

    return pct


def _axes_for(
    result: GatingResult, names: Sequence[str | Dimension], gates: list[Gate], idx: Any
) -> list[tuple[Axis, npt.NDArray[np.float64]]]:
    """Axes on the drawn gates' scales, with ranges fitted to the values, and the
    values before the transform (binning applies it; see ``bin_index``)."""
    axes = [resolve_axis(result, _prefer(result, gates, n)) for n in names]
    values = axes_values(result, axes, idx, transformed=False)
    out = []
    for a, v in zip(axes, values, strict=True):
        sub = v[:: max(1, v.size // 200_000)]  # the range needs quantiles only
        shown = sub if a.transform is None else a.transform.apply(sub)
        out.append((resolve_axis(result, a.dimension, values=shown), v))
    return out


def _title(result: GatingResult, population: str | None, n_shown: int) -> str:
    name = population or "all events"
    total = result.n_events if population is None else result.count(population)
    shown = "" if n_shown == total else f", {n_shown:,} shown"
    return f"{name} ({total:,} events{shown})"


def biaxial(
    result: GatingResult,
    x: str | Dimension,
    y: str | Dimension,
    population: str | None = None,
    *,
    gates: GateSelection = "children",
    bins: int = 256,
    max_events: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A density plot of ``population`` (all events when None) on channels or
    markers ``x`` and ``y``, on the strategy's compensation and transforms, with
    ``gates`` drawn and labelled with their percentage of ``population``.

    ``gates`` is ``"children"`` (the gates under ``population``), a list of gate
    or population ids, or None. Events are binned into a ``bins`` x ``bins``
    grid, so the drawing cost does not depend on the number of events;
    ``max_events`` subsamples evenly first when set.
    """
    if bins < 2:
        raise InvalidArgumentError(f"bins must be at least 2, not {bins}")
    drawn = _gates(result, population, gates)
    idx = _events(result, population, max_events)
    (xa, xv), (ya, yv) = _axes_for(result, [x, y], drawn, idx)
    fig, ax = _figure(ax, 4.6, 4.2)
    counts = bin2d(
        xv, yv, (xa.lo, xa.hi), (ya.lo, ya.hi), bins, x_transform=xa.transform, y_transform=ya.transform
    )
    draw_density(ax, counts, xa, ya)
    drawer = GateDrawer(ax, xa, ya, result.sample, result.strategy, _percent(result, population))
    for g in drawn:
        drawer.draw(g)
    ax.set_title(title or _title(result, population, len(xv)), fontsize=9)
    return fig


def _figure(ax: Axes | None, w: float, h: float) -> tuple[Figure, Axes]:
    if ax is not None:
        fig = ax.get_figure()
        assert fig is not None
        return fig, ax  # type: ignore[return-value]
    fig = new_figure(w, h)
    return fig, fig.add_subplot()


def _threshold_position(t: Any, axis: Axis) -> tuple[float, str]:
    """A threshold on the axis's scale: a float (already on it), ``(value, label)``,
    or a :class:`cd38.thresholds.Threshold` (converted from raw values when it has no transform)."""
    if isinstance(t, int | float):
        return float(t), f"{float(t):.3g}"
    if isinstance(t, tuple) and len(t) == 2:
        return float(t[0]), str(t[1])
    value = getattr(t, "value", None)
    if value is None:
        raise InvalidArgumentError(f"not a threshold: {t!r}")
    label = str(getattr(t, "method", "threshold"))
    ttag = getattr(t, "transform", None)
    xf = axis.transform
    if ttag is None:
        return (float(xf.apply([value])[0]) if xf is not None else float(value)), label
    if xf is not None and ttag == repr(xf):
        return float(value), label
    raise InvalidArgumentError(f"threshold on {ttag} cannot be drawn on an axis with transform {xf!r}")


def histogram(
    result: GatingResult,
    channel: str | Dimension,
    population: str | None = None,
    *,
    thresholds: Sequence[Any] = (),
    gates: GateSelection = "children",
    bins: int = 256,
    max_events: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A histogram of one channel (or marker) for ``population``, on the strategy's
    scale, with one-dimensional gates and ``thresholds`` drawn.

    A threshold is a number on the plotted (transformed) scale, a ``(value,
    label)`` pair, or a :class:`cd38.thresholds.Threshold`.
    """
    if bins < 2:
        raise InvalidArgumentError(f"bins must be at least 2, not {bins}")
    drawn = _gates(result, population, gates)
    idx = _events(result, population, max_events)
    ((xa, xv),) = _axes_for(result, [channel], drawn, idx)
    fig, ax = _figure(ax, 4.6, 3.2)
    counts = bin1d(xv, (xa.lo, xa.hi), bins, transform=xa.transform)
    edges = np.linspace(xa.lo, xa.hi, bins + 1)
    ax.stairs(counts, edges, fill=True, color="#4c72b0", alpha=0.8)
    ax.set_xlim(xa.lo, xa.hi)
    ax.set_ylim(0, max(1.0, float(counts.max()) * 1.15))
    set_ticks(ax, xa, "x")
    ax.set_xlabel(xa.label)
    ax.set_ylabel("events")
    drawer = GateDrawer(ax, xa, None, result.sample, result.strategy, _percent(result, population))
    for g in drawn:
        drawer.draw(g)
    xs = xv[np.isfinite(xv)]
    for t in thresholds:
        pos, label = _threshold_position(t, xa)
        # Compare data values with the cut mapped back (the transform is increasing).
        cut = pos if xa.transform is None else float(xa.transform.inverse([pos])[0])
        above = 100.0 * float(np.count_nonzero(xs >= cut)) / xs.size if xs.size else 0.0
        ax.axvline(pos, color="#c44e52", linestyle="--", linewidth=1.3, zorder=4)
        ax.text(
            pos,
            ax.get_ylim()[1] * 0.98,
            f" {label}\n {above:.1f}% above",
            fontsize=7,
            va="top",
            ha="left",
            color="#c44e52",
            clip_on=True,
        )
    ax.set_title(title or _title(result, population, len(xv)), fontsize=9)
    return fig
