"""`cd38.Subject` and `cd38.Therapy`: the metadata the clinical contexts need (CLINICAL.md section 6).

Every field is optional: None means "not recorded", and the rules that need a
field refuse or add a caveat instead of assuming a value. Unknown fields,
negative ages and impossible dates are errors on construction.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cd38._fields import as_dict, reject_unknown_fields
from cd38.errors import InvalidArgumentError

__all__ = ["DIAGNOSES", "DRUG_CLASSES", "THERAPY_CLASSES", "Subject", "Therapy", "months_between"]

THERAPY_CLASSES = (
    "anti_cd20",
    "anti_cd38",
    "corticosteroid",
    "calcineurin_inhibitor",
    "antiproliferative",
    "mtor_inhibitor",
    "anti_cd25",
    "lymphocyte_depleting",
    "anti_baff",
    "btk_inhibitor",
    "bcl2_inhibitor",
    "other_immunosuppressant",
    "chemotherapy",
    "other",
)

# Drug (generic name, lower case) -> therapy class.
DRUG_CLASSES: dict[str, str] = {
    **dict.fromkeys(["rituximab", "ocrelizumab", "ofatumumab", "obinutuzumab", "ublituximab"], "anti_cd20"),
    **dict.fromkeys(["daratumumab", "isatuximab", "cm313", "felzartamab", "mezagitamab"], "anti_cd38"),
    **dict.fromkeys(
        ["prednisone", "prednisolone", "methylprednisolone", "dexamethasone", "hydrocortisone", "budesonide"],
        "corticosteroid",
    ),
    **dict.fromkeys(["tacrolimus", "cyclosporine", "ciclosporin"], "calcineurin_inhibitor"),
    **dict.fromkeys(["mycophenolate mofetil", "mycophenolic acid", "azathioprine"], "antiproliferative"),
    **dict.fromkeys(["sirolimus", "everolimus"], "mtor_inhibitor"),
    "basiliximab": "anti_cd25",
    **dict.fromkeys(
        ["anti-thymocyte globulin", "atg", "thymoglobulin", "alemtuzumab"], "lymphocyte_depleting"
    ),
    "belimumab": "anti_baff",
    **dict.fromkeys(["ibrutinib", "acalabrutinib", "zanubrutinib"], "btk_inhibitor"),
    "venetoclax": "bcl2_inhibitor",
}

# Diagnosis codes the contexts understand, with accepted spellings.
DIAGNOSES: dict[str, tuple[str, ...]] = {
    "cll": ("cll", "chronic lymphocytic leukemia", "chronic lymphocytic leukaemia"),
    "mbl": ("mbl", "monoclonal b-cell lymphocytosis"),
    "multiple_myeloma": ("multiple_myeloma", "mm", "myeloma", "multiple myeloma"),
    "dlbcl": ("dlbcl", "diffuse large b-cell lymphoma"),
    "sle": ("sle", "systemic lupus erythematosus", "lupus"),
    "ssc": ("ssc", "systemic sclerosis"),
    "kidney_transplant": ("kidney_transplant", "ktx", "kidney transplant", "renal transplant"),
    "chronic_active_abmr": ("chronic_active_abmr", "caabmr", "chronic active abmr"),
    "allo_hsct": ("allo_hsct", "hsct", "allogeneic hsct", "allogeneic stem cell transplant"),
    "hiv": ("hiv",),
    "covid19": ("covid19", "covid-19", "covid"),
    "alopecia_areata": ("alopecia_areata", "aa", "alopecia areata"),
    "type1_diabetes": ("type1_diabetes", "t1d", "type 1 diabetes"),
    "solid_tumor": ("solid_tumor", "solid tumour", "solid tumor"),
}
_DIAGNOSIS_ALIASES = {alias: code for code, aliases in DIAGNOSES.items() for alias in aliases}

_CHOICES: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male", "other"),
    "specimen_type": ("peripheral_blood", "bone_marrow", "tissue"),
    "assay_type": ("b_subset_panel", "leukemia_lymphoma", "mrd", "ihc", "other"),
    "anticoagulant": ("edta", "heparin", "acd", "other"),
    "storage_temp": ("refrigerated", "ambient", "cryopreserved"),
    "pregnancy_status": ("pregnant", "postpartum", "not_pregnant"),
    "dsa_status": ("positive", "negative"),
    "ighv_status": ("mutated", "unmutated"),
    "mrd_status": ("negative", "positive"),
}
_CHOICE_ALIASES = {
    "pb": "peripheral_blood",
    "blood": "peripheral_blood",
    "bm": "bone_marrow",
    "b-subset panel": "b_subset_panel",
    "leukemia/lymphoma": "leukemia_lymphoma",
    "leukemia-lymphoma": "leukemia_lymphoma",
    "room_temperature": "ambient",
    "4c": "refrigerated",
}


def _to_date(value: Any, what: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise InvalidArgumentError(f"{what} must be a date (or ISO 'YYYY-MM-DD'), not {value!r}")


def _to_datetime(value: Any, what: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidArgumentError(f"{what} must be a datetime (or ISO 'YYYY-MM-DDTHH:MM'), not {value!r}")


def _number(value: Any, what: str, *, low: float = 0.0, high: float = math.inf) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgumentError(f"{what} must be a finite number, not {value!r}")
    if not low <= value <= high:
        raise InvalidArgumentError(f"{what} must be between {low:g} and {high:g}, not {value!r}")
    return float(value)


def add_months(d: date, months: int) -> date:
    """``d`` moved by whole calendar months (the day clamped to the month's length)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> float:
    """Elapsed months, counted as days / (365.25 / 12)."""
    return (end - start).days / (365.25 / 12)


@reject_unknown_fields
@dataclass(frozen=True)
class Therapy:
    """A therapy course: drug ``name``, ``start`` date, ``end`` (None = ongoing).

    ``drug_class`` is looked up from the name (rituximab -> anti_cd20, daratumumab ->
    anti_cd38, prednisone -> corticosteroid, ...); give it for drugs not in the table.
    ``dose`` is free text (e.g. "60 mg/day").
    """

    name: str
    start: date
    end: date | None = None
    drug_class: str | None = None
    dose: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidArgumentError(f"a therapy needs a drug name, not {self.name!r}")
        name = self.name.strip().lower()
        object.__setattr__(self, "name", name)
        start = _to_date(self.start, f"therapy {name!r} start")
        if start is None:
            raise InvalidArgumentError(f"therapy {name!r} needs a start date")
        object.__setattr__(self, "start", start)
        end = _to_date(self.end, f"therapy {name!r} end")
        if end is not None and end < start:
            raise InvalidArgumentError(f"therapy {name!r}: end {end} is before start {start}")
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "drug_class", self._resolve_class(name))

    def _resolve_class(self, name: str) -> str:
        given = self.drug_class
        if given is not None:
            given = given.strip().lower().replace("-", "_")
            if given not in THERAPY_CLASSES:
                raise InvalidArgumentError(
                    f"therapy {name!r}: drug_class must be one of {', '.join(THERAPY_CLASSES)}, not {given!r}"
                )
            return given
        if name not in DRUG_CLASSES:
            raise InvalidArgumentError(
                f"unknown drug {name!r}: give drug_class= one of {', '.join(THERAPY_CLASSES)}"
            )
        return DRUG_CLASSES[name]

    def exposure_within(self, ref: date, *, months: int = 0, days: int = 0) -> bool:
        """True when the course was running at ``ref`` or ended no earlier than the look-back window."""
        if self.start > ref:
            return False
        if self.end is None or self.end >= ref:
            return True
        since = add_months(ref, -months) - timedelta(days=days)
        return self.end >= since

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)


