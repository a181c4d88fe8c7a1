"""Ready-made gating panels that place their gates from the data.

``cd38.panels.bcell(sample)`` builds the CD38/IgM B-cell panel (see
:mod:`cd38.panels.bcell`); :func:`find_markers` is its marker lookup.
"""

from cd38.panels.bcell import CD38_GATES, POPULATIONS, bcell, controls_from_dir, describe
from cd38.panels.markers import find_markers

__all__ = ["CD38_GATES", "POPULATIONS", "bcell", "controls_from_dir", "describe", "find_markers"]
