"""The CLL context: every cut-off at, just below and just above; refusals; the anti-CD38 blocker."""

from __future__ import annotations

from datetime import date

import pytest

import cd38
from cd38.subject import add_months

COLLECTED = "2024-06-15T09:00"
CLL = {"diagnosis": "cll", "assay_type": "leukemia_lymphoma", "collection_datetime": COLLECTED}


def cll(value: float, gate: str | None = "above_negative_control", **kw: object) -> cd38.Measurement:
    return cd38.Measurement("clonal_cd5_cd38pos", value, "percent_of_parent", gate_definition=gate, **kw)


def run(value: float, subject: cd38.Subject | None = None, **kw: object) -> cd38.Interpretation:
    return cd38.interpret([cll(value)], "cll", subject or cd38.Subject(**CLL), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "below_20"),
        (19.99, "below_20"),
        (20, "20_to_29"),
        (20.01, "20_to_29"),
        (29.99, "20_to_29"),
        (30, "30_or_more"),
        (30.01, "30_or_more"),
        (100, "30_or_more"),
    ],
)
def test_band_edges(value: float, band: str) -> None:
    f = run(value).finding("cll.cd38_band")
    assert f is not None and f.category == band and f.value == value
    assert f.plugin is not None and f.plugin.distribution == "cd38"
    assert {t.value for t in f.thresholds} == {20.0, 30.0}
    assert "IGHV" in f.statement and "TP53/del(17p)" in f.statement and "FISH" in f.statement
    labels = {
        "below_20": "below 20 % (below the Ibrahim cut-off)",
        "20_to_29": "20-29 % (above the Ibrahim, below the Damle cut-off)",
        "30_or_more": "≥30 % (above both)",
    }
    assert labels[band] in f.statement
    assert "not a validated one" in " ".join(f.caveats)
    assert "S" in f.evidence_level and "X" in f.evidence_level


@pytest.mark.parametrize(("value", "present"), [(6.99, False), (7.0, True), (7.01, True)])
def test_kroeber_7(value: float, present: bool) -> None:
    f = run(value).finding("cll.kroeber_7")
    assert (f is not None) == present
    if f is not None:
        assert f.category == "at_or_above_7" and "Kröber" in f.statement and "n=157" in f.statement
        assert "associated with outcome" in f.statement


@pytest.mark.parametrize(("value", "present"), [(4.99, False), (5.0, False), (5.01, True)])
def test_above_5(value: float, present: bool) -> None:
    assert (run(value).finding("cll.above_5") is not None) == present


@pytest.mark.parametrize(("value", "status"), [(29.99, "negative"), (30.0, "positive"), (30.01, "positive")])
def test_status_default_damle(value: float, status: str) -> None:
    f = run(value).finding("cll.cd38_status")
    assert f is not None and f.category == status and "Damle 1999" in f.statement


@pytest.mark.parametrize(("value", "status"), [(19.99, "negative"), (20.0, "positive"), (20.01, "positive")])
def test_status_configurable_cutoff(value: float, status: str) -> None:
    f = run(value, options={"positivity_cutoff": 20}).finding("cll.cd38_status")
    assert f is not None and f.category == status and "Ibrahim 2001" in f.statement
    g = run(value, options={"positivity_cutoff": 25}).finding("cll.cd38_status")
    assert g is not None and "no cited cohort used" in g.statement
    with pytest.raises(cd38.InvalidArgumentError, match="positivity_cutoff"):
        run(value, options={"positivity_cutoff": 150})


def test_bimodal_pattern() -> None:
    res = cd38.interpret([cll(3, pattern="bimodal")], "cll", cd38.Subject(**CLL))  # type: ignore[arg-type]
    f = res.finding("cll.bimodal_pattern")
    assert f is not None and "Ghia" in f.statement
    assert run(3).finding("cll.bimodal_pattern") is None


def test_caveats_and_companions() -> None:
    res = run(35, cd38.Subject(**CLL, specimen_type="BM"))  # type: ignore[arg-type]
    f = res.finding("cll.cd38_band")
    assert f is not None
    text = " ".join(f.caveats)
    assert "28.3 % (41/145)" in text and "10/41" in text and "Oscier" in text and "bone marrow" in text
    assert "Not recorded: CD38 clone" in text
    assert {c.name for c in res.companion_tests} >= {"IGHV mutation status", "TP53 / del(17p) and FISH"}
    bright = cd38.interpret([cll(35, gate="bright")], "cll", cd38.Subject(**CLL))  # type: ignore[arg-type]
    fb = bright.finding("cll.cd38_band")
    assert fb is not None and "bright" in " ".join(fb.caveats)