def _normalize_diagnoses(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        key = str(item).strip().lower()
        if key.startswith("other:") and len(key) > 6:
            out.append(key)
            continue
        code = _DIAGNOSIS_ALIASES.get(key) or _DIAGNOSIS_ALIASES.get(key.replace("_", " "))
        if code is None:
            raise InvalidArgumentError(
                f"unknown diagnosis {item!r}: use one of {', '.join(DIAGNOSES)} or 'other:<text>'"
            )
        out.append(code)
    return tuple(dict.fromkeys(out))


@reject_unknown_fields
@dataclass(frozen=True, kw_only=True)
class Subject:
    """Who and what a result comes from (CLINICAL.md section 6); every field optional.

    Dates accept ``date``/``datetime`` objects or ISO strings. ``diagnosis`` is one
    code or a list (see :data:`DIAGNOSES`; aliases such as "CLL", "MM", "KTx", "T1D"
    are accepted). ``therapies=None`` means the history was not recorded; ``[]``
    means none. ``collection_datetime`` is the reference time for every "within N
    days" rule. Give ``transplant_date`` or ``months_since_transplant``, and
    ``analysis_datetime`` or ``sample_age_hours``, not both.
    """

    age_years: float | None = None
    sex: str | None = None
    specimen_type: str | None = None
    assay_type: str | None = None
    lab_id: str | None = None
    panel_id: str | None = None
    cd38_clone: str | None = None
    cd38_fluorochrome: str | None = None
    gating_version: str | None = None
    diagnosis: tuple[str, ...] | str | None = None
    clonal_b_population: bool | None = None
    transplant_date: date | None = None
    months_since_transplant: float | None = None
    induction_agent: str | None = None
    maintenance_immunosuppression: str | None = None
    dsa_status: str | None = None
    therapies: tuple[Therapy, ...] | None = None
    vaccination_date: date | None = None
    recent_infection_date: date | None = None
    pregnancy_status: str | None = None
    pregnancy_trimester: int | None = None
    postpartum_weeks: float | None = None
    igg_g_l: float | None = None
    igg_lower_limit_g_l: float | None = None
    ighv_status: str | None = None
    tp53_fish: str | None = None
    il10_assay: bool | None = None
    mrd_status: str | None = None
    collection_datetime: datetime | None = None
    analysis_datetime: datetime | None = None
    sample_age_hours: float | None = None
    anticoagulant: str | None = None
    storage_temp: str | None = None

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "age_years", _number(self.age_years, "age_years", high=130))
        for name, choices in _CHOICES.items():
            s(self, name, _choice(getattr(self, name), name, choices))
        s(self, "diagnosis", _normalize_diagnoses(self.diagnosis))
        s(self, "collection_datetime", _to_datetime(self.collection_datetime, "collection_datetime"))
        s(self, "analysis_datetime", _to_datetime(self.analysis_datetime, "analysis_datetime"))
        for name in ("transplant_date", "vaccination_date", "recent_infection_date"):
            s(self, name, _to_date(getattr(self, name), name))
        for name in (
            "months_since_transplant",
            "postpartum_weeks",
            "igg_g_l",
            "igg_lower_limit_g_l",
            "sample_age_hours",
        ):
            s(self, name, _number(getattr(self, name), name))
        for name in ("clonal_b_population", "il10_assay"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), bool):
                raise InvalidArgumentError(f"{name} must be True, False or None")
        self._check_therapies()
        self._check_consistency()

    def _check_therapies(self) -> None:
        if self.therapies is None:
            return
        if isinstance(self.therapies, Therapy | str) or not isinstance(self.therapies, Sequence):
            raise InvalidArgumentError("therapies must be a list of cd38.Therapy")
        bad = [t for t in self.therapies if not isinstance(t, Therapy)]
        if bad:
            raise InvalidArgumentError(f"therapies must be cd38.Therapy objects, not {bad[0]!r}")
        object.__setattr__(self, "therapies", tuple(self.therapies))

    def _check_consistency(self) -> None:
        coll = self.collection_date
        if self.transplant_date is not None and self.months_since_transplant is not None:
            raise InvalidArgumentError("give transplant_date or months_since_transplant, not both")
        if self.analysis_datetime is not None and self.sample_age_hours is not None:
            raise InvalidArgumentError("give analysis_datetime or sample_age_hours, not both")
        if (
            self.analysis_datetime
            and self.collection_datetime
            and self.analysis_datetime < self.collection_datetime
        ):
            raise InvalidArgumentError(
                f"analysis_datetime {self.analysis_datetime} is before collection_datetime "
                f"{self.collection_datetime}"
            )
        for name in ("transplant_date", "vaccination_date", "recent_infection_date"):
            d = getattr(self, name)
            if coll is not None and d is not None and d > coll:
                raise InvalidArgumentError(f"{name} {d} is after the sample was collected ({coll})")
        if self.postpartum_weeks is not None and self.pregnancy_status != "postpartum":
            raise InvalidArgumentError("postpartum_weeks needs pregnancy_status='postpartum'")
        if self.pregnancy_trimester is not None and (
            self.pregnancy_status != "pregnant" or self.pregnancy_trimester not in (1, 2, 3)
        ):
            raise InvalidArgumentError(
                "pregnancy_trimester must be 1, 2 or 3 with pregnancy_status='pregnant'"
            )
        if self.pregnancy_status in ("pregnant", "postpartum") and self.sex == "male":
            raise InvalidArgumentError(f"pregnancy_status={self.pregnancy_status!r} with sex='male'")
        if self.igg_lower_limit_g_l is not None and self.igg_g_l is None:
            raise InvalidArgumentError("igg_lower_limit_g_l needs igg_g_l")

    # -- derived facts -------------------------------------------------------------
    @property
    def collection_date(self) -> date | None:
        return self.collection_datetime.date() if self.collection_datetime else None

    def reference_date(self) -> date:
        """The collection date, or today when it was not recorded."""
        return self.collection_date or date.today()

    def has_diagnosis(self, *codes: str) -> bool:
        return any(c in self.diagnoses for c in codes)

    @property
    def diagnoses(self) -> tuple[str, ...]:
        d = self.diagnosis
        return d if isinstance(d, tuple) else ()

    @property
    def clonal_b_disease(self) -> bool:
        return bool(self.clonal_b_population) or self.has_diagnosis("cll", "mbl")

    def transplant_months(self) -> float | None:
        if self.months_since_transplant is not None:
            return self.months_since_transplant
        if self.transplant_date is None or self.collection_date is None:
            return None
        return months_between(self.transplant_date, self.collection_date)

    def transplant_days(self) -> float | None:
        if self.transplant_date is not None and self.collection_date is not None:
            return float((self.collection_date - self.transplant_date).days)
        m = self.months_since_transplant
        return None if m is None else m * 365.25 / 12

    def hours_to_analysis(self) -> float | None:
        if self.sample_age_hours is not None:
            return self.sample_age_hours
        if self.analysis_datetime and self.collection_datetime:
            return (self.analysis_datetime - self.collection_datetime).total_seconds() / 3600
        return None

    def therapies_of(self, drug_class: str, *, months: int = 0, days: int = 0) -> list[Therapy]:
        """Courses of ``drug_class`` running at the reference date or ended within the window."""
        ref = self.reference_date()
        return [
            t
            for t in self.therapies or ()
            if t.drug_class == drug_class and t.exposure_within(ref, months=months, days=days)
        ]

    def comparability_key(self) -> tuple[str | None, str | None, str | None, str | None]:
        """(lab, panel, CD38 clone, gating version): results compare only within one key."""
        return (self.lab_id, self.panel_id, self.cd38_clone, self.gating_version)

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Subject:
        kw = dict(d)
        if kw.get("therapies") is not None:
            kw["therapies"] = [t if isinstance(t, Therapy) else Therapy(**t) for t in kw["therapies"]]
        return cls(**kw)


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    key = str(value).strip().lower()
    key = _CHOICE_ALIASES.get(key, key).replace(" ", "_").replace("-", "_")
    if key not in choices:
        raise InvalidArgumentError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return key
