"""``cd38 batch``: one strategy or panel over many files, into one Parquet dataset."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from cd38.cli._common import (
    INPUT_ERRORS,
    check_strategy_options,
    common_options,
    read_toml,
    report_error,
    state,
    strategy_options,
)

__all__ = ["batch"]


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [s.strip() for s in text.split(",") if s.strip()]


def _value(text: str) -> Any:
    """A CSV cell: JSON when it parses (numbers, true/false, lists), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _percentiles(text: str | None) -> list[float]:
    try:
        return [float(q) for q in _split(text) or []]
    except ValueError:
        raise click.BadParameter(
            f"expected numbers like 5,95, got {text!r}", param_hint="--percentiles"
        ) from None


def _subject_fields(path: Path) -> dict[str, dict[str, Any]]:
    """Sample -> Subject fields, from TOML or JSON ({sample: {field: value}}) or CSV
    (a ``sample`` column with the file name or stem, one column per field)."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        doc: Any = read_toml(path)
    elif suffix == ".json":
        try:
            doc = json.loads(path.read_text("utf-8"))
        except ValueError as e:
            raise click.BadParameter(f"{path}: not JSON ({e})", param_hint="--subjects") from None
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if not rows or "sample" not in rows[0]:
            raise click.BadParameter(f"{path}: the CSV needs a 'sample' column", param_hint="--subjects")
        doc = {
            r["sample"]: {k: _value(v) for k, v in r.items() if k not in ("sample", None) and v} for r in rows
        }
    else:
        raise click.BadParameter(f"{path}: expected a .toml, .json or .csv file", param_hint="--subjects")
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise click.BadParameter(f"{path}: expected one table of fields per sample", param_hint="--subjects")
    return {str(k): dict(v) for k, v in doc.items()}


def _subjects(path: Path | None) -> Mapping[str, Any] | None:
    if path is None:
        return None
    from cd38.errors import Cd38Error, InvalidArgumentError
    from cd38.subject import Subject

    out = {}
    for name, fields in _subject_fields(path).items():
        try:
            out[name] = Subject.from_dict(fields)
        except (Cd38Error, TypeError) as e:
            raise InvalidArgumentError(f"{path}: subject {name!r}: {e}") from None
    return out


def _strategy(opts: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """The strategy (or panel name) and the panel's options."""
    check_strategy_options(opts["gatingml"], opts["panel"])
    if opts["gatingml"] is not None:
        if opts["controls"] is not None:
            raise click.UsageError("--controls is for --panel")
        from cd38 import GatingStrategy
        from cd38.errors import Cd38Error

        path = opts["gatingml"]
        try:
            return GatingStrategy.from_gatingml(path), None
        except Cd38Error as e:
            message = str(e) if str(path) in str(e) else f"{path}: {e}"
            raise type(e)(message) from None
    options: dict[str, Any] = {"cd38_gate": opts["cd38_gate"]}
    if opts["controls"] is not None:
        from cd38.panels import controls_from_dir

        options["controls"] = controls_from_dir(opts["controls"])
    return opts["panel"], options


def _connect(address: str | None) -> Any:
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise click.UsageError("--dask-scheduler needs Dask: pip install 'cd38[dask]'") from None
    try:
        return Client(address, timeout="30s")
    except (OSError, TimeoutError) as e:
        raise click.UsageError(f"cannot reach the Dask scheduler at {address}: {e}") from None


def _report(summary: Any) -> None:
    from cd38.cli._common import err, out

    for row in summary.failures.iter_rows(named=True):
        report_error(row["file"], RuntimeError(f"{row['error_class']}: {row['message']}"))
    if not state().quiet:
        out().print(str(summary), markup=False)
        if summary.n_failed:
            err().print(f"failures: {summary.out / 'failures.parquet'}", markup=False)


@click.command("batch")
@click.argument("files_or_glob", nargs=-1, required=True)
@strategy_options
@click.option(
    "--require", multiple=True, metavar="POP", help="A population every file must have (repeatable)."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("results"),
    show_default=True,
    help="Output directory (a Parquet dataset partitioned by sample).",
)
@click.option("--stats", default="median,mean,cv", show_default=True, help="Comma-separated statistics.")
@click.option("--channels", help="Comma-separated channels or markers for statistics (default: all).")
@click.option("--percentiles", help="Comma-separated percentiles, e.g. 5,95.")
@click.option(
    "--on",
    type=click.Choice(["scale", "compensated", "transformed"]),
    default="scale",
    show_default=True,
    help="Values the statistics are computed on.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: the cores).")
@click.option("--threads", is_flag=True, help="Use threads in this process instead of worker processes.")
@click.option("--dask-scheduler", metavar="ADDRESS", help="Run on this running Dask cluster.")
@click.option("--force", is_flag=True, help="Recompute files whose results already exist.")
@click.option("--context", multiple=True, metavar="NAME", help="Interpret with this context (repeatable).")
@click.option(
    "--subjects",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Subjects per sample for --context: TOML/JSON {sample: {field: value}}, or CSV with 'sample'.",
)
@common_options
@click.pass_context
def batch(ctx: click.Context, /, **opts: Any) -> None:
    """Gate FILES_OR_GLOB (files, directories or quoted globs) with one strategy or
    panel and write counts and statistics to OUT, partitioned by sample.

    \b
    cd38 batch 'plate1/*.fcs' --gatingml strategy.xml --out results/
    cd38 batch 'study/**/*.fcs' --panel bcell --dask-scheduler tcp://10.0.0.5:8786

    A file that cannot be read or gated is listed in OUT/failures.parquet and the
    exit code is 1; the others are still processed. Files whose results exist for
    the same file contents and strategy are skipped (--force recomputes)."""
    try:
        summary = _run(opts)
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except INPUT_ERRORS as e:
        if state().debug:
            raise
        report_error(None, e)
        ctx.exit(1)
    _report(summary)
    ctx.exit(0 if summary.ok else 1)


def _run(opts: dict[str, Any]) -> Any:
    import cd38.batch

    if opts["subjects"] is not None and not opts["context"]:
        raise click.UsageError("--subjects is used with --context")
    if opts["dask_scheduler"] and (opts["workers"] or opts["threads"]):
        raise click.UsageError("--workers and --threads are for local runs, not with --dask-scheduler")
    strategy, panel_options = _strategy(opts)
    percentiles = _percentiles(opts["percentiles"])
    subjects = _subjects(opts["subjects"])
    client = _connect(opts["dask_scheduler"])
    try:
        return cd38.batch.run(
            list(opts["files_or_glob"]),
            strategy,
            stats=_split(opts["stats"]) or [],
            channels=_split(opts["channels"]),
            percentiles=percentiles,
            on=opts["on"],
            contexts=list(opts["context"]) or None,
            subjects=subjects,
            panel_options=panel_options,
            require=list(opts["require"]) or None,
            out=opts["out"],
            executor=client if client is not None else ("threads" if opts["threads"] else None),
            workers=opts["workers"],
            force=opts["force"],
            progress=False if state().quiet else None,
        )
    finally:
        if client is not None:
            client.close()
