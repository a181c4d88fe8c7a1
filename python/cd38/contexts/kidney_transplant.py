"""The ``kidney_transplant`` context (CLINICAL.md section 3.3).

Blood: transitional B cells at about 3 months after transplant, placed only
relative to the lab's own interval or the patient's earlier values (no numeric
cut-off was published). Tissue: CD38+ cells/mm² on biopsy IHC in chronic active
ABMR against the 93/mm² anchor; a blood value is never compared with it.
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
    check_input,
    find,
    lab_position,
    lab_thresholds,
    measured,
    not_recorded,
    refuse,
    require_unit,
)
from cd38.contexts.api import Applicability, ContextOutput
from cd38.contexts.citations import cite
from cd38.errors import InvalidArgumentError
from cd38.interpretation import Finding, Refusal, Threshold
from cd38.measurement import Measurement, format_value
from cd38.subject import DRUG_CLASSES, Subject

__all__ = ["KidneyTransplantContext"]

HUI_CUTOFF = 93.0
_TRANS = "kidney_transplant.transitional_month3"
_PB = "kidney_transplant.plasmablast_kinetics"
_IHC = "kidney_transplant.biopsy_cd38_density"
_WORD = {**POSITION_PHRASES, "below_lab_range": "low (below the lab's interval)"}


class KidneyTransplantContext(BuiltinContext):
    name = "kidney_transplant"
    description = (
        "Transitional B cells about 3 months after kidney transplant (Svachova 2016, Shabir 2015), and "
        "CD38+ cell density on biopsy IHC in chronic active ABMR (Hui 2025). Not a rejection diagnosis."
    )
    citations = cite("svachova_2016", "shabir_2015", "hui_2025")
    rules: ClassVar[Mapping[str, str]] = {
        _TRANS: "transitional B cells ~3 months after transplant, against the lab interval or own baseline",
        _PB: "IgM- CD38hi CD27hi plasmablast kinetics after transplant (context)",
        _IHC: "CD38+ cells/mm² on biopsy IHC in chronic active ABMR against 93/mm²",
    }

    def __init__(self, month3_window: tuple[float, float] = (2.5, 3.5)) -> None:
        lo, hi = (float(x) for x in month3_window)
        if not 0 <= lo < hi:
            raise InvalidArgumentError(
                f"month3_window must be (low, high) months with low < high, not {month3_window}"
            )
        # "About 3 months": by default a value that rounds to month 3.
        self.month3_window = (lo, hi)

    def applies_to(self, subject: Subject) -> Applicability:
        if subject.has_diagnosis("kidney_transplant", "chronic_active_abmr"):
            return Applicability(True)
        return Applicability(
            False,
            "wrong_diagnosis",
            "The kidney-transplant rules apply only to kidney transplant "
            "recipients (diagnosis 'kidney_transplant').",
        )

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput()
        tissue = [m for m in measurements if m.population == "tissue_cd38pos" or m.unit == "cells_per_mm2"]
        blood = [m for m in measurements if m not in tissue]
        self._blood(blood, tissue, subject, out)
        if tissue:
            self._tissue(tissue[0], subject, out)
        return out

    # -- blood: transitional B cells at month 3 -------------------------------------------
    def _blood(
        self, blood: list[Measurement], tissue: list[Measurement], subject: Subject, out: ContextOutput
    ) -> None:
        for m in tissue:
            if m.population != "tissue_cd38pos":
                out.refusals.append(
                    refuse(
                        _TRANS,
                        "wrong_unit",
                        f"{m.population} was given in cells/mm² (tissue); "
                        "the transitional rule uses blood flow cytometry (% or cells/µL).",
                        "svachova_2016",
                    )
                )
        trans = find(blood, "transitional", "cd38pos_igmpos")
        if not trans:
            if not tissue:
                out.refusals.append(
                    refuse(
                        _TRANS,
                        "missing_input",
                        "No transitional B-cell value (population "
                        "'transitional', IgMhi CD38hi CD24hi within CD19+) was given.",
                        "svachova_2016",
                    )
                )
            return
        months = subject.transplant_months()
        if months is None:
            out.refusals.append(
                refuse(
                    _TRANS,
                    "missing_metadata",
                    "Months since transplant are needed (give "
                    "transplant_date with collection_datetime, or months_since_transplant).",
                    "svachova_2016",
                )
            )
            return
        lo, hi = self.month3_window
        if not lo <= months < hi:
            out.refusals.append(
                refuse(
                    _TRANS,
                    "outside_time_window",
                    f"The sample is {months:.1f} months after "
                    "transplant; the cited association concerns month 3. Follow the value as a "
                    "trend instead.",
                    "svachova_2016",
                )
            )
            return
        for m in trans:
            r = self._check(m)
            if r is not None:
                out.refusals.append(r)
            else:
                out.findings.append(self._transitional(m, months, subject))
        for m in find(blood, "plasmablasts", "cd38pos_igmneg")[:1]:
            if self._check(m) is None:
                out.findings.append(
                    measured(
                        _PB,
                        "context_only",
                        f"Plasmablast-enriched cells: {m.describe()}. In the 98-patient cohort, IgM- CD38hi "
                        "CD27hi plasmablasts showed kinetics similar to transitional cells (a fall up to "
                        "month 3, partial repopulation by 1 year); no association with rejection was stated "
                        "for them.",
                        ("svachova_2016",),
                        m,
                    )
                )

    def _check(self, m: Measurement) -> Refusal | None:
        return check_input(
            _TRANS,
            m,
            units=("percent_of_parent", "cells_per_ul"),
            parents=(
                ("b_cells",),
                "the cohort measured transitional cells within CD19+ B cells.",
                "svachova_2016",
            ),
            gate=(
                BRIGHT_GATES,
                "The cohort gated IgMhi CD38hi CD24hi cells; a gate just above the "
                "negative control also captures naive and activated cells.",
            ),
        )

    def _transitional(self, m: Measurement, months: float, subject: Subject) -> Finding:
        pos = lab_position(m)
        level = (
            _WORD[pos]
            if pos
            else "not placed against a band (no reference band for transitional cells was "
            "retrieved; compare with the patient's pre-transplant and earlier values)"
        )
        caveats = [
            "No numeric cut-off was published; only the relative position is given.",
            "Supporting cohort (n=73): a higher transitional (CD19+ CD24hi CD38hi) frequency, modelled as "
            "time-dependent, was protective against acute rejection, HR 0.60 (0.37-0.95) (Shabir 2015).",
        ]
        if m.population == "cd38pos_igmpos":
            caveats.append(
                "CD38+ IgM+ is the 2-marker approximation of the cohort's IgMhi CD38hi CD24hi gate."
            )
        induction = (subject.induction_agent or "").strip().lower()
        if DRUG_CLASSES.get(induction) == "anti_cd20":
            caveats.append(
                "Anti-CD20 induction: in the cited cohorts repopulation after depletion started with "
                "immature/transitional cells (Roll 2006)."
            )
        caveats += not_recorded(
            (
                ("induction agent", subject.induction_agent),
                ("maintenance immunosuppression", subject.maintenance_immunosuppression),
                ("sensitization/DSA status", subject.dsa_status),
            )
        )
        relabel = anti_cd20_relabel(m, pos or "no_band", anti_cd20_exposed(subject))
        return measured(
            _TRANS,
            relabel.category,
            f"At ~{months:.1f} months post-transplant, transitional B cells "
            f"({m.describe(m.lab_range or ())}) are {level}. In a 98-patient cohort, lower month-3 "
            "transitional counts were associated with higher rejection risk. This is not a rejection "
            f"diagnosis.{relabel.suffix}",
            ("svachova_2016", "shabir_2015", *relabel.keys),
            m,
            thresholds=lab_thresholds(m),
            caveats=caveats,
        )

    # -- tissue: biopsy IHC ---------------------------------------------------------------
    def _tissue(self, m: Measurement, subject: Subject, out: ContextOutput) -> None:
        r = require_unit(
            _IHC,
            m,
            ("cells_per_mm2",),
            " The 93/mm² anchor is a biopsy IHC density, and a blood flow value is never compared with it.",
        )
        if r is None and m.population != "tissue_cd38pos":
            r = refuse(
                _IHC,
                "wrong_population",
                f"{m.population} is not a biopsy CD38+ density (population 'tissue_cd38pos').",
                "hui_2025",
            )
        if r is None and subject.specimen_type not in (None, "tissue"):
            r = refuse(
                _IHC,
                "wrong_specimen",
                f"The specimen is {subject.specimen_type}; the anchor is biopsy immunohistochemistry.",
                "hui_2025",
            )
        if r is None and not subject.has_diagnosis("chronic_active_abmr"):
            r = refuse(
                _IHC,
                "wrong_diagnosis",
                "The 93/mm² anchor was derived in biopsy-proven chronic active "
                "antibody-mediated rejection (diagnosis 'chronic_active_abmr').",
                "hui_2025",
            )
        if r is not None:
            out.refusals.append(r)
            return
        above = m.value >= HUI_CUTOFF
        out.findings.append(
            measured(
                _IHC,
                "at_or_above_93" if above else "below_93",
                f"Biopsy CD38+ cell density was {format_value(m.value, (HUI_CUTOFF,))}/mm², "
                f"{'at or above' if above else 'below'} 93/mm². In 67 patients with biopsy-proven chronic "
                "active ABMR (Hui et al. 2025; cohort median 89/mm²), ≥93/mm² was associated with graft "
                "loss (sensitivity 92.9 %, specificity 66.0 %; adjusted HR 1.96, 1.03-3.72).",
                ("hui_2025",),
                m,
                tags=("V-abs", "X"),
                thresholds=(Threshold("Hui 2025", HUI_CUTOFF, "cells_per_mm2", ">=", "hui_2025"),),
                caveats=("Tissue immunohistochemistry, not blood flow cytometry.",),
            )
        )
