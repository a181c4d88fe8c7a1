"""The CD38/IgM B-cell panel: a data-placed gating strategy with canonical names.

Gating follows CLINICAL.md section 1.1: time/quality -> singlets -> lymphocytes
-> viable (when a viability dye exists) -> T cells (CD3+) and B cells
(CD3- CD19+; never CD20, which loses CD20- plasmablasts) -> the CD38 x IgM
quadrants of B cells -> the refined subsets whose markers are present.

Every cut is recorded in ``strategy.info["thresholds"]`` with its method (an
explicit value, a control's percentile, an internal negative, or a density
valley) and every subset that could not be built in ``info["missing"]`` with
the reason, so a result always says how it was gated and what it lacks.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cd38 import thresholds as th
from cd38.errors import Cd38Error, InvalidArgumentError
from cd38.fcs import Sample, read_fcs
from cd38.gates import Divider, EllipsoidGate, PolygonGate, Quadrant, QuadrantGate, RectangleGate
from cd38.gating import Dimension, GatingStrategy
from cd38.gating.model import FCS, UNCOMPENSATED, Gate
from cd38.panels import scatter
from cd38.panels.markers import find_markers
from cd38.transforms import Logicle, Transform

__all__ = ["CD38_GATES", "POPULATIONS", "bcell", "controls_from_dir", "describe"]

PANEL_VERSION = 1
CD38_GATES = ("bright", "above_negative_control")

# Canonical population -> (parent, what it is), in gating order.
POPULATIONS: dict[str, tuple[str | None, str]] = {
    "quality": (None, "events acquired at a steady rate (time gate)"),
    "singlets": ("quality", "single cells (FSC-H vs FSC-A)"),
    "lymphocytes": ("singlets", "lymphocytes (FSC-A vs SSC-A)"),
    "viable": ("lymphocytes", "viability dye negative"),
    "t_cells": ("viable", "CD3+"),
    "b_cells": ("viable", "CD3- CD19+"),
    "cd38pos_igmneg": ("b_cells", "CD38+ IgM- (CD38-bright: plasmablast-enriched)"),
    "cd38pos_igmpos": ("b_cells", "CD38+ IgM+"),
    "cd38neg_igmpos": ("b_cells", "CD38- IgM+"),
    "cd38neg_igmneg": ("b_cells", "CD38- IgM-"),
    "transitional": ("b_cells", "CD24hi CD38hi"),
    "plasmablasts": ("b_cells", "CD27hi CD38hi"),
    "naive": ("b_cells", "CD27- IgD+"),
    "switched_memory": ("b_cells", "CD27+ IgD-"),
    "nonswitched_memory": ("b_cells", "CD27+ IgD+"),
    "double_negative": ("b_cells", "CD27- IgD-"),
    "cd21low": ("b_cells", "CD21low CD38low/-"),
    "clonal_cd5": ("b_cells", "CD19+ CD5+ (the CLL denominator)"),
    "clonal_cd5_cd38pos": ("clonal_cd5", "CD38+ (above the negative control) of CD19+ CD5+"),
}

F64 = npt.NDArray[np.float64]
Controls = Mapping[str, "Sample | str | os.PathLike[str]"]


@dataclass
class _Build:
    """Everything one panel build works on."""

    sample: Sample
    comp: Sample
    markers: dict[str, str]
    compensation: str
    transform_for: Any
    explicit: dict[str, float]
    controls: dict[str, Sample]
    percentile: float
    strategy: GatingStrategy = field(default_factory=GatingStrategy)
    masks: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    cuts: dict[str, th.Threshold] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scatter: dict[str, Any] = field(default_factory=dict)
    last: str | None = None
    # The population T and B cells are gated in: B-lineage markers find their
    # negative mode here, where T and NK cells are a reliable negative population.
    lineage: str | None = None
    _tf: dict[str, Transform] = field(default_factory=dict)
    _values: dict[str, F64] = field(default_factory=dict)
    _control_scatter: GatingStrategy | None = None

    # -- values and dimensions ------------------------------------------------
    def transform(self, channel: str) -> Transform:
        if channel not in self._tf:
            self._tf[channel] = self.transform_for(self.comp, channel)
        return self._tf[channel]

    def dim(self, marker: str) -> Dimension:
        ch = self.markers[marker]
        return Dimension(ch, compensation=self.compensation, transform=self.transform(ch))

    def values(self, marker: str) -> F64:
        """Compensated, transformed values of ``marker`` for every event (cached)."""
        ch = self.markers[marker]
        if ch not in self._values:
            raw = np.asarray(self.comp.column(ch), dtype=np.float64)
            self._values[ch] = self.transform(ch).apply(raw)
        return self._values[ch]

    def raw(self, channel: str) -> F64:
        return np.asarray(self.sample.column(channel), dtype=np.float64)

    def mask(self, population: str | None) -> npt.NDArray[np.bool_]:
        if population is None:
            return np.ones(self.sample.n_events, dtype=bool)
        return self.masks[population]

    def add(self, gate: Gate, parent: str | None, masks: dict[str, npt.NDArray[np.bool_]]) -> None:
        self.strategy.add(gate, parent)
        base = self.mask(parent)
        for pid, m in masks.items():
            self.masks[pid] = base & m


def _logicle_for(comp: Sample, channel: str) -> Transform:
    """Logicle with T at the channel's ``$PnR``, M 4.5, A 0 and W from the data
    (Parks et al. 2006: W = (M - log10(T / |r|)) / 2 for r the 5th percentile of
    the compensated values), so the negative population is shown, and found,
    as one symmetric peak rather than a flattened or split one."""
    i = comp.channels.index(channel) + 1
    try:
        top = float(comp.keywords.get(f"$P{i}R", "262144"))
    except ValueError:
        top = 262144.0
    if not top > 1:
        top = 262144.0
    col = np.asarray(comp.column(channel), dtype=np.float64)
    col = col[np.isfinite(col)]
    r = float(np.percentile(col, 5)) if col.size else 0.0
    m = 4.5
    w = (m - math.log10(top / abs(r))) / 2 if r < 0 else 0.0
    return Logicle(t=top, w=round(float(np.clip(w, 0.0, m / 2 - 0.25)), 3), m=m, a=0.0)


def _find_channel(sample: Sample, patterns: list[str]) -> str | None:
    for pat in patterns:
        rx = re.compile(pat, re.IGNORECASE)
        hits = [c for c in sample.channels if rx.fullmatch(c.strip())]
        if len(hits) == 1:
            return hits[0]
    return None


_FSC_A = [r"fsc[-_ ]?a", r"fsc", r"fs", r"fs[-_ ]?(int|area)", r"fsc[-_ ]?area", r"fsc\S*[-_ ]a"]
_FSC_H = [r"fsc[-_ ]?h", r"fs[-_ ]?(peak|h)", r"fsc[-_ ]?height", r"fsc\S*[-_ ]h"]
_SSC_A = [r"ssc[-_ ]?a", r"ssc", r"ss", r"ss[-_ ]?(int|area)", r"ssc[-_ ]?area", r"ssc\S*[-_ ]a"]


def _load(x: Sample | str | os.PathLike[str]) -> Sample:
    return x if isinstance(x, Sample) else read_fcs(x)


# -- the scatter chain -------------------------------------------------------
def _quality(b: _Build) -> None:
    t = b.sample.time_channel
    if t is None:
        b.missing["quality"] = "no time channel"
        return
    v = b.raw(t)
    found = scatter.stable_time(v)
    if found is None:
        # Steady (or too irregular to judge): keep every event, explicitly.
        finite = v[np.isfinite(v)]
        if finite.size == 0:
            b.missing["quality"] = "the time channel holds no finite values"
            return
        lo, hi = float(finite.min()), float(np.nextafter(finite.max(), np.inf))
        b.notes.append("quality: event rate steady (or too irregular to gate); every event kept")
    else:
        lo, hi = found.geometry["min"], found.geometry["max"]
        b.scatter["quality"] = found.to_dict()
    gate = RectangleGate("quality", [Dimension(t)], [lo], [hi])
    b.add(gate, None, {"quality": (v >= lo) & (v < hi)})
    b.last = "quality"


def _singlets(b: _Build) -> None:
    a_ch, h_ch = _find_channel(b.sample, _FSC_A), _find_channel(b.sample, _FSC_H)
    if a_ch is None or h_ch is None:
        b.missing["singlets"] = "needs FSC-A and FSC-H channels"
        return
    idx = b.mask(b.last)
    a, h = b.raw(a_ch), b.raw(h_ch)
    top = 1.05 * max(float(np.nanmax(a)), 1.0)
    try:
        found = scatter.singlet_band(a[idx], h[idx], top)
    except InvalidArgumentError as e:
        b.missing["singlets"] = str(e)
        return
    gate = PolygonGate("singlets", [Dimension(a_ch), Dimension(h_ch)], found.geometry["vertices"])
    r_lo, r_hi = found.parameters["ratio_band"]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = h / a
    b.add(gate, b.last, {"singlets": (a > 0) & (a < top) & (r >= r_lo) & (r <= r_hi)})
    b.scatter["singlets"] = found.to_dict()
    b.last = "singlets"


def _lymphocytes(b: _Build) -> None:
    f_ch, s_ch = _find_channel(b.sample, _FSC_A), _find_channel(b.sample, _SSC_A)
    if f_ch is None or s_ch is None:
        b.missing["lymphocytes"] = "needs FSC-A and SSC-A channels"
        return
    idx = b.mask(b.last)
    f, s = b.raw(f_ch), b.raw(s_ch)
    try:
        found = scatter.lymphocyte_ellipse(f[idx], s[idx])
    except InvalidArgumentError as e:
        b.missing["lymphocytes"] = str(e)
        return
    g = found.geometry
    gate = EllipsoidGate(
        "lymphocytes", [Dimension(f_ch), Dimension(s_ch)], g["mean"], g["covariance"], g["distance_square"]
    )
    d = np.column_stack([f, s]) - np.array(g["mean"])
    d2 = np.einsum("ij,jk,ik->i", d, np.linalg.inv(np.array(g["covariance"])), d)
    b.add(gate, b.last, {"lymphocytes": d2 <= g["distance_square"]})
    b.scatter["lymphocytes"] = found.to_dict()
    b.last = "lymphocytes"


# -- marker cuts ------------------------------------------------------------------
def _control_events(b: _Build, control: Sample) -> npt.NDArray[Any] | None:
    """The control's events in the stained sample's singlet/lymphocyte gates."""
    if b._control_scatter is None:
        st = GatingStrategy()
        parent = None
        for pid in ("singlets", "lymphocytes"):
            if pid in b.strategy.gates:
                st.add(b.strategy.gate_of(pid), parent)
                parent = pid
        b._control_scatter = st
    st = b._control_scatter
    if not len(st):
        return None
    last = st.population_ids()[-1]
    return st.gate(control).indices(last)


def _positive_cut(
    b: _Build, marker: str, within: str | None, fallback: str | None = None
) -> th.Threshold | None:
    """The positivity cut of ``marker``: an explicit value, else the control's
    percentile, else an internal negative (the mirrored lowest mode) in
    ``within`` (then in ``fallback``). None when no method applies."""
    key = marker
    if key in b.cuts:
        return b.cuts[key]
    ch, tf = b.markers[marker], b.transform(b.markers[marker])
    cut: th.Threshold | None = None
    if marker in b.explicit:
        cut = _explicit(b, marker, key)
    elif marker in b.controls:
        ctl = b.controls[marker]
        if ch not in ctl.channels:
            raise InvalidArgumentError(f"{ctl.path}: control for {marker} has no channel {ch!r}")
        comp = b.compensation != UNCOMPENSATED and ctl.spillover is not None
        cut = th.from_control(
            ctl, ch, b.percentile, transform=tf, compensate=comp, events=_control_events(b, ctl)
        )
    else:
        for pop in dict.fromkeys((within, fallback)):
            if pop is not None and pop not in b.masks:
                continue
            try:
                cut = th.mirrored_negative(
                    b.comp,
                    ch,
                    b.percentile,
                    transform=tf,
                    compensate=False,
                    events=np.flatnonzero(b.mask(pop)),
                    valley_above=True,
                )
                cut = _with(cut, population=pop)
                break
            except InvalidArgumentError:
                continue
    if cut is not None:
        b.cuts[key] = cut
    return cut


def _bright_cut(b: _Build, marker: str, within: str) -> th.Threshold | None:
    key = f"{marker}hi"
    if key in b.cuts:
        return b.cuts[key]
    cut: th.Threshold | None
    if key in b.explicit:
        cut = _explicit(b, marker, key)
    else:
        try:
            cut = th.bright(
                b.comp,
                b.markers[marker],
                transform=b.transform(b.markers[marker]),
                compensate=False,
                events=np.flatnonzero(b.mask(within)),
                min_fraction=0.005,
            )
            cut = _with(cut, population=within)
        except InvalidArgumentError:
            cut = None
    if cut is not None:
        b.cuts[key] = cut
    return cut


def _explicit(b: _Build, marker: str, key: str) -> th.Threshold:
    ch = b.markers[marker]
    tf = b.transform(ch)
    scale_value = b.explicit[key]
    return th.Threshold(
        value=float(tf.apply(np.array([scale_value]))[0]),
        channel=ch,
        method="explicit",
        parameters={"scale_value": scale_value},
        transform=repr(tf),
    )


def _with(cut: th.Threshold, **params: Any) -> th.Threshold:
    return th.Threshold(
        cut.value,
        cut.channel,
        cut.method,
        {**cut.parameters, **params},
        cut.transform,
        cut.source,
        cut.source_blake3,
        cut.n_events,
    )


def _above(b: _Build, marker: str, cut: th.Threshold) -> npt.NDArray[np.bool_]:
    return b.values(marker) >= cut.value


def _rect(b: _Build, pid: str, parent: str | None, bounds: list[tuple[str, th.Threshold, bool]]) -> None:
    """A rectangle of (marker, cut, positive?) conditions under ``parent``."""
    dims, mins, maxs = [], [], []
    m = np.ones(b.sample.n_events, dtype=bool)
    for marker, cut, positive in bounds:
        dims.append(b.dim(marker))
        mins.append(cut.value if positive else None)
        maxs.append(None if positive else cut.value)
        above = _above(b, marker, cut)
        m &= above if positive else ~above
    b.add(RectangleGate(pid, dims, mins, maxs), parent, {pid: m})


def _quadrants(
    b: _Build,
    gid: str,
    parent: str,
    x: tuple[str, th.Threshold],
    y: tuple[str, th.Threshold],
    names: dict[tuple[bool, bool], str],
) -> None:
    """A quadrant gate on markers x and y; ``names[(x_pos, y_pos)]`` is each quadrant's id."""
    (mx, cx), (my, cy) = x, y
    dx, dy = f"{gid}_{mx.lower()}", f"{gid}_{my.lower()}"
    divs = [Divider(dx, b.dim(mx), [cx.value]), Divider(dy, b.dim(my), [cy.value])]
    quads = [
        Quadrant(name, {dx: cx.value + (1.0 if xp else -1.0), dy: cy.value + (1.0 if yp else -1.0)})
        for (xp, yp), name in names.items()
    ]
    ax, ay = _above(b, mx, cx), _above(b, my, cy)
    masks = {name: (ax if xp else ~ax) & (ay if yp else ~ay) for (xp, yp), name in names.items()}
    b.add(QuadrantGate(gid, divs, quads), parent, masks)


