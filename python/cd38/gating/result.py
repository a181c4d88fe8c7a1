"""`GatingResult`: the members of every population of one sample."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cd38.errors import InvalidArgumentError

if TYPE_CHECKING:
    import polars as pl

    from cd38.fcs import Sample
    from cd38.gating.strategy import GatingStrategy

__all__ = ["GatingResult"]


class GatingResult:
    """Populations of one sample under one strategy. Membership always includes
    the parent: an event is in a population only if it is in every ancestor."""

    def __init__(
        self, strategy: GatingStrategy, sample: Sample, members: Mapping[str, npt.NDArray[np.uint32]]
    ) -> None:
        self.strategy = strategy
        self.sample = sample
        self._members = members

    @property
    def n_events(self) -> int:
        return self.sample.n_events

    @property
    def populations(self) -> list[str]:
        return self.strategy.population_ids()

    def _get(self, population: str) -> npt.NDArray[np.uint32]:
        try:
            return self._members[population]
        except KeyError:
            raise InvalidArgumentError(
                f"no population {population!r}; populations are {self.populations}"
            ) from None

    def indices(self, population: str) -> npt.NDArray[np.uint32]:
        """Sorted indices of the population's events (read-only)."""
        return self._get(population)

    def count(self, population: str) -> int:
        counted = getattr(self._members, "count", None)
        if counted is not None and population in self._members:
            return int(counted(population))  # from the engine's bits, nothing unpacked
        return len(self._get(population))

    def mask(self, population: str) -> npt.NDArray[np.bool_]:
        """Membership as a boolean array over all events, parents applied."""
        m = np.zeros(self.n_events, dtype=bool)
        m[self._get(population)] = True
        return m

    def events(self, population: str) -> npt.NDArray[Any]:
        """The population's events (scale values) as an array (a copy)."""
        return self.sample.to_numpy()[self._get(population)]

    def events_polars(self, population: str) -> pl.DataFrame:
        """The population's events as a polars DataFrame, one column per channel."""
        import polars as pl

        ev = self.events(population)
        return pl.DataFrame({c: ev[:, i] for i, c in enumerate(self.sample.channels)})

    def counts(self) -> pl.DataFrame:
        """One row per population: population, parent, count, pct_parent, pct_total.

        Percentages are of the parent's count (of all events at the root);
        null when the denominator is zero.
        """
        import polars as pl

        total = self.n_events
        pops = self.populations
        parents = [self.strategy.parent_of(pid) for pid in pops]
        counts = [self.count(pid) for pid in pops]
        denoms = [total if par is None else self.count(par) for par in parents]
        return pl.DataFrame(
            {
                "population": pl.Series(pops, dtype=pl.String),
                "parent": pl.Series(parents, dtype=pl.String),
                "count": pl.Series(counts, dtype=pl.Int64),
                "pct_parent": pl.Series(
                    [100.0 * n / d if d else None for n, d in zip(counts, denoms, strict=True)],
                    dtype=pl.Float64,
                ),
                "pct_total": pl.Series(
                    [100.0 * n / total if total else None for n in counts], dtype=pl.Float64
                ),
            }
        )

    def stats(
        self,
        channels: Sequence[str] | None = None,
        stats: Sequence[str] = ("median", "mean", "cv"),
        percentiles: Sequence[float] = (),
        on: str = "scale",
        populations: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Per population x channel statistics as a tidy table (see :mod:`cd38.stats`
        for the exact definitions): sample, population, parent, channel, statistic,
        value, plus provenance columns so tables of many samples concatenate.

        ``stats`` from mean, sd, cv, geomean, median, rsd, rcv, mad, min, max;
        ``percentiles`` e.g. (5, 25, 75, 95), numpy's linear interpolation;
        ``on`` is "scale" (default), "compensated" or "transformed".
        """
        from cd38.stats import population_stats

        return population_stats(self, channels, stats, percentiles, on, populations)

    def counts_table(self, pct_of: str | None = None) -> pl.DataFrame:
        """:meth:`counts` with provenance columns, and ``pct_of`` a named ancestor."""
        from cd38.stats import counts_table

        return counts_table(self, pct_of)

    def absolute_counts(self, **kwargs: Any) -> pl.DataFrame:
        """Cells per microlitre; see :func:`cd38.stats.absolute_counts`."""
        from cd38.stats import absolute_counts

        return absolute_counts(self, **kwargs)

    def __repr__(self) -> str:
        return f"GatingResult({len(self._members)} populations of {self.n_events} events)"
