"""Drawing gates on plot axes, labelled with the percentage of the plotted population."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from matplotlib import patheffects
from matplotlib.patches import Polygon

from cd38.gating.model import (
    Dimension,
    EllipsoidGate,
    Gate,
    PolygonGate,
    QuadrantGate,
    RectangleGate,
)
from cd38.plot._axes import Axis, convert, same_data

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cd38.fcs import Sample
    from cd38.gating.strategy import GatingStrategy

__all__ = ["GateDrawer", "drawable_on"]

EDGE = "#111111"
_HALO: list[patheffects.AbstractPathEffect] = [patheffects.withStroke(linewidth=3.0, foreground="white")]
_BOX = {"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"}


def _match(
    dim: Dimension, axes: Sequence[Axis | None], sample: Sample, strategy: GatingStrategy | None
) -> int | None:
    for i, a in enumerate(axes):
        if a is not None and same_data(dim, a.dimension, sample, strategy):
            return i
    return None


def drawable_on(
    gate: Gate, xa: Axis, ya: Axis | None, sample: Sample, strategy: GatingStrategy | None
) -> bool:
    """Whether every dimension of ``gate`` is one of the plot's axes."""
    dims = gate.dimensions_used()
    return bool(dims) and all(_match(d, [xa, ya], sample, strategy) is not None for d in dims)