# -- refusals -----------------------------------------------------------------------------
ELIGIBILITY = "CD38 % of CLL cells is only interpretable in diagnosed CLL, measured on the clonal population."


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ({"diagnosis": "sle", "assay_type": "leukemia_lymphoma"}, "wrong_diagnosis"),
        ({"assay_type": "leukemia_lymphoma"}, "wrong_diagnosis"),
        ({"diagnosis": "mbl", "assay_type": "leukemia_lymphoma"}, "wrong_diagnosis"),
        ({"diagnosis": "cll", "assay_type": "b_subset_panel"}, "wrong_assay"),
        ({"diagnosis": "cll"}, "assay_type_missing"),
    ],
)
def test_refuses_ineligible_subject(subject: dict[str, object], reason: str) -> None:
    res = run(35, cd38.Subject(**subject))  # type: ignore[arg-type]
    assert not res.findings
    assert {r.rule for r in res.refusals} == set(cd38.contexts.describe("cll")["rules"])
    assert {r.reason for r in res.refusals} == {reason}
    assert all(r.statement.startswith(ELIGIBILITY) for r in res.refusals)


@pytest.mark.parametrize(
    ("measurement", "reason"),
    [
        (
            cd38.Measurement(
                "clonal_cd5_cd38pos", 35, "percent_of_parent", "b_cells", "above_negative_control"
            ),
            "wrong_denominator",
        ),
        (
            cd38.Measurement(
                "clonal_cd5_cd38pos", 35, "percent_of_parent", "lymphocytes", "above_negative_control"
            ),
            "wrong_denominator",
        ),
        (
            cd38.Measurement("cd38pos_igmpos", 35, "percent_of_parent", gate_definition="bright"),
            "wrong_denominator",
        ),
        (cd38.Measurement("clonal_cd5_cd38pos", 35, "cells_per_ul", gate_definition="bright"), "wrong_unit"),
        (cd38.Measurement("clonal_cd5_cd38pos", 35, "percent_of_parent"), "cd38_gate_definition_missing"),
        (cd38.Measurement("naive", 35, "percent_of_parent"), "missing_input"),
    ],
)
def test_refuses_invalid_input(measurement: cd38.Measurement, reason: str) -> None:
    res = cd38.interpret([measurement], "cll", cd38.Subject(**CLL))  # type: ignore[arg-type]
    assert not res.findings
    assert [(r.rule, r.reason) for r in res.refusals] == [("cll.cd38_band", reason)]


# -- anti-CD38 blocker ------------------------------------------------------------------------
def dara(end: date | None) -> cd38.Subject:
    return cd38.Subject(**CLL, therapies=[cd38.Therapy("daratumumab", "2023-01-01", end)])  # type: ignore[arg-type]


REF = date(2024, 6, 15)


@pytest.mark.parametrize(
    ("end", "blocked"),
    [
        (None, True),
        (REF, True),
        (add_months(REF, -6), True),
        (add_months(REF, -6).replace(day=14), False),
        (add_months(REF, -7), False),
    ],
)
def test_anti_cd38_lookback(end: date | None, blocked: bool) -> None:
    res = run(35, dara(end))
    assert bool(res.blocked) == blocked
    if blocked:
        assert not res.findings
        assert {b.reason for b in res.blocked} == {"anti_cd38_epitope_masking"}
        assert {b.rule for b in res.blocked} >= {"cll.cd38_band", "cll.kroeber_7", "cll.cd38_status"}
        assert "epitope masking" in res.blocked[0].statement
        assert "anti_cd38_epitope_masking" in [w.code for w in res.warnings]
    else:
        assert res.finding("cll.cd38_band") is not None


def test_anti_cd38_lookback_configurable() -> None:
    subject = dara(add_months(REF, -7))
    assert run(35, subject, anti_cd38_lookback_months=12).blocked
    assert not run(35, subject).blocked
    with pytest.raises(cd38.InvalidArgumentError, match="lookback"):
        run(35, subject, anti_cd38_lookback_months=-1)


@pytest.mark.parametrize("drug", ["isatuximab", "cm313", "felzartamab"])
def test_every_anti_cd38_blocks(drug: str) -> None:
    s = cd38.Subject(**CLL, therapies=[cd38.Therapy(drug, "2024-05-01")])  # type: ignore[arg-type]
    assert run(35, s).blocked


@pytest.mark.parametrize("gate", ["multi_epitope", "cd38_independent"])
def test_anti_cd38_mitigated_gating_reports(gate: str) -> None:
    res = cd38.interpret([cll(35, gate=gate)], "cll", dara(None))
    f = res.finding("cll.cd38_band")
    assert f is not None and not res.blocked
    assert any(gate in c and "masking does not apply" in c for c in f.caveats)


def test_statements_round_but_value_keeps_full_precision() -> None:
    res = run(19.5549)
    band = res.finding("cll.cd38_band")
    assert band is not None and band.value == 19.5549
    assert band.statement.startswith("19.6 % of CLL cells were CD38+")
    assert "19.5549" not in band.statement


def test_rounding_never_crosses_a_cut_off_in_the_text() -> None:
    band = run(29.96).finding("cll.cd38_band")
    assert band is not None and band.category == "20_to_29"
    assert band.statement.startswith("29.96 % of CLL cells")
