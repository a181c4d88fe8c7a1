"""Breg phenotype, SLE/SSc, lymphoma/myeloma, T-cell activation and solid-tumour literature contexts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import cd38
from cd38.subject import add_months

M, S = cd38.Measurement, cd38.Subject
COLLECTED = date(2024, 6, 15)
BREG = "breg.cd24hi_cd38hi_frequency"


def breg_m(value: float = 5.0, gate: str | None = "bright", **kw: object) -> cd38.Measurement:
    return M("transitional", value, "percent_of_parent", gate_definition=gate, **kw)  # type: ignore[arg-type]


def subj(**kw: object) -> cd38.Subject:
    return S(collection_datetime=f"{COLLECTED.isoformat()}T09:00", **kw)  # type: ignore[arg-type]


# -- breg ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "category"),
    [
        (2.99, "below_lab_range"),
        (3.0, "within_lab_range"),
        (10.0, "within_lab_range"),
        (10.01, "above_lab_range"),
    ],
)
def test_breg_frequency_against_lab_range(value: float, category: str) -> None:
    res = cd38.interpret([breg_m(value, lab_range=(3.0, 10.0))], "breg", subj(diagnosis="alopecia_areata"))
    f = res.finding(BREG)
    assert f is not None and f.category == category
    assert f.statement.startswith("Phenotypic CD24hi CD38hi frequency")
    assert "Regulatory function was not measured." in f.statement
    assert "Lee 2024" in f.statement and any("Park" in c for c in f.caveats)


def test_breg_no_band_and_il10() -> None:
    res = cd38.interpret([breg_m()], "breg", subj(diagnosis="t1d", il10_assay=True))
    f = res.finding(BREG)
    assert f is not None and f.category == "no_band"
    assert "regulatory function was not measured" not in f.statement.lower()
    assert "overlap widely" in f.statement and "no cut-off" in f.statement
    sle = cd38.interpret([breg_m()], "breg", subj(diagnosis="sle")).finding(BREG)
    assert sle is not None and "frequency and function diverged" in sle.statement


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"diagnosis": "t1d", "sex": "female", "pregnancy_status": "pregnant"}, "pregnancy"),
        (
            {"diagnosis": "t1d", "pregnancy_status": "postpartum", "postpartum_weeks": 26},
            "physiological_postpartum",
        ),
        ({"pregnancy_status": "postpartum"}, "physiological_postpartum"),
        (
            {
                "diagnosis": "aa",
                "therapies": [cd38.Therapy("rituximab", "2023-01-01", add_months(COLLECTED, -12))],
            },
            "anti_cd20_repopulation",
        ),
        ({"diagnosis": "aa", "clonal_b_population": True}, "clonal_b_population"),
        ({"diagnosis": ["aa", "mbl"]}, "clonal_b_population"),
    ],
)
def test_breg_suppressed(kwargs: dict[str, object], reason: str) -> None:
    res = cd38.interpret([breg_m()], "breg", subj(**kwargs))
    assert res.finding(BREG) is None
    assert [(b.rule, b.reason) for b in res.blocked] == [(BREG, reason)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"diagnosis": "t1d", "pregnancy_status": "postpartum", "postpartum_weeks": 27},
        {
            "diagnosis": "aa",
            "therapies": [
                cd38.Therapy("rituximab", "2023-01-01", add_months(COLLECTED, -12) - timedelta(days=1))
            ],
        },
    ],
)
def test_breg_just_outside_suppression(kwargs: dict[str, object]) -> None:
    assert cd38.interpret([breg_m()], "breg", subj(**kwargs)).finding(BREG) is not None


@pytest.mark.parametrize(
    ("measurement", "reason"),
    [
        (breg_m(gate="above_negative_control"), "cd38_gate_not_valid_for_rule"),
        (breg_m(gate=None), "cd38_gate_definition_missing"),
        (M("transitional", 5, "cells_per_ul", gate_definition="bright"), "wrong_unit"),
        (M("transitional", 5, "percent_of_parent", "lymphocytes", "bright"), "wrong_denominator"),
        (M("naive", 5, "percent_of_parent"), "missing_input"),
    ],
)
def test_breg_refusals(measurement: cd38.Measurement, reason: str) -> None:
    res = cd38.interpret([measurement], "breg", subj(diagnosis="aa"))
    assert [r.reason for r in res.refusals] == [reason]


def test_breg_high_after_anti_cd20_is_expected_repopulation() -> None:
    t = [cd38.Therapy("rituximab", "2022-12-01", add_months(COLLECTED, -18))]
    res = cd38.interpret([breg_m(20, lab_range=(3, 10))], "breg", subj(diagnosis="aa", therapies=t))
    f = res.finding(BREG)
    assert f is not None and f.category == "expected_repopulation_pattern" and "Roll 2006" in f.statement
    sle = M("cd38pos_igmneg", 30, "percent_of_parent", gate_definition="bright", lab_range=(1, 5))
    g = cd38.interpret([sle], "sle_ssc", subj(diagnosis="sle", therapies=t)).finding(PB)
    assert g is not None and g.category == "expected_during_depletion"


def test_breg_needs_a_relevant_subject() -> None:
    res = cd38.interpret([breg_m()], "breg", subj(diagnosis="cll"))
    assert {r.reason for r in res.refusals} == {"wrong_diagnosis"}


# -- SLE / SSc -----------------------------------------------------------------------------------
PB = "sle_ssc.plasmablast_level"


@pytest.mark.parametrize(
    ("value", "category"),
    [(0.99, "below_band"), (1.0, "within_band"), (8.0, "within_band"), (8.01, "above_band")],
)
def test_sle_plasmablast_band(value: float, category: str) -> None:
    m = M("cd38pos_igmneg", value, "cells_per_ul", gate_definition="bright")
    res = cd38.interpret([m], "sle_ssc", subj(diagnosis="sle", age_years=30))
    f = res.finding(PB)
    assert f is not None and f.category == category
    assert f.statement.startswith("Plasmablast-enriched (IgM-negative, CD38-bright)")
    assert "not an activity score" in f.statement
    assert res.reference_bands and res.reference_bands[0].caveat.startswith("Reference band from ARUP")


def test_sle_refuses_cd38_level_as_activity() -> None:
    res = cd38.interpret([M("plasmablasts", 12000, "abc")], "sle_ssc", subj(diagnosis="sle"))
    assert [r.reason for r in res.refusals] == ["cd38_level_not_activity_marker"]
    assert not res.findings


def test_sle_plasmablast_loose_gate_refused() -> None:
    m = M("cd38pos_igmneg", 3, "percent_of_parent", gate_definition="above_negative_control")
    res = cd38.interpret([m], "sle_ssc", subj(diagnosis="sle"))
    assert [r.reason for r in res.refusals] == ["cd38_gate_not_valid_for_rule"]


def test_ssc_and_cm313() -> None:
    ssc = cd38.interpret([], "sle_ssc", subj(diagnosis="ssc"))
    assert ssc.finding("sle_ssc.ssc_cd38_context") is not None
    s = subj(diagnosis="sle", age_years=30, therapies=[cd38.Therapy("CM313", "2024-05-01")])
    res = cd38.interpret([M("cd38pos_igmneg", 4, "cells_per_ul", gate_definition="bright")], "sle_ssc", s)
    f = res.finding("sle_ssc.cm313_trial")
    assert f is not None and "2, 4, 8, 16 mg/kg" in f.statement and "40 patients" in f.statement
    assert [(b.rule, b.reason) for b in res.blocked] == [(PB, "anti_cd38_epitope_masking")]
    assert {r.reason for r in cd38.interpret([], "sle_ssc", subj(diagnosis="t1d")).refusals} == {
        "wrong_diagnosis"
    }


# -- lymphoma / myeloma ----------------------------------------------------------------------------
@pytest.mark.parametrize("call", ["high", "low"])
def test_dlbcl_passes_lab_call(call: str) -> None:
    m = M("tumor_cd38pos", 40, "percent_of_parent", gate_definition="above_negative_control", lab_call=call)
    f = cd38.interpret([m], "lymphoma_myeloma", subj(diagnosis="dlbcl")).finding(
        "lymphoma_myeloma.dlbcl_cd38_call"
    )
    assert f is not None and f.category == f"lab_call_{call}" and "137-patient" in f.statement


def test_dlbcl_refuses_a_bare_number() -> None:
    m = M("tumor_cd38pos", 40, "percent_of_parent", gate_definition="above_negative_control")
    res = cd38.interpret([m], "lymphoma_myeloma", subj(diagnosis="dlbcl"))
    assert [r.reason for r in res.refusals] == ["no_published_cutoff"]


@pytest.mark.parametrize("status", ["negative", "positive"])
def test_myeloma_mrd_only(status: str) -> None:
    s = subj(diagnosis="mm", mrd_status=status, therapies=[cd38.Therapy("daratumumab", "2024-01-01")])
    res = cd38.interpret(
        [M("plasmablasts", 2, "percent_of_parent", gate_definition="bright")], "lymphoma_myeloma", s
    )
    f = res.finding("lymphoma_myeloma.mrd_status")
    assert f is not None and f.category == f"mrd_{status}" and "HR 0.33" in f.statement
    assert any("CD38-negative myeloma was missed" in c for c in f.caveats)
    assert "myeloma_reports_mrd_only" in [r.reason for r in res.refusals]
    nomrd = cd38.interpret([], "lymphoma_myeloma", subj(diagnosis="mm"))
    assert [r.reason for r in nomrd.refusals] == ["missing_input"]


# -- T-cell activation ----------------------------------------------------------------------------
ABC = "t_cell_activation.hiv_cd8_cd38_abc"


@pytest.mark.parametrize(
    ("value", "category", "rr"),
    [
        (2469.99, "below_2470", None),
        (2470, "2470_to_3899", "5"),
        (2470.01, "2470_to_3899", "5"),
        (3899.99, "2470_to_3899", "5"),
        (3900, "3900_to_7250", "12.3"),
        (3900.01, "3900_to_7250", "12.3"),
        (7249.99, "3900_to_7250", "12.3"),
        (7250, "3900_to_7250", "12.3"),
        (7250.01, "above_7250", "41.4"),
    ],
)
def test_hiv_abc_bands(value: float, category: str, rr: str | None) -> None:
    f = cd38.interpret([M("cd8_t_cells", value, "abc")], "t_cell_activation", subj(diagnosis="hiv")).finding(
        ABC
    )
    assert f is not None and f.category == category
    assert "Historical prognostic association" in f.statement and "pre-HAART" in f.statement
    if rr:
        assert f"relative risk of {rr} " in f.statement


def test_hiv_refusals_and_percent() -> None:
    res = cd38.interpret(
        [M("cd8_t_cells", 40, "percent_of_parent")], "t_cell_activation", subj(diagnosis="hiv")
    )
    assert "wrong_unit" in [r.reason for r in res.refusals if r.rule == ABC]
    pct = M("cd8_cd38pos", 40, "percent_of_parent", gate_definition="above_negative_control")
    f = cd38.interpret([pct], "t_cell_activation", subj(diagnosis="hiv")).finding(
        "t_cell_activation.hiv_cd8_cd38_percent"
    )
    assert f is not None and f.category == "no_cutoff_context" and "CD4" in f.statement
    bad = M("cd8_cd38pos", 40, "percent_of_parent", "t_cells", "above_negative_control")
    assert "wrong_denominator" in [
        r.reason for r in cd38.interpret([bad], "t_cell_activation", subj(diagnosis="hiv")).refusals
    ]


def test_covid_hladr_cd38hi() -> None:
    ok = M("cd8_hladr_cd38hi", 12, "percent_of_parent", gate_definition="bright")
    f = cd38.interpret([ok], "t_cell_activation", subj(diagnosis="covid-19")).finding(
        "t_cell_activation.covid_cd8_hladr_cd38hi"
    )
    assert f is not None and f.category == "no_cutoff_context" and "n=42" in f.statement
    assert "823" not in f.statement
    dim = M("cd8_hladr_cd38hi", 12, "percent_of_parent", gate_definition="above_negative_control")
    res = cd38.interpret([dim], "t_cell_activation", subj(diagnosis="covid19"))
    assert [r.reason for r in res.refusals] == ["cd38_gate_not_valid_for_rule"]
    assert {r.reason for r in cd38.interpret([ok], "t_cell_activation", subj()).refusals} == {
        "wrong_diagnosis"
    }


# -- solid tumours ----------------------------------------------------------------------------------
def test_solid_tumor_literature_never_categorises() -> None:
    res = cd38.interpret(
        [M("cd38pos_igmneg", 9, "percent_of_parent", gate_definition="bright")],
        "solid_tumor_literature",
        subj(),
    )
    assert res.findings and {f.category for f in res.findings} == {"literature_context"}
    for f in res.findings:
        assert f.statement.startswith(
            "Literature context: tissue/transcriptomic findings, not applicable to a blood CD38/IgM result."
        )
        assert f.value is None and not f.thresholds and not f.inputs
    text = " ".join(f.statement for f in res.findings)
    assert "n=49" in text and "424 cases" in text and "389 patients was not found" in text