def _need(b: _Build, pops: list[str], markers: list[str], why: str = "") -> bool:
    lacking = [m for m in markers if m not in b.markers]
    if lacking:
        for p in pops:
            b.missing[p] = f"no {', '.join(lacking)} channel" + (f" ({why})" if why else "")
        return False
    return True


def _no_cut(b: _Build, pops: list[str], what: str) -> None:
    for p in pops:
        b.missing[p] = f"could not place the {what} cut (give a control or an explicit threshold)"


# -- the lineage and subsets ---------------------------------------------------
def _viable(b: _Build) -> None:
    if "Viability" not in b.markers:
        b.notes.append("viable: no viability channel; dead cells are not excluded")
        return
    within = b.last
    cut = _positive_cut(b, "Viability", within)
    if cut is None:
        _no_cut(b, ["viable"], "viability")
        return
    _rect(b, "viable", within, [("Viability", cut, False)])
    b.last = "viable"


def _lineage(b: _Build) -> str | None:
    parent = b.lineage = b.last
    if "CD3" in b.markers:
        cd3 = _positive_cut(b, "CD3", parent)
        if cd3 is not None:
            _rect(b, "t_cells", parent, [("CD3", cd3, True)])
    else:
        cd3 = None
        b.missing["t_cells"] = "no CD3 channel"
    if not _need(b, ["b_cells"], ["CD19"], "B cells are gated on CD19, never CD20"):
        return None
    cd19 = _positive_cut(b, "CD19", parent)
    if cd19 is None:
        _no_cut(b, ["b_cells"], "CD19")
        return None
    bounds = [("CD19", cd19, True)]
    if cd3 is not None:
        bounds.insert(0, ("CD3", cd3, False))
    else:
        b.notes.append("b_cells: CD19+ only; CD3+ events could not be excluded")
    _rect(b, "b_cells", parent, bounds)
    return "b_cells"


