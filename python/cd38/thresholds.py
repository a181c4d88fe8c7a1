"""Marker thresholds with a record of where they came from.

Three ways to place a positivity cut, each returning a :class:`Threshold` that
carries the value, the method, its parameters and (for controls) the control
file's BLAKE3 digest, so a result can always say how its gates were set:

- :func:`from_control`: a percentile of an FMO, isotype or unstained control,
  on the same compensation and transform as the stained sample;
- :func:`valley`: the density minimum between the two largest modes, when no
  control exists;
- :func:`mirrored_negative`: an internal negative control (the lowest mode,
  mirrored), for rare positives where no valley exists;
- :func:`bright`: the "hi" cut (CD38hi, CD24hi, CD27hi): the valley between the
  brightest mode and the next one below it.

CLINICAL.md section 1.1: "CD38 bright" and "CD38 above the negative control"
are different gates; :func:`from_control` gives the latter, :func:`bright` the
former, and the method is recorded either way.
"""

from __future__ import annotations

import itertools
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

__all__ = ["Threshold", "bright", "from_control", "mirrored_negative", "valley"]

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
    source_blake3: str | None = None
    n_events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "channel": self.channel,
            "method": self.method,
            "parameters": dict(self.parameters),
            "transform": self.transform,
            "source": self.source,
            "source_blake3": self.source_blake3,
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
    from cd38.stats import file_blake3

    return (str(sample.path) if sample.path is not None else None, file_blake3(sample))


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
    # "full" then the centred slice: "same" would return the kernel's length
    # when the kernel is longer than the histogram (few events, wide bandwidth).
    dens = np.convolve(counts.astype(np.float64), k / k.sum(), mode="full")[half : half + _BINS]
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
        source_blake3=sha,
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


def _two_lowest(peaks: list[int], dens: npt.NDArray[np.float64]) -> tuple[int, int]:
    return peaks[0], peaks[1]


_PAIRS = {"largest": _two_largest, "lowest": _two_lowest}


