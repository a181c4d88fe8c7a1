"""Each gate kind against the plain numpy reference on random gates and events,
including events placed exactly on edges, bounds and vertices."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cd38
import reference
from cd38.gates import BooleanGate, Divider, EllipsoidGate, PolygonGate, Quadrant, QuadrantGate, RectangleGate
from cd38.transforms import Logicle

CH = ["A", "B", "C"]
coord = st.integers(-20, 20).map(float)


def sample_of(events: np.ndarray) -> cd38.Sample:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = cd38.write_fcs(Path(d) / "p.fcs", events, CH, datatype="D")
        return cd38.read_fcs(path.read_bytes())


@st.composite
def events_with(draw: st.DrawFn, special: list[tuple[float, float]]) -> np.ndarray:
    n = draw(st.integers(0, 60))
    pts = draw(st.lists(st.tuples(coord, coord, coord), min_size=n, max_size=n))
    rows = [list(p) for p in pts] + [[x, y, 0.0] for x, y in special]
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def check(strategy: cd38.GatingStrategy, events: np.ndarray) -> None:
    s = sample_of(events)
    got = strategy.gate(s)
    want = reference.evaluate_strategy(strategy, s)
    for pid in strategy.population_ids():
        np.testing.assert_array_equal(got.mask(pid), want[pid], err_msg=pid)
        assert got.count(pid) == int(want[pid].sum())


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_polygon(data: st.DataObject) -> None:
    verts = data.draw(st.lists(st.tuples(coord, coord), min_size=3, max_size=7))
    events = data.draw(events_with(verts))  # every vertex is also an event
    st_ = cd38.GatingStrategy()
    st_.add(PolygonGate("P", [cd38.Dimension("A"), cd38.Dimension("B")], verts))
    check(st_, events)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_rectangle_and_child(data: st.DataObject) -> None:
    lo = data.draw(st.lists(st.one_of(st.none(), coord), min_size=2, max_size=2))
    hi = data.draw(st.lists(st.one_of(st.none(), coord), min_size=2, max_size=2))
    lo = [v if v is not None or h is not None else -5.0 for v, h in zip(lo, hi, strict=True)]
    edges = [(v if v is not None else 0.0, w if w is not None else 0.0) for v, w in zip(lo, hi, strict=True)]
    events = data.draw(events_with(edges))
    st_ = cd38.GatingStrategy()
    st_.add(RectangleGate("R", [cd38.Dimension("A"), cd38.Dimension("B")], lo, hi))
    st_.add(RectangleGate("child", [cd38.Dimension("C")], [0.0], [None]), parent="R")
    check(st_, events)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_ellipsoid(data: st.DataObject) -> None:
    mean = data.draw(st.tuples(coord, coord))
    a, b = data.draw(st.floats(0.5, 30)), data.draw(st.floats(0.5, 30))
    rho = data.draw(st.floats(-0.9, 0.9))
    cov = [[a, rho * (a * b) ** 0.5], [rho * (a * b) ** 0.5, b]]
    d2 = data.draw(st.floats(0.1, 10))
    edge = [(mean[0] + (a * d2) ** 0.5, mean[1])] if rho == 0 else []
    events = data.draw(events_with([mean, *edge]))
    st_ = cd38.GatingStrategy()
    st_.add(EllipsoidGate("E", [cd38.Dimension("A"), cd38.Dimension("B")], mean, cov, d2))
    check(st_, events)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_quadrants_and_booleans(data: st.DataObject) -> None:
    xs = sorted(set(data.draw(st.lists(coord, min_size=1, max_size=3))))
    ys = sorted(set(data.draw(st.lists(coord, min_size=1, max_size=2))))
    events = data.draw(events_with([(x, y) for x in xs for y in ys]))
    dx = Divider("dx", cd38.Dimension("A"), xs)
    dy = Divider("dy", cd38.Dimension("B"), ys)
    quads = [Quadrant(f"q{i}", {"dx": x - 0.5, "dy": ys[0] + 0.5}) for i, x in enumerate([*xs, xs[-1] + 1])]
    quads.append(Quadrant("xonly", {"dx": xs[0]}))
    st_ = cd38.GatingStrategy()
    st_.add(QuadrantGate("Q", [dx, dy], quads))
    st_.add(BooleanGate("either", "or", ["q0", ("xonly", True)]))
    st_.add(BooleanGate("both", "and", ["q0", "xonly"]))
    st_.add(BooleanGate("neither", "not", ["q0"]), parent="xonly")
    check(st_, events)


def test_transformed_and_compensated_dimensions() -> None:
    rng = np.random.default_rng(4)
    events = rng.normal(500, 2000, (5000, 3))
    st_ = cd38.GatingStrategy()
    st_.add_spectrum_matrix("M", cd38.Spillover(["A", "B"], [[1, 0.2], [0.1, 1]], fluorochromes=["FA", "FB"]))
    lg = Logicle(10000, 0.5, 4.5, 0)
    dims = [cd38.Dimension("FA", "M", lg), cd38.Dimension("FB", "M", lg)]
    st_.add(PolygonGate("P", dims, [(0.1, 0.1), (0.6, 0.2), (0.5, 0.7), (0.2, 0.5)]))
    st_.add(RectangleGate("R", [cd38.Dimension("C", transform=lg)], [0.3], [0.8]), parent="P")
    check(st_, events)


def test_thread_count_does_not_change_results(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    cd38.write_fcs(tmp_path / "t.fcs", rng.normal(0, 3000, (200_000, 3)), CH)
    script = (
        "import cd38, numpy as np, sys\n"
        "from cd38.gates import RectangleGate, PolygonGate\n"
        "from cd38.transforms import Logicle\n"
        "s = cd38.read_fcs(sys.argv[1])\n"
        "lg = Logicle(10000, 0.5, 4.5, 0)\n"
        "st = cd38.GatingStrategy()\n"
        "st.add(PolygonGate('P', [cd38.Dimension('A', transform=lg), cd38.Dimension('B', transform=lg)],"
        " [(0.1, 0.1), (0.6, 0.2), (0.5, 0.7)]))\n"
        "st.add(RectangleGate('R', [cd38.Dimension('C', transform=lg)], [0.3], [None]), parent='P')\n"
        "r = st.gate(s)\n"
        "sys.stdout.write(','.join(str(int(r.indices(p).astype(np.uint64).sum())) for p in ('P', 'R')))\n"
    )
    outs = set()
    for threads in ("1", "2", "5"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        res = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "t.fcs")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outs.add(res.stdout)
    assert len(outs) == 1, outs


def test_missing_channel_and_bad_references() -> None:
    s = sample_of(np.zeros((3, 3)))
    st_ = cd38.GatingStrategy()
    st_.add(RectangleGate("R", [cd38.Dimension("CD38")], [0.0], [1.0]))
    with pytest.raises(cd38.GatingError, match="CD38"):
        st_.gate(s)
    st2 = cd38.GatingStrategy()
    st2.add(RectangleGate("R", [cd38.Dimension("A")], [0.0], [1.0]), parent="nope")
    with pytest.raises(cd38.InvalidArgumentError, match="nope"):
        st2.gate(s)
    with pytest.raises(cd38.InvalidArgumentError, match="already used"):
        st_.add(RectangleGate("R", [cd38.Dimension("A")], [0.0], [1.0]))
    with pytest.raises(cd38.InvalidArgumentError, match="cycle"):
        st3 = cd38.GatingStrategy()
        st3.add(BooleanGate("x", "not", ["y"]))
        st3.add(BooleanGate("y", "not", ["x"]))
        st3.validate()


def test_hostile_gatingml() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<lolz>&lol2;</lolz>"
    )
    with pytest.raises(cd38.GatingMLError, match="DOCTYPE"):
        cd38.GatingStrategy.from_gatingml(bomb)
    ns = 'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating"'
    with pytest.raises(cd38.GatingMLError, match="CurlyGate"):
        cd38.GatingStrategy.from_gatingml(
            f'<gating:Gating-ML {ns}><gating:CurlyGate gating:id="x"/></gating:Gating-ML>'
        )
    with pytest.raises(cd38.GatingMLError, match="not gating:Gating-ML"):
        cd38.GatingStrategy.from_gatingml("<html/>")
    with pytest.raises(cd38.GatingMLError, match="malformed"):
        cd38.GatingStrategy.from_gatingml("<gating:Gating-ML")
