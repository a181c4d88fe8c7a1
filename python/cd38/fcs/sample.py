"""`Sample`: one data set of an FCS file, decoded to scale values."""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy.typing as npt

from cd38 import _core
from cd38.compensation import Spillover
from cd38.errors import CompensationError, InvalidArgumentError
from cd38.fcs.keywords import Keywords

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Repair", "Sample"]


@dataclass(frozen=True)
class Repair:
    """Something tolerant reading had to fix in a file, and what was done."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class Sample:
    """One data set of an FCS file.

    Event values are *scale values*, as Gating-ML 2.0 gates them: integers
    bit-masked to ``$PnR``, log-amplified channels decoded (``$PnE``), linear
    channels divided by ``$PnG``, the time channel multiplied by ``$TIMESTEP``.
    Files stored as float32 stay float32; everything else is float64.

    Build one with :func:`cd38.read_fcs`.
    """

    def __init__(
        self,
        ds: _core.Dataset,
        *,
        source: Path | bytes | None,
        dataset: int,
        events: npt.NDArray[Any] | None = None,
    ) -> None:
        self._ds = ds
        self._source = source
        self.dataset = dataset
        self.keywords = Keywords(ds.keywords)
        self.repairs = [Repair(code, message) for code, message in ds.repairs]
        spill = ds.spillover
        self.spillover: Spillover | None = (
            None if spill is None else Spillover(spill[0], spill[1], source=spill[2])
        )
        if events is None:
            events = ds.events
        if events is not None:
            events.setflags(write=False)
        self._events = events
        # A zero-copy view of the file's stored float32 values, and each
        # channel's scale (None: as stored). Kernels read the view and scale as
        # they go; the scale values themselves are decoded only when asked for.
        self._stored: npt.NDArray[Any] | None = None
        self._scales: list[tuple[str, list[float]] | None] = []
        self._map: mmap.mmap | None = None
        self._raw: npt.NDArray[Any] | None = None
        self.compensation: Spillover | None = None
        self._file_blake3: str | None = None
        # The file's digest being computed in the background (cd38._digest).
        self._blake3_job: Any = None

    # -- identity -----------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The file this sample was read from (None when read from bytes)."""
        return self._source if isinstance(self._source, Path) else None

    @property
    def version(self) -> str:
        """The FCS version of the data set, e.g. ``"FCS3.1"``."""
        return self._ds.version

    @property
    def channels(self) -> list[str]:
        """``$PnN`` names, in parameter order."""
        return list(self._ds.channels)

    @property
    def markers(self) -> list[str]:
        """``$PnS`` names ("" where absent), in parameter order."""
        return list(self._ds.markers)

    @property
    def n_events(self) -> int:
        return self._ds.n_events

    @property
    def n_channels(self) -> int:
        return len(self._ds.channels)

    @property
    def datatypes(self) -> list[str]:
        """Stored data type of each channel: I, F, D or A."""
        return list(self._ds.datatypes)

    @property
    def time_channel(self) -> str | None:
        i = self._ds.time_index
        return None if i is None else self._ds.channels[i]

    @property
    def text_encoding(self) -> str:
        """How TEXT was decoded: ``"utf-8"`` or ``"latin-1"`` (fallback)."""
        return self._ds.encoding

    def channel_index(self, name: str) -> int:
        """Index of a channel by ``$PnN`` name, or failing that by exact ``$PnS`` marker."""
        if name in self._ds.channels:
            return self._ds.channels.index(name)
        hits = [i for i, m in enumerate(self._ds.markers) if m and m == name]
        if len(hits) == 1:
            return hits[0]
        raise InvalidArgumentError(
            f"{self._label()}: no channel named {name!r}; channels are {self._ds.channels}"
        )

    # -- events -------------------------------------------------------------
    @classmethod
    def _from_view(
        cls,
        ds: _core.Dataset,
        *,
        source: Path | bytes,
        dataset: int,
        stored: npt.NDArray[Any],
        whole: mmap.mmap | None,
    ) -> Sample:
        """A sample over a view of the file's stored values (see ``_stored``);
        ``whole`` is the mapping of the entire file the view is part of."""
        stored.setflags(write=False)
        scales = list(ds.scales)
        if not any(scales):
            out = cls(ds, source=source, dataset=dataset, events=stored)
        else:
            out = cls(ds, source=source, dataset=dataset)
            out._stored, out._scales = stored, scales
        out._map = whole
        return out

    def _kernel_events(self) -> tuple[npt.NDArray[Any], list[tuple[str, list[float]] | None]]:
        """What the Rust kernels read: the scale values, or the stored view and the
        per-channel scales they apply while reading (no decoded copy)."""
        if self._events is None and self._stored is not None:
            return self._stored, self._scales
        return self._require_events(), []

    def _require_events(self) -> npt.NDArray[Any]:
        if self._events is None and self._stored is not None:
            self._events = self._decode()
        if self._events is None:
            raise InvalidArgumentError(
                f"{self._label()}: only the metadata was read (read_fcs_metadata); use read_fcs for events"
            )
        return self._events

    def _decode(self) -> npt.NDArray[Any]:
        """Scale values of a view-backed sample, by the reader's own decoder."""
        if isinstance(self._source, bytes):
            ds = _core.read_fcs_bytes(self._source, dataset=self.dataset, data="scale")
        elif self._source is not None:
            ds = _core.read_fcs(self._source, dataset=self.dataset, data="scale")
        else:
            raise InvalidArgumentError("sample has no source to decode scale values from")
        events = ds.events
        if events is None or events.shape != (self.n_events, self.n_channels):
            raise InvalidArgumentError(f"{self._label()}: the file changed while it was being read")
        events.setflags(write=False)
        return events

    def to_numpy(self) -> npt.NDArray[Any]:
        """Scale values, shape (n_events, n_channels), read-only.

        A view of the file when it stores little-endian float32 scale values;
        when a channel needs scaling (Time by ``$TIMESTEP``, a ``$PnG`` gain) the
        matrix is decoded on the first call and kept.
        """
        return self._require_events()

    def to_polars(self) -> pl.DataFrame:
        """Scale values as a polars DataFrame, one column per channel (a copy, column-major)."""
        import polars as pl

        ev = self._require_events()
        return pl.DataFrame({name: ev[:, i] for i, name in enumerate(self._ds.channels)})

    def raw_numpy(self) -> npt.NDArray[Any]:
        """Stored channel values (integers masked to ``$PnR``; no log, gain or timestep)."""
        if self._raw is None and self._stored is not None:
            self._raw = self._stored
        if self._raw is None:
            if isinstance(self._source, bytes):
                ds = _core.read_fcs_bytes(self._source, dataset=self.dataset, data="raw")
            elif self._source is not None:
                ds = _core.read_fcs(self._source, dataset=self.dataset, data="raw")
            else:
                raise InvalidArgumentError("sample has no source to re-read raw values from")
            raw = ds.events
            assert raw is not None
            raw.setflags(write=False)
            self._raw = raw
        return self._raw

    def column(self, name: str) -> npt.NDArray[Any]:
        """Scale values of one channel (by ``$PnN`` or marker), a read-only view."""
        return self._require_events()[:, self.channel_index(name)]

    def compensate(self, spillover: Spillover | None = None) -> Sample:
        """A new sample with the detectors of ``spillover`` (default: the file's own
        matrix) compensated; other channels pass through. This sample is unchanged.
        """
        spill = spillover if spillover is not None else self.spillover
        if spill is None:
            raise CompensationError(
                f"{self._label()}: the file has no spillover matrix; pass one to compensate()"
            )
        events = spill.apply(self._require_events(), self._ds.channels)
        out = Sample(self._ds, source=self._source, dataset=self.dataset, events=events)
        out.compensation = spill
        out._map, out._file_blake3 = self._map, self._file_blake3  # same file
        out._blake3_job = self._blake3_job
        return out

    # -- display ------------------------------------------------------------
    def _label(self) -> str:
        if isinstance(self._source, Path):
            return str(self._source)
        return "<bytes>"

    def __repr__(self) -> str:
        cyt = self.keywords.get("$CYT", "").strip()
        bits = [self.version, f"{self.n_events} events", f"{self.n_channels} channels"]
        if cyt:
            bits.append(cyt)
        if self.repairs:
            bits.append(f"{len(self.repairs)} repairs")
        if self.compensation is not None:
            bits.append("compensated")
        return f"Sample({self._label()!r}: {', '.join(bits)})"
