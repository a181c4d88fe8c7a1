"""Compensation against numpy and FlowKit; spillover validation."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cd38
from conftest import needs_data


@st.composite
def spill_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[int]]:
    n = draw(st.integers(1, 8))
    p = n + draw(st.integers(0, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spill = np.eye(n) + rng.uniform(0, 0.3, (n, n)) * (1 - np.eye(n))
    events = rng.normal(1000, 800, (draw(st.integers(0, 300)), p))
    cols = sorted(rng.choice(p, size=n, replace=False).tolist())
    return spill, events, cols


@settings(max_examples=80, deadline=None)
@given(spill_case())
def test_matches_numpy(case: tuple[np.ndarray, np.ndarray, list[int]]) -> None:
    spill, events, cols = case
    names = [f"c{i}" for i in range(events.shape[1])]
    sp = cd38.Spillover([names[c] for c in cols], spill)
    out = sp.apply(events, names)
    expected = events.copy()
    expected[:, cols] = events[:, cols] @ np.linalg.inv(spill)
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)
    # Spilling the compensated values again restores the measurement.
    np.testing.assert_allclose(out[:, cols] @ spill, events[:, cols], rtol=1e-9, atol=1e-7)
    assert out.dtype == events.dtype


def test_float32_stays_float32_and_input_is_untouched() -> None:
    ev = np.arange(12, dtype=np.float32).reshape(4, 3)
    before = ev.copy()
    out = cd38.Spillover(["a", "b"], [[1, 0.1], [0, 1]]).apply(ev, ["a", "b", "c"])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(ev, before)
    np.testing.assert_allclose(out[:, 1], ev[:, 1] - 0.1 * ev[:, 0], rtol=1e-6)


def test_validation(tmp_path: Path) -> None:
    with pytest.raises(cd38.CompensationError, match="singular"):
        _ = cd38.Spillover(["a", "b"], [[1, 1], [1, 1]]).inverse
    with pytest.raises(cd38.CompensationError, match="2x2"):
        cd38.Spillover(["a", "b"], [[1, 0, 0], [0, 1, 0]])
    with pytest.raises(cd38.CompensationError, match="repeat"):
        cd38.Spillover(["a", "a"], np.eye(2))
    with pytest.raises(cd38.CompensationError, match="not channels"):
        cd38.Spillover(["a", "zz"], np.eye(2)).apply(np.zeros((1, 2)), ["a", "b"])
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B\n1,0.1\n")
    with pytest.raises(cd38.CompensationError, match="square"):
        cd38.Spillover.from_csv(bad)
    ok = tmp_path / "ok.csv"
    ok.write_text(",A,B\nA,1,0.1\nB,0.2,1\n")
    sp = cd38.Spillover.from_csv(ok)
    assert sp.detectors == ["A", "B"]
    np.testing.assert_array_equal(sp.matrix, [[1, 0.1], [0.2, 1]])


def test_sample_compensate(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    true = rng.uniform(0, 1000, (100, 2))
    spill = np.array([[1.0, 0.2], [0.05, 1.0]])
    measured = np.column_stack([rng.uniform(size=100), true @ spill])
    path = cd38.write_fcs(
        tmp_path / "s.fcs",
        measured,
        ["FSC-A", "FL1-A", "FL2-A"],
        keywords={"$SPILLOVER": "2,FL1-A,FL2-A,1,0.2,0.05,1"},
        datatype="D",
    )
    s = cd38.read_fcs(path)
    c = s.compensate()
    np.testing.assert_allclose(c.to_numpy()[:, 1:], true, rtol=1e-9)
    np.testing.assert_array_equal(c.to_numpy()[:, 0], measured[:, 0])
    np.testing.assert_array_equal(s.to_numpy(), measured)
    assert c.compensation == s.spillover
    nospill = cd38.read_fcs(cd38.write_fcs(tmp_path / "n.fcs", measured, ["A", "B", "C"]))
    with pytest.raises(cd38.CompensationError, match="no spillover"):
        nospill.compensate()


@needs_data
@pytest.mark.parametrize("use_csv", [True, False])
def test_matches_flowkit(data_dir: Path, use_csv: bool) -> None:
    fk = pytest.importorskip("flowkit")
    path = data_dir / "fcs/flowkit/test_comp_example.fcs"
    csv = data_dir / "fcs/flowkit/comp_complete_example.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = fk.Sample(str(path), ignore_offset_error=True)
        k.apply_compensation(str(csv) if use_csv else k.metadata["spill"])
        ref = k.get_events(source="comp")
    s = cd38.read_fcs(path)
    ours = s.compensate(cd38.Spillover.from_csv(csv) if use_csv else None).to_numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-3)


def _control(tmp_path: Path, name: str, true: np.ndarray, spill: np.ndarray) -> Path:
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    noisy = true @ spill + rng.normal(0, 5, true.shape)
    return cd38.write_fcs(tmp_path / f"{name}.fcs", noisy, ["D1", "D2", "D3"], datatype="D")


def test_spillover_from_controls_recovers_a_known_matrix(tmp_path: Path) -> None:
    spill = np.array([[1.0, 0.15, 0.02], [0.05, 1.0, 0.3], [0.0, 0.08, 1.0]])
    rng = np.random.default_rng(11)
    n = 4000
    neg_true = rng.normal(50, 10, (n, 3))
    negative = _control(tmp_path, "unstained", neg_true, spill)
    controls = {}
    for j, d in enumerate(["D1", "D2", "D3"]):
        t = rng.normal(50, 10, (n, 3))
        bright = rng.random(n) < 0.5  # cells: half stained, half not
        t[bright, j] = rng.lognormal(9, 0.3, bright.sum())
        controls[d] = _control(tmp_path, d, t, spill)
    sp = cd38.Spillover.from_controls(controls, negative)
    np.testing.assert_allclose(sp.matrix, spill, atol=0.01)
    with pytest.raises(cd38.CompensationError, match="positive events"):
        cd38.Spillover.from_controls(controls, negative, min_events=10_000)


@needs_data
def test_spillover_from_bead_controls(data_dir: Path) -> None:
    folder = data_dir / "fcs/flowkit/4_color_beads"
    files = {p.name.split("_")[2] + " " + p.name.split("_")[3] + "-A": p for p in folder.glob("*.fcs")}
    assert set(files) == {"Red B-A", "Red A-A", "Blue B-A", "Green A-A"}
    sp = cd38.Spillover.from_controls(files)
    np.testing.assert_array_equal(np.diag(sp.matrix), 1.0)
    for j, (det, path) in enumerate(files.items()):
        comp = cd38.read_fcs(path).compensate(sp)
        med = np.median(comp.to_numpy()[:, [comp.channels.index(d) for d in files]], axis=0)
        off = np.delete(med, j)
        # Compensated, a single-stain control shows (almost) nothing outside its own detector.
        assert np.all(np.abs(off) < 0.01 * med[j]), (det, med)


@needs_data
def test_gatingml_spectrum_matrix_reproduces_rectangle3(data_dir: Path) -> None:
    gml = data_dir / "gatingml2/gml/gml_matrix_rect3_gate.xml"
    sp = cd38.Spillover.from_gatingml(gml)
    assert sp.fluorochromes == ["FITC", "PE", "PerCP"]
    assert sp.detectors == ["FL1-H", "FL2-H", "FL3-H"]
    s = cd38.read_fcs(data_dir / "gatingml2/data1.fcs")
    comp = sp.apply(s.to_numpy(), s.channels)
    fitc, pe = comp[:, s.channels.index("FL1-H")], comp[:, s.channels.index("FL2-H")]
    inside = (fitc >= 5) & (fitc < 70) & (pe >= 9) & (pe < 208)
    truth = np.loadtxt(data_dir / "gatingml2/truth/Results_Rectangle3.txt", dtype=int).astype(bool)
    np.testing.assert_array_equal(inside, truth)
    with pytest.raises(cd38.GatingMLError, match="found 0"):
        cd38.Spillover.from_gatingml(gml, matrix_id="nope")


def test_gatingml_hostile_and_malformed() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(cd38.GatingMLError, match="DOCTYPE"):
        cd38.Spillover.from_gatingml(bomb)
    with pytest.raises(cd38.GatingMLError, match="malformed"):
        cd38.Spillover.from_gatingml("<a><b></a>")
