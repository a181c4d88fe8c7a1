"""Kidney transplant and chronic GVHD contexts: thresholds, windows, units and refusals."""

from __future__ import annotations

import pytest

import cd38

M, S = cd38.Measurement, cd38.Subject
COLLECTED = "2024-06-15T09:00"


def ktx(months: float = 3.0, **kw: object) -> cd38.Subject:
    return S(
        diagnosis="kidney_transplant",
        months_since_transplant=months,
        induction_agent="basiliximab",
        maintenance_immunosuppression="tacrolimus",
        dsa_status="negative",
        **kw,
    )  # type: ignore[arg-type]


def trans(value: float = 2.0, gate: str | None = "bright", **kw: object) -> cd38.Measurement:
    return M("transitional", value, "percent_of_parent", gate_definition=gate, **kw)  # type: ignore[arg-type]


TRANS = "kidney_transplant.transitional_month3"
IHC = "kidney_transplant.biopsy_cd38_density"


@pytest.mark.parametrize(
    ("months", "ok"), [(2.49, False), (2.5, True), (3.0, True), (3.49, True), (3.5, False)]
)
def test_month3_window(months: float, ok: bool) -> None:
    res = cd38.interpret([trans()], "kidney_transplant", ktx(months))
    assert (res.finding(TRANS) is not None) == ok
    if not ok:
        assert [r.reason for r in res.refusals] == ["outside_time_window"]


def test_month3_window_configurable() -> None:
    res = cd38.interpret([trans()], "kidney_transplant", ktx(4.0), options={"month3_window": (2.0, 4.5)})
    assert res.finding(TRANS) is not None


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (0.99, "below_lab_range"),
        (1.0, "within_lab_range"),
        (5.0, "within_lab_range"),
        (5.01, "above_lab_range"),
    ],
)
def test_transitional_relative_position(value: float, category: str) -> None:
    res = cd38.interpret([trans(value, lab_range=(1.0, 5.0))], "kidney_transplant", ktx())
    f = res.finding(TRANS)
    assert f is not None and f.category == category
    assert "98-patient cohort" in f.statement and "not a rejection diagnosis" in f.statement
    assert "HR 0.60" in " ".join(f.caveats)


def test_transitional_without_band_and_missing_metadata() -> None:
    res = cd38.interpret([trans()], "kidney_transplant", S(diagnosis="ktx", months_since_transplant=3))
    f = res.finding(TRANS)
    assert f is not None and f.category == "no_band"
    assert (
        "Not recorded: induction agent, maintenance immunosuppression, sensitization/DSA status"
        in " ".join(f.caveats)
    )
    rtx = cd38.interpret(
        [trans()],
        "kidney_transplant",
        S(diagnosis="ktx", months_since_transplant=3, induction_agent="Rituximab"),
    )
    g = rtx.finding(TRANS)
    assert g is not None and any("Anti-CD20 induction" in c for c in g.caveats)


@pytest.mark.parametrize(
    ("measurement", "subject", "reason"),
    [
        (trans(gate="above_negative_control"), ktx(), "cd38_gate_not_valid_for_rule"),
        (trans(gate=None), ktx(), "cd38_gate_definition_missing"),
        (M("transitional", 2, "percent_of_parent", "lymphocytes", "bright"), ktx(), "wrong_denominator"),
        (trans(), S(diagnosis="kidney_transplant"), "missing_metadata"),
        (M("naive", 50, "percent_of_parent"), ktx(), "missing_input"),
        (M("transitional", 120, "cells_per_mm2", gate_definition="bright"), ktx(), "wrong_unit"),
    ],
)
def test_transitional_refusals(measurement: cd38.Measurement, subject: cd38.Subject, reason: str) -> None:
    res = cd38.interpret([measurement], "kidney_transplant", subject)
    assert res.finding(TRANS) is None
    assert reason in [r.reason for r in res.refusals if r.rule == TRANS]


def test_rituximab_therapy_relabels_high_transitional() -> None:
    s = ktx(therapies=[cd38.Therapy("rituximab", "2024-03-01")], collection_datetime=COLLECTED)
    f = cd38.interpret([trans(20, lab_range=(1, 5))], "kidney_transplant", s).finding(TRANS)
    assert f is not None and f.category == "expected_repopulation_pattern"


def test_two_marker_approximation_and_plasmablast_kinetics() -> None:
    ms = [
        M("cd38pos_igmpos", 3, "percent_of_parent", gate_definition="bright"),
        M("plasmablasts", 1, "percent_of_parent", gate_definition="bright"),
    ]
    res = cd38.interpret(ms, "kidney_transplant", ktx())
    f = res.finding(TRANS)
    assert f is not None and any("2-marker approximation" in c for c in f.caveats)
    assert res.finding("kidney_transplant.plasmablast_kinetics") is not None


def caabmr(**kw: object) -> cd38.Subject:
    return S(
        diagnosis=["kidney_transplant", "chronic_active_abmr"], specimen_type="tissue", assay_type="ihc", **kw
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "category"), [(92.9, "below_93"), (93.0, "at_or_above_93"), (93.1, "at_or_above_93")]
)
def test_biopsy_cut_off(value: float, category: str) -> None:
    res = cd38.interpret([M("tissue_cd38pos", value, "cells_per_mm2")], "kidney_transplant", caabmr())
    f = res.finding(IHC)
    assert f is not None and f.category == category
    assert "n=67" not in f.statement  # wording says "67 patients"
    assert "67 patients" in f.statement and "92.9 %" in f.statement and "1.96" in f.statement


