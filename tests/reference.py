"""Plain-numpy references for transforms and gates, written from the Gating-ML 2.0
formulas (and ../shared/data/README.md section 1.4) independently of cd38's Rust
kernels. Slow and simple on purpose: tests compare the fast paths against these.
"""

from __future__ import annotations

import math

import numpy as np

LN10 = math.log(10.0)


# -- transforms ---------------------------------------------------------------------


def flin(x: np.ndarray, t: float, a: float) -> np.ndarray:
    return (x + a) / (t + a)


def flog(x: np.ndarray, t: float, m: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log10(np.where(x > 0, x, 1.0) / t) / m + 1, np.nan)


def fasinh(x: np.ndarray, t: float, m: float, a: float) -> np.ndarray:
    return (np.arcsinh(x * math.sinh(m * LN10) / t) + a * LN10) / ((m + a) * LN10)


def _logicle_coeffs(t: float, w: float, m: float, a: float) -> tuple[float, ...]:
    w_ = w / (m + a)
    x2 = a / (m + a)
    x1 = x2 + w_
    x0 = x2 + 2 * w_
    b = (m + a) * LN10
    # d solves 2 (ln d - ln b) + w (b + d) = 0, increasing in d, root in (0, b]
    # (d = b when w = 0): bisect.
    lo, hi = 1e-300, b
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        if 2 * (math.log(mid) - math.log(b)) + w_ * (b + mid) > 0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-16 * hi:
            break
    d = 0.5 * (lo + hi)
    ca = math.exp(x0 * (b + d))
    mfa = math.exp(b * x1) - ca * math.exp(-d * x1)
    aa = t / (math.exp(b) - mfa - ca * math.exp(-d))
    return aa, b, ca * aa, d, -mfa * aa, x1


def logicle_inverse(y: np.ndarray, t: float, w: float, m: float, a: float) -> np.ndarray:
    """B(y) = a e^{by} - c e^{-dy} + f, reflected about x1 (odd symmetry)."""
    aa, b, c, d, f, x1 = _logicle_coeffs(t, w, m, a)
    y = np.asarray(y, dtype=np.float64)
    yy = np.where(y < x1, 2 * x1 - y, y)
    v = aa * np.exp(b * yy) - c * np.exp(-d * yy) + f
    return np.where(y < x1, -v, v)


def _hyperlog_coeffs(t: float, w: float, m: float, a: float) -> tuple[float, ...]:
    w_ = w / (m + a)
    x2 = a / (m + a)
    x1 = x2 + w_
    x0 = x2 + 2 * w_
    b = (m + a) * LN10
    ca = math.exp(b * x0) / w_
    fa = math.exp(b * x1) + ca * x1
    aa = t / (math.exp(b) + ca - fa)
    return aa, b, ca * aa, fa * aa, x1


def hyperlog_inverse(y: np.ndarray, t: float, w: float, m: float, a: float) -> np.ndarray:
    aa, b, c, f, x1 = _hyperlog_coeffs(t, w, m, a)
    y = np.asarray(y, dtype=np.float64)
    yy = np.where(y < x1, 2 * x1 - y, y)
    v = aa * np.exp(b * yy) + c * yy - f
    return np.where(y < x1, -v, v)


def invert_by_bisection(inverse, x: np.ndarray, lo: float = -50.0, hi: float = 50.0) -> np.ndarray:  # type: ignore[no-untyped-def]
    """y with inverse(y) = x, for a strictly increasing inverse, by 200 halvings."""
    x = np.asarray(x, dtype=np.float64)
    a = np.full(x.shape, lo)
    b = np.full(x.shape, hi)
    for _ in range(200):
        mid = 0.5 * (a + b)
        above = inverse(mid) > x
        b = np.where(above, mid, b)
        a = np.where(above, a, mid)
    return 0.5 * (a + b)


def logicle(x: np.ndarray, t: float, w: float, m: float, a: float) -> np.ndarray:
    return invert_by_bisection(lambda y: logicle_inverse(y, t, w, m, a), x)


def hyperlog(x: np.ndarray, t: float, w: float, m: float, a: float) -> np.ndarray:
    return invert_by_bisection(lambda y: hyperlog_inverse(y, t, w, m, a), x)


def apply_transform(kind: str, params: dict[str, float], x: np.ndarray) -> np.ndarray:
    p = params
    if kind == "flin":
        return flin(x, p["t"], p["a"])
    if kind == "flog":
        return flog(x, p["t"], p["m"])
    if kind == "fasinh":
        return fasinh(x, p["t"], p["m"], p["a"])
    if kind == "logicle":
        return logicle(x, p["t"], p["w"], p["m"], p["a"])
    if kind == "hyperlog":
        return hyperlog(x, p["t"], p["w"], p["m"], p["a"])
    if kind == "arcsinh":
        return np.arcsinh(x / p["cofactor"])
    raise NotImplementedError(kind)


# -- gates --------------------------------------------------------------------------


