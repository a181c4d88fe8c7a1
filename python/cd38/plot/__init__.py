"""Plots of gated samples (matplotlib): biaxial density plots with the gates
drawn, histograms with thresholds, the gating hierarchy, and trends.

Every function returns a :class:`matplotlib.figure.Figure` (or draws on the
``ax`` given). Events are placed with the strategy's own compensation and
transforms, so gates and events share the axes::

    import cd38, cd38.plot
    result = strategy.gate(cd38.read_fcs("sample.fcs"))
    fig = cd38.plot.biaxial(result, "CD38", "IgM", "b_cells")
    fig.savefig("cd38_igm.png")
"""

from cd38.plot._axes import Axis, axes_values, axis_values, resolve_axis
from cd38.plot._backend import new_figure, to_png
from cd38.plot._density import bin1d, bin2d
from cd38.plot.biaxial import biaxial, histogram
from cd38.plot.hierarchy import hierarchy
from cd38.plot.trend import trend

__all__ = [
    "Axis",
    "axes_values",
    "axis_values",
    "biaxial",
    "bin1d",
    "bin2d",
    "hierarchy",
    "histogram",
    "new_figure",
    "resolve_axis",
    "to_png",
    "trend",
]
