"""The ``sle_ssc`` context: plasmablasts and CD38 in SLE and systemic sclerosis (CLINICAL.md section 3.6).

Plasmablast levels may be compared with a band and followed as a trend; CD38
levels (ABC) are never mapped to disease activity: in SLE they did not
correlate with SLEDAI-2K. CM313 trial results are informational only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from cd38.contexts._rules import (
    BRIGHT_GATES,
    POSITION_PHRASES,
    BuiltinContext,
    anti_cd20_exposed,
    anti_cd20_relabel,
    find,
    lab_position,
    lab_thresholds,
    measured,
    refuse,
    require_gate,
)
from cd38.contexts.api import Applicability, ContextOutput
from cd38.contexts.bands import band_uses
from cd38.contexts.citations import cite
from cd38.interpretation import Finding
from cd38.measurement import Measurement
from cd38.subject import Subject

__all__ = ["SLESScContext"]

_PB = "sle_ssc.plasmablast_level"
_CD38 = "sle_ssc.cd38_level"
_SSC = "sle_ssc.ssc_cd38_context"
_CM313 = "sle_ssc.cm313_trial"


class SLESScContext(BuiltinContext):
    name = "sle_ssc"
    description = (
        "Plasmablast levels in SLE and systemic sclerosis against a band and as a trend; CD38 levels "
        "are not mapped to disease activity. CM313 trial results for information."
    )
    citations = cite("burns_2021", "jacobi_2010", "agarbati_2022", "zhao_2025_cm313", "caraux_2010")
    rules: ClassVar[Mapping[str, str]] = {
        _PB: "plasmablast-enriched (IgM-negative, CD38-bright) level against a band or the lab's interval",
        _CD38: "refuses to map CD38 levels to disease activity",
        _SSC: "SSc: higher CD38 on plasmablasts/plasma cells and more CD3+CD38+ T cells (no cut-off)",
        _CM313: "CM313 (anti-CD38) phase Ib/IIa results, informational",
    }

    def applies_to(self, subject: Subject) -> Applicability:
        if subject.has_diagnosis("sle", "ssc"):
            return Applicability(True)
        return Applicability(False, "wrong_diagnosis", "These rules apply only in SLE or systemic sclerosis.")

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput()
        for m in measurements:
            if m.unit == "abc":
                out.refusals.append(
                    refuse(
                        _CD38,
                        "cd38_level_not_activity_marker",
                        f"CD38 level on {m.population} is not mapped to disease activity: in SLE, "
                        "raised CD38 levels did not correlate with SLEDAI-2K or serology (Burns "
                        "2021, n=56).",
                        "burns_2021",
                    )
                )
        pbs = [m for m in find(measurements, "cd38pos_igmneg", "plasmablasts") if m.unit != "abc"]
        for m in pbs[:2]:
            r = require_gate(
                _PB,
                m,
                BRIGHT_GATES,
                "Plasmablasts are CD38-bright; a gate just above the negative control also captures "
                "switched memory and activated cells.",
            )
            if r is not None:
                out.refusals.append(r)
                continue
            bands = band_uses(m, subject.age_years)
            out.reference_bands += bands
            pos = lab_position(m) or next((b.position for b in bands if b.position), None)
            cuts = m.lab_range or next(((b.low, b.high) for b in bands if b.position), ())
            out.findings.append(self._plasmablast(m, pos, cuts, subject))
        if subject.has_diagnosis("ssc"):
            out.findings.append(
                Finding(
                    _SSC,
                    "literature_context",
                    "In 46 patients with systemic sclerosis vs 32 controls (Agarbati 2022), CD38 was higher "
                    "on blood plasmablasts/plasma cells and CD3+ CD38+ T cells were more frequent; no "
                    "cut-off was given.",
                    cite("agarbati_2022"),
                    ("V-abs",),
                )
            )
        if any(t.name == "cm313" for t in subject.therapies or ()):
            out.findings.append(
                Finding(
                    _CM313,
                    "informational",
                    "CM313 (anti-CD38) in SLE, phase Ib/IIa (NCT05465707): 40 patients in four dose cohorts "
                    "(2, 4, 8, 16 mg/kg) randomized 4:1 against placebo; SRI-4 response at day 57 was "
                    "62.5 % (8 mg/kg) and 71.4 % (16 mg/kg) vs 37.5 % with placebo, with more infections "
                    "at 8 and 16 mg/kg (Zhao 2025). Informational only; CD38 results are masked during "
                    "anti-CD38 therapy.",
                    cite("zhao_2025_cm313"),
                    ("V-abs", "X"),
                )
            )
        return out

    def _plasmablast(
        self, m: Measurement, pos: str | None, cuts: tuple[float, ...], subject: Subject
    ) -> Finding:
        where = POSITION_PHRASES.get(
            pos or "", "not placed against a band (none for this subset, unit and age)"
        )
        sle = (
            " In SLE cohorts, HLA-DRhi CD27++ CD20- CD19dim plasmablasts were associated with disease "
            "activity and anti-dsDNA (Jacobi 2010, n=25), while CD38 levels did not correlate with "
            "SLEDAI-2K (Burns 2021, n=56); this result is a level to follow as a trend, not an activity "
            "score."
            if subject.has_diagnosis("sle")
            else ""
        )
        relabel = anti_cd20_relabel(m, pos or "no_band", anti_cd20_exposed(subject))
        return measured(
            _PB,
            relabel.category,
            f"Plasmablast-enriched (IgM-negative, CD38-bright) cells: {m.describe(cuts)}, {where}.{sle}"
            f"{relabel.suffix}",
            ("jacobi_2010", "burns_2021", "caraux_2010", *relabel.keys),
            m,
            tags=("V-abs", "X"),
            thresholds=lab_thresholds(m),
            caveats=(
                "IgA+ plasmablasts predominate at steady state (Caraux 2010).",
                "Recent vaccination or infection raises plasmablasts transiently.",
            ),
        )
