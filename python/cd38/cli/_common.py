"""What every cd38 command shares: the --quiet/--debug state, consoles, progress
bars, one-line errors, strategies from options, and atomic table output."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cd38.errors import Cd38Error, InvalidArgumentError

if TYPE_CHECKING:
    import polars as pl

    from cd38.fcs import Sample
    from cd38.gating.strategy import GatingStrategy

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["State", "common_options", "error_line", "out", "progress", "state"]


@dataclass
class State:
    quiet: bool = False
    debug: bool = bool(os.environ.get("CD38_DEBUG"))


def state() -> State:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return State()
    return ctx.ensure_object(State)


def _set_flag(name: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    def cb(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            setattr(ctx.ensure_object(State), name, True)

    return cb


_FLAGS = (  # (State attribute, option names, help)
    ("debug", ("--debug",), "Show the full traceback of an error."),
    ("quiet", ("-q", "--quiet"), "No progress bars or summaries; errors and requested output only."),
)


def common_options(f: F) -> F:
    """--quiet and --debug, accepted after any command as well as before it."""
    for name, decls, text in _FLAGS:
        f = click.option(
            *decls, is_flag=True, expose_value=False, is_eager=True, callback=_set_flag(name), help=text
        )(f)
    return f


def out() -> Console:
    """Results (tables, JSON) go to stdout."""
    return Console(highlight=False, soft_wrap=True)


def err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def info(message: str) -> None:
    """A status line on stderr, unless --quiet."""
    if not state().quiet:
        err().print(message, markup=False)


def error_line(where: str | os.PathLike[str] | None, exc: BaseException | str) -> str:
    """One line naming the file, without repeating a name the message already has."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        msg = "no such file"
    elif isinstance(exc, IsADirectoryError):
        msg = "is a directory, not a file"
    elif isinstance(exc, PermissionError):
        msg = "permission denied"
    elif isinstance(exc, OSError) and exc.strerror:
        msg = exc.strerror
    if where is None and isinstance(exc, OSError) and exc.filename:
        where = exc.filename
    if where is None or str(where) in msg:
        return f"cd38: error: {msg}"
    return f"cd38: error: {where}: {msg}"


def report_error(where: str | os.PathLike[str] | None, exc: BaseException) -> None:
    """Print one error line (and the traceback with --debug)."""
    if state().debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    err().print(error_line(where, exc), markup=False)


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Make an OS error raised while reading ``path`` name it in the one-line message."""
    try:
        yield
    except OSError as e:
        if not e.filename:
            e.filename = str(path)
        raise


# Exceptions that mean "this input is bad" (one line), not "cd38 has a bug".
INPUT_ERRORS: tuple[type[BaseException], ...] = (Cd38Error, OSError, ValueError, tomllib.TOMLDecodeError)


@contextmanager
def progress(total: int | None, label: str) -> Iterator[Callable[[str | None], None]]:
    """A rich progress bar on stderr (hidden with --quiet or when stderr is not a
    terminal); yields ``advance(description)``."""
    hidden = state().quiet or not sys.stderr.isatty()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
        disable=hidden,
    )
    with bar:
        task = bar.add_task(label, total=total)

        def advance(desc: str | None = None) -> None:
            bar.update(task, advance=1, description=desc or label)

        yield advance


def each_file(
    paths: Iterable[Path], label: str, work: Callable[[Path], T]
) -> tuple[list[tuple[Path, T]], int]:
    """Run ``work`` on every file with a progress bar; a failure is one error line
    and the loop goes on. Returns the results and the number of failures."""
    files = list(paths)
    done: list[tuple[Path, T]] = []
    failed = 0
    with progress(len(files), label) as advance:
        for p in files:
            try:
                done.append((p, work(p)))
            except INPUT_ERRORS as e:
                report_error(p, e)
                failed += 1
            advance(f"{label} {p.name}")
    return done, failed


# -- inputs -----------------------------------------------------------------------------
def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise InvalidArgumentError(f"{path}: not valid TOML ({e})") from None


def subject_from(path: Path | None) -> Any:
    """A ``cd38.Subject`` from a TOML file (every field optional), or an empty one."""
    from cd38.subject import Subject

    if path is None:
        return Subject()
    doc = read_toml(path)
    doc = doc.get("subject", doc) if isinstance(doc.get("subject"), dict) else doc
    try:
        return Subject.from_dict(doc)
    except Cd38Error as e:
        raise InvalidArgumentError(f"{path}: {e}") from None


def strategy_for(
    sample: Sample, gatingml: Path | None, panel: str | None, controls: Path | None, cd38_gate: str
) -> GatingStrategy:
    """The strategy for one sample: a Gating-ML file, or a panel built from the sample."""
    from cd38.gating.strategy import GatingStrategy

    if gatingml is not None:
        return GatingStrategy.from_gatingml(gatingml)
    if panel != "bcell":
        raise click.UsageError(f"unknown panel {panel!r}; available: bcell")
    from cd38 import panels

    ctl = panels.controls_from_dir(controls) if controls is not None else None
    return panels.bcell(sample, controls=ctl, cd38_gate=cd38_gate)


def check_strategy_options(gatingml: Path | None, panel: str | None) -> None:
    if (gatingml is None) == (panel is None):
        raise click.UsageError("give exactly one of --gatingml STRATEGY.xml or --panel bcell")


def strategy_options(f: F) -> F:
    """--gatingml / --panel / --controls / --cd38-gate."""
    f = click.option(
        "--cd38-gate",
        type=click.Choice(["bright", "above_negative_control"]),
        default="bright",
        show_default=True,
        help="How the panel's CD38 x IgM quadrants define CD38+ (recorded in the output).",
    )(f)
    f = click.option(
        "--controls",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Folder of FMO/isotype control files (named like FMO_CD38.fcs) for --panel.",
    )(f)
    f = click.option(
        "--panel", type=click.Choice(["bcell"]), help="Build the B-cell panel from each sample."
    )(f)
    f = click.option(
        "--gatingml",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A Gating-ML 2.0 strategy file.",
    )(f)
    return f


# -- outputs ----------------------------------------------------------------------------
TABLE_SUFFIXES = (".parquet", ".csv")


def check_not_input(out_path: Path, *inputs: Path | None) -> None:
    """Refuse an output path that is one of the inputs: inputs are never overwritten."""
    for p in inputs:
        if p is not None and p.exists() and out_path.exists() and os.path.samefile(p, out_path):
            raise click.BadParameter(
                f"{out_path} is an input file; choose another output", param_hint="--out"
            )


def check_table_path(path: Path) -> None:
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise click.BadParameter(f"{path}: the output must end in .parquet or .csv", param_hint="--out")
    if not path.parent.is_dir():
        raise click.BadParameter(f"{path.parent}: no such directory", param_hint="--out")


def write_table(df: pl.DataFrame, path: Path) -> None:
    """Parquet or CSV by suffix, written atomically."""
    from cd38.report._atomic import atomic_path

    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".parquet":
            df.write_parquet(tmp)
        else:
            df.write_csv(tmp)


def print_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))
