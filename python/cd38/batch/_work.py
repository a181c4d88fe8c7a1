"""The per-file task. It runs wherever the executor puts it (this process, a pool
worker or a Dask worker): it reads the file itself and returns only small tables."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cd38._digest import file_blake3 as _file_blake3
from cd38.errors import Cd38Error

if TYPE_CHECKING:
    import polars as pl

    from cd38.batch._spec import JobSpec
    from cd38.gating import GatingResult

__all__ = ["Done", "Failed", "Outcome", "Skipped", "Task", "file_blake3", "process_file"]


@dataclass(frozen=True)
class Task:
    """One input file. ``expect_blake3`` is the file hash of a reusable earlier
    result (same job key); the worker skips the file when the hash still matches."""

    path: str
    sample: str
    job_key: str
    subject: Any = None
    expect_blake3: str | None = None


@dataclass(frozen=True)
class Done:
    task: Task
    file_blake3: str
    strategy_sha256: str
    n_events: int
    tables: dict[str, pl.DataFrame]
    seconds: float
    strategy_info: dict[str, Any]


@dataclass(frozen=True)
class Skipped:
    task: Task
    file_blake3: str


@dataclass(frozen=True)
class Failed:
    task: Task
    error_class: str
    message: str


Outcome = Done | Skipped | Failed


def file_blake3(path: str | Path) -> str:
    """BLAKE3 of a file's bytes (the digest every provenance record uses)."""
    return _file_blake3(path)


def process_file(spec: JobSpec, task: Task) -> Outcome:
    """Hash, (maybe skip,) read, gate and tabulate one file. Never raises for a bad
    file: any error becomes a :class:`Failed` naming its class and message."""
    start = time.perf_counter()
    try:
        digest = file_blake3(task.path)
        if task.expect_blake3 == digest:
            return Skipped(task, digest)
        return _compute(spec, task, digest, start)
    except Exception as e:  # failure isolation: one bad file never stops the batch
        return Failed(task, type(e).__name__, _message(e, task.path))


def _message(e: BaseException, path: str) -> str:
    text = str(e) or type(e).__name__
    # Errors from the OS or a panel may not name the file; the failures table should.
    return text if Path(path).name in text else f"{path}: {text}"


def _compute(spec: JobSpec, task: Task, digest: str, start: float) -> Done:
    from cd38.fcs import read_fcs

    sample = read_fcs(task.path)
    # The provenance columns hash the file again unless told; it was just hashed
    # (so the background digest read_fcs started is dropped).
    sample._file_blake3, sample._blake3_job = digest, None
    strategy = spec.strategy_for(sample)
    result = strategy.gate(sample)
    tables = {"counts": _drop_sample(result.counts_table())}
    if spec.stats or spec.percentiles:
        stats = result.stats(spec.channels, stats=spec.stats, percentiles=spec.percentiles, on=spec.on)
        tables["stats"] = _drop_sample(stats)
    if spec.contexts:
        tables["interpretations"] = _interpretations(spec, task, result)
    seconds = time.perf_counter() - start
    # JSON-safe now, so the manifest can always be written (and nothing odd is pickled back).
    info = json.loads(json.dumps(strategy.info, default=str))
    return Done(task, digest, strategy.hash(), sample.n_events, tables, seconds, info)


def _drop_sample(df: pl.DataFrame) -> pl.DataFrame:
    # The sample id is the Hive partition key (the directory name), so, as Hive
    # layouts do, the files themselves do not repeat it.
    return df.drop("sample")


def _no_subject() -> Any:
    """What a sample without a subject is interpreted with: a Subject with every field
    unknown (as ``cd38 interpret`` does without --subject)."""
    try:
        from cd38.subject import Subject  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return Subject()


def _interpretations(spec: JobSpec, task: Task, result: GatingResult) -> pl.DataFrame:
    """One row per context: the interpretation as JSON, or why the context refused it."""
    import polars as pl

    import cd38

    interpret = cd38.interpret  # type: ignore[attr-defined,unused-ignore]
    subject = task.subject if task.subject is not None else _no_subject()
    rows = []
    for context in spec.contexts:
        row: dict[str, Any] = {"context": context, "status": "ok", "error_class": None, "message": None}
        try:
            found = interpret(result, context=context, subject=subject)
            row["interpretation"] = json.dumps(found.to_dict(), sort_keys=True, default=str)
        except Cd38Error as e:
            # A context refusing input it was not validated for is an answer, not a
            # broken file: record it and keep the sample's counts and statistics.
            row.update(status="refused", error_class=type(e).__name__, message=str(e), interpretation=None)
        rows.append(row)
    schema = {k: pl.String for k in ("context", "status", "error_class", "message", "interpretation")}
    return pl.DataFrame(rows, schema=schema)
