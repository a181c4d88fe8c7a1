"""cd38.trends.compare: comparability keys, baseline changes, cut-off crossings, draw times, cadence."""

from __future__ import annotations

import json

import pytest

import cd38

M, S = cd38.Measurement, cd38.Subject
KEY = {"lab_id": "lab-a", "panel_id": "bcell-v2", "cd38_clone": "HB7", "gating_version": "g1"}
CLL = {"diagnosis": "cll", "assay_type": "leukemia_lymphoma", **KEY}


def cll_at(when: str, value: float, **kw: object) -> cd38.Interpretation:
    s = S(**{**CLL, **kw}, collection_datetime=when)  # type: ignore[arg-type]
    m = M("clonal_cd5_cd38pos", value, "percent_of_parent", gate_definition="above_negative_control")
    return cd38.interpret([m], "cll", s)


def test_cll_status_change_is_a_crossing_with_hamblin_note() -> None:
    report = cd38.trends.compare([cll_at("2024-06-01T09:00", 35), cll_at("2024-01-01T09:00", 15)])
    (g,) = report.groups
    assert g.key == KEY and [w.date().isoformat() for w in g.when] == ["2024-01-01", "2024-06-01"]
    crossings = {c.rule: c for c in g.crossings}
    band = crossings["cll.cd38_band"]
    assert (band.before, band.after) == ("below_20", "30_or_more")
    assert "Hamblin 2002" in band.statement and "same lab, panel and specimen type" in band.statement
    assert (crossings["cll.cd38_status"].before, crossings["cll.cd38_status"].after) == (
        "negative",
        "positive",
    )
    (change,) = g.changes
    assert change.baseline == 15 and change.value == 35 and change.change == 20
    assert change.percent_change == pytest.approx(133.333, rel=1e-3)
    assert not report.not_comparable


@pytest.mark.parametrize(
    ("a", "b", "crossed"),
    [(6.99, 7.0, True), (7.0, 7.01, False), (19.99, 20.0, True), (20.0, 29.99, False), (29.99, 30.0, True)],
)
def test_crossings_at_the_cut_offs(a: float, b: float, crossed: bool) -> None:
    report = cd38.trends.compare([cll_at("2024-01-01T09:00", a), cll_at("2024-03-01T09:00", b)])
    assert bool(report.crossings) == crossed
    if a < 7 <= b:
        k = next(c for c in report.crossings if c.rule == "cll.kroeber_7")
        assert (k.before, k.after) == ("not_reached", "at_or_above_7")


def test_different_keys_are_not_comparable() -> None:
    a = cll_at("2024-01-01T09:00", 15)
    b = cll_at("2024-06-01T09:00", 35, cd38_clone="OKT10")
    report = cd38.trends.compare([a, b])
    assert len(report.groups) == 2 and not report.crossings
    assert all(not g.changes for g in report.groups)
    (nc,) = report.not_comparable
    assert nc.reason == "different_comparability_key" and "Not comparable" in nc.statement


def test_incomplete_key_is_not_comparable() -> None:
    a = cll_at("2024-01-01T09:00", 15)
    b = cll_at("2024-06-01T09:00", 35, gating_version=None)
    report = cd38.trends.compare([a, b])
    nc = [n for n in report.not_comparable if n.reason == "comparability_key_incomplete"]
    assert len(nc) == 1 and "gating_version" in nc[0].statement and "not comparable" in nc[0].statement


@pytest.mark.parametrize(
    ("second", "warned"), [("11:00", False), ("11:01", True), ("04:59", True), ("05:00", False)]
)
def test_draw_time_difference_over_3h(second: str, warned: bool) -> None:
    report = cd38.trends.compare([cll_at("2024-01-01T08:00", 15), cll_at(f"2024-03-01T{second}", 16)])
    codes = [n.code for n in report.groups[0].notes]
    assert ("draw_time_differs" in codes) == warned


def test_draw_time_wraps_midnight_and_ignores_date_only() -> None:
    late = cd38.trends.compare([cll_at("2024-01-01T23:30", 15), cll_at("2024-03-01T01:00", 16)])
    assert not late.groups[0].notes
    dates = cd38.trends.compare([cll_at("2024-01-01", 15), cll_at("2024-03-01T15:00", 16)])
    assert not dates.groups[0].notes


