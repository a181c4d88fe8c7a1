"""Plot axes in the strategy's own coordinates.

A gate's coordinates are on its dimensions' scale: the channel, compensated by
the dimension's matrix, then transformed. Plotting events on that same scale
puts events and gates on the same axes, so a plot shows exactly what the gate
decided. Only the columns a plot needs are compensated and transformed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cd38.errors import InvalidArgumentError
from cd38.gating.model import FCS, UNCOMPENSATED, Dimension
from cd38.transforms import Linear, Log, Logicle, Transform

if TYPE_CHECKING:
    from cd38.compensation import Spillover
    from cd38.fcs import Sample
    from cd38.gating.result import GatingResult
    from cd38.gating.strategy import GatingStrategy

__all__ = ["Axis", "axes_values", "axis_values", "resolve_axis"]

# Transforms that map the top of scale to 1 (and the interesting part to [0, 1]).
_UNIT_SCALE = ("flin", "flog", "fasinh", "logicle", "hyperlog", "flowjo_biex")
# Default display of a fluorescence channel no gate uses: logicle of compensated values.
DEFAULT_FLUORESCENCE = Logicle(t=262144.0, w=0.5, m=4.5, a=0.0)


@dataclass(frozen=True)
class Axis:
    """One plot axis: the dimension it shows and its display range (transformed units)."""

    dimension: Dimension
    label: str
    lo: float
    hi: float
    channel_index: int | None = None

    @property
    def transform(self) -> Transform | None:
        return self.dimension.transform

    def with_range(self, lo: float, hi: float) -> Axis:
        return Axis(self.dimension, self.label, lo, hi, self.channel_index)


def _spillover(strategy: GatingStrategy | None, sample: Sample, ref: str) -> Spillover | None:
    if ref == UNCOMPENSATED:
        return None
    if ref == FCS:
        return sample.spillover
    sp = None if strategy is None else strategy.spectrum_matrices.get(ref)
    if sp is None:
        raise InvalidArgumentError(f"unknown compensation reference {ref!r}")
    return sp


def channel_of(sample: Sample, name: str, strategy: GatingStrategy | None = None) -> str:
    """The ``$PnN`` channel for a channel name, a marker (``$PnS``) or a fluorochrome."""
    if name in sample.channels:
        return name
    markers = sample.markers
    hits = [c for c, m in zip(sample.channels, markers, strict=True) if m and m.strip() == name]
    if len(hits) == 1:
        return hits[0]
    low = [
        c for c, m in zip(sample.channels, markers, strict=True) if m and m.strip().lower() == name.lower()
    ]
    if len(low) == 1:
        return low[0]
    for sp in strategy.spectrum_matrices.values() if strategy is not None else []:
        if name in sp.fluorochromes:
            return sp.detectors[sp.fluorochromes.index(name)]
    where = str(sample.path) if sample.path is not None else "<bytes>"
    raise InvalidArgumentError(
        f"{where}: no channel or marker {name!r}; channels are "
        + ", ".join(f"{c} ({m})" if m else c for c, m in zip(sample.channels, markers, strict=True))
    )


def _dim_channel(dim: Dimension, sample: Sample, strategy: GatingStrategy | None) -> str | None:
    """The detector a (non-ratio) dimension reads, resolving fluorochrome names."""
    if dim.channel is None:
        return None
    if dim.channel in sample.channels:
        return dim.channel
    sp = None if strategy is None else strategy.spectrum_matrices.get(dim.compensation)
    if sp is not None and dim.channel in sp.fluorochromes:
        return sp.detectors[sp.fluorochromes.index(dim.channel)]
    return None


def _label(sample: Sample, dim: Dimension, channel: str | None) -> str:
    if channel is None:
        return dim.label
    marker = sample.markers[sample.channels.index(channel)].strip()
    name = f"{marker} · {channel}" if marker else channel
    if dim.transform is not None:
        name += f" [{dim.transform.kind}]"
    return name


def _strategy_dimension(strategy: GatingStrategy | None, sample: Sample, channel: str) -> Dimension | None:
    """The first dimension of the strategy that reads ``channel`` (gates in tree order)."""
    if strategy is None:
        return None
    for gate in strategy:
        for dim in gate.dimensions_used():
            if _dim_channel(dim, sample, strategy) == channel:
                return dim
    return None


def _default_dimension(sample: Sample, channel: str) -> Dimension:
    spill = sample.spillover
    fluorescent = spill is not None and channel in spill.detectors
    marker = sample.markers[sample.channels.index(channel)].strip()
    scatter = channel.upper().startswith(("FSC", "SSC")) or channel == sample.time_channel
    if fluorescent or (marker and not scatter):
        return Dimension(channel, FCS if fluorescent else UNCOMPENSATED, DEFAULT_FLUORESCENCE)
    return Dimension(channel, UNCOMPENSATED, None)


def resolve_axis(
    result_or_sample: GatingResult | Sample,
    name: str | Dimension,
    *,
    strategy: GatingStrategy | None = None,
    values: npt.NDArray[np.float64] | None = None,
) -> Axis:
    """The axis for a channel, marker or explicit :class:`Dimension`.

    A name takes the compensation and transform of the first gate that uses that
    channel, so events sit where the gates were drawn; a channel no gate uses is
    shown compensated on logicle (fluorescence) or linear (scatter, time).
    """
    sample, strat = _sample_and_strategy(result_or_sample, strategy)
    if isinstance(name, Dimension):
        dim = name
        channel = _dim_channel(dim, sample, strat)
    else:
        channel = channel_of(sample, name, strat)
        dim = _strategy_dimension(strat, sample, channel) or _default_dimension(sample, channel)
    lo, hi = _default_range(dim, values)
    index = None if channel is None else sample.channels.index(channel)
    return Axis(dim, _label(sample, dim, channel), lo, hi, index)


def _sample_and_strategy(
    obj: GatingResult | Sample, strategy: GatingStrategy | None
) -> tuple[Sample, GatingStrategy | None]:
    from cd38.gating.result import GatingResult

    if isinstance(obj, GatingResult):
        return obj.sample, strategy if strategy is not None else obj.strategy
    return obj, strategy


def _default_range(dim: Dimension, values: npt.NDArray[np.float64] | None) -> tuple[float, float]:
    t = dim.transform
    if t is not None and t.kind in _UNIT_SCALE:
        lo, hi = 0.0, 1.0
        if values is not None and values.size and not isinstance(t, Linear | Log):
            # Show a little of the negative (compensation) spread below zero.
            q = _robust_quantiles(values, 0.5, 99.9)
            lo = float(max(-0.15, min(0.0, q[0])))
        return lo, hi
    if values is None or not values.size:
        return 0.0, 1.0
    a, b = _robust_quantiles(values, 0.05, 99.95)
    pad = 0.05 * (b - a) if b > a else 1.0
    return float(a - pad), float(b + pad)


def _robust_quantiles(values: npt.NDArray[np.float64], lo: float, hi: float) -> tuple[float, float]:
    """Quantiles on an evenly strided subsample (at most ~200k values), finite values only."""
    step = max(1, values.size // 200_000)
    v = values[::step]
    v = v[np.isfinite(v)]
    if not v.size:
        return 0.0, 1.0
    a, b = np.percentile(v, [lo, hi])
    return float(a), float(b)


def axis_values(
    result_or_sample: GatingResult | Sample,
    axis: Axis | Dimension,
    events: npt.NDArray[Any] | None = None,
    *,
    strategy: GatingStrategy | None = None,
) -> npt.NDArray[np.float64]:
    """Values of ``events`` (indices; all events when None) on an axis's scale:
    compensated by the dimension's matrix, then transformed."""
    return axes_values(result_or_sample, [axis], events, strategy=strategy)[0]


