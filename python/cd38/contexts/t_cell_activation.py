"""The ``t_cell_activation`` context: CD38 on CD8+ T cells in HIV and COVID-19 (CLINICAL.md section 3.8).

HIV ABC bands come from an untreated-era cohort and apply only to values in ABC
units (QuantiBRITE-type); their output is a historical prognostic association.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from cd38.contexts._rules import (
    BRIGHT_GATES,
    BuiltinContext,
    check_input,
    find,
    first_or_refuse,
    measured,
    refuse,
    require_unit,
)
from cd38.contexts.api import Applicability, ContextOutput
from cd38.contexts.citations import cite
from cd38.interpretation import Finding, Threshold
from cd38.measurement import Measurement, format_value
from cd38.subject import Subject

__all__ = ["TCellActivationContext", "abc_band"]

_ABC = "t_cell_activation.hiv_cd8_cd38_abc"
_PCT = "t_cell_activation.hiv_cd8_cd38_percent"
_COVID = "t_cell_activation.covid_cd8_hladr_cd38hi"
# (category, lower bound inclusive, relative risk of AIDS within 3 years; None = reference)
ABC_BANDS: tuple[tuple[str, float, float | None], ...] = (
    ("below_2470", 0.0, None),
    ("2470_to_3899", 2470.0, 5.0),
    ("3900_to_7250", 3900.0, 12.3),
    ("above_7250", 7250.0, 41.4),
)
_LABEL = {
    "below_2470": "<2470",
    "2470_to_3899": "2470-3899",
    "3900_to_7250": "3900-7250",
    "above_7250": ">7250",
}
_HISTORICAL = "Pre-HAART (untreated-era) cohort: a historical prognostic association, not a current one."


def abc_band(value: float) -> str:
    """The Liu 1997 band: <2470, 2470-3899, 3900-7250 (7250 included), >7250."""
    if value > 7250.0:
        return "above_7250"
    if value >= 3900.0:
        return "3900_to_7250"
    if value >= 2470.0:
        return "2470_to_3899"
    return "below_2470"


class TCellActivationContext(BuiltinContext):
    name = "t_cell_activation"
    description = (
        "CD38 on CD8+ T cells: HIV (ABC bands of an untreated-era cohort, % CD38+) and COVID-19 "
        "(HLA-DR+ CD38hi CD8+). Historical or descriptive associations only."
    )
    citations = cite("liu_1997", "giorgi_1993", "du_2021")
    rules: ClassVar[Mapping[str, str]] = {
        _ABC: "CD38 molecules per CD8+ T cell (ABC) in HIV, Liu 1997 bands",
        _PCT: "% CD38+ of CD8+ T cells in HIV (prognostic after adjusting for CD4; no cut-off)",
        _COVID: "% HLA-DR+ CD38hi of CD8+ T cells in COVID-19 (no cut-off)",
    }

    def applies_to(self, subject: Subject) -> Applicability:
        if subject.has_diagnosis("hiv", "covid19"):
            return Applicability(True)
        return Applicability(False, "wrong_diagnosis", "These rules apply only in HIV infection or COVID-19.")

    def interpret(self, measurements: Sequence[Measurement], subject: Subject) -> ContextOutput:
        out = ContextOutput()
        if subject.has_diagnosis("hiv"):
            self._hiv(measurements, out)
        if subject.has_diagnosis("covid19"):
            self._covid(measurements, out)
        return out

    def _hiv(self, measurements: Sequence[Measurement], out: ContextOutput) -> None:
        cd8 = find(measurements, "cd8_t_cells", "cd8_cd38pos")
        abc = [m for m in cd8 if m.unit == "abc"]
        pct = [m for m in find(measurements, "cd8_cd38pos") if m.unit != "abc"]
        if not abc and not pct:
            out.refusals.append(
                refuse(
                    _ABC,
                    "missing_input",
                    "No CD8+ T-cell CD38 value was given (ABC on 'cd8_t_cells', or % 'cd8_cd38pos').",
                    "liu_1997",
                )
            )
        for m in [m for m in cd8 if m.unit != "abc" and m.population == "cd8_t_cells"][:1]:
            r = require_unit(
                _ABC,
                m,
                ("abc",),
                " The Liu 1997 bands are CD38 molecules per cell (QuantiBRITE-type "
                "ABC) and apply only to ABC values.",
            )
            if r is not None:
                out.refusals.append(r)
        for m in abc[:1]:
            out.findings.append(self._abc(m))
        for m in pct[:1]:
            r = check_input(
                _PCT,
                m,
                units=("percent_of_parent",),
                parents=(("cd8_t_cells",), "the cohort measured % CD38+ of CD8+ T cells.", "giorgi_1993"),
            )
            if r is not None:
                out.refusals.append(r)
                continue
            out.findings.append(
                measured(
                    _PCT,
                    "no_cutoff_context",
                    f"CD38+ CD8+ T cells: {m.describe()}. In an untreated-era cohort (n=98, 6 years; "
                    "Giorgi/Liu 1993), the % CD38+ of CD8+ T cells added prognostic value after adjusting "
                    "for the CD4 count; no cut-off was given.",
                    ("giorgi_1993",),
                    m,
                    caveats=(_HISTORICAL, "Interpret with the CD4 count."),
                )
            )

    def _abc(self, m: Measurement) -> Finding:
        cat = abc_band(m.value)
        rr = next(r for c, _, r in ABC_BANDS if c == cat)
        risk = (
            "the reference band (relative risk 1)"
            if rr is None
            else f"a relative risk of {rr:g} for AIDS within 3 years against the <2470 reference band"
        )
        value = format_value(m.value, (2470.0, 3900.0, 7250.0))
        return measured(
            _ABC,
            cat,
            f"CD38 on CD8+ T cells: {value} molecules per cell (ABC), band {_LABEL[cat]}. Historical "
            f"prognostic association: in a pre-HAART cohort (Liu et al. 1997), this band was associated "
            f"with {risk}.",
            ("liu_1997",),
            m,
            thresholds=(
                Threshold("Liu 1997", 2470.0, "abc", ">=", "liu_1997"),
                Threshold("Liu 1997", 3900.0, "abc", ">=", "liu_1997"),
                Threshold("Liu 1997", 7250.0, "abc", ">", "liu_1997"),
            ),
            caveats=(
                _HISTORICAL,
                "ABC bands need a calibrated quantitative assay (QuantiBRITE-type); % positive or MFI "
                "cannot be converted to them.",
            ),
        )

    def _covid(self, measurements: Sequence[Measurement], out: ContextOutput) -> None:
        m = first_or_refuse(
            measurements,
            ("cd8_hladr_cd38hi",),
            out,
            _COVID,
            "No % HLA-DR+ CD38hi of CD8+ T cells (population 'cd8_hladr_cd38hi') was given.",
            "du_2021",
        )
        if m is None:
            return
        r = check_input(
            _COVID,
            m,
            units=("percent_of_parent",),
            parents=(("cd8_t_cells",), "the cohort measured % of CD8+ T cells.", "du_2021"),
            gate=(BRIGHT_GATES, "The cohort's association was with CD38hi (not CD38dim) cells."),
        )
        if r is not None:
            out.refusals.append(r)
            return
        out.findings.append(
            measured(
                _COVID,
                "no_cutoff_context",
                f"HLA-DR+ CD38hi CD8+ T cells: {m.describe()}. In a COVID-19 cohort (n=42, Du 2021), "
                "persistent HLA-DR+ CD38hi (not CD38dim) CD8+ T cells were associated with severity; no "
                "cut-off was given.",
                ("du_2021",),
                m,
                caveats=("A single value cannot show persistence; follow the trend.",),
            )
        )
