"""Data-driven time, singlet and lymphocyte gates.

Each finder takes plain arrays (the parent population's values) and returns the
gate's geometry plus a record of how it was found, so a strategy can say where
every gate came from. The methods are deliberately simple and robust: modes of
smoothed histograms and robust (median/MAD, truncated-moment) fits, which
tolerate debris, doublets and dead cells around the population sought.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cd38.errors import InvalidArgumentError

__all__ = ["Found", "lymphocyte_ellipse", "singlet_band", "stable_time"]

F64 = npt.NDArray[np.float64]


@dataclass
class Found:
    """A gate geometry and how it was found."""

    geometry: dict[str, Any]
    method: str
    parameters: dict[str, Any] = field(default_factory=dict)
    n_events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "geometry": self.geometry,
            "parameters": self.parameters,
            "n_events": self.n_events,
        }


def _finite(*cols: F64) -> tuple[F64, ...]:
    ok = np.ones(cols[0].shape, dtype=bool)
    for c in cols:
        ok &= np.isfinite(c)
    return tuple(c[ok] for c in cols)


def stable_time(time: F64, min_kept: float = 0.5) -> Found | None:
    """The longest run of time bins whose event rate is steady.

    Bins whose count departs from the median by more than five robust SDs (or
    five Poisson SDs, whichever is larger) are unstable, as after a clog or a
    bubble. Returns None when the kept run would hold less than ``min_kept`` of
    the events (an irregular time channel is better left ungated) or no gate is
    needed (every bin steady).
    """
    (t,) = _finite(time)
    if t.size < 200:
        return None
    lo, hi = float(t.min()), float(t.max())
    if not hi > lo:
        return None
    nbins = int(np.clip(t.size // 100, 10, 200))
    counts, edges = np.histogram(t, bins=nbins, range=(lo, hi))
    med = float(np.median(counts))
    mad = 1.4826 * float(np.median(np.abs(counts - med)))
    tol = 5 * max(mad, math.sqrt(max(med, 1.0)))
    good = np.abs(counts - med) <= tol
    if good.all():
        return None
    best, start = (0, 0), None
    for i, g in enumerate([*good, False]):
        if g and start is None:
            start = i
        elif not g and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    kept = int(counts[best[0] : best[1]].sum())
    if kept < min_kept * t.size:
        return None
    geometry = {"min": float(edges[best[0]]), "max": float(edges[best[1]])}
    if best[1] == nbins:
        geometry["max"] = float(np.nextafter(hi, np.inf))
    params = {"bins": nbins, "unstable_bins": int((~good).sum()), "tolerance_events": tol}
    return Found(geometry, "steady_event_rate", params, int(t.size))


def singlet_band(area: F64, height: F64, top: float) -> Found:
    """Singlets on height versus area: the events near the mode of the
    height/area ratio. Doublets have a larger area for their height, so they sit
    below the band; the band's width comes from the upper side of the mode,
    which doublets do not reach.
    """
    a, h = _finite(area, height)
    keep = a > np.percentile(a, 5) if a.size else a > 0
    a, h = a[keep & (a > 0)], h[keep & (a > 0)]
    if a.size < 50:
        raise InvalidArgumentError(f"only {a.size} events with a positive area; too few for a singlet gate")
    r = h / a
    lo, hi = np.percentile(r, [0.5, 99.5])
    counts, edges = np.histogram(r, bins=200, range=(lo, hi))
    dens = np.convolve(counts.astype(np.float64), np.ones(5) / 5, mode="same")
    mode = float((edges[:-1] + edges[1:])[int(np.argmax(dens))] / 2)
    above = r[r >= mode] - mode
    sd = float(np.median(above) / 0.6745) if above.size else 0.0
    sd = max(sd, 1e-3 * abs(mode))
    r_lo, r_hi = mode - 4 * sd, mode + 6 * sd
    x_max = float(top)
    vertices = [(0.0, 0.0), (x_max, r_hi * x_max), (x_max, r_lo * x_max)]
    params = {"ratio_mode": mode, "ratio_sd": sd, "ratio_band": [r_lo, r_hi]}
    return Found({"vertices": vertices}, "height_area_ratio_band", params, int(a.size))


def _smoothed_hist2d(x: F64, y: F64, bins: int) -> tuple[F64, F64, F64]:
    xr = np.percentile(x, [0.5, 99.5])
    yr = np.percentile(y, [0.5, 99.5])
    counts, xe, ye = np.histogram2d(x, y, bins=bins, range=[xr, yr])
    k = np.exp(-0.5 * (np.arange(-4, 5) / 1.5) ** 2)
    k /= k.sum()
    dens = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 0, counts)
    dens = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 1, dens)
    return dens, (xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2


def _local_maxima(dens: F64, min_fraction: float) -> list[tuple[int, int]]:
    pad = np.pad(dens, 1, constant_values=-1.0)
    core = pad[1:-1, 1:-1]
    is_max = np.ones(core.shape, dtype=bool)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                is_max &= core >= pad[1 + dx : pad.shape[0] - 1 + dx, 1 + dy : pad.shape[1] - 1 + dy]
    is_max &= core >= min_fraction * dens.max()
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(is_max), strict=True)]


# P(chi2_4 <= c) / P(chi2_2 <= c): how much a 2-D Gaussian's covariance shrinks
# when only the events within Mahalanobis distance^2 c of its centre are kept.
def _truncation_factor(c: float) -> float:
    return (1 - math.exp(-c / 2) * (1 + c / 2)) / (1 - math.exp(-c / 2))


def lymphocyte_ellipse(fsc: F64, ssc: F64, coverage: float = 0.99) -> Found:
    """Lymphocytes on forward versus side scatter: the densest low-side-scatter
    cloud clear of the debris corner, fitted by truncated moments (iterating on
    the events within two SDs, so neighbouring monocytes, granulocytes or dead
    cells barely pull the fit), then drawn to hold ``coverage`` of a Gaussian cloud.
    """
    x, y = _finite(fsc, ssc)
    if x.size < 50:
        raise InvalidArgumentError(f"only {x.size} events; too few for a lymphocyte gate")
    bins = int(np.clip(math.sqrt(x.size) / 2, 16, 128))
    dens, xc, yc = _smoothed_hist2d(x, y, bins)
    x_floor = 0.25 * float(np.percentile(x, 99.5))
    peaks = [(i, j) for i, j in _local_maxima(dens, 0.1) if xc[i] >= x_floor]
    if not peaks:
        raise InvalidArgumentError("no dense scatter cloud above the debris region; cannot place lymphocytes")
    i, j = min(peaks, key=lambda p: (yc[p[1]], -dens[p]))
    mean = np.array([xc[i], yc[j]])
    cov = np.diag(
        [
            _half_width(dens[:, j], i, xc) ** 2 / (2 * math.log(2)),
            _half_width(dens[i, :], j, yc) ** 2 / (2 * math.log(2)),
        ]
    )
    pts = np.column_stack([x, y])
    c = 4.0
    for _ in range(20):
        d2 = _mahalanobis2(pts, mean, cov)
        inside = pts[d2 <= c]
        if inside.shape[0] < 10:
            raise InvalidArgumentError("the lymphocyte cloud holds too few events to fit")
        new_mean = inside.mean(axis=0)
        new_cov = np.cov(inside.T) / _truncation_factor(c)
        converged = np.allclose(new_mean, mean, rtol=1e-4) and np.allclose(new_cov, cov, rtol=1e-3)
        mean, cov = new_mean, new_cov
        if converged:
            break
    d2_gate = -2.0 * math.log(1.0 - coverage)
    geometry = {"mean": mean.tolist(), "covariance": cov.tolist(), "distance_square": d2_gate}
    params = {"coverage": coverage, "fit_distance_square": c, "peak": [float(xc[i]), float(yc[j])]}
    return Found(geometry, "scatter_mode_truncated_gaussian", params, int(x.size))


def _half_width(profile: F64, at: int, centres: F64) -> float:
    half = profile[at] / 2
    left = at
    while left > 0 and profile[left] > half:
        left -= 1
    right = at
    while right < len(profile) - 1 and profile[right] > half:
        right += 1
    width = (centres[right] - centres[left]) / 2
    return float(max(width, centres[1] - centres[0]))


def _mahalanobis2(pts: F64, mean: F64, cov: F64) -> F64:
    diff = pts - mean
    inv = np.linalg.inv(cov)
    out: F64 = np.einsum("ij,jk,ik->i", diff, inv, diff)
    return out