def axes_values(
    result_or_sample: GatingResult | Sample,
    axes: Sequence[Axis | Dimension],
    events: npt.NDArray[Any] | None = None,
    *,
    strategy: GatingStrategy | None = None,
    transformed: bool = True,
) -> list[npt.NDArray[np.float64]]:
    """:func:`axis_values` of several axes, reading the event matrix once per compensation
    (``transformed=False``: compensated values, before the axes' transforms)."""
    sample, strat = _sample_and_strategy(result_or_sample, strategy)
    dims = [a.dimension if isinstance(a, Axis) else a for a in axes]
    out: list[npt.NDArray[np.float64] | None] = [None] * len(dims)
    for ref in dict.fromkeys(d.compensation for d in dims):
        group = [i for i, d in enumerate(dims) if d.compensation == ref]
        names: list[str] = []
        for i in group:
            r = dims[i].ratio
            names += [r.numerator, r.denominator] if r is not None else [str(dims[i].channel)]
        names = list(dict.fromkeys(names))
        cols = dict(
            zip(
                names, _compensated(sample, _spillover(strat, sample, ref), names, events, strat), strict=True
            )
        )
        for i in group:
            d = dims[i]
            v = (
                d.ratio.apply(cols[d.ratio.numerator], cols[d.ratio.denominator])
                if d.ratio
                else cols[str(d.channel)]
            )
            out[i] = v if d.transform is None or not transformed else d.transform.apply(v)
    return [v for v in out if v is not None]


