"""Gates and the dimensions they are drawn on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cd38.errors import InvalidArgumentError
from cd38.transforms import Ratio, Transform

__all__ = [
    "BooleanGate",
    "Dimension",
    "Divider",
    "EllipsoidGate",
    "Gate",
    "PolygonGate",
    "Quadrant",
    "QuadrantGate",
    "RectangleGate",
]

UNCOMPENSATED = "uncompensated"
FCS = "FCS"


@dataclass(frozen=True)
class Dimension:
    """One axis of a gate: a channel (or a ``Ratio`` of two), a compensation
    reference and an optional transform.

    ``compensation`` is ``"uncompensated"``, ``"FCS"`` (the sample's own
    spillover; uncompensated when the file has none, as Gating-ML says) or the
    id of a spectrum matrix of the strategy, whose dimensions are then named by
    fluorochrome.
    """

    channel: str | None = None
    compensation: str = UNCOMPENSATED
    transform: Transform | None = None
    ratio: Ratio | None = None

    def __post_init__(self) -> None:
        if (self.channel is None) == (self.ratio is None):
            raise InvalidArgumentError("a Dimension needs exactly one of channel= or ratio=")
        if not self.compensation:
            raise InvalidArgumentError("compensation reference must not be empty")

    @property
    def label(self) -> str:
        base = self.channel if self.channel is not None else f"ratio({self.ratio})"
        return str(base)


class Gate:
    """Base class of every gate. ``id`` is the population name."""

    id: str

    def dimensions_used(self) -> list[Dimension]:
        return []

    def population_ids(self) -> list[str]:
        """Populations this gate defines (a quadrant gate defines one per quadrant)."""
        return [self.id]

    def references(self) -> list[str]:
        """Other populations this gate's membership depends on (besides its parent)."""
        return []


def _floats(name: str, values: Sequence[float]) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} must be numbers, got {values!r}") from None
    if not all(np.isfinite(out)):
        raise InvalidArgumentError(f"{name} must be finite, got {values!r}")
    return out


def _check_id(gate_id: str) -> str:
    if not isinstance(gate_id, str) or not gate_id:
        raise InvalidArgumentError(f"gate id must be a non-empty string, not {gate_id!r}")
    return gate_id


@dataclass(frozen=True, eq=False)
class RectangleGate(Gate):
    """A range in every dimension: ``min <= v < max``; ``None`` leaves a side open."""

    id: str
    dimensions: tuple[Dimension, ...]
    mins: tuple[float | None, ...]
    maxs: tuple[float | None, ...]

    def __init__(
        self,
        id: str,
        dimensions: Sequence[Dimension],
        mins: Sequence[float | None],
        maxs: Sequence[float | None],
    ) -> None:
        dims = tuple(dimensions)
        if not dims or len(mins) != len(dims) or len(maxs) != len(dims):
            raise InvalidArgumentError(
                f"rectangle {id!r}: {len(dims)} dimensions need as many mins and maxs "
                f"(got {len(mins)} and {len(maxs)})"
            )
        lo = tuple(None if v is None else _floats("min", [v])[0] for v in mins)
        hi = tuple(None if v is None else _floats("max", [v])[0] for v in maxs)
        for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
            if a is None and b is None:
                raise InvalidArgumentError(f"rectangle {id!r}: dimension {i + 1} has neither min nor max")
        object.__setattr__(self, "id", _check_id(id))
        object.__setattr__(self, "dimensions", dims)
        object.__setattr__(self, "mins", lo)
        object.__setattr__(self, "maxs", hi)

    def dimensions_used(self) -> list[Dimension]:
        return list(self.dimensions)


@dataclass(frozen=True, eq=False)
class PolygonGate(Gate):
    """A polygon in two dimensions, inside by the even-odd rule (self-intersecting allowed)."""

    id: str
    dimensions: tuple[Dimension, Dimension]
    vertices: tuple[tuple[float, float], ...]

    def __init__(self, id: str, dimensions: Sequence[Dimension], vertices: Sequence[Sequence[float]]):
        dims = tuple(dimensions)
        if len(dims) != 2:
            raise InvalidArgumentError(f"polygon {id!r} needs exactly 2 dimensions, got {len(dims)}")
        verts = tuple(_floats("vertex", v) for v in vertices)
        if len(verts) < 3 or any(len(v) != 2 for v in verts):
            raise InvalidArgumentError(f"polygon {id!r} needs at least 3 (x, y) vertices")
        object.__setattr__(self, "id", _check_id(id))
        object.__setattr__(self, "dimensions", dims)
        object.__setattr__(self, "vertices", tuple((v[0], v[1]) for v in verts))

    def dimensions_used(self) -> list[Dimension]:
        return list(self.dimensions)


