"""`cd38.Measurement`: one population value, typed from a lab report or converted from a gating result.

The canonical population ids are those of the B-cell panel (``b_cells``, the
CD38 x IgM quadrants, ``transitional``, ``plasmablasts``, ``clonal_cd5`` ...)
plus a few the contexts need (CD8 T-cell CD38, tissue CD38 density). Rules only
match canonical ids; :data:`POPULATIONS` describes each one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cd38._fields import as_dict, reject_unknown_fields
from cd38.errors import InvalidArgumentError

if TYPE_CHECKING:
    import polars as pl

    from cd38.gating.result import GatingResult

__all__ = [
    "GATE_DEFINITIONS",
    "MITIGATED_GATE_DEFINITIONS",
    "POPULATIONS",
    "UNITS",
    "Measurement",
    "PopulationInfo",
    "format_value",
    "measurements_from_result",
    "measurements_from_table",
]

UNITS = ("percent_of_parent", "cells_per_ul", "abc", "cells_per_mm2")
UNIT_LABELS = {
    "percent_of_parent": "%",
    "cells_per_ul": "cells/µL",
    "abc": "CD38 molecules/cell (ABC)",
    "cells_per_mm2": "cells/mm²",
}
GATE_DEFINITIONS = ("bright", "above_negative_control", "multi_epitope", "cd38_independent")
# Gate definitions that stay valid under anti-CD38 antibody therapy (CLINICAL.md 3.2).
MITIGATED_GATE_DEFINITIONS = frozenset({"multi_epitope", "cd38_independent"})
_GATE_ALIASES = {
    "hi": "bright",
    "cd38hi": "bright",
    "cd38_bright": "bright",
    "above_control": "above_negative_control",
    "cd38me": "multi_epitope",
    "cd38_multi_epitope": "multi_epitope",
    "cd38independent": "cd38_independent",
}
LAB_CALLS = ("high", "low")
PATTERNS = ("unimodal", "bimodal")


@dataclass(frozen=True)
class PopulationInfo:
    """A canonical population: its accepted denominators and whether a CD38 gate defines it."""

    id: str
    label: str
    parents: tuple[str, ...]
    cd38_defined: bool
    transitional_like: bool = False  # inside the transitional/"Breg" gate, which clonal B cells invade


def _p(id: str, label: str, parents: tuple[str, ...], cd38: bool, trans: bool = False) -> PopulationInfo:
    return PopulationInfo(id, label, parents, cd38, trans)


_LYMPH = ("lymphocytes", "viable")
POPULATIONS: dict[str, PopulationInfo] = {
    p.id: p
    for p in [
        _p("singlets", "singlets", (), False),
        _p("viable", "viable cells", ("singlets",), False),
        _p("lymphocytes", "lymphocytes", ("singlets", "viable"), False),
        _p("t_cells", "T cells (CD3+)", _LYMPH, False),
        _p("b_cells", "B cells (CD3- CD19+)", _LYMPH, False),
        _p("cd20_b_cells", "CD20+ B cells", ("b_cells",), False),
        _p(
            "cd38pos_igmneg", "CD38+ IgM- B cells (plasmablast-enriched when CD38-bright)", ("b_cells",), True
        ),
        _p(
            "cd38pos_igmpos",
            "CD38+ IgM+ B cells (transitional approximation when CD38-bright)",
            ("b_cells",),
            True,
            True,
        ),
        _p("cd38neg_igmpos", "CD38- IgM+ B cells", ("b_cells",), True),
        _p("cd38neg_igmneg", "CD38- IgM- B cells", ("b_cells",), True),
        _p(
            "transitional",
            "transitional B cells (CD24hi CD38hi; the 'Breg' phenotype)",
            ("b_cells",),
            True,
            True,
        ),
        _p("plasmablasts", "plasmablasts (CD27hi CD38hi)", ("b_cells",), True),
        _p("naive", "naive B cells (CD27- IgD+)", ("b_cells",), False),
        _p("switched_memory", "class-switched memory B cells (CD27+ IgD-)", ("b_cells",), False),
        _p("nonswitched_memory", "non-switched (IgM) memory B cells (CD27+ IgD+)", ("b_cells",), False),
        _p("double_negative", "double-negative B cells (CD27- IgD-)", ("b_cells",), False),
        _p("cd21low", "CD21low (CD38-) B cells", ("b_cells",), True),
        _p("clonal_cd5", "CD19+ CD5+ (clonal) B cells", ("b_cells",), False),
        _p("clonal_cd5_cd38pos", "CD38+ cells among CD19+ CD5+ clonal cells", ("clonal_cd5",), True),
        _p("cd8_t_cells", "CD8+ T cells", ("t_cells", *_LYMPH), False),
        _p("cd8_cd38pos", "CD38+ cells among CD8+ T cells", ("cd8_t_cells",), True),
        _p("cd8_hladr_cd38hi", "HLA-DR+ CD38hi cells among CD8+ T cells", ("cd8_t_cells",), True),
        _p("tumor_cells", "tumour cells", (), False),
        _p("tumor_cd38pos", "CD38+ cells among tumour cells", ("tumor_cells",), True),
        _p("tissue_cd38pos", "CD38+ cells on biopsy immunohistochemistry", (), True),
    ]
}


def _side(value: float, cut: float) -> int:
    return (value > cut) - (value < cut)


def format_value(value: float, cuts: Iterable[float] = ()) -> str:
    """``value`` for a sentence: three significant figures, at most one decimal from 10
    up (19.5549 -> "19.6", 0.23456 -> "0.235", 2470.6 -> "2471"). More decimals are
    kept when rounding would put it on the other side of (or onto) one of ``cuts``,
    so 29.96 against a 30 % cut-off reads "29.96", not "30". The finding's ``value``
    field keeps full precision; this is only for the text."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    digits = min(digits, 1) if abs(value) >= 10 else digits
    limits = [float(c) for c in cuts]
    while digits < 12:
        text = f"{value:.{digits}f}"
        if all(_side(float(text), c) == _side(value, c) for c in limits):
            break
        digits += 1
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def normalize_gate_definition(value: str | None) -> str | None:
    if value is None:
        return None
    key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    key = _GATE_ALIASES.get(key, key)
    if key not in GATE_DEFINITIONS:
        raise InvalidArgumentError(
            f"gate_definition must be one of {', '.join(GATE_DEFINITIONS)} (or None), not {value!r}"
        )
    return key


