"""Transforms against the plain references (bisection of the closed forms), FlowUtils'
C implementation, and FlowJo's exported biex table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cd38
import reference
from cd38.transforms import (
    Arcsinh,
    Asinh,
    FlowJoBiex,
    Hyperlog,
    Linear,
    Log,
    Logicle,
    Ratio,
    Transform,
)
from conftest import DATA, needs_data

T = 262144.0
GRID = np.concatenate(
    [-np.logspace(-6, 6, 60) * T / 1e3, [0.0], np.logspace(-9, 0, 60) * T, np.linspace(-T, 2 * T, 41)]
)

LOGICLE_PARAMS = [
    (10000, 0.5, 4.5, 0),
    (10000, 1, 4, 0.5),
    (T, 0.0, 4.5, 0),
    (T, 2.25, 4.5, 0),
    (T, 0.5, 7, 2),
    (T, 1.0, 2, 0),
    (T, 0.3, 4.5, -0.3),
]
HYPERLOG_PARAMS = [(10000, 1, 4.5, 0), (T, 0.5, 4.5, 0), (T, 2.25, 4.5, 0), (T, 0.01, 6, 2), (T, 1, 4, -1)]


def _close(got: np.ndarray, want: np.ndarray, rel: float = 1e-9, abs_: float = 1e-12) -> None:
    np.testing.assert_allclose(got, want, rtol=rel, atol=abs_)


@pytest.mark.parametrize("p", LOGICLE_PARAMS)
def test_logicle_against_bisection(p: tuple[float, float, float, float]) -> None:
    t = Logicle(*p)
    _close(t.apply(GRID), reference.logicle(GRID, *p))
    _close(t.inverse(t.apply(GRID)), GRID, abs_=1e-9 * p[0])
    _close(
        t.inverse(np.linspace(-0.5, 1.2, 50)),
        reference.logicle_inverse(np.linspace(-0.5, 1.2, 50), *p),
        abs_=1e-9 * p[0],
    )
    assert t.apply(p[0]) == pytest.approx(1.0, rel=1e-12)
    assert np.all(np.diff(t.apply(np.sort(GRID))) >= 0)


@pytest.mark.parametrize("p", HYPERLOG_PARAMS)
def test_hyperlog_against_bisection(p: tuple[float, float, float, float]) -> None:
    t = Hyperlog(*p)
    _close(t.apply(GRID), reference.hyperlog(GRID, *p))
    _close(t.inverse(t.apply(GRID)), GRID, abs_=1e-9 * p[0])
    assert t.apply(p[0]) == pytest.approx(1.0, rel=1e-12)


def test_simple_transforms_against_formulas() -> None:
    x = GRID
    _close(Linear(10000, 500).apply(x), reference.flin(x, 10000, 500))
    _close(Asinh(10000, 4, 1).apply(x), reference.fasinh(x, 10000, 4, 1))
    _close(Arcsinh(150).apply(x), np.arcsinh(x / 150))
    lg = Log(10000, 5).apply(x)
    _close(lg[x > 0], reference.flog(x[x > 0], 10000, 5))
    assert np.all(np.isnan(lg[x <= 0]))
    for t in (Linear(10000, 500), Asinh(10000, 4, 1), Arcsinh(5), Log(10000, 5)):
        xs = x[x > 0] if isinstance(t, Log) else x
        _close(t.inverse(t.apply(xs)), xs, rel=1e-9, abs_=1e-6)


def test_ratio() -> None:
    r = Ratio("FL2-H", "FL2-A", 2.7, -100, -300)
    np.testing.assert_allclose(
        r.apply([1.0, 5.0], [2.0, 3.0]), 2.7 * (np.array([1, 5]) + 100) / (np.array([2, 3]) + 300)
    )


@settings(max_examples=60, deadline=None)
@given(
    m=st.floats(2, 7),
    wfrac=st.floats(0, 1),
    afrac=st.floats(0, 1),
    xs=st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=1, max_size=30),
)
def test_logicle_round_trip_property(m: float, wfrac: float, afrac: float, xs: list[float]) -> None:
    w = wfrac * m / 2
    a = -w + afrac * (m - w)  # A is valid in [-W, M - 2W]
    a = min(a, m - 2 * w)
    t = Logicle(T, w, m, a)
    x = np.array(xs)
    _close(t.inverse(t.apply(x)), x, rel=1e-9, abs_=1e-9 * T)


def test_validation_and_value_semantics() -> None:
    with pytest.raises(cd38.InvalidArgumentError, match="W must be"):
        Logicle(T, 3, 4.5, 0)
    with pytest.raises(cd38.InvalidArgumentError):
        Logicle(-1, 0.5, 4.5, 0)
    with pytest.raises(cd38.InvalidArgumentError):
        Hyperlog(T, 0, 4.5, 0)
    with pytest.raises(cd38.InvalidArgumentError, match="finite"):
        Arcsinh(float("nan"))
    a, b = Logicle(T, 0.5, 4.5, 0), Logicle(T, 0.5, 4.5, 0)
    assert a == b and hash(a) == hash(b) and a != Hyperlog(T, 0.5, 4.5, 0)
    assert Transform.from_dict(a.to_dict()) == a
    with pytest.raises(AttributeError):
        a.t = 5  # type: ignore[misc]
    assert a.apply(np.zeros((2, 3))).shape == (2, 3)


def test_flowutils_agrees() -> None:
    fu = pytest.importorskip("flowutils.transforms")
    x = GRID.reshape(-1, 1)
    for p in [*LOGICLE_PARAMS[:3], (T, 0.5, 4.5, 0)]:
        t, w, m, a = p
        ref = fu.logicle(x.copy(), [0], t=t, m=m, w=w, a=a)[:, 0]
        np.testing.assert_allclose(Logicle(*p).apply(GRID), ref, rtol=1e-6, atol=1e-9)
    for p in HYPERLOG_PARAMS[:2]:
        t, w, m, a = p
        ref = fu.hyperlog(x.copy(), [0], t=t, m=m, w=w, a=a)[:, 0]
        np.testing.assert_allclose(Hyperlog(*p).apply(GRID), ref, rtol=1e-6, atol=1e-9)
    ref = fu.asinh(x.copy(), [0], t=10000, m=4, a=1)[:, 0]
    np.testing.assert_allclose(Asinh(10000, 4, 1).apply(GRID), ref, rtol=1e-9, atol=1e-12)


@needs_data
def test_flowjo_biex_lookup_table() -> None:
    path = next((DATA / "flowjo").glob("tr_biex_*.csv"))
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    t = FlowJoBiex(width=-7.943282, negative=1.0, positive=4.418540, max_value=262144.000029)
    i, want = table[1:, 0], table[1:, 1]
    got = t.inverse(i / 4096.0)
    nonzero = want != 0
    rel = np.abs(got[nonzero] - want[nonzero]) / np.abs(want[nonzero])
    assert rel.mean() < 1e-4
