"""`python -m cd38.demo`: write a synthetic B-cell-panel FCS file with cd38's own
writer, read it back, and print a summary. Everything runs on built-in data."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import cd38

CHANNELS = ["FSC-A", "FSC-H", "SSC-A", "FL1-A", "FL2-A", "FL3-A", "FL4-A", "Time"]
MARKERS = ["", "", "", "CD19 FITC", "CD3 PE", "CD38 PerCP-Cy5.5", "IgM APC", ""]


def synthetic_events(n: int, seed: int = 38) -> np.ndarray:
    """Lymphocytes (T and B, B split by CD38 x IgM) plus debris, float32."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(4, size=n, p=[0.15, 0.6, 0.2, 0.05])  # debris, T, B, plasmablast-like
    fsc = np.where(kind == 0, rng.gamma(2.0, 8000, n), rng.normal(60000, 8000, n))
    out = np.empty((n, len(CHANNELS)), dtype=np.float32)
    out[:, 0] = fsc
    out[:, 1] = fsc * rng.normal(0.8, 0.03, n)
    out[:, 2] = np.where(kind == 0, rng.gamma(2.0, 5000, n), rng.normal(20000, 4000, n))

    def level(pos: np.ndarray) -> np.ndarray:
        return np.where(pos, rng.lognormal(9.0, 0.4, n), rng.normal(150, 120, n))

    out[:, 3] = level(kind >= 2)  # CD19
    out[:, 4] = level(kind == 1)  # CD3
    out[:, 5] = level((kind == 3) | ((kind == 2) & (rng.random(n) < 0.3)))  # CD38
    out[:, 6] = level((kind == 2) & (rng.random(n) < 0.7))  # IgM
    out[:, 7] = np.sort(rng.uniform(0, 60_000, n))
    # Spill FITC into PE as an instrument would (the file is stored uncompensated).
    out[:, 4] += 0.12 * out[:, 3]
    return out


def main(out_dir: str = "cd38-demo", n_events: int = 200_000) -> int:
    folder = Path(out_dir)
    folder.mkdir(exist_ok=True)
    path = folder / "demo_bcell.fcs"
    spill = "4,FL1-A,FL2-A,FL3-A,FL4-A,1,0.12,0.01,0,0.02,1,0.05,0,0,0.03,1,0.08,0,0,0.02,1"
    events = synthetic_events(n_events)
    t0 = time.perf_counter()
    cd38.write_fcs(
        path,
        events,
        CHANNELS,
        MARKERS,
        keywords={"$CYT": "cd38 synthetic", "$SPILLOVER": spill, "$TIMESTEP": "0.01"},
    )
    t1 = time.perf_counter()
    sample = cd38.read_fcs(path, strict=True)
    t2 = time.perf_counter()
    ev = sample.to_numpy()
    print(f"cd38 {cd38.__version__}: wrote and read {path}")
    print(f"  {sample.version}, {sample.n_events:,} events x {sample.n_channels} channels, {ev.dtype}")
    print(f"  write {1e3 * (t1 - t0):.1f} ms, read {1e3 * (t2 - t1):.1f} ms")
    print(f"  spillover: {sample.spillover}")
    print(f"  repairs: {len(sample.repairs)}")
    print(f"  {'channel':<8} {'marker':<18} {'median':>12}")
    for i, (name, marker) in enumerate(zip(sample.channels, sample.markers, strict=True)):
        print(f"  {name:<8} {marker:<18} {float(np.median(ev[:, i])):>12.1f}")
    same = np.array_equal(ev[:, :7], events[:, :7]) and np.allclose(ev[:, 7], events[:, 7] * 0.01)
    print(f"  read back identical to what was written (time x $TIMESTEP): {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cd38-demo"))
