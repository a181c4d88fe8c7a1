"""Measurement, Subject and Therapy validation, and conversion from a GatingResult."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

import cd38
from cd38.gates import Divider, Quadrant, QuadrantGate, RectangleGate
from cd38.measurement import measurements_from_result

S = cd38.Subject
M = cd38.Measurement


# -- Measurement ---------------------------------------------------------------------------
def test_measurement_defaults_and_aliases() -> None:
    m = M("transitional", 5, "percent_of_parent", gate_definition="CD38-independent")
    assert m.value == 5.0 and m.denominator == "b_cells" and m.gate_definition == "cd38_independent"
    assert m.uses_cd38
    assert M("b_cells", 12, "percent_of_parent").uses_cd38 is False
    assert M("cd8_t_cells", 3000, "abc").uses_cd38 is True
    assert M("transitional", 5, "percent_of_parent", gate_definition="hi").gate_definition == "bright"
    assert M.from_dict(m.to_dict()) == m


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"population": "", "value": 1, "unit": "cells_per_ul"}, "population"),
        ({"population": "b_cells", "value": -1, "unit": "cells_per_ul"}, ">= 0"),
        ({"population": "b_cells", "value": float("nan"), "unit": "cells_per_ul"}, "finite"),
        ({"population": "b_cells", "value": True, "unit": "cells_per_ul"}, "number"),
        ({"population": "b_cells", "value": 101, "unit": "percent_of_parent"}, "exceed 100"),
        ({"population": "b_cells", "value": 1, "unit": "mfi"}, "MFI is not accepted"),
        ({"population": "b_cells", "value": 1, "unit": "cells_per_ul", "parent": "lymphocytes"}, "parent"),
        ({"population": "b_cells", "value": 1, "unit": "cells_per_ul", "gate_definition": "dim"}, "gate_def"),
        ({"population": "b_cells", "value": 1, "unit": "cells_per_ul", "lab_range": (5, 1)}, "lab_range"),
        ({"population": "b_cells", "value": 1, "unit": "cells_per_ul", "lab_call": "medium"}, "lab_call"),
        ({"population": "b_cells", "value": 1, "unit": "cells_per_ul", "pattern": "trimodal"}, "pattern"),
        ({"population": "b_cells", "value": 1, "unit": "cells_per_ul", "units": "x"}, "did you mean 'unit'"),
    ],
)
def test_measurement_rejects(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(cd38.InvalidArgumentError, match=match):
        M(**kwargs)  # type: ignore[arg-type]


# -- Therapy -------------------------------------------------------------------------------
def test_therapy_class_lookup() -> None:
    assert cd38.Therapy("Rituximab", "2024-01-01").drug_class == "anti_cd20"
    assert cd38.Therapy("daratumumab", date(2024, 1, 1)).drug_class == "anti_cd38"
    assert cd38.Therapy("isatuximab", date(2024, 1, 1)).drug_class == "anti_cd38"
    assert cd38.Therapy("prednisone", date(2024, 1, 1), dose="60 mg").drug_class == "corticosteroid"
    assert cd38.Therapy("newmab", date(2024, 1, 1), drug_class="anti-CD20").drug_class == "anti_cd20"


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("newmab", "2024-01-01"), {}, "unknown drug 'newmab': give drug_class"),
        (("newmab", "2024-01-01"), {"drug_class": "magic"}, "drug_class must be one of"),
        (("rituximab", "2024-02-01", "2024-01-01"), {}, "before start"),
        (("rituximab", "not a date"), {}, "start must be a date"),
        (("", "2024-01-01"), {}, "drug name"),
        (("rituximab", "2024-01-01"), {"ending": "2024-02-01"}, "did you mean 'end'"),
    ],
)
def test_therapy_rejects(args: tuple[object, ...], kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(cd38.InvalidArgumentError, match=match):
        cd38.Therapy(*args, **kwargs)  # type: ignore[arg-type]


# -- Subject -------------------------------------------------------------------------------
def test_subject_normalises() -> None:
    s = S(
        age_years=70,
        diagnosis=["CLL", "KTx"],
        specimen_type="PB",
        assay_type="leukemia/lymphoma",
        collection_datetime="2024-06-01T08:30",
        analysis_datetime="2024-06-02T10:30",
        storage_temp="4C",
    )
    assert s.diagnoses == ("cll", "kidney_transplant")
    assert s.specimen_type == "peripheral_blood" and s.assay_type == "leukemia_lymphoma"
    assert s.hours_to_analysis() == pytest.approx(26.0)
    assert s.storage_temp == "refrigerated"
    assert s.clonal_b_disease
    assert S.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"age_years": -1}, "age_years"),
        ({"age_years": 200}, "age_years"),
        ({"agee": 3}, "did you mean 'age_years'"),
        ({"diagnosis": "flu"}, "unknown diagnosis"),
        ({"specimen_type": "urine"}, "specimen_type"),
        ({"collection_datetime": "2024-06-01T10:00", "analysis_datetime": "2024-06-01T09:00"}, "before"),
        ({"collection_datetime": "2024-06-01", "vaccination_date": "2024-06-02"}, "after the sample"),
        ({"collection_datetime": "2024-06-01", "transplant_date": "2024-07-01"}, "after the sample"),
        ({"transplant_date": "2024-01-01", "months_since_transplant": 3}, "not both"),
        ({"analysis_datetime": "2024-01-01T00:00", "sample_age_hours": 3}, "not both"),
        ({"postpartum_weeks": 4}, "postpartum"),
        ({"pregnancy_status": "pregnant", "pregnancy_trimester": 4}, "trimester"),
        ({"pregnancy_status": "pregnant", "sex": "male"}, "male"),
        ({"igg_lower_limit_g_l": 7}, "igg_g_l"),
        ({"clonal_b_population": "yes"}, "True, False"),
        ({"therapies": cd38.Therapy("rituximab", "2024-01-01")}, "list"),
        ({"therapies": ["rituximab"]}, "Therapy objects"),
    ],
)
def test_subject_rejects(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(cd38.InvalidArgumentError, match=match):
        S(**kwargs)  # type: ignore[arg-type]


def test_subject_positional_rejected() -> None:
    with pytest.raises(cd38.InvalidArgumentError, match="positional"):
        S(40)  # type: ignore[misc]
    with pytest.raises(cd38.InvalidArgumentError, match="positional"):
        M("b_cells", 1, "cells_per_ul", None, None, None, None, None, "extra")  # type: ignore[call-arg]


def test_transplant_months_and_days() -> None:
    s = S(transplant_date="2024-01-01", collection_datetime=datetime(2024, 4, 1, 9))
    assert s.transplant_days() == 91
    assert s.transplant_months() == pytest.approx(91 / (365.25 / 12))
    assert S(months_since_transplant=3).transplant_months() == 3


# -- from a GatingResult -------------------------------------------------------------------
def _strategy(info: dict[str, object]) -> cd38.GatingStrategy:
    d = cd38.Dimension
    st = cd38.GatingStrategy()
    st.add(RectangleGate("singlets", [d("FSC-A")], [1.0], [None]))
    st.add(RectangleGate("lymphocytes", [d("SSC-A")], [None], [60000.0]), parent="singlets")
    st.add(RectangleGate("b_cells", [d("FITC-A")], [2000.0], [None]), parent="lymphocytes")
    quads = [
        Quadrant("cd38pos_igmneg", {"cd38": 1, "igm": 0}),
        Quadrant("cd38pos_igmpos", {"cd38": 1, "igm": 1}),
        Quadrant("cd38neg_igmpos", {"cd38": 0, "igm": 1}),
        Quadrant("cd38neg_igmneg", {"cd38": 0, "igm": 0}),
    ]
    divs = [Divider("cd38", d("PerCP-Cy5-5-A"), [10000.0]), Divider("igm", d("APC-A"), [2000.0])]
    st.add(QuadrantGate("cd38_igm", divs, quads), parent="b_cells")
    st.add(RectangleGate("clonal_cd5", [d("APC-H7-A")], [2000.0], [None]), parent="b_cells")
    st.add(RectangleGate("clonal_cd5_cd38pos", [d("PerCP-Cy5-5-A")], [2000.0], [None]), parent="clonal_cd5")
    st.add(RectangleGate("my_custom", [d("FSC-A")], [1.0], [None]))
    st.info.update(info)
    return st


@pytest.fixture(scope="module")
def cll_sample(tmp_path_factory: pytest.TempPathFactory) -> cd38.Sample:
    path = Path(tmp_path_factory.mktemp("synth")) / "cll.fcs"
    cd38.synth.bcell_sample(path, 4000, seed=3, profile="cll", keep_labels=False)
    return cd38.read_fcs(path)


def test_from_gating_result_with_panel_info(cll_sample: cd38.Sample) -> None:
    st = _strategy({"panel": "bcell", "cd38_gate_definition": "above_negative_control"})
    result = st.gate(cll_sample)
    ms = measurements_from_result(result)
    by = {(m.population, m.unit): m for m in ms}
    assert ("my_custom", "percent_of_parent") not in by  # only canonical ids
    counts = {r["population"]: r for r in result.counts().iter_rows(named=True)}
    m = by[("clonal_cd5_cd38pos", "percent_of_parent")]
    assert m.parent == "clonal_cd5" and m.value == pytest.approx(counts["clonal_cd5_cd38pos"]["pct_parent"])
    assert m.gate_definition == "above_negative_control"
    assert by[("cd38pos_igmpos", "percent_of_parent")].parent == "b_cells"
    assert by[("b_cells", "percent_of_parent")].gate_definition is None  # not a CD38 population
    res = cd38.interpret(result, "cll", S(diagnosis="cll", assay_type="leukemia_lymphoma"))
    f = res.finding("cll.cd38_band")
    assert f is not None and f.value == pytest.approx(m.value)
    assert res.source["kind"] == "gating_result" and res.source["gating_version"].startswith(
        "strategy-sha256:"
    )
    assert res.comparability_key[3] == res.source["gating_version"]


def test_from_gating_result_without_definition_refuses(cll_sample: cd38.Sample) -> None:
    result = _strategy({}).gate(cll_sample)
    res = cd38.interpret(result, "cll", S(diagnosis="cll", assay_type="leukemia_lymphoma"))
    assert [r.reason for r in res.refusals] == ["cd38_gate_definition_missing"]
    stated = cd38.interpret(
        result,
        "cll",
        S(diagnosis="cll", assay_type="leukemia_lymphoma"),
        cd38_gate_definition="above_negative_control",
    )
    assert stated.finding("cll.cd38_band") is not None


def test_from_gating_result_with_absolute_counts(cll_sample: cd38.Sample) -> None:
    result = _strategy({"cd38_gate_definition": "bright"}).gate(cll_sample)
    absolute = result.absolute_counts(reference_population="lymphocytes", reference_count_per_ul=2000.0)
    ms = measurements_from_result(result, absolute=absolute)
    per_ul = {m.population: m for m in ms if m.unit == "cells_per_ul"}
    assert per_ul["lymphocytes"].value == pytest.approx(2000.0)
    assert per_ul["cd38pos_igmneg"].gate_definition == "bright"


def test_from_counts_table_and_bad_inputs() -> None:
    import polars as pl

    table = pl.DataFrame(
        {
            "population": ["b_cells", "transitional"],
            "parent": ["lymphocytes", "b_cells"],
            "pct_parent": [12.0, 4.0],
            "cells_per_ul": [240.0, 9.6],
        }
    )
    res = cd38.interpret(table, "general", S(age_years=40), cd38_gate_definition="bright")
    assert {(m.population, m.unit) for m in res.measurements} == {
        ("b_cells", "percent_of_parent"),
        ("b_cells", "cells_per_ul"),
        ("transitional", "percent_of_parent"),
        ("transitional", "cells_per_ul"),
    }
    with pytest.raises(cd38.InvalidArgumentError, match="lacks column"):
        cd38.interpret(pl.DataFrame({"population": ["b_cells"]}), "general")
    with pytest.raises(cd38.InvalidArgumentError, match="cannot interpret"):
        cd38.interpret(42, "general")
    with pytest.raises(cd38.InvalidArgumentError, match="Measurement items"):
        cd38.interpret([1, 2], "general")
    with pytest.raises(cd38.InvalidArgumentError, match="no context 'nope'"):
        cd38.interpret([], "nope")
    with pytest.raises(cd38.InvalidArgumentError, match="subject must be"):
        cd38.interpret([], "general", {"age_years": 3})  # type: ignore[arg-type]
    with pytest.raises(cd38.InvalidArgumentError, match="does not accept options"):
        cd38.interpret([], "general", options={"bogus": 1})


@pytest.mark.parametrize(
    ("value", "cuts", "text"),
    [
        (19.5549, (), "19.6"),
        (0.23456, (), "0.235"),
        (2470.6, (), "2471"),
        (5.0, (), "5"),
        (0.0, (), "0"),
        (29.96, (), "30"),
        (29.96, (20.0, 30.0), "29.96"),
        (7.04, (7.0,), "7.04"),
        (30.0, (30.0,), "30"),
    ],
)
def test_format_value(value: float, cuts: tuple[float, ...], text: str) -> None:
    from cd38.measurement import format_value

    assert format_value(value, cuts) == text


def test_to_dict_is_plain_json() -> None:
    import json

    m = M("transitional", 5.25, "percent_of_parent", lab_range=(1, 9))
    d = m.to_dict()
    assert d["lab_range"] == [1, 9] and d["denominator"] == "b_cells"
    s = S(collection_datetime="2024-06-15T09:00", therapies=[cd38.Therapy("rituximab", date(2024, 1, 1))])
    assert json.loads(json.dumps(s.to_dict()))["therapies"][0]["start"] == "2024-01-01"
