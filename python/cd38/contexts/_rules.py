"""Small helpers shared by the built-in contexts (third parties may use them too)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from cd38.contexts.api import API_VERSION, Applicability, ContextOutput
from cd38.contexts.citations import cite
from cd38.contexts.confounders import ANTI_CD20_MONTHS
from cd38.contexts.evidence import Citation
from cd38.interpretation import CompanionTest, Finding, Refusal, Threshold
from cd38.measurement import UNIT_LABELS, Measurement
from cd38.subject import Subject

__all__ = [
    "BRIGHT_GATES",
    "PLASMABLAST_LIKE",
    "POSITION_PHRASES",
    "TRANSITIONAL_LIKE",
    "BuiltinContext",
    "Relabel",
    "anti_cd20_exposed",
    "anti_cd20_relabel",
    "check_input",
    "companion",
    "find",
    "first_or_refuse",
    "lab_position",
    "lab_thresholds",
    "measured",
    "not_recorded",
    "refuse",
    "require_gate",
    "require_parent",
    "require_unit",
]

# Gate definitions that isolate CD38-bright cells (a gate just above the negative
# control also holds naive, memory and activated cells: CLINICAL.md section 1.1).
BRIGHT_GATES = ("bright", "multi_epitope", "cd38_independent")
POSITION_PHRASES = {
    "below_band": "below the reference band",
    "within_band": "within the reference band",
    "above_band": "above the reference band",
    "below_lab_range": "below the lab's interval",
    "within_lab_range": "within the lab's interval",
    "above_lab_range": "above the lab's interval",
}


class BuiltinContext:
    """Defaults for the built-in contexts; the protocol itself is in :mod:`cd38.contexts.api`."""

    api_version: ClassVar[int] = API_VERSION
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    citations: ClassVar[tuple[Citation, ...]] = ()
    rules: ClassVar[Mapping[str, str]] = {}
    trend_notes: ClassVar[Mapping[str, str]] = {}

    @property
    def version(self) -> str:
        from cd38 import __version__

        return __version__

    def applies_to(self, subject: Subject) -> bool | Applicability:
        return True

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        raise NotImplementedError


def find(
    measurements: Iterable[Measurement], *populations: str, unit: str | None = None
) -> list[Measurement]:
    """Measurements of any of ``populations`` (in that order), optionally of one unit."""
    ms = list(measurements)
    return [m for p in populations for m in ms if m.population == p and (unit is None or m.unit == unit)]


def refuse(rule: str, reason: str, statement: str, *keys: str) -> Refusal:
    return Refusal(rule, reason, statement, cite(*keys) if keys else ())


def first_or_refuse(
    measurements: Iterable[Measurement],
    populations: Sequence[str],
    out: ContextOutput,
    rule: str,
    statement: str,
    key: str,
) -> Measurement | None:
    """The first measurement of ``populations``; without one, a missing-input refusal goes to ``out``."""
    ms = find(measurements, *populations)
    if ms:
        return ms[0]
    out.refusals.append(refuse(rule, "missing_input", statement, key))
    return None


def measured(
    rule: str,
    category: str,
    statement: str,
    keys: Sequence[str],
    m: Measurement,
    *,
    tags: tuple[str, ...] = ("V-abs",),
    thresholds: Sequence[Threshold] = (),
    caveats: Sequence[str] = (),
) -> Finding:
    """A finding about one measurement (its value and it as the input)."""
    return Finding(
        rule, category, statement, cite(*keys), tags, m.value, tuple(thresholds), tuple(caveats), (m,)
    )


def require_unit(rule: str, m: Measurement, units: Sequence[str], why: str = "") -> Refusal | None:
    if m.unit in units:
        return None
    wanted = " or ".join(UNIT_LABELS[u] for u in units)
    return refuse(
        rule,
        "wrong_unit",
        f"{m.population} was given in {UNIT_LABELS[m.unit]}; this rule needs {wanted}.{why}",
    )


def require_gate(rule: str, m: Measurement, allowed: Sequence[str], why: str) -> Refusal | None:
    """Refuse when the CD38 gate definition is missing or not one the rule's cohort used."""
    if m.gate_definition is None:
        return refuse(
            rule,
            "cd38_gate_definition_missing",
            f"The CD38 gate definition of {m.population} was not stated (bright, above negative control, "
            "multi-epitope or CD38-independent); CD38 rules are not applied without it.",
            "caraux_2010",
        )
    if m.gate_definition not in allowed:
        return refuse(
            rule,
            "cd38_gate_not_valid_for_rule",
            f"{m.population} was gated '{m.gate_definition}'. {why}",
            "caraux_2010",
        )
    return None


