"""The ``cll`` context: CD38 on CD19+CD5+ leukemic cells in diagnosed CLL (CLINICAL.md section 3.1).

The three bands (below 20 / 20-29 / 30 or more) are the product brief's scheme;
CLINICAL.md marks it as not validated [X], so they are labelled only by which
published single cut-offs a value lies above, never as risk groups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from cd38.contexts._rules import (
    BuiltinContext,
    companion,
    find,
    measured,
    not_recorded,
    refuse,
    require_gate,
    require_unit,
)
from cd38.contexts.api import Applicability, ContextOutput
from cd38.contexts.citations import cite
from cd38.errors import InvalidArgumentError
from cd38.interpretation import Finding, Refusal, Threshold
from cd38.measurement import Measurement, format_value
from cd38.subject import Subject

__all__ = ["CLLContext"]

ELIGIBILITY = "CD38 % of CLL cells is only interpretable in diagnosed CLL, measured on the clonal population."
ADJUNCT = (
    "CD38 is an adjunct; interpret it with IGHV mutation status, TP53/del(17p), FISH and clinical stage."
)
TREND_NOTE = (
    "CD38 status changed; CD38 can vary during the disease course (Hamblin 2002); confirm with the same "
    "lab, panel and specimen type."
)
IBRAHIM, DAMLE, KROEBER, CYTOMETRY_B_2006 = 20.0, 30.0, 7.0, 5.0
_BANDS = {
    "below_20": "below 20 % (below the Ibrahim cut-off)",
    "20_to_29": "20-29 % (above the Ibrahim, below the Damle cut-off)",
    "30_or_more": "≥30 % (above both)",
}
_COHORT_CAVEATS = (
    "IGHV status and CD38 were discordant in 28.3 % (41/145) of patients, and CD38 changed over time in "
    "10/41 (Hamblin 2002).",
    "In multivariate analysis CD38 lost significance to IGHV, TP53 and stage (Oscier 2002).",
    "Current guidance stresses IGHV and FISH (Blood 2016 systematic review); the iwCLL 2018 guideline's "
    "content on CD38 was not verified.",
)
BAND_CAVEAT = (
    "The three bands are the product brief's scheme and not a validated one: they combine single-cut-off "
    "studies (Ibrahim 2001, Damle 1999)."
)
_PARENT_STATEMENT = (
    "CD38 in CLL is measured as % of CD19+CD5+ (clonal) leukemic cells, never of all lymphocytes "
    "or of all CD19+ B cells."
)


def band_of(value: float) -> str:
    """The brief's three bands, each cut-off inclusive at its lower bound."""
    if value >= DAMLE:
        return "30_or_more"
    if value >= IBRAHIM:
        return "20_to_29"
    return "below_20"


