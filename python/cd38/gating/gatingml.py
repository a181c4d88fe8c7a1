"""Gating-ML 2.0 reading and writing.

Everything the ISAC compliance suite uses is read; anything else in the gating,
transforms or data-type namespaces raises `GatingMLError` naming the element,
never a silent skip. Elements of other namespaces (vendor extensions,
``custom_info``) are ignored, as the standard allows.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Callable

from cd38._xml import load_xml
from cd38.compensation import Spillover
from cd38.errors import GatingMLError, InvalidArgumentError
from cd38.gating.model import (
    UNCOMPENSATED,
    BooleanGate,
    Dimension,
    Divider,
    EllipsoidGate,
    Gate,
    PolygonGate,
    Quadrant,
    QuadrantGate,
    RectangleGate,
)
from cd38.gating.strategy import GatingStrategy
from cd38.transforms import Asinh, Hyperlog, Linear, Log, Logicle, Ratio, Transform

GATING = "http://www.isac-net.org/std/Gating-ML/v2.0/gating"
TRANSFORMS = "http://www.isac-net.org/std/Gating-ML/v2.0/transformations"
DATATYPE = "http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _g(tag: str) -> str:
    return f"{{{GATING}}}{tag}"


def _t(tag: str) -> str:
    return f"{{{TRANSFORMS}}}{tag}"


def _d(tag: str) -> str:
    return f"{{{DATATYPE}}}{tag}"


def _local(el: ET.Element) -> str:
    return el.tag.split("}", 1)[-1]


def _ns(el: ET.Element) -> str:
    return el.tag[1:].split("}", 1)[0] if el.tag.startswith("{") else ""


def _attr(el: ET.Element, qname: str, what: str, required: bool = True) -> str | None:
    v = el.get(qname)
    if v is None and required:
        raise GatingMLError(f"<{_local(el)}> {what}: missing attribute {qname.split('}')[-1]}")
    return v


def _num(el: ET.Element, qname: str, what: str, required: bool = True) -> float | None:
    raw = _attr(el, qname, what, required)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise GatingMLError(
            f"<{_local(el)}> {what}: {qname.split('}')[-1]}={raw!r} is not a number"
        ) from None


# -- transforms -------------------------------------------------------------------

_SIMPLE: dict[str, tuple[type[Transform], tuple[str, ...]]] = {
    "flin": (Linear, ("T", "A")),
    "flog": (Log, ("T", "M")),
    "fasinh": (Asinh, ("T", "M", "A")),
    "logicle": (Logicle, ("T", "W", "M", "A")),
    "hyperlog": (Hyperlog, ("T", "W", "M", "A")),
}


def _parse_transformation(el: ET.Element) -> tuple[str, Transform | Ratio]:
    tid = _attr(el, _t("id"), "transformation")
    assert tid is not None
    body = [c for c in el if _ns(c) in (TRANSFORMS, GATING, DATATYPE)]
    if len(body) != 1:
        raise GatingMLError(f"transformation {tid!r}: expected one transform element, found {len(body)}")
    f = body[0]
    name = _local(f)
    what = f"transformation {tid!r}"
    try:
        if name in _SIMPLE:
            cls, names = _SIMPLE[name]
            values = [_num(f, _t(n), what) for n in names]
            return tid, cls(*values)
        if name == "fratio":
            dims = [d.get(_d("name")) for d in f if _local(d) == "fcs-dimension"]
            if len(dims) != 2 or not all(dims):
                raise GatingMLError(f"{what}: fratio needs two named fcs-dimensions")
            a, b, c = (_num(f, _t(n), what) for n in ("A", "B", "C"))
            return tid, Ratio(str(dims[0]), str(dims[1]), a or 0.0, b or 0.0, c or 0.0)
    except InvalidArgumentError as e:
        raise GatingMLError(f"{what}: {e}") from None
    raise GatingMLError(f"{what}: unsupported transform <{name}>")


def _parse_spectrum(el: ET.Element) -> tuple[str, Spillover]:
    mid = _attr(el, _t("id"), "spectrumMatrix")
    assert mid is not None
    return mid, Spillover.from_gatingml(el)


# -- dimensions and gates ---------------------------------------------------------


class _Ctx:
    def __init__(self, transforms: dict[str, Transform | Ratio]):
        self.transforms = transforms

    def transform(self, ref: str | None, where: str) -> Transform | None:
        if ref is None:
            return None
        t = self.transforms.get(ref)
        if t is None:
            raise GatingMLError(f"{where}: unknown transformation-ref {ref!r}")
        if isinstance(t, Ratio):
            raise GatingMLError(f"{where}: ratio {ref!r} used as a transformation-ref")
        return t

    def dimension(self, el: ET.Element, where: str) -> Dimension:
        comp = el.get(_g("compensation-ref"), UNCOMPENSATED)
        xform = self.transform(el.get(_g("transformation-ref")), where)
        inner = [c for c in el if _ns(c) == DATATYPE and _local(c) in ("fcs-dimension", "new-dimension")]
        if len(inner) != 1:
            raise GatingMLError(f"{where}: a dimension needs one fcs-dimension or new-dimension")
        d = inner[0]
        if _local(d) == "fcs-dimension":
            name = d.get(_d("name"))
            if not name:
                raise GatingMLError(f"{where}: fcs-dimension without data-type:name")
            return Dimension(name, comp, xform)
        ref = d.get(_d("transformation-ref"))
        ratio = self.transforms.get(ref or "")
        if not isinstance(ratio, Ratio):
            raise GatingMLError(f"{where}: new-dimension must reference an fratio, got {ref!r}")
        return Dimension(None, comp, xform, ratio=ratio)


def _coords(el: ET.Element, tag: str, where: str) -> list[float]:
    out = []
    for c in el.findall(_g(tag)):
        v = _num(c, _d("value"), where)
        assert v is not None
        out.append(v)
    return out


def _rectangle(el: ET.Element, gid: str, ctx: _Ctx) -> Gate:
    dims, mins, maxs = [], [], []
    for d in el.findall(_g("dimension")):
        dims.append(ctx.dimension(d, f"RectangleGate {gid!r}"))
        mins.append(_num(d, _g("min"), gid, required=False))
        maxs.append(_num(d, _g("max"), gid, required=False))
    return RectangleGate(gid, dims, mins, maxs)


def _polygon(el: ET.Element, gid: str, ctx: _Ctx) -> Gate:
    dims = [ctx.dimension(d, f"PolygonGate {gid!r}") for d in el.findall(_g("dimension"))]
    verts = [_coords(v, "coordinate", gid) for v in el.findall(_g("vertex"))]
    return PolygonGate(gid, dims, verts)


def _ellipsoid(el: ET.Element, gid: str, ctx: _Ctx) -> Gate:
    dims = [ctx.dimension(d, f"EllipsoidGate {gid!r}") for d in el.findall(_g("dimension"))]
    mean_el = el.find(_g("mean"))
    cov_el = el.find(_g("covarianceMatrix"))
    d2_el = el.find(_g("distanceSquare"))
    if mean_el is None or cov_el is None or d2_el is None:
        raise GatingMLError(f"EllipsoidGate {gid!r}: needs mean, covarianceMatrix and distanceSquare")
    cov = [_coords(r, "entry", gid) for r in cov_el.findall(_g("row"))]
    d2 = _num(d2_el, _d("value"), gid)
    assert d2 is not None
    return EllipsoidGate(gid, dims, _coords(mean_el, "coordinate", gid), cov, d2)


def _quadrant(el: ET.Element, gid: str, ctx: _Ctx) -> Gate:
    dividers = []
    for dv in el.findall(_g("divider")):
        did = _attr(dv, _g("id"), f"QuadrantGate {gid!r} divider")
        assert did is not None
        where = f"QuadrantGate {gid!r} divider {did!r}"
        values = []
        for v in dv.findall(_g("value")):
            try:
                values.append(float((v.text or "").strip()))
            except ValueError:
                raise GatingMLError(f"{where}: value {v.text!r} is not a number") from None
        dividers.append(Divider(did, ctx.dimension(dv, where), values))
    quads = []
    for q in el.findall(_g("Quadrant")):
        qid = _attr(q, _g("id"), f"QuadrantGate {gid!r} Quadrant")
        assert qid is not None
        pos = {}
        for p in q.findall(_g("position")):
            ref = _attr(p, _g("divider_ref"), f"Quadrant {qid!r}")
            loc = _num(p, _g("location"), f"Quadrant {qid!r}")
            assert ref is not None and loc is not None
            pos[ref] = loc
        quads.append(Quadrant(qid, pos))
    return QuadrantGate(gid, dividers, quads)


def _boolean(el: ET.Element, gid: str, ctx: _Ctx) -> Gate:
    ops = [c for c in el if _ns(c) == GATING and _local(c) in ("and", "or", "not")]
    if len(ops) != 1:
        raise GatingMLError(f"BooleanGate {gid!r}: expected one of and/or/not")
    operands: list[str | tuple[str, bool]] = []
    for r in ops[0].findall(_g("gateReference")):
        ref = _attr(r, _g("ref"), f"BooleanGate {gid!r} gateReference")
        assert ref is not None
        comp = (r.get(_g("use-as-complement")) or "false").strip().lower() == "true"
        operands.append((ref, comp))
    return BooleanGate(gid, _local(ops[0]), operands)


_GATES: dict[str, Callable[[ET.Element, str, _Ctx], Gate]] = {
    "RectangleGate": _rectangle,
    "PolygonGate": _polygon,
    "EllipsoidGate": _ellipsoid,
    "QuadrantGate": _quadrant,
    "BooleanGate": _boolean,
}


def _find_gates(root: ET.Element) -> list[ET.Element]:
    """Gate elements anywhere (some documents wrap them in foreign elements)."""
    return [e for e in root.iter() if _ns(e) == GATING and _local(e) in _GATES]


def parse(source: str | bytes | os.PathLike[str] | ET.Element) -> GatingStrategy:
    root = load_xml(source)
    if _ns(root) != GATING or _local(root) != "Gating-ML":
        raise GatingMLError(f"root element is <{root.tag}>, not gating:Gating-ML (2.0)")
    strategy = GatingStrategy()
    transforms: dict[str, Transform | Ratio] = {}
    for el in root.iter():
        if _ns(el) == TRANSFORMS and _local(el) == "transformation":
            tid, t = _parse_transformation(el)
            transforms[tid] = t
        elif _ns(el) == TRANSFORMS and _local(el) == "spectrumMatrix":
            mid, sp = _parse_spectrum(el)
            strategy.add_spectrum_matrix(mid, sp)
    for el in root.iter():
        if _ns(el) == GATING and _local(el) not in _KNOWN_GATING:
            raise GatingMLError(f"unsupported Gating-ML element <gating:{_local(el)}>")
    ctx = _Ctx(transforms)
    for el in _find_gates(root):
        gid = _attr(el, _g("id"), _local(el))
        assert gid is not None
        try:
            gate = _GATES[_local(el)](el, gid, ctx)
            strategy.add(gate, parent=el.get(_g("parent_id")))
        except InvalidArgumentError as e:
            raise GatingMLError(f"<gating:{_local(el)}> {gid!r}: {e}") from None
    return strategy


_KNOWN_GATING = {
    "Gating-ML",
    *_GATES,
    "dimension",
    "vertex",
    "coordinate",
    "mean",
    "covarianceMatrix",
    "row",
    "entry",
    "distanceSquare",
    "divider",
    "value",
    "Quadrant",
    "position",
    "and",
    "or",
    "not",
    "gateReference",
}


# -- writing ------------------------------------------------------------------------


class _Writer:
    def __init__(self, strategy: GatingStrategy):
        self.strategy = strategy
        self.root = ET.Element(_g("Gating-ML"))
        self.ids: dict[object, str] = {}

    def transform_id(self, t: Transform | Ratio) -> str:
        if t in self.ids:
            return self.ids[t]
        tid = f"T{len(self.ids) + 1}_{t.kind}"
        self.ids[t] = tid
        el = ET.SubElement(self.root, _t("transformation"), {_t("id"): tid})
        if isinstance(t, Ratio):
            f = ET.SubElement(el, _t("fratio"), {_t("A"): repr(t.a), _t("B"): repr(t.b), _t("C"): repr(t.c)})
            for name in (t.numerator, t.denominator):
                ET.SubElement(f, _d("fcs-dimension"), {_d("name"): name})
        else:
            names = next(n for k, (c, n) in _SIMPLE.items() if c is type(t))
            attrs = {_t(n): repr(v) for n, v in zip(names, t._values(), strict=True)}
            ET.SubElement(el, _t(t.kind), attrs)
        return tid

    def dimension(self, parent: ET.Element, tag: str, dim: Dimension, extra: dict[str, str]) -> ET.Element:
        attrs = {_g("compensation-ref"): dim.compensation, **extra}
        if dim.transform is not None:
            attrs[_g("transformation-ref")] = self.transform_id(dim.transform)
        el = ET.SubElement(parent, tag, attrs)
        if dim.ratio is not None:
            ET.SubElement(el, _d("new-dimension"), {_d("transformation-ref"): self.transform_id(dim.ratio)})
        else:
            ET.SubElement(el, _d("fcs-dimension"), {_d("name"): str(dim.channel)})
        return el

    def spectrum(self, mid: str, sp: Spillover) -> None:
        el = ET.SubElement(self.root, _t("spectrumMatrix"), {_t("id"): mid})
        for tag, names in (("fluorochromes", sp.fluorochromes), ("detectors", sp.detectors)):
            g = ET.SubElement(el, _t(tag))
            for n in names:
                ET.SubElement(g, _d("fcs-dimension"), {_d("name"): n})
        for row in sp.matrix:
            s = ET.SubElement(el, _t("spectrum"))
            for v in row:
                ET.SubElement(s, _t("coefficient"), {_t("value"): repr(float(v))})

    def gate(self, gate: Gate, parent: str | None) -> None:
        kind = type(gate).__name__
        attrs = {_g("id"): gate.id}
        if parent is not None:
            attrs[_g("parent_id")] = parent
        el = ET.SubElement(self.root, _g(kind), attrs)
        if isinstance(gate, RectangleGate):
            for d, lo, hi in zip(gate.dimensions, gate.mins, gate.maxs, strict=True):
                extra = {}
                if lo is not None:
                    extra[_g("min")] = repr(lo)
                if hi is not None:
                    extra[_g("max")] = repr(hi)
                self.dimension(el, _g("dimension"), d, extra)
        elif isinstance(gate, PolygonGate):
            for d in gate.dimensions:
                self.dimension(el, _g("dimension"), d, {})
            for v in gate.vertices:
                vx = ET.SubElement(el, _g("vertex"))
                for c in v:
                    ET.SubElement(vx, _g("coordinate"), {_d("value"): repr(c)})
        elif isinstance(gate, EllipsoidGate):
            for d in gate.dimensions:
                self.dimension(el, _g("dimension"), d, {})
            mean = ET.SubElement(el, _g("mean"))
            for c in gate.mean:
                ET.SubElement(mean, _g("coordinate"), {_d("value"): repr(c)})
            cov = ET.SubElement(el, _g("covarianceMatrix"))
            for row in gate.covariance:
                r = ET.SubElement(cov, _g("row"))
                for c in row:
                    ET.SubElement(r, _g("entry"), {_d("value"): repr(c)})
            ET.SubElement(el, _g("distanceSquare"), {_d("value"): repr(gate.distance_square)})
        elif isinstance(gate, QuadrantGate):
            for dv in gate.dividers:
                de = self.dimension(el, _g("divider"), dv.dimension, {_g("id"): dv.id})
                for cut in dv.values:
                    ET.SubElement(de, _g("value")).text = repr(cut)
            for q in gate.quadrants:
                qe = ET.SubElement(el, _g("Quadrant"), {_g("id"): q.id})
                for ref, loc in q.positions.items():
                    ET.SubElement(qe, _g("position"), {_g("divider_ref"): ref, _g("location"): repr(loc)})
        elif isinstance(gate, BooleanGate):
            op = ET.SubElement(el, _g(gate.op))
            for ref, comp in gate.operands:
                attrs = {_g("ref"): ref}
                if comp:
                    attrs[_g("use-as-complement")] = "true"
                ET.SubElement(op, _g("gateReference"), attrs)
        else:  # pragma: no cover - every Gate subclass is handled above
            raise GatingMLError(f"cannot write gate of type {kind}")


def serialize(strategy: GatingStrategy) -> str:
    ET.register_namespace("gating", GATING)
    ET.register_namespace("transforms", TRANSFORMS)
    ET.register_namespace("data-type", DATATYPE)
    w = _Writer(strategy)
    for mid, sp in strategy.spectrum_matrices.items():
        w.spectrum(mid, sp)
    for gate in strategy:
        w.gate(gate, strategy.parent_of(gate.population_ids()[0]))
    # The XSD wants transformations and matrices before gates: move them to the front.
    head = [e for e in w.root if _ns(e) == TRANSFORMS]
    tail = [e for e in w.root if _ns(e) != TRANSFORMS]
    w.root[:] = head + tail
    ET.indent(w.root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(w.root, encoding="unicode") + "\n"
