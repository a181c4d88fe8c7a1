"""The context plugin protocol (API version 1).

A context is a class, registered under the entry-point group ``cd38.contexts``
(entry-point name = context name), that cd38 instantiates with no arguments and
checks on load. It needs:

- ``api_version`` (int): the plugin API it was written for; must equal :data:`API_VERSION`.
- ``name`` (str): the context name, equal to the entry-point name.
- ``version`` (str), ``description`` (str), ``citations`` (sequence of :class:`Citation`).
- ``applies_to(subject) -> bool | Applicability``: whether the context is valid for
  this subject at all (wrong diagnosis -> False with a reason).
- ``interpret(measurements, subject) -> ContextOutput``: the findings, refusals,
  reference bands, companion tests, context-specific warnings and the rules the
  context suppressed itself (``blocked``). Never raise for bad clinical input: refuse.

Optional: ``rules`` (rule id -> one-line description) and ``trend_notes`` (rule id
-> the sentence :func:`cd38.trends.compare` shows when that rule's category changes).
Options given to ``cd38.interpret(..., options={...})`` are passed to the constructor.

cd38 itself adds the cross-context parts: the confounder warnings, the
anti-CD38 and other blockers, and the plugin stamp on every finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cd38.contexts.evidence import Citation

if TYPE_CHECKING:
    from cd38.interpretation import (
        Blocked,
        CompanionTest,
        Finding,
        InterpretationWarning,
        ReferenceBandUse,
        Refusal,
    )
    from cd38.measurement import Measurement
    from cd38.subject import Subject

__all__ = [
    "API_VERSION",
    "Applicability",
    "ContextOutput",
    "ContextPlugin",
    "PluginWarning",
    "protocol_problems",
]

API_VERSION = 1


class PluginWarning(UserWarning):
    """A context plugin could not be loaded or used; the message names it."""


@dataclass(frozen=True)
class Applicability:
    """Why a context does or does not apply to a subject."""

    applies: bool
    reason: str = "not_applicable"
    statement: str = ""

    def __bool__(self) -> bool:
        return self.applies


@dataclass
class ContextOutput:
    """What a context's ``interpret`` returns."""

    findings: list[Finding] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    reference_bands: list[ReferenceBandUse] = field(default_factory=list)
    companion_tests: list[CompanionTest] = field(default_factory=list)
    warnings: list[InterpretationWarning] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)  # rules the context itself suppressed

    def extend(self, other: ContextOutput) -> None:
        self.findings += other.findings
        self.refusals += other.refusals
        self.reference_bands += other.reference_bands
        self.companion_tests += other.companion_tests
        self.warnings += other.warnings
        self.blocked += other.blocked


@runtime_checkable
class ContextPlugin(Protocol):
    api_version: int
    name: str
    version: str
    description: str
    citations: Sequence[Citation]

    def applies_to(self, subject: Subject) -> bool | Applicability: ...

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput: ...


def protocol_problems(obj: Any, expected_name: str) -> list[str]:
    """Everything about ``obj`` that violates the protocol (empty when it conforms)."""
    problems = []
    api = getattr(obj, "api_version", None)
    if api != API_VERSION:
        problems.append(f"api_version is {api!r}, this cd38 supports {API_VERSION}")
    for attr in ("name", "version", "description"):
        if not isinstance(getattr(obj, attr, None), str) or not getattr(obj, attr):
            problems.append(f"{attr} must be a non-empty string")
    if getattr(obj, "name", None) != expected_name:
        problems.append(
            f"name {getattr(obj, 'name', None)!r} differs from its entry-point name {expected_name!r}"
        )
    cites = getattr(obj, "citations", None)
    if not isinstance(cites, Sequence) or not all(isinstance(c, Citation) for c in cites):
        problems.append("citations must be a sequence of cd38.contexts.Citation")
    for meth in ("applies_to", "interpret"):
        if not callable(getattr(obj, meth, None)):
            problems.append(f"{meth}() is missing")
    for attr in ("rules", "trend_notes"):
        if not isinstance(getattr(obj, attr, {}), Mapping):
            problems.append(f"{attr} must be a mapping of rule id -> text")
    return problems
