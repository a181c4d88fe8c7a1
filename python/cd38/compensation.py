"""Spillover matrices."""

from __future__ import annotations

import csv
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cd38 import _core
from cd38._arrays import kernel_matrix
from cd38._xml import load_xml
from cd38.errors import CompensationError, GatingMLError

_TRANSFORMS = "http://www.isac-net.org/std/Gating-ML/v2.0/transformations"
_DATATYPE = "http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"

if TYPE_CHECKING:
    from cd38.fcs import Sample

__all__ = ["Spillover"]


class Spillover:
    """A spillover matrix over named detectors.

    Row *i* holds how much of the signal of the fluorochrome measured in detector
    *i* appears in every detector; the diagonal is normally 1. Compensated values
    are ``events[:, detectors] @ inv(matrix)``.
    """

    __slots__ = ("_detectors", "_fluorochromes", "_inverse", "_matrix", "source")

    def __init__(
        self,
        detectors: Sequence[str],
        matrix: npt.ArrayLike,
        *,
        fluorochromes: Sequence[str] | None = None,
        source: str | None = None,
    ) -> None:
        m = np.array(matrix, dtype=np.float64)
        n = len(detectors)
        if m.ndim == 1 and m.size == n * n:
            m = m.reshape(n, n)
        if m.shape != (n, n):
            raise CompensationError(
                f"a spillover matrix over {n} detectors must be {n}x{n}, got shape {m.shape}"
            )
        if len(set(detectors)) != n:
            raise CompensationError(f"detector names repeat: {list(detectors)}")
        if not np.all(np.isfinite(m)):
            raise CompensationError("spillover matrix holds NaN or infinite values")
        m.setflags(write=False)
        self._detectors = tuple(str(d) for d in detectors)
        if fluorochromes is not None and len(fluorochromes) != n:
            raise CompensationError(
                f"{len(fluorochromes)} fluorochromes for {n} detectors: the matrix must be square"
            )
        self._fluorochromes = None if fluorochromes is None else tuple(str(f) for f in fluorochromes)
        self._matrix = m
        self._inverse: npt.NDArray[np.float64] | None = None
        self.source = source

    # -- constructors ---------------------------------------------------------
    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> Spillover:
        """A FlowJo-style CSV: a header row of detector names, then n rows of n values.

        A leading column of row labels (as some exports add) is accepted when it
        repeats the header's names.
        """
        p = Path(path)
        with p.open(newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
        if not rows:
            raise CompensationError(f"{p}: empty spillover CSV")
        header = [c.strip() for c in rows[0]]
        body = rows[1:]
        if header and header[0] == "" and all(len(r) == len(header) for r in body):
            header = header[1:]
            body = [r[1:] for r in body]
        try:
            values = [[float(c) for c in r] for r in body]
        except ValueError as e:
            raise CompensationError(f"{p}: non-numeric spillover value ({e})") from None
        if len(values) != len(header) or any(len(r) != len(header) for r in values):
            raise CompensationError(
                f"{p}: {len(header)} detector names but a {len(values)}-row matrix; "
                "a spillover CSV must be square"
            )
        return cls(header, values, source=str(p))

    @classmethod
    def from_array(cls, matrix: npt.ArrayLike, detectors: Sequence[str]) -> Spillover:
        """From an n x n array and the n detector names it spans."""
        return cls(detectors, matrix, source="array")

    @classmethod
    def from_controls(
        cls,
        controls: Mapping[str, Sample | str | os.PathLike[str]],
        negative: Sample | str | os.PathLike[str] | None = None,
        *,
        positive_percentile: float = 99.5,
        min_events: int = 50,
    ) -> Spillover:
        """Compute a spillover matrix from single-stain controls, median-based.

        ``controls`` maps each detector to the control stained only for the
        fluorochrome read in that detector. Row *j* of the result is
        ``(median_j(k) - background(k)) / (median_j(j) - background(j))`` over
        detectors *k*, where ``median_j`` is taken over the control's positive
        events.

        With a ``negative`` (unstained) control, positive events of control *j*
        are those above its ``positive_percentile`` in detector *j*, and the
        background is the negative control's median. Without one, every event of
        a control counts as positive (as for fully stained beads) and the
        background of detector *k* is the lowest median of *k* among the other
        controls, an approximation that a real unstained control should replace.
        """
        from cd38.fcs import Sample, read_fcs

        def load(x: Sample | str | os.PathLike[str]) -> Sample:
            return x if isinstance(x, Sample) else read_fcs(x)

        detectors = list(controls)
        if len(detectors) < 1:
            raise CompensationError("at least one single-stain control is needed")
        samples = {d: load(c) for d, c in controls.items()}
        neg = load(negative) if negative is not None else None

        def cols(s: Sample) -> npt.NDArray[np.float64]:
            missing = [d for d in detectors if d not in s.channels]
            if missing:
                raise CompensationError(f"{s.path}: control lacks detector channel(s) {missing}")
            return np.asarray(s.to_numpy()[:, [s.channels.index(d) for d in detectors]], dtype=np.float64)

        if neg is not None:
            neg_ev = cols(neg)
            background = np.median(neg_ev, axis=0)
            cutoff = np.percentile(neg_ev, positive_percentile, axis=0)
        pos_medians = np.empty((len(detectors), len(detectors)))
        for j, d in enumerate(detectors):
            ev = cols(samples[d])
            if neg is not None:
                ev = ev[ev[:, j] > cutoff[j]]
            if len(ev) < min_events:
                raise CompensationError(
                    f"control for {d}: only {len(ev)} positive events (need {min_events})"
                )
            pos_medians[j] = np.median(ev, axis=0)
        if neg is None:
            background = np.array(
                [
                    min((pos_medians[i, k] for i in range(len(detectors)) if i != k), default=0.0)
                    for k in range(len(detectors))
                ]
            )
        signal = pos_medians - background
        diag = np.diag(signal).copy()
        if np.any(diag <= 0):
            bad = [detectors[j] for j in np.flatnonzero(diag <= 0)]
            raise CompensationError(
                f"control(s) for {bad} are not brighter than background in their own detector"
            )
        return cls(detectors, signal / diag[:, None], source="single-stain controls")

    @classmethod
    def from_gatingml(
        cls, source: str | bytes | os.PathLike[str] | ET.Element, matrix_id: str | None = None
    ) -> Spillover:
        """A Gating-ML 2.0 ``transforms:spectrumMatrix`` (fluorochrome rows over
        detector columns). ``source`` is a document (text, bytes, path) or the
        element itself; ``matrix_id`` picks one matrix when a document has several.
        Compensated values are then addressed by fluorochrome name.
        """
        root = load_xml(source)
        found = [e for e in root.iter(f"{{{_TRANSFORMS}}}spectrumMatrix")]
        if matrix_id is not None:
            found = [e for e in found if e.get(f"{{{_TRANSFORMS}}}id") == matrix_id]
        if len(found) != 1:
            what = f"with id {matrix_id!r} " if matrix_id else ""
            raise GatingMLError(f"expected one spectrumMatrix {what}in the document, found {len(found)}")
        el = found[0]
        mid = el.get(f"{{{_TRANSFORMS}}}id", "")

        def names(tag: str) -> list[str]:
            group = el.find(f"{{{_TRANSFORMS}}}{tag}")
            if group is None:
                raise GatingMLError(f"spectrumMatrix {mid!r}: missing transforms:{tag}")
            out = [d.get(f"{{{_DATATYPE}}}name", "") for d in group]
            if not out or not all(out):
                raise GatingMLError(f"spectrumMatrix {mid!r}: transforms:{tag} has unnamed dimensions")
            return out

        fluoros, dets = names("fluorochromes"), names("detectors")
        rows = []
        for spec in el.findall(f"{{{_TRANSFORMS}}}spectrum"):
            try:
                rows.append([float(c.get(f"{{{_TRANSFORMS}}}value", "")) for c in spec])
            except ValueError:
                raise GatingMLError(f"spectrumMatrix {mid!r}: non-numeric coefficient") from None
        if len(rows) != len(fluoros) or any(len(r) != len(dets) for r in rows):
            raise GatingMLError(
                f"spectrumMatrix {mid!r}: {len(fluoros)} fluorochromes x {len(dets)} detectors "
                f"but {len(rows)} spectra of lengths {[len(r) for r in rows]}"
            )
        if len(fluoros) != len(dets):
            raise CompensationError(
                f"spectrumMatrix {mid!r} is {len(fluoros)}x{len(dets)}; only square matrices "
                "(compensation, not spectral unmixing) are supported"
            )
        return cls(dets, rows, fluorochromes=fluoros, source=f"Gating-ML spectrumMatrix {mid}")

    # -- properties ---------------------------------------------------------------
    @property
    def fluorochromes(self) -> list[str]:
        """Row names (Gating-ML spectrum matrices); the detector names otherwise."""
        return list(self._fluorochromes or self._detectors)

    @property
    def inverse(self) -> npt.NDArray[np.float64]:
        """The compensation matrix, ``inv(matrix)`` (read-only, computed once)."""
        if self._inverse is None:
            n = len(self._detectors)
            inv = np.array(_core.invert_matrix(self._matrix.ravel().tolist(), n)).reshape(n, n)
            inv.setflags(write=False)
            self._inverse = inv
        return self._inverse

    def apply(self, events: npt.NDArray[Any], channels: Sequence[str]) -> npt.NDArray[Any]:
        """Compensated copy of an (n_events, n_channels) array whose columns are ``channels``.

        Columns not in the matrix pass through unchanged; the dtype is kept.
        """
        index = {c: i for i, c in enumerate(channels)}
        missing = [d for d in self._detectors if d not in index]
        if missing:
            raise CompensationError(
                f"spillover detector(s) {missing} are not channels of the data ({list(channels)})"
            )
        inv = self.inverse
        return _core.compensate(
            kernel_matrix(events), [index[d] for d in self._detectors], inv.ravel().tolist()
        )

    @property
    def detectors(self) -> list[str]:
        """Detector ($PnN) names, in matrix order."""
        return list(self._detectors)

    @property
    def matrix(self) -> npt.NDArray[np.float64]:
        """The n x n spillover matrix (read-only)."""
        return self._matrix

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Spillover):
            return NotImplemented
        return self._detectors == other._detectors and np.array_equal(self._matrix, other._matrix)

    def __hash__(self) -> int:
        return hash((self._detectors, self._matrix.tobytes()))

    def __repr__(self) -> str:
        src = f", source={self.source!r}" if self.source else ""
        if self._fluorochromes:
            src = f", fluorochromes={list(self._fluorochromes)}{src}"
        return f"Spillover({len(self._detectors)} detectors: {', '.join(self._detectors)}{src})"
