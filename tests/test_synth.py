"""The synthetic-sample generator: determinism, ground truth, phenotypes, profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cd38
from cd38 import synth


def test_deterministic_and_truthful(tmp_path: Path) -> None:
    a = synth.bcell_sample(tmp_path / "a.fcs", 30_000, seed=5, chunk_events=7_000)
    b = synth.bcell_sample(tmp_path / "b.fcs", 30_000, seed=5, chunk_events=7_000)
    c = synth.bcell_sample(tmp_path / "c.fcs", 30_000, seed=6, chunk_events=7_000)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes() != c.path.read_bytes()
    assert sum(a.counts.values()) == 30_000
    assert a.labels is not None
    labels, counts = np.unique(a.labels, return_counts=True)
    assert {synth.POPULATIONS[i]: int(n) for i, n in zip(labels, counts, strict=True)} == {
        k: v for k, v in a.counts.items() if v
    }
    s = cd38.read_fcs(a.path, strict=True)
    assert s.n_events == 30_000 and s.channels == synth.CHANNELS
    assert s.markers[4:15] == synth.MARKERS
    assert s.spillover is not None and s.spillover.detectors == synth.DETECTORS


def test_phenotypes_after_compensation(tmp_path: Path) -> None:
    ss = synth.bcell_sample(tmp_path / "p.fcs", 60_000, seed=1)
    comp = cd38.read_fcs(ss.path).compensate().to_numpy()
    assert ss.labels is not None
    names = np.array(synth.POPULATIONS)[ss.labels]

    def median(pop: str, marker: str) -> float:
        return float(np.median(comp[names == pop, 4 + synth.MARKERS.index(marker)]))

    assert median("naive", "CD19") > 2000 > abs(median("t_cell", "CD19"))
    assert median("t_cell", "CD3") > 2000 > abs(median("naive", "CD3"))
    assert median("transitional", "CD38") > 10 * median("naive", "CD38")
    assert median("plasmablast", "CD27") > 4 * median("switched_memory", "CD27")
    assert abs(median("switched_memory", "IgD")) < 500 < median("naive", "IgD")


@pytest.mark.parametrize(
    ("profile", "population", "of", "expected"),
    [
        ("healthy", "b_cells", "lymphocytes", 0.15),
        ("cll", "clonal_cd5", "b_cells", 0.63),
        ("post_rituximab", "b_cells", "lymphocytes", 0.005),
    ],
)
def test_profiles(tmp_path: Path, profile: str, population: str, of: str, expected: float) -> None:
    n = 200_000
    ss = synth.bcell_sample(tmp_path / f"{profile}.fcs", n, seed=2, profile=profile, keep_labels=False)
    got = ss.fraction(population, of)
    denom = ss.fraction(of) * n
    assert abs(got - expected) < 4 * np.sqrt(expected * (1 - expected) / denom)  # binomial error


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(cd38.InvalidArgumentError, match="profile"):
        synth.bcell_sample(tmp_path / "x.fcs", 10, profile="sick")
    with pytest.raises(cd38.InvalidArgumentError, match="unknown B subset"):
        synth.bcell_sample(tmp_path / "x.fcs", 10, b_subsets={"memory": 1.0})
    assert not (tmp_path / "x.fcs").exists()
