"""Tests of the vaccine_response plugin, run by cd38's `make test` after installing the package."""

from __future__ import annotations

import importlib.metadata
from datetime import date, timedelta

import pytest

import cd38
from cd38_vaccine_response import VaccineResponseContext, window_of

VAX = date(2024, 3, 1)


def subject(days: int, **kw: object) -> cd38.Subject:
    when = VAX + timedelta(days=days)
    return cd38.Subject(vaccination_date=VAX, collection_datetime=f"{when.isoformat()}T09:00", **kw)


def pb(value: float = 9.5, **kw: object) -> cd38.Measurement:
    return cd38.Measurement("cd38pos_igmneg", value, "percent_of_parent", gate_definition="bright", **kw)


def test_installed_package_is_discovered() -> None:
    eps = [
        ep for ep in importlib.metadata.entry_points(group="cd38.contexts") if ep.name == "vaccine_response"
    ]
    assert eps, "cd38-vaccine-response is not installed (make test installs it)"
    cd38.contexts.refresh()
    assert "vaccine_response" in cd38.contexts.available()
    d = cd38.contexts.describe("vaccine_response")
    assert d["distribution"] == "cd38-vaccine-response"
    assert d["builtin"] is False
    assert set(d["rules"]) == {
        "vaccine_response.days_since_vaccination",
        "vaccine_response.plasmablast_level",
    }


@pytest.mark.parametrize(
    ("days", "category"),
    [
        (0, "days_0_to_4"),
        (4, "days_0_to_4"),
        (5, "days_5_to_8"),
        (6, "days_5_to_8"),
        (8, "days_5_to_8"),
        (9, "days_9_to_14"),
        (14, "days_9_to_14"),
        (15, "beyond_14_days"),
    ],
)
def test_window_edges(days: int, category: str) -> None:
    assert window_of(days) == category
    res = cd38.interpret([pb()], "vaccine_response", subject(days))
    f = res.finding("vaccine_response.days_since_vaccination")
    assert f is not None and f.category == category and f.value == days
    assert f.plugin is not None and f.plugin.distribution == "cd38-vaccine-response"
    assert f.plugin.version == "0.1.0"


def test_level_in_window_is_the_expected_surge() -> None:
    res = cd38.interpret([pb(9.5, lab_range=(0.5, 5.0))], "vaccine_response", subject(6))
    f = res.finding("vaccine_response.plasmablast_level")
    assert f is not None and f.category == "above_lab_range"
    assert "expected" in f.statement
    later = cd38.interpret([pb(9.5, lab_range=(0.5, 5.0))], "vaccine_response", subject(20))
    g = later.finding("vaccine_response.plasmablast_level")
    assert g is not None and "expected" not in g.statement
    # cd38's own confounder warning fires within 14 days, not after
    assert "recent_vaccination" in [w.code for w in res.warnings]
    assert "recent_vaccination" not in [w.code for w in later.warnings]


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (0.49, "below_lab_range"),
        (0.5, "within_lab_range"),
        (5.0, "within_lab_range"),
        (5.01, "above_lab_range"),
    ],
)
def test_lab_range_edges(value: float, category: str) -> None:
    res = cd38.interpret([pb(value, lab_range=(0.5, 5.0))], "vaccine_response", subject(6))
    f = res.finding("vaccine_response.plasmablast_level")
    assert f is not None and f.category == category


def test_refuses_without_vaccination_date() -> None:
    res = cd38.interpret([pb()], "vaccine_response", cd38.Subject(collection_datetime="2024-03-07T09:00"))
    assert not res.findings
    assert {(r.rule, r.reason) for r in res.refusals} == {
        ("vaccine_response.days_since_vaccination", "missing_metadata"),
        ("vaccine_response.plasmablast_level", "missing_metadata"),
    }


def test_refuses_without_collection_date() -> None:
    res = cd38.interpret([pb()], "vaccine_response", cd38.Subject(vaccination_date=VAX))
    assert [r.reason for r in res.refusals] == ["missing_metadata"]


def test_blocked_under_anti_cd38_therapy() -> None:
    s = subject(6, therapies=[cd38.Therapy("daratumumab", "2024-01-01")])
    res = cd38.interpret([pb(9.5, lab_range=(0.5, 5.0))], "vaccine_response", s)
    assert [b.reason for b in res.blocked] == ["anti_cd38_epitope_masking"]
    assert res.finding("vaccine_response.days_since_vaccination") is not None


def test_wording_never_diagnoses() -> None:
    for days in (2, 6, 10, 30):
        res = cd38.interpret([pb(9.5, lab_range=(0.5, 5.0))], "vaccine_response", subject(days))
        for f in res.findings:
            low = f.statement.lower()
            assert not any(p in low for p in ("you have", "diagnosis of", "indicates disease"))


def test_protocol_conformance() -> None:
    ctx = VaccineResponseContext()
    assert isinstance(ctx, cd38.contexts.ContextPlugin)
    assert ctx.api_version == cd38.contexts.API_VERSION
    assert all(isinstance(c, cd38.contexts.Citation) for c in ctx.citations)
