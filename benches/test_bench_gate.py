"""End to end on a synthetic B-cell file (read -> gate -> counts), cd38 next to
FlowKit 1.3.2 on the same Gating-ML document; the counts must agree exactly."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from bcell_data import strategy_xml, write_bcell_file

import cd38
from conftest import N_EVENTS


@pytest.fixture(scope="module")
def bcell_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bcell_file(tmp_path_factory.mktemp("gate") / "bcell.fcs", N_EVENTS)


@pytest.fixture(scope="module")
def gml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("gml") / "bcell.xml"
    p.write_text(strategy_xml())
    return p


def cd38_counts(path: Path, gml: Path) -> dict[str, int]:
    st = cd38.GatingStrategy.from_gatingml(gml)
    result = st.gate(cd38.read_fcs(path))
    return dict(zip(result.counts()["population"], result.counts()["count"], strict=True))


def flowkit_counts(path: Path, gml: Path) -> dict[str, int]:
    import flowkit as fk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = fk.parse_gating_xml(str(gml))
        res = st.gate_sample(fk.Sample(str(path)))
    rep = res.report
    return {str(g): int(c) for g, c in zip(rep["gate_name"], rep["count"], strict=True)}


def test_gate_cd38(benchmark, bcell_file: Path, gml: Path) -> None:  # type: ignore[no-untyped-def]
    counts = benchmark(cd38_counts, bcell_file, gml)
    assert counts["b_cells"] > 0


def test_gate_flowkit(benchmark, bcell_file: Path, gml: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("flowkit")
    theirs = benchmark.pedantic(flowkit_counts, args=(bcell_file, gml), rounds=1, iterations=1)
    assert theirs == cd38_counts(bcell_file, gml)
