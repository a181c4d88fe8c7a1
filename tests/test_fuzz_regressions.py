"""Inputs found by the fuzzers (fuzz/README.md), kept as regression tests.

Gating-ML: any exception other than a cd38.Cd38Error is a bug. FCS: the Rust
fuzz target's findings have Rust regression tests (rust/src/fcs/hostile_tests.rs);
the same inputs are read here through the Python API, where a Rust panic would
surface as cd38.InternalError.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import cd38
from conftest import REPO
from fcsbuild import build, params

GML = (
    'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
    'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"'
)


def _doc(declaration: str) -> bytes:
    return (
        f'{declaration}<gating:Gating-ML {GML}><gating:RectangleGate gating:id="R">'
        '<gating:dimension gating:min="1"><data-type:fcs-dimension data-type:name="A"/>'
        "</gating:dimension></gating:RectangleGate></gating:Gating-ML>"
    ).encode()


@pytest.mark.parametrize(
    "encoding",
    [
        "UTF-4",  # atheris, first run: LookupError escaped from ElementTree
        "mbcs",
        "rot13",  # a codec that is not a text encoding
        "hex",
        "utf-32",  # multi-byte: ValueError from expat
        "idna",  # UnicodeError
    ],
)
def test_xml_declaring_an_unusable_encoding_is_a_gatingml_error(encoding: str) -> None:
    with pytest.raises(cd38.GatingMLError, match="encoding"):
        cd38.GatingStrategy.from_gatingml(_doc(f'<?xml version="1.0" encoding="{encoding}"?>'))


def test_the_same_document_in_a_usable_encoding_reads() -> None:
    s = cd38.GatingStrategy.from_gatingml(_doc('<?xml version="1.0" encoding="ISO-8859-1"?>'))
    assert s.population_ids() == ["R"]


@pytest.mark.parametrize(
    "name,keywords,data",
    [
        # $ENDDATA = u64::MAX with $BEGINDATA = 0: the declared size overflowed.
        ("enddata_u64_max", [("$TOT", "2")], b"\x01\x02"),
        # Delimited ASCII with an absurd $TOT sized the output by the lie.
        ("delimited_huge_tot", None, b"1 2 3 4"),
    ],
)
def test_hostile_fcs_inputs_end_in_fcs_error_or_read(
    name: str, keywords: list[tuple[str, str]] | None, data: bytes
) -> None:
    if keywords is None:
        kws = [*params(["A", "B"], ["*", "*"]), ("$TOT", "10000000000000"), ("$DATATYPE", "A")]
    else:
        kws = [*params(["A"], ["8"]), ("$DATATYPE", "I"), ("$BYTEORD", "1"), *keywords]
    blob = build(kws, data)
    if name == "enddata_u64_max":
        start = blob.index(b"$BEGINDATA|") + 11
        blob = blob[:start] + b"0" + blob[blob.index(b"|", start) :]
        start = blob.index(b"$ENDDATA|") + 9
        blob = blob[:start] + b"18446744073709551615" + blob[blob.index(b"|", start) :]
    if name == "delimited_huge_tot":
        with pytest.raises(cd38.FCSError, match="too few"):
            cd38.read_fcs(blob)
        return
    try:  # reading anyway is fine; any error but FCSError (a caught panic) is not
        cd38.read_fcs(blob).to_numpy()
    except cd38.FCSError as e:
        assert "overflow" not in str(e).lower()


def test_fuzz_seeds_are_valid_files(tmp_path: Path) -> None:
    """The seed corpora (fuzz/make_corpus.py) must stay valid, or fuzzing starts from noise."""
    spec = importlib.util.spec_from_file_location("make_corpus", REPO / "fuzz" / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    seeds = dict(corpus.fcs_seeds(tmp_path))
    assert len(seeds) >= 14
    for name, blob in seeds.items():
        datasets = cd38.read_fcs_datasets(_write(tmp_path / f"{name}.fcs", blob))
        assert all(not s.repairs or name == "packed_10bit" for s in datasets), name
    xml = dict(corpus.gatingml_seeds(None))
    assert cd38.GatingStrategy.from_gatingml(xml["built"]).population_ids()


def _write(path: Path, blob: bytes) -> Path:
    path.write_bytes(blob)
    return path