@dataclass(frozen=True, eq=False)
class EllipsoidGate(Gate):
    """``(v - mean)^T inv(covariance) (v - mean) <= distance_square`` (boundary inside)."""

    id: str
    dimensions: tuple[Dimension, ...]
    mean: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    distance_square: float

    def __init__(
        self,
        id: str,
        dimensions: Sequence[Dimension],
        mean: Sequence[float],
        covariance: Sequence[Sequence[float]],
        distance_square: float,
    ) -> None:
        dims = tuple(dimensions)
        n = len(dims)
        mu = _floats("mean", mean)
        cov = tuple(_floats("covariance row", r) for r in covariance)
        if n < 1 or len(mu) != n or len(cov) != n or any(len(r) != n for r in cov):
            raise InvalidArgumentError(f"ellipsoid {id!r}: mean and covariance must match {n} dimensions")
        c = np.array(cov)
        # Not required symmetric: the compliance suite's Ellipsoid3D is not, and
        # its truth uses the plain inverse of the matrix as written.
        if np.linalg.matrix_rank(c) < n:
            raise InvalidArgumentError(f"ellipsoid {id!r}: covariance matrix must be invertible")
        d2 = _floats("distance_square", [distance_square])[0]
        if d2 < 0:
            raise InvalidArgumentError(f"ellipsoid {id!r}: distance_square must be >= 0")
        object.__setattr__(self, "id", _check_id(id))
        object.__setattr__(self, "dimensions", dims)
        object.__setattr__(self, "mean", mu)
        object.__setattr__(self, "covariance", cov)
        object.__setattr__(self, "distance_square", d2)

    def dimensions_used(self) -> list[Dimension]:
        return list(self.dimensions)


@dataclass(frozen=True)
class Divider:
    """Cuts one dimension at one or more values into bins ``[-inf,v1), [v1,v2), ... [vk,inf)``."""

    id: str
    dimension: Dimension
    values: tuple[float, ...]

    def __init__(self, id: str, dimension: Dimension, values: Sequence[float]):
        vals = _floats("divider values", values)
        if not vals or list(vals) != sorted(vals):
            raise InvalidArgumentError(f"divider {id!r}: values must be non-empty and ascending")
        object.__setattr__(self, "id", _check_id(id))
        object.__setattr__(self, "dimension", dimension)
        object.__setattr__(self, "values", vals)

    def bin(self, location: float) -> int:
        """Index of the bin that holds ``location``."""
        return int(np.searchsorted(np.array(self.values), location, side="right"))


@dataclass(frozen=True)
class Quadrant:
    """One population of a quadrant gate: for each divider it names, the bin
    holding ``location``; dividers it does not name are ignored."""

    id: str
    positions: Mapping[str, float] = field(default_factory=dict)

    def __init__(self, id: str, positions: Mapping[str, float]):
        if not positions:
            raise InvalidArgumentError(f"quadrant {id!r} must reference at least one divider")
        object.__setattr__(self, "id", _check_id(id))
        object.__setattr__(self, "positions", {k: _floats("location", [v])[0] for k, v in positions.items()})

    def __hash__(self) -> int:
        return hash((self.id, tuple(sorted(self.positions.items()))))


@dataclass(frozen=True, eq=False)
class QuadrantGate(Gate):
    """Dividers that split space into bins; each ``Quadrant`` is a population."""

    id: str
    dividers: tuple[Divider, ...]
    quadrants: tuple[Quadrant, ...]

    def __init__(self, id: str, dividers: Sequence[Divider], quadrants: Sequence[Quadrant]):
        divs = tuple(dividers)
        quads = tuple(quadrants)
        names = {d.id for d in divs}
        if len(names) != len(divs) or not divs:
            raise InvalidArgumentError(f"quadrant gate {id!r}: divider ids must be unique and non-empty")
        for q in quads:
            unknown = set(q.positions) - names
            if unknown:
                raise InvalidArgumentError(
                    f"quadrant {q.id!r} references unknown divider(s) {sorted(unknown)}"
                )
        if not quads:
            raise InvalidArgumentError(f"quadrant gate {id!r} has no quadrants")
        object.__setattr__(self, "id", _check_id(id))
        object.__setattr__(self, "dividers", divs)
        object.__setattr__(self, "quadrants", quads)

    def dimensions_used(self) -> list[Dimension]:
        return [d.dimension for d in self.dividers]

    def population_ids(self) -> list[str]:
        return [q.id for q in self.quadrants]


@dataclass(frozen=True, eq=False)
class BooleanGate(Gate):
    """``and`` / ``or`` / ``not`` of other populations; an operand given as
    ``(id, True)`` is used as its complement (Gating-ML ``use-as-complement``)."""

    id: str
    op: str
    operands: tuple[tuple[str, bool], ...]

    def __init__(self, id: str, op: str, operands: Sequence[str | tuple[str, bool]]):
        op = op.lower()
        ops = tuple((o, False) if isinstance(o, str) else (str(o[0]), bool(o[1])) for o in operands)
        if op not in ("and", "or", "not"):
            raise InvalidArgumentError(f"boolean gate {id!r}: op must be and/or/not, not {op!r}")
        if op == "not" and len(ops) != 1:
            raise InvalidArgumentError(f"boolean gate {id!r}: 'not' takes exactly one operand")
        if op != "not" and len(ops) < 2:
            raise InvalidArgumentError(f"boolean gate {id!r}: '{op}' needs at least two operands")
        object.__setattr__(self, "id", _check_id(id))
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "operands", ops)

    def references(self) -> list[str]:
        return [o for o, _ in self.operands]
