"""Logicle on 10 million values: cd38's Rust kernel next to FlowUtils' C implementation."""

from __future__ import annotations

import numpy as np
import pytest

from cd38.transforms import Logicle
from conftest import N_EVENTS

T, W, M, A = 262144.0, 0.5, 4.5, 0.0


@pytest.fixture(scope="module")
def values() -> np.ndarray:
    rng = np.random.default_rng(2)
    return np.concatenate([rng.lognormal(6, 2, N_EVENTS // 2), rng.normal(0, 300, N_EVENTS - N_EVENTS // 2)])


def test_logicle_cd38(benchmark, values: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    t = Logicle(T, W, M, A)
    out = benchmark(t.apply, values)
    np.testing.assert_allclose(t.inverse(out[:1000]), values[:1000], rtol=1e-9, atol=1e-6)


def test_logicle_flowutils(benchmark, values: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    fu = pytest.importorskip("flowutils.transforms")
    col = values.reshape(-1, 1)
    out = benchmark(fu.logicle, col, [0], t=T, m=M, w=W, a=A)
    np.testing.assert_allclose(out[:1000, 0], Logicle(T, W, M, A).apply(values[:1000]), rtol=1e-6)