class CLLContext(BuiltinContext):
    name = "cll"
    description = (
        "CD38 on CD19+CD5+ leukemic cells in diagnosed CLL, placed against published cut-offs "
        "(Kröber 7 %, Ibrahim 20 %, Damle 30 %); an adjunct to IGHV, TP53 and FISH."
    )
    citations = cite(
        "damle_1999",
        "ibrahim_2001",
        "kroeber_2002",
        "oscier_2002",
        "haematologica_2002_cll",
        "durig_2002",
        "cytometry_b_2006_cll",
        "ghia_2003",
        "hamblin_2002",
        "blood_2016_review",
        "iwcll_2018",
        "mayo_rbcs",
    )
    rules: ClassVar[Mapping[str, str]] = {
        "cll.cd38_band": "below 20 / 20-29 / 30 or more % CD38+ of CD19+CD5+ cells, labelled by cut-off",
        "cll.kroeber_7": "value at or above the 7 % Kröber 2002 cut-off",
        "cll.cd38_status": "CD38 positive/negative at the configured cut-off (default 30 %, Damle 1999)",
        "cll.above_5": "value above the 5 % cut-off of a 78-patient cohort (Cytometry B 2006)",
        "cll.bimodal_pattern": "a distinct CD38+ subpopulation (bimodal histogram), Ghia 2003",
    }
    trend_notes: ClassVar[Mapping[str, str]] = dict.fromkeys(
        ("cll.cd38_band", "cll.cd38_status", "cll.kroeber_7"), TREND_NOTE
    )

    def __init__(self, positivity_cutoff: float = DAMLE) -> None:
        if not 0 < float(positivity_cutoff) < 100:
            raise InvalidArgumentError(
                f"positivity_cutoff must be a percentage in (0, 100), not {positivity_cutoff}"
            )
        self.positivity_cutoff = float(positivity_cutoff)

    def applies_to(self, subject: Subject) -> Applicability:
        if not subject.has_diagnosis("cll"):
            return Applicability(False, "wrong_diagnosis", ELIGIBILITY)
        if subject.assay_type == "b_subset_panel":
            return Applicability(
                False,
                "wrong_assay",
                ELIGIBILITY + " B-subset panels are not indicated for the "
                "evaluation of lymphoproliferative disorders (Mayo RBCS).",
            )
        if subject.assay_type != "leukemia_lymphoma":
            return Applicability(
                False,
                "assay_type_missing",
                ELIGIBILITY + " The assay must be leukemia/lymphoma "
                "immunophenotyping (assay_type='leukemia_lymphoma').",
            )
        return Applicability(True)

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput(
            companion_tests=[
                companion(
                    "IGHV mutation status",
                    "CD38 is an adjunct to IGHV (Hamblin 2002, Oscier 2002).",
                    "hamblin_2002",
                    "oscier_2002",
                    tags=("V-abs",),
                    required=True,
                ),
                companion(
                    "TP53 / del(17p) and FISH",
                    "Current guidance stresses IGHV and FISH.",
                    "blood_2016_review",
                    tags=("V-abs",),
                    required=True,
                ),
            ]
        )
        m, refusal = self._input(measurements)
        if refusal is not None:
            out.refusals.append(refusal)
            return out
        assert m is not None
        caveats = self._caveats(m, subject)
        out.findings += self._findings(m, caveats)
        return out

    def _input(self, measurements: Sequence[Measurement]) -> tuple[Measurement | None, Refusal | None]:
        rule = "cll.cd38_band"
        cands = find(measurements, "clonal_cd5_cd38pos")
        if not cands:
            wrong = find(measurements, "cd38pos_igmpos", "cd38pos_igmneg", "b_cells", "lymphocytes")
            if wrong:
                return None, refuse(
                    rule,
                    "wrong_denominator",
                    f"{wrong[0].population}: {_PARENT_STATEMENT}",
                    "ibrahim_2001",
                    "kroeber_2002",
                )
            return None, refuse(
                rule,
                "missing_input",
                "No CD38+ % of CD19+CD5+ clonal cells (population 'clonal_cd5_cd38pos') was given.",
                "ibrahim_2001",
            )
        m = cands[0]
        for r in (
            require_unit(rule, m, ("percent_of_parent",), " The cohorts used % of leukemic cells."),
            None
            if m.denominator == "clonal_cd5"
            else refuse(
                rule,
                "wrong_denominator",
                f"{m.describe()}: {_PARENT_STATEMENT}",
                "ibrahim_2001",
                "kroeber_2002",
            ),
            require_gate(
                rule,
                m,
                ("above_negative_control", "bright", "multi_epitope", "cd38_independent"),
                "Not valid for this rule.",
            ),
        ):
            if r is not None:
                return None, r
        return m, None

    def _caveats(self, m: Measurement, subject: Subject) -> tuple[str, ...]:
        extra = []
        if m.gate_definition == "bright":
            extra.append(
                "The CD38 gate was set as 'bright'; the cited cohorts counted cells positive against a "
                "negative control, and a bright gate captures fewer cells."
            )
        if subject.specimen_type == "bone_marrow":
            extra.append(
                "Bone marrow specimen: the CD38+ subset was enriched in bone marrow (Ghia 2003); compare "
                "only with the same specimen type."
            )
        extra += not_recorded(
            (
                ("specimen type", subject.specimen_type),
                ("CD38 clone", subject.cd38_clone),
                ("CD38 fluorochrome", subject.cd38_fluorochrome),
                ("sample age", subject.hours_to_analysis()),
                ("collection date", subject.collection_datetime),
                ("therapy history", subject.therapies),
            )
        )
        return (*_COHORT_CAVEATS, *extra)

    def _shown(self, m: Measurement) -> str:
        """The value for a sentence, never rounded across one of this context's cut-offs."""
        return format_value(m.value, (CYTOMETRY_B_2006, KROEBER, IBRAHIM, DAMLE, self.positivity_cutoff))

    def _findings(self, m: Measurement, caveats: tuple[str, ...]) -> list[Finding]:
        x, unit, shown = m.value, "percent_of_parent", self._shown(m)
        out = [self._band(m, caveats)]
        if x >= KROEBER:
            out.append(
                measured(
                    "cll.kroeber_7",
                    "at_or_above_7",
                    f"{shown} % of CLL cells were CD38+, at or above 7 %. In Kröber et al. 2002 (n=157), "
                    "7 % was the optimal cut-off (maximally selected log-rank statistic): the one at which "
                    f"CD38 was most strongly associated with outcome. {ADJUNCT}",
                    ("kroeber_2002",),
                    m,
                    thresholds=(Threshold("Kröber 2002", KROEBER, unit, ">=", "kroeber_2002"),),
                    caveats=caveats,
                )
            )
        if x > CYTOMETRY_B_2006:
            out.append(
                measured(
                    "cll.above_5",
                    "above_5",
                    f"{shown} % of CLL cells were CD38+. In a cohort of 78 patients (Cytometry B 2006), "
                    f"CD38 above 5 % was associated with an adverse outcome, values of 5-30 % included. "
                    f"{ADJUNCT}",
                    ("cytometry_b_2006_cll",),
                    m,
                    thresholds=(
                        Threshold("Cytometry B 2006", CYTOMETRY_B_2006, unit, ">", "cytometry_b_2006_cll"),
                    ),
                    caveats=caveats,
                )
            )
        if m.pattern == "bimodal":
            out.append(
                measured(
                    "cll.bimodal_pattern",
                    "distinct_cd38pos_subpopulation",
                    "The CD38 histogram showed a distinct CD38+ subpopulation (bimodal). In Ghia et al. "
                    "2003, any distinct CD38+ subpopulation, even a small one, was associated with an "
                    f"adverse outcome. {ADJUNCT}",
                    ("ghia_2003",),
                    m,
                    caveats=caveats,
                )
            )
        out.append(self._status(m, caveats))
        return out

    def _band(self, m: Measurement, caveats: tuple[str, ...]) -> Finding:
        x = m.value
        cat = band_of(x)
        ibrahim = (
            "In Ibrahim et al. 2001 (n=218; 43 % of patients at or above 20 %), ≥20 % was associated with "
            "shorter survival; Dürig et al. 2002 (n=133) also used 20 %"
        )
        tail = {
            "below_20": f"{ibrahim}; this value is below that cut-off.",
            "20_to_29": f"{ibrahim}. It is below the ≥30 % CD38-positivity criterion of Damle et al. 1999.",
            "30_or_more": f"{ibrahim}. It is CD38-positive by the Damle 1999 criterion (≥30 %), also used "
            "by Oscier 2002 (>30 %) and a 155-patient cohort (Haematologica 2002).",
        }[cat]
        return measured(
            "cll.cd38_band",
            cat,
            f"{self._shown(m)} % of CLL cells were CD38+: {_BANDS[cat]}. {tail} {ADJUNCT}",
            ("ibrahim_2001", "damle_1999", "oscier_2002", "haematologica_2002_cll", "durig_2002"),
            m,
            tags=("V-abs", "S", "X"),
            thresholds=(
                Threshold("Ibrahim 2001", IBRAHIM, "percent_of_parent", ">=", "ibrahim_2001"),
                Threshold("Damle 1999", DAMLE, "percent_of_parent", ">=", "damle_1999"),
            ),
            caveats=(*caveats, BAND_CAVEAT),
        )

    def _status(self, m: Measurement, caveats: tuple[str, ...]) -> Finding:
        cut = self.positivity_cutoff
        positive = m.value >= cut
        study = {
            DAMLE: ("the Damle 1999 criterion", "damle_1999"),
            IBRAHIM: ("the Ibrahim 2001 cut-off", "ibrahim_2001"),
            KROEBER: ("the Kröber 2002 cut-off", "kroeber_2002"),
        }.get(cut)
        basis = study[0] if study else f"a configured cut-off of {cut:g} % that no cited cohort used"
        key = study[1] if study else "damle_1999"
        word = "positive" if positive else "negative"
        return measured(
            "cll.cd38_status",
            word,
            f"{self._shown(m)} % of CLL cells were CD38+: CD38-{word} by {basis} (≥{cut:g} %). {ADJUNCT}",
            (key,),
            m,
            thresholds=(Threshold("CD38 positivity", cut, "percent_of_parent", ">=", key),),
            caveats=caveats,
        )
