"""A subject's series over time, with reference bands and context cut-offs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cd38.errors import InvalidArgumentError
from cd38.plot._backend import new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["trend"]

_COLOURS = ["#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3"]


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """A field of a mapping or an object, by the first of ``names`` it has."""
    for n in names:
        if isinstance(obj, Mapping) and n in obj:
            return obj[n]
        if not isinstance(obj, Mapping) and hasattr(obj, n):
            return getattr(obj, n)
    return default


def _when(v: Any) -> dt.date | dt.datetime | float:
    if isinstance(v, dt.date | int | float):
        return v
    if isinstance(v, str):
        try:
            return dt.datetime.fromisoformat(v) if "T" in v or " " in v.strip() else dt.date.fromisoformat(v)
        except ValueError:
            pass
    raise InvalidArgumentError(f"not a date or number: {v!r} (use ISO dates such as 2024-03-01)")


def _order(w: dt.date | dt.datetime | float) -> float:
    """A sort key for mixed dates and datetimes (numbers sort as themselves)."""
    if isinstance(w, dt.datetime):
        return w.timestamp()
    if isinstance(w, dt.date):
        return dt.datetime(w.year, w.month, w.day).timestamp()
    return float(w)


def _rows(points: Any) -> list[tuple[str, Any, float]]:
    """(series, when, value) rows from a polars DataFrame, mappings, objects or pairs."""
    if hasattr(points, "to_dicts"):
        points = points.to_dicts()
    out = []
    for p in points:
        if isinstance(p, tuple | list) and len(p) in (2, 3):
            series, when, value = ("", *p) if len(p) == 2 else p
        else:
            when = _get(p, "date", "when", "time", "collected")
            value = _get(p, "value")
            series = _get(p, "population", "series", "label", default="") or ""
        if when is None or value is None:
            raise InvalidArgumentError(f"a trend point needs a date and a value: {p!r}")
        out.append((str(series), _when(when), float(value)))
    return out


def _bands(bands: Iterable[Any]) -> list[tuple[float | None, float | None, str]]:
    out = []
    for b in bands:
        if isinstance(b, tuple | list):
            lo, hi, label = (*b, "")[:3]
        else:
            lo, hi = _get(b, "low", "lower", "lo"), _get(b, "high", "upper", "hi")
            label = _get(b, "label", "source", "name", default="") or ""
        out.append((None if lo is None else float(lo), None if hi is None else float(hi), str(label)))
    return out


def _cutoffs(cutoffs: Iterable[Any]) -> list[tuple[float, str]]:
    out = []
    for c in cutoffs:
        if isinstance(c, int | float):
            out.append((float(c), ""))
        elif isinstance(c, tuple | list):
            out.append((float(c[0]), str(c[1]) if len(c) > 1 else ""))
        else:
            out.append(
                (float(_get(c, "value", "threshold", "cutoff")), str(_get(c, "label", default="") or ""))
            )
    return out


def trend(
    points: Any,
    *,
    bands: Sequence[Any] = (),
    cutoffs: Sequence[Any] = (),
    ylabel: str = "value",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Values over time, one line per series.

    ``points``: a polars DataFrame or records with ``date`` and ``value`` (and
    optionally ``population`` to split series), or ``(date, value)`` /
    ``(series, date, value)`` tuples; dates are ``datetime.date`` or ISO strings.
    ``bands``: reference bands as ``(low, high, label)`` or records with
    ``low``/``high``/``label``; shaded. ``cutoffs``: context cut-offs as numbers,
    ``(value, label)`` or records with ``value``/``label``; dashed lines.
    """
    rows = _rows(points)
    if not rows:
        raise InvalidArgumentError("a trend plot needs at least one point")
    if ax is None:
        fig = new_figure(6.0, 3.4)
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    for lo, hi, label in _bands(bands):
        bottom = lo if lo is not None else min(v for _, _, v in rows)
        top = hi if hi is not None else max(v for _, _, v in rows)
        ax.axhspan(bottom, top, color="#55a868", alpha=0.15, label=label or "reference band")
    for value, label in _cutoffs(cutoffs):
        ax.axhline(value, color="#c44e52", linestyle="--", linewidth=1.2, label=label or f"cut-off {value:g}")
    series = list(dict.fromkeys(s for s, _, _ in rows))
    for k, s in enumerate(series):
        pts = sorted(((w, v) for name, w, v in rows if name == s), key=lambda p: _order(p[0]))
        ax.plot(
            [w for w, _ in pts],
            [v for _, v in pts],
            marker="o",
            color=_COLOURS[k % len(_COLOURS)],
            label=s or None,
        )
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    if any(isinstance(w, dt.date) for _, w, _ in rows):
        ax.tick_params(axis="x", labelrotation=30)
    assert fig is not None
    return fig
