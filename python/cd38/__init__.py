"""cd38: flow-cytometry B-cell analysis with a Rust core.

>>> import cd38
>>> s = cd38.read_fcs("sample.fcs")                       # doctest: +SKIP
>>> s.channels, s.markers, s.n_events, s.repairs          # doctest: +SKIP
"""

from cd38 import gates, synth, thresholds, transforms
from cd38._core import __version__
from cd38.compensation import Spillover
from cd38.errors import (
    Cd38Error,
    CompensationError,
    FCSError,
    GatingError,
    GatingMLError,
    InternalError,
    InvalidArgumentError,
)
from cd38.fcs import (
    FCSWriter,
    Keywords,
    Repair,
    Sample,
    read_fcs,
    read_fcs_datasets,
    read_fcs_metadata,
    write_fcs,
)
from cd38.gating import Dimension, GatingResult, GatingStrategy

__all__ = [
    "Cd38Error",
    "CompensationError",
    "Dimension",
    "FCSError",
    "FCSWriter",
    "GatingError",
    "GatingMLError",
    "GatingResult",
    "GatingStrategy",
    "InternalError",
    "InvalidArgumentError",
    "Keywords",
    "Repair",
    "Sample",
    "Spillover",
    "__version__",
    "gates",
    "read_fcs",
    "read_fcs_datasets",
    "read_fcs_metadata",
    "synth",
    "thresholds",
    "transforms",
    "write_fcs",
]
