"""A synthetic 16-channel B-cell-panel file (float32, stored uncompensated with
$SPILLOVER) and a ~10-gate Gating-ML strategy on logicle of compensated values,
for the side-by-side benchmarks (the figures in benches/README.md were taken
with this generator; cd38.synth is the general one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import cd38
from cd38.synth import CHANNELS, DETECTORS, MARKERS, spillover_matrix


def write_bcell_file(path: Path, n: int, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    kind = rng.choice(5, size=n, p=[0.12, 0.05, 0.5, 0.25, 0.08])  # debris, doublet, T, B, mono
    data = np.empty((n, len(CHANNELS)), dtype=np.float32)
    fsc = np.where(kind == 0, rng.gamma(2, 9000, n), rng.normal(70000, 9000, n))
    fsc = np.where(kind == 4, rng.normal(120000, 15000, n), fsc)
    fsc_h = fsc * np.where(kind == 1, rng.normal(0.55, 0.04, n), rng.normal(0.82, 0.03, n))
    ssc = np.where(kind == 0, rng.gamma(2, 4000, n), rng.normal(25000, 5000, n))
    ssc = np.where(kind == 4, rng.normal(70000, 9000, n), ssc)
    for c, v in enumerate([fsc, fsc_h, ssc, ssc * rng.normal(0.85, 0.03, n)]):
        data[:, c] = v
    b = kind == 3
    pos = {
        "CD19": b,
        "CD3": kind == 2,
        "CD38": b & (rng.random(n) < 0.35),
        "IgM": b & (rng.random(n) < 0.6),
        "CD27": b & (rng.random(n) < 0.3),
        "CD24": b & (rng.random(n) < 0.5),
        "IgD": b & (rng.random(n) < 0.6),
        "CD5": (kind == 2) | (b & (rng.random(n) < 0.1)),
        "CD21": b & (rng.random(n) < 0.9),
        "CD45": kind != 0,
        "Viability": rng.random(n) < 0.05,
    }
    true = np.empty((n, len(DETECTORS)), dtype=np.float64)
    for j, m in enumerate(MARKERS):
        true[:, j] = np.where(pos[m], rng.lognormal(8.5, 0.5, n), rng.normal(0, 150, n))
    data[:, 4 : 4 + len(DETECTORS)] = true @ spillover_matrix()
    data[:, -1] = np.sort(rng.uniform(0, 600_000, n)).astype(np.float32)
    s = spillover_matrix()
    spill = ",".join([str(len(DETECTORS)), *DETECTORS, *(repr(float(v)) for v in s.ravel())])
    markers = ["", "", "", "", *MARKERS, ""]
    cd38.write_fcs(path, data, CHANNELS, markers, keywords={"$SPILLOVER": spill, "$TIMESTEP": "0.01"})
    return path


def _dim(name: str, xf: str | None = "Logicle", comp: str = "FCS") -> str:
    x = f' gating:transformation-ref="{xf}"' if xf else ""
    return f'<gating:dimension gating:compensation-ref="{comp}"{x}><data-type:fcs-dimension data-type:name="{name}"/>'


def _rect(gid: str, parent: str | None, bounds: list[tuple[str, float | None, float | None]]) -> str:
    p = f' gating:parent_id="{parent}"' if parent else ""
    dims = []
    for ch, lo, hi in bounds:
        d = _dim(ch)
        attrs = (f' gating:min="{lo}"' if lo is not None else "") + (
            f' gating:max="{hi}"' if hi is not None else ""
        )
        dims.append(d.replace("<gating:dimension ", f"<gating:dimension{attrs} ", 1) + "</gating:dimension>")
    return f'<gating:RectangleGate gating:id="{gid}"{p}>{"".join(dims)}</gating:RectangleGate>'


def _poly(gid: str, parent: str | None, x: str, y: str, verts: list[tuple[float, float]]) -> str:
    p = f' gating:parent_id="{parent}"' if parent else ""
    v = "".join(
        f'<gating:vertex><gating:coordinate data-type:value="{a}"/><gating:coordinate data-type:value="{b}"/>'
        "</gating:vertex>"
        for a, b in verts
    )
    dx = _dim(x, None, "uncompensated") + "</gating:dimension>"
    dy = _dim(y, None, "uncompensated") + "</gating:dimension>"
    return f'<gating:PolygonGate gating:id="{gid}"{p}>{dx}{dy}{v}</gating:PolygonGate>'


def strategy_xml() -> str:
    pos = 0.42  # logicle(262144, 0.5, 4.5, 0) of about 1,000
    cd38q = (
        '<gating:QuadrantGate gating:id="cd38_igm" gating:parent_id="b_cells">'
        '<gating:divider gating:id="cd38" gating:compensation-ref="FCS" gating:transformation-ref="Logicle">'
        f'<data-type:fcs-dimension data-type:name="PerCP-Cy5-5-A"/><gating:value>{pos}</gating:value></gating:divider>'
        '<gating:divider gating:id="igm" gating:compensation-ref="FCS" gating:transformation-ref="Logicle">'
        f'<data-type:fcs-dimension data-type:name="APC-A"/><gating:value>{pos}</gating:value></gating:divider>'
        + "".join(
            f'<gating:Quadrant gating:id="{qid}"><gating:position gating:divider_ref="cd38" gating:location="{a}"/>'
            f'<gating:position gating:divider_ref="igm" gating:location="{b}"/></gating:Quadrant>'
            for qid, a, b in [
                ("cd38pos_igmneg", 0.8, 0.1),
                ("cd38pos_igmpos", 0.8, 0.8),
                ("cd38neg_igmpos", 0.1, 0.8),
                ("cd38neg_igmneg", 0.1, 0.1),
            ]
        )
        + "</gating:QuadrantGate>"
    )
    gates = [
        _poly(
            "cells", None, "FSC-A", "SSC-A", [(30000, 2000), (160000, 2000), (160000, 100000), (30000, 60000)]
        ),
        _poly(
            "singlets",
            "cells",
            "FSC-A",
            "FSC-H",
            [(30000, 20000), (160000, 115000), (160000, 150000), (30000, 32000)],
        ),
        _poly(
            "lymphocytes",
            "singlets",
            "FSC-A",
            "SSC-A",
            [(40000, 5000), (100000, 5000), (100000, 45000), (40000, 45000)],
        ),
        _rect("b_cells", "lymphocytes", [("FITC-A", pos, None), ("PE-A", None, pos)]),
        _rect("t_cells", "lymphocytes", [("PE-A", pos, None), ("FITC-A", None, pos)]),
        cd38q,
        _rect("memory", "b_cells", [("BV421-A", pos, None)]),
        _rect("transitional", "b_cells", [("PE-Cy7-A", 0.55, None), ("PerCP-Cy5-5-A", 0.55, None)]),
        _rect("clonal_cd5", "b_cells", [("APC-H7-A", pos, None)]),
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
        'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" '
        'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">'
        '<transforms:transformation transforms:id="Logicle">'
        '<transforms:logicle transforms:T="262144" transforms:W="0.5" transforms:M="4.5" transforms:A="0"/>'
        "</transforms:transformation>" + "".join(gates) + "</gating:Gating-ML>\n"
    )
