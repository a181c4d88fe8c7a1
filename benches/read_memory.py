"""Peak memory of reading an FCS file, beyond the interpreter's baseline.

    python benches/read_memory.py FILE [cd38|numpy|flowkit]

Runs the read in this process and prints peak RSS (VmHWM) and anonymous RSS
growth over the baseline taken after imports.
"""

from __future__ import annotations

import sys


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def main(path: str, who: str = "cd38") -> None:
    import numpy as np

    import cd38

    if who == "flowkit":
        import flowkit as fk
    size = cd38.read_fcs_metadata(path)
    n_bytes = size.n_events * size.n_channels * 4
    base_rss = _status("VmRSS")
    if who == "cd38":
        ev = cd38.read_fcs(path).to_numpy()
    elif who == "numpy":
        off = int(size.keywords["$BEGINDATA"])
        ev = np.fromfile(path, dtype="<f4", offset=off, count=size.n_events * size.n_channels)
    else:
        ev = fk.Sample(path).get_events(source="raw")
    peak = _status("VmHWM") - base_rss
    print(
        f"{who}: event data {n_bytes / 2**20:.0f} MiB, peak RSS beyond baseline "
        f"{peak / 2**20:.0f} MiB ({peak / n_bytes:.2f}x the event data), result {ev.nbytes / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
