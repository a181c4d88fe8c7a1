"""Seedable synthetic B-cell-panel samples written as real FCS files, with ground truth.

Every event is drawn as one population (debris, doublets, dead cells, monocytes,
granulocytes, T, NK, and B-cell subsets) with that population's scatter and
marker phenotype, then spilled through a spillover matrix and stored
uncompensated with ``$SPILLOVER``, as an instrument would. Files of any size
are written chunk by chunk with :class:`cd38.FCSWriter`, so memory stays bounded.

The proportions and intensities here are generator settings chosen to look like
a cytometer's output; they are not reference values and carry no clinical meaning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cd38.errors import InvalidArgumentError
from cd38.fcs.io import FCSWriter

__all__ = [
    "CHANNELS",
    "MARKERS",
    "PHENOTYPES",
    "POPULATIONS",
    "SynthSample",
    "bcell_sample",
    "fmo_controls",
    "spillover_matrix",
]

SCATTER = ["FSC-A", "FSC-H", "SSC-A", "SSC-H"]
DETECTORS = [
    "FITC-A",
    "PE-A",
    "PerCP-Cy5-5-A",
    "APC-A",
    "BV421-A",
    "PE-Cy7-A",
    "BV510-A",
    "APC-H7-A",
    "BV605-A",
    "BV786-A",
    "BUV395-A",
]
MARKERS = ["CD19", "CD3", "CD38", "IgM", "CD27", "CD24", "IgD", "CD5", "CD21", "CD45", "Viability"]
CHANNELS = [*SCATTER, *DETECTORS, "Time"]

# Intensity levels (true signal before spill), as (log-mean, log-sd) or a negative spread.
_LEVELS = {
    "neg": None,
    "dim": (np.log(1500.0), 0.35),
    "pos": (np.log(5000.0), 0.35),
    "hi": (np.log(40000.0), 0.3),
}

# Phenotype per population: marker -> level (markers not named are negative).
_B = {"CD19": "pos", "CD45": "pos", "CD21": "pos"}
PHENOTYPES: dict[str, dict[str, str]] = {
    "debris": {},
    "doublet": {"CD3": "pos", "CD5": "pos", "CD45": "pos"},
    "dead": {"Viability": "hi", "CD45": "dim"},
    "monocyte": {"CD45": "pos", "CD38": "dim"},
    "granulocyte": {"CD45": "dim"},
    "t_cell": {"CD3": "pos", "CD5": "pos", "CD45": "hi", "CD38": "dim"},
    "nk_cell": {"CD45": "hi", "CD38": "pos"},
    "naive": {**_B, "IgD": "pos", "IgM": "pos", "CD38": "dim", "CD24": "dim"},
    "switched_memory": {**_B, "CD27": "pos", "CD24": "pos"},
    "nonswitched_memory": {**_B, "CD27": "pos", "IgD": "pos", "IgM": "pos", "CD24": "pos"},
    "double_negative": {**_B, "CD24": "dim"},
    "transitional": {**_B, "CD24": "hi", "CD38": "hi", "IgM": "hi", "IgD": "pos"},
    "plasmablast": {"CD19": "dim", "CD45": "pos", "CD27": "hi", "CD38": "hi"},
    "cd21low": {"CD19": "pos", "CD45": "pos", "CD27": "dim", "CD24": "dim"},
    "clonal_cd5": {**_B, "CD5": "pos", "IgM": "dim", "CD24": "pos"},
    "clonal_cd5_cd38pos": {**_B, "CD5": "pos", "IgM": "dim", "CD24": "pos", "CD38": "pos"},
}
POPULATIONS = list(PHENOTYPES)
B_SUBSETS = [
    "naive",
    "switched_memory",
    "nonswitched_memory",
    "double_negative",
    "transitional",
    "plasmablast",
    "cd21low",
    "clonal_cd5",
    "clonal_cd5_cd38pos",
]

# (mean FSC-A, mean SSC-A) per kind of event; lymphocytes share one cloud.
_SCATTER = {
    "debris": None,
    "doublet": (130000.0, 22000.0),
    "dead": (55000.0, 30000.0),
    "monocyte": (115000.0, 60000.0),
    "granulocyte": (105000.0, 140000.0),
}
_LYMPH = (70000.0, 22000.0)

PROFILES: dict[str, dict[str, Any]] = {
    "healthy": {
        "events": {
            "debris": 0.08,
            "doublet": 0.04,
            "dead": 0.03,
            "monocyte": 0.08,
            "granulocyte": 0.27,
            "lymphocyte": 0.50,
        },
        "lymphocytes": {"t_cell": 0.72, "nk_cell": 0.13, "b_cell": 0.15},
        "b_cells": {
            "naive": 0.60,
            "switched_memory": 0.14,
            "nonswitched_memory": 0.10,
            "double_negative": 0.05,
            "transitional": 0.05,
            "plasmablast": 0.02,
            "cd21low": 0.04,
        },
    },
    "cll": {
        "events": {
            "debris": 0.05,
            "doublet": 0.03,
            "dead": 0.04,
            "monocyte": 0.02,
            "granulocyte": 0.06,
            "lymphocyte": 0.80,
        },
        "lymphocytes": {"t_cell": 0.08, "nk_cell": 0.02, "b_cell": 0.90},
        "b_cells": {
            "clonal_cd5": 0.63,
            "clonal_cd5_cd38pos": 0.27,
            "naive": 0.07,
            "switched_memory": 0.02,
            "plasmablast": 0.01,
        },
    },
    "post_rituximab": {
        "events": {
            "debris": 0.08,
            "doublet": 0.04,
            "dead": 0.03,
            "monocyte": 0.09,
            "granulocyte": 0.30,
            "lymphocyte": 0.46,
        },
        "lymphocytes": {"t_cell": 0.85, "nk_cell": 0.145, "b_cell": 0.005},
        "b_cells": {"transitional": 0.45, "naive": 0.30, "plasmablast": 0.15, "switched_memory": 0.10},
    },
}


def spillover_matrix(level: float = 1.0, seed: int = 7) -> npt.NDArray[np.float64]:
    """A fixed, realistic-looking spillover among the 11 detectors, scaled by ``level``."""
    rng = np.random.default_rng(seed)
    n = len(DETECTORS)
    s = np.eye(n)
    for i in range(n):
        for j in range(n):
            if i != j and rng.random() < 0.35:
                s[i, j] = level * rng.uniform(0.002, 0.15)
    return s


@dataclass
class SynthSample:
    """A written synthetic sample and its ground truth."""

    path: Path
    n_events: int
    profile: str
    seed: int
    counts: dict[str, int]
    labels: npt.NDArray[np.int8] | None = field(default=None, repr=False)

    def fraction(self, population: str, of: str | list[str] | None = None) -> float:
        """True fraction of ``population`` among all events, or among the populations in ``of``
        (e.g. ``of="b_cells"`` for every B subset)."""
        members = {"b_cells": B_SUBSETS, "lymphocytes": ["t_cell", "nk_cell", *B_SUBSETS]}
        pops = members.get(population, [population])
        num = sum(self.counts.get(p, 0) for p in pops)
        if of is None:
            return num / self.n_events
        den_pops = members.get(of, [of]) if isinstance(of, str) else of
        den = sum(self.counts.get(p, 0) for p in den_pops)
        return num / den if den else float("nan")


def _mixture(profile: dict[str, Any], b_subsets: dict[str, float] | None) -> dict[str, float]:
    ev, ly = profile["events"], profile["lymphocytes"]
    bs = b_subsets or profile["b_cells"]
    unknown = set(bs) - set(B_SUBSETS)
    if unknown:
        raise InvalidArgumentError(f"unknown B subset(s) {sorted(unknown)}; known: {B_SUBSETS}")
    total_b = sum(bs.values())
    probs = {k: v for k, v in ev.items() if k != "lymphocyte"}
    lymph = ev["lymphocyte"]
    probs["t_cell"] = lymph * ly["t_cell"]
    probs["nk_cell"] = lymph * ly["nk_cell"]
    for k, v in bs.items():
        probs[k] = lymph * ly["b_cell"] * v / total_b
    s = sum(probs.values())
    return {k: v / s for k, v in probs.items()}


def _chunk(
    rng: np.random.Generator,
    labels: npt.NDArray[np.int8],
    spill: npt.NDArray[np.float64],
    t0: float,
    omit: frozenset[str] = frozenset(),
) -> npt.NDArray[np.float32]:
    n = len(labels)
    out = np.empty((n, len(CHANNELS)), dtype=np.float32)
    names = np.array(POPULATIONS)[labels]
    fsc = np.empty(n)
    ssc = np.empty(n)
    for pop, sc in [*_SCATTER.items(), *((p, _LYMPH) for p in POPULATIONS if p not in _SCATTER)]:
        m = names == pop
        k = int(m.sum())
        if not k:
            continue
        if sc is None:
            fsc[m], ssc[m] = rng.gamma(2.0, 9000.0, k), rng.gamma(2.0, 4000.0, k)
        else:
            fsc[m], ssc[m] = rng.normal(sc[0], 0.11 * sc[0], k), rng.normal(sc[1], 0.2 * sc[1], k)
    ratio = np.where(names == "doublet", rng.normal(0.55, 0.04, n), rng.normal(0.82, 0.03, n))
    out[:, 0], out[:, 1] = fsc, fsc * ratio
    out[:, 2], out[:, 3] = ssc, ssc * rng.normal(0.85, 0.03, n)
    true = rng.normal(0.0, 120.0, (n, len(MARKERS)))
    for pop, pheno in PHENOTYPES.items():
        m = names == pop
        k = int(m.sum())
        for marker, level in pheno.items():
            mu_sd = _LEVELS[level]
            # An omitted marker (FMO control) keeps its background, as if unstained.
            if k and mu_sd is not None and marker not in omit:
                true[m, MARKERS.index(marker)] = rng.lognormal(mu_sd[0], mu_sd[1], k)
    out[:, 4 : 4 + len(DETECTORS)] = true @ spill
    out[:, -1] = t0 + np.cumsum(rng.exponential(0.02, n))
    return out


def bcell_sample(
    path: str | os.PathLike[str],
    n_events: int = 100_000,
    *,
    seed: int = 0,
    profile: str = "healthy",
    b_subsets: dict[str, float] | None = None,
    spill: float = 1.0,
    chunk_events: int = 500_000,
    keep_labels: bool = True,
    omit_markers: tuple[str, ...] = (),
) -> SynthSample:
    """Write a synthetic B-cell-panel FCS file and return its ground truth.

    ``profile`` is "healthy", "cll" (CD19+CD5+ clonal cells dominate) or
    "post_rituximab" (few B cells); ``b_subsets`` overrides the B-subset mix
    (relative weights over :data:`B_SUBSETS`). The same arguments always give
    the same file. ``keep_labels`` returns every event's population index
    (into :data:`POPULATIONS`); counts are always returned. ``omit_markers``
    leaves those markers unstained (a fluorescence-minus-one control when one
    marker is named; see :func:`fmo_controls`).
    """
    bad = sorted(set(omit_markers) - set(MARKERS))
    if bad:
        raise InvalidArgumentError(f"unknown marker(s) {bad} to omit; markers are {MARKERS}")
    if profile not in PROFILES:
        raise InvalidArgumentError(f"profile must be one of {sorted(PROFILES)}, not {profile!r}")
    if n_events < 1 or chunk_events < 1:
        raise InvalidArgumentError("n_events and chunk_events must be positive")
    mix = _mixture(PROFILES[profile], b_subsets)
    pops = list(mix)
    p = np.array([mix[k] for k in pops])
    index = np.array([POPULATIONS.index(k) for k in pops], dtype=np.int8)
    spill_m = spillover_matrix(spill)
    spill_kw = ",".join([str(len(DETECTORS)), *DETECTORS, *(repr(float(v)) for v in spill_m.ravel())])
    keywords = {
        "$SPILLOVER": spill_kw,
        "$TIMESTEP": "0.01",
        "$CYT": "cd38 synth",
        "CD38_SYNTH": f"profile={profile} seed={seed} spill={spill}",
    }
    if omit_markers:
        keywords["CD38_SYNTH_OMITTED"] = ",".join(omit_markers)
    counts = dict.fromkeys(POPULATIONS, 0)
    labels_all = np.empty(n_events, dtype=np.int8) if keep_labels else None
    out = Path(path)
    t0 = 0.0
    with FCSWriter(out, CHANNELS, n_events, ["", "", "", "", *MARKERS, ""], keywords) as w:
        for ci, start in enumerate(range(0, n_events, chunk_events)):
            rng = np.random.default_rng([seed, ci])
            n = min(chunk_events, n_events - start)
            labels = index[rng.choice(len(pops), size=n, p=p)]
            data = _chunk(rng, labels, spill_m, t0, frozenset(omit_markers))
            t0 = float(data[-1, -1])
            w.write(data)
            for i, c in zip(*np.unique(labels, return_counts=True), strict=True):
                counts[POPULATIONS[i]] += int(c)
            if labels_all is not None:
                labels_all[start : start + n] = labels
    return SynthSample(out, n_events, profile, seed, counts, labels_all)


def fmo_controls(
    directory: str | os.PathLike[str],
    markers: list[str] | tuple[str, ...] = ("CD38", "IgM", "CD5"),
    n_events: int = 50_000,
    *,
    seed: int = 1000,
    profile: str = "healthy",
    spill: float = 1.0,
) -> dict[str, SynthSample]:
    """One fluorescence-minus-one control per marker, written as ``FMO_<marker>.fcs``
    in ``directory``: the same kind of sample with that marker left unstained."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    return {
        m: bcell_sample(
            out / f"FMO_{m}.fcs",
            n_events,
            seed=seed + i,
            profile=profile,
            spill=spill,
            keep_labels=False,
            omit_markers=(m,),
        )
        for i, m in enumerate(markers)
    }
