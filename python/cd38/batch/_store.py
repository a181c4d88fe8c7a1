"""The output directory: a Hive-partitioned Parquet dataset, one manifest per sample.

    out/counts/sample=<id>/part.parquet
    out/stats/sample=<id>/part.parquet
    out/interpretations/sample=<id>/part.parquet   (when contexts are given)
    out/manifests/<id>.json                         (written last: the sample is complete)
    out/failures.parquet, out/samples.parquet       (rewritten at the end of every run)

Every file appears atomically: it is written under out/.staging/ (the same file
system, so the rename is atomic; not inside the partition, where a directory scan
would pick a half-written file up) and moved into place with os.replace. A
sample's manifest is removed before its partitions are rewritten and written
after them, so a run killed in between leaves partitions without a manifest,
which the next run recomputes and :func:`read` ignores.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    import polars as pl

__all__ = ["TABLES", "Store"]

TABLES = ("counts", "stats", "interpretations")
PART = "part.parquet"
STAGING = ".staging"


def _atomic_write(path: Path, staging: Path, write: Callable[[IO[bytes]], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=staging, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Store:
    """Reads and writes one batch output directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.staging = self.root / STAGING

    # -- paths ------------------------------------------------------------------
    @staticmethod
    def _key(sample: str) -> str:
        # Percent-encoded so any file name is one safe path segment; Parquet
        # readers (polars, pyarrow) decode Hive values the same way.
        return quote(sample, safe="")

    def partition(self, table: str, sample: str) -> Path:
        return self.root / table / f"sample={self._key(sample)}" / PART

    def manifest_path(self, sample: str) -> Path:
        return self.root / "manifests" / f"{self._key(sample)}.json"

    # -- writing ------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the directory and drop temporary files a killed run left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)

    def write_table(self, path: Path, df: pl.DataFrame) -> None:
        _atomic_write(path, self.staging, lambda f: df.write_parquet(f))

    def write_sample(self, sample: str, tables: dict[str, pl.DataFrame], manifest: dict[str, Any]) -> None:
        """Replace a sample's partitions, then (last) its manifest."""
        self.forget(sample)
        for table in TABLES:
            if table in tables:
                self.write_table(self.partition(table, sample), tables[table])
        self.write_manifest(sample, manifest)

    def write_manifest(self, sample: str, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")

        def write(f: IO[bytes]) -> None:
            f.write(text)

        _atomic_write(self.manifest_path(sample), self.staging, write)

    def forget(self, sample: str) -> None:
        """Remove a sample's manifest first (it is no longer complete), then its partitions."""
        with contextlib.suppress(FileNotFoundError):
            self.manifest_path(sample).unlink()
        for table in TABLES:
            shutil.rmtree(self.partition(table, sample).parent, ignore_errors=True)

    # -- reading -------------------------------------------------------------------
    def manifest(self, sample: str) -> dict[str, Any] | None:
        """The sample's manifest if it is complete and readable, else None."""
        try:
            doc = json.loads(self.manifest_path(sample).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict):
            return None
        tables = doc.get("tables", [])
        if not all(self.partition(t, sample).is_file() for t in tables):
            return None
        return doc

    def manifests(self) -> Iterator[dict[str, Any]]:
        folder = self.root / "manifests"
        if not folder.is_dir():
            return
        for p in sorted(folder.glob("*.json")):
            doc = self.manifest(unquote(p.stem))
            if doc is not None:
                yield doc

    def remove_orphans(self) -> list[str]:
        """Delete partitions of samples with no manifest (left by a killed run)."""
        complete = {self._key(m["sample"]) for m in self.manifests()}
        removed = []
        for table in TABLES:
            folder = self.root / table
            if not folder.is_dir():
                continue
            for d in folder.iterdir():
                key = d.name.removeprefix("sample=")
                if d.is_dir() and d.name.startswith("sample=") and key not in complete:
                    shutil.rmtree(d, ignore_errors=True)
                    removed.append(unquote(key))
            if not any(folder.iterdir()):
                folder.rmdir()
        return sorted(set(removed))
