"""Population statistics, absolute counts and provenance.

Statistic definitions (``DEFINITIONS`` holds them as text, and every file cd38
writes carries them):

- ``count``; ``pct_parent``, ``pct_total``, ``pct_of`` (of a named ancestor): percent.
- ``mean``; ``sd``: sample standard deviation (n - 1); ``cv`` = 100 sd / mean.
- ``geomean``: exp(mean(ln x)) over the values x > 0 only; values <= 0 are left
  out (NaN when none is positive). Stated because FlowJo instead averages in
  display space.
- ``median`` and percentiles ``pNN``: numpy's default linear interpolation between
  the order statistics at rank (n - 1) q / 100, found by selection.
- ``rsd``: FlowJo's robust SD, (P84.13 - P15.87) / 2; ``rcv`` = 100 rsd / median.
- ``mad``: median(|x - median|), unscaled.
- ``min``, ``max``.

NaN in a population's values makes that channel's statistics NaN, as numpy's
are; an empty population gives NaN. Values are scale values by default, or the
compensated (file spillover) or transformed (the strategy's transform for that
channel, on compensated values) values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cd38 import _core
from cd38._arrays import kernel_matrix
from cd38._digest import blake3_buffer
from cd38._digest import file_blake3 as _file_blake3
from cd38.errors import InvalidArgumentError

if TYPE_CHECKING:
    import polars as pl

    from cd38.fcs import Sample
    from cd38.gating.result import GatingResult

__all__ = ["DEFAULT_STATS", "DEFINITIONS", "absolute_counts", "population_stats", "provenance"]

DEFAULT_STATS = ("median", "mean", "cv")
KNOWN = ("mean", "sd", "cv", "geomean", "median", "rsd", "rcv", "mad", "min", "max")

DEFINITIONS = {
    "count": "number of events in the population (parents applied)",
    "pct_parent": "100 * count / count of the parent population (of all events at the root)",
    "pct_total": "100 * count / all events",
    "pct_of": "100 * count / count of the named ancestor",
    "mean": "arithmetic mean",
    "sd": "sample standard deviation (n - 1)",
    "cv": "100 * sd / mean",
    "geomean": "exp(mean(ln x)) over values x > 0 only; values <= 0 excluded",
    "median": "50th percentile, numpy linear interpolation",
    "pNN": "NNth percentile, numpy linear interpolation at rank (n - 1) * NN / 100",
    "rsd": "FlowJo robust SD: (P84.13 - P15.87) / 2",
    "rcv": "FlowJo robust CV: 100 * rsd / median",
    "mad": "median absolute deviation from the median, unscaled",
    "min": "minimum",
    "max": "maximum",
    "cells_per_ul": "absolute count, cells per microlitre",
}


def _pct_name(q: float) -> str:
    return "p" + re.sub(r"\.?0+$", "", f"{q:.4f}") if q != int(q) else f"p{int(q)}"


def _values(result: GatingResult, on: str) -> tuple[npt.NDArray[Any], list[Any]]:
    """The matrix the kernel reads and the per-channel scales it applies."""
    sample = result.sample
    if on == "scale":
        return sample._kernel_events()
    return _derived(result, on), []


def _derived(result: GatingResult, on: str) -> npt.NDArray[Any]:
    sample = result.sample
    if on not in ("compensated", "transformed"):
        raise InvalidArgumentError(f"on must be 'scale', 'compensated' or 'transformed', not {on!r}")
    ev = sample.compensate().to_numpy() if sample.spillover is not None else sample.to_numpy()
    if on == "compensated":
        return ev
    out = np.array(ev, dtype=np.float64)
    done = set()
    for gate in result.strategy:
        for dim in gate.dimensions_used():
            if dim.transform is None or dim.channel is None or dim.channel in done:
                continue
            if dim.channel in sample.channels:
                i = sample.channels.index(dim.channel)
                out[:, i] = dim.transform.apply(out[:, i])
                done.add(dim.channel)
    return out


def population_stats(
    result: GatingResult,
    channels: Sequence[str] | None = None,
    stats: Sequence[str] = DEFAULT_STATS,
    percentiles: Sequence[float] = (),
    on: str = "scale",
    populations: Sequence[str] | None = None,
) -> pl.DataFrame:
    """A tidy table: sample, population, parent, channel, statistic, value (+ provenance)."""
    import polars as pl

    stats = list(stats)
    unknown = [s for s in stats if s not in KNOWN]
    if unknown:
        raise InvalidArgumentError(f"unknown statistic(s) {unknown}; known: {', '.join(KNOWN)}")
    pcts = [float(q) for q in percentiles]
    sample = result.sample
    chans = list(sample.channels) if channels is None else [str(c) for c in channels]
    cols = [sample.channel_index(c) for c in chans]
    chans = [sample.channels[i] for i in cols]
    pops = list(result.populations if populations is None else populations)
    values, scales = _values(result, on)
    from cd38.gating.engine import Members

    engine = result._members
    if isinstance(engine, Members) and all(p in engine.node_of for p in pops):
        # The engine's members as they are (bits): nothing unpacked for order statistics.
        nodes = [engine.node_of[p] for p in pops]
        flat = _core.population_stats_members(
            kernel_matrix(values), engine.core, nodes, cols, stats, pcts, scales
        )
    else:
        members: list[npt.NDArray[np.uint32] | None] = [result.indices(p) for p in pops]
        flat = _core.population_stats(kernel_matrix(values), members, cols, stats, pcts, scales)
    names = stats + [_pct_name(q) for q in pcts]
    width = len(names)
    grid = flat.reshape(len(pops), len(cols), width)
    parent = {p: result.strategy.parent_of(p) for p in pops}
    per_pop = len(cols) * width
    # Plain lists: polars builds small columns from them faster than from numpy
    # (which imports numpy.ma on first use) or through a Python UDF.
    definitions = [_definition(name) for name in names]
    df = pl.DataFrame(
        [
            pl.Series("population", [p for p in pops for _ in range(per_pop)], dtype=pl.String),
            pl.Series("parent", [parent[p] for p in pops for _ in range(per_pop)], dtype=pl.String),
            pl.Series("channel", [c for _ in pops for c in chans for _ in range(width)], dtype=pl.String),
            pl.Series("statistic", names * (len(pops) * len(cols)), dtype=pl.String),
            pl.Series("value", grid.ravel().tolist(), dtype=pl.Float64),
            pl.Series("values_on", [on] * (len(pops) * per_pop), dtype=pl.String),
            pl.Series("definition", definitions * (len(pops) * len(cols)), dtype=pl.String),
        ]
    )
    # Last: the file's digest may still be finishing in the background.
    return _with_provenance(df, provenance(result))


def _definition(stat: str) -> str:
    if stat in DEFINITIONS:
        return DEFINITIONS[stat]
    return DEFINITIONS["pNN"].replace("NN", stat[1:])


def _with_provenance(df: pl.DataFrame, prov: dict[str, Any]) -> pl.DataFrame:
    """``df`` between a leading ``sample`` column and the other provenance columns.

    Built from Series, not expressions: polars' expression engine costs a few
    milliseconds on first use, as much as gating a million events."""
    import polars as pl

    n = df.height
    lead = pl.Series("sample", [prov["sample"]] * n, dtype=pl.String)
    tail = [pl.Series(k, [v] * n, dtype=pl.String) for k, v in prov.items() if k != "sample"]
    return pl.DataFrame([lead, *df.get_columns(), *tail])


def file_blake3(sample: Sample) -> str:
    """BLAKE3 of the sample's file (or bytes), computed once (see cd38._digest)."""
    cached = getattr(sample, "_file_blake3", None)
    if cached:
        return str(cached)
    job = getattr(sample, "_blake3_job", None)
    if job is not None:
        # Started when the sample was gated; finished here.
        sample._file_blake3 = digest = job.hexdigest()
        sample._blake3_job = None
        return str(digest)
    if sample._map is not None:
        # The sample views this mapping of the whole file: hash it there rather
        # than map every page a second time.
        digest = blake3_buffer(sample._map)
    elif sample.path is not None:
        digest = _file_blake3(sample.path)
    else:
        source = sample._source if isinstance(sample._source, bytes) else b""
        digest = blake3_buffer(source)
    sample._file_blake3 = digest
    return digest