_CHUNK = 8192  # rows per block: small enough to stay in cache while every column is read


def _weights(
    sample: Sample, spill: Spillover | None, names: Sequence[str], strategy: GatingStrategy | None
) -> npt.NDArray[np.float64]:
    """(n_channels, len(names)) weights: a compensated column is ``raw @ w``; a
    channel outside the matrix passes through (a one-hot column)."""
    w = np.zeros((sample.n_channels, len(names)))
    fluor = list(spill.fluorochromes) if spill is not None else []
    dets = list(spill.detectors) if spill is not None else []
    if spill is not None:
        missing = [d for d in dets if d not in sample.channels]
        if missing:
            raise InvalidArgumentError(f"the sample has no detector(s) {missing} of the spillover matrix")
    rows = [sample.channels.index(d) for d in dets]
    for k, name in enumerate(names):
        if spill is not None and (name in fluor or name in dets):
            j = fluor.index(name) if name in fluor else dets.index(name)
            w[rows, k] = spill.inverse[:, j]
        else:
            w[sample.channels.index(channel_of(sample, name, strategy)), k] = 1.0
    return w


def _compensated(
    sample: Sample,
    spill: Spillover | None,
    names: Sequence[str],
    events: npt.NDArray[Any] | None,
    strategy: GatingStrategy | None,
) -> list[npt.NDArray[np.float64]]:
    """Compensated columns ``names`` of ``events``: ``raw[:, detectors] @ inv[:, j]``,
    computed block by block in one pass over the rows, without a compensated copy
    of the whole event matrix."""
    data = sample.to_numpy()
    w = _weights(sample, spill, names, strategy)
    n = sample.n_events if events is None else len(events)
    # Column-major, so each returned column is contiguous without a copy.
    out = np.empty((n, len(names)), dtype=np.float64, order="F")
    for a in range(0, n, _CHUNK):
        b = min(a + _CHUNK, n)
        block = data[a:b] if events is None else data[events[a:b]]
        np.matmul(block.astype(np.float64, copy=False), w, out=out[a:b])
    return [out[:, k] for k in range(len(names))]


def convert(values: npt.ArrayLike, source: Dimension, target: Axis) -> npt.NDArray[np.float64]:
    """Gate coordinates on ``source``'s scale, moved onto ``target``'s scale
    (same channel and compensation; only the transforms may differ)."""
    v = np.asarray(values, dtype=np.float64)
    ts, ta = source.transform, target.dimension.transform
    if ts == ta:
        return v
    data = v if ts is None else ts.inverse(v)
    return data if ta is None else ta.apply(data)


def same_data(a: Dimension, b: Dimension, sample: Sample, strategy: GatingStrategy | None) -> bool:
    """Whether two dimensions read the same compensated values (transforms aside)."""
    if (a.ratio is None) != (b.ratio is None):
        return False
    if a.ratio is not None and b.ratio is not None:
        return a.ratio == b.ratio and _same_comp(a, b, sample)
    ca, cb = _dim_channel(a, sample, strategy), _dim_channel(b, sample, strategy)
    return ca is not None and ca == cb and _same_comp(a, b, sample)


def _same_comp(a: Dimension, b: Dimension, sample: Sample) -> bool:
    if a.compensation == b.compensation:
        return True
    # "FCS" on a file without $SPILLOVER is uncompensated, as Gating-ML says.
    plain = {UNCOMPENSATED} | ({FCS} if sample.spillover is None else set())
    return a.compensation in plain and b.compensation in plain