@reject_unknown_fields
@dataclass(frozen=True)
class Measurement:
    """One value: ``population`` (a canonical id), ``value`` in ``unit``.

    ``unit``: ``percent_of_parent``, ``cells_per_ul``, ``abc`` (CD38 antibody-binding
    capacity, molecules per cell) or ``cells_per_mm2`` (tissue). ``parent`` is the
    denominator of a percentage (default: the population's canonical parent).
    ``gate_definition`` says how the CD38 gate was set: ``bright``,
    ``above_negative_control``, ``multi_epitope`` or ``cd38_independent``; None means
    not stated, and CD38 rules then refuse. ``lab_range`` is the reporting lab's
    own interval, ``lab_call`` its own high/low call, ``pattern`` the CD38
    histogram shape (unimodal/bimodal) when the report gives one.
    """

    population: str
    value: float
    unit: str
    parent: str | None = None
    gate_definition: str | None = None
    lab_range: tuple[float, float] | None = None
    lab_call: str | None = None
    pattern: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.population, str) or not self.population.strip():
            raise InvalidArgumentError(f"population must be a non-empty string, not {self.population!r}")
        object.__setattr__(self, "population", self.population.strip())
        self._check_value()
        if self.unit not in UNITS:
            hint = (
                " (MFI is not accepted: intensities are not comparable across labs)"
                if "mfi" in str(self.unit).lower()
                else ""
            )
            raise InvalidArgumentError(f"unit must be one of {', '.join(UNITS)}, not {self.unit!r}{hint}")
        if self.unit == "percent_of_parent" and self.value > 100:
            raise InvalidArgumentError(
                f"{self.population}: a percentage cannot exceed 100 (got {self.value})"
            )
        if self.parent is not None and self.unit != "percent_of_parent":
            raise InvalidArgumentError(f"{self.population}: parent is only meaningful for percent_of_parent")
        object.__setattr__(self, "gate_definition", normalize_gate_definition(self.gate_definition))
        self._check_extras()

    def _check_value(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise InvalidArgumentError(f"{self.population}: value must be a number, not {self.value!r}")
        v = float(self.value)
        if not math.isfinite(v) or v < 0:
            raise InvalidArgumentError(
                f"{self.population}: value must be finite and >= 0, not {self.value!r}"
            )
        object.__setattr__(self, "value", v)

    def _check_extras(self) -> None:
        if self.lab_range is not None:
            lo, hi = (float(x) for x in self.lab_range)
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or lo > hi:
                raise InvalidArgumentError(
                    f"{self.population}: lab_range must be (low, high) with 0 <= low <= high"
                )
            object.__setattr__(self, "lab_range", (lo, hi))
        if self.lab_call is not None:
            call = str(self.lab_call).strip().lower()
            if call not in LAB_CALLS:
                raise InvalidArgumentError(f"{self.population}: lab_call must be one of {LAB_CALLS}")
            object.__setattr__(self, "lab_call", call)
        if self.pattern is not None and self.pattern not in PATTERNS:
            raise InvalidArgumentError(f"{self.population}: pattern must be one of {PATTERNS}")

    # -- derived facts -------------------------------------------------------------
    @property
    def info(self) -> PopulationInfo | None:
        return POPULATIONS.get(self.population)

    @property
    def denominator(self) -> str | None:
        """The stated parent, or the canonical parent for a percentage of a known population."""
        if self.unit != "percent_of_parent":
            return None
        if self.parent is not None:
            return self.parent
        info = self.info
        return info.parents[0] if info is not None and info.parents else None

    @property
    def uses_cd38(self) -> bool:
        """True when a CD38 gate (or CD38 quantitation) defines this value."""
        info = self.info
        return self.unit == "abc" or (info is not None and info.cd38_defined)

    def describe(self, cuts: Iterable[float] = ()) -> str:
        """E.g. "12.5 % of clonal_cd5" or "4 cells/µL" (``cuts``: see :func:`format_value`)."""
        v = format_value(self.value, cuts)
        if self.unit == "percent_of_parent":
            den = self.denominator
            return f"{v} % of {den}" if den else f"{v} % (denominator not stated)"
        return f"{v} {UNIT_LABELS[self.unit]}"

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self, denominator=self.denominator)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Measurement:
        d = {k: v for k, v in d.items() if k != "denominator"}  # derived, written by to_dict
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise InvalidArgumentError(f"unknown Measurement field(s) {unknown}")
        kw = dict(d)
        if kw.get("lab_range") is not None:
            kw["lab_range"] = tuple(kw["lab_range"])
        return cls(**kw)