def _cd38_cut(b: _Build, gate_def: str, within: str) -> th.Threshold | None:
    if gate_def == "bright":
        return _bright_cut(b, "CD38", within)
    if "CD38" in b.explicit or "CD38" in b.controls:
        return _positive_cut(b, "CD38", within)
    return None


def _cd38_igm(b: _Build, gate_def: str) -> None:
    quads = ["cd38pos_igmneg", "cd38pos_igmpos", "cd38neg_igmpos", "cd38neg_igmneg"]
    if not _need(b, quads, ["CD38", "IgM"]):
        return
    cd38 = _cd38_cut(b, gate_def, "b_cells")
    igm = _positive_cut(b, "IgM", b.lineage, "b_cells")
    if cd38 is None:
        what = "CD38-bright" if gate_def == "bright" else "CD38 negative-control (give a control)"
        _no_cut(b, quads, what)
        return
    if igm is None:
        _no_cut(b, quads, "IgM")
        return
    names = {
        (True, False): quads[0],
        (True, True): quads[1],
        (False, True): quads[2],
        (False, False): quads[3],
    }
    _quadrants(b, "cd38_igm", "b_cells", ("CD38", cd38), ("IgM", igm), names)


def _bright_pair(b: _Build, pid: str, marker: str) -> None:
    if not _need(b, [pid], [marker, "CD38"]):
        return
    hi, cd38hi = _bright_cut(b, marker, "b_cells"), _bright_cut(b, "CD38", "b_cells")
    if hi is None or cd38hi is None:
        which = marker if hi is None else "CD38"
        b.missing[pid] = (
            f"no distinct {which}-bright population among B cells to place the {which}hi cut "
            f'(give thresholds={{"{which}hi": value}})'
        )
        return
    _rect(b, pid, "b_cells", [(marker, hi, True), ("CD38", cd38hi, True)])


