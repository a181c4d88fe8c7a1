"""Time cd38.plot.biaxial on every event of a large file.

    python benches/plot_speed.py [N_EVENTS]   (default 10,000,000; the file is made once)

Gates the file with the benchmark strategy of bcell_data.py, then plots FSC-A x SSC-A
(raw) and CD38 x IgM (compensated, logicle) three times each, printing the time to
build the figure and to write its PNG. The first call includes paging the mapped file in.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bcell_data import strategy_xml

import cd38
from cd38 import plot, synth
from cd38.transforms import Logicle


def main(n: int) -> None:
    path = Path(tempfile.gettempdir()) / "cd38-bench" / f"bcell_{n}.fcs"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        synth.bcell_sample(path, n, seed=1, keep_labels=False)
    sample = cd38.read_fcs(path)
    result = cd38.GatingStrategy.from_gatingml(strategy_xml()).gate(sample)
    lg = Logicle(262144, 0.5, 4.5, 0)
    cases = {
        "FSC-A x SSC-A (raw)": ("FSC-A", "SSC-A"),
        "CD38 x IgM (compensated logicle)": (
            cd38.Dimension("PerCP-Cy5-5-A", "FCS", lg),
            cd38.Dimension("APC-A", "FCS", lg),
        ),
    }
    png = Path(tempfile.gettempdir()) / "cd38-plot-speed.png"
    for name, (x, y) in cases.items():
        for _ in range(3):
            t = time.perf_counter()
            fig = plot.biaxial(result, x, y)
            t1 = time.perf_counter()
            fig.savefig(png)
            print(f"{name}, {n:,} events: figure {t1 - t:.2f} s, PNG {time.perf_counter() - t1:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
