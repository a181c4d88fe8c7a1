"""Compensating 10 million events x 11 detectors: cd38 next to numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cd38
from conftest import N_CHANNELS

N_DET = 11


@pytest.fixture(scope="module")
def case(bench_file: Path) -> tuple[np.ndarray, list[str], cd38.Spillover]:
    s = cd38.read_fcs(bench_file)
    rng = np.random.default_rng(5)
    spill = np.eye(N_DET) + rng.uniform(0, 0.2, (N_DET, N_DET)) * (1 - np.eye(N_DET))
    return s.to_numpy(), s.channels, cd38.Spillover(s.channels[:N_DET], spill)


def _numpy_compensate(ev: np.ndarray, inv: np.ndarray) -> np.ndarray:
    out = ev.copy()
    out[:, :N_DET] = ev[:, :N_DET].astype(np.float64) @ inv
    return out


def test_compensate_cd38(benchmark, case) -> None:  # type: ignore[no-untyped-def]
    ev, channels, sp = case
    out = benchmark(sp.apply, ev, channels)
    assert out.shape == (len(ev), N_CHANNELS)
    ref = _numpy_compensate(ev[:1000], sp.inverse)
    np.testing.assert_allclose(out[:1000], ref, rtol=1e-5, atol=1e-2)


def test_compensate_numpy(benchmark, case) -> None:  # type: ignore[no-untyped-def]
    ev, _, sp = case
    out = benchmark(_numpy_compensate, ev, sp.inverse)
    assert out.shape == ev.shape