def valley(
    sample: Sample,
    channel: str,
    *,
    transform: Transform | None = None,
    spillover: Spillover | None = None,
    compensate: bool = True,
    events: npt.NDArray[Any] | None = None,
    min_fraction: float = 0.02,
    between: str = "largest",
) -> Threshold:
    """The density minimum between two modes of ``channel``: the two largest, or
    with ``between="lowest"`` the lowest mode (the negative population) and the
    next one above it. Use a display transform such as logicle: valleys are
    found on the scale given."""
    if between not in _PAIRS:
        raise InvalidArgumentError(f"between must be one of {sorted(_PAIRS)}, not {between!r}")
    return _between_modes(
        sample,
        channel,
        "density_valley" if between == "largest" else "density_valley_lowest",
        _PAIRS[between],
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


def _lowest_mode(dens: npt.NDArray[np.float64], min_mass: float) -> int | None:
    """The lowest local maximum whose basin (between the minima that separate it
    from its neighbours) holds at least ``min_mass`` of the density. Basins that
    are too light are merged away one at a time, lightest first, so noise bumps
    in a tail never count as a population."""
    peaks = _peaks(dens, 0.0)
    total = float(dens.sum())
    if not peaks or total <= 0:
        return None
    while True:
        bounds = [0]
        for a, b in itertools.pairwise(peaks):
            bounds.append(a + int(np.argmin(dens[a : b + 1])))
        bounds.append(len(dens))
        masses = [float(dens[lo:hi].sum()) / total for lo, hi in itertools.pairwise(bounds)]
        light = int(np.argmin(masses))
        if masses[light] >= min_mass or len(peaks) == 1:
            break
        del peaks[light]
    return peaks[0] if masses[0] >= min_mass else None


def _centre_of_peak(
    x: npt.NDArray[np.float64], centres: npt.NDArray[np.float64], dens: npt.NDArray[np.float64], peak: int
) -> float:
    """The median of the events under the peak's half-maximum: a flat-topped or
    slightly two-humped negative has its centre there, not at either hump."""
    half = dens[peak] / 2
    lo = peak
    while lo > 0 and dens[lo - 1] > half:
        lo -= 1
    hi = peak
    while hi < len(dens) - 1 and dens[hi + 1] > half:
        hi += 1
    core = x[(x >= centres[lo]) & (x <= centres[hi])]
    return float(np.median(core)) if core.size else float(centres[peak])


def _valley_above(
    centres: npt.NDArray[np.float64], dens: npt.NDArray[np.float64], cut: float
) -> float | None:
    """The middle of the low-density stretch between ``cut`` and the next mode above it."""
    start = int(np.searchsorted(centres, cut))
    above = [p for p in _peaks(dens, 0.001) if p > start]
    if start >= len(dens) - 1 or not above:
        return None
    seg = dens[start : above[0] + 1]
    low = float(seg.min())
    floor = low + 0.1 * (float(seg.max()) - low)
    i = int(np.argmin(seg))
    lo, hi = i, i
    while lo > 0 and seg[lo - 1] <= floor:
        lo -= 1
    while hi < len(seg) - 1 and seg[hi + 1] <= floor:
        hi += 1
    value = float(centres[start + (lo + hi) // 2])
    return value if value > cut else None


def mirrored_negative(
    sample: Sample,
    channel: str,
    percentile: float = 99.5,
    *,
    transform: Transform | None = None,
    spillover: Spillover | None = None,
    compensate: bool = True,
    events: npt.NDArray[Any] | None = None,
    min_mass: float = 0.02,
    valley_above: bool = False,
) -> Threshold:
    """An internal negative control: the lowest density mode holding at least
    ``min_mass`` of the events is taken as the unstained population, its lower
    side is mirrored about the mode (the upper side is mixed with positive
    cells), and the cut is the ``percentile`` of that symmetric negative. Works
    when positives are rare or form no separate mode, where a valley does not
    exist; assumes the population holds negative cells and that they are
    roughly symmetric on the untransformed scale (true for compensated data).

    With ``valley_above`` the cut then moves up to the middle of the density
    minimum between it and the next mode above, when one exists: where negative
    and positive cells are well apart that halves the chance of misplacing
    either, and it never goes below the negative's percentile.
    """
    if not 50 < percentile < 100:
        raise InvalidArgumentError(f"percentile must be in (50, 100), not {percentile}")
    if not 0 < min_mass < 1:
        raise InvalidArgumentError(f"min_mass must be in (0, 1), not {min_mass}")
    x = _column(sample, channel, spillover, compensate, transform, events)
    centres, dens = _density(x)
    peak = _lowest_mode(dens, min_mass)
    if peak is None:
        raise InvalidArgumentError(f"{channel!r} has no density mode to take as the negative population")
    mode = _centre_of_peak(x, centres, dens, peak)
    # Mirror on the untransformed scale, where a compensated negative is
    # symmetric; a display transform bends it (logicle flattens its top).
    lin = transform.inverse(x) if transform is not None else x
    lin_mode = float(transform.inverse(np.array([mode]))[0]) if transform is not None else mode
    below = lin_mode - lin[lin <= lin_mode]
    if below.size < 20:
        raise InvalidArgumentError(
            f"{channel!r}: only {below.size} events below the negative mode; too few to mirror"
        )
    lin_cut = lin_mode + float(np.percentile(below, 2 * percentile - 100))
    value = float(transform.apply(np.array([lin_cut]))[0]) if transform is not None else lin_cut
    moved = _valley_above(centres, dens, value) if valley_above else None
    if moved is not None:
        value = moved
        lin_cut = float(transform.inverse(np.array([value]))[0]) if transform is not None else value
    params = {
        "percentile": percentile,
        "mode": mode,
        "scale_mode": lin_mode,
        "scale_value": lin_cut,
        "n_below_mode": int(below.size),
        "min_mass": min_mass,
        "valley_above": valley_above,
        "moved_to_valley": moved is not None,
    }
    return _record(sample, channel, value, "mirrored_negative", params, transform, x.size)