def require_parent(
    rule: str, m: Measurement, parents: Sequence[str], statement: str, *keys: str
) -> Refusal | None:
    if m.unit == "percent_of_parent" and m.denominator not in parents:
        return refuse(rule, "wrong_denominator", f"{m.describe()}: {statement}", *keys)
    return None


def check_input(
    rule: str,
    m: Measurement,
    *,
    units: Sequence[str],
    parents: tuple[Sequence[str], str, str] | None = None,
    gate: tuple[Sequence[str], str] | None = None,
) -> Refusal | None:
    """The first refusal among: unit not in ``units``; a percentage whose denominator is
    not in ``parents`` = (allowed, why, citation key); a CD38 gate definition not in
    ``gate`` = (allowed, why)."""
    r = require_unit(rule, m, units)
    if r is None and parents is not None:
        allowed, why, key = parents
        r = require_parent(rule, m, allowed, why, key)
    if r is None and gate is not None:
        r = require_gate(rule, m, *gate)
    return r


def not_recorded(fields: Iterable[tuple[str, object]]) -> list[str]:
    """A caveat naming the required metadata that is None (empty when all is recorded)."""
    missing = [label for label, value in fields if value is None]
    return [f"Not recorded: {', '.join(missing)} (required metadata for this rule)."] if missing else []


def lab_position(m: Measurement) -> str | None:
    """below_lab_range / within_lab_range / above_lab_range against the reporting lab's own interval."""
    if m.lab_range is None:
        return None
    lo, hi = m.lab_range
    if m.value < lo:
        return "below_lab_range"
    if m.value > hi:
        return "above_lab_range"
    return "within_lab_range"


def lab_thresholds(m: Measurement) -> tuple[Threshold, ...]:
    if m.lab_range is None:
        return ()
    lo, hi = m.lab_range
    return (Threshold("lab range low", lo, m.unit, "<"), Threshold("lab range high", hi, m.unit, ">"))


def companion(
    name: str, reason: str, *keys: str, tags: tuple[str, ...] = ("V",), required: bool = False
) -> CompanionTest:
    return CompanionTest(name, reason, cite(*keys) if keys else (), tags, required)


TRANSITIONAL_LIKE = ("transitional", "cd38pos_igmpos")
PLASMABLAST_LIKE = ("cd38pos_igmneg", "plasmablasts")


def anti_cd20_exposed(subject: Subject) -> bool:
    """Anti-CD20 therapy running or ended within 24 months (CLINICAL.md section 4)."""
    return bool(subject.therapies_of("anti_cd20", months=ANTI_CD20_MONTHS))


@dataclass(frozen=True)
class Relabel:
    """A category after the anti-CD20 rule: the sentence to append and its citation keys."""

    category: str
    note: str = ""
    keys: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return f" {self.note}" if self.note else ""


_ANTI_CD20_KEYS = ("roll_2006", "leandro_2013")


def anti_cd20_relabel(m: Measurement, category: str, exposed: bool) -> Relabel:
    """Within 24 months of anti-CD20 therapy a high transitional/"Breg" value is the expected
    repopulation pattern and a high plasmablast % is expected during depletion (section 4)."""
    if not exposed or not category.startswith("above"):
        return Relabel(category)
    if m.population in TRANSITIONAL_LIKE:
        return Relabel(
            "expected_repopulation_pattern",
            "After anti-CD20 therapy, repopulation starts with CD38hi CD24hi immature/transitional cells, "
            "so a high value is the expected repopulation pattern in the cited cohorts (Roll 2006).",
            _ANTI_CD20_KEYS,
        )
    if m.population in PLASMABLAST_LIKE and m.unit == "percent_of_parent":
        return Relabel(
            "expected_during_depletion",
            "During anti-CD20 depletion the remaining circulating B cells are mainly CD20- plasmablasts, "
            "so a high plasmablast % is expected in the cited cohorts (Roll 2006).",
            _ANTI_CD20_KEYS,
        )
    return Relabel(category)