def _memory(b: _Build) -> None:
    pops = ["naive", "switched_memory", "nonswitched_memory", "double_negative"]
    if not _need(b, pops, ["CD27", "IgD"]):
        return
    cd27 = _positive_cut(b, "CD27", b.lineage, "b_cells")
    igd = _positive_cut(b, "IgD", b.lineage, "b_cells")
    if cd27 is None or igd is None:
        _no_cut(b, pops, "CD27/IgD")
        return
    names = {(False, True): pops[0], (True, False): pops[1], (True, True): pops[2], (False, False): pops[3]}
    _quadrants(b, "cd27_igd", "b_cells", ("CD27", cd27), ("IgD", igd), names)


def _cd21low(b: _Build) -> None:
    if not _need(b, ["cd21low"], ["CD21", "CD38"]):
        return
    cd21 = _positive_cut(b, "CD21", b.lineage, "b_cells")
    # CD38 low/negative: below the negative-control cut when one exists, else below bright.
    cd38 = _positive_cut(b, "CD38", "b_cells") if ("CD38" in b.explicit or "CD38" in b.controls) else None
    cd38 = cd38 or _bright_cut(b, "CD38", "b_cells")
    if cd21 is None or cd38 is None:
        _no_cut(b, ["cd21low"], "CD21/CD38")
        return
    _rect(b, "cd21low", "b_cells", [("CD21", cd21, False), ("CD38", cd38, False)])


