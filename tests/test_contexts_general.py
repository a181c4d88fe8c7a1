"""The general context (reference bands, lab range, anti-CD20 relabel) and the section-4 confounders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import cd38
from cd38.contexts.bands import CAVEAT

M, S = cd38.Measurement, cd38.Subject
COLLECTED = date(2024, 6, 15)


def subj(**kw: object) -> cd38.Subject:
    return S(collection_datetime=f"{COLLECTED.isoformat()}T09:00", **kw)  # type: ignore[arg-type]


def band_finding(m: cd38.Measurement, subject: cd38.Subject) -> cd38.Finding | None:
    return cd38.interpret([m], "general", subject).finding("general.reference_band")


@pytest.mark.parametrize(
    ("value", "category"),
    [(5.99, "below_band"), (6, "within_band"), (28, "within_band"), (28.01, "above_band")],
)
def test_adult_b_cell_percent_band(value: float, category: str) -> None:
    res = cd38.interpret([M("b_cells", value, "percent_of_parent")], "general", subj(age_years=40))
    f = res.finding("general.reference_band")
    assert f is not None and f.category == category
    band = res.reference_bands[0]
    assert band.age_range == ">=16 y" and band.source.key == "arup_2008901"
    assert band.caveat == CAVEAT.format(source="ARUP Laboratories test 2008901")
    assert "not transferable" in band.caveat and band.caveat in f.caveats


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (3.0, (0.6, 4.0)),
        (4.99, (0.6, 4.0)),
        (5.0, (0.6, 5.3)),
        (9.99, (0.6, 5.3)),
        (0.01, (0.2, 3.2)),
        (8 / 365.25, (0.2, 2.7)),
    ],
)
def test_paediatric_plasmablast_percent_bands(age: float, band: tuple[float, float]) -> None:
    m = M("cd38pos_igmneg", 1.0, "percent_of_parent", gate_definition="bright")
    res = cd38.interpret([m], "general", subj(age_years=age))
    assert [(b.low, b.high) for b in res.reference_bands] == [band]


@pytest.mark.parametrize("age", [10.0, 12.0, 15.99, 16.0, 40.0])
def test_no_invented_plasmablast_percent_for_10_and_over(age: float) -> None:
    m = M("cd38pos_igmneg", 1.0, "percent_of_parent", gate_definition="bright")
    res = cd38.interpret([m], "general", subj(age_years=age))
    assert res.reference_bands == ()
    assert res.finding("general.reference_band") is None
    assert "no_reference_band" in [w.code for w in res.warnings]


@pytest.mark.parametrize(("age", "band"), [(12.0, (0, 20)), (15.99, (0, 20)), (16.0, (1, 8)), (70.0, (1, 8))])
def test_plasmablast_absolute_bands(age: float, band: tuple[float, float]) -> None:
    m = M("cd38pos_igmneg", 5.0, "cells_per_ul", gate_definition="bright")
    res = cd38.interpret([m], "general", subj(age_years=age))
    assert [(b.low, b.high) for b in res.reference_bands] == [band]


def test_no_band_below_16_without_paediatric_band_and_without_age() -> None:
    child = cd38.interpret([M("switched_memory", 10, "percent_of_parent")], "general", subj(age_years=10))
    assert child.reference_bands == () and child.finding("general.reference_band") is None
    nobody = cd38.interpret([M("switched_memory", 10, "percent_of_parent")], "general", subj())
    assert nobody.reference_bands == ()
    assert "age_not_recorded" in [w.code for w in nobody.warnings]


@pytest.mark.parametrize(
    ("gate", "reason"),
    [(None, "cd38_gate_definition_missing"), ("above_negative_control", "cd38_gate_not_valid_for_rule")],
)
def test_cd38_band_needs_a_stated_bright_gate(gate: str | None, reason: str) -> None:
    m = M("cd38pos_igmneg", 5.0, "cells_per_ul", gate_definition=gate)
    res = cd38.interpret([m], "general", subj(age_years=40))
    assert res.reference_bands == () and res.finding("general.reference_band") is None
    assert [(r.rule, r.reason) for r in res.refusals] == [("general.reference_band", reason)]
    loose_ok = M("cd21low", 5.0, "cells_per_ul", gate_definition="above_negative_control")
    assert cd38.interpret([loose_ok], "general", subj(age_years=40)).finding("general.reference_band")


def test_band_denominator_must_match() -> None:
    m = M("b_cells", 12, "percent_of_parent", parent="singlets")
    assert cd38.interpret([m], "general", subj(age_years=40)).reference_bands == ()


def test_mean_sd_context_is_shown_but_never_categorises() -> None:
    m = M("transitional", 20, "percent_of_parent", gate_definition="bright")
    res = cd38.interpret([m], "general", subj(age_years=40))
    assert [b.kind for b in res.reference_bands] == ["mean_sd"]
    assert res.reference_bands[0].position is None
    assert res.finding("general.reference_band") is None
    assert "context only" in res.reference_bands[0].describe()


@pytest.mark.parametrize(
    ("value", "category"),
    [(0.99, "below_lab_range"), (1, "within_lab_range"), (9, "within_lab_range"), (9.01, "above_lab_range")],
)
def test_lab_range(value: float, category: str) -> None:
    m = M("transitional", value, "percent_of_parent", gate_definition="bright", lab_range=(1, 9))
    f = cd38.interpret([m], "general", subj(age_years=40)).finding("general.lab_range")
    assert f is not None and f.category == category


def rtx(months_ago: int, extra_days: int = 0) -> list[cd38.Therapy]:
    from cd38.subject import add_months

    end = add_months(COLLECTED, -months_ago) - timedelta(days=extra_days)
    return [cd38.Therapy("rituximab", end - timedelta(days=30), end)]


@pytest.mark.parametrize(
    ("therapies", "category"),
    [
        (rtx(3), "expected_repopulation_pattern"),
        (rtx(24), "expected_repopulation_pattern"),
        (rtx(24, 1), "above_lab_range"),
        (None, "above_lab_range"),
    ],
)
def test_anti_cd20_relabels_high_transitional(therapies: list[cd38.Therapy] | None, category: str) -> None:
    m = M("transitional", 30, "percent_of_parent", gate_definition="bright", lab_range=(1, 9))
    res = cd38.interpret([m], "general", subj(age_years=40, therapies=therapies))
    f = res.finding("general.lab_range")
    assert f is not None and f.category == category
    assert ("anti_cd20_recent" in [w.code for w in res.warnings]) == (category.startswith("expected"))


def test_anti_cd20_relabels_high_plasmablast_percent() -> None:
    m = M("cd38pos_igmneg", 4.1, "percent_of_parent", gate_definition="bright")
    res = cd38.interpret([m], "general", subj(age_years=3, therapies=rtx(2)))
    f = res.finding("general.reference_band")
    assert f is not None and f.category == "expected_during_depletion"
    assert any(c.name == "B-cell CD19/CD20 counts" for c in res.companion_tests)
    w = next(w for w in res.warnings if w.code == "anti_cd20_recent")
    assert "not for monitoring depletion" in w.statement and "X" in w.evidence_level
    low = cd38.interpret(
        [m.__class__("cd38pos_igmneg", 2, "percent_of_parent", gate_definition="bright")],
        "general",
        subj(age_years=3, therapies=rtx(2)),
    )
    g = low.finding("general.reference_band")
    assert g is not None and g.category == "within_band"


def test_companion_tests_flag_s_only() -> None:
    res = cd38.interpret([], "general", subj())
    hs = next(c for c in res.companion_tests if c.name == "hs-CRP")
    assert hs.evidence_level == ("S",) and "product brief only" in hs.reason
    assert {"CBC with differential", "Serum IgG, IgA and IgM"} <= {c.name for c in res.companion_tests}


def test_unrecognized_population_warned() -> None:
    res = cd38.interpret([M("my_gate", 3, "percent_of_parent")], "general", subj(age_years=40))
    assert "unrecognized_population" in [w.code for w in res.warnings]


# -- confounders (section 4) --------------------------------------------------------------------------
def codes(**kw: object) -> list[str]:
    res = cd38.interpret([M("b_cells", 12, "percent_of_parent")], "general", subj(age_years=40, **kw))
    return [w.code for w in res.warnings]


@pytest.mark.parametrize(("days", "warned"), [(0, True), (13, True), (14, True), (15, False)])
def test_vaccination_window(days: int, warned: bool) -> None:
    assert ("recent_vaccination" in codes(vaccination_date=COLLECTED - timedelta(days=days))) == warned


@pytest.mark.parametrize(
    ("days", "text"),
    [(14, "transiently raised"), (15, "may still be raised"), (21, "may still be raised"), (22, None)],
)
def test_infection_window(days: int, text: str | None) -> None:
    res = cd38.interpret([], "general", subj(recent_infection_date=COLLECTED - timedelta(days=days)))
    w = [w for w in res.warnings if w.code == "recent_infection"]
    assert (w[0].statement if w else None) is None if text is None else text in w[0].statement


@pytest.mark.parametrize(("days", "warned"), [(0, True), (2, True), (3, False)])
def test_corticosteroid_window(days: int, warned: bool) -> None:
    end = COLLECTED - timedelta(days=days)
    t = [cd38.Therapy("prednisone", end - timedelta(days=5), end, dose="60 mg")]
    assert ("recent_corticosteroid" in codes(therapies=t)) == warned


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(24, None), (24.1, "sample_age_over_24h"), (48, "sample_age_over_24h"), (48.1, "sample_age_over_48h")],
)
def test_sample_age(hours: float, expected: str | None) -> None:
    got = [c for c in codes(sample_age_hours=hours) if c.startswith("sample_age")]
    assert got == ([expected] if expected else [])


@pytest.mark.parametrize(("hours", "blocked"), [(48, False), (48.1, True)])
def test_sample_over_48h_blocks_every_measurement_finding(hours: float, blocked: bool) -> None:
    m = M("b_cells", 12, "percent_of_parent")
    res = cd38.interpret([m], "general", subj(age_years=40, sample_age_hours=hours))
    assert bool(res.blocked) == blocked
    if blocked:
        assert [b.reason for b in res.blocked] == ["sample_outside_stability"] and not res.findings
        assert next(w for w in res.warnings if w.code == "sample_age_over_48h").severity == "do_not_interpret"


def test_storage_and_physiology_warnings() -> None:
    assert "ambient_storage" in codes(storage_temp="ambient")
    assert "cryopreserved" in codes(storage_temp="cryopreserved")
    assert "heparin_refrigerated" in codes(anticoagulant="heparin", storage_temp="refrigerated")
    assert "pregnancy" in codes(pregnancy_status="pregnant", pregnancy_trimester=3)
    assert "postpartum" in codes(pregnancy_status="postpartum", postpartum_weeks=2)
    assert "clonal_b_population" in codes(clonal_b_population=True)


def test_collection_date_missing_is_said() -> None:
    res = cd38.interpret([], "general", S(vaccination_date=date.today()))
    assert "collection_date_not_recorded" in [w.code for w in res.warnings]


def test_clonal_b_blocks_transitional_in_general() -> None:
    m = M("cd38pos_igmpos", 30, "percent_of_parent", gate_definition="bright", lab_range=(1, 9))
    res = cd38.interpret([m], "general", subj(age_years=60, diagnosis="mbl"))
    assert [(b.rule, b.reason) for b in res.blocked] == [("general.lab_range", "clonal_b_population")]


def test_anti_cd38_blocks_general_cd38_findings_only() -> None:
    ms = [
        M("b_cells", 12, "percent_of_parent"),
        M("cd38pos_igmneg", 4, "cells_per_ul", gate_definition="bright"),
    ]
    s = subj(age_years=40, therapies=[cd38.Therapy("daratumumab", "2024-01-01")])
    res = cd38.interpret(ms, "general", s)
    assert [f.inputs[0].population for f in res.findings] == ["b_cells"]
    assert [b.reason for b in res.blocked] == ["anti_cd38_epitope_masking"]


def test_future_vaccination_without_collection_date_is_not_recent() -> None:
    from datetime import date

    subject = cd38.Subject(age_years=40, vaccination_date=date.today() + timedelta(days=5))
    res = cd38.interpret([M("b_cells", 12, "percent_of_parent")], "general", subject)
    assert "recent_vaccination" not in [w.code for w in res.warnings]
