"""SHA-256 of a file, the one hash every provenance record, manifest and audit uses."""

from __future__ import annotations

import hashlib
import os

__all__ = ["sha256_file"]

_BLOCK = 1 << 22  # 4 MiB reads: large enough that hashlib releases the GIL and I/O is sequential


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()
