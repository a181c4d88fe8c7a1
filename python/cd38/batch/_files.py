"""Turning ``files_or_glob`` into an ordered list of input files with unique sample ids."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path, PurePath

from cd38.errors import InvalidArgumentError

__all__ = ["expand_inputs", "sample_ids"]

_GLOB_CHARS = set("*?[")
_FCS_SUFFIXES = (".fcs", ".lmd")


def _expand_one(item: str | os.PathLike[str]) -> list[Path]:
    text = os.fspath(item)
    if _GLOB_CHARS & set(text):
        hits = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not hits:
            raise InvalidArgumentError(f"no files match {text!r}")
        return hits
    path = Path(text)
    if path.is_dir():
        hits = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _FCS_SUFFIXES)
        if not hits:
            raise InvalidArgumentError(f"no .fcs files in directory {text!r}")
        return hits
    # A plain path that does not exist is kept: it becomes a recorded failure
    # ("unreadable file") like any other bad input, rather than stopping the batch.
    return [path]


def expand_inputs(files_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Absolute paths, in the order given (each glob or directory sorted), duplicates dropped.

    A string or path may be a file, a directory (its ``.fcs`` files) or a glob
    (``**`` recurses); an iterable may mix them.
    """
    items: list[str | os.PathLike[str]]
    items = [files_or_glob] if isinstance(files_or_glob, str | os.PathLike) else list(files_or_glob)
    if not items:
        raise InvalidArgumentError("no input files given")
    seen: set[Path] = set()
    out: list[Path] = []
    for item in items:
        for p in _expand_one(item):
            a = p.absolute()
            if a not in seen:
                seen.add(a)
                out.append(a)
    return out


def sample_ids(paths: list[Path]) -> list[str]:
    """One id per file: its name, or, where names repeat, its path relative to the
    deepest directory common to all inputs (``plate1/A1.fcs``), so ids stay unique."""
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    ids = [PurePath(os.path.relpath(p, root)).as_posix() for p in paths]
    if len(set(ids)) != len(ids):  # only possible with odd inputs (e.g. case-folding file systems)
        raise InvalidArgumentError("input files do not have unique names or paths")
    return ids
