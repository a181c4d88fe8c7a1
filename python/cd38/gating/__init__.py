"""Gates, gating strategies and Gating-ML 2.0."""

from cd38.gating.model import (
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
from cd38.gating.result import GatingResult
from cd38.gating.strategy import GatingStrategy

__all__ = [
    "BooleanGate",
    "Dimension",
    "Divider",
    "EllipsoidGate",
    "Gate",
    "GatingResult",
    "GatingStrategy",
    "PolygonGate",
    "Quadrant",
    "QuadrantGate",
    "RectangleGate",
]