def in_rectangle(values: np.ndarray, mins: list[float | None], maxs: list[float | None]) -> np.ndarray:
    inside = np.ones(len(values), dtype=bool)
    for i, (lo, hi) in enumerate(zip(mins, maxs, strict=True)):
        if lo is not None:
            inside &= values[:, i] >= lo
        if hi is not None:
            inside &= values[:, i] < hi
    return inside


def in_polygon(xy: np.ndarray, vertices: list[tuple[float, float]]) -> np.ndarray:
    """Even-odd rule via crossing count (Dan Sunday's winding count, taken mod 2)."""
    x, y = xy[:, 0], xy[:, 1]
    wn = np.zeros(len(xy), dtype=np.int64)
    n = len(vertices)
    for i in range(n):
        x0, y0 = vertices[i]
        x1, y1 = vertices[(i + 1) % n]
        is_left = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0)
        up = (y0 <= y) & (y1 > y) & (is_left > 0)
        down = (y0 > y) & (y1 <= y) & (is_left < 0)
        wn += up.astype(np.int64) - down.astype(np.int64)
    return wn % 2 != 0


def in_ellipsoid(values: np.ndarray, mean: list[float], cov: list[list[float]], d2: float) -> np.ndarray:
    diff = values - np.asarray(mean)
    inv = np.linalg.inv(np.asarray(cov))
    return np.einsum("ij,jk,ik->i", diff, inv, diff) <= d2


def quadrant_bin(values: np.ndarray, cuts: list[float]) -> np.ndarray:
    return np.searchsorted(np.asarray(cuts), values, side="right")


# -- whole strategies -----------------------------------------------------------------


def evaluate_strategy(strategy, sample) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Membership of every population, with parents applied, by plain numpy."""
    from cd38.gating.model import (
        BooleanGate,
        EllipsoidGate,
        PolygonGate,
        QuadrantGate,
        RectangleGate,
    )

    ev = np.asarray(sample.to_numpy(), dtype=np.float64)
    channels = list(sample.channels)

    def compensated(ref: str) -> tuple[np.ndarray, list[str]]:
        if ref == "uncompensated" or (ref == "FCS" and sample.spillover is None):
            return ev, channels
        sp = sample.spillover if ref == "FCS" else strategy.spectrum_matrices[ref]
        idx = [channels.index(d) for d in sp.detectors]
        out = ev.copy()
        out[:, idx] = ev[:, idx] @ np.linalg.inv(sp.matrix)
        names = list(channels)
        for i, f in zip(idx, sp.fluorochromes, strict=True):
            names[i] = f
        return out, names

    def column(dim) -> np.ndarray:  # type: ignore[no-untyped-def]
        data, names = compensated(dim.compensation)
        if dim.ratio is not None:
            r = dim.ratio
            num, den = data[:, names.index(r.numerator)], data[:, names.index(r.denominator)]
            with np.errstate(divide="ignore", invalid="ignore"):
                x = r.a * (num - r.b) / (den - r.c)
        else:
            x = data[:, names.index(dim.channel)]
        if dim.transform is not None:
            t = dim.transform
            x = apply_transform(t.kind, {p: getattr(t, p) for p in t.params}, x)
        return x

    masks: dict[str, np.ndarray] = {}
    for gate in strategy:
        if isinstance(gate, RectangleGate):
            vals = np.column_stack([column(d) for d in gate.dimensions])
            raw = {gate.id: in_rectangle(vals, list(gate.mins), list(gate.maxs))}
        elif isinstance(gate, PolygonGate):
            vals = np.column_stack([column(d) for d in gate.dimensions])
            raw = {gate.id: in_polygon(vals, list(gate.vertices))}
        elif isinstance(gate, EllipsoidGate):
            vals = np.column_stack([column(d) for d in gate.dimensions])
            raw = {
                gate.id: in_ellipsoid(
                    vals, list(gate.mean), [list(r) for r in gate.covariance], gate.distance_square
                )
            }
        elif isinstance(gate, QuadrantGate):
            bins = {dv.id: (quadrant_bin(column(dv.dimension), list(dv.values)), dv) for dv in gate.dividers}
            raw = {}
            for q in gate.quadrants:
                m = np.ones(len(ev), dtype=bool)
                for ref, loc in q.positions.items():
                    b, dv = bins[ref]
                    m &= b == quadrant_bin(np.array([loc]), list(dv.values))[0]
                raw[q.id] = m
        elif isinstance(gate, BooleanGate):
            ops = [~masks[r] if comp else masks[r] for r, comp in gate.operands]
            if gate.op == "and":
                m = np.logical_and.reduce(ops)
            elif gate.op == "or":
                m = np.logical_or.reduce(ops)
            else:
                m = ~ops[0]
            raw = {gate.id: m}
        else:
            raise NotImplementedError(type(gate))
        for pid, m in raw.items():
            parent = strategy.parent_of(pid)
            masks[pid] = m & masks[parent] if parent is not None else m
    return masks
