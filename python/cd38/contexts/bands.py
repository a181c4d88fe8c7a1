"""Reference bands for healthy people (CLINICAL.md section 2), each with its source and age range.

Lab age brackets are read as completed age: "8 d-1 mo" covers day 8 up to (not
including) 2 months, "2-4 y" covers 2 up to 5 years. Entries from cohorts whose
age span is not stated as paediatric apply from 16 years, so that below 16 a
subset without a paediatric band shows no band at all (section 2 rule). Mean ±
SD entries are context only and never place a value below or above anything.
Bands that were not retrieved (transitional CD38+IgM+, the 10-15 y and >= 16 y
plasmablast percentages, Morbach 2010 percentiles) are simply absent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cd38.contexts.citations import CITATIONS
from cd38.interpretation import ReferenceBandUse
from cd38.measurement import Measurement

__all__ = ["BANDS", "CAVEAT", "Band", "band_uses", "bands_for", "position"]

CAVEAT = (
    "Reference band from {source}. It was generated with that lab's panel, gating and antibody clones, "
    "and it is not transferable. There is no standardized reference interval for these subsets. Compare "
    "against your own lab's interval and against your own previous results from the same lab and panel."
)

_D = 1 / 365.25
_M = 1 / 12
INF = math.inf


@dataclass(frozen=True)
class Band:
    population: str
    unit: str
    parent: str | None
    age_min: float  # years, inclusive
    age_max: float  # years, exclusive
    age_label: str
    low: float
    high: float
    source: str  # citation key
    source_label: str
    phenotype: str
    kind: str = "interval"

    def covers(self, age_years: float) -> bool:
        return self.age_min <= age_years < self.age_max


_PAED = [  # (label, min, max) in years
    ("0-7 d", 0.0, 8 * _D),
    ("8 d-1 mo", 8 * _D, 2 * _M),
    ("2-4 mo", 2 * _M, 5 * _M),
    ("5-8 mo", 5 * _M, 9 * _M),
    ("9-14 mo", 9 * _M, 15 * _M),
    ("15-23 mo", 15 * _M, 2.0),
    ("2-4 y", 2.0, 5.0),
    ("5-9 y", 5.0, 10.0),
    ("10-15 y", 10.0, 16.0),
]
_ARUP_PB = ("arup_3002216", "ARUP Laboratories test 3002216")
_ARUP_B = ("arup_2008901", "ARUP Laboratories test 2008901")
_CARAUX = ("caraux_2010", "Caraux et al., Haematologica 2010 (adults, n=106)")
_T1D = ("t1d_cei_2020", "Clin Exp Immunol 2020 type 1 diabetes study, healthy controls (n=74)")
_PB_PHENO = "CD38+ IgM- ('Plasmablasts CD38+IgM-')"


def _paediatric(pop: str, unit: str, parent: str | None, values: list[tuple[float, float]]) -> list[Band]:
    src, label = _ARUP_PB
    return [
        Band(pop, unit, parent, lo_age, hi_age, age, lo, hi, src, label, _PB_PHENO)
        for (age, lo_age, hi_age), (lo, hi) in zip(_PAED, values, strict=False)
    ]


def _adult(
    pop: str,
    unit: str,
    parent: str | None,
    lo: float,
    hi: float,
    src: tuple[str, str],
    pheno: str,
    kind: str = "interval",
    label: str = ">=16 y",
) -> Band:
    return Band(pop, unit, parent, 16.0, INF, label, lo, hi, src[0], src[1], pheno, kind)


BANDS: list[Band] = [
    # Plasmablasts CD38+IgM- (ARUP 3002216)
    _adult("cd38pos_igmneg", "cells_per_ul", None, 1, 8, _ARUP_PB, _PB_PHENO),
    *_paediatric(
        "cd38pos_igmneg",
        "percent_of_parent",
        "b_cells",
        [(0.2, 3.2), (0.2, 2.7), (0.4, 3.3), (0.2, 4.0), (0.4, 5.5), (0.5, 3.0), (0.6, 4.0), (0.6, 5.3)],
    ),
    *_paediatric(
        "cd38pos_igmneg",
        "cells_per_ul",
        None,
        [(0, 10), (0, 30), (0, 40), (0, 60), (0, 30), (10, 40), (10, 50), (0, 30), (0, 20)],
    ),
    # Activated CD21low CD38-, CD20+ B (ARUP 3002216)
    _adult("cd21low", "percent_of_parent", "b_cells", 1.2, 9.0, _ARUP_PB, "Activated CD21low CD38-"),
    _adult("cd21low", "cells_per_ul", None, 3, 26, _ARUP_PB, "Activated CD21low CD38-"),
    _adult("cd20_b_cells", "cells_per_ul", None, 110, 450, _ARUP_PB, "CD20+ B"),
    _adult("cd20_b_cells", "percent_of_parent", "b_cells", 96.0, 100.0, _ARUP_PB, "CD20+ B"),
    # CD19+ B and memory subsets (ARUP 2008901)
    _adult("b_cells", "percent_of_parent", "lymphocytes", 6, 28, _ARUP_B, "CD19+ B cells"),
    _adult("b_cells", "cells_per_ul", None, 94, 588, _ARUP_B, "CD19+ B cells"),
    _adult(
        "switched_memory", "percent_of_parent", "b_cells", 4, 40, _ARUP_B, "Class-switched memory CD27+ IgD-"
    ),
    _adult("switched_memory", "cells_per_ul", None, 7, 155, _ARUP_B, "Class-switched memory CD27+ IgD-"),
    _adult(
        "nonswitched_memory", "percent_of_parent", "b_cells", 3, 35, _ARUP_B, "Non-switched memory CD27+ IgD+"
    ),
    # Caraux 2010, adults: mean +- SD, context only (different gates: see phenotype)
    _adult(
        "transitional",
        "cells_per_ul",
        None,
        6,
        6,
        _CARAUX,
        "Immature/transitional CD10+ CD27- CD38+",
        "mean_sd",
        "adults",
    ),
    _adult("naive", "cells_per_ul", None, 125, 90, _CARAUX, "Naive CD10- CD27- CD38-", "mean_sd", "adults"),
    _adult(
        "plasmablasts",
        "cells_per_ul",
        None,
        2.1,
        2.1,
        _CARAUX,
        "Plasma cells CD10- CD27++ CD38++ (decreases with age)",
        "mean_sd",
        "adults",
    ),
    # CD24hi CD38hi % of B cells in healthy controls of a T1D study: context only
    _adult(
        "transitional",
        "percent_of_parent",
        "b_cells",
        6.9,
        3.3,
        _T1D,
        "CD24hi CD38hi",
        "mean_sd",
        "healthy controls (age span not stated)",
    ),
]


def bands_for(m: Measurement, age_years: float | None) -> list[Band]:
    """The bands for a measurement at an age; none when the age is unknown or not covered."""
    if age_years is None:
        return []
    return [
        b
        for b in BANDS
        if b.population == m.population
        and b.unit == m.unit
        and (m.unit != "percent_of_parent" or b.parent == m.denominator)
        and b.covers(age_years)
    ]


def position(value: float, low: float, high: float) -> str:
    """below_band / within_band / above_band, the band's limits inclusive."""
    if value < low:
        return "below_band"
    if value > high:
        return "above_band"
    return "within_band"


def band_uses(m: Measurement, age_years: float | None) -> list[ReferenceBandUse]:
    out = []
    for b in bands_for(m, age_years):
        pos = position(m.value, b.low, b.high) if b.kind == "interval" else None
        out.append(
            ReferenceBandUse(
                population=b.population,
                unit=b.unit,
                parent=b.parent,
                low=b.low,
                high=b.high,
                kind=b.kind,
                age_range=b.age_label,
                phenotype=b.phenotype,
                source=CITATIONS[b.source],
                caveat=CAVEAT.format(source=b.source_label),
                value=m.value,
                position=pos,
            )
        )
    return out
