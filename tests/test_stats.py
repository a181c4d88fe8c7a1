"""Statistics against numpy on random populations and on the compliance-suite sample."""

from __future__ import annotations

from pathlib import Path

import blake3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cd38
from cd38 import _core
from cd38.gates import RectangleGate
from conftest import DATA, needs_data

STATS = ["mean", "sd", "cv", "geomean", "median", "rsd", "rcv", "mad", "min", "max"]
PCTS = [0.0, 5.0, 25.0, 75.0, 95.0, 100.0, 33.3]


def numpy_stats(x: np.ndarray) -> list[float]:
    if x.size == 0 or np.isnan(x).any():
        return [np.nan] * (len(STATS) + len(PCTS))
    med = np.median(x)
    p16, p84 = np.percentile(x, [15.87, 84.13])
    rsd = (p84 - p16) / 2
    pos = x[x > 0]
    sd = np.std(x, ddof=1) if x.size > 1 else np.nan
    vals = {
        "mean": np.mean(x),
        "sd": sd,
        "cv": 100 * sd / np.mean(x),
        "geomean": np.exp(np.mean(np.log(pos))) if pos.size else np.nan,
        "median": med,
        "rsd": rsd,
        "rcv": 100 * rsd / med,
        "mad": np.median(np.abs(x - med)),
        "min": np.min(x),
        "max": np.max(x),
    }
    return [vals[s] for s in STATS] + list(np.percentile(x, PCTS))


def compare(events: np.ndarray, pops: list[np.ndarray | None]) -> None:
    n_cols = events.shape[1]
    flat = _core.population_stats(
        events, [None if p is None else p.astype(np.uint32) for p in pops], list(range(n_cols)), STATS, PCTS
    )
    got = flat.reshape(len(pops), n_cols, -1)
    for i, p in enumerate(pops):
        rows = events if p is None else events[p]
        for c in range(n_cols):
            want = np.array(numpy_stats(rows[:, c].astype(np.float64)), dtype=np.float64)
            with np.errstate(invalid="ignore"):
                np.testing.assert_allclose(got[i, c], want, rtol=1e-9, atol=1e-12, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 300),
    seed=st.integers(0, 2**32 - 1),
    f32=st.booleans(),
    specials=st.booleans(),
)
def test_random_populations_match_numpy(n: int, seed: int, f32: bool, specials: bool) -> None:
    rng = np.random.default_rng(seed)
    ev = rng.lognormal(5, 2, (n, 3)) * rng.choice([-1, 1], (n, 3), p=[0.2, 0.8])
    if specials and n:
        ev[rng.integers(0, n), 0] = np.nan
        ev[rng.integers(0, n), 1] = np.inf
    ev = ev.astype(np.float32 if f32 else np.float64)
    members = np.sort(rng.choice(n, size=rng.integers(0, n + 1), replace=False)) if n else np.array([], int)
    single = members[:1]
    compare(ev, [None, members, single, np.array([], dtype=int)])


def test_large_population_streaming_path_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    ev = np.column_stack([rng.lognormal(8, 1, 200_000), rng.normal(0, 300, 200_000)]).astype(np.float32)
    compare(ev, [None, np.flatnonzero(ev[:, 1] > 0)])


def test_deterministic_for_thread_count(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    rng = np.random.default_rng(2)
    np.save(tmp_path / "ev.npy", rng.normal(100, 50, (300_000, 4)))
    code = (
        "import numpy as np, sys\nfrom cd38 import _core\n"
        "ev = np.load(sys.argv[1])\n"
        "out = _core.population_stats(ev, [None], [0, 1, 2, 3], ['mean', 'sd', 'median'], [5.0])\n"
        "sys.stdout.write(out.tobytes().hex())\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "ev.npy")],
            capture_output=True,
            text=True,
            env={**os.environ, "RAYON_NUM_THREADS": t},
            check=True,
        ).stdout
        for t in ("1", "2", "3")
    }
    assert len(outs) == 1


