"""Cross-context confounder warnings (CLINICAL.md section 4) and analytical blockers (section 3.2).

These apply to every context, built-in or third-party: cd38 runs them on the
subject and on every finding a context returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cd38.contexts.citations import cite
from cd38.interpretation import Blocked, Finding, InterpretationWarning
from cd38.measurement import MITIGATED_GATE_DEFINITIONS, POPULATIONS, Measurement
from cd38.subject import Subject

__all__ = ["ANTI_CD38_STATEMENT", "BlockerResult", "apply_blockers", "confounder_warnings"]

ANTI_CD38_STATEMENT = (
    "CD38 measurements are unreliable during and for months after "
    "anti-CD38 antibody therapy (epitope masking)."
)
_ANTI_CD38_DETAIL = (
    " A case was CD38-negative with standard antibodies 6 weeks after the last daratumumab dose, and "
    "persistent CD38-negative myeloma was missed when gating only on CD38+ CD138+. CD38 results are "
    "reported only when the gate used a multi-epitope CD38 antibody or CD38-independent gating (e.g. "
    "CD229 with CD138)."
)
VACCINATION_DAYS = 14
INFECTION_DAYS = (14, 21)
ANTI_CD20_MONTHS = 24
STEROID_DAYS = 2  # "steroid dose in the last 24-48 h", at the day resolution of therapy dates
SAMPLE_HOURS = (24.0, 48.0)


def _w(
    code: str, text: str, *keys: str, tags: tuple[str, ...] = ("V-abs",), severity: str = "caution"
) -> InterpretationWarning:
    return InterpretationWarning(code, text, cite(*keys), tags, severity)


def confounder_warnings(
    subject: Subject, measurements: Sequence[Measurement], anti_cd38_lookback_months: int = 6
) -> list[InterpretationWarning]:
    """Every section-4 warning that applies to this subject."""
    out: list[InterpretationWarning] = []
    out += _timing(subject)
    out += _therapies(subject, anti_cd38_lookback_months)
    out += _physiology(subject)
    out += _sample(subject)
    if subject.clonal_b_disease:
        out.append(
            _w(
                "clonal_b_population",
                "A clonal B population (CLL/MBL) is recorded: clonal cells fall inside the CD38+ IgM+ gate, "
                "so transitional and CD24hi CD38hi ('Breg') results are not interpreted (Damle 1999 "
                "studied IgM+ B-CLL).",
                "damle_1999",
            )
        )
    if subject.age_years is None and measurements:
        out.append(
            _w(
                "age_not_recorded",
                "Age was not recorded; reference bands are age-specific, so none are shown.",
                "arup_3002216",
                tags=("V",),
            )
        )
    return out


def _timing(subject: Subject) -> list[InterpretationWarning]:
    out = []
    ref = subject.reference_date()
    timed = subject.vaccination_date or subject.recent_infection_date or subject.therapies
    if subject.collection_date is None and timed:
        out.append(
            InterpretationWarning(
                "collection_date_not_recorded",
                "The collection date was not recorded; vaccination, infection and therapy dates were "
                "compared with today.",
                (),
                ("V",),
            )
        )
    # Without a collection date the reference is today, so a date can lie ahead of it.
    vaccinated = None if subject.vaccination_date is None else (ref - subject.vaccination_date).days
    if vaccinated is not None and 0 <= vaccinated <= VACCINATION_DAYS:
        out.append(
            _w(
                "recent_vaccination",
                f"Vaccination {vaccinated} days before collection: plasmablast % may be transiently raised. "
                "In the cited cohorts antigen-specific antibody-secreting cells peaked 5-8 days after "
                "influenza vaccination (primed responders day 7, primary responses day 10), and a CD27++ "
                "CD20- CD19dim subset appeared 6-8 days after tetanus/diphtheria vaccination.",
                "halliley_2010",
                "blanchard_rohner_2009",
                "jacobi_2010",
                "vaccine_1994",
            )
        )
    if subject.recent_infection_date is not None:
        days = (ref - subject.recent_infection_date).days
        if 0 <= days <= INFECTION_DAYS[0]:
            out.append(
                _w(
                    "recent_infection",
                    f"Acute infection {days} days before collection: plasmablast % may be transiently raised "
                    "(in the cited cohort antibody-secreting cells peaked at day 7-8 of illness).",
                    "front_immunol_2017_infection",
                )
            )
        elif 0 <= days <= INFECTION_DAYS[1]:
            out.append(
                _w(
                    "recent_infection",
                    f"Acute infection {days} days before collection: plasmablast % may still be raised; in "
                    "the cited cohort antibody-secreting cells were largely gone after day 14.",
                    "front_immunol_2017_infection",
                )
            )
    return out


def _therapies(subject: Subject, anti_cd38_months: int) -> list[InterpretationWarning]:
    out = []
    if subject.therapies_of("anti_cd38", months=anti_cd38_months):
        out.append(
            _w(
                "anti_cd38_epitope_masking",
                ANTI_CD38_STATEMENT
                + _ANTI_CD38_DETAIL
                + " Daratumumab (IgG1 kappa) on CD38+ hematogones caused artifactual kappa restriction.",
                "haematologica_8207",
                "ash_image_bank_2023",
                "cytometry_b_2019_kappa",
                "miyamoto_2019",
                "pojero_2016",
                "cytometry_b_2018_cd229",
                tags=("V", "V-abs"),
                severity="do_not_interpret",
            )
        )
    if subject.therapies_of("anti_cd20", months=ANTI_CD20_MONTHS):
        out.append(
            _w(
                "anti_cd20_recent",
                "Anti-CD20 therapy within 24 months: depletion lasts about 6-9 months, during which "
                "circulating B cells are mainly CD20- plasmablasts; repopulation starts with CD38hi CD24hi "
                "CD10+ immature/transitional cells, and CD27+ memory stayed below 50 % of baseline for more "
                "than 2 years in the cited cohorts. High transitional or plasmablast values are relabelled "
                "as the expected pattern. B-cell subset panels are meant for reconstitution after recovery, "
                "not for monitoring depletion (Mayo, ARUP: use CD19/CD20 counts for that).",
                "roll_2006",
                "leandro_2013",
                "blood_2006_rituximab",
                "mayo_rbcs",
                "arup_3002216",
                tags=("V-abs", "X"),
            )
        )
    if subject.therapies_of("corticosteroid", days=STEROID_DAYS):
        out.append(
            _w(
                "recent_corticosteroid",
                "Corticosteroid within the last 48 h: prefer absolute counts. After 60 mg prednisone the "
                "B-cell % of lymphocytes rose from 21 % to 45 % at 6 h while absolute B cells fell.",
                "yu_1974",
            )
        )
    return out


def _physiology(subject: Subject) -> list[InterpretationWarning]:
    if subject.pregnancy_status == "pregnant":
        return [
            _w(
                "pregnancy",
                "Pregnancy: most B subsets were lower in the 3rd trimester and on delivery day than in "
                "non-pregnant women; CD24hi CD38hi results are not interpreted during pregnancy.",
                "lima_2016",
            )
        ]
    if subject.pregnancy_status == "postpartum":
        return [
            _w(
                "postpartum",
                "Post-partum: CD24hi CD38hi % was higher post-partum than in non-pregnant women "
                "(physiological).",
                "lima_2016",
            )
        ]
    return []


def _sample(subject: Subject) -> list[InterpretationWarning]:
    out = []
    hours = subject.hours_to_analysis()
    if hours is not None and hours > SAMPLE_HOURS[1]:
        out.append(
            _w(
                "sample_age_over_48h",
                f"Analysed {hours:.0f} h after collection: outside lab stability; do not interpret. Labs "
                "require analysis within 48 h.",
                "lao_2024",
                "jim_2018",
                "arup_3002216",
                "mayo_rbcs",
                tags=("V-abs", "V"),
                severity="do_not_interpret",
            )
        )
    elif hours is not None and hours > SAMPLE_HOURS[0]:
        out.append(
            _w(
                "sample_age_over_24h",
                f"Analysed {hours:.0f} h after collection: storage of 24 h or more changes lymphocyte "
                "subsets (EDTA at room temperature for 24-48 h changes CD19+/CD20+ %); interpret with "
                "caution.",
                "lao_2024",
                "jim_2018",
            )
        )
    if subject.storage_temp == "ambient":
        out.append(
            _w(
                "ambient_storage",
                "Stored at ambient temperature: ARUP accepts refrigerated specimens only for this panel.",
                "arup_3002216",
                tags=("V",),
            )
        )
    if subject.storage_temp == "cryopreserved":
        out.append(
            _w(
                "cryopreserved",
                "Cryopreserved sample: delayed processing plus cryopreservation roughly doubled B % and "
                "reduced IgD+ memory in the cited studies.",
                "lao_2024",
                "jim_2018",
            )
        )
    if subject.anticoagulant == "heparin" and subject.storage_temp == "refrigerated":
        out.append(
            _w(
                "heparin_refrigerated",
                "Heparin at 4 °C changed more lymphocyte subsets during storage than EDTA in the cited "
                "study.",
                "jim_2018",
                "lao_2024",
            )
        )
    return out


@dataclass
class BlockerResult:
    kept: list[Finding]
    blocked: list[Blocked]


def _cd38_inputs(f: Finding) -> list[Measurement]:
    return [m for m in f.inputs if m.uses_cd38]


def _transitional_like(f: Finding) -> bool:
    return any(POPULATIONS[m.population].transitional_like for m in f.inputs if m.population in POPULATIONS)


def apply_blockers(
    findings: Sequence[Finding], subject: Subject, anti_cd38_lookback_months: int = 6
) -> BlockerResult:
    """Move findings that an analytical blocker invalidates into ``blocked``."""
    res = BlockerResult([], [])
    anti_cd38 = bool(subject.therapies_of("anti_cd38", months=anti_cd38_lookback_months))
    hours = subject.hours_to_analysis()
    too_old = hours is not None and hours > SAMPLE_HOURS[1]
    for f in findings:
        blocked = _block_reason(f, subject, anti_cd38, too_old)
        if blocked is not None:
            res.blocked.append(blocked)
            continue
        if anti_cd38 and f.cd38_dependent:
            used = sorted({m.gate_definition or "" for m in _cd38_inputs(f)})
            f = f.with_caveat(
                "Anti-CD38 antibody therapy is recorded; this CD38 result is reported because its gate used "
                f"{' / '.join(used)} (CD38 epitope masking does not apply to that gating)."
            )
        res.kept.append(f)
    return res


def _block_reason(f: Finding, subject: Subject, anti_cd38: bool, too_old: bool) -> Blocked | None:
    if too_old and f.inputs:
        return Blocked(
            f.rule,
            "sample_outside_stability",
            "The sample was analysed more than 48 h after collection: outside lab stability; "
            "not interpreted.",
            cite("lao_2024", "jim_2018"),
        )
    if anti_cd38 and f.cd38_dependent:
        mitigated = (
            f.inputs
            and all(m.gate_definition in MITIGATED_GATE_DEFINITIONS for m in _cd38_inputs(f))
            and _cd38_inputs(f)
        )
        if not mitigated:
            return Blocked(
                f.rule,
                "anti_cd38_epitope_masking",
                ANTI_CD38_STATEMENT,
                cite("haematologica_8207", "ash_image_bank_2023"),
            )
    if subject.clonal_b_disease and _transitional_like(f):
        return Blocked(
            f.rule,
            "clonal_b_population",
            "With a clonal B population (CLL/MBL) the CD38+ IgM+ and CD24hi CD38hi gates contain clonal "
            "cells, so they are not interpretable as transitional or 'Breg' cells.",
            cite("damle_1999"),
        )
    return None
