"""Ground truth for the B-cell panel's gates on cd38.synth samples.

Each gate's definition is applied to the generator's phenotype table (which
marker is at which level in which population), so the true fraction of every
subset follows from the per-population event counts.
"""

from __future__ import annotations

from collections.abc import Callable

from cd38.synth import B_SUBSETS, PHENOTYPES, SynthSample

Pred = Callable[[dict[str, str]], bool]


def _pos(m: str) -> Pred:
    return lambda ph: ph.get(m, "neg") in ("dim", "pos", "hi")


def _hi(m: str) -> Pred:
    return lambda ph: ph.get(m, "neg") == "hi"


def _and(*ps: Pred) -> Pred:
    return lambda ph: all(p(ph) for p in ps)


def _not(p: Pred) -> Pred:
    return lambda ph: not p(ph)


def definitions(cd38_gate: str = "bright") -> dict[str, tuple[str, Pred]]:
    """Gate -> (parent, predicate on a phenotype), for populations within B cells."""
    cd38 = _hi("CD38") if cd38_gate == "bright" else _pos("CD38")
    igm = _pos("IgM")
    cd27, igd = _pos("CD27"), _pos("IgD")
    return {
        "cd38pos_igmneg": ("b_cells", _and(cd38, _not(igm))),
        "cd38pos_igmpos": ("b_cells", _and(cd38, igm)),
        "cd38neg_igmpos": ("b_cells", _and(_not(cd38), igm)),
        "cd38neg_igmneg": ("b_cells", _and(_not(cd38), _not(igm))),
        "transitional": ("b_cells", _and(_hi("CD24"), _hi("CD38"))),
        "plasmablasts": ("b_cells", _and(_hi("CD27"), _hi("CD38"))),
        "naive": ("b_cells", _and(_not(cd27), igd)),
        "switched_memory": ("b_cells", _and(cd27, _not(igd))),
        "nonswitched_memory": ("b_cells", _and(cd27, igd)),
        "double_negative": ("b_cells", _and(_not(cd27), _not(igd))),
        "cd21low": ("b_cells", _and(_not(_pos("CD21")), _not(_hi("CD38")))),
        "clonal_cd5": ("b_cells", _pos("CD5")),
        "clonal_cd5_cd38pos": ("clonal_cd5", _and(_pos("CD5"), _pos("CD38"))),
    }


def true_fraction(ss: SynthSample, gate: str, cd38_gate: str = "bright") -> tuple[float, int]:
    """(true fraction of ``gate`` among its parent's B cells, parent's true event count)."""
    defs = definitions(cd38_gate)
    parent, pred = defs[gate]
    pop_in_parent = (lambda ph: True) if parent == "b_cells" else defs[parent][1]
    den = sum(ss.counts[p] for p in B_SUBSETS if pop_in_parent(PHENOTYPES[p]))
    num = sum(ss.counts[p] for p in B_SUBSETS if pop_in_parent(PHENOTYPES[p]) and pred(PHENOTYPES[p]))
    return (num / den if den else float("nan")), den
