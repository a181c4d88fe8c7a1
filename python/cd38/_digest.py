"""File digests.

- BLAKE3 (``file_blake3``) identifies an input file in every provenance record
  (statistics and counts tables, reports, threshold sources) and cohort
  manifest: hashed in parallel in the Rust core, several times faster than
  SHA-256, which at 10^6-10^8 events would cost as much as the analysis itself.
  ``b3sum FILE`` (Debian package ``b3sum``) or ``blake3.blake3(data)`` check it.
- SHA-256 (``sha256_file``) stays where a conventional digest is expected and
  speed does not matter: the anonymisation audit and ``anonymize --rename``.
"""

from __future__ import annotations

import hashlib
import mmap
import os

from cd38 import _core

__all__ = ["blake3_buffer", "blake3_in_background", "file_blake3", "sha256_file"]

_BLOCK = 1 << 22  # 4 MiB reads: large enough that hashlib releases the GIL and I/O is sequential


def file_blake3(path: str | os.PathLike[str]) -> str:
    """Hex BLAKE3 of the file's bytes."""
    return _core.file_blake3(path)


def blake3_buffer(data: bytes | mmap.mmap) -> str:
    """Hex BLAKE3 of bytes, or of a read-only mmap (hashed where it is mapped)."""
    return _core.blake3_buffer(data)


def blake3_in_background(data: mmap.mmap) -> _core.Blake3Job:
    """Start hashing a read-only mapping on a background thread that runs only on
    otherwise idle cores (Linux ``SCHED_IDLE``); ``.hexdigest()`` finishes it at
    normal priority, on every core, and returns the same hex digest as
    :func:`blake3_buffer`. The mapping stays exported (cannot be closed) until
    the job is dropped."""
    return _core.Blake3Job(data)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()
