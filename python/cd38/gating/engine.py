"""Compiling a strategy for one sample into the Rust engine's plan, and running it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from cd38 import _core
from cd38._arrays import kernel_matrix
from cd38.compensation import Spillover
from cd38.errors import GatingError
from cd38.gating.model import (
    FCS,
    UNCOMPENSATED,
    BooleanGate,
    Dimension,
    EllipsoidGate,
    PolygonGate,
    QuadrantGate,
    RectangleGate,
)
from cd38.transforms import Log

if TYPE_CHECKING:
    import numpy.typing as npt

    from cd38.fcs import Sample
    from cd38.gating.strategy import GatingStrategy

INF = math.inf
_SMALLEST_POSITIVE = 5e-324


class _Compiler:
    def __init__(self, strategy: GatingStrategy, sample: Sample, map_bounds: bool):
        self.strategy = strategy
        self.map_bounds = map_bounds
        self.sample = sample
        self.channels = sample.channels
        self.comps: list[tuple[list[int], list[float]]] = []
        self.comp_index: dict[str, int | None] = {}
        self.comp_names: dict[str, list[str]] = {}
        self.dims: list[Any] = []
        self.dim_index: dict[Any, int] = {}
        self.nodes: list[Any] = []
        self.node_of: dict[str, int] = {}

    def _spillover(self, ref: str, where: str) -> Spillover | None:
        if ref == UNCOMPENSATED:
            return None
        if ref == FCS:
            return self.sample.spillover  # none in the file: uncompensated, as Gating-ML says
        sp = self.strategy.spectrum_matrices.get(ref)
        if sp is None:
            raise GatingError(f"{where}: unknown compensation reference {ref!r}")
        return sp

    def comp(self, ref: str, where: str) -> int | None:
        if ref not in self.comp_index:
            sp = self._spillover(ref, where)
            names = list(self.channels)
            if sp is None:
                self.comp_index[ref] = None
            else:
                missing = [d for d in sp.detectors if d not in self.channels]
                if missing:
                    raise GatingError(f"{where}: the sample has no detector(s) {missing} of matrix {ref!r}")
                cols = [self.channels.index(d) for d in sp.detectors]
                for c, f in zip(cols, sp.fluorochromes, strict=True):
                    names[c] = f
                self.comp_index[ref] = len(self.comps)
                self.comps.append((cols, sp.inverse.ravel().tolist()))
            self.comp_names[ref] = names
        return self.comp_index[ref]

    def column(self, ref: str, name: str, where: str) -> int:
        names = self.comp_names[ref]
        if name in names:
            return names.index(name)
        # A compensated dimension may still be named by detector.
        if name in self.channels:
            return self.channels.index(name)
        raise GatingError(
            f"{where}: the sample has no channel {name!r} (channels: {', '.join(self.channels)})"
        )

    def dim(self, d: Dimension, where: str) -> int:
        comp = self.comp(d.compensation, where)
        if d.ratio is not None:
            r = d.ratio
            num = self.column(d.compensation, r.numerator, where)
            den = self.column(d.compensation, r.denominator, where)
            source: tuple[Any, ...] = (num, den, r.a, r.b, r.c, True)
        else:
            col = self.column(d.compensation, str(d.channel), where)
            source = (col, col, 0.0, 0.0, 0.0, False)
        xform = None if d.transform is None else (d.transform.kind, d.transform._values())
        key = (source, comp, None if xform is None else (xform[0], tuple(xform[1])))
        if key not in self.dim_index:
            self.dim_index[key] = len(self.dims)
            self.dims.append((*source, comp, xform))
        return self.dim_index[key]

    def add_node(
        self,
        pid: str,
        kind: str,
        dims: list[int],
        fa: list[float],
        fb: list[float],
        ops: list[tuple[int, bool]],
    ) -> None:
        parent = self.strategy.parent_of(pid)
        self.node_of[pid] = len(self.nodes)
        self.nodes.append((kind, None if parent is None else self.node_of[parent], dims, fa, fb, ops))

    def box(
        self, dims: list[Dimension], lo: list[float], hi: list[float], where: str
    ) -> tuple[list[int], list[float], list[float]]:
        """A half-open box; on a transformed axis the bounds are mapped back through
        the (strictly increasing) inverse, so no event needs transforming at all."""
        out_dims, out_lo, out_hi = [], [], []
        for d, a, b in zip(dims, lo, hi, strict=True):
            t = d.transform
            if self.map_bounds and t is not None:
                a2, b2 = (float(v) for v in t.inverse(np.array([a, b])))
                if isinstance(t, Log) and a == -INF:
                    a2 = _SMALLEST_POSITIVE  # flog is NaN (never inside) for x <= 0
                a, b = a2, b2
                d = Dimension(d.channel, d.compensation, None, d.ratio)
            out_dims.append(self.dim(d, where))
            out_lo.append(a)
            out_hi.append(b)
        return out_dims, out_lo, out_hi

    def gate(self, g: object) -> None:
        if isinstance(g, RectangleGate):
            mins = [-INF if v is None else v for v in g.mins]
            maxs = [INF if v is None else v for v in g.maxs]
            dims, mins, maxs = self.box(list(g.dimensions), mins, maxs, f"gate {g.id!r}")
            self.add_node(g.id, "rect", dims, mins, maxs, [])
        elif isinstance(g, PolygonGate):
            dims = [self.dim(d, f"gate {g.id!r}") for d in g.dimensions]
            self.add_node(g.id, "polygon", dims, [c for v in g.vertices for c in v], [], [])
        elif isinstance(g, EllipsoidGate):
            dims = [self.dim(d, f"gate {g.id!r}") for d in g.dimensions]
            inv = np.linalg.inv(np.array(g.covariance, dtype=np.float64)).ravel().tolist()
            self.add_node(g.id, "ellipsoid", dims, list(g.mean), [*inv, g.distance_square], [])
        elif isinstance(g, QuadrantGate):
            div = {dv.id: dv for dv in g.dividers}
            for q in g.quadrants:
                qdims, lo, hi = [], [], []
                for ref, loc in q.positions.items():
                    dv = div[ref]
                    k = dv.bin(loc)  # the bin [cuts[k-1], cuts[k]) holding the location
                    qdims.append(dv.dimension)
                    lo.append(dv.values[k - 1] if k > 0 else -INF)
                    hi.append(dv.values[k] if k < len(dv.values) else INF)
                dims, lo, hi = self.box(qdims, lo, hi, f"quadrant {q.id!r}")
                self.add_node(q.id, "rect", dims, lo, hi, [])
        elif isinstance(g, BooleanGate):
            ops = [(self.node_of[ref], comp) for ref, comp in g.operands]
            self.add_node(g.id, g.op, [], [], [], ops)
        else:  # pragma: no cover
            raise GatingError(f"cannot evaluate gate of type {type(g).__name__}")


class Members(Mapping[str, "npt.NDArray[np.uint32]"]):  # npt: for typing only, hence quoted
    """Every population's members as the engine left them, bits per event: an
    index array is unpacked (and kept) the first time it is asked for, and
    statistics read the bits directly (see :func:`cd38.stats.population_stats`)."""

    def __init__(self, core: _core.Members, node_of: dict[str, int]) -> None:
        self.core = core
        self.node_of = node_of
        self._indices: dict[str, npt.NDArray[np.uint32]] = {}

    def __getitem__(self, pid: str) -> npt.NDArray[np.uint32]:
        got = self._indices.get(pid)
        if got is None:
            got = self.core.indices(self.node_of[pid])
            got.setflags(write=False)
            self._indices[pid] = got
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self.node_of)

    def __len__(self) -> int:
        return len(self.node_of)

    def __contains__(self, pid: object) -> bool:
        return pid in self.node_of  # without unpacking (Mapping's would)

    def count(self, pid: str) -> int:
        return self.core.count(self.node_of[pid])


def run(strategy: GatingStrategy, sample: Sample, map_bounds: bool = True) -> Members:
    """Members of every population of ``strategy`` in ``sample``."""
    strategy.validate()
    c = _Compiler(strategy, sample, map_bounds)
    for gate in strategy:
        c.gate(gate)
    # The stored values and each channel's scale when the sample views its file:
    # the kernel scales as it reads, so no decoded copy is made.
    events, scales = sample._kernel_events()
    core = _core.gate_events(kernel_matrix(events), c.comps, c.dims, c.nodes, scales)
    return Members(core, dict(c.node_of))