def provenance(result: GatingResult) -> dict[str, Any]:
    """Where the numbers came from: file hash, acquisition keywords, strategy hash, version."""
    from cd38 import __version__

    s = result.sample
    kw = s.keywords
    serial = next(
        (kw[k] for k in ("$CYTSN", "CYTNUM", "$CYTNUM", "CYTOMETER SERIAL NUMBER") if k in kw), None
    )
    return {
        "sample": s.path.name if s.path is not None else "<bytes>",
        "file_blake3": file_blake3(s),
        "acquisition_date": kw.get("$DATE"),
        "cytometer": kw.get("$CYT"),
        "cytometer_serial": serial,
        "strategy_sha256": result.strategy.hash(),
        "cd38_version": __version__,
    }


def counts_table(result: GatingResult, pct_of: str | None = None) -> pl.DataFrame:
    """The counts table with provenance columns (and ``pct_of`` a named ancestor)."""
    import polars as pl

    df = result.counts()
    if pct_of is not None:
        denom = result.count(pct_of)
        anc = {p: _is_descendant(result, p, pct_of) for p in result.populations}
        df = df.with_columns(
            pl.Series(
                "pct_of",
                [100.0 * result.count(p) / denom if anc[p] and denom else None for p in result.populations],
                dtype=pl.Float64,
            ),
            pl.lit(pct_of).alias("pct_of_population"),
        )
    used = {k: DEFINITIONS[k] for k in ("count", "pct_parent", "pct_total", "pct_of") if k in df.columns}
    df = df.with_columns(pl.lit(json.dumps(used)).alias("definitions"))
    return _with_provenance(df, provenance(result))


