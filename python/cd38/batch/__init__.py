"""Cohorts: one strategy (or panel) over many FCS files, into one Parquet dataset.

>>> import cd38
>>> summary = cd38.batch.run("plate1/*.fcs", strategy, out="results/")   # doctest: +SKIP
>>> summary.ok, summary.n_failed, cd38.batch.read("results/", "stats")    # doctest: +SKIP

Locally a process pool sized to the machine does the work, with the Rust
core's threads per process reduced so cores are not oversubscribed; pass a
``dask.distributed.Client`` as ``executor`` to run the same call on a cluster
(``pip install cd38[dask]``); the workers must see the files at the same paths.
Results are the same either way.

Layout of ``out`` (Hive-partitioned; read a table with :func:`read`, or with
``polars.read_parquet("out/stats/")``):

- ``counts/sample=<id>/part.parquet``: :meth:`cd38.GatingResult.counts_table`
- ``stats/sample=<id>/part.parquet``: :meth:`cd38.GatingResult.stats`
- ``interpretations/sample=<id>/part.parquet``: one row per context
- ``manifests/<id>.json``: file BLAKE3, job key, strategy hash, cd38 version;
  written last, so only samples with a manifest are complete
- ``failures.parquet``: sample, file, error_class, message (this run)
- ``samples.parquet``: every complete sample with its hashes

``<id>`` is the file name (percent-encoded in paths), or its path relative to
the inputs' common directory where names repeat. A rerun skips a file whose
manifest has the same file hash and job key (:mod:`cd38.batch._spec` defines
the key); ``force=True`` recomputes. One run at a time per output directory.
"""

from cd38.batch._run import BatchSummary, read, run

__all__ = ["BatchSummary", "read", "run"]
