"""The whole path on a generated sample: cd38.synth writes a B-cell-panel FCS
file, the B-cell panel places its gates from the data, and the populations are
counted and compared with the generator's ground truth.

:func:`run` does the work and returns what it made, so ``cd38 demo`` can add the
plots, the interpretation and the report; ``python -m cd38.demo`` prints it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cd38
from cd38 import synth
from cd38.panels import bcell

if TYPE_CHECKING:
    import polars as pl

    from cd38.gating import GatingResult, GatingStrategy

__all__ = ["DemoRun", "run"]

# The generator's B subsets that a panel population corresponds to one to one.
_TRUTH = {
    "transitional": "transitional",
    "plasmablasts": "plasmablast",
    "cd21low": "cd21low",
}


@dataclass
class DemoRun:
    """What a demo run wrote and found."""

    folder: Path
    fcs: Path
    counts_path: Path
    stats_path: Path
    truth: synth.SynthSample
    strategy: GatingStrategy
    result: GatingResult
    counts: pl.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        s = self.result.sample
        lines = [
            f"cd38 {cd38.__version__} demo: {self.fcs}",
            f"  {s.version}, {s.n_events:,} events x {s.n_channels} channels; spillover from $SPILLOVER",
            "  " + ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items()),
            f"  {'population':<20} {'% of parent':>11} {'parent':<12} {'true %':>7}",
        ]
        for row in self.counts.iter_rows(named=True):
            pop = row["population"]
            true = self._true(pop)
            pct = row["pct_parent"]
            lines.append(
                f"  {pop:<20} {pct if pct is not None else float('nan'):>11.2f} {row['parent'] or '-':<12} "
                f"{'' if true is None else f'{100 * true:.2f}':>7}"
            )
        missing = self.strategy.info.get("missing", {})
        if missing:
            lines.append("  not gated: " + "; ".join(f"{k} ({v})" for k, v in missing.items()))
        lines.append(f"  counts: {self.counts_path}\n  statistics: {self.stats_path}")
        return "\n".join(lines)

    def _true(self, population: str) -> float | None:
        if population == "b_cells":
            return self.truth.fraction("b_cells", "lymphocytes")
        if population in _TRUTH:
            return self.truth.fraction(_TRUTH[population], "b_cells")
        return None


def run(out_dir: str | Path = "cd38-demo", n_events: int = 200_000, seed: int = 38) -> DemoRun:
    """Write the sample into ``out_dir``, gate it with the B-cell panel, and
    write counts and per-population medians (Parquet) beside it."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    truth = synth.bcell_sample(folder / "demo_bcell.fcs", n_events, seed=seed, keep_labels=False)
    seconds["write"] = time.perf_counter() - t
    t = time.perf_counter()
    sample = cd38.read_fcs(truth.path, strict=True)
    seconds["read"] = time.perf_counter() - t
    t = time.perf_counter()
    strategy = bcell(sample)
    seconds["place gates"] = time.perf_counter() - t
    t = time.perf_counter()
    result = strategy.gate(sample)
    counts = result.counts()
    seconds["gate"] = time.perf_counter() - t
    t = time.perf_counter()
    stats = result.stats(stats=("median",), on="compensated")
    seconds["statistics"] = time.perf_counter() - t
    counts_path, stats_path = folder / "counts.parquet", folder / "stats.parquet"
    _write_atomic(counts, counts_path)
    _write_atomic(stats, stats_path)
    return DemoRun(folder, truth.path, counts_path, stats_path, truth, strategy, result, counts, seconds)


def _write_atomic(table: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    table.write_parquet(tmp)
    tmp.replace(path)


def main(out_dir: str = "cd38-demo") -> int:
    print(run(out_dir).summary())
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
