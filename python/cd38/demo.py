"""`python -m cd38.demo`: write a synthetic B-cell-panel FCS file with cd38's own
writer (cd38.synth), read it back, compensate it, and print a summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import cd38
from cd38 import synth


def main(out_dir: str = "cd38-demo", n_events: int = 200_000) -> int:
    folder = Path(out_dir)
    folder.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    truth = synth.bcell_sample(folder / "demo_bcell.fcs", n_events, seed=38)
    t1 = time.perf_counter()
    sample = cd38.read_fcs(truth.path, strict=True)
    t2 = time.perf_counter()
    comp = sample.compensate()
    t3 = time.perf_counter()
    ev = comp.to_numpy()
    print(f"cd38 {cd38.__version__}: wrote and read {truth.path}")
    print(f"  {sample.version}, {sample.n_events:,} events x {sample.n_channels} channels, {ev.dtype}")
    ms = [f"{1e3 * d:.0f} ms" for d in (t1 - t0, t2 - t1, t3 - t2)]
    print(f"  write {ms[0]}, read {ms[1]}, compensate {ms[2]}")
    print(f"  spillover: {sample.spillover}")
    print(f"  repairs: {len(sample.repairs)}")
    print(f"  true B cells: {100 * truth.fraction('b_cells', 'lymphocytes'):.1f} % of lymphocytes")
    assert truth.labels is not None
    names = np.array(synth.POPULATIONS)[truth.labels]
    print(f"  {'marker':<10} {'channel':<14} {'median in B':>12} {'median in T':>12}")
    for marker in ("CD19", "CD3", "CD38", "IgM", "CD27"):
        i = sample.channels.index(synth.DETECTORS[synth.MARKERS.index(marker)])
        b = float(np.median(ev[np.isin(names, synth.B_SUBSETS), i]))
        t = float(np.median(ev[names == "t_cell", i]))
        print(f"  {marker:<10} {sample.channels[i]:<14} {b:>12.0f} {t:>12.0f}")
    ok = sample.n_events == n_events and not sample.repairs
    print(f"  read back complete and clean: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cd38-demo"))
