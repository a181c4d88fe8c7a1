"""Inputs and helpers shared by the batch tests (no tests here).

Small synthetic files (20,000 events) with cd38.synth, one truncated file, one
file lacking a channel the strategy gates on, and a five-gate B-cell strategy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

import cd38
from cd38 import Dimension, GatingStrategy
from cd38.errors import InvalidArgumentError
from cd38.gates import Divider, PolygonGate, Quadrant, QuadrantGate, RectangleGate
from cd38.transforms import Logicle

N_EVENTS = 20_000
PROFILES = ("healthy", "cll", "post_rituximab", "healthy")
POS = 0.42  # logicle of about 1,000


def _fl(channel: str) -> Dimension:
    return Dimension(channel, compensation="FCS", transform=Logicle())


def strategy() -> GatingStrategy:
    st = GatingStrategy()
    fsc, ssc = Dimension("FSC-A"), Dimension("SSC-A")
    cells = [(30000, 2000), (160000, 2000), (160000, 100000), (30000, 60000)]
    st.add(PolygonGate("cells", [fsc, ssc], cells))
    st.add(RectangleGate("lymphocytes", [fsc, ssc], [40000, 5000], [100000, 45000]), "cells")
    st.add(RectangleGate("b_cells", [_fl("FITC-A"), _fl("PE-A")], [POS, None], [None, POS]), "lymphocytes")
    divs = [Divider("cd38", _fl("PerCP-Cy5-5-A"), [POS]), Divider("igm", _fl("APC-A"), [POS])]
    quads = [
        Quadrant(f"cd38{a}_igm{b}", {"cd38": x, "igm": y})
        for a, x in (("pos", 0.8), ("neg", 0.1))
        for b, y in (("pos", 0.8), ("neg", 0.1))
    ]
    st.add(QuadrantGate("cd38_igm", divs, quads), "b_cells")
    st.add(RectangleGate("cd5", [_fl("APC-H7-A")], [POS], [None]), "b_cells")
    return st


@dataclass(frozen=True)
class Inputs:
    folder: Path
    good: list[Path]
    corrupt: Path
    missing: Path

    @property
    def all(self) -> list[Path]:
        return sorted([*self.good, self.corrupt, self.missing])

    @property
    def glob(self) -> str:
        return str(self.folder / "*.fcs")


def make_inputs(folder: Path, n_good: int = 4, n_events: int = N_EVENTS) -> Inputs:
    folder.mkdir(parents=True, exist_ok=True)
    good = []
    for i in range(n_good):
        path = folder / f"s{i:02d}.fcs"
        cd38.synth.bcell_sample(path, n_events, seed=i, profile=PROFILES[i % 4], keep_labels=False)
        good.append(path)
    corrupt = folder / "corrupt.fcs"
    corrupt.write_bytes(good[0].read_bytes()[: os.path.getsize(good[0]) // 2])
    missing = folder / "no_cd5.fcs"
    s = cd38.read_fcs(good[1])
    keep = [i for i, c in enumerate(s.channels) if c != "APC-H7-A"]
    cd38.write_fcs(
        missing,
        s.to_numpy()[:, keep],
        [s.channels[i] for i in keep],
        [s.markers[i] for i in keep],
        keywords={"$TIMESTEP": "0.01"},
    )
    return Inputs(folder, good, corrupt, missing)


def dataset(out: Path) -> dict[str, pl.DataFrame]:
    """Everything a run wrote that must not depend on how it ran."""
    tables = {t: cd38.batch.read(out, t) for t in ("counts", "stats", "interpretations")}
    tables["failures"] = pl.read_parquet(out / "failures.parquet").drop("file")
    tables["samples"] = pl.read_parquet(out / "samples.parquet").drop("file")
    return tables


def assert_same_dataset(a: Path, b: Path) -> None:
    da, db = dataset(a), dataset(b)
    for name in da:
        assert da[name].equals(db[name]), name


def manifests(out: Path) -> dict[str, dict[str, Any]]:
    import json

    return {p.name: json.loads(p.read_text()) for p in sorted((out / "manifests").glob("*.json"))}


# -- panels (module level so worker processes can import them) ------------------------------------
def cd5_panel(sample: cd38.Sample, *, require: str = "CD5") -> GatingStrategy:
    """A data-dependent 'panel': refuses a sample without the marker it needs."""
    if require not in sample.markers:
        raise InvalidArgumentError(f"{sample.path}: no {require} marker; markers are {sample.markers}")
    return strategy()


def crashing_panel(sample: cd38.Sample, *, crash_on: str) -> GatingStrategy:
    """Kills its worker process on one file, as an out-of-memory kill would."""
    if sample.path is not None and sample.path.name == crash_on:
        os._exit(3)
    return strategy()
