"""Binning events for density plots, and axis ticks in data units.

Events are counted into a fixed grid (one ``bincount`` over flat bin indices)
and the grid is drawn as an image, so the cost of drawing does not grow with
the number of events. Events outside the range are piled onto the edge bins,
as cytometry software shows them, rather than silently dropped.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from matplotlib.colors import LogNorm
from matplotlib.ticker import FuncFormatter

from cd38.transforms import Linear, Log, Transform

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cd38.plot._axes import Axis

__all__ = ["bin1d", "bin2d", "bin_index", "draw_density", "set_ticks"]

CMAP = "turbo"


def _bin_index(v: npt.NDArray[np.float64], lo: float, hi: float, n: int) -> npt.NDArray[np.intp]:
    scale = n / (hi - lo) if hi > lo else 1.0
    f = np.subtract(v, lo, dtype=np.float64)
    f *= scale
    np.clip(f, 0, n - 1, out=f)
    return f.astype(np.intp)


def _finite_pair(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    ok = np.isfinite(x)
    ok &= np.isfinite(y)
    if ok.all():
        return x, y
    return x[ok], y[ok]


@dataclass(frozen=True)
class _Plan:
    """Binning data values by their transformed value without transforming them.

    The bin edges, mapped back through the inverse transform, become data-space
    edges ``d``. A cheap monotone proxy ``u = asinh(v / c)`` and a look-up table
    over ``u`` (cells narrower than the gap between any two edges) give each
    value's bin up to one; comparing with the neighbouring edge fixes that. The
    result is the bin of ``transform(v)``; a value within rounding of an edge
    may land on the other side of it.
    """

    c: float
    u0: float
    scale: float
    cells: int
    lut: npt.NDArray[np.intp]
    upper: npt.NDArray[np.float64]  # edge above bin k (inf for the last bin)
    lower: npt.NDArray[np.float64]  # edge below bin k (-inf for the first bin)


_MAX_CELLS = 1 << 21


@functools.lru_cache(maxsize=64)
def _plan(transform: Transform, lo: float, hi: float, n: int) -> _Plan | None:
    if isinstance(transform, Log) or not hi > lo:
        return None  # flog is undefined for x <= 0: transform those values for real
    with np.errstate(all="ignore"):
        d = transform.inverse(lo + (hi - lo) * np.arange(1, n) / n)
    if not np.all(np.isfinite(d)) or not np.all(np.diff(d) > 0):
        return None
    best: tuple[float, float] | None = None
    for c in 10.0 ** np.arange(-3, 7):
        u = np.arcsinh(d / c)
        span = u[-1] - u[0]
        score = float(np.diff(u).min() / span) if span > 0 else 0.0
        if best is None or score > best[0]:
            best = (score, float(c))
    assert best is not None
    score, c = best
    cells = int(np.ceil(2.0 / score)) + 2 if score > 0 else _MAX_CELLS + 1
    if cells > _MAX_CELLS:
        return None
    u = np.arcsinh(d / c)
    width = (u[-1] - u[0]) / (cells - 2)
    u0 = float(u[0] - width)
    left = u0 + width * np.arange(cells)
    lut = np.searchsorted(u, left, side="right").astype(np.intp)
    return _Plan(c, u0, 1.0 / width, cells, lut, np.append(d, np.inf), np.insert(d, 0, -np.inf))


def bin_index(
    v: npt.NDArray[np.float64], lo: float, hi: float, n: int, transform: Transform | None = None
) -> npt.NDArray[np.intp]:
    """Bin of each value on ``[lo, hi)`` in ``n`` bins, of ``transform(v)`` when a
    transform is given (out-of-range values on the edge bins)."""
    if transform is None:
        return _bin_index(v, lo, hi, n)
    plan = _plan(transform, float(lo), float(hi), int(n))
    if plan is None:
        return _bin_index(transform.apply(v), lo, hi, n)
    f = np.multiply(v, 1.0 / plan.c, dtype=np.float64)
    np.arcsinh(f, out=f)
    f -= plan.u0
    f *= plan.scale
    np.clip(f, 0, plan.cells - 1, out=f)
    k = plan.lut[f.astype(np.intp)]
    k += v >= plan.upper[k]
    k -= v < plan.lower[k]
    return k


def bin2d(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    xr: tuple[float, float],
    yr: tuple[float, float],
    bins: int = 256,
    *,
    x_transform: Transform | None = None,
    y_transform: Transform | None = None,
) -> npt.NDArray[np.int64]:
    """Counts on a ``bins x bins`` grid over ``xr`` x ``yr``, indexed ``[ix, iy]``.

    With ``x_transform``/``y_transform`` the values are data values binned on the
    transformed scale (without transforming every event). Non-finite values
    are left out.
    """
    x, y = _finite_pair(np.asarray(x), np.asarray(y))
    ix = bin_index(x, xr[0], xr[1], bins, x_transform)
    ix *= bins
    ix += bin_index(y, yr[0], yr[1], bins, y_transform)
    return np.bincount(ix, minlength=bins * bins).reshape(bins, bins)


def bin1d(
    x: npt.NDArray[np.float64],
    xr: tuple[float, float],
    bins: int = 256,
    *,
    transform: Transform | None = None,
) -> npt.NDArray[np.int64]:
    """Counts in ``bins`` equal bins over ``xr`` (of ``transform(x)`` when given);
    out-of-range values pile on the edges."""
    x = np.asarray(x)
    x = x[np.isfinite(x)]
    return np.bincount(bin_index(x, xr[0], xr[1], bins, transform), minlength=bins)


def draw_density(ax: Axes, counts: npt.NDArray[np.int64], xa: Axis, ya: Axis) -> None:
    """The grid as a pseudocolour image (log colour scale; empty bins white)."""
    grid = np.ma.masked_equal(counts.T.astype(np.float64), 0)
    top = float(grid.max()) if grid.count() else 1.0
    ax.imshow(
        grid,
        origin="lower",
        extent=(xa.lo, xa.hi, ya.lo, ya.hi),
        aspect="auto",
        interpolation="nearest",
        cmap=CMAP,
        norm=LogNorm(vmin=1.0, vmax=max(top, 2.0)),
        rasterized=True,
    )
    ax.set_xlim(xa.lo, xa.hi)
    ax.set_ylim(ya.lo, ya.hi)
    set_ticks(ax, xa, "x")
    set_ticks(ax, ya, "y")
    ax.set_xlabel(xa.label)
    ax.set_ylabel(ya.label)


_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _decade(v: float) -> str:
    if v == 0:
        return "0"
    sign = "\u2212" if v < 0 else ""
    return f"{sign}10{str(round(np.log10(abs(v)))).translate(_SUP)}"


def _short(v: float, _pos: object = None) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e3:
        return f"{v / 1e3:g}K"
    return f"{v:g}"


def set_ticks(ax: Axes, axis: Axis, which: str) -> None:
    """Ticks labelled in data units: decades on log-like scales, plain numbers otherwise."""
    t = axis.transform
    target = ax.xaxis if which == "x" else ax.yaxis
    if t is None:
        target.set_major_formatter(FuncFormatter(_short))
        return
    span = axis.hi - axis.lo
    if isinstance(t, Linear):
        data_lo, data_hi = (float(v) for v in t.inverse(np.array([axis.lo, axis.hi])))
        ticks = np.linspace(data_lo, data_hi, 5)
        pos, labels = [float(v) for v in t.apply(ticks)], [_short(float(v)) for v in ticks]
    else:
        decades = [0.0] + [s * 10.0**k for k in range(1, 8) for s in (1, -1)]
        if isinstance(t, Log):
            decades = [10.0**k for k in range(-2, 8)]
        vals = np.array(sorted(decades))
        with np.errstate(all="ignore"):
            p = t.apply(vals)
        keep = np.isfinite(p) & (p >= axis.lo - 1e-9) & (p <= axis.hi + 1e-9)
        pos, labels = _spaced(p[keep], [_decade(float(v)) for v in vals[keep]], 0.06 * span)
    setter = ax.set_xticks if which == "x" else ax.set_yticks
    setter([float(v) for v in pos], labels)


def _spaced(pos: npt.NDArray[np.float64], labels: list[str], gap: float) -> tuple[list[float], list[str]]:
    """Drop ticks closer than ``gap`` to the previous kept one (zero always kept)."""
    out_p: list[float] = []
    out_l: list[str] = []
    for p, lab in zip(pos, labels, strict=True):
        if out_p and p - out_p[-1] < gap and lab != "0":
            continue
        if out_p and p - out_p[-1] < gap and lab == "0":
            out_p.pop()
            out_l.pop()
        out_p.append(float(p))
        out_l.append(lab)
    return out_p, out_l
