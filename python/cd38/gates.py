"""The gate kinds: ``cd38.gates.RectangleGate(...)`` and friends."""

from cd38.gating.model import (
    BooleanGate,
    Divider,
    EllipsoidGate,
    Gate,
    PolygonGate,
    Quadrant,
    QuadrantGate,
    RectangleGate,
)

__all__ = [
    "BooleanGate",
    "Divider",
    "EllipsoidGate",
    "Gate",
    "PolygonGate",
    "Quadrant",
    "QuadrantGate",
    "RectangleGate",
]
