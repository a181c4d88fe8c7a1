"""The ``breg`` context: the CD19+ CD24hi CD38hi phenotype (CLINICAL.md section 3.5).

Only ever "phenotypic CD24hi CD38hi frequency above/below the band"; it is the
transitional gate, not a proof of regulatory function. Suppressed in pregnancy,
up to 6 months post-partum, within 12 months of anti-CD20 therapy and in clonal
B disease (the last by cd38's cross-context blocker).
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
    first_or_refuse,
    lab_position,
    lab_thresholds,
    measured,
)
from cd38.contexts.api import Applicability, ContextOutput
from cd38.contexts.citations import cite
from cd38.interpretation import Blocked, Finding
from cd38.measurement import Measurement
from cd38.subject import Subject

__all__ = ["BregContext"]

RULE = "breg.cd24hi_cd38hi_frequency"
POSTPARTUM_MONTHS = 6
ANTI_CD20_MONTHS = 12
_ANCHORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alopecia_areata": (
        "In alopecia areata (22 patients vs 13 controls, Lee 2024), CD19+ CD24hi CD38hi cells and "
        "their IL-10+ subset were lower than in controls.",
        ("lee_2024",),
    ),
    "type1_diabetes": (
        "In type 1 diabetes, CD24hi CD38hi was 5.6±3.5 % vs 6.9±3.3 % of B cells in controls (n=62 vs "
        "74) with less IL-10 (Clin Exp Immunol 2020), and IL-10+ CD24hi CD38hi cells were lower in "
        "children (n=29 vs 14, El-Mokhtar 2020); the groups overlap widely and there is no cut-off.",
        ("t1d_cei_2020", "el_mokhtar_2020"),
    ),
    "sle": (
        "In SLE, CD24hi CD38hi % did not differ from controls while IL-10+ Breg % was reduced, "
        "independent of activity (Heinemann 2016): frequency and function diverged.",
        ("heinemann_2016",),
    ),
}


class BregContext(BuiltinContext):
    name = "breg"
    description = (
        "Phenotypic CD19+ CD24hi CD38hi ('Breg') frequency in alopecia areata, type 1 diabetes, SLE and "
        "after pregnancy; a phenotype, never a measure of regulatory function."
    )
    citations = cite(
        "lee_2024",
        "t1d_cei_2020",
        "el_mokhtar_2020",
        "heinemann_2016",
        "lima_2016",
        "blair_2010",
        "sanz_2019",
    )
    rules: ClassVar[Mapping[str, str]] = {
        RULE: "phenotypic CD24hi CD38hi frequency against the lab's own interval"
    }

    def applies_to(self, subject: Subject) -> Applicability:
        if subject.has_diagnosis(*_ANCHORS) or subject.pregnancy_status in ("pregnant", "postpartum"):
            return Applicability(True)
        return Applicability(
            False,
            "wrong_diagnosis",
            "The CD24hi CD38hi phenotype rules apply in alopecia areata, "
            "type 1 diabetes, SLE or around pregnancy.",
        )

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput()
        m = first_or_refuse(
            measurements,
            ("transitional",),
            out,
            RULE,
            "No CD24hi CD38hi value (population 'transitional', % of CD19+ B cells) was given.",
            "sanz_2019",
        )
        if m is None:
            return out
        r = check_input(
            RULE,
            m,
            units=("percent_of_parent",),
            parents=(("b_cells",), "the phenotype is a % of CD19+ B cells.", "t1d_cei_2020"),
            gate=(
                BRIGHT_GATES,
                "The phenotype is CD24hi CD38hi (bright); a gate just above the negative control also "
                "captures naive cells.",
            ),
        )
        if r is not None:
            out.refusals.append(r)
            return out
        suppressed = self._suppression(subject)
        if suppressed is not None:
            out.blocked.append(suppressed)
        else:
            out.findings.append(self._finding(m, subject))
        return out

    def _suppression(self, subject: Subject) -> Blocked | None:
        if subject.pregnancy_status == "pregnant":
            return Blocked(
                RULE,
                "pregnancy",
                "Not interpreted during pregnancy: most B subsets were lower in the "
                "3rd trimester (Lima 2016).",
                cite("lima_2016"),
            )
        weeks = subject.postpartum_weeks
        if subject.pregnancy_status == "postpartum" and (weeks is None or weeks * 7 / (365.25 / 12) <= 6):
            return Blocked(
                RULE,
                "physiological_postpartum",
                "Not interpreted up to 6 months post-partum: CD24hi "
                "CD38hi % was higher post-partum than in non-pregnant women (physiological, Lima 2016).",
                cite("lima_2016"),
            )
        if subject.therapies_of("anti_cd20", months=ANTI_CD20_MONTHS):
            return Blocked(
                RULE,
                "anti_cd20_repopulation",
                "Not interpreted within 12 months of anti-CD20 therapy: "
                "repopulation is transitional-dominated (Roll 2006).",
                cite("roll_2006"),
            )
        return None

    def _finding(self, m: Measurement, subject: Subject) -> Finding:
        pos = lab_position(m)
        where = (
            POSITION_PHRASES[pos]
            if pos
            else "not placed against a band (no interval exists; "
            "healthy controls in one study: 6.9±3.3 % of B cells, context only)"
        )
        anchors = [a for code, a in _ANCHORS.items() if subject.has_diagnosis(code)]
        text = " ".join(a[0] for a in anchors) or "No disease-specific cohort applies to this subject."
        keys = tuple(k for a in anchors for k in a[1])
        function = (
            "An IL-10 assay was recorded; read regulatory function from it, not from this frequency."
            if subject.il10_assay
            else "Regulatory function was not measured."
        )
        caveats = [
            "CD24hi CD38hi is the transitional gate: a phenotype, not proof of function; IL-10 needs "
            "stimulation and intracellular staining (Blair 2010, not retrieved; Sanz 2019)."
        ]
        if subject.has_diagnosis("alopecia_areata"):
            caveats.append(
                "A second alopecia areata study (Park et al., n=17 vs 8) was seen only as a summary page."
            )
        relabel = anti_cd20_relabel(m, pos or "no_band", anti_cd20_exposed(subject))
        return measured(
            RULE,
            relabel.category,
            f"Phenotypic CD24hi CD38hi frequency: {m.describe(m.lab_range or ())}, {where}. {text} "
            f"{function}{relabel.suffix}",
            (*(keys or ("t1d_cei_2020",)), "sanz_2019", *relabel.keys),
            m,
            thresholds=lab_thresholds(m),
            caveats=caveats,
        )
