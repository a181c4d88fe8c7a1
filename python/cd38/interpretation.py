"""The output of :func:`cd38.interpret`: findings, warnings, refusals, blocked rules, bands.

Every statement is phrased as "in the cited cohort, X was associated with Y";
:func:`check_wording` rejects diagnostic phrasing wherever a statement is made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from cd38._fields import as_dict, plain
from cd38.contexts.evidence import S_ONLY_CAVEAT, Citation, check_tags
from cd38.errors import InvalidArgumentError
from cd38.measurement import Measurement
from cd38.subject import Subject

__all__ = [
    "DISCLAIMER",
    "FORBIDDEN_PHRASES",
    "Blocked",
    "CompanionTest",
    "Finding",
    "Interpretation",
    "InterpretationWarning",
    "PluginInfo",
    "ReferenceBandUse",
    "Refusal",
    "Threshold",
    "check_wording",
]

DISCLAIMER = (
    "Research and decision-support output, not medical advice and not a diagnosis. Each statement reports "
    "what was associated with what in a cited cohort; interpret it with the treating team."
)

# Diagnostic phrasing that no statement may contain (case-insensitive).
FORBIDDEN_PHRASES = (
    "you have",
    "you are",
    "diagnosis of",
    "diagnostic of",
    "diagnosed with",
    "indicates disease",
    "confirms",
    "proves",
    "intermediate risk",
)
_FORBIDDEN = re.compile("|".join(re.escape(p) for p in FORBIDDEN_PHRASES), re.IGNORECASE)
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def check_wording(text: str, where: str) -> str:
    """Raise if ``text`` uses diagnostic phrasing; return it unchanged otherwise."""
    m = _FORBIDDEN.search(text)
    if m:
        raise InvalidArgumentError(f"{where}: diagnostic phrasing {m.group(0)!r} is not allowed: {text!r}")
    return text


def check_rule_id(rule: str) -> str:
    if not isinstance(rule, str) or not _RULE_ID.match(rule):
        raise InvalidArgumentError(f"rule ids look like 'context.rule_name' (lower case), not {rule!r}")
    return rule


def check_code(code: str, what: str) -> str:
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidArgumentError(f"{what} must be a lower-case code like 'below_20', not {code!r}")
    return code


@dataclass(frozen=True)
class PluginInfo:
    """Which installed distribution (and version) produced an output."""

    context: str
    distribution: str
    version: str
    builtin: bool

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class Threshold:
    """A cut-off a rule compared against: ``value`` ``unit``, ``comparison`` (">=", ">", "<", "<=")."""

    name: str
    value: float
    unit: str
    comparison: str
    source: str | None = None  # citation key

    def __post_init__(self) -> None:
        if self.comparison not in (">=", ">", "<", "<="):
            raise InvalidArgumentError(
                f"threshold comparison must be >=, >, < or <=, not {self.comparison!r}"
            )

    def met(self, value: float) -> bool:
        ops = {
            ">=": value >= self.value,
            ">": value > self.value,
            "<": value < self.value,
            "<=": value <= self.value,
        }
        return ops[self.comparison]

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class Finding:
    """One rule's result. ``category`` is a stable code; ``statement`` a plain sentence
    that never diagnoses; ``evidence_level`` the CLINICAL.md tags behind it."""

    rule: str
    category: str
    statement: str
    citations: tuple[Citation, ...]
    evidence_level: tuple[str, ...]
    value: float | None = None
    thresholds: tuple[Threshold, ...] = ()
    caveats: tuple[str, ...] = ()
    inputs: tuple[Measurement, ...] = ()
    uses_cd38: bool = False
    plugin: PluginInfo | None = None

    def __post_init__(self) -> None:
        check_rule_id(self.rule)
        check_code(self.category, f"finding {self.rule}: category")
        check_wording(self.statement, f"finding {self.rule}")
        for c in self.caveats:
            check_wording(c, f"finding {self.rule} caveat")
        object.__setattr__(
            self, "evidence_level", check_tags(tuple(self.evidence_level), f"finding {self.rule}")
        )
        if not self.citations:
            raise InvalidArgumentError(f"finding {self.rule} needs at least one citation")
        object.__setattr__(self, "citations", tuple(self.citations))
        object.__setattr__(self, "thresholds", tuple(self.thresholds))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        caveats = tuple(self.caveats)
        if set(self.evidence_level) == {"S"} and S_ONLY_CAVEAT not in caveats:
            caveats = (*caveats, S_ONLY_CAVEAT)
        object.__setattr__(self, "caveats", caveats)

    @property
    def cd38_dependent(self) -> bool:
        return self.uses_cd38 or any(m.uses_cd38 for m in self.inputs)

    def with_plugin(self, plugin: PluginInfo) -> Finding:
        return replace(self, plugin=plugin)

    def with_caveat(self, caveat: str) -> Finding:
        return replace(self, caveats=(*self.caveats, caveat))

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self, uses_cd38=self.cd38_dependent)


@dataclass(frozen=True)
class InterpretationWarning:
    """A confounder (CLINICAL.md section 4) or data-quality caution that applies to this result."""

    code: str
    statement: str
    citations: tuple[Citation, ...] = ()
    evidence_level: tuple[str, ...] = ("V-abs",)
    severity: str = "caution"  # "caution" or "do_not_interpret"

    def __post_init__(self) -> None:
        check_code(self.code, "warning code")
        check_wording(self.statement, f"warning {self.code}")
        check_tags(tuple(self.evidence_level), f"warning {self.code}")
        if self.severity not in ("caution", "do_not_interpret"):
            raise InvalidArgumentError(
                f"warning severity must be caution or do_not_interpret, not {self.severity!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class _RuleNote:
    """A rule that produced no finding, with a reason code and a plain statement."""

    kind: ClassVar[str] = "note"

    rule: str
    reason: str
    statement: str
    citations: tuple[Citation, ...] = ()

    def __post_init__(self) -> None:
        check_rule_id(self.rule)
        check_code(self.reason, f"{self.kind} {self.rule}: reason")
        check_wording(self.statement, f"{self.kind} {self.rule}")

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class Refusal(_RuleNote):
    """A rule that declined the input it was given (wrong diagnosis, denominator, unit, ...)."""

    kind: ClassVar[str] = "refusal"


@dataclass(frozen=True)
class Blocked(_RuleNote):
    """A finding suppressed by an analytical blocker (e.g. anti-CD38 epitope masking)."""

    kind: ClassVar[str] = "blocked"


@dataclass(frozen=True)
class ReferenceBandUse:
    """A reference band shown next to a value, with its source, age range and the section-2 caveat."""

    population: str
    unit: str
    parent: str | None
    low: float
    high: float
    kind: str  # "interval" (low-high) or "mean_sd" (context only: low = mean, high = SD)
    age_range: str
    phenotype: str
    source: Citation
    caveat: str
    value: float | None = None
    position: str | None = None  # below_band / within_band / above_band (intervals only)

    def describe(self) -> str:
        if self.kind == "mean_sd":
            return f"mean {self.low:g} ± SD {self.high:g} (context only, not an interval)"
        return f"{self.low:g}-{self.high:g}"

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class CompanionTest:
    """A test to interpret alongside, and why."""

    name: str
    reason: str
    citations: tuple[Citation, ...] = ()
    evidence_level: tuple[str, ...] = ("V",)
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class Interpretation:
    """Everything :func:`cd38.interpret` concluded for one context and one sample."""

    context: str
    plugin: PluginInfo
    subject: Subject
    measurements: tuple[Measurement, ...]
    findings: tuple[Finding, ...] = ()
    warnings: tuple[InterpretationWarning, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    blocked: tuple[Blocked, ...] = ()
    reference_bands: tuple[ReferenceBandUse, ...] = ()
    companion_tests: tuple[CompanionTest, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)
    cd38_version: str = ""

    @property
    def comparability_key(self) -> tuple[str | None, ...]:
        lab, panel, clone, gating = self.subject.comparability_key()
        return (lab, panel, clone, gating or self.source.get("gating_version"))

    def finding(self, rule: str) -> Finding | None:
        return next((f for f in self.findings if f.rule == rule), None)

    def rules(self) -> list[str]:
        return [f.rule for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "plugin": self.plugin.to_dict(),
            "disclaimer": DISCLAIMER,
            "cd38_version": self.cd38_version,
            "comparability_key": dict(
                zip(
                    ("lab_id", "panel_id", "cd38_clone", "gating_version"),
                    self.comparability_key,
                    strict=True,
                )
            ),
            **{
                f: plain(getattr(self, f))
                for f in (
                    "subject",
                    "measurements",
                    "findings",
                    "warnings",
                    "refusals",
                    "blocked",
                    "reference_bands",
                    "companion_tests",
                )
            },
            "source": dict(self.source),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    def to_markdown(self) -> str:
        from cd38.contexts.render import markdown

        return markdown(self)