def _cd38_definition(info: Mapping[str, Any], given: str | None) -> str | None:
    if given is not None:
        return normalize_gate_definition(given)
    stated = info.get("cd38_gate_definition")
    return normalize_gate_definition(stated) if isinstance(stated, str) else None


def measurements_from_result(
    result: GatingResult,
    *,
    cd38_gate_definition: str | None = None,
    absolute: pl.DataFrame | None = None,
) -> list[Measurement]:
    """Measurements for every canonical population in a gating result.

    Percentages are of each population's parent in the strategy. CD38-defined
    populations take ``cd38_gate_definition`` if given, else the strategy's
    ``info["cd38_gate_definition"]`` (set by the B-cell panel); when neither
    exists it stays None so CD38 rules refuse rather than guess. ``absolute`` is a
    table from ``result.absolute_counts(...)`` (population, cells_per_ul).
    """
    info = result.strategy.info
    gate_def = _cd38_definition(info, cd38_gate_definition)
    # The panel gates CLL CD38 positivity above the negative control whatever
    # definition its CD38 x IgM quadrants use, and records that separately.
    clonal = info.get("clonal_cd5_cd38_gate_definition")
    per_pop = (
        {"clonal_cd5_cd38pos": clonal} if isinstance(clonal, str) and cd38_gate_definition is None else {}
    )
    table = result.counts()
    return measurements_from_table(
        table, cd38_gate_definition=gate_def, absolute=absolute, per_population=per_pop
    )


def measurements_from_table(
    table: pl.DataFrame,
    *,
    cd38_gate_definition: str | None = None,
    absolute: pl.DataFrame | None = None,
    per_population: Mapping[str, str] | None = None,
) -> list[Measurement]:
    """Measurements from a counts table (population, parent, pct_parent[, cells_per_ul]).

    ``per_population`` gives a CD38 gate definition for named populations that
    differs from ``cd38_gate_definition``."""
    need = {"population", "parent", "pct_parent"}
    missing = need - set(table.columns)
    if missing:
        raise InvalidArgumentError(f"counts table lacks column(s) {sorted(missing)}; it needs {sorted(need)}")
    gate_def = normalize_gate_definition(cd38_gate_definition)
    out: list[Measurement] = []
    for row in table.iter_rows(named=True):
        pop, pct = row["population"], row["pct_parent"]
        if pop not in POPULATIONS or pct is None:
            continue
        gd = gate_def if POPULATIONS[pop].cd38_defined else None
        if gd is not None and per_population and pop in per_population:
            gd = normalize_gate_definition(per_population[pop])
        out.append(Measurement(pop, float(pct), "percent_of_parent", row["parent"], gd))
        per_ul = row.get("cells_per_ul")
        if per_ul is not None:
            out.append(Measurement(pop, float(per_ul), "cells_per_ul", None, gd))
    if absolute is not None:
        out.extend(_absolute(absolute, gate_def, {m.population for m in out if m.unit == "cells_per_ul"}))
    return out


def _absolute(absolute: pl.DataFrame, gate_def: str | None, have: set[str]) -> Iterable[Measurement]:
    if not {"population", "cells_per_ul"} <= set(absolute.columns):
        raise InvalidArgumentError("the absolute-count table needs columns population and cells_per_ul")
    for row in absolute.iter_rows(named=True):
        pop, v = row["population"], row["cells_per_ul"]
        if pop in POPULATIONS and v is not None and pop not in have:
            gd = gate_def if POPULATIONS[pop].cd38_defined else None
            yield Measurement(pop, float(v), "cells_per_ul", None, gd)
