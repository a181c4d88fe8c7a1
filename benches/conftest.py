"""Benchmark fixtures. Sizes come from CD38_BENCH_EVENTS (default 10 million)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import cd38

N_EVENTS = int(os.environ.get("CD38_BENCH_EVENTS", "10000000"))
N_CHANNELS = 16


def write_bench_file(path: Path, n_events: int, seed: int = 1) -> Path:
    """A float32 16-channel file with a Time channel and $TIMESTEP, written in chunks."""
    rng = np.random.default_rng(seed)
    data = rng.lognormal(7.0, 1.5, size=(n_events, N_CHANNELS)).astype(np.float32)
    data[:, -1] = np.arange(n_events, dtype=np.float32)
    names = [f"FL{i}-A" for i in range(1, N_CHANNELS)] + ["Time"]
    cd38.write_fcs(path, data, names, keywords={"$TIMESTEP": "0.01"})
    return path


@pytest.fixture(scope="session")
def bench_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bench_file(tmp_path_factory.mktemp("bench") / "bench.fcs", N_EVENTS)