def _clonal(b: _Build) -> None:
    if not _need(b, ["clonal_cd5", "clonal_cd5_cd38pos"], ["CD5"]):
        return
    cd5 = _positive_cut(b, "CD5", b.lineage, "b_cells")
    if cd5 is None:
        _no_cut(b, ["clonal_cd5", "clonal_cd5_cd38pos"], "CD5")
        return
    _rect(b, "clonal_cd5", "b_cells", [("CD5", cd5, True)])
    if not _need(b, ["clonal_cd5_cd38pos"], ["CD38"]):
        return
    # CLL CD38 status is "above the negative control" (CLINICAL.md 3.1), whatever
    # definition the CD38 x IgM quadrants use.
    cd38 = _positive_cut(b, "CD38", "clonal_cd5", "b_cells")
    if cd38 is None:
        _no_cut(b, ["clonal_cd5_cd38pos"], "CD38 negative-control")
        return
    _rect(b, "clonal_cd5_cd38pos", "clonal_cd5", [("CD38", cd38, True)])


# -- public ------------------------------------------------------------------------
def bcell(
    sample: Sample | str | os.PathLike[str],
    *,
    markers: Mapping[str, str] | None = None,
    controls: Controls | None = None,
    thresholds: Mapping[str, float] | None = None,
    cd38_gate: str = "bright",
    compensate: bool = True,
    control_percentile: float = 99.5,
) -> GatingStrategy:
    """Build the B-cell panel's gating strategy for ``sample``.

    ``markers`` overrides the marker -> channel lookup ({"CD38": "PerCP-Cy5-5-A"}).
    ``controls`` maps a marker to its FMO/isotype control (a Sample or path); the
    cut is then the control's ``control_percentile`` in the same gates,
    compensation and transform. ``thresholds`` gives cuts explicitly as scale
    values (compensated intensity): "CD38" for positivity, "CD38hi" for bright.
    ``cd38_gate`` is the recorded, explicit choice for the CD38 x IgM quadrants
    (CLINICAL.md 1.1): "bright" (CD38hi, valley above the dim naive cells) or
    "above_negative_control" (needs a CD38 control or an explicit "CD38" value).

    Subsets whose markers or cuts are missing are left out and listed, with the
    reason, in ``strategy.info["missing"]``.
    """
    if cd38_gate not in CD38_GATES:
        raise InvalidArgumentError(f"cd38_gate must be one of {CD38_GATES}, not {cd38_gate!r}")
    s = _load(sample)
    if s.n_events == 0:
        raise InvalidArgumentError(f"{s.path}: the file has no events to gate")
    found = find_markers(s, markers)
    explicit = {str(k): float(v) for k, v in (thresholds or {}).items()}
    bad = [k for k in explicit if k.removesuffix("hi") not in found]
    if bad:
        raise InvalidArgumentError(f"thresholds for {bad}: no such marker in {s.path}")
    ctl = {str(k): _load(v) for k, v in (controls or {}).items()}
    bad = [k for k in ctl if k not in found]
    if bad:
        raise InvalidArgumentError(f"controls for {bad}: no such marker in {s.path}")
    spill = s.spillover if compensate else None
    b = _Build(
        sample=s,
        comp=s.compensate(spill) if spill is not None else s,
        markers=found,
        compensation=FCS if spill is not None else UNCOMPENSATED,
        transform_for=_logicle_for,
        explicit=explicit,
        controls=ctl,
        percentile=control_percentile,
    )
    if spill is None:
        b.notes.append("no spillover matrix used: fluorescence is uncompensated")
    _quality(b)
    _singlets(b)
    _lymphocytes(b)
    _viable(b)
    if _lineage(b) is not None:
        _cd38_igm(b, cd38_gate)
        _bright_pair(b, "transitional", "CD24")
        _bright_pair(b, "plasmablasts", "CD27")
        _memory(b)
        _cd21low(b)
        _clonal(b)
    else:
        for pid, (parent, _) in POPULATIONS.items():
            if parent in ("b_cells", "clonal_cd5"):
                b.missing.setdefault(pid, "no b_cells gate")
    b.strategy.validate()
    b.strategy.info.update(_info(b, cd38_gate))
    return b.strategy


