"""The gating hierarchy as a grid of small plots: one per parent and pair of
axes, in tree order from the root down to the deepest gates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cd38.gating.model import BooleanGate, Dimension, Gate
from cd38.plot._backend import new_figure
from cd38.plot.biaxial import biaxial, histogram

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from cd38.gating.result import GatingResult

__all__ = ["hierarchy"]


@dataclass
class _Tile:
    parent: str | None
    dims: tuple[Dimension, ...]
    gates: list[Gate] = field(default_factory=list)


def _plot_dims(gate: Gate) -> tuple[Dimension, ...]:
    """The axes a gate is drawn on: its two (or one) dimensions; none for boolean
    gates and gates of three or more dimensions, which are listed as text."""
    if isinstance(gate, BooleanGate):
        return ()
    dims = gate.dimensions_used()
    return tuple(dims) if 1 <= len(dims) <= 2 else ()


def _tiles(result: GatingResult) -> list[_Tile]:
    tiles: list[_Tile] = []
    for gate in result.strategy:
        parent = result.strategy.parent_of(gate.population_ids()[0])
        dims = _plot_dims(gate)
        key = frozenset(dims)
        for t in tiles:
            if t.parent == parent and frozenset(t.dims) == key:
                t.gates.append(gate)
                break
        else:
            tiles.append(_Tile(parent, dims, [gate]))
    return tiles


def _rows(tiles: list[_Tile], ncols: int) -> list[list[_Tile]]:
    """Tiles in tree order (every parent before its children), ``ncols`` a row."""
    return [tiles[i : i + ncols] for i in range(0, len(tiles), ncols)]


def _text_tile(ax: Axes, result: GatingResult, tile: _Tile) -> None:
    denom = result.n_events if tile.parent is None else result.count(tile.parent)
    lines = []
    for g in tile.gates:
        n = result.count(g.id)
        pct = f"{100.0 * n / denom:.1f}%" if denom else "n/a"
        if isinstance(g, BooleanGate):
            ops = [f"NOT {o}" if comp else o for o, comp in g.operands]
            what = f" {g.op.upper()} ".join(ops) if g.op != "not" else f"NOT {ops[0]}"
        else:
            what = f"{type(g).__name__} on {len(g.dimensions_used())} dimensions"
        lines.append(f"{g.id} = {what}\n    {n:,} events, {pct}")
    ax.text(
        0.03,
        0.95,
        "\n".join(lines),
        va="top",
        ha="left",
        fontsize=7,
        family="monospace",
        transform=ax.transAxes,
    )
    ax.set_axis_off()
    ax.set_title(f"{tile.parent or 'all events'} ({denom:,} events)", fontsize=8)


def hierarchy(
    result: GatingResult,
    *,
    ncols: int = 4,
    bins: int = 128,
    max_events: int | None = 300_000,
    tile_size: float = 2.9,
) -> Figure:
    """Every gate of the strategy as a small plot of its parent population.

    Sibling gates drawn on the same axes share a tile (quadrants share one).
    Tiles follow the tree, left to right and top to bottom, so every parent's
    tile comes before its children's. Each
    tile bins at most ``max_events`` events of its parent (an even subsample);
    the percentages are always of every event of the parent.
    """
    tiles = _tiles(result)
    ncols = max(1, min(ncols, len(tiles)))
    rows = _rows(tiles, ncols)
    fig = new_figure(tile_size * ncols, tile_size * 0.92 * max(1, len(rows)))
    grid = fig.add_gridspec(max(1, len(rows)), ncols)
    for r, row in enumerate(rows):
        for c in range(ncols):
            ax = fig.add_subplot(grid[r, c])
            if c >= len(row):
                ax.set_axis_off()
                continue
            _draw_tile(ax, result, row[c], bins, max_events)
    if not rows:
        fig.add_subplot(grid[0, 0]).set_axis_off()
    return fig


def _draw_tile(ax: Axes, result: GatingResult, tile: _Tile, bins: int, max_events: int | None) -> None:
    ids = [g.id for g in tile.gates]
    if len(tile.dims) == 2:
        biaxial(
            result,
            tile.dims[0],
            tile.dims[1],
            tile.parent,
            gates=ids,
            bins=bins,
            max_events=max_events,
            ax=ax,
        )
    elif len(tile.dims) == 1:
        histogram(result, tile.dims[0], tile.parent, gates=ids, bins=bins, max_events=max_events, ax=ax)
    else:
        _text_tile(ax, result, tile)
        return
    ax.title.set_fontsize(8)
    ax.xaxis.label.set_fontsize(7)
    ax.yaxis.label.set_fontsize(7)
    ax.tick_params(labelsize=6)
