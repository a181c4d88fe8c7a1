"""Reading a 10-million-event x 16-channel float32 file: cd38 next to numpy.fromfile
(the floor: the same DATA bytes, no parsing) and FlowKit's Sample()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cd38
from conftest import N_CHANNELS, N_EVENTS


def _data_offset(path: Path) -> int:
    return int(cd38.read_fcs_metadata(path).keywords["$BEGINDATA"])


def test_read_cd38(benchmark, bench_file: Path) -> None:  # type: ignore[no-untyped-def]
    s = benchmark(cd38.read_fcs, bench_file)
    ev = s.to_numpy()
    assert ev.shape == (N_EVENTS, N_CHANNELS)
    assert ev.dtype == np.float32
    assert ev[-1, -1] == np.float32((N_EVENTS - 1) * 0.01)


def test_read_numpy_fromfile_floor(benchmark, bench_file: Path) -> None:  # type: ignore[no-untyped-def]
    off = _data_offset(bench_file)

    def floor() -> np.ndarray:
        return np.fromfile(bench_file, dtype="<f4", offset=off, count=N_EVENTS * N_CHANNELS).reshape(
            N_EVENTS, N_CHANNELS
        )

    a = benchmark(floor)
    np.testing.assert_array_equal(a[:, :-1], cd38.read_fcs(bench_file).to_numpy()[:, :-1])


def test_read_flowkit(benchmark, bench_file: Path) -> None:  # type: ignore[no-untyped-def]
    fk = pytest.importorskip("flowkit")
    s = benchmark.pedantic(fk.Sample, args=(str(bench_file),), rounds=1, iterations=1)
    assert s.event_count == N_EVENTS
