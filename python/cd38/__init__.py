"""cd38: flow-cytometry B-cell analysis with a Rust core.

>>> import cd38
>>> s = cd38.read_fcs("sample.fcs")                       # doctest: +SKIP
>>> s.channels, s.markers, s.n_events, s.repairs          # doctest: +SKIP
"""

from cd38 import batch, contexts, gates, panels, synth, thresholds, transforms, trends
from cd38._core import __version__
from cd38.anonymize import anonymize
from cd38.compensation import Spillover
from cd38.contexts.engine import interpret
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
from cd38.interpretation import Finding, Interpretation
from cd38.measurement import Measurement
from cd38.subject import Subject, Therapy

__all__ = [
    "Cd38Error",
    "CompensationError",
    "Dimension",
    "FCSError",
    "FCSWriter",
    "Finding",
    "GatingError",
    "GatingMLError",
    "GatingResult",
    "GatingStrategy",
    "InternalError",
    "Interpretation",
    "InvalidArgumentError",
    "Keywords",
    "Measurement",
    "Repair",
    "Sample",
    "Spillover",
    "Subject",
    "Therapy",
    "__version__",
    "anonymize",
    "batch",
    "contexts",
    "gates",
    "interpret",
    "panels",
    "read_fcs",
    "read_fcs_datasets",
    "read_fcs_metadata",
    "synth",
    "thresholds",
    "transforms",
    "trends",
    "write_fcs",
]
