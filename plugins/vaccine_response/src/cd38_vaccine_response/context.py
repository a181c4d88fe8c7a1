"""The ``vaccine_response`` context.

In the cited cohorts, antigen-specific antibody-secreting cells in blood peaked
5-8 days after vaccination (primed responders day 7, primary responses day 10),
a CD27++ CD20- CD19dim subset appeared 6-8 days after tetanus/diphtheria
vaccination, and the response was low again by day 11. This context places a
sample in that timeline so a raised plasmablast value can be read as the
expected surge rather than a change in disease. It never diagnoses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cd38.contexts import API_VERSION, Applicability, Citation, ContextOutput, cite
from cd38.interpretation import Finding, Refusal, Threshold
from cd38.measurement import Measurement, format_value
from cd38.subject import Subject

__all__ = ["CITATIONS", "VaccineResponseContext", "window_of"]

# The sources of cd38's own confounder table (CLINICAL.md section 4), taken from cd38's
# citation registry so that both always say the same thing.
_KEYS = ("halliley_2010", "blanchard_rohner_2009", "jacobi_2010", "vaccine_1994")
CITATIONS: tuple[Citation, ...] = cite(*_KEYS)

WINDOWS = (  # (category, first day, last day), days after vaccination, both inclusive
    ("days_0_to_4", 0, 4),
    ("days_5_to_8", 5, 8),
    ("days_9_to_14", 9, 14),
)
_STATEMENTS = {
    "days_0_to_4": (
        "before the 5-8 day peak of antibody-secreting cells seen in the cited cohorts; a surge may "
        "still be building."
    ),
    "days_5_to_8": (
        "inside the 5-8 day window in which antibody-secreting cells peaked in the cited cohorts; a "
        "raised plasmablast value here was the expected response there."
    ),
    "days_9_to_14": (
        "after the 5-8 day peak; in the cited cohorts the response was low again by day 11 (primary "
        "responses peaked later, about day 10)."
    ),
    "beyond_14_days": (
        "more than 14 days later; in the cited cohorts the surge was over by then, so it does not "
        "account for a raised plasmablast value."
    ),
}
PLASMABLASTS = ("cd38pos_igmneg", "plasmablasts")
DAYS = "vaccine_response.days_since_vaccination"
LEVEL = "vaccine_response.plasmablast_level"


def window_of(days: int) -> str:
    """The timeline category of a sample drawn ``days`` after vaccination."""
    for category, first, last in WINDOWS:
        if first <= days <= last:
            return category
    return "beyond_14_days"


class VaccineResponseContext:
    """Implements the cd38 context protocol (see cd38.contexts.api)."""

    api_version = API_VERSION
    name = "vaccine_response"
    version = "0.1.0"
    description = (
        "Places a sample in the post-vaccination plasmablast timeline (peak 5-8 days after "
        "vaccination in the cited cohorts)."
    )
    citations: Sequence[Citation] = CITATIONS
    rules: Mapping[str, str] = {
        DAYS: "days between vaccination and collection, against the 5-8 day peak",
        LEVEL: "plasmablast value against the lab's interval, read with the timeline",
    }
    trend_notes: Mapping[str, str] = {
        DAYS: "The sample moved to a different part of the post-vaccination timeline.",
    }

    def applies_to(self, subject: Subject) -> Applicability:
        if subject.vaccination_date is None:
            return Applicability(
                False, "missing_metadata", "This context needs the vaccination date (vaccination_date)."
            )
        return Applicability(True)

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput()
        if subject.collection_date is None or subject.vaccination_date is None:
            out.refusals.append(
                Refusal(
                    DAYS,
                    "missing_metadata",
                    "The collection date (collection_datetime) is needed to count days since vaccination.",
                )
            )
            return out
        days = (subject.collection_date - subject.vaccination_date).days
        category = window_of(days)
        out.findings.append(
            Finding(
                DAYS,
                category,
                f"Blood was drawn {days} days after vaccination, {_STATEMENTS[category]}",
                CITATIONS,
                ("V-abs",),
                float(days),
                (
                    Threshold("peak window start", 5, "days", ">="),
                    Threshold("peak window end", 8, "days", "<="),
                    Threshold("surge over", 14, "days", ">"),
                ),
                (
                    "Antigen-specific antibody-secreting cells were measured in the cohorts; a total "
                    "plasmablast gate also holds cells unrelated to the vaccine.",
                ),
            )
        )
        for m in [m for m in measurements if m.population in PLASMABLASTS][:1]:
            out.findings.append(self._level(m, days, category))
        return out

    def _level(self, m: Measurement, days: int, window: str) -> Finding:
        if m.lab_range is None:
            where, cat = "not placed against a range (no lab_range given)", "no_band"
        else:
            lo, hi = m.lab_range
            cat = (
                "below_lab_range"
                if m.value < lo
                else "above_lab_range"
                if m.value > hi
                else "within_lab_range"
            )
            where = f"{cat.split('_')[0]} the lab's interval ({format_value(lo)}-{format_value(hi)})"
        expected = (
            " In the cited cohorts, a surge at this time after vaccination was expected."
            if window == "days_5_to_8" and cat == "above_lab_range"
            else ""
        )
        return Finding(
            LEVEL,
            cat,
            f"Plasmablast-enriched cells: {m.describe(m.lab_range or ())}, {where}, {days} days after "
            f"vaccination.{expected}",
            cite("halliley_2010", "vaccine_1994"),
            ("V-abs",),
            m.value,
            inputs=(m,),
            uses_cd38=True,
        )
