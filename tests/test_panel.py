"""The B-cell panel: subset recovery against cd38.synth's ground truth, marker
lookup, controls and explicit thresholds, missing markers, a real panel file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from panel_truth import definitions, true_fraction

import cd38
from cd38 import synth
from cd38.errors import InvalidArgumentError
from cd38.panels import bcell, controls_from_dir, describe, find_markers
from conftest import shared_data_dir


def _check_recovery(
    ss: synth.SynthSample, strategy: cd38.GatingStrategy, cd38_gate: str, absent: frozenset[str] = frozenset()
) -> list[str]:
    """Each subset within 1 percentage point of the truth, or 3 binomial SEs where
    larger. Gates in ``absent`` must be missing, and truly empty."""
    sample = cd38.read_fcs(ss.path)
    counts = {r["population"]: r for r in strategy.gate(sample).counts().iter_rows(named=True)}
    checked = []
    for gate in definitions(cd38_gate):
        truth, n_parent = true_fraction(ss, gate, cd38_gate)
        if n_parent == 0:
            continue
        if gate in absent:
            assert gate not in counts and truth == 0, gate
            continue
        assert gate in counts, f"{gate} not built: {strategy.info['missing'].get(gate)}"
        got = counts[gate]["pct_parent"]
        se = 100 * math.sqrt(max(truth * (1 - truth), 0.0) / n_parent)
        tol = max(1.0, 3 * se)
        assert got is not None and abs(got - 100 * truth) <= tol, (
            f"{gate}: {got:.2f} % vs true {100 * truth:.2f} % (tolerance {tol:.2f})"
        )
        checked.append(gate)
    return checked


@pytest.mark.parametrize(
    ("profile", "seed", "spill", "n"),
    [
        ("healthy", 1, 1.0, 150_000),
        ("healthy", 2, 0.5, 150_000),
        ("healthy", 3, 2.0, 150_000),
        ("cll", 4, 1.0, 150_000),
        ("cll", 5, 2.0, 150_000),
        ("post_rituximab", 6, 1.0, 300_000),
    ],
)
def test_recovers_subsets(tmp_path: Path, profile: str, seed: int, spill: float, n: int) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", n, seed=seed, profile=profile, spill=spill)
    st = bcell(cd38.read_fcs(ss.path))
    checked = _check_recovery(ss, st, "bright", frozenset({"transitional"} if profile == "cll" else ()))
    assert {"cd38pos_igmneg", "cd38pos_igmpos", "naive", "switched_memory", "plasmablasts"} <= set(checked)
    if profile == "cll":
        # No CD24-bright cells exist in this profile: the panel says so instead of guessing.
        assert "transitional" not in st.population_ids()
        assert "CD24-bright" in st.info["missing"]["transitional"]
        assert "clonal_cd5_cd38pos" in checked


@pytest.mark.parametrize("seed", [11, 12])
def test_recovers_chosen_fractions(tmp_path: Path, seed: int) -> None:
    mix = {"naive": 0.4, "plasmablast": 0.2, "transitional": 0.1, "switched_memory": 0.2, "cd21low": 0.1}
    ss = synth.bcell_sample(tmp_path / "s.fcs", 150_000, seed=seed, b_subsets=mix)
    st = bcell(cd38.read_fcs(ss.path))
    _check_recovery(ss, st, "bright")


def test_above_negative_control_with_fmo_controls(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 150_000, seed=21, profile="cll")
    ctl = synth.fmo_controls(tmp_path / "controls", ["CD38", "IgM", "CD5"], 60_000, profile="cll")
    st = bcell(
        cd38.read_fcs(ss.path),
        controls={m: c.path for m, c in ctl.items()},
        cd38_gate="above_negative_control",
    )
    assert st.info["cd38_gate_definition"] == "above_negative_control"
    cut = st.info["thresholds"]["CD38"]
    assert cut["method"] == "control_percentile" and cut["parameters"]["percentile"] == 99.5
    assert cut["source"] == str(ctl["CD38"].path) and len(cut["source_blake3"]) == 64
    _check_recovery(ss, st, "above_negative_control", frozenset({"transitional"}))


def test_above_negative_control_needs_a_control(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 40_000, seed=2)
    st = bcell(cd38.read_fcs(ss.path), cd38_gate="above_negative_control")
    assert "cd38pos_igmneg" not in st.population_ids()
    assert "control" in st.info["missing"]["cd38pos_igmneg"]
    # Subsets that do not need the CD38 negative cut are still built.
    assert {"b_cells", "naive", "transitional"} <= set(st.population_ids())


def test_explicit_thresholds_are_recorded(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 40_000, seed=3)
    st = bcell(cd38.read_fcs(ss.path), thresholds={"CD38hi": 12000.0, "IgM": 400.0})
    rec = st.info["thresholds"]
    assert rec["CD38hi"]["method"] == "explicit" and rec["CD38hi"]["parameters"]["scale_value"] == 12000.0
    assert rec["IgM"]["method"] == "explicit"
    assert rec["CD19"]["method"] == "mirrored_negative"
    with pytest.raises(InvalidArgumentError, match="CD99"):
        bcell(cd38.read_fcs(ss.path), thresholds={"CD99": 1.0})
    with pytest.raises(InvalidArgumentError, match="cd38_gate"):
        bcell(cd38.read_fcs(ss.path), cd38_gate="loose")


def test_every_cut_and_gate_says_where_it_came_from(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 40_000, seed=4)
    st = bcell(ss.path)
    info = st.info
    assert info["panel"] == "bcell" and info["cd38_gate_definition"] == "bright"
    assert info["clonal_cd5_cd38_gate_definition"] == "above_negative_control"
    for key, t in info["thresholds"].items():
        assert t["method"] and t["transform"], key
    assert set(info["scatter_gates"]) >= {"singlets", "lymphocytes"}
    assert info["missing"] == {}
    assert "B-cell panel" in describe(st)


def test_gatingml_round_trip_gives_identical_counts(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 40_000, seed=5)
    s = cd38.read_fcs(ss.path)
    st = bcell(s)
    again = cd38.GatingStrategy.from_gatingml(st.to_gatingml())
    assert again.gate(s).counts().equals(st.gate(s).counts())
    assert bcell(s).hash() == st.hash()  # deterministic


def _relabel(src: Path, dst: Path, markers: dict[str, str]) -> Path:
    """Copy a synth file with some $PnS replaced (same events)."""
    s = cd38.read_fcs(src)
    labels = [markers.get(m, m) for m in s.markers]
    kw = {"$SPILLOVER": s.keywords["$SPILLOVER"]}
    cd38.write_fcs(dst, s.to_numpy(), s.channels, labels, keywords=kw)
    return dst


def test_marker_spellings(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 5_000, seed=6)
    spelled = {
        "CD38": "CD38 PerCP-Cy5.5",
        "IgM": "sIgM",
        "CD3": "CD3;FITC;530/30",
        "IgD": "IgD-BV421",
        "Viability": "Live/Dead Aqua",
        "CD19": "cd19",
    }
    s = cd38.read_fcs(_relabel(ss.path, tmp_path / "r.fcs", spelled))
    found = find_markers(s)
    for marker in synth.MARKERS:
        assert found[marker] == synth.DETECTORS[synth.MARKERS.index(marker)], marker
    with pytest.raises(InvalidArgumentError, match="names no channel"):
        find_markers(s, {"CD38": "nope"})
    with pytest.raises(InvalidArgumentError, match="unknown marker"):
        find_markers(s, {"CD999": "PE-A"})


def test_override_and_ambiguity(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 5_000, seed=7)
    s = cd38.read_fcs(_relabel(ss.path, tmp_path / "a.fcs", {"CD27": "CD38 (2nd clone)"}))
    with pytest.raises(InvalidArgumentError, match="several channels"):
        find_markers(s)
    fixed = find_markers(s, {"CD38": "PerCP-Cy5-5-A", "CD27": "BV421-A"})
    assert fixed["CD38"] == "PerCP-Cy5-5-A" and fixed["CD27"] == "BV421-A"
    with pytest.raises(InvalidArgumentError, match="matched to both"):
        find_markers(s, {"CD38": "PerCP-Cy5-5-A", "CD27": "PerCP-Cy5-5-A"})


def test_missing_markers_build_what_they_can(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "s.fcs", 60_000, seed=8)
    s = cd38.read_fcs(_relabel(ss.path, tmp_path / "m.fcs", {"CD38": "", "CD3": ""}))
    st = bcell(s)
    missing = st.info["missing"]
    assert "CD38" in missing["cd38pos_igmneg"] and "CD38" in missing["transitional"]
    assert "CD3" in missing["t_cells"]
    assert {"b_cells", "naive", "switched_memory", "clonal_cd5"} <= set(st.population_ids())
    assert any("CD3+" in n for n in st.info["notes"])
    st.gate(s)  # and it runs

    s2 = cd38.read_fcs(_relabel(ss.path, tmp_path / "n.fcs", {"CD19": "CD20"}))
    st2 = bcell(s2)
    assert "CD19" in st2.info["missing"]["b_cells"] and "never CD20" in st2.info["missing"]["b_cells"]
    assert "naive" in st2.info["missing"]


def test_controls_from_dir(tmp_path: Path) -> None:
    for name in ["FMO_CD38.fcs", "IgM isotype.fcs", "sample_01.fcs", "unstained.fcs", "notes.txt"]:
        (tmp_path / name).write_bytes(b"")
    found = controls_from_dir(tmp_path)
    assert found == {"CD38": str(tmp_path / "FMO_CD38.fcs"), "IgM": str(tmp_path / "IgM isotype.fcs")}
    (tmp_path / "CD38 FMO 2.fcs").write_bytes(b"")
    with pytest.raises(InvalidArgumentError, match="two controls"):
        controls_from_dir(tmp_path)
    with pytest.raises(InvalidArgumentError, match="not a directory"):
        controls_from_dir(tmp_path / "nope")


def test_no_events_is_a_clear_error(tmp_path: Path) -> None:
    cd38.write_fcs(tmp_path / "e.fcs", np.zeros((0, 3), np.float32), ["FSC-A", "FSC-H", "SSC-A"])
    with pytest.raises(InvalidArgumentError, match="no events"):
        bcell(tmp_path / "e.fcs")


def test_real_bcell_panel_file() -> None:
    path = shared_data_dir() / "fcs" / "flowkit" / "index_sorted_example.fcs"
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    s = cd38.read_fcs(path)
    st = bcell(s)
    info = st.info
    assert info["markers"] == {"CD19": "RL 780/60-A", "CD21": "BL 530/30-A", "Viability": "BL 695/40-A"}
    assert {"singlets", "lymphocytes", "viable", "b_cells"} <= set(info["built"])
    assert "CD3" in info["missing"]["t_cells"]
    assert "CD38" in info["missing"]["cd38pos_igmneg"]
    counts = st.gate(s).counts()
    assert counts.filter(counts["population"] == "b_cells")["count"][0] > 0


def test_panel_result_feeds_the_cll_context(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "cll.fcs", 100_000, seed=31, profile="cll")
    s = cd38.read_fcs(ss.path)
    r = bcell(s).gate(s)
    from cd38.measurement import measurements_from_result

    by_pop = {m.population: m for m in measurements_from_result(r) if m.unit == "percent_of_parent"}
    # CLL CD38 status is gated above the negative control, the quadrants as bright.
    assert by_pop["clonal_cd5_cd38pos"].gate_definition == "above_negative_control"
    assert by_pop["cd38pos_igmneg"].gate_definition == "bright"
    subject = cd38.Subject(age_years=60, diagnosis="cll", assay_type="leukemia_lymphoma")
    out = cd38.interpret(r, "cll", subject)
    band = next(f for f in out.findings if f.rule == "cll.cd38_band")
    true_pct = 100 * true_fraction(ss, "clonal_cd5_cd38pos")[0]
    assert band.value == pytest.approx(by_pop["clonal_cd5_cd38pos"].value)
    assert band.category == ("30_or_more" if band.value >= 30 else "20_to_29")
    assert abs(band.value - true_pct) < 1.0
    assert not any("'bright'" in c for c in band.caveats)


def test_tiny_file_builds_what_it_can(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "tiny.fcs", 40, seed=3)
    st = bcell(ss.path)
    assert "too few" in st.info["missing"]["singlets"]
    st.gate(cd38.read_fcs(ss.path))
