"""The engine's members as bits: index arrays unpacked on demand, counts and
statistics read from the bits, the same answers as from index lists."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import cd38
from cd38 import _core
from cd38.errors import Cd38Error
from cd38.gating.engine import Members
from cd38.gating.result import GatingResult


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> GatingResult:
    path = tmp_path_factory.mktemp("m") / "b.fcs"
    cd38.synth.bcell_sample(path, 60_000, seed=5)
    s = cd38.read_fcs(path)
    return cd38.panels.bcell(s).gate(s)


def test_counts_come_from_the_bits_and_indices_are_unpacked_once(gated: GatingResult) -> None:
    members = gated._members
    assert isinstance(members, Members)
    counts = gated.counts()
    assert members._indices == {}  # counting unpacked nothing
    for pid, n in zip(counts["population"], counts["count"], strict=True):
        idx = gated.indices(pid)
        assert len(idx) == n and idx.dtype == np.uint32 and not idx.flags.writeable
        assert np.all(np.diff(idx.astype(np.int64)) > 0)
        assert gated.indices(pid) is idx  # kept
        assert np.array_equal(np.flatnonzero(gated.mask(pid)), idx)
    assert set(members) == set(gated.populations) and len(members) == len(gated.populations)
    assert "no such population" not in members


@pytest.mark.parametrize(
    "stats", [("median",), ("median", "mean", "cv", "rsd"), ("mad", "geomean", "min", "max")]
)
def test_stats_from_bits_equal_stats_from_lists(gated: GatingResult, stats: tuple[str, ...]) -> None:
    as_lists = GatingResult(gated.strategy, gated.sample, {p: gated.indices(p) for p in gated.populations})
    got = gated.stats(stats=stats, percentiles=(5, 95))
    want = as_lists.stats(stats=stats, percentiles=(5, 95))
    assert got.drop("value").equals(want.drop("value"))
    a, b = got["value"].to_numpy(), want["value"].to_numpy()
    assert np.array_equal(a, b, equal_nan=True)
    assert got.filter(pl.col("value").is_not_nan()).height > 0


def test_bad_nodes_and_mismatched_events(gated: GatingResult) -> None:
    core = gated._members.core  # type: ignore[attr-defined]
    with pytest.raises(Cd38Error, match="node"):
        core.indices(core.nodes)
    with pytest.raises(Cd38Error, match="node"):
        core.count(core.nodes)
    ev = np.zeros((10, 3), dtype=np.float32)
    with pytest.raises(Cd38Error, match="events"):
        _core.population_stats_members(ev, core, [0], [0], ["median"], [])
    with pytest.raises(Cd38Error, match="node"):
        _core.population_stats_members(
            gated.sample.to_numpy().astype(np.float32), core, [core.nodes], [0], ["median"], []
        )