@pytest.mark.parametrize(
    ("measurement", "subject", "reason"),
    [
        (M("tissue_cd38pos", 95, "percent_of_parent"), caabmr(), "wrong_unit"),
        (M("tissue_cd38pos", 95, "cells_per_ul"), caabmr(), "wrong_unit"),
        (M("tissue_cd38pos", 95, "cells_per_mm2"), S(diagnosis="kidney_transplant"), "wrong_diagnosis"),
        (
            M("tissue_cd38pos", 95, "cells_per_mm2"),
            S(diagnosis=["kidney_transplant", "caabmr"], specimen_type="PB"),
            "wrong_specimen",
        ),
        (M("plasmablasts", 95, "cells_per_mm2"), caabmr(), "wrong_population"),
    ],
)
def test_biopsy_refusals(measurement: cd38.Measurement, subject: cd38.Subject, reason: str) -> None:
    res = cd38.interpret([measurement], "kidney_transplant", subject)
    assert res.finding(IHC) is None
    assert reason in [r.reason for r in res.refusals if r.rule == IHC]


def test_blood_value_never_compared_with_tissue_anchor() -> None:
    res = cd38.interpret(
        [M("transitional", 120, "cells_per_ul", gate_definition="bright")],
        "kidney_transplant",
        caabmr(months_since_transplant=3),
    )
    assert res.finding(IHC) is None


def test_kidney_needs_transplant_diagnosis() -> None:
    res = cd38.interpret([trans()], "kidney_transplant", S(diagnosis="sle"))
    assert {r.reason for r in res.refusals} == {"wrong_diagnosis"} and not res.findings


# -- chronic GVHD -------------------------------------------------------------------------------
def hsct(days: int = 400, **kw: object) -> cd38.Subject:
    return S(
        diagnosis="allo_hsct",
        transplant_date="2023-01-01",
        age_years=40,
        collection_datetime=f"{_plus('2023-01-01', days)}T09:00",
        **kw,
    )  # type: ignore[arg-type]


def _plus(start: str, days: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(start) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("days", "ok"), [(99, False), (100, True), (101, True)])
def test_cgvhd_needs_100_days(days: int, ok: bool) -> None:
    res = cd38.interpret([M("b_cells", 200, "cells_per_ul")], "cgvhd", hsct(days))
    assert bool(res.findings) == ok
    if not ok:
        assert {r.reason for r in res.refusals} == {"too_early_post_transplant"}


def test_cgvhd_refuses_without_hsct_or_dates() -> None:
    assert {r.reason for r in cd38.interpret([], "cgvhd", S(diagnosis="cll")).refusals} == {"wrong_diagnosis"}
    assert {r.reason for r in cd38.interpret([], "cgvhd", S(diagnosis="hsct")).refusals} == {
        "missing_metadata"
    }


@pytest.mark.parametrize(
    ("value", "category"),
    [(93.9, "below_band"), (94, "within_band"), (588, "within_band"), (588.1, "above_band")],
)
def test_cgvhd_absolute_b_cells_against_band(value: float, category: str) -> None:
    res = cd38.interpret([M("b_cells", value, "cells_per_ul")], "cgvhd", hsct())
    f = res.finding("cgvhd.absolute_counts")
    assert f is not None and f.category == category and "98 HSCT recipients" in f.statement
    assert any(b.population == "b_cells" and b.unit == "cells_per_ul" for b in res.reference_bands)


def test_cgvhd_percent_only_secondary() -> None:
    pct = M("transitional", 10.5, "percent_of_parent", gate_definition="bright")
    res = cd38.interpret([pct], "cgvhd", hsct())
    assert "absolute_count_required" in [
        r.reason for r in res.refusals if r.rule == "cgvhd.percent_secondary"
    ]
    both = cd38.interpret(
        [pct, M("transitional", 5, "cells_per_ul", gate_definition="bright")], "cgvhd", hsct()
    )
    f = both.finding("cgvhd.percent_secondary")
    assert f is not None and f.category == "secondary" and "10.5 % vs 4.2 %/6.3 %" in " ".join(f.caveats)


def test_cgvhd_transitional_count_needs_bright_gate() -> None:
    res = cd38.interpret(
        [M("transitional", 5, "cells_per_ul", gate_definition="above_negative_control")], "cgvhd", hsct()
    )
    assert "cd38_gate_not_valid_for_rule" in [r.reason for r in res.refusals]


@pytest.mark.parametrize(
    ("igm_memory", "igg", "category"),
    [
        (0.0, 5.0, "pattern_present"),
        (0.39, 5.0, "pattern_present"),
        (0.4, 5.0, "pattern_absent"),
        (0.41, 5.0, "pattern_absent"),
        (0.0, 7.0, "pattern_absent"),
        (0.0, 6.99, "pattern_present"),
    ],
)
def test_cgvhd_igm_memory_pattern(igm_memory: float, igg: float, category: str) -> None:
    s = hsct(igg_g_l=igg, igg_lower_limit_g_l=7.0)
    res = cd38.interpret([M("nonswitched_memory", igm_memory, "cells_per_ul")], "cgvhd", s)
    f = res.finding("cgvhd.igm_memory_igg")
    assert f is not None and f.category == category
    if category == "pattern_present":
        assert "severe infections" in f.statement and "Discuss with the transplant team" in f.statement
    assert any(c.name == "Serum IgG" and c.required for c in res.companion_tests)


def test_cgvhd_pattern_needs_igg() -> None:
    res = cd38.interpret([M("nonswitched_memory", 0, "cells_per_ul")], "cgvhd", hsct())
    assert [r.reason for r in res.refusals if r.rule == "cgvhd.igm_memory_igg"] == ["missing_companion_igg"]
    res2 = cd38.interpret([], "cgvhd", hsct(igg_g_l=5.0, igg_lower_limit_g_l=7.0))
    assert [r.reason for r in res2.refusals if r.rule == "cgvhd.igm_memory_igg"] == ["missing_input"]
