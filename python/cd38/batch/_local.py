"""Running tasks on this machine without oversubscribing its cores.

The Rust core parallelises inside every call with rayon's global pool, sized
from RAYON_NUM_THREADS the first time a process uses it. Files are therefore
processed in parallel in one of two ways:

- ``"processes"`` (the default): ``workers`` spawned processes, each told
  ``RAYON_NUM_THREADS = cores // workers`` before it touches the core, so
  workers x threads ~ cores. Spawned, not forked: a fork of a process whose
  rayon (or polars) pool is running inherits a pool without its threads.
- ``"threads"``: ``workers`` threads in this process sharing its one rayon pool
  (sized to the machine). The core releases the GIL, so cores are not
  oversubscribed either, but Python-side work is serialised.

Why processes by default. For a fixed strategy ~95% of a file's time is in the
core with the GIL released (100,000 events, 12 populations x 16 channels:
~180 of ~195 ms, mostly the statistics), so threads keep cores busy too; on the
2-core machine of benches/bench_batch.py (200 files x 100,000 events) the two
were equal within the noise of a shared machine (4.0 files/s in processes,
5.0 in threads). But a panel (``"bcell"``) places its gates in Python and
numpy, partly under the GIL, and only processes scale that with the cores; and
a file that exhausts memory takes down one worker process, not the run. The costs: about a second of
start-up per worker, and a script must call :func:`cd38.batch.run` under
``if __name__ == "__main__":`` (workers are spawned and import the main script;
a clear error says so otherwise).

``workers=1`` runs the files one after another in this process, the core using
every core for each file.

At most ``2 x workers`` tasks are in flight, so when a worker process dies (out
of memory, say) only those are suspects: each is retried alone in a fresh
process, and one that kills that process too is recorded as failed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool

from cd38.batch._spec import JobSpec
from cd38.batch._work import Failed, Outcome, Task, process_file
from cd38.errors import Cd38Error, InvalidArgumentError

__all__ = ["LOCAL_KINDS", "available_cores", "local_outcomes", "rayon_threads"]

LOCAL_KINDS = ("processes", "threads")


def available_cores() -> int:
    """Cores this process may run on (the CPU affinity mask, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def rayon_threads(workers: int, cores: int | None = None) -> int:
    """Rust threads per worker process so that workers x threads ~ cores."""
    return max(1, (cores or available_cores()) // max(1, workers))


def _init_process(threads: int) -> None:
    # Runs in each new worker before any task, so before rayon's pool exists.
    os.environ["RAYON_NUM_THREADS"] = str(threads)


def _process_pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_process, initargs=(rayon_threads(workers),)
    )


def local_outcomes(spec: JobSpec, tasks: Sequence[Task], workers: int, kind: str) -> Iterator[Outcome]:
    """Outcomes of ``tasks`` in completion order."""
    if kind not in LOCAL_KINDS:
        raise InvalidArgumentError(f"executor must be one of {LOCAL_KINDS}, an Executor or a Dask client")
    if workers == 1 or len(tasks) <= 1:
        for t in tasks:
            yield process_file(spec, t)
    elif kind == "threads":
        with ThreadPoolExecutor(workers, thread_name_prefix="cd38-batch") as pool:
            yield from executor_outcomes(pool, spec, tasks, workers)
    else:
        yield from _isolating(lambda n: _process_pool(n), spec, tasks, workers)


def executor_outcomes(pool: Executor, spec: JobSpec, tasks: Sequence[Task], window: int) -> Iterator[Outcome]:
    """Run on any concurrent.futures executor, at most ``2 x window`` tasks in flight."""
    queue = list(reversed(tasks))
    running: dict[Future[Outcome], Task] = {}
    while queue or running:
        while queue and len(running) < 2 * window:
            t = queue.pop()
            running[pool.submit(process_file, spec, t)] = t
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in finished:
            task = running.pop(fut)
            try:
                yield fut.result()
            except BrokenProcessPool:
                raise
            except Exception as e:  # the executor itself failed this task (e.g. pickling)
                yield Failed(task, type(e).__name__, f"{task.path}: {e}")


def _isolating(
    make_pool: Callable[[int], Executor], spec: JobSpec, tasks: Sequence[Task], workers: int
) -> Iterator[Outcome]:
    """Like :func:`executor_outcomes`, surviving worker processes that die."""
    todo = list(tasks)
    started = False
    while todo:
        done: set[str] = set()
        try:
            with make_pool(workers) as pool:
                for outcome in executor_outcomes(pool, spec, todo, workers):
                    done.add(outcome.task.path)
                    started = True
                    yield outcome
            return
        except BrokenProcessPool:
            if not started:
                _check_workers_start(make_pool)
            suspects = [t for t in todo if t.path not in done][: 2 * workers]
            rest = [t for t in todo if t.path not in done][2 * workers :]
            for t in suspects:
                yield _alone(make_pool, spec, t)
            todo = rest


def _check_workers_start(make_pool: Callable[[int], Executor]) -> None:
    """Tell a pool that cannot start at all from one broken by a file."""
    try:
        with make_pool(1) as pool:
            pool.submit(os.getpid).result()
    except BrokenProcessPool:
        raise Cd38Error(
            "cd38.batch: worker processes die as they start. Worker processes are spawned and "
            "import the main script again: in a script, call cd38.batch.run under "
            "`if __name__ == '__main__':`, or pass executor='threads'"
        ) from None


def _alone(make_pool: Callable[[int], Executor], spec: JobSpec, task: Task) -> Outcome:
    try:
        with make_pool(1) as pool:
            return pool.submit(process_file, spec, task).result()
    except BrokenProcessPool:
        return Failed(task, "WorkerCrashed", f"{task.path}: the worker process died while reading this file")
