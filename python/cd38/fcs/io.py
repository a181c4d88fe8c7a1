"""Reading and writing FCS files."""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cd38 import _core
from cd38._arrays import kernel_matrix
from cd38._digest import blake3_in_background
from cd38.errors import InvalidArgumentError
from cd38.fcs.sample import Sample

__all__ = ["FCSWriter", "read_fcs", "read_fcs_datasets", "read_fcs_metadata", "write_fcs"]

PathLike = str | os.PathLike[str]


def _check_dataset(dataset: int) -> int:
    if isinstance(dataset, bool) or not isinstance(dataset, int) or dataset < 0:
        raise InvalidArgumentError(f"dataset must be a non-negative integer, not {dataset!r}")
    return dataset


def _view(ds: _core.Dataset, source: Path | bytes) -> tuple[npt.NDArray[Any], mmap.mmap | None]:
    """The stored values as a read-only view of the file's own float32 bytes, and
    the mapping of the whole file it views (None for bytes or an empty DATA)."""
    n, p = ds.n_events, len(ds.channels)
    if ds.data_segment is None or n == 0:
        return np.zeros((n, p), dtype=np.float32), None
    if isinstance(source, bytes):
        return np.frombuffer(source, dtype="<f4", count=n * p, offset=ds.data_segment[0]).reshape(n, p), None
    with source.open("rb") as f:
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = np.frombuffer(buf, dtype="<f4", count=n * p, offset=ds.data_segment[0]).reshape(n, p)
    return view, buf


def _sample(ds: _core.Dataset, source: Path | bytes, dataset: int) -> Sample:
    if ds.zero_copy:
        stored, whole = _view(ds, source)
        return Sample._from_view(ds, source=source, dataset=dataset, stored=stored, whole=whole)
    return Sample(ds, source=source, dataset=dataset)


def read_fcs(source: PathLike | bytes, dataset: int = 0, strict: bool = False) -> Sample:
    """Read one data set of an FCS 2.0 to 3.2 file (or of FCS bytes in memory).

    ``dataset`` selects a data set of a multi-data-set file (``$NEXTDATA``).
    By default files that break the standard in the usual ways are read and
    every fix is listed in ``sample.repairs``; ``strict=True`` raises
    :class:`cd38.FCSError` instead. The file is memory-mapped and decoded once.
    """
    dataset = _check_dataset(dataset)
    if isinstance(source, bytes | bytearray | memoryview):
        buf = bytes(source)
        return _sample(_core.read_fcs_bytes(buf, dataset=dataset, strict=strict, data="view"), buf, dataset)
    path = Path(source)
    sample = _sample(_core.read_fcs(path, dataset=dataset, strict=strict, data="view"), path, dataset)
    if sample._map is not None:
        # Every table computed from the sample names the file by its digest:
        # it is computed meanwhile, on cores the analysis leaves idle, after
        # mapping the file's pages in ahead of the analysis (cd38._digest).
        sample._blake3_job = blake3_in_background(sample._map)
    return sample


def read_fcs_metadata(source: PathLike, dataset: int = 0, strict: bool = False) -> Sample:
    """Read TEXT only (keywords, channels, spillover) without decoding DATA.

    The returned sample has metadata but no events.
    """
    dataset = _check_dataset(dataset)
    path = Path(source)
    return Sample(
        _core.read_fcs(path, dataset=dataset, strict=strict, data="none"), source=path, dataset=dataset
    )


def read_fcs_datasets(source: PathLike, strict: bool = False) -> list[Sample]:
    """Read every data set of a file, following ``$NEXTDATA``."""
    path = Path(source)
    return [_sample(ds, path, i) for i, ds in enumerate(_core.read_fcs_all(path, strict=strict, data="view"))]


def _default_bits(datatype: str, arr: npt.NDArray[Any] | None, n_channels: int) -> list[int]:
    fixed = {"F": 32, "D": 64, "A": 12}
    if datatype in fixed:
        return [fixed[datatype]] * n_channels
    if arr is None:
        raise InvalidArgumentError("bits= is required for datatype 'I' when writing chunk by chunk")
    out = []
    for col in arr.T:
        top = float(np.max(col)) if col.size else 0.0
        out.append(16 if top < 2**16 else 32 if top < 2**32 else 64)
    return out


