"""``cd38 demo``: the whole path on a generated sample, written to ./cd38-demo/.

A synthetic B-cell-panel FCS file (cd38.synth) is gated with the B-cell panel,
its statistics are written as Parquet, the sample is interpreted in a clinical
context for a made-up adult subject, and everything ends in one HTML report.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from cd38.cli._common import common_options, info, progress, state

__all__ = ["DemoResult", "demo", "run_demo"]

# A made-up adult having a routine B-subset panel: every field is demo data.
DEMO_SUBJECT = """\
# A made-up subject for the cd38 demo (every field optional; see cd38.Subject).
age_years = 45
sex = "female"
specimen_type = "peripheral_blood"
assay_type = "b_subset_panel"
collection_datetime = {today}T09:00:00
"""

# Populations the summary prints, with the parent their percentage is of.
SUMMARY = [
    "lymphocytes",
    "b_cells",
    "t_cells",
    "cd38pos_igmneg",
    "cd38pos_igmpos",
    "cd38neg_igmpos",
    "cd38neg_igmneg",
    "transitional",
    "plasmablasts",
    "naive",
    "switched_memory",
]


@dataclass
class DemoResult:
    folder: Path
    fcs: Path
    stats: Path
    subject: Path
    report: Path
    context: str | None
    populations: list[tuple[str, str | None, int, float | None]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    warnings: int = 0
    refusals: int = 0
    seconds: float = 0.0


def _populations(result: Any) -> list[tuple[str, str | None, int, float | None]]:
    rows = []
    for r in result.counts().iter_rows(named=True):
        if r["population"] in SUMMARY:
            rows.append((r["population"], r["parent"], r["count"], r["pct_parent"]))
    return rows


def run_demo(
    folder: Path,
    n_events: int = 200_000,
    *,
    seed: int = 38,
    profile: str = "healthy",
    context: str | None = "general",
) -> DemoResult:
    """Run the demo into ``folder``; returns where everything went and a summary."""
    import cd38
    from cd38 import panels, synth
    from cd38.cli._common import subject_from, write_table
    from cd38.cli.gate_cmd import tidy_table
    from cd38.report import write_report
    from cd38.report._atomic import write_text

    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with progress(6, "demo") as step:
        truth = synth.bcell_sample(
            folder / "demo_bcell.fcs", n_events, seed=seed, profile=profile, keep_labels=False
        )
        step("gating with the B-cell panel")
        sample = cd38.read_fcs(truth.path)
        result = panels.bcell(sample).gate(sample)
        step("statistics")
        stats = folder / "demo_stats.parquet"
        write_table(tidy_table(result, ["median"], "compensated"), stats)
        step("interpreting")
        subject = write_text(folder / "subject.toml", DEMO_SUBJECT.format(today=dt.date.today().isoformat()))
        interp = None
        if context is not None:
            interp = cd38.interpret(result, context=context, subject=subject_from(subject))
        step("drawing the report")
        report = write_report(
            folder / "report.html",
            result,
            interpretation=interp,
            title=f"cd38 demo — synthetic {profile} sample",
        )
        step("done")
    out = DemoResult(folder, truth.path, stats, subject, report, context, _populations(result))
    if interp is not None:
        out.findings = [f.statement for f in interp.findings]
        out.warnings, out.refusals = len(interp.warnings), len(interp.refusals)
    out.seconds = time.perf_counter() - t0
    return out


def _print(d: DemoResult) -> None:
    echo = click.echo
    echo(f"cd38 demo: {d.folder.resolve()}  ({d.seconds:.1f} s)")
    echo(f"  FCS file     {d.fcs}")
    echo(f"  statistics   {d.stats}")
    echo(f"  report       {d.report.resolve()}")
    echo("  populations  (count, % of parent)")
    for pid, parent, n, pct in d.populations:
        p = "n/a" if pct is None else f"{pct:5.1f} %"
        echo(f"    {pid:<18} {n:>8,}  {p} of {parent}")
    if d.context is None:
        echo("  no context requested: no findings")
        return
    echo(
        f"  context '{d.context}': {len(d.findings)} finding(s), {d.warnings} warning(s), "
        f"{d.refusals} refusal(s)"
    )
    for s in d.findings:
        echo(f"    - {s}")
    echo("  Not a diagnosis: see the report for citations, caveats and the disclaimer.")


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("cd38-demo"),
    show_default=True,
    help="Folder to write into.",
)
@click.option(
    "--events", "n_events", type=click.IntRange(1_000, 50_000_000), default=200_000, show_default=True
)
@click.option("--seed", type=int, default=38, show_default=True)
@click.option(
    "--profile",
    type=click.Choice(["healthy", "cll", "post_rituximab"]),
    default="healthy",
    show_default=True,
    help="Which synthetic sample to generate.",
)
@click.option("--context", default="general", show_default=True, help="Context to interpret in.")
@common_options
def demo(out_dir: Path, n_events: int, seed: int, profile: str, context: str) -> None:
    """Generate a sample, gate it, write statistics, interpret it and write the report."""
    d = run_demo(out_dir, n_events, seed=seed, profile=profile, context=context)
    if state().quiet:
        click.echo(str(d.report.resolve()))
    else:
        _print(d)
        info("open the report in a browser; it needs no network")
