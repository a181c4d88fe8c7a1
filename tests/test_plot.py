"""cd38.plot: events and gates on the strategy's own axes, binned density plots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Polygon

import cd38
import cd38.plot
from cd38 import synth
from cd38.gates import Divider, EllipsoidGate, PolygonGate, Quadrant, QuadrantGate, RectangleGate
from cd38.transforms import Linear, Logicle

LG = Logicle(t=262144.0, w=0.5, m=4.5, a=0.0)
CD19, CD3, CD38, IGM = "FITC-A", "PE-A", "PerCP-Cy5-5-A", "APC-A"


def _dim(ch: str, tf: object = LG, comp: str = "FCS") -> cd38.Dimension:
    return cd38.Dimension(ch, comp, tf)  # type: ignore[arg-type]


def every_kind_strategy() -> cd38.GatingStrategy:
    """Polygon, ellipse, rectangles (1-D and 2-D), quadrants and a boolean gate."""
    st = cd38.GatingStrategy()
    fsc, ssc, fsch = cd38.Dimension("FSC-A"), cd38.Dimension("SSC-A"), cd38.Dimension("FSC-H")
    st.add(PolygonGate("cells", [fsc, ssc], [(20000, 1000), (180000, 1000), (180000, 90000), (20000, 60000)]))
    st.add(
        PolygonGate(
            "singlets", [fsc, fsch], [(20000, 14000), (180000, 130000), (180000, 170000), (20000, 20000)]
        ),
        "cells",
    )
    st.add(EllipsoidGate("lymphocytes", [fsc, ssc], [70000, 22000], [[1.2e8, 0], [0, 4e7]], 9.0), "singlets")
    st.add(RectangleGate("b_cells", [_dim(CD19), _dim(CD3)], [0.4, None], [None, 0.4]), "lymphocytes")
    st.add(RectangleGate("cd3pos", [_dim(CD3)], [0.4], [None]), "lymphocytes")
    dx, dy = Divider("cd38", _dim(CD38), [0.6]), Divider("igm", _dim(IGM), [0.4])
    quads = [
        Quadrant(f"q{a}{b}", {"cd38": x, "igm": y})
        for a, x in (("p", 0.9), ("n", 0.1))
        for b, y in (("p", 0.9), ("n", 0.1))
    ]
    st.add(QuadrantGate("cd38_igm", [dx, dy], quads), "b_cells")
    st.add(cd38.gates.BooleanGate("not_b", "not", ["b_cells"]), "lymphocytes")
    return st


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> cd38.GatingResult:
    path = tmp_path_factory.mktemp("plot") / "s.fcs"
    synth.bcell_sample(path, 20_000, seed=3)
    sample = cd38.read_fcs(path)
    return every_kind_strategy().gate(sample)


def _image_counts(fig: Figure) -> float:
    img = next(a for a in fig.axes[0].get_children() if isinstance(a, AxesImage))
    return float(np.ma.filled(img.get_array(), 0).sum())


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_axis_values_match_compensate_then_transform(result: cd38.GatingResult) -> None:
    sample = result.sample
    idx = result.indices("lymphocytes")
    axis = cd38.plot.resolve_axis(result, "CD38")
    assert axis.dimension.transform == LG and axis.dimension.compensation == "FCS"
    got = cd38.plot.axis_values(result, axis, idx)
    spill = sample.spillover
    assert spill is not None
    cols = [sample.channels.index(d) for d in spill.detectors]
    raw = sample.to_numpy()[idx][:, cols].astype(np.float64)
    comp = raw @ spill.inverse[:, spill.detectors.index(CD38)]
    np.testing.assert_allclose(got, LG.apply(comp), rtol=1e-12, atol=1e-12)
    # and, to float32 precision, what Sample.compensate() gives
    np.testing.assert_allclose(got, LG.apply(sample.compensate().column(CD38)[idx]), atol=1e-6)


def test_marker_channel_and_unknown_names(result: cd38.GatingResult) -> None:
    assert cd38.plot.resolve_axis(result, "igm").dimension.channel == IGM
    assert cd38.plot.resolve_axis(result, "FSC-A").dimension.transform is None
    with pytest.raises(cd38.InvalidArgumentError, match="no channel or marker 'CD999'"):
        cd38.plot.biaxial(result, "CD999", "IgM")


def test_bin2d_agrees_with_histogram2d_and_piles_outliers_on_edges() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.5, 0.3, 50_000), rng.normal(0.5, 0.3, 50_000)
    x[:10] = np.nan
    got = cd38.plot.bin2d(x, y, (0.0, 1.0), (0.0, 1.0), 64)
    ok = np.isfinite(x)
    ref, _, _ = np.histogram2d(
        np.clip(x[ok], 0, 1 - 1e-12), np.clip(y[ok], 0, 1 - 1e-12), 64, [[0, 1], [0, 1]]
    )
    assert got.sum() == ok.sum()
    # Bin edges may differ by one ulp between the two methods; compare loosely inside, exactly in total.
    assert np.abs(got - ref).sum() <= 0.002 * ok.sum()


def test_biaxial_bins_every_event_and_labels_gates(result: cd38.GatingResult) -> None:
    fig = cd38.plot.biaxial(result, "CD38", "IgM", "b_cells")
    assert _image_counts(fig) == result.count("b_cells")
    labels = _texts(fig)
    n = result.count("b_cells")
    for q in ("qpp", "qpn", "qnp", "qnn"):
        pct = 100.0 * result.count(q) / n
        assert f"{q}\n{pct:.1f}%" in labels
    png = cd38.plot.to_png(fig)
    assert png.startswith(b"\x89PNG")


def test_polygon_and_ellipse_outlines(result: cd38.GatingResult) -> None:
    fig = cd38.plot.biaxial(result, "FSC-A", "SSC-A", "singlets")
    polys = [p for p in fig.axes[0].patches if isinstance(p, Polygon)]
    assert len(polys) == 1  # the ellipse, drawn as its boundary
    xy = polys[0].get_xy()
    # Every boundary point satisfies the ellipse equation with equality.
    d = xy - np.array([70000, 22000])
    m = np.einsum("ij,jk,ik->i", d, np.linalg.inv([[1.2e8, 0], [0, 4e7]]), d)
    np.testing.assert_allclose(m, 9.0, rtol=1e-6)
    fig2 = cd38.plot.biaxial(result, "FSC-A", "SSC-A", None)
    assert any("cells\n" in t for t in _texts(fig2))


def test_gate_on_other_transform_is_converted(result: cd38.GatingResult) -> None:
    """A rectangle drawn on logicle appears at the same data value on a linear axis."""
    lin = cd38.Dimension(CD19, "FCS", Linear(t=262144.0))
    fig = cd38.plot.biaxial(result, lin, _dim(CD3), "lymphocytes", gates=["b_cells"])
    poly = next(p for p in fig.axes[0].patches if isinstance(p, Polygon))
    x0 = poly.get_xy()[:, 0].min()
    assert x0 == pytest.approx(float(Linear(t=262144.0).apply(LG.inverse([0.4]))[0]), rel=1e-9)


def test_histogram_with_thresholds(result: cd38.GatingResult) -> None:
    th = cd38.thresholds.Threshold(value=0.4, channel=CD3, method="explicit", transform=repr(LG))
    fig = cd38.plot.histogram(result, "CD3", "lymphocytes", thresholds=[th, (0.5, "half")])
    texts = _texts(fig)
    assert any(t.startswith("cd3pos\n") for t in texts)  # the 1-D gate
    assert any("explicit" in t for t in texts) and any("half" in t for t in texts)
    other = cd38.thresholds.Threshold(value=1.0, channel=CD3, method="x", transform="Arcsinh(cofactor=5)")
    with pytest.raises(cd38.InvalidArgumentError, match="cannot be drawn"):
        cd38.plot.histogram(result, "CD3", thresholds=[other])


def test_hierarchy_has_a_tile_per_parent_and_axes(result: cd38.GatingResult) -> None:
    fig = cd38.plot.hierarchy(result, ncols=3)
    titled = [ax for ax in fig.axes if ax.get_title()]
    # cells | singlets | lymphocytes | b_cells + cd3pos? no: b_cells (2-D) and cd3pos (1-D) differ,
    # so: cells, singlets, lymphocytes, b_cells, cd3pos, cd38_igm, not_b (text) = 7 tiles.
    assert len(titled) == 7
    assert any("NOT b_cells" in t for t in _texts(fig))


def test_subsampling_keeps_percentages_exact(result: cd38.GatingResult) -> None:
    fig = cd38.plot.biaxial(result, "CD38", "IgM", "b_cells", max_events=100)
    assert _image_counts(fig) <= 100
    n = result.count("b_cells")
    assert f"qpp\n{100.0 * result.count('qpp') / n:.1f}%" in _texts(fig)


def test_trend_with_bands_and_cutoffs() -> None:
    pts = [("2024-01-05", 3.0), (dt.date(2024, 4, 1), 5.5), ("2024-07-30", 9.0)]
    fig = cd38.plot.trend(pts, bands=[(1.0, 8.0, "ARUP band")], cutoffs=[(7.0, "cut-off 7 %")], ylabel="%")
    ax = fig.axes[0]
    assert len(ax.lines) == 2  # the cut-off and the series
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ARUP band", "cut-off 7 %"]
    with pytest.raises(cd38.InvalidArgumentError):
        cd38.plot.trend([])
    with pytest.raises(cd38.InvalidArgumentError, match="not a date"):
        cd38.plot.trend([("yesterday", 1.0)])


def test_draws_into_a_given_axes(result: cd38.GatingResult, tmp_path: Path) -> None:
    fig = cd38.plot.new_figure(8, 4)
    a, b = fig.subplots(1, 2)
    assert cd38.plot.biaxial(result, "CD38", "IgM", "b_cells", ax=a) is fig
    cd38.plot.histogram(result, "CD19", ax=b)
    fig.savefig(tmp_path / "two.png")
    assert (tmp_path / "two.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "tf",
    [
        LG,
        cd38.transforms.Hyperlog(),
        cd38.transforms.Arcsinh(150.0),
        cd38.transforms.FlowJoBiex(),
        Linear(1e5),
    ],
)
def test_binning_data_values_equals_binning_transformed_values(tf: cd38.transforms.Transform) -> None:
    """bin_index finds the bin of transform(v) without transforming v (look-up table + edge check)."""
    from cd38.plot._density import bin_index

    rng = np.random.default_rng(7)
    v = np.concatenate([rng.normal(0, 150, 100_000), rng.lognormal(8, 1.5, 100_000), [0.0, 1e12, -1e12]])
    tv = tf.apply(v)
    lo, hi = (-0.15, 1.0) if tf.kind != "arcsinh" else (float(tv.min()), float(tv.max()))
    want = np.clip(((tv - lo) * (256 / (hi - lo))), 0, 255).astype(np.intp)
    got = bin_index(v, lo, hi, 256, tf)
    assert np.count_nonzero(got != want) <= 2  # only values within rounding of an edge may differ
    assert np.abs(got - want).max() <= 1
