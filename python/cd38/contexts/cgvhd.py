"""The ``cgvhd`` context: B-cell reconstitution after allogeneic HSCT (CLINICAL.md section 3.4).

Absolute counts are interpreted; percentages only as secondary values, because
in cGVHD with hypogammaglobulinemia transitional proportions were higher while
total B counts were low [X]. Needs >= 100 days after HSCT and an IgG level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from cd38.contexts._rules import (
    BRIGHT_GATES,
    POSITION_PHRASES,
    BuiltinContext,
    companion,
    find,
    measured,
    refuse,
    require_gate,
)
from cd38.contexts.api import Applicability, ContextOutput
from cd38.contexts.bands import band_uses
from cd38.contexts.citations import cite
from cd38.interpretation import Finding, ReferenceBandUse, Threshold
from cd38.measurement import POPULATIONS, Measurement, format_value
from cd38.subject import Subject

__all__ = ["CGVHDContext"]

MIN_DAYS = 100
INACTIVE_IGM_MEMORY = 0.4  # cells/µL (0.4 x 10^6/L), the inactive-cGVHD group's value in the cited cohort
_COUNTS = "cgvhd.absolute_counts"
_PATTERN = "cgvhd.igm_memory_igg"
_PCT = "cgvhd.percent_secondary"
_POPS = ("b_cells", "transitional", "switched_memory", "nonswitched_memory")
_PCT_CAVEAT = (
    "In cGVHD with hypogammaglobulinemia, transitional proportions were higher (10.5 % vs 4.2 %/6.3 %) "
    "while total B counts were low (165 vs 454/417 x 10^6/L) (Blood 2011): a % alone can mislead."
)


class CGVHDContext(BuiltinContext):
    name = "cgvhd"
    description = (
        "Absolute B-cell subset counts at least 100 days after allogeneic HSCT, read against a "
        "98-patient chronic-GVHD cohort (Transpl Int 2012); IgM memory with IgG. Never a GVHD diagnosis."
    )
    citations = cite("transpl_int_2012_cgvhd", "blood_2011_cgvhd")
    rules: ClassVar[Mapping[str, str]] = {
        _COUNTS: "absolute CD19+, transitional, switched and IgM memory counts against the band (cells/µL)",
        _PATTERN: "absent or very low IgM memory B cells with low IgG",
        _PCT: "percentages, shown only next to an absolute count",
    }

    def applies_to(self, subject: Subject) -> Applicability:
        if not subject.has_diagnosis("allo_hsct"):
            return Applicability(
                False,
                "wrong_diagnosis",
                "The cGVHD rules apply only after allogeneic HSCT (diagnosis 'allo_hsct').",
            )
        days = subject.transplant_days()
        if days is None:
            return Applicability(
                False,
                "missing_metadata",
                "Days since HSCT are needed (transplant_date with "
                "collection_datetime, or months_since_transplant).",
            )
        if days < MIN_DAYS:
            return Applicability(
                False,
                "too_early_post_transplant",
                f"The sample is {days:.0f} days after HSCT; these rules need at least {MIN_DAYS} days.",
            )
        return Applicability(True)

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput(
            companion_tests=[
                companion(
                    "Serum IgG",
                    "Required for the IgM-memory pattern rule (Transpl Int 2012).",
                    "transpl_int_2012_cgvhd",
                    tags=("V-abs",),
                    required=True,
                )
            ]
        )
        absolute = {m.population: m for m in find(measurements, *_POPS, unit="cells_per_ul")}
        for m in find(measurements, *_POPS, unit="percent_of_parent"):
            if m.population in absolute:
                out.findings.append(self._percent(m))
            else:
                out.refusals.append(
                    refuse(
                        _PCT,
                        "absolute_count_required",
                        f"{m.population} was given only as a percentage; this context interprets "
                        "absolute counts (cells/µL) and shows % only beside them. " + _PCT_CAVEAT,
                        "blood_2011_cgvhd",
                        "transpl_int_2012_cgvhd",
                    )
                )
        for m in absolute.values():
            r = (
                require_gate(
                    _COUNTS,
                    m,
                    BRIGHT_GATES,
                    "The cohort gated CD38++ cells.",
                )
                if m.uses_cd38
                else None
            )
            if r is not None:
                out.refusals.append(r)
                continue
            bands = band_uses(m, subject.age_years)
            out.reference_bands += bands
            placed = next((b for b in bands if b.position), None)
            out.findings.append(self._count(m, placed.position if placed else None, placed))
        self._pattern(absolute.get("nonswitched_memory"), subject, out)
        return out

    def _count(self, m: Measurement, pos: str | None, band: ReferenceBandUse | None) -> Finding:
        where = POSITION_PHRASES.get(pos or "", "not placed against a band (none for this subset and age)")
        cuts = (band.low, band.high) if band else ()
        return measured(
            _COUNTS,
            pos or "no_band",
            f"{POPULATIONS[m.population].label}: {m.describe(cuts)}, {where}. In a cohort of 98 HSCT "
            "recipients (median 1066 days after HSCT), active cGVHD was associated with lower absolute "
            "CD19+, immature, transitional and switched memory B-cell counts.",
            ("transpl_int_2012_cgvhd",),
            m,
            caveats=("No numeric cut-off was published.",),
        )

    def _percent(self, m: Measurement) -> Finding:
        return measured(
            _PCT,
            "secondary",
            f"{POPULATIONS[m.population].label}: {m.describe()} (secondary to the absolute count).",
            ("blood_2011_cgvhd",),
            m,
            tags=("V-abs", "X"),
            caveats=(_PCT_CAVEAT,),
        )

    def _pattern(self, m: Measurement | None, subject: Subject, out: ContextOutput) -> None:
        if m is None:
            out.refusals.append(
                refuse(
                    _PATTERN,
                    "missing_input",
                    "No absolute IgM memory (CD27+ IgD+ IgM+) count "
                    "(population 'nonswitched_memory', cells/µL) was given.",
                    "transpl_int_2012_cgvhd",
                )
            )
            return
        if subject.igg_g_l is None or subject.igg_lower_limit_g_l is None:
            out.refusals.append(
                refuse(
                    _PATTERN,
                    "missing_companion_igg",
                    "This rule needs the IgG level and the "
                    "lab's lower reference limit (igg_g_l, igg_lower_limit_g_l).",
                    "transpl_int_2012_cgvhd",
                )
            )
            return
        low_igg = subject.igg_g_l < subject.igg_lower_limit_g_l
        level = (
            "absent"
            if m.value == 0
            else "below_inactive_group_value"
            if m.value < INACTIVE_IGM_MEMORY
            else "at_or_above_inactive_group_value"
        )
        matched = level != "at_or_above_inactive_group_value" and low_igg
        igg_word = "below" if low_igg else "not below"
        igg = format_value(subject.igg_g_l, (subject.igg_lower_limit_g_l,))
        lead = (
            f"IgM memory B cells: {m.describe((INACTIVE_IGM_MEMORY,))} ({level.replace('_', ' ')}; the "
            "cohort reported 0.4 x 10^6/L in inactive and 1.7 x 10^6/L without cGVHD, none in active "
            f"cGVHD); IgG {igg} g/L, {igg_word} the lab's lower limit."
        )
        tail = (
            " Absent or very low IgM memory B cells with low IgG: in cGVHD cohorts this pattern was "
            "associated with severe infections (functional-asplenia-like). Discuss with the transplant team."
            if matched
            else " The cohort's pattern (absent or very low IgM memory with low IgG) is not present."
        )
        out.findings.append(
            measured(
                _PATTERN,
                "pattern_present" if matched else "pattern_absent",
                lead + tail,
                ("transpl_int_2012_cgvhd",),
                m,
                thresholds=(
                    Threshold(
                        "inactive-cGVHD group value",
                        INACTIVE_IGM_MEMORY,
                        "cells_per_ul",
                        "<",
                        "transpl_int_2012_cgvhd",
                    ),
                    Threshold("lab IgG lower limit", subject.igg_lower_limit_g_l, "g_per_l", "<"),
                ),
                caveats=("0.4 x 10^6/L is a group value of the cited cohort, not a validated cut-off.",),
            )
        )