@dataclass
class GateDrawer:
    """Draws gates on ``ax`` whose x (and y) axes are ``xa`` (and ``ya``);
    ``percent(population)`` gives the label's percentage."""

    ax: Axes
    xa: Axis
    ya: Axis | None
    sample: Sample
    strategy: GatingStrategy | None
    percent: Callable[[str], float | None]

    def draw(self, gate: Gate) -> bool:
        """Draw one gate; False when it has no dimension on these axes."""
        if not drawable_on(gate, self.xa, self.ya, self.sample, self.strategy):
            return False
        if isinstance(gate, RectangleGate):
            self._rectangle(gate)
        elif isinstance(gate, PolygonGate):
            self._polygon(gate)
        elif isinstance(gate, EllipsoidGate) and len(gate.dimensions) == 2:
            self._ellipse(gate)
        elif isinstance(gate, QuadrantGate):
            self._quadrants(gate)
        else:
            return False
        return True

    # -- helpers -----------------------------------------------------------------
    def _axes(self) -> list[Axis | None]:
        return [self.xa, self.ya]

    def _slot(self, dim: Dimension) -> int:
        i = _match(dim, self._axes(), self.sample, self.strategy)
        assert i is not None
        return i

    def _axis(self, i: int) -> Axis:
        a = self._axes()[i]
        assert a is not None
        return a

    def _interval(self, dim: Dimension, lo: float | None, hi: float | None) -> tuple[int, float, float]:
        """A gate interval on its axis's scale, open ends pushed past the visible range."""
        i = self._slot(dim)
        a = self._axis(i)
        span = a.hi - a.lo
        out_lo = a.lo - span if lo is None or lo == -math.inf else float(convert([lo], dim, a)[0])
        out_hi = a.hi + span if hi is None or hi == math.inf else float(convert([hi], dim, a)[0])
        return i, out_lo, out_hi

    def _label(self, pid: str, x: float, y: float, ha: str = "center", va: str = "center") -> None:
        pct = self.percent(pid)
        text = pid if pct is None else f"{pid}\n{pct:.1f}%"
        self.ax.text(x, y, text, ha=ha, va=va, fontsize=7, color="black", bbox=_BOX, clip_on=True, zorder=5)

    def _outline(self, xy: npt.NDArray[np.float64]) -> None:
        patch = Polygon(xy, closed=True, fill=False, edgecolor=EDGE, linewidth=1.3, zorder=4)
        patch.set_path_effects(_HALO)
        self.ax.add_patch(patch)

    def _inside(self, v: float, i: int, frac: float = 0.03) -> float:
        a = self._axis(i)
        pad = frac * (a.hi - a.lo)
        return min(max(v, a.lo + pad), a.hi - pad)

    # -- gate kinds ------------------------------------------------------------------
    def _rectangle(self, g: RectangleGate) -> None:
        box = {0: (-math.inf, math.inf), 1: (-math.inf, math.inf)}
        for dim, lo, hi in zip(g.dimensions, g.mins, g.maxs, strict=True):
            i, a, b = self._interval(dim, lo, hi)
            box[i] = (a, b)
        if self.ya is None:
            x0, x1 = box[0]
            self.ax.axvspan(x0, x1, color="#444444", alpha=0.12, zorder=3)
            for v in (x0, x1):
                if self.xa.lo <= v <= self.xa.hi:
                    self.ax.axvline(v, color=EDGE, linewidth=1.2, zorder=4)
            top = self.ax.get_ylim()[1]
            self._label(g.id, self._inside((max(x0, self.xa.lo) + min(x1, self.xa.hi)) / 2, 0), 0.92 * top)
            return
        xbig, ybig = self.xa.hi - self.xa.lo, self.ya.hi - self.ya.lo
        y0, y1 = box[1] if box[1] != (-math.inf, math.inf) else (self.ya.lo - ybig, self.ya.hi + ybig)
        x0, x1 = box[0] if box[0] != (-math.inf, math.inf) else (self.xa.lo - xbig, self.xa.hi + xbig)
        self._outline(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
        lx = self._inside(max(x0, self.xa.lo), 0, 0.02)
        ly = self._inside(min(y1, self.ya.hi), 1, 0.02)
        self._label(g.id, lx, ly, ha="left", va="top")

    def _points(self, dims: Sequence[Dimension], pts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Gate-space points (n, 2) moved onto (x, y) plot coordinates."""
        out = np.empty_like(pts)
        for k, dim in enumerate(dims):
            i = self._slot(dim)
            out[:, i] = convert(pts[:, k], dim, self._axis(i))
        return out

    def _polygon(self, g: PolygonGate) -> None:
        v = np.array(g.vertices, dtype=np.float64)
        # Straight edges in gate space may curve on the plot's scale: sample them.
        t = np.linspace(0.0, 1.0, 24, endpoint=False)[:, None]
        nxt = np.roll(v, -1, axis=0)
        dense = (v[:, None, :] * (1 - t) + nxt[:, None, :] * t).reshape(-1, 2)
        xy = self._points(g.dimensions, dense)
        self._outline(xy)
        c = self._points(g.dimensions, v).mean(axis=0)
        self._label(g.id, self._inside(float(c[0]), 0), self._inside(float(c[1]), 1))

    def _ellipse(self, g: EllipsoidGate) -> None:
        # Only the symmetric part of inv(C) defines the boundary x' S x = d2.
        inv = np.linalg.inv(np.array(g.covariance, dtype=np.float64))
        s = (inv + inv.T) / 2
        w, vecs = np.linalg.eigh(s)
        if np.any(w <= 0):
            return  # an unbounded (hyperbolic) region has no outline to draw
        ang = np.linspace(0, 2 * np.pi, 200)
        unit = np.stack([np.cos(ang), np.sin(ang)], axis=1)
        pts = np.array(g.mean) + (unit * np.sqrt(g.distance_square / w)) @ vecs.T
        self._outline(self._points(g.dimensions, pts))
        c = self._points(g.dimensions, np.array([g.mean]))[0]
        self._label(g.id, self._inside(float(c[0]), 0), self._inside(float(c[1]), 1))

    def _quadrants(self, g: QuadrantGate) -> None:
        for dv in g.dividers:
            i = self._slot(dv.dimension)
            for v in convert(list(dv.values), dv.dimension, self._axis(i)):
                line = self.ax.axvline if i == 0 else self.ax.axhline
                ln = line(float(v), color=EDGE, linewidth=1.2, zorder=4)
                ln.set_path_effects(_HALO)
        divs = {d.id: d for d in g.dividers}
        for q in g.quadrants:
            where = [0.5, 0.5]
            align = ["center", "center"]
            for ref, loc in q.positions.items():
                dv = divs[ref]
                i = self._slot(dv.dimension)
                a = self._axis(i)
                k = dv.bin(loc)
                cuts = convert(list(dv.values), dv.dimension, a)
                lo = a.lo if k == 0 else float(cuts[k - 1])
                hi = a.hi if k == len(cuts) else float(cuts[k])
                if k == 0:
                    where[i], align[i] = lo + 0.02 * (a.hi - a.lo), "left" if i == 0 else "bottom"
                elif k == len(cuts):
                    where[i], align[i] = hi - 0.02 * (a.hi - a.lo), "right" if i == 0 else "top"
                else:
                    where[i] = (lo + hi) / 2
            if self.ya is None:
                where[1], align[1] = 0.92 * self.ax.get_ylim()[1], "top"
            self._label(q.id, where[0], where[1], ha=align[0], va=align[1])