def _layout_args(
    channels: Sequence[str],
    markers: Sequence[str] | None,
    keywords: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    datatype: str,
    bits: int | Sequence[int] | None,
    arr: npt.NDArray[Any] | None,
) -> tuple[list[str], list[str], list[tuple[str, str]], str, list[int]]:
    datatype = datatype.upper()
    if datatype not in ("F", "D", "I", "A"):
        raise InvalidArgumentError(f"datatype must be 'F', 'D', 'I' or 'A', not {datatype!r}")
    names = [str(c) for c in channels]
    if bits is None:
        bit_list = _default_bits(datatype, arr, len(names))
    elif isinstance(bits, int):
        bit_list = [bits] * len(names)
    else:
        bit_list = [int(b) for b in bits]
    if keywords is None:
        pairs: list[tuple[str, str]] = []
    elif isinstance(keywords, Mapping):
        pairs = [(str(k), str(v)) for k, v in keywords.items()]
    else:
        pairs = [(str(k), str(v)) for k, v in keywords]
    marker_list = [] if markers is None else ["" if m is None else str(m) for m in markers]
    return names, marker_list, pairs, datatype, bit_list


def _rows(data: Any, datatype: str) -> npt.NDArray[Any]:
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise InvalidArgumentError(f"data must be 2-D (events x channels), got {arr.ndim}-D")
    if arr.dtype != np.float32 or datatype != "F":
        arr = arr.astype(np.float64, copy=False)
    return kernel_matrix(arr)


def write_fcs(
    path: PathLike,
    data: Any,
    channels: Sequence[str] | None = None,
    markers: Sequence[str] | None = None,
    keywords: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    datatype: str = "F",
    *,
    bits: int | Sequence[int] | None = None,
    byteorder: str = "little",
) -> Path:
    """Write events as an FCS 3.1 file, atomically (temporary file, then rename).

    ``data`` is an (n_events, n_channels) array or a polars DataFrame (whose
    column names are the channels). Values are written as stored values:
    reading the file back gives them unchanged unless ``keywords`` set a gain
    (``$PnG``), log amplification (``$PnE``) or ``$TIMESTEP``.

    ``datatype`` is ``"F"`` (float32), ``"D"`` (float64), ``"I"`` (unsigned
    integers; ``bits`` per channel, 1 to 64, default the smallest of 16/32/64
    that holds the values) or ``"A"`` (fixed-width ASCII, ``bits`` characters).
    The layout keywords (``$PAR``, ``$TOT``, ``$PnB``, ``$PnN``, offsets ...)
    are computed; given ones are replaced. Keyword values must not be empty.
    For files too large to hold in memory, use :class:`FCSWriter`.
    """
    if hasattr(data, "columns") and hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):
        if channels is None:
            channels = [str(c) for c in data.columns]
        data = data.to_numpy()
    if channels is None:
        raise InvalidArgumentError("channels (the $PnN names) are required for an array")
    arr = _rows(data, datatype.upper())
    names, marker_list, pairs, dt, bit_list = _layout_args(channels, markers, keywords, datatype, bits, arr)
    out = Path(path)
    _core.write_fcs(out, arr, names, marker_list, pairs, dt, bit_list, byteorder)
    return out


class FCSWriter:
    """Write an FCS 3.1 file of ``n_events`` events chunk by chunk, in bounded memory.

    >>> with cd38.FCSWriter("big.fcs", ["FSC-A", "CD38"], n_events=10**8) as w:  # doctest: +SKIP
    ...     for chunk in chunks:          # (rows, 2) arrays
    ...         w.write(chunk)

    The file appears (atomically) when the block ends normally and every
    declared event was written; after an exception nothing is left behind.
    Arguments are those of :func:`write_fcs`; ``bits`` is required for ``"I"``.
    """

    def __init__(
        self,
        path: PathLike,
        channels: Sequence[str],
        n_events: int,
        markers: Sequence[str] | None = None,
        keywords: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        datatype: str = "F",
        *,
        bits: int | Sequence[int] | None = None,
        byteorder: str = "little",
    ) -> None:
        names, marker_list, pairs, dt, bit_list = _layout_args(
            channels, markers, keywords, datatype, bits, None
        )
        self.path = Path(path)
        self._datatype = dt
        self._w = _core.FcsStreamWriter(
            self.path, names, marker_list, pairs, dt, bit_list, byteorder, int(n_events)
        )

    def write(self, data: Any) -> None:
        """Append rows (an (n, n_channels) array)."""
        self._w.write(_rows(data, self._datatype))

    def close(self) -> Path:
        """Finish the file (checks the event count) and move it into place."""
        self._w.finish()
        return self.path

    def abort(self) -> None:
        self._w.abort()

    def __enter__(self) -> FCSWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
