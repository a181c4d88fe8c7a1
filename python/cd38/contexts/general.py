"""The ``general`` context: reference bands, the lab's own range, confounders and companion tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from cd38.contexts._rules import (
    BRIGHT_GATES,
    PLASMABLAST_LIKE,
    TRANSITIONAL_LIKE,
    BuiltinContext,
    anti_cd20_exposed,
    anti_cd20_relabel,
    companion,
    lab_position,
    lab_thresholds,
    require_gate,
)
from cd38.contexts.api import ContextOutput
from cd38.contexts.bands import band_uses
from cd38.contexts.citations import CITATIONS, cite
from cd38.contexts.evidence import Citation
from cd38.interpretation import (
    CompanionTest,
    Finding,
    InterpretationWarning,
    ReferenceBandUse,
    Refusal,
    Threshold,
)
from cd38.measurement import POPULATIONS, UNIT_LABELS, Measurement, format_value
from cd38.subject import Subject

__all__ = ["GeneralContext", "companion_tests_general", "source_name"]


def source_name(band: ReferenceBandUse) -> str:
    c = band.source
    return f"{c.authors} {c.year}" if c.authors else f"{c.journal} ({c.title})" if c.title else c.journal


def companion_tests_general(subject: Subject) -> list[CompanionTest]:
    tests = [
        companion(
            "CBC with differential",
            "Absolute counts need the lymphocyte count; the Mayo B-subset panel design pairs them.",
            "mayo_iabcs",
        ),
        companion(
            "Serum IgG, IgA and IgM",
            "Immunoglobulin levels are part of the Mayo B-subset panel design.",
            "mayo_iabcs",
        ),
        companion(
            "Lymphocyte subsets (CD3/CD4/CD8/CD19/NK)",
            "The Mayo T/B/NK panel (TBBS) is performed automatically with the B-subset panel.",
            "mayo_iabcs",
        ),
        CompanionTest(
            "hs-CRP",
            "Named by the product brief only; no retrieved source supports it as a companion.",
            (),
            ("S",),
        ),
    ]
    if anti_cd20_exposed(subject):
        tests.append(
            companion(
                "B-cell CD19/CD20 counts",
                "To monitor depletion after anti-CD20 therapy the catalogues "
                "refer to CD19/CD20 counts; subset panels are for reconstitution.",
                "mayo_rbcs",
                "arup_3002216",
                tags=("V", "X"),
            )
        )
    return tests


class GeneralContext(BuiltinContext):
    name = "general"
    description = (
        "Reference bands (with their source and age range), the lab's own interval, confounders and "
        "companion tests for any B-cell subset result. Never a diagnosis."
    )
    citations = cite("arup_3002216", "arup_2008901", "caraux_2010", "t1d_cei_2020", "mayo_iabcs")
    rules: ClassVar[Mapping[str, str]] = {
        "general.reference_band": "position of a value against a published reference band for the age",
        "general.lab_range": "position of a value against the reporting lab's own interval",
    }

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput(companion_tests=companion_tests_general(subject))
        anti_cd20 = anti_cd20_exposed(subject)
        no_band, unknown = [], []
        for m in measurements:
            if m.population not in POPULATIONS:
                unknown.append(m.population)
                continue
            bands = band_uses(m, subject.age_years)
            refusal = _band_gate(m) if any(b.kind == "interval" for b in bands) else None
            if refusal is not None:
                out.refusals.append(refusal)
                bands = []
            out.reference_bands += bands
            for b in bands:
                if b.kind == "interval":
                    out.findings.append(_band_finding(m, b, anti_cd20))
            if m.lab_range is not None:
                out.findings.append(_lab_finding(m, anti_cd20))
            if subject.age_years is not None and not any(b.kind == "interval" for b in bands):
                no_band.append(f"{m.population} ({UNIT_LABELS[m.unit]})")
        if no_band and subject.age_years is not None:
            out.warnings.append(
                InterpretationWarning(
                    "no_reference_band",
                    f"No reference band for age {format_value(subject.age_years)} y in cd38's evidence "
                    f"tables for: {', '.join(dict.fromkeys(no_band))}. Compare with your lab's own interval "
                    "and with your own earlier results from the same lab and panel (trend).",
                    (),
                    ("V",),
                )
            )
        if unknown:
            out.warnings.append(
                InterpretationWarning(
                    "unrecognized_population",
                    f"Population(s) {', '.join(dict.fromkeys(unknown))} are not canonical cd38 populations; "
                    "no rule uses them.",
                    (),
                    ("V",),
                )
            )
        return out


def _band_gate(m: Measurement) -> Refusal | None:
    """A published band of a CD38-defined subset needs the CD38 gate stated, and bright for
    the plasmablast and transitional gates (a loose gate also holds naive/memory cells)."""
    if not m.uses_cd38:
        return None
    allowed: tuple[str, ...] = BRIGHT_GATES
    if m.population not in (*TRANSITIONAL_LIKE, *PLASMABLAST_LIKE):
        allowed = (*allowed, "above_negative_control")
    return require_gate(
        "general.reference_band",
        m,
        allowed,
        "The published band is for a CD38-bright gate; a gate just above the negative control also holds "
        "naive, memory or activated cells.",
    )


def _side(position: str) -> str:
    """below / within / above, from a position code such as ``above_lab_range``."""
    return position.split("_", 1)[0]


def _band_finding(m: Measurement, b: ReferenceBandUse, anti_cd20: bool) -> Finding:
    pos = b.position or "within_band"
    return _position_finding(
        "general.reference_band",
        m,
        pos,
        anti_cd20,
        f"{POPULATIONS[m.population].label}: {m.describe((b.low, b.high))}. The {source_name(b)} "
        f"reference band for age {b.age_range} is {b.describe()} {UNIT_LABELS[m.unit]}; the value is "
        f"{_side(pos)} it.",
        b.source,
        (
            Threshold("band low", b.low, m.unit, "<", b.source.key),
            Threshold("band high", b.high, m.unit, ">", b.source.key),
        ),
        b.caveat,
    )


def _lab_finding(m: Measurement, anti_cd20: bool) -> Finding:
    pos = lab_position(m) or "within_lab_range"
    lo, hi = m.lab_range or (0.0, 0.0)
    return _position_finding(
        "general.lab_range",
        m,
        pos,
        anti_cd20,
        f"{POPULATIONS[m.population].label}: {m.describe((lo, hi))}, {_side(pos)} the reporting lab's "
        f"own interval ({lo:g}-{hi:g} {UNIT_LABELS[m.unit]}).",
        CITATIONS["lab_report"],
        lab_thresholds(m),
        "A single value matters less than the trend within the same lab and panel.",
    )


def _position_finding(
    rule: str,
    m: Measurement,
    pos: str,
    anti_cd20: bool,
    statement: str,
    source: Citation,
    thresholds: tuple[Threshold, ...],
    caveat: str,
) -> Finding:
    """A value placed against a band or the lab's interval, relabelled after anti-CD20 therapy."""
    relabel = anti_cd20_relabel(m, pos, anti_cd20)
    return Finding(
        rule=rule,
        category=relabel.category,
        statement=statement + relabel.suffix,
        citations=(source, *cite(*relabel.keys)),
        evidence_level=("V", "V-abs") if relabel.keys else ("V",),
        value=m.value,
        thresholds=thresholds,
        caveats=(caveat,),
        inputs=(m,),
    )
