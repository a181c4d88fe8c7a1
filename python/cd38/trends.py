"""`cd38.trends.compare`: follow results over time, only within one comparability key.

Results compare only when lab, panel, CD38 clone and gating version are all
known and equal (CLINICAL.md section 4); anything else is reported as "not
comparable". Within a key: change from the personal baseline (the earliest
result), crossings of a context's categories (e.g. CLL CD38 status), draws
more than 3 h apart in time of day, and a retest cadence that comes from the
product brief, not from a guideline (section 5).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cd38._fields import as_dict
from cd38.contexts.citations import cite
from cd38.contexts.evidence import Citation
from cd38.errors import InvalidArgumentError
from cd38.interpretation import Interpretation
from cd38.measurement import UNIT_LABELS, Measurement, format_value
from cd38.subject import Subject

__all__ = [
    "CADENCE",
    "Change",
    "Crossing",
    "NotComparable",
    "TrendGroup",
    "TrendNote",
    "TrendReport",
    "compare",
]

KEY_FIELDS = ("lab_id", "panel_id", "cd38_clone", "gating_version")
DRAW_TIME_HOURS = 3.0
CADENCE = (
    "Suggested retest cadence: a baseline, then 3-6 months after starting B-cell-targeted therapy or "
    "changing "
    "immunosuppression, then annually. This comes from the project's product brief, not from a guideline; "
    "no guideline for it was found."
)
ANTI_CD20_CADENCE = (
    "After anti-CD20 therapy, the Mayo and ARUP catalogues state that B-cell subset panels are for "
    "reconstitution after recovery, not for monitoring depletion (CD19/CD20 counts do that)."
)


@dataclass(frozen=True)
class _Point:
    when: datetime
    subject: Subject
    measurements: tuple[Measurement, ...]
    interpretation: Interpretation | None
    key: tuple[str | None, ...]

    @property
    def label(self) -> str:
        return self.when.isoformat(sep=" ", timespec="minutes")


@dataclass(frozen=True)
class Change:
    """One value against the personal baseline (and against the previous value)."""

    population: str
    unit: str
    parent: str | None
    baseline_when: datetime
    baseline: float
    when: datetime
    value: float
    change: float
    percent_change: float | None
    change_from_previous: float

    def statement(self) -> str:
        den = f" of {self.parent}" if self.parent else ""
        pct = f", {self.percent_change:+.0f} %" if self.percent_change is not None else ""
        sign = "+" if self.change >= 0 else ""
        return (
            f"{self.population} ({UNIT_LABELS[self.unit]}{den}): {format_value(self.value)} on "
            f"{self.when.date()} vs the personal baseline {format_value(self.baseline)} on "
            f"{self.baseline_when.date()} ({sign}{format_value(self.change)}{pct})."
        )

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self, statement=self.statement())


@dataclass(frozen=True)
class Crossing:
    """A rule whose category changed between two consecutive results."""

    rule: str
    before: str
    after: str
    before_when: datetime
    after_when: datetime
    statement: str

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class TrendNote:
    """A caution about the series (draw time, specimen type, ...)."""

    code: str
    statement: str
    citations: tuple[Citation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class NotComparable:
    """Results that were not compared, and why."""

    when: tuple[datetime, ...]
    reason: str
    statement: str

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class TrendGroup:
    """Results sharing one comparability key, oldest first."""

    key: dict[str, str | None]
    when: tuple[datetime, ...]
    changes: tuple[Change, ...]
    crossings: tuple[Crossing, ...]
    notes: tuple[TrendNote, ...]

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


@dataclass(frozen=True)
class TrendReport:
    groups: tuple[TrendGroup, ...]
    not_comparable: tuple[NotComparable, ...]
    cadence: tuple[str, ...] = field(default=(CADENCE,))
    cadence_source: str = "product brief [S]; not a guideline"

    @property
    def crossings(self) -> list[Crossing]:
        return [c for g in self.groups for c in g.crossings]

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)

    def to_markdown(self) -> str:
        lines = ["# cd38 trend", ""]
        for g in self.groups:
            key = ", ".join(f"{k}={v}" for k, v in g.key.items())
            lines += [f"## {key}", ""]
            lines += [f"- {c.statement()}" for c in g.changes] or ["- A single result: no change to report."]
            lines += [
                f"- **Crossing** `{c.rule}`: {c.before} -> {c.after}. {c.statement}" for c in g.crossings
            ]
            lines += [f"- **{n.code}**: {n.statement}" for n in g.notes]
            lines.append("")
        if self.not_comparable:
            lines += ["## Not comparable", "", *[f"- {n.statement}" for n in self.not_comparable], ""]
        lines += [f"## Retest cadence ({self.cadence_source})", "", *[f"- {c}" for c in self.cadence]]
        return "\n".join(lines) + "\n"


def _point(item: Any, context: Any) -> _Point:
    from cd38.contexts.engine import interpret

    interp: Interpretation | None
    if isinstance(item, Interpretation):
        interp, subject, ms = item, item.subject, item.measurements
        key = item.comparability_key
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Subject):
        subject = item[0]
        ms = (item[1],) if isinstance(item[1], Measurement) else tuple(item[1])
        interp = interpret(list(ms), context, subject) if context is not None else None
        key = subject.comparability_key()
    else:
        raise InvalidArgumentError(
            "trend items must be cd38.Interpretation or (cd38.Subject, measurements) pairs"
        )
    if subject.collection_datetime is None:
        raise InvalidArgumentError(
            "every result in a trend needs subject.collection_datetime (to order them)"
        )
    return _Point(subject.collection_datetime, subject, tuple(ms), interp, key)


def compare(series: Iterable[Any], *, context: Any = None) -> TrendReport:
    """Compare a series of results over time.

    Items are :class:`cd38.Interpretation` objects or ``(Subject, measurements)``
    pairs (interpreted in ``context`` when given, for category crossings).
    """
    points = sorted((_point(i, context) for i in series), key=lambda p: p.when)
    if not points:
        raise InvalidArgumentError("compare() needs at least one result")
    incomplete = [p for p in points if any(v is None for v in p.key)]
    incomplete_ids = {id(p) for p in incomplete}
    groups: dict[tuple[str | None, ...], list[_Point]] = {}
    for p in points:
        if id(p) not in incomplete_ids:
            groups.setdefault(p.key, []).append(p)
    not_comparable = [_incomplete(p) for p in incomplete]
    if len(groups) > 1:
        not_comparable.append(_across(groups))
    report_groups = tuple(_group(key, ps) for key, ps in groups.items())
    cadence = [CADENCE]
    if any(p.subject.therapies_of("anti_cd20", months=24) for p in points):
        cadence.append(ANTI_CD20_CADENCE)
    return TrendReport(report_groups, tuple(not_comparable), tuple(cadence))


def _incomplete(p: _Point) -> NotComparable:
    missing = [f for f, v in zip(KEY_FIELDS, p.key, strict=True) if v is None]
    return NotComparable(
        (p.when,),
        "comparability_key_incomplete",
        f"Result of {p.label}: not comparable; its comparability key is incomplete (missing "
        f"{', '.join(missing)}). Results compare only within the same lab, panel, CD38 clone and "
        "gating version.",
    )


def _across(groups: dict[tuple[str | None, ...], list[_Point]]) -> NotComparable:
    desc = "; ".join(
        f"{'/'.join(str(v) for v in k)} ({', '.join(p.when.date().isoformat() for p in ps)})"
        for k, ps in groups.items()
    )
    return NotComparable(
        tuple(p.when for ps in groups.values() for p in ps),
        "different_comparability_key",
        f"Not comparable across lab/panel/CD38 clone/gating version: {desc}. Different CD38 methods "
        "classify patients differently; each group is compared only within itself.",
    )


def _group(key: tuple[str | None, ...], ps: list[_Point]) -> TrendGroup:
    return TrendGroup(
        dict(zip(KEY_FIELDS, key, strict=True)),
        tuple(p.when for p in ps),
        tuple(_changes(ps)),
        tuple(_crossings(ps)),
        tuple(_notes(ps)),
    )


def _series_key(m: Measurement) -> tuple[str, str, str | None]:
    return (m.population, m.unit, m.denominator)


def _changes(ps: Sequence[_Point]) -> list[Change]:
    out = []
    first: dict[tuple[str, str, str | None], tuple[datetime, float]] = {}
    prev: dict[tuple[str, str, str | None], float] = {}
    for p in ps:
        for m in p.measurements:
            k = _series_key(m)
            if k not in first:
                first[k] = (p.when, m.value)
                prev[k] = m.value
                continue
            when0, base = first[k]
            pct = 100.0 * (m.value - base) / base if base else None
            out.append(
                Change(
                    m.population,
                    m.unit,
                    m.denominator,
                    when0,
                    base,
                    p.when,
                    m.value,
                    m.value - base,
                    pct,
                    m.value - prev[k],
                )
            )
            prev[k] = m.value
    return out


def _crossings(ps: Sequence[_Point]) -> list[Crossing]:
    out = []
    for a, b in itertools.pairwise(ps):
        ia, ib = a.interpretation, b.interpretation
        if ia is None or ib is None or ia.context != ib.context:
            continue
        for rule in dict.fromkeys([*ia.rules(), *ib.rules()]):
            before, after = _category(ia, ib, rule), _category(ib, ia, rule)
            if before is None or after is None or before == after:
                continue
            out.append(Crossing(rule, before, after, a.when, b.when, _note(ia.context, rule, before, after)))
    return out


def _category(this: Interpretation, other: Interpretation, rule: str) -> str | None:
    """The rule's category, "not_reached" when it was evaluable here but produced nothing, else None."""
    f = this.finding(rule)
    if f is not None:
        return f.category
    if any(r.rule == rule for r in this.refusals) or any(b.rule == rule for b in this.blocked):
        return None
    theirs = other.finding(rule)
    if theirs is None:
        return None
    have = {_series_key(m) for m in this.measurements}
    return "not_reached" if all(_series_key(m) in have for m in theirs.inputs) and theirs.inputs else None


