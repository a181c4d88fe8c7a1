"""Wording: no output of any context diagnoses; every finding is cited, tagged and stamped; rendering."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import cd38
from cd38.contexts.evidence import EVIDENCE_TAGS, S_ONLY_CAVEAT
from cd38.interpretation import FORBIDDEN_PHRASES

M, S, T = cd38.Measurement, cd38.Subject, cd38.Therapy
WHEN = "2024-06-15T09:00"
FORBIDDEN = ("you have", "diagnosis of", "indicates disease", "intermediate risk", "you are")


def cases() -> Iterator[tuple[str, list[cd38.Measurement], cd38.Subject]]:
    bright = {"gate_definition": "bright"}
    for v in (3, 7, 15, 20, 25, 30, 60):
        yield (
            "cll",
            [
                M(
                    "clonal_cd5_cd38pos",
                    v,
                    "percent_of_parent",
                    gate_definition="above_negative_control",
                    pattern="bimodal",
                )
            ],
            S(diagnosis="cll", assay_type="leukemia_lymphoma", collection_datetime=WHEN),
        )
    yield "cll", [M("cd38pos_igmpos", 30, "percent_of_parent", **bright)], S(diagnosis="sle")
    for v in (0.5, 3, 12):
        yield (
            "kidney_transplant",
            [
                M("transitional", v, "percent_of_parent", lab_range=(1, 9), **bright),
                M("plasmablasts", 1, "percent_of_parent", **bright),
                M("tissue_cd38pos", v * 20, "cells_per_mm2"),
            ],
            S(diagnosis=["ktx", "caabmr"], months_since_transplant=3),
        )
    for igm in (0, 0.2, 2):
        yield (
            "cgvhd",
            [
                M("nonswitched_memory", igm, "cells_per_ul"),
                M("b_cells", 50, "cells_per_ul"),
                M("b_cells", 10, "percent_of_parent"),
                M("switched_memory", 3, "percent_of_parent"),
            ],
            S(diagnosis="hsct", months_since_transplant=12, igg_g_l=4, igg_lower_limit_g_l=7, age_years=30),
        )
    for dx in ("aa", "t1d", "sle"):
        yield "breg", [M("transitional", 2, "percent_of_parent", lab_range=(3, 9), **bright)], S(diagnosis=dx)
    yield "breg", [M("transitional", 2, "percent_of_parent", **bright)], S(pregnancy_status="pregnant")
    yield (
        "sle_ssc",
        [M("cd38pos_igmneg", 20, "cells_per_ul", **bright), M("plasmablasts", 9000, "abc")],
        S(
            diagnosis=["sle", "ssc"],
            age_years=30,
            therapies=[T("cm313", "2024-01-01")],
            collection_datetime=WHEN,
        ),
    )
    yield "sle_ssc", [M("plasmablasts", 2, "cells_per_ul", **bright)], S(diagnosis="sle", age_years=30)
    yield (
        "lymphoma_myeloma",
        [M("tumor_cd38pos", 50, "percent_of_parent", lab_call="high", **bright)],
        S(diagnosis=["dlbcl", "mm"], mrd_status="positive"),
    )
    for abc in (1000, 3000, 5000, 9000):
        yield (
            "t_cell_activation",
            [
                M("cd8_t_cells", abc, "abc"),
                M("cd8_cd38pos", 30, "percent_of_parent", **bright),
                M("cd8_hladr_cd38hi", 10, "percent_of_parent", **bright),
            ],
            S(diagnosis=["hiv", "covid19"]),
        )
    yield "solid_tumor_literature", [], S()
    for age in (0.01, 3, 12, 40):
        yield (
            "general",
            [
                M(p, 5, "percent_of_parent", lab_range=(1, 4), **bright)
                for p in ("b_cells", "cd38pos_igmneg", "transitional", "switched_memory", "cd21low")
            ]
            + [M("cd38pos_igmneg", 9, "cells_per_ul", **bright)],
            S(
                age_years=age,
                therapies=[T("rituximab", "2024-01-01"), T("prednisone", "2024-06-14")],
                vaccination_date="2024-06-10",
                recent_infection_date="2024-06-01",
                sample_age_hours=30,
                storage_temp="ambient",
                collection_datetime=WHEN,
            ),
        )


ALL = list(cases())


def texts(res: cd38.Interpretation) -> Iterator[str]:
    for f in res.findings:
        yield f.statement
        yield from f.caveats
    for group in (res.warnings, res.refusals, res.blocked):
        for x in group:
            yield x.statement


@pytest.mark.parametrize(("context", "ms", "subject"), ALL)
def test_no_diagnostic_phrasing_anywhere(
    context: str, ms: list[cd38.Measurement], subject: cd38.Subject
) -> None:
    res = cd38.interpret(ms, context, subject)
    for text in texts(res):
        low = text.lower()
        for phrase in FORBIDDEN:
            assert phrase not in low, (context, text)
    for f in res.findings:
        assert f.citations and all(c.evidence in EVIDENCE_TAGS for c in f.citations)
        assert f.evidence_level and set(f.evidence_level) <= set(EVIDENCE_TAGS)
        assert f.plugin is not None and f.plugin.context == context
        assert f.rule.startswith(f"{context}.")
        if "associated with" not in f.statement:
            # statements that carry no cohort association are positions, context or pass-through values
            assert f.category in {
                "below_band",
                "within_band",
                "above_band",
                "below_lab_range",
                "within_lab_range",
                "above_lab_range",
                "no_band",
                "secondary",
                "context_only",
                "positive",
                "negative",
                "informational",
                "pattern_absent",
                "expected_repopulation_pattern",
                "expected_during_depletion",
                "literature_context",
                "no_cutoff_context",
            }, f
    for r in res.refusals:
        assert r.rule.startswith(f"{context}.") and r.reason


def test_every_context_is_exercised() -> None:
    builtins = set(cd38.contexts.BUILTINS)
    assert {c for c, _, _ in ALL} == builtins
    rules_seen = {f.rule for c, ms, s in ALL for f in cd38.interpret(ms, c, s).findings}
    declared = {r for c in builtins for r in cd38.contexts.describe(c)["rules"]}
    assert declared - rules_seen <= {
        "kidney_transplant.biopsy_cd38_density",
        "sle_ssc.cd38_level",
        "lymphoma_myeloma.myeloma_cd38_level",
    }


@pytest.mark.parametrize(
    "phrase",
    [
        "You have CLL.",
        "This is a diagnosis of lupus.",
        "It indicates disease.",
        "intermediate risk CLL",
        "Diagnosed with SLE",
    ],
)
def test_finding_rejects_diagnostic_phrasing(phrase: str) -> None:
    cite = cd38.contexts.Citation("k_2020", "J", 2020)
    with pytest.raises(cd38.InvalidArgumentError, match="diagnostic phrasing"):
        cd38.Finding("x.rule", "cat", phrase, (cite,), ("V",))
    with pytest.raises(cd38.InvalidArgumentError, match="diagnostic phrasing"):
        cd38.Finding("x.rule", "cat", "fine", (cite,), ("V",), caveats=(phrase,))
    assert all(p in FORBIDDEN_PHRASES for p in FORBIDDEN)


def test_finding_validation() -> None:
    cite = cd38.contexts.Citation("k_2020", "J", 2020)
    with pytest.raises(cd38.InvalidArgumentError, match="citation"):
        cd38.Finding("x.rule", "cat", "fine", (), ("V",))
    with pytest.raises(cd38.InvalidArgumentError, match="evidence tag"):
        cd38.Finding("x.rule", "cat", "fine", (cite,), ("maybe",))
    with pytest.raises(cd38.InvalidArgumentError, match="rule ids"):
        cd38.Finding("norule", "cat", "fine", (cite,), ("V",))
    with pytest.raises(cd38.InvalidArgumentError, match="category"):
        cd38.Finding("x.rule", "Not A Code", "fine", (cite,), ("V",))


def test_s_only_claim_is_never_established() -> None:
    cite = cd38.contexts.Citation("k_2020", "J", 2020)
    f = cd38.Finding("x.rule", "cat", "In the brief, X was associated with Y.", (cite,), ("S",))
    assert S_ONLY_CAVEAT in f.caveats
    g = cd38.Finding("x.rule", "cat", "In a cohort, X was associated with Y.", (cite,), ("V-abs", "S"))
    assert S_ONLY_CAVEAT not in g.caveats


def test_unverified_brief_numbers_absent() -> None:
    out = " ".join(t for c, ms, s in ALL for t in texts(cd38.interpret(ms, c, s)))
    assert "823 hospitalized" not in out and "1-3 % of B cells" not in out
    assert "ZAP-70" not in out


def test_to_dict_json_and_markdown() -> None:
    context, ms, subject = ALL[3]
    res = cd38.interpret(ms, context, subject)
    d = json.loads(res.to_json())
    assert d["context"] == "cll" and d["plugin"]["distribution"] == "cd38"
    assert d["findings"][0]["rule"] == "cll.cd38_band" and d["findings"][0]["citations"][0]["evidence"]
    assert set(d) >= {
        "findings",
        "warnings",
        "refusals",
        "blocked",
        "reference_bands",
        "companion_tests",
        "disclaimer",
        "comparability_key",
        "subject",
        "measurements",
    }
    md = res.to_markdown()
    assert md.startswith("# cd38 interpretation: `cll`")
    assert "## Findings" in md and "`cll.cd38_band`" in md and "## Companion tests" in md
    assert "not a diagnosis" in md
    general = cd38.interpret(ALL[-1][1], "general", ALL[-1][2])
    gmd = general.to_markdown()
    assert "## Reference bands" in gmd and "## Warnings" in gmd
    assert json.loads(general.to_json())["reference_bands"]
