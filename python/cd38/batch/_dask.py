"""Running tasks on a Dask cluster (``pip install cd38[dask]``).

One task per file. The task gets the file's path and opens the file itself,
so no event data passes through the scheduler or the client; only the small
result tables come back, gathered as they complete. The job description is
scattered once rather than sent with every task.

Each worker process gets ``RAYON_NUM_THREADS`` equal to its Dask thread count
(unless already set), so the Rust threads of all worker processes on a host
add up to the cores Dask was given there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from distributed import Client, as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from cd38.batch._spec import JobSpec
from cd38.batch._work import Failed, Outcome, Task, process_file

__all__ = ["RayonThreads", "dask_outcomes", "is_dask_client"]


def is_dask_client(obj: Any) -> bool:
    return isinstance(obj, Client)


class RayonThreads(WorkerPlugin):  # type: ignore[misc]
    """Size each worker process's Rust thread pool to that worker's Dask threads."""

    name = "cd38-rayon-threads"

    def setup(self, worker: Any) -> None:
        # Effective only if the core has not run in that process yet (rayon sizes
        # its pool once); a user's own RAYON_NUM_THREADS wins.
        os.environ.setdefault("RAYON_NUM_THREADS", str(max(1, int(worker.state.nthreads))))


def dask_outcomes(client: Client, spec: JobSpec, tasks: Sequence[Task]) -> Iterator[Outcome]:
    """Outcomes of ``tasks`` in completion order."""
    client.register_plugin(RayonThreads())
    spec_future = client.scatter(spec, broadcast=True, hash=False)
    futures = {client.submit(process_file, spec_future, t, pure=False): t for t in tasks}
    try:
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                outcome: Outcome = fut.result()
            except Exception as e:  # e.g. KilledWorker: the file took its worker down, repeatedly
                outcome = Failed(task, type(e).__name__, f"{task.path}: {e}")
            fut.release()
            yield outcome
    finally:
        for fut in futures:  # an interrupted run leaves no work queued on the cluster
            fut.cancel()
        spec_future.release()
