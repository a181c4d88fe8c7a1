"""Cohort benchmark: N files of M events through cd38.batch.run, on this machine
(worker processes, then threads) and on a Dask LocalCluster, with the answers
checked identical. Not part of `make test` or `make bench`; run it by hand:

    .venv/bin/python benches/bench_batch.py                 # 200 files x 100,000 events
    .venv/bin/python benches/bench_batch.py --files 20 --events 20000

Files (synthetic B-cell panel, cd38.synth) are written once into --data and
reused; the strategy is the 12-population Gating-ML strategy of bcell_data.py.
Cluster start-up is timed separately from the run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cd38
from cd38.batch._local import available_cores

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bcell_data import strategy_xml

PROFILES = ("healthy", "cll", "post_rituximab")


def make_files(folder: Path, n_files: int, n_events: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_files):
        p = folder / f"sample_{i:04d}.fcs"
        if not p.exists():
            cd38.synth.bcell_sample(p, n_events, seed=i, profile=PROFILES[i % 3], keep_labels=False)
        paths.append(p)
    return paths


def timed_run(label: str, files: list[Path], out: Path, **kwargs: object) -> cd38.batch.BatchSummary:
    shutil.rmtree(out, ignore_errors=True)
    strategy = cd38.GatingStrategy.from_gatingml(strategy_xml())
    summary = cd38.batch.run(files, strategy, out=out, progress=False, **kwargs)  # type: ignore[arg-type]
    assert summary.ok and summary.n_done == len(files), str(summary)
    print(
        f"{label:<34} {summary.elapsed:7.2f} s  {summary.files_per_second:7.2f} files/s  "
        f"{summary.events_per_second / 1e6:6.2f} M events/s",
        flush=True,
    )
    return summary


def same(a: Path, b: Path) -> bool:
    return all(cd38.batch.read(a, t).equals(cd38.batch.read(b, t)) for t in ("counts", "stats"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cd38_bench_batch")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    cores = available_cores()
    data = args.data / f"{args.files}x{args.events}"
    t = time.perf_counter()
    files = make_files(data / "in", args.files, args.events)
    print(
        f"{len(files)} files x {args.events:,} events ready in {time.perf_counter() - t:.1f} s; {cores} cores"
    )
    local = timed_run(f"local, {cores} processes", files, data / "out_processes")
    timed_run(f"local, {cores} threads", files, data / "out_threads", executor="threads", workers=cores)
    timed_run("local, 1 process (serial)", files, data / "out_serial", workers=1)
    if not args.no_dask:
        from distributed import Client, LocalCluster

        t = time.perf_counter()
        with (
            LocalCluster(
                n_workers=cores,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            print(f"LocalCluster ({cores} workers x 1 thread) up in {time.perf_counter() - t:.1f} s")
            timed_run(f"dask LocalCluster, {cores} workers", files, data / "out_dask", executor=client)
        print("dask result identical to local:", same(data / "out_processes", data / "out_dask"))
    print("threads result identical to processes:", same(data / "out_processes", data / "out_threads"))
    print(local)


if __name__ == "__main__":
    main()
