"""`run`: one strategy (or panel) over many files, into one Parquet dataset."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cd38.batch._files import expand_inputs, sample_ids
from cd38.batch._local import LOCAL_KINDS, available_cores, executor_outcomes, local_outcomes
from cd38.batch._progress import Progress
from cd38.batch._spec import JobSpec, PanelFn, make_spec
from cd38.batch._store import TABLES, Store
from cd38.batch._work import Done, Outcome, Skipped, Task
from cd38.errors import InvalidArgumentError
from cd38.stats import DEFAULT_STATS

if TYPE_CHECKING:
    import polars as pl

    from cd38.gating import GatingStrategy

__all__ = ["BatchSummary", "read", "run"]

FAILURE_COLUMNS = ("sample", "file", "error_class", "message")


@dataclass(frozen=True)
class BatchSummary:
    """What a run did. ``samples`` has one row per input file of this run: sample,
    file, status ("done", "skipped" for a reused result, "failed"), n_events
    (null unless done) and seconds; ``failures``: sample, file, error_class, message."""

    out: Path
    samples: pl.DataFrame
    failures: pl.DataFrame
    elapsed: float
    events: int

    def _n(self, status: str) -> int:
        return int((self.samples["status"] == status).sum())

    @property
    def n_files(self) -> int:
        return int(self.samples.height)

    @property
    def n_done(self) -> int:
        return self._n("done")

    @property
    def n_skipped(self) -> int:
        return self._n("skipped")

    @property
    def n_failed(self) -> int:
        return self._n("failed")

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return self.n_failed == 0

    @property
    def files_per_second(self) -> float:
        return self.n_files / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def counts(self) -> pl.DataFrame:
        return read(self.out, "counts")

    def stats(self) -> pl.DataFrame:
        return read(self.out, "stats")

    def interpretations(self) -> pl.DataFrame:
        return read(self.out, "interpretations")

    def __str__(self) -> str:
        return (
            f"{self.n_files} files: {self.n_done} processed, {self.n_skipped} reused, "
            f"{self.n_failed} failed in {self.elapsed:.1f} s "
            f"({self.files_per_second:.1f} files/s, {self.events_per_second:,.0f} events/s) -> {self.out}"
        )


def read(out: str | os.PathLike[str], table: str = "counts") -> pl.DataFrame:
    """One table ("counts", "stats" or "interpretations") of a batch output, for the
    samples whose results are complete (have a manifest), ``sample`` first."""
    import polars as pl

    if table not in TABLES:
        raise InvalidArgumentError(f"table must be one of {TABLES}, not {table!r}")
    store = Store(out)
    docs = [m for m in store.manifests() if table in m.get("tables", [])]
    if not docs:
        return pl.DataFrame()
    frames = [pl.read_parquet(store.partition(table, m["sample"])) for m in docs]
    sample = pl.Series(
        "sample", [m["sample"] for m, f in zip(docs, frames, strict=True) for _ in range(f.height)]
    )
    return pl.concat(frames, how="vertical").insert_column(0, sample)


def run(
    files_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    strategy_or_panel: GatingStrategy | str | PanelFn,
    *,
    stats: Sequence[str] = DEFAULT_STATS,
    channels: Sequence[str] | None = None,
    percentiles: Sequence[float] = (),
    on: str = "scale",
    contexts: Sequence[str] | None = None,
    subjects: Mapping[str, Any] | None = None,
    panel_options: Mapping[str, Any] | None = None,
    require: Sequence[str] | None = None,
    out: str | os.PathLike[str] = "results/",
    executor: str | Executor | Any | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> BatchSummary:
    """Gate every file with one strategy (or a panel per file) and write one dataset.

    ``files_or_glob``: a file, directory, glob (``**`` recurses) or a list of them.
    ``strategy_or_panel``: a :class:`~cd38.GatingStrategy`, ``"bcell"``
    (:func:`cd38.panels.bcell`, with ``panel_options``) or a callable
    ``f(sample, **panel_options) -> GatingStrategy``.
    ``stats``, ``channels``, ``percentiles``, ``on``: as :meth:`cd38.GatingResult.stats`.
    ``require``: populations every file must have, else it fails (default: none;
    for ``"bcell"`` the B cells and the CD38 x IgM quadrants).
    ``contexts``: context names for :func:`cd38.interpret`, with ``subjects``
    mapping a file's name (or stem, or sample id) to its :class:`cd38.Subject`.

    Output (see :mod:`cd38.batch`): ``out/counts``, ``out/stats`` and
    ``out/interpretations`` partitioned by sample, ``out/failures.parquet``,
    ``out/samples.parquet`` and a manifest per sample. A file that cannot be read
    or gated is recorded in the failures and never stops the batch. A file whose
    result exists with the same file hash and job key is skipped unless ``force``.

    ``executor``: None or "processes" (a process pool on this machine), "threads",
    any ``concurrent.futures.Executor``, or a ``dask.distributed.Client``;
    ``workers`` sizes the local pool (default: the available cores).
    ``progress``: draw a progress bar on stderr (None: when it is a terminal).
    """
    import time

    start = time.perf_counter()
    paths = expand_inputs(files_or_glob)
    ids = sample_ids(paths)
    spec = make_spec(
        strategy_or_panel,
        panel_options=panel_options,
        stats=stats,
        channels=channels,
        percentiles=percentiles,
        on=on,
        contexts=contexts,
        require=require,
    )
    if spec.contexts:
        _check_contexts(spec.contexts)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InvalidArgumentError(f"workers must be a positive integer, not {workers!r}")
    store = Store(out)
    store.prepare()
    tasks = [_task(store, spec, p, s, subjects, force) for p, s in zip(paths, ids, strict=True)]
    rows: list[dict[str, Any]] = []
    with Progress(len(tasks), progress) as bar:
        for outcome in _outcomes(spec, tasks, executor, workers):
            rows.append(_record(store, spec, outcome))
            bar.update(outcome)
        events = bar.events
    store.remove_orphans()
    return _finish(store, rows, time.perf_counter() - start, events)


def _check_contexts(contexts: Sequence[str]) -> None:
    import cd38

    if not callable(getattr(cd38, "interpret", None)):
        raise InvalidArgumentError("contexts need cd38.interpret, which this installation does not provide")
    try:
        from cd38 import contexts as registry  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    available = getattr(registry, "available", None)
    if callable(available):
        known = set(available())
        missing = [c for c in contexts if c not in known]
        if missing:
            raise InvalidArgumentError(f"unknown context(s) {missing}; available: {sorted(known)}")


def _subject(subjects: Mapping[str, Any] | None, path: Path, sample: str) -> Any:
    if not subjects:
        return None
    for key in (sample, path.name, path.stem, str(path)):
        if key in subjects:
            return subjects[key]
    return None


def _task(
    store: Store, spec: JobSpec, path: Path, sample: str, subjects: Mapping[str, Any] | None, force: bool
) -> Task:
    subject = _subject(subjects, path, sample)
    key = spec.job_key(subject)
    expect = None
    if not force:
        manifest = store.manifest(sample)
        if manifest is not None and manifest.get("job_key") == key:
            expect = manifest.get("file_blake3")
    return Task(str(path), sample, key, subject, expect)


def _outcomes(
    spec: JobSpec, tasks: list[Task], executor: str | Executor | Any | None, workers: int | None
) -> Iterator[Outcome]:
    n = workers or min(available_cores(), max(1, len(tasks)))
    if executor is None or isinstance(executor, str):
        return local_outcomes(spec, tasks, n, executor or "processes")
    if isinstance(executor, Executor):
        return executor_outcomes(executor, spec, tasks, n)
    if type(executor).__module__.split(".")[0] == "distributed":
        from cd38.batch._dask import dask_outcomes

        return dask_outcomes(executor, spec, tasks)
    raise InvalidArgumentError(
        f"executor must be None, one of {LOCAL_KINDS}, a concurrent.futures.Executor or a "
        f"dask.distributed.Client, not {type(executor).__name__}"
    )


def _record(store: Store, spec: JobSpec, outcome: Outcome) -> dict[str, Any]:
    t = outcome.task
    row: dict[str, Any] = {"sample": t.sample, "file": t.path, "n_events": None, "seconds": None}
    if isinstance(outcome, Done):
        store.write_sample(t.sample, outcome.tables, _manifest(spec, outcome))
        row.update(status="done", n_events=outcome.n_events, seconds=outcome.seconds)
    elif isinstance(outcome, Skipped):
        _moved(store, t)
        row.update(status="skipped")
    else:
        # A file that changed and now fails must not keep its old results.
        store.forget(t.sample)
        row.update(status="failed", error_class=outcome.error_class, message=outcome.message)
    return row


def _moved(store: Store, task: Task) -> None:
    """A reused result of a file that moved (same bytes): record where it is now."""
    doc = store.manifest(task.sample)
    if doc is not None and doc.get("file") != task.path:
        store.write_manifest(task.sample, {**doc, "file": task.path})


def _manifest(spec: JobSpec, done: Done) -> dict[str, Any]:
    from cd38 import __version__

    t = done.task
    doc: dict[str, Any] = {
        "sample": t.sample,
        "file": t.path,
        "file_blake3": done.file_blake3,
        "job_key": t.job_key,
        "strategy_sha256": done.strategy_sha256,
        "cd38_version": __version__,
        "n_events": done.n_events,
        "tables": sorted(done.tables),
        "options": {
            "stats": list(spec.stats),
            "percentiles": list(spec.percentiles),
            "channels": None if spec.channels is None else list(spec.channels),
            "on": spec.on,
            "contexts": list(spec.contexts),
        },
        "written_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if spec.strategy is None:
        doc["panel"] = spec.strategy_part()
    if spec.require:
        doc["options"]["require"] = list(spec.require)
    if done.strategy_info:
        doc["strategy_info"] = done.strategy_info
    return doc


def _finish(store: Store, rows: list[dict[str, Any]], elapsed: float, events: int) -> BatchSummary:
    import polars as pl

    rows.sort(key=lambda r: r["sample"])
    samples = pl.DataFrame(
        [{k: r.get(k) for k in ("sample", "file", "status", "n_events", "seconds")} for r in rows],
        schema={
            "sample": pl.String,
            "file": pl.String,
            "status": pl.String,
            "n_events": pl.Int64,
            "seconds": pl.Float64,
        },
    )
    failed = [r for r in rows if r["status"] == "failed"]
    failures = pl.DataFrame(
        [{k: r[k] for k in FAILURE_COLUMNS} for r in failed], schema=dict.fromkeys(FAILURE_COLUMNS, pl.String)
    )
    store.write_table(store.root / "failures.parquet", failures)
    store.write_table(store.root / "samples.parquet", _index(store))
    return BatchSummary(store.root, samples, failures, elapsed, events)


def _index(store: Store) -> pl.DataFrame:
    """Every complete sample in the output (this run's and earlier ones')."""
    import polars as pl

    cols = ("sample", "file", "file_blake3", "strategy_sha256", "job_key", "cd38_version")
    docs = list(store.manifests())
    schema: dict[str, Any] = {**dict.fromkeys(cols, pl.String), "n_events": pl.Int64}
    return pl.DataFrame([{k: m.get(k) for k in schema} for m in docs], schema=schema)