@needs_data
def test_result_stats_on_the_suite_sample() -> None:
    s = cd38.read_fcs(DATA / "gatingml2" / "data1.fcs")
    st_ = cd38.GatingStrategy.from_gatingml(DATA / "gatingml2/gml/gml_parent_rect1_rect_par1_gate.xml")
    r = st_.gate(s)
    df = r.stats(channels=["FSC-H", "FL1-H"], stats=("median", "mean", "cv"), percentiles=(5, 95))
    assert set(df["statistic"]) == {"median", "mean", "cv", "p5", "p95"}
    assert df.height == 2 * 2 * 5
    for pop in ("ScaleRect1", "ScalePar1"):
        x = s.to_numpy()[r.mask(pop), s.channels.index("FL1-H")]
        got = df.filter((df["population"] == pop) & (df["channel"] == "FL1-H"))
        row = dict(zip(got["statistic"], got["value"], strict=True))
        assert row["median"] == pytest.approx(np.median(x), rel=1e-12)
        assert row["p95"] == pytest.approx(np.percentile(x, 95), rel=1e-12)
        assert row["cv"] == pytest.approx(100 * np.std(x, ddof=1) / np.mean(x), rel=1e-9)
    for col in ("sample", "file_blake3", "strategy_sha256", "cd38_version", "acquisition_date", "cytometer"):
        assert col in df.columns
    defs = dict(zip(df["statistic"], df["definition"], strict=False))
    assert "linear interpolation" in defs["p95"] and "95" in defs["p95"]
    assert df["sample"][0] == "data1.fcs"
    assert df["file_blake3"][0] == blake3.blake3((DATA / "gatingml2" / "data1.fcs").read_bytes()).hexdigest()
    counts = r.counts_table(pct_of="ScaleRect1")
    row = counts.filter(counts["population"] == "ScalePar1").row(0, named=True)
    assert row["pct_of"] == pytest.approx(100.0 * r.count("ScalePar1") / r.count("ScaleRect1"))
    assert "ancestor" in row["definitions"]


def test_counts_and_absolute_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ev = np.column_stack([rng.uniform(0, 100, 1000), rng.uniform(0, 100, 1000)])
    s = cd38.read_fcs(cd38.write_fcs(tmp_path / "a.fcs", ev, ["A", "B"], datatype="D"))
    st_ = cd38.GatingStrategy()
    st_.add(RectangleGate("beads", [cd38.Dimension("A")], [90], [None]))
    st_.add(RectangleGate("cells", [cd38.Dimension("A")], [None], [50]))
    st_.add(RectangleGate("sub", [cd38.Dimension("B")], [None], [10]), parent="cells")
    r = st_.gate(s)
    np.testing.assert_array_equal(r.mask("sub"), (ev[:, 0] < 50) & (ev[:, 1] < 10))
    sub = ev[(ev[:, 0] < 50) & (ev[:, 1] < 10)]
    np.testing.assert_array_equal(r.events("sub"), sub)
    np.testing.assert_array_equal(r.events_polars("sub")["B"].to_numpy(), sub[:, 1])
    c = r.counts()
    assert c.filter(c["population"] == "sub")["pct_parent"][0] == pytest.approx(
        100 * r.count("sub") / r.count("cells")
    )
    ab = r.absolute_counts(bead_gate="beads", beads_per_test=50_000, sample_volume_ul=50)
    cells = ab.filter(ab["population"] == "cells")["cells_per_ul"][0]
    assert cells == pytest.approx(r.count("cells") / r.count("beads") * 1000)
    dual = r.absolute_counts(reference_population="cells", reference_count_per_ul=2000)
    assert dual.filter(dual["population"] == "sub")["cells_per_ul"][0] == pytest.approx(
        2000 * r.count("sub") / r.count("cells")
    )
    empty = cd38.GatingStrategy()
    empty.add(RectangleGate("beads", [cd38.Dimension("A")], [1000], [None]))
    with pytest.raises(cd38.InvalidArgumentError, match="no events in the bead gate"):
        empty.gate(s).absolute_counts(bead_gate="beads", beads_per_test=1, sample_volume_ul=1)
    with pytest.raises(cd38.InvalidArgumentError, match="unknown statistic"):
        r.stats(stats=("median", "mode"))