def _info(b: _Build, cd38_gate: str) -> dict[str, Any]:
    built = b.strategy.population_ids()
    return {
        "panel": "bcell",
        "panel_version": PANEL_VERSION,
        "cd38_gate_definition": cd38_gate,
        "clonal_cd5_cd38_gate_definition": "above_negative_control",
        "markers": dict(b.markers),
        "built": built,
        "missing": {p: b.missing[p] for p in POPULATIONS if p in b.missing and p not in built},
        "notes": list(b.notes),
        "thresholds": {k: v.to_dict() for k, v in b.cuts.items()},
        "scatter_gates": b.scatter,
        "transform": "logicle(T=$PnR, M=4.5, A=0, W per channel from the data) of compensated values",
        "source": str(b.sample.path) if b.sample.path is not None else None,
    }


_CONTROL_WORDS = re.compile(r"(fmo|isotype|iso|unstained|control|ctrl|minus)", re.IGNORECASE)


def controls_from_dir(directory: str | os.PathLike[str], markers: list[str] | None = None) -> dict[str, str]:
    """Map markers to control files in ``directory`` by file name ("FMO_CD38.fcs",
    "CD38 FMO.fcs", "isotype-IgM.fcs"): a name with a control word and exactly one
    marker token. Files naming no single marker are ignored; two controls for one
    marker are an error."""
    from cd38.panels.markers import ALIASES, marker_tokens

    wanted = markers or [m for m in ALIASES if m != "Viability"]
    out: dict[str, str] = {}
    folder = os.fspath(directory)
    if not os.path.isdir(folder):
        raise InvalidArgumentError(f"{folder}: not a directory of control files")
    for name in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in (".fcs", ".lmd") or not _CONTROL_WORDS.search(stem):
            continue
        toks = marker_tokens(stem)
        hits = [m for m in wanted if ALIASES[m] & toks]
        if len(hits) != 1:
            continue
        if hits[0] in out:
            raise InvalidArgumentError(f"{folder}: two controls for {hits[0]}: {out[hits[0]]} and {name}")
        out[hits[0]] = os.path.join(folder, name)
    return out


def describe(strategy: GatingStrategy) -> str:
    """What a panel strategy gated and what it could not, one line each."""
    info = strategy.info
    if info.get("panel") != "bcell":
        raise Cd38Error("not a B-cell panel strategy")
    lines = [f"B-cell panel v{info['panel_version']}, CD38 gate: {info['cd38_gate_definition']}"]
    lines += [f"  built    {p:<20} {POPULATIONS[p][1]}" for p in info["built"] if p in POPULATIONS]
    lines += [f"  missing  {p:<20} {why}" for p, why in info["missing"].items()]
    lines += [f"  note     {n}" for n in info["notes"]]
    return "\n".join(lines)
