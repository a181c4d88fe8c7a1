"""Marker thresholds with a record of where they came from.

Three ways to place a positivity cut, each returning a :class:`Threshold` that
carries the value, the method, its parameters and (for controls) the control
file's SHA-256, so a result can always say how its gates were set:

- :func:`from_control`: a percentile of an FMO, isotype or unstained control,
  on the same compensation and transform as the stained sample;
- :func:`valley`: the density minimum between the two largest modes, when no
  control exists;
- :func:`bright`: the "hi" cut (CD38hi, CD24hi, CD27hi): the valley between the
  brightest mode and the next one below it.

CLINICAL.md section 1.1: "CD38 bright" and "CD38 above the negative control"
are different gates; :func:`from_control` gives the latter, :func:`bright` the
former, and the method is recorded either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cd38.errors import InvalidArgumentError

if TYPE_CHECKING:
    from cd38.compensation import Spillover
    from cd38.fcs import Sample
    from cd38.transforms import Transform

__all__ = ["Threshold", "bright", "from_control", "valley"]

_BINS = 512


@dataclass(frozen=True)
class Threshold:
    """A cut on one channel, on the scale named by ``transform`` (raw values when None)."""

    value: float
    channel: str
    method: str
    parameters: dict[str, Any] = field(default_factory=dict)
    transform: str | None = None
    source: str | None = None
    source_sha256: str | None = None
    n_events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "channel": self.channel,
            "method": self.method,
            "parameters": dict(self.parameters),
            "transform": self.transform,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "n_events": self.n_events,
        }


def _column(
    sample: Sample,
    channel: str,
    spillover: Spillover | None,
    compensate: bool,
    transform: Transform | None,
    events: npt.NDArray[Any] | None,
) -> npt.NDArray[np.float64]:
    if compensate:
        spill = spillover if spillover is not None else sample.spillover
        source = sample.compensate(spill) if spill is not None else sample
    else:
        source = sample
    col = np.asarray(source.column(channel), dtype=np.float64)
    if events is not None:
        col = col[events]
    if transform is not None:
        col = transform.apply(col)
    col = col[np.isfinite(col)]
    if col.size == 0:
        raise InvalidArgumentError(f"{sample.path}: no finite values of {channel!r} to place a threshold on")
    return col


def _provenance(sample: Sample) -> tuple[str | None, str | None]:
    from cd38.stats import file_sha256

    return (str(sample.path) if sample.path is not None else None, file_sha256(sample))


def from_control(
    control: Sample,
    channel: str,
    percentile: float = 99.5,
    *,
    transform: Transform | None = None,
    spillover: Spillover | None = None,
    compensate: bool = True,
    events: npt.NDArray[Any] | None = None,
) -> Threshold:
    """The ``percentile`` of a negative control (FMO, isotype, unstained) in ``channel``.

    Values are compensated (with ``spillover``, default the control's own) and
    transformed like the gated sample's; ``events`` restricts the control to a
    population (e.g. its lymphocytes, as ``GatingResult.indices(...)``).
    """
    if not 0 < percentile < 100:
        raise InvalidArgumentError(f"percentile must be in (0, 100), not {percentile}")
    col = _column(control, channel, spillover, compensate, transform, events)
    params = {"percentile": percentile, "compensated": compensate}
    return _record(
        control, channel, np.percentile(col, percentile), "control_percentile", params, transform, col.size
    )


def _density(x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """A Gaussian-smoothed histogram over the central 99.8 % of the values."""
    lo, hi = np.percentile(x, [0.1, 99.9])
    if not hi > lo:
        raise InvalidArgumentError("values have no spread; no density valley exists")
    counts, edges = np.histogram(x, bins=_BINS, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    # Silverman's rule, in bins, at least 2 bins wide.
    sd = min(np.std(x), (np.percentile(x, 75) - np.percentile(x, 25)) / 1.349) or np.std(x)
    bw = 0.9 * sd * x.size ** (-0.2) / (edges[1] - edges[0])
    sigma = max(bw, 2.0)
    half = math.ceil(4 * sigma)
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    dens = np.convolve(counts.astype(np.float64), k / k.sum(), mode="same")
    return centres, dens


def _peaks(dens: npt.NDArray[np.float64], min_fraction: float) -> list[int]:
    """Local maxima at least ``min_fraction`` of the highest, with a real dip between neighbours."""
    inner = np.flatnonzero((dens[1:-1] > dens[:-2]) & (dens[1:-1] >= dens[2:])) + 1
    top = dens.max()
    cands = [int(i) for i in inner if dens[i] >= min_fraction * top]
    kept: list[int] = []
    for i in cands:
        if kept and dens[kept[-1] : i + 1].min() > 0.8 * min(dens[kept[-1]], dens[i]):
            # No real valley between the two: keep the higher one.
            if dens[i] > dens[kept[-1]]:
                kept[-1] = i
            continue
        kept.append(i)
    return kept


def _valley_between(centres: npt.NDArray[np.float64], dens: npt.NDArray[np.float64], a: int, b: int) -> float:
    return float(centres[a + int(np.argmin(dens[a : b + 1]))])


def _record(
    sample: Sample,
    channel: str,
    value: float,
    method: str,
    parameters: dict[str, Any],
    transform: Transform | None,
    n: int,
) -> Threshold:
    src, sha = _provenance(sample)
    return Threshold(
        value=float(value),
        channel=channel,
        method=method,
        parameters=parameters,
        transform=repr(transform) if transform is not None else None,
        source=src,
        source_sha256=sha,
        n_events=n,
    )


def _between_modes(
    sample: Sample,
    channel: str,
    method: str,
    pick: Callable[[list[int], npt.NDArray[np.float64]], tuple[int, int]],
    transform: Transform | None,
    spillover: Spillover | None,
    compensate: bool,
    events: npt.NDArray[Any] | None,
    min_fraction: float,
) -> Threshold:
    x = _column(sample, channel, spillover, compensate, transform, events)
    centres, dens = _density(x)
    peaks = _peaks(dens, min_fraction)
    if len(peaks) < 2:
        raise InvalidArgumentError(
            f"{channel!r} has {len(peaks)} density mode(s); {method} needs two "
            "(give a control or an explicit value instead)"
        )
    a, b = pick(peaks, dens)
    params = {"bins": _BINS, "min_fraction": min_fraction, "modes": [float(centres[a]), float(centres[b])]}
    return _record(sample, channel, _valley_between(centres, dens, a, b), method, params, transform, x.size)


def _two_largest(peaks: list[int], dens: npt.NDArray[np.float64]) -> tuple[int, int]:
    a, b = sorted(sorted(peaks, key=lambda i: dens[i])[-2:])
    return a, b


def _two_brightest(peaks: list[int], dens: npt.NDArray[np.float64]) -> tuple[int, int]:
    return peaks[-2], peaks[-1]


def valley(
    sample: Sample,
    channel: str,
    *,
    transform: Transform | None = None,
    spillover: Spillover | None = None,
    compensate: bool = True,
    events: npt.NDArray[Any] | None = None,
    min_fraction: float = 0.02,
) -> Threshold:
    """The density minimum between the two largest modes of ``channel`` (use a
    display transform such as logicle: valleys are found on the scale given)."""
    return _between_modes(
        sample,
        channel,
        "density_valley",
        _two_largest,
        transform,
        spillover,
        compensate,
        events,
        min_fraction,
    )


def bright(
    sample: Sample,
    channel: str,
    *,
    transform: Transform | None = None,
    spillover: Spillover | None = None,
    compensate: bool = True,
    events: npt.NDArray[Any] | None = None,
    min_fraction: float = 0.01,
) -> Threshold:
    """The "hi" cut: the valley between the brightest mode and the next one below
    it (e.g. CD38-bright transitional cells and plasmablasts above CD38-dim naive cells)."""
    return _between_modes(
        sample,
        channel,
        "bright_valley",
        _two_brightest,
        transform,
        spillover,
        compensate,
        events,
        min_fraction,
    )
