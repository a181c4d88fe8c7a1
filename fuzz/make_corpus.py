"""Write the seed corpora of the fuzzers from files cd38 itself generates.

    python fuzz/make_corpus.py            # -> fuzz/corpus/fcs_read/, fuzz/corpus/gatingml/

Seeds are small (a few events) so mutations stay cheap; they cover every
layout the reader knows: float/double/integer/ASCII data, both byte orders,
bit-packed integers, delimited ASCII, FCS 2.0 with empty values, supplemental
TEXT, two data sets chained by $NEXTDATA, zero events. The Gating-ML seeds are
cd38's own serialisation (`GatingStrategy.to_gatingml`) of strategies built in
code and, when the shared test data is present, of the ISAC compliance suite.
Nothing here is committed: the corpora are generated.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import cd38  # noqa: E402
import fcsbuild  # noqa: E402  (a test helper, found through sys.path above)
from cd38.gating import BooleanGate, Dimension, EllipsoidGate, PolygonGate, RectangleGate  # noqa: E402
from cd38.transforms import Logicle  # noqa: E402

SPILL = "2,FL1-A,FL2-A,1,0.05,0.1,1"


def _written(tmp: Path, name: str, data: np.ndarray, channels: list[str], **kw: object) -> bytes:
    path = cd38.write_fcs(tmp / name, data, channels, **kw)  # type: ignore[arg-type]
    return path.read_bytes()


def fcs_seeds(tmp: Path) -> Iterator[tuple[str, bytes]]:
    rng = np.random.default_rng(38)
    small = rng.uniform(0, 1000, (6, 3)).round()
    chans = ["FSC-A", "FL1-A", "FL2-A"]
    keywords = {"$SPILLOVER": SPILL, "$CYT": "seed", "$FIL": "seed.fcs", "$TIMESTEP": "0.01"}
    yield "float_le", _written(tmp, "a.fcs", small, chans, keywords=keywords)
    yield "float_be", _written(tmp, "b.fcs", small, chans, keywords=keywords, byteorder="big")
    yield "double", _written(tmp, "c.fcs", small, chans, datatype="D")
    yield "int16", _written(tmp, "d.fcs", small, chans, datatype="I", bits=16)
    yield "int24_be", _written(tmp, "e.fcs", small, chans, datatype="I", bits=24, byteorder="big")
    yield "ascii_fixed", _written(tmp, "f.fcs", small, chans, datatype="A", bits=6)
    yield (
        "log_gain",
        _written(
            tmp,
            "g.fcs",
            small,
            chans,
            datatype="I",
            bits=16,
            keywords={"$P2E": "4,1", "$P2R": "1024", "$P3G": "2.5"},
        ),
    )
    yield "zero_events", _written(tmp, "h.fcs", np.zeros((0, 3)), chans)

    # Layouts cd38's writer never produces, from the independent byte builder.
    packed = int("1010110011011100000111111111110000000001", 2).to_bytes(5, "big")
    yield (
        "packed_10bit",
        fcsbuild.build(
            [
                *fcsbuild.params(["A", "B"], ["10", "10"]),
                ("$TOT", "2"),
                ("$DATATYPE", "I"),
                ("$BYTEORD", "4,3,2,1"),
            ],
            packed,
            version="FCS2.0",
        ),
    )
    yield (
        "ascii_delimited",
        fcsbuild.build(
            [*fcsbuild.params(["A", "B"], ["*", "*"]), ("$TOT", "3"), ("$DATATYPE", "A")],
            b"1 2,3\t4\n5 6",
        ),
    )
    yield (
        "fcs20_backslash_empty_values",
        fcsbuild.build(
            [
                *[
                    (k, "4,0" if k == "$P2E" else v)
                    for k, v in fcsbuild.params(["FSC-H", "FL1-H"], ["16", "16"])
                ],
                ("$TOT", "2"),
                ("$DATATYPE", "I"),
                ("$BYTEORD", "4,3,2,1"),
                ("&5PREFIX", ""),
            ],
            bytes(range(8)),
            version="FCS2.0",
            delim=b"\\",
            data_offsets_in_text=False,
        ),
    )
    yield (
        "fcs32_mixed_types",
        fcsbuild.build(
            [
                *fcsbuild.params(["A", "B"], ["32", "16"]),
                ("$TOT", "2"),
                ("$DATATYPE", "F"),
                ("$P2DATATYPE", "I"),
                ("$BYTEORD", "1,2,3,4"),
            ],
            np.array([1.5], "<f4").tobytes() + b"\x07\x00" + np.array([2.5], "<f4").tobytes() + b"\x09\x00",
            version="FCS3.2",
        ),
    )
    yield "supplemental_text", _with_stext()
    yield "two_datasets", _two_datasets()


def _with_stext() -> bytes:
    """A file whose supplemental TEXT (after DATA) holds one more keyword."""
    stext = b"|$COM|supplemental|"

    def build(start: int) -> bytes:
        kws = [
            *fcsbuild.params(["A", "B"], ["16", "16"]),
            ("$TOT", "2"),
            ("$DATATYPE", "I"),
            ("$BYTEORD", "1,2"),
            ("$BEGINSTEXT", f"{start:08d}"),
            ("$ENDSTEXT", f"{start + len(stext) - 1:08d}"),
        ]
        return fcsbuild.build(kws, bytes(range(8)), version="FCS3.0")

    return build(len(build(0))) + stext


def _two_datasets() -> bytes:
    def one(nextdata: int, values: bytes) -> bytes:
        kws = [
            *fcsbuild.params(["A", "B"], ["16", "16"]),
            ("$TOT", str(len(values) // 4)),
            ("$DATATYPE", "I"),
            ("$BYTEORD", "1,2"),
            ("$NEXTDATA", f"{nextdata:08d}"),
        ]
        return fcsbuild.build(kws, values, version="FCS3.0")

    first_len = len(one(0, bytes(8)))
    return one(first_len, bytes(8)) + one(0, bytes(range(12)))


def gatingml_seeds(shared: Path | None) -> Iterator[tuple[str, bytes]]:
    fsc, ssc = Dimension("FSC-A"), Dimension("SSC-A")
    cd38_pe = Dimension("CD38", "FCS", Logicle())
    strategy = cd38.GatingStrategy()
    strategy.add(RectangleGate("cells", [fsc, ssc], [10.0, None], [900.0, 800.0]))
    strategy.add(PolygonGate("poly", [fsc, cd38_pe], [[0, 0], [1, 0.5], [0.5, 1]]), parent="cells")
    strategy.add(EllipsoidGate("ell", [fsc, ssc], [100, 100], [[10, 1], [1, 10]], 4.0))
    strategy.add(BooleanGate("both", "and", ["poly", ("ell", True)]))
    yield "built", strategy.to_gatingml().encode()
    if shared is None:
        return
    for path in sorted((shared / "gatingml2" / "gml").glob("*.xml")):
        try:
            yield path.stem, cd38.GatingStrategy.from_gatingml(path).to_gatingml().encode()
        except cd38.Cd38Error:
            continue  # documents cd38 refuses are not seeds of its own output


def _shared() -> Path | None:
    root = Path(os.environ.get("CD38_TEST_DATA", HERE.parent.parent / "shared" / "data"))
    return root if root.is_dir() else None


def main() -> None:
    out = HERE / "corpus"
    for name in ("fcs_read", "gatingml"):
        (out / name).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = list(fcs_seeds(Path(tmp)))
    for name, blob in seeds:
        (out / "fcs_read" / f"seed_{name}.fcs").write_bytes(blob)
    xml = list(gatingml_seeds(_shared()))
    for name, blob in xml:
        (out / "gatingml" / f"seed_{name}.xml").write_bytes(blob)
    print(f"wrote {len(seeds)} FCS and {len(xml)} Gating-ML seeds under {out}")


if __name__ == "__main__":
    main()