def _is_descendant(result: GatingResult, pop: str, ancestor: str) -> bool:
    cur: str | None = pop
    while cur is not None:
        if cur == ancestor:
            return True
        cur = result.strategy.parent_of(cur)
    return False


def absolute_counts(
    result: GatingResult,
    *,
    bead_gate: str | None = None,
    beads_per_test: float | None = None,
    sample_volume_ul: float | None = None,
    reference_population: str | None = None,
    reference_count_per_ul: float | None = None,
) -> pl.DataFrame:
    """Cells per microlitre for every population.

    Single platform (counting beads): ``count / beads_counted * beads_per_test /
    sample_volume_ul``. Dual platform: ``count / count(reference_population) *
    reference_count_per_ul`` from an externally measured count (e.g. a haematology
    analyser's lymphocytes per microlitre).
    """
    import polars as pl

    if bead_gate is not None:
        if reference_population is not None:
            raise InvalidArgumentError("give either bead_gate or reference_population, not both")
        if not beads_per_test or not sample_volume_ul or beads_per_test <= 0 or sample_volume_ul <= 0:
            raise InvalidArgumentError("beads_per_test and sample_volume_ul must be positive numbers")
        beads = result.count(bead_gate)
        if beads == 0:
            raise InvalidArgumentError(
                f"no events in the bead gate {bead_gate!r}: absolute counts are undefined"
            )
        factor = beads_per_test / sample_volume_ul / beads
        method = (
            f"single platform: {beads} beads in {bead_gate!r}, "
            f"{beads_per_test} beads/test, {sample_volume_ul} uL"
        )
    elif reference_population is not None:
        if not reference_count_per_ul or reference_count_per_ul <= 0:
            raise InvalidArgumentError("reference_count_per_ul must be a positive number")
        ref = result.count(reference_population)
        if ref == 0:
            raise InvalidArgumentError(
                f"no events in the reference population {reference_population!r}: "
                "absolute counts are undefined"
            )
        factor = reference_count_per_ul / ref
        method = f"dual platform: {reference_population!r} = {reference_count_per_ul} cells/uL ({ref} events)"
    else:
        raise InvalidArgumentError("give bead_gate (single platform) or reference_population (dual platform)")
    pops = [p for p in result.populations if p != bead_gate]
    df = pl.DataFrame(
        {
            "population": pops,
            "count": [result.count(p) for p in pops],
            "cells_per_ul": [result.count(p) * factor for p in pops],
        },
        schema={"population": pl.String, "count": pl.Int64, "cells_per_ul": pl.Float64},
    ).with_columns(pl.lit(method).alias("method"))
    return _with_provenance(df, provenance(result))
