"""Spillover matrices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from cd38.errors import CompensationError

__all__ = ["Spillover"]


class Spillover:
    """A spillover matrix over named detectors.

    Row *i* holds how much of the signal of the fluorochrome measured in detector
    *i* appears in every detector; the diagonal is normally 1. Compensated values
    are ``events[:, detectors] @ inv(matrix)``.
    """

    __slots__ = ("_detectors", "_matrix", "source")

    def __init__(
        self,
        detectors: Sequence[str],
        matrix: npt.ArrayLike,
        *,
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
        self._matrix = m
        self.source = source

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
        return f"Spillover({len(self._detectors)} detectors: {', '.join(self._detectors)}{src})"
