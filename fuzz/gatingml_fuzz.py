"""Coverage-guided fuzzing of the Gating-ML 2.0 reader with atheris (libFuzzer).

    python fuzz/gatingml_fuzz.py fuzz/corpus/gatingml -dict=fuzz/gatingml.dict -max_total_time=600

Arbitrary bytes go to `GatingStrategy.from_gatingml`. A `cd38.Cd38Error` is
the expected answer to bad input; any other exception is a finding. A document
that is accepted must also survive cd38's own round trip: serialised again,
it reads back to the same populations.

Byte-level mutation of XML mostly yields documents that are not well formed,
so a structure-aware mutator does most of the work: it parses the input and
changes one thing at the XML level (an attribute value to a hostile number or
another id, an element dropped, duplicated, moved or retagged), falling back
to libFuzzer's byte mutations for inputs that do not parse.
"""

from __future__ import annotations

import copy
import random
import sys
import xml.etree.ElementTree as ET

import atheris

with atheris.instrument_imports(include=["cd38"]):
    import cd38
    from cd38.errors import Cd38Error


def check(data: bytes) -> None:
    try:
        strategy = cd38.GatingStrategy.from_gatingml(data)
    except Cd38Error:
        return
    again = cd38.GatingStrategy.from_gatingml(strategy.to_gatingml())
    before = [g.population_ids() for g in strategy]
    after = [g.population_ids() for g in again]
    if before != after:
        raise AssertionError(f"round trip changed the populations: {before} -> {after}")


G = "{http://www.isac-net.org/std/Gating-ML/v2.0/gating}"
T = "{http://www.isac-net.org/std/Gating-ML/v2.0/transformations}"
TAGS = [
    *(G + t for t in ("RectangleGate", "PolygonGate", "EllipsoidGate", "QuadrantGate", "BooleanGate")),
    *(G + t for t in ("dimension", "vertex", "coordinate", "mean", "covarianceMatrix", "row", "entry")),
    *(G + t for t in ("divider", "value", "Quadrant", "position", "and", "or", "not", "gateReference")),
    *(T + t for t in ("transformation", "logicle", "hyperlog", "fasinh", "flog", "flin", "fratio")),
    *(T + t for t in ("spectrumMatrix", "fluorochromes", "detectors", "spectrum", "coefficient")),
]
VALUES = ["nan", "inf", "-inf", "0", "-0", "1e308", "-1e308", "5e-324", "-1", "", "x", "1" * 400, "true"]


def _mutate_tree(root: ET.Element, rng: random.Random) -> None:
    parents = {c: p for p in root.iter() for c in p}
    elements = list(root.iter())
    el = rng.choice(elements)
    ids = [v for e in elements for k, v in e.attrib.items() if k.endswith("id")]
    op = rng.randrange(6)
    if op == 0 and el.attrib:
        el.set(rng.choice(list(el.attrib)), rng.choice(VALUES + ids))
    elif op == 1 and el.attrib:
        del el.attrib[rng.choice(list(el.attrib))]
    elif op == 2 and el in parents:
        parents[el].remove(el)
    elif op == 3 and el in parents:
        parents[el].append(copy.deepcopy(el))
    elif op == 4 and el in parents:
        target = rng.choice(elements)
        if target is not el and el not in list(target.iter()):
            parents[el].remove(el)
            target.append(el)
    else:
        el.tag = rng.choice(TAGS)


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if rng.random() < 0.25:
        return atheris.Mutate(data, max_size)
    try:
        root = ET.fromstring(data)
        for _ in range(rng.randint(1, 3)):
            _mutate_tree(root, rng)
        return ET.tostring(root)[:max_size]
    except Exception:  # not XML (yet), or not serialisable: mutate the bytes
        return atheris.Mutate(data, max_size)


def main() -> None:
    atheris.Setup(sys.argv, check, custom_mutator=mutate)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