def _note(context: str, rule: str, before: str, after: str) -> str:
    from cd38.contexts import registry

    try:
        notes = getattr(registry.get(context), "trend_notes", {})
    except InvalidArgumentError:
        notes = {}
    return str(
        notes.get(rule)
        or f"The {rule} category changed from {before} to {after}; confirm with the same "
        "lab, panel and specimen type."
    )


def _notes(ps: Sequence[_Point]) -> list[TrendNote]:
    out = []
    base = ps[0]
    for p in ps[1:]:
        diff = _clock_difference(base.when, p.when)
        if diff is not None and diff > DRAW_TIME_HOURS:
            out.append(
                TrendNote(
                    "draw_time_differs",
                    f"Drawn at {p.when.time().isoformat('minutes')} on {p.when.date()} vs "
                    f"{base.when.time().isoformat('minutes')} for the baseline ({diff:.1f} h apart in "
                    "time of day); for serial monitoring, collect at the same time of day.",
                    cite("mayo_rbcs"),
                )
            )
    specimens = {p.subject.specimen_type for p in ps} - {None}
    if len(specimens) > 1:
        out.append(
            TrendNote(
                "specimen_type_differs",
                f"The specimen type changed ({', '.join(sorted(s for s in specimens if s))}); compare "
                "only the same specimen type (the CD38+ CLL subset was enriched in bone marrow).",
                cite("ghia_2003"),
            )
        )
    return out


def _clock_difference(a: datetime, b: datetime) -> float | None:
    """Hours between the times of day (circular); None when either is a date-only midnight."""
    ta, tb = a.time(), b.time()
    if ta == ta.min or tb == tb.min:
        return None
    ha = ta.hour + ta.minute / 60 + ta.second / 3600
    hb = tb.hour + tb.minute / 60 + tb.second / 3600
    d = abs(ha - hb)
    return min(d, 24 - d)
