"""Writer/reader round trips (hypothesis), and FlowIO reading what cd38 writes."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cd38

# Keys and values may contain any of the delimiters the writer can choose from,
# so delimiter choice and escaping are exercised.
DELIMS = "|/\\!~^\x0c"
VALUE_CHARS = string.ascii_letters + string.digits + DELIMS + " äµ™\t,.:;'\"*"

keywords = st.lists(
    st.tuples(
        st.text(string.ascii_uppercase + string.digits + "_-" + DELIMS, min_size=1, max_size=10).map(
            lambda k: "K" + k + "Z"
        ),
        st.text(VALUE_CHARS, min_size=1, max_size=20),
    ),
    max_size=6,
    unique_by=lambda kv: kv[0].upper(),
)


@st.composite
def fcs_case(draw: st.DrawFn) -> tuple[np.ndarray, str, list[int], str]:
    datatype = draw(st.sampled_from(["F", "D", "I", "A"]))
    n_ch = draw(st.integers(1, 6))
    n_ev = draw(st.integers(0, 40))
    if datatype == "I":
        bits = [draw(st.sampled_from([8, 10, 12, 16, 24, 32, 40, 64])) for _ in range(n_ch)]
        cols = [
            draw(st.lists(st.integers(0, min(2**b - 1, 2**53)), min_size=n_ev, max_size=n_ev)) for b in bits
        ]
        data = np.array(cols, dtype=np.float64).T.reshape(n_ev, n_ch)
    elif datatype == "A":
        bits = [draw(st.integers(8, 20)) for _ in range(n_ch)]
        data = np.array(
            draw(st.lists(st.integers(-(10**6), 10**6), min_size=n_ev * n_ch, max_size=n_ev * n_ch)),
            dtype=np.float64,
        ).reshape(n_ev, n_ch)
    else:
        bits = [32 if datatype == "F" else 64] * n_ch
        floats = st.floats(allow_nan=False, allow_infinity=False, width=32 if datatype == "F" else 64)
        data = np.array(
            draw(st.lists(floats, min_size=n_ev * n_ch, max_size=n_ev * n_ch)), dtype=np.float64
        ).reshape(n_ev, n_ch)
    widths = {(b + 7) // 8 for b in bits}
    orders = ["little", "big"]
    if datatype in ("F", "I") and widths == {4}:
        orders.append("3,4,1,2")
    order = draw(st.sampled_from(orders))
    return data, datatype, bits, order


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=fcs_case(), kws=keywords)
def test_round_trip(tmp_path: Path, case: tuple[np.ndarray, str, list[int], str], kws: list) -> None:
    data, datatype, bits, order = case
    n_ch = data.shape[1]
    channels = [f"ch{i}" for i in range(n_ch)]
    markers = [f"CD{i} PE" if i % 2 else "" for i in range(n_ch)]
    path = tmp_path / "rt.fcs"
    cd38.write_fcs(path, data, channels, markers, kws, datatype, bits=bits, byteorder=order)
    s = cd38.read_fcs(path, strict=True)
    assert s.channels == channels
    assert s.markers == markers
    assert s.n_events == data.shape[0]
    assert s.version == "FCS3.1"
    assert not s.repairs
    expected = data.astype(np.float32) if datatype == "F" else data
    np.testing.assert_array_equal(s.to_numpy(), expected)
    for k, v in kws:
        assert s.keywords[k] == v
    # The same bytes parse identically from memory.
    m = cd38.read_fcs(path.read_bytes())
    np.testing.assert_array_equal(m.to_numpy(), s.to_numpy())


def test_flowio_reads_what_we_write(tmp_path: Path) -> None:
    flowio = pytest.importorskip("flowio")
    rng = np.random.default_rng(7)
    for datatype, bits in [("F", 32), ("D", 64), ("I", 16), ("I", 32)]:
        if datatype == "I":
            data = rng.integers(0, 2**bits, size=(500, 5)).astype(np.float64)
        else:
            data = rng.normal(1000, 300, size=(500, 5))
        path = tmp_path / f"w_{datatype}{bits}.fcs"
        cd38.write_fcs(
            path,
            data,
            [f"P{i}" for i in range(5)],
            keywords={"$CYT": "cd38 test", "$FIL": "a/b"},
            datatype=datatype,
            bits=bits,
        )
        fd = flowio.FlowData(str(path))
        ref = np.asarray(fd.as_array(preprocess=False), dtype=np.float64).reshape(500, 5)
        expected = data.astype(np.float32).astype(np.float64) if datatype == "F" else data
        np.testing.assert_array_equal(ref, expected)
        assert fd.text["cyt"] == "cd38 test"
        assert fd.text["fil"] == "a/b"


def test_round_trip_polars_and_sample(tmp_path: Path) -> None:
    import polars as pl

    df = pl.DataFrame({"FSC-A": [1.0, 2.0], "CD38": [3.0, 4.0]})
    p = cd38.write_fcs(tmp_path / "df.fcs", df)
    s = cd38.read_fcs(p)
    assert s.channels == ["FSC-A", "CD38"]
    assert s.to_polars().equals(df.cast(pl.Float32))


def test_large_file_offsets_past_8_digits(tmp_path: Path) -> None:
    # 100,000,016 bytes of DATA: the HEADER cannot hold the offsets.
    n_ev, n_ch = 1_562_501, 16
    data = np.zeros((n_ev, n_ch), dtype=np.float32)
    data[:, 0] = np.arange(n_ev, dtype=np.float32)
    path = tmp_path / "big.fcs"
    cd38.write_fcs(path, data, [f"c{i}" for i in range(n_ch)])
    assert path.stat().st_size > 99_999_999
    head = path.read_bytes()[:58]
    assert head[26:42] == b"       0       0"
    s = cd38.read_fcs(path, strict=True)
    assert s.n_events == n_ev
    np.testing.assert_array_equal(s.to_numpy()[:, 0], data[:, 0])
    assert int(s.keywords["$ENDDATA"]) > 99_999_999


def test_chunked_writer_equals_one_shot(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(0, 1000, (250_003, 4)).astype(np.float32)
    names = ["A", "B", "C", "D"]
    one = cd38.write_fcs(tmp_path / "one.fcs", data, names, keywords={"$CYT": "x"})
    with cd38.FCSWriter(tmp_path / "chunked.fcs", names, n_events=len(data), keywords={"$CYT": "x"}) as w:
        for start in range(0, len(data), 70_000):
            w.write(data[start : start + 70_000])
    assert (tmp_path / "chunked.fcs").read_bytes() == one.read_bytes()
    ints = rng.integers(0, 1000, (1000, 2)).astype(np.float64)
    with cd38.FCSWriter(tmp_path / "i.fcs", ["A", "B"], n_events=1000, datatype="I", bits=16) as w:
        w.write(ints)
    np.testing.assert_array_equal(cd38.read_fcs(tmp_path / "i.fcs").to_numpy(), ints)


def test_chunked_writer_refuses_wrong_counts_and_leaves_nothing(tmp_path: Path) -> None:
    too_many = cd38.FCSWriter(tmp_path / "x.fcs", ["A"], n_events=2)
    with pytest.raises(cd38.InvalidArgumentError, match="exceed"), too_many as w:
        w.write(np.zeros((3, 1)))
    too_few = cd38.FCSWriter(tmp_path / "y.fcs", ["A"], n_events=2)
    with pytest.raises(cd38.InvalidArgumentError, match="1 of the 2"), too_few as w:
        w.write(np.zeros((1, 1)))
    with pytest.raises(cd38.InvalidArgumentError, match="bits"):
        cd38.FCSWriter(tmp_path / "z.fcs", ["A"], n_events=2, datatype="I")
    assert list(tmp_path.iterdir()) == []
