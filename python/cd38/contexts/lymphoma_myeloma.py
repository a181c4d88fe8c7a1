"""The ``lymphoma_myeloma`` context (CLINICAL.md sections 3.2 and 3.7).

DLBCL: only the lab's own CD38 HIGH/LOW call is passed through (the cohort's
numeric cut-off was not in the abstract). Myeloma: MRD status only, never CD38
levels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from cd38.contexts._rules import BuiltinContext, companion, first_or_refuse, measured, refuse
from cd38.contexts.api import Applicability, ContextOutput
from cd38.contexts.citations import cite
from cd38.interpretation import Finding
from cd38.measurement import Measurement
from cd38.subject import Subject

__all__ = ["LymphomaMyelomaContext"]

_DLBCL = "lymphoma_myeloma.dlbcl_cd38_call"
_MRD = "lymphoma_myeloma.mrd_status"
_MM_CD38 = "lymphoma_myeloma.myeloma_cd38_level"


class LymphomaMyelomaContext(BuiltinContext):
    name = "lymphoma_myeloma"
    description = (
        "DLBCL: the lab's CD38 HIGH/LOW call against a 137-patient cohort. Myeloma: MRD status against "
        "meta-analyses; CD38 levels are not reported (anti-CD38 therapy masks them)."
    )
    citations = cite(
        "dlbcl_2021",
        "munshi_2020",
        "munshi_2017",
        "haematologica_8207",
        "ash_image_bank_2023",
        "pojero_2016",
        "miyamoto_2019",
    )
    rules: ClassVar[Mapping[str, str]] = {
        _DLBCL: "passes through the lab's own CD38 HIGH/LOW call on DLBCL cells",
        _MRD: "myeloma MRD status (negative/positive)",
        _MM_CD38: "refuses CD38 levels in myeloma",
    }

    def applies_to(self, subject: Subject) -> Applicability:
        if subject.has_diagnosis("dlbcl", "multiple_myeloma"):
            return Applicability(True)
        return Applicability(False, "wrong_diagnosis", "These rules apply only in DLBCL or multiple myeloma.")

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput()
        if subject.has_diagnosis("dlbcl"):
            self._dlbcl(measurements, out)
        if subject.has_diagnosis("multiple_myeloma"):
            self._myeloma(measurements, subject, out)
        return out

    def _dlbcl(self, measurements: Sequence[Measurement], out: ContextOutput) -> None:
        m = first_or_refuse(
            measurements,
            ("tumor_cd38pos",),
            out,
            _DLBCL,
            "No CD38 result on DLBCL tumour cells (population 'tumor_cd38pos' with the lab's lab_call) "
            "was given.",
            "dlbcl_2021",
        )
        if m is None:
            return
        if m.lab_call is None:
            out.refusals.append(
                refuse(
                    _DLBCL,
                    "no_published_cutoff",
                    "The cohort's numeric CD38 cut-off was not in "
                    "the retrieved abstract, so a number cannot be classified; give the lab's own "
                    "HIGH/LOW call (lab_call).",
                    "dlbcl_2021",
                )
            )
            return
        out.findings.append(
            measured(
                _DLBCL,
                f"lab_call_{m.lab_call}",
                f"The lab called CD38 on tumour cells {m.lab_call.upper()}. In a 137-patient DLBCL cohort "
                "(2021), a cut-off derived by classification tree separated CD38-HIGH (n=37) from LOW "
                "(n=100); HIGH was associated with shorter progression-free survival (4-year PFS 31.6 % vs "
                "60.7 %; adjusted HR 2.15 for PFS, 2.54 for OS).",
                ("dlbcl_2021",),
                m,
                caveats=("The cohort's numeric cut-off is unknown; the call is the reporting lab's.",),
            )
        )

    def _myeloma(self, measurements: Sequence[Measurement], subject: Subject, out: ContextOutput) -> None:
        for m in measurements:
            if m.uses_cd38:
                out.refusals.append(
                    refuse(
                        _MM_CD38,
                        "myeloma_reports_mrd_only",
                        f"{m.population}: in myeloma this context reports MRD status only, not CD38 levels.",
                        "munshi_2020",
                    )
                )
                break
        out.companion_tests.append(
            companion(
                "CD38-independent plasma-cell gating (CD229 with CD138; CD38 multi-epitope antibody)",
                "Needed for MRD during and after anti-CD38 therapy. CD229 with CD138 was the best "
                "replacement for CD38; CD319 and CD54 overlap with myeloid cells (Pojero 2016). CD138 and "
                "cytoplasmic Ig light chains also help; VS38c is a standard option whose evidence was not "
                "retrieved.",
                "pojero_2016",
                "cytometry_b_2018_cd229",
                "miyamoto_2019",
                tags=("V-abs",),
            )
        )
        if subject.mrd_status is None:
            out.refusals.append(
                refuse(_MRD, "missing_input", "No MRD status (mrd_status) was given.", "munshi_2020")
            )
            return
        caveats, keys = [], ["munshi_2020", "munshi_2017"]
        if subject.therapies_of("anti_cd38", months=6):
            keys.append("ash_image_bank_2023")
            caveats.append(
                "Anti-CD38 therapy is recorded: persistent CD38-negative myeloma was missed when gating "
                "only on CD38+ CD138+ (ASH Image Bank 2023); MRD needs CD38-independent gating."
            )
        out.findings.append(
            Finding(
                _MRD,
                f"mrd_{subject.mrd_status}",
                f"MRD status: {subject.mrd_status}. In a meta-analysis of 44 studies (8 098 patients, Munshi "
                "2020), MRD negativity was associated with longer progression-free survival (HR 0.33) and "
                "overall survival (HR 0.45) than MRD positivity; an earlier meta-analysis gave HR 0.41 and "
                "0.57 (Munshi 2017).",
                cite(*keys),
                ("V-abs",),
                None,
                (),
                tuple(caveats),
            )
        )
