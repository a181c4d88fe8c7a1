"""``cd38 interpret INPUT --context NAME --subject subject.toml``: findings, warnings, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cd38.cli._common import (
    common_options,
    print_json,
    read_toml,
    strategy_for,
    strategy_options,
    subject_from,
)
from cd38.errors import InvalidArgumentError

__all__ = ["counts_from_table", "interpret", "load_input", "run_interpret"]

FCS_SUFFIXES = (".fcs", ".lmd")


def _measurements(path: Path) -> list[Any]:
    """``[[measurement]]`` tables of a TOML file, each a ``cd38.Measurement``."""
    from cd38.measurement import Measurement

    doc = read_toml(path)
    rows = doc.get("measurement", doc.get("measurements"))
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise InvalidArgumentError(
            f"{path}: expected [[measurement]] tables (population, value, unit, optional parent, "
            "gate_definition)"
        )
    out = []
    for i, r in enumerate(rows, 1):
        try:
            out.append(Measurement.from_dict(r))
        except (InvalidArgumentError, TypeError) as e:
            raise InvalidArgumentError(f"{path}: measurement {i}: {e}") from None
    return out


def counts_from_table(table: Any, path: Path, sample: str | None) -> tuple[Any, str | None]:
    """A counts table (population, parent, pct_parent) and its CD38 gate definition, from a
    ``cd38 gate`` table (long: statistic/value rows) or a wide counts table, for one sample."""
    import polars as pl

    if "sample" in table.columns:
        names = table["sample"].unique(maintain_order=True).to_list()
        if sample is None and len(names) > 1:
            raise InvalidArgumentError(f"{path}: {len(names)} samples in the table; choose one with --sample")
        pick = sample if sample is not None else names[0]
        if pick not in names:
            raise InvalidArgumentError(f"{path}: no sample {pick!r}; samples: {', '.join(map(str, names))}")
        table = table.filter(pl.col("sample") == pick)
    gate_def = None
    if "cd38_gate_definition" in table.columns:
        defs = table["cd38_gate_definition"].drop_nulls().unique().to_list()
        gate_def = defs[0] if len(defs) == 1 else None
    if {"statistic", "value"} <= set(table.columns):
        rows = table.filter(pl.col("statistic").is_in(["count", "pct_parent", "pct_total"]))
        if "channel" in rows.columns:
            rows = rows.filter(pl.col("channel").is_null())
        table = rows.pivot(on="statistic", index=["population", "parent"], values="value")
    return table, gate_def


def load_input(
    path: Path,
    gatingml: Path | None,
    panel: str | None,
    controls: Path | None,
    cd38_gate: str,
    sample: str | None = None,
) -> tuple[Any, str | None]:
    """What ``cd38.interpret`` takes (and the CD38 gate definition when a table states
    it), from an FCS file (gated), a stats table or measurements."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    if suffix in FCS_SUFFIXES:
        from cd38 import read_fcs

        fcs = read_fcs(path)
        chosen = panel or ("bcell" if gatingml is None else None)
        return strategy_for(fcs, gatingml, chosen, controls, cd38_gate).gate(fcs), None
    if suffix in (".csv", ".parquet"):
        import polars as pl

        try:
            table = pl.read_parquet(path) if suffix == ".parquet" else pl.read_csv(path)
        except Exception as e:  # polars raises its own error types for a bad table
            raise InvalidArgumentError(f"{path}: cannot read the table ({e})") from None
        return counts_from_table(table, path, sample)
    if suffix == ".toml":
        return _measurements(path), None
    raise click.BadParameter(
        f"{path}: expected an FCS file, a stats table (.parquet/.csv) or measurements (.toml)",
        param_hint="INPUT",
    )


def run_interpret(
    source: Any, context: str, subject_path: Path | None, gate_definition: str | None = None
) -> Any:
    import cd38

    subject = subject_from(subject_path)
    return cd38.interpret(source, context=context, subject=subject, cd38_gate_definition=gate_definition)


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--context", required=True, help="Clinical context plugin (see `cd38 contexts`).")
@click.option(
    "--subject",
    "subject_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="subject.toml: age, diagnosis, therapies, specimen ... (every field optional).",
)
@strategy_options
@click.option("--sample", help="The sample to interpret when INPUT is a table of several.")
@click.option("--json", "as_json", is_flag=True, help="Print the interpretation as JSON.")
@common_options
def interpret(
    input_path: Path,
    context: str,
    subject_path: Path | None,
    gatingml: Path | None,
    panel: str | None,
    controls: Path | None,
    cd38_gate: str,
    sample: str | None,
    as_json: bool,
) -> None:
    """Interpret INPUT (an FCS file, a `cd38 gate` table, or measurements.toml) in a clinical context.

    An FCS file is gated first (with --gatingml, or the B-cell panel by default).
    The output never diagnoses: each finding names its rule, thresholds,
    citations and caveats; inputs a context was not validated for are refused.
    """
    if gatingml is not None and panel is not None:
        raise click.UsageError("give at most one of --gatingml and --panel")
    source, gate_definition = load_input(input_path, gatingml, panel, controls, cd38_gate, sample)
    result = run_interpret(source, context, subject_path, gate_definition)
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(result.to_markdown())
