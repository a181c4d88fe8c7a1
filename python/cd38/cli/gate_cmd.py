"""``cd38 gate FILE... --out stats.parquet``: counts and statistics of every population."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cd38.cli._common import (
    check_not_input,
    check_strategy_options,
    check_table_path,
    common_options,
    each_file,
    info,
    state,
    strategy_for,
    strategy_options,
    write_table,
)

if TYPE_CHECKING:
    import polars as pl

    from cd38.gating.result import GatingResult

__all__ = ["gate", "gate_file", "tidy_table"]


def gate_file(
    path: Path, gatingml: Path | None, panel: str | None, controls: Path | None, cd38_gate: str
) -> GatingResult:
    from cd38 import read_fcs

    sample = read_fcs(path)
    return strategy_for(sample, gatingml, panel, controls, cd38_gate).gate(sample)


def tidy_table(result: GatingResult, stats: list[str], on: str) -> pl.DataFrame:
    """Counts and per-channel statistics of every population in one long table:
    sample, population, parent, channel (null for counts), statistic, value, and
    the provenance columns of :mod:`cd38.stats`."""
    import polars as pl

    counts = result.counts_table()
    prov = [
        c
        for c in counts.columns
        if c not in ("population", "parent", "count", "pct_parent", "pct_total", "definitions")
    ]
    long = counts.unpivot(
        index=["population", "parent", *prov],
        on=["count", "pct_parent", "pct_total"],
        variable_name="statistic",
        value_name="value",
    ).with_columns(pl.col("value").cast(pl.Float64), pl.lit(None, dtype=pl.String).alias("channel"))
    parts = [long]
    if stats:
        st = result.stats(stats=stats, on=on)
        parts.append(st.select([c for c in long.columns if c in st.columns]))
    cols = ["sample", "population", "parent", "channel", "statistic", "value"]
    rest = [c for c in long.columns if c not in cols]
    out = pl.concat([p.select([*cols, *rest]) for p in parts], how="vertical_relaxed")
    panel = result.strategy.info.get("cd38_gate_definition")
    return out.with_columns(pl.lit(panel, dtype=pl.String).alias("cd38_gate_definition"))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@strategy_options
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output table: .parquet or .csv.",
)
@click.option(
    "--stats",
    default="median,mean,cv",
    show_default=True,
    help="Per-channel statistics, comma-separated (empty for counts only).",
)
@click.option(
    "--on",
    type=click.Choice(["scale", "compensated", "transformed"]),
    default="compensated",
    show_default=True,
    help="Values the statistics are computed on.",
)
@common_options
def gate(
    files: tuple[Path, ...],
    gatingml: Path | None,
    panel: str | None,
    controls: Path | None,
    cd38_gate: str,
    out_path: Path,
    stats: str,
    on: str,
) -> None:
    """Gate FILES with a Gating-ML strategy or the B-cell panel; write counts and statistics."""
    import polars as pl

    check_strategy_options(gatingml, panel)
    check_table_path(out_path)
    check_not_input(out_path, gatingml, *files)
    wanted = [s.strip() for s in stats.split(",") if s.strip()]
    from cd38.stats import KNOWN

    unknown = [s for s in wanted if s not in KNOWN]
    if unknown:
        raise click.BadParameter(
            f"unknown statistic(s) {unknown}; known: {', '.join(KNOWN)}", param_hint="--stats"
        )

    def one(p: Path) -> pl.DataFrame:
        result = gate_file(p, gatingml, panel, controls, cd38_gate)
        missing = result.strategy.info.get("missing") or {}
        if missing and not state().quiet:
            info(f"{p}: not gated: " + "; ".join(f"{k} ({v})" for k, v in missing.items()))
        return tidy_table(result, wanted, on)

    done, failed = each_file(files, "gating", one)
    if done:
        write_table(pl.concat([df for _, df in done], how="vertical_relaxed"), out_path)
        info(f"wrote {out_path} ({len(done)} file{'s' if len(done) != 1 else ''})")
    if failed:
        click.get_current_context().exit(1)
