"""Clinical-context plugins: ``available()``, ``describe(name)``, ``refresh()`` and the plugin API.

Built-in contexts: general, cll, kidney_transplant, cgvhd, breg, sle_ssc,
lymphoma_myeloma, t_cell_activation, solid_tumor_literature. Third parties add
more through the ``cd38.contexts`` entry-point group (see ``cd38.contexts.api``
and plugins/vaccine_response/README.md).
"""

from cd38.contexts.api import API_VERSION, Applicability, ContextOutput, ContextPlugin, PluginWarning
from cd38.contexts.citations import cite
from cd38.contexts.evidence import EVIDENCE_TAGS, Citation
from cd38.contexts.registry import (
    BUILTINS,
    GROUP,
    PluginProblem,
    available,
    describe,
    disabled,
    get,
    plugin_info,
    problems,
    refresh,
)

__all__ = [
    "API_VERSION",
    "BUILTINS",
    "EVIDENCE_TAGS",
    "GROUP",
    "Applicability",
    "Citation",
    "ContextOutput",
    "ContextPlugin",
    "PluginProblem",
    "PluginWarning",
    "available",
    "cite",
    "describe",
    "disabled",
    "get",
    "plugin_info",
    "problems",
    "refresh",
]
