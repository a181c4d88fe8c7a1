"""Thresholds from controls, density valleys and bright cuts, with their records."""

from __future__ import annotations

from pathlib import Path

import blake3
import numpy as np
import pytest

import cd38
from cd38.transforms import Logicle

LG = Logicle(262144, 0.5, 4.5, 0)


def _sample(tmp_path: Path, name: str, cd38_values: np.ndarray, spill: bool = False) -> cd38.Sample:
    rng = np.random.default_rng(len(name))
    other = rng.normal(0, 100, cd38_values.size)
    data = np.column_stack([other, cd38_values])
    kw = {"$SPILLOVER": "2,FL1-A,FL2-A,1,0.1,0,1"} if spill else {}
    return cd38.read_fcs(
        cd38.write_fcs(tmp_path / f"{name}.fcs", data, ["FL1-A", "FL2-A"], keywords=kw, datatype="D")
    )


def test_from_control_is_the_control_percentile(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    fmo = _sample(tmp_path, "fmo", rng.normal(0, 200, 20_000))
    t = cd38.thresholds.from_control(fmo, "FL2-A", 99.5, transform=LG)
    want = np.percentile(LG.apply(fmo.column("FL2-A")), 99.5)
    assert t.value == pytest.approx(want, rel=1e-12)
    assert t.method == "control_percentile"
    assert t.parameters["percentile"] == 99.5
    assert t.source_blake3 == blake3.blake3((tmp_path / "fmo.fcs").read_bytes()).hexdigest()
    assert t.n_events == 20_000 and "Logicle" in (t.transform or "")
    # Compensation applies before the percentile.
    spilled = _sample(tmp_path, "spilled", rng.normal(0, 200, 20_000), spill=True)
    comp = cd38.thresholds.from_control(spilled, "FL2-A", 99.0)
    raw = cd38.thresholds.from_control(spilled, "FL2-A", 99.0, compensate=False)
    assert comp.value != raw.value
    with pytest.raises(cd38.InvalidArgumentError):
        cd38.thresholds.from_control(fmo, "FL2-A", 100)


def test_valley_between_negative_and_positive(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.normal(0, 150, 30_000), rng.lognormal(np.log(20_000), 0.3, 20_000)])
    s = _sample(tmp_path, "bimodal", values)
    t = cd38.thresholds.valley(s, "FL2-A", transform=LG)
    neg_top, pos_bottom = LG.apply(
        [np.percentile(values[:30_000], 99.9), np.percentile(values[30_000:], 0.1)]
    )
    assert neg_top < t.value < pos_bottom
    assert t.method == "density_valley" and len(t.parameters["modes"]) == 2
    unimodal = _sample(tmp_path, "uni", rng.normal(0, 150, 20_000))
    with pytest.raises(cd38.InvalidArgumentError, match="mode"):
        cd38.thresholds.valley(unimodal, "FL2-A", transform=LG)


def test_bright_separates_bright_from_dim(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    neg = rng.normal(0, 150, 20_000)
    dim = rng.lognormal(np.log(2_000), 0.25, 20_000)
    hi = rng.lognormal(np.log(60_000), 0.2, 5_000)
    s = _sample(tmp_path, "three", np.concatenate([neg, dim, hi]))
    t = cd38.thresholds.bright(s, "FL2-A", transform=LG)
    lo_edge, hi_edge = LG.apply([np.percentile(dim, 99.9), np.percentile(hi, 0.1)])
    assert lo_edge < t.value < hi_edge
    assert t.method == "bright_valley"
    # Only the events of a population can be used (here: the dim and bright ones).
    idx = np.arange(20_000, 45_000)
    t2 = cd38.thresholds.bright(s, "FL2-A", transform=LG, events=idx)
    assert lo_edge < t2.value < hi_edge
    assert t2.to_dict()["n_events"] == idx.size


@pytest.mark.parametrize("positive_fraction", [0.005, 0.3, 0.9])
def test_mirrored_negative_matches_the_negative_percentile(tmp_path: Path, positive_fraction: float) -> None:
    rng = np.random.default_rng(7)
    n = 60_000
    n_pos = int(n * positive_fraction)
    neg = rng.normal(40, 150, n - n_pos)
    values = np.concatenate([neg, rng.lognormal(np.log(3_000), 0.3, n_pos)])
    s = _sample(tmp_path, f"mirror{n_pos}", values)
    lg = Logicle(262144, 0.7, 4.5, 0)
    t = cd38.thresholds.mirrored_negative(s, "FL2-A", 99.5, transform=lg)
    # The true 99.5th percentile of the negative is 40 + 2.576 * 150; the
    # estimate comes from the lower half only, so allow a few per cent.
    assert t.parameters["scale_value"] == pytest.approx(40 + 2.5758 * 150, rel=0.06)
    assert t.method == "mirrored_negative" and t.parameters["scale_mode"] == pytest.approx(40, abs=25)
    # valley_above moves the cut into the gap, above the negative's tail and below the positives.
    v = cd38.thresholds.mirrored_negative(s, "FL2-A", 99.5, transform=lg, valley_above=True)
    assert v.parameters["moved_to_valley"]
    assert t.value < v.value < lg.apply(np.array([1_500.0]))[0]


def test_mirrored_negative_ignores_tail_bumps_and_needs_a_mode(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    # A few far-negative outliers make a bump below the real negative mode.
    values = np.concatenate([rng.normal(0, 100, 30_000), rng.normal(-2_000, 20, 40)])
    s = _sample(tmp_path, "bump", values)
    t = cd38.thresholds.mirrored_negative(s, "FL2-A", transform=Logicle(262144, 0.7, 4.5, 0))
    assert abs(t.parameters["scale_mode"]) < 30
    with pytest.raises(cd38.InvalidArgumentError):
        cd38.thresholds.mirrored_negative(s, "FL2-A", 40)
    with pytest.raises(cd38.InvalidArgumentError):
        cd38.thresholds.valley(s, "FL2-A", between="middle")


def test_valley_between_the_lowest_modes(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    # Negative 20 %, dim 70 %, bright 10 %: "largest" would cut dim from bright.
    values = np.concatenate(
        [
            rng.normal(0, 100, 6_000),
            rng.lognormal(np.log(2_000), 0.2, 21_000),
            rng.lognormal(np.log(50_000), 0.2, 3_000),
        ]
    )
    s = _sample(tmp_path, "three", values)
    low = cd38.thresholds.valley(s, "FL2-A", transform=LG, between="lowest")
    assert low.method == "density_valley_lowest"
    assert LG.apply(np.array([300.0]))[0] < low.value < LG.apply(np.array([1_200.0]))[0]
