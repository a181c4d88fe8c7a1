"""`GatingStrategy`: a tree of gates with their transforms and compensation matrices."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cd38.compensation import Spillover
from cd38.errors import GatingMLError, InvalidArgumentError
from cd38.gating.model import FCS, UNCOMPENSATED, Gate, QuadrantGate

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from cd38.fcs import Sample
    from cd38.gating.result import GatingResult

__all__ = ["GatingStrategy"]


class GatingStrategy:
    """Gates arranged in a tree. Every population (a gate, or one quadrant of a
    quadrant gate) may be a parent; a child's membership is always ANDed with
    its parent's.

    >>> from cd38 import Dimension, GatingStrategy
    >>> from cd38.gates import RectangleGate
    >>> st = GatingStrategy()
    >>> st.add(RectangleGate("big", [Dimension("FSC-A")], [5e4], [None]))
    >>> st.population_ids()
    ['big']
    """

    def __init__(self) -> None:
        self._gates: dict[str, Gate] = {}
        self._parent: dict[str, str | None] = {}
        self._population_gate: dict[str, str] = {}
        self.spectrum_matrices: dict[str, Spillover] = {}
        # Free-form facts about how the strategy was made (a panel records its
        # marker channels, thresholds and CD38 gate definition here). Not part of
        # the Gating-ML export or the hash.
        self.info: dict[str, Any] = {}

    # -- building -------------------------------------------------------------
    def add(self, gate: Gate, parent: str | None = None) -> None:
        """Add ``gate`` under ``parent`` (a population id, or None for the root).

        Parents and boolean operands may be added later (Gating-ML documents list
        gates in any order); :meth:`validate` checks that every reference resolves.
        """
        if not isinstance(gate, Gate):
            raise InvalidArgumentError(f"not a gate: {gate!r}")
        new = gate.population_ids()
        if isinstance(gate, QuadrantGate):
            new = [*new, gate.id]
        clash = [p for p in new if p in self._population_gate or p in self._gates]
        if clash:
            raise InvalidArgumentError(f"population id(s) {clash} already used in this strategy")
        self._gates[gate.id] = gate
        self._parent[gate.id] = parent
        for pid in gate.population_ids():
            self._population_gate[pid] = gate.id

    def add_spectrum_matrix(self, matrix_id: str, spillover: Spillover) -> None:
        if matrix_id in (UNCOMPENSATED, FCS):
            raise InvalidArgumentError(f"{matrix_id!r} is reserved and cannot name a matrix")
        self.spectrum_matrices[matrix_id] = spillover

    # -- inspection -------------------------------------------------------------
    @property
    def gates(self) -> dict[str, Gate]:
        return dict(self._gates)

    def gate_of(self, population: str) -> Gate:
        """The gate that defines a population."""
        try:
            return self._gates[self._population_gate[population]]
        except KeyError:
            raise InvalidArgumentError(f"no population {population!r} in this strategy") from None

    def parent_of(self, population: str) -> str | None:
        """The parent population (None at the root)."""
        return self._parent[self.gate_of(population).id]

    def population_ids(self) -> list[str]:
        """Every population, parents before children, stable otherwise."""
        return [pid for g in self._ordered() for pid in self._gates[g].population_ids()]

    def children(self, population: str | None) -> list[str]:
        return [p for p in self.population_ids() if self.parent_of(p) == population]

    def tree(self) -> str:
        """The hierarchy as indented text."""
        lines: list[str] = []

        def walk(node: str | None, depth: int) -> None:
            for child in self.children(node):
                gate = self.gate_of(child)
                lines.append(f"{'  ' * depth}{child} ({type(gate).__name__})")
                walk(child, depth + 1)

        walk(None, 0)
        return "\n".join(lines)

    def __iter__(self) -> Iterator[Gate]:
        return (self._gates[g] for g in self._ordered())

    def __len__(self) -> int:
        return len(self._gates)

    def __repr__(self) -> str:
        return f"GatingStrategy({len(self._gates)} gates, {len(self.population_ids())} populations)"

    # -- checking and ordering -----------------------------------------------------
    def _deps(self, gate_id: str) -> list[str]:
        gate = self._gates[gate_id]
        refs = list(gate.references())
        parent = self._parent[gate_id]
        if parent is not None:
            refs.append(parent)
        out = []
        for r in refs:
            if r not in self._population_gate:
                raise InvalidArgumentError(f"gate {gate_id!r} refers to unknown population {r!r}")
            out.append(self._population_gate[r])
        return out

    def _ordered(self) -> list[str]:
        """Gate ids in dependency order (parents and operands first); cycles are errors."""
        done: list[str] = []
        state: dict[str, int] = {}

        def visit(g: str, chain: list[str]) -> None:
            if state.get(g) == 2:
                return
            if state.get(g) == 1:
                raise InvalidArgumentError(f"gate references form a cycle: {' -> '.join([*chain, g])}")
            state[g] = 1
            for d in self._deps(g):
                if d != g:
                    visit(d, [*chain, g])
                else:
                    raise InvalidArgumentError(f"gate {g!r} refers to itself")
            state[g] = 2
            done.append(g)

        for g in self._gates:
            visit(g, [])
        return done

    def validate(self) -> None:
        """Check that every parent, operand and compensation reference resolves."""
        self._ordered()
        for gate in self._gates.values():
            for dim in gate.dimensions_used():
                if dim.compensation not in (UNCOMPENSATED, FCS, *self.spectrum_matrices):
                    raise InvalidArgumentError(
                        f"gate {gate.id!r}: unknown compensation reference {dim.compensation!r}"
                    )

    # -- Gating-ML -----------------------------------------------------------------
    @classmethod
    def from_gatingml(cls, source: str | bytes | os.PathLike[str] | ET.Element) -> GatingStrategy:
        """Read a Gating-ML 2.0 document (path, XML text or bytes)."""
        from cd38.gating.gatingml import parse

        strategy = parse(source)
        try:
            strategy.validate()
        except InvalidArgumentError as e:
            raise GatingMLError(str(e)) from None
        return strategy

    def to_gatingml(self) -> str:
        """This strategy as a Gating-ML 2.0 document."""
        from cd38.gating.gatingml import serialize

        self.validate()
        return serialize(self)

    def gate(self, sample: Sample, *, map_bounds: bool = True) -> GatingResult:
        """Evaluate every population on ``sample`` (in the Rust engine, GIL released).

        Rectangles and quadrants on transformed axes compare untransformed values
        with bounds mapped through the inverse transform (``map_bounds``), which
        avoids transforming events; the decision can differ from transforming
        first only for a value within rounding (~1e-15 relative) of a bound.
        ``map_bounds=False`` transforms every needed value instead.
        """
        from cd38.gating.engine import run
        from cd38.gating.result import GatingResult

        if sample._map is not None and not sample._file_blake3 and sample._blake3_job is None:
            # Every table of the result names the file by its digest: hash it
            # meanwhile, on cores the gating and statistics leave idle.
            from cd38._digest import blake3_in_background

            sample._blake3_job = blake3_in_background(sample._map)
        return GatingResult(self, sample, run(self, sample, map_bounds))

    def hash(self) -> str:
        """SHA-256 of the canonical Gating-ML of this strategy."""
        return hashlib.sha256(self.to_gatingml().encode("utf-8")).hexdigest()
