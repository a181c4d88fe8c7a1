"""count/%/median/mean/CV/p5/p95 for 13 populations x 16 channels: cd38 next to numpy."""

from __future__ import annotations

import numpy as np
import pytest
from bcell_data import strategy_xml, write_bcell_file

import cd38
from conftest import N_EVENTS


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> cd38.GatingResult:
    path = write_bcell_file(tmp_path_factory.mktemp("stats") / "bcell.fcs", N_EVENTS)
    return cd38.GatingStrategy.from_gatingml(strategy_xml()).gate(cd38.read_fcs(path))


def cd38_stats(r: cd38.GatingResult) -> object:
    from cd38 import _core

    ev = r.sample.to_numpy()
    pops = [None, *(r.indices(p) for p in r.populations)]  # all events + 12 populations
    counts = r.counts()
    flat = _core.population_stats(ev, pops, list(range(ev.shape[1])), ["median", "mean", "cv"], [5.0, 95.0])
    return counts, flat.reshape(len(pops), ev.shape[1], 5)


def numpy_stats(r: cd38.GatingResult) -> np.ndarray:
    ev = r.sample.to_numpy()
    out = []
    for idx in [None, *(r.indices(p) for p in r.populations)]:
        x = (ev if idx is None else ev[idx]).astype(np.float64)
        mean = x.mean(axis=0)
        out.append(
            np.column_stack(
                [
                    np.median(x, axis=0),
                    mean,
                    100 * x.std(axis=0, ddof=1) / mean,
                    *np.percentile(x, [5, 95], axis=0),
                ]
            )
        )
    return np.array(out)


def test_stats_cd38(benchmark, gated: cd38.GatingResult) -> None:  # type: ignore[no-untyped-def]
    _, grid = benchmark(cd38_stats, gated)
    np.testing.assert_allclose(grid, numpy_stats(gated), rtol=1e-9)


def test_stats_numpy(benchmark, gated: cd38.GatingResult) -> None:  # type: ignore[no-untyped-def]
    grid = benchmark.pedantic(numpy_stats, args=(gated,), rounds=3, iterations=1)
    assert grid.shape[0] == 13
