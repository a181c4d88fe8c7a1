"""``cd38 report FILE --panel bcell --context NAME --subject subject.toml --out report.html``."""

from __future__ import annotations

from pathlib import Path

import click

from cd38.cli._common import (
    check_not_input,
    check_strategy_options,
    common_options,
    info,
    naming,
    progress,
    strategy_for,
    strategy_options,
)
from cd38.cli.interpret_cmd import run_interpret

__all__ = ["report"]


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@strategy_options
@click.option("--context", help="Clinical context plugin for the interpretation (see `cd38 contexts`).")
@click.option(
    "--subject",
    "subject_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="subject.toml for the interpretation.",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write.",
)
@click.option("--title", help="Report title (default: the file name).")
@common_options
def report(
    file: Path,
    gatingml: Path | None,
    panel: str | None,
    controls: Path | None,
    cd38_gate: str,
    context: str | None,
    subject_path: Path | None,
    out_path: Path,
    title: str | None,
) -> None:
    """A self-contained HTML report of FILE: acquisition, gating, plots, populations, interpretation."""
    from cd38 import read_fcs
    from cd38.report import write_report

    check_strategy_options(gatingml, panel)
    if subject_path is not None and context is None:
        raise click.UsageError("--subject needs --context")
    if not out_path.parent.is_dir():
        raise click.BadParameter(f"{out_path.parent}: no such directory", param_hint="--out")
    check_not_input(out_path, file, gatingml, subject_path)
    with progress(4, "report") as step:
        with naming(file):
            sample = read_fcs(file)
        step("gating")
        result = strategy_for(sample, gatingml, panel, controls, cd38_gate).gate(sample)
        step("interpreting")
        interp = run_interpret(result, context, subject_path) if context else None
        step("drawing")
        write_report(out_path, result, interpretation=interp, title=title)
        step("done")
    info(f"wrote {out_path}")