def test_specimen_change_noted() -> None:
    report = cd38.trends.compare(
        [
            cll_at("2024-01-01T09:00", 15, specimen_type="PB"),
            cll_at("2024-03-01T09:00", 16, specimen_type="BM"),
        ]
    )
    assert "specimen_type_differs" in [n.code for n in report.groups[0].notes]


def test_measurement_pairs_with_and_without_context() -> None:
    s1 = S(**KEY, collection_datetime="2024-01-01T09:00", age_years=40)
    s2 = S(**KEY, collection_datetime="2024-04-01T09:00", age_years=40)
    m1, m2 = M("b_cells", 5.0, "percent_of_parent"), M("b_cells", 12.0, "percent_of_parent")
    plain = cd38.trends.compare([(s1, m1), (s2, [m2])])
    assert [c.change for c in plain.groups[0].changes] == [7.0] and not plain.crossings
    banded = cd38.trends.compare([(s1, m1), (s2, [m2])], context="general")
    (c,) = banded.crossings
    assert (c.rule, c.before, c.after) == ("general.reference_band", "below_band", "within_band")


def test_baseline_is_the_earliest_and_series_are_separate() -> None:
    pts = [
        (
            S(**KEY, collection_datetime=f"2024-0{i}-01T09:00"),
            [M("b_cells", v, "percent_of_parent"), M("b_cells", v * 20, "cells_per_ul")],
        )
        for i, v in ((3, 12.0), (1, 10.0), (2, 0.0))
    ]
    g = cd38.trends.compare(pts).groups[0]
    pct = [c for c in g.changes if c.unit == "percent_of_parent"]
    assert [(c.baseline, c.value, c.change_from_previous) for c in pct] == [
        (10.0, 0.0, -10.0),
        (10.0, 12.0, 12.0),
    ]
    zero = cd38.trends.compare(pts[1:]).groups[0]  # Jan 10 %, Feb 0 %: baseline 10
    assert [c.percent_change for c in zero.changes if c.unit == "percent_of_parent"] == [-100.0]
    from_zero = cd38.trends.compare([pts[2], pts[0]]).groups[0]  # Feb 0 % then Mar 12 %
    assert [c.percent_change for c in from_zero.changes if c.unit == "percent_of_parent"] == [None]


def test_cadence_is_labelled_as_product_brief() -> None:
    report = cd38.trends.compare([cll_at("2024-01-01T09:00", 15)])
    assert report.cadence_source.startswith("product brief") and "not a guideline" in report.cadence_source
    assert "not from a guideline" in report.cadence[0]
    rtx = cd38.trends.compare(
        [cll_at("2024-01-01T09:00", 15, therapies=[cd38.Therapy("rituximab", "2023-06-01")])]
    )
    assert any("not for monitoring depletion" in c for c in rtx.cadence)


def test_rendering_and_errors() -> None:
    report = cd38.trends.compare([cll_at("2024-01-01T09:00", 15), cll_at("2024-06-01T09:00", 35)])
    d = json.loads(json.dumps(report.to_dict()))
    assert d["groups"][0]["crossings"] and d["cadence_source"]
    md = report.to_markdown()
    assert "Crossing" in md and "Retest cadence (product brief" in md
    with pytest.raises(cd38.InvalidArgumentError, match="collection_datetime"):
        cd38.trends.compare([(S(**KEY), M("b_cells", 5, "percent_of_parent"))])
    with pytest.raises(cd38.InvalidArgumentError, match="at least one"):
        cd38.trends.compare([])
    with pytest.raises(cd38.InvalidArgumentError, match="trend items"):
        cd38.trends.compare([42])


def test_blocked_rule_is_not_a_crossing() -> None:
    a = cll_at("2024-01-01T09:00", 15)
    b = cll_at("2024-06-01T09:00", 35, therapies=[cd38.Therapy("daratumumab", "2024-05-01")])
    assert not cd38.trends.compare([a, b]).crossings
