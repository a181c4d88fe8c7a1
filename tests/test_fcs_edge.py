"""Unusual layouts the standard allows, and broken or hostile files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import cd38
from fcsbuild import build, params


def _read(b: bytes, **kw: object) -> cd38.Sample:
    return cd38.read_fcs(b, **kw)  # type: ignore[arg-type]


def test_bit_packed_10_bit_integers() -> None:
    values = [[1, 1023, 512], [0, 5, 1000], [77, 300, 2]]
    bits = "".join(f"{v:010b}" for row in values for v in row)
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    kws = [
        ("$TOT", "3"),
        ("$DATATYPE", "I"),
        ("$BYTEORD", "4,3,2,1"),
        ("$MODE", "L"),
        *params(["A", "B", "C"], ["10", "10", "10"]),
    ]
    s = _read(build(kws, data, version="FCS2.0"))
    np.testing.assert_array_equal(s.to_numpy(), values)
    assert [r.code for r in s.repairs] == ["bit_packed_data"]


def test_padded_12_bit_integers_with_flag_bits_masked() -> None:
    # $PnB 12 stored in 16-bit words, with a flag bit above the 12-bit range.
    raw = [0x8000 | 4000, 17, 0x8000 | 1, 4095]
    data = struct.pack("<4H", *raw)
    kws = [
        ("$TOT", "2"),
        ("$DATATYPE", "I"),
        ("$BYTEORD", "1,2,3,4"),
        ("$MODE", "L"),
        *params(["A", "B"], ["12", "12"], ["4096", "4096"]),
    ]
    s = _read(build(kws, data))
    np.testing.assert_array_equal(s.to_numpy(), [[4000, 17], [1, 4095]])


def test_delimited_ascii() -> None:
    data = b"1 2.5,3\r\n4\t5e2 -6\n"
    kws = [("$TOT", "2"), ("$DATATYPE", "A"), ("$MODE", "L"), *params(["A", "B", "C"], ["*"] * 3)]
    s = _read(build(kws, data))
    np.testing.assert_array_equal(s.to_numpy(), [[1, 2.5, 3], [4, 500, -6]])


def test_fixed_ascii_and_its_errors() -> None:
    kws = [("$TOT", "2"), ("$DATATYPE", "A"), ("$MODE", "L"), *params(["A", "B"], ["3", "4"])]
    s = _read(build(kws, b" 12 345  7  -8"))
    np.testing.assert_array_equal(s.to_numpy(), [[12, 345], [7, -8]])
    with pytest.raises(cd38.FCSError, match="not a number"):
        _read(build(kws, b" 1x 345  7  -8"))


def test_fcs32_mixed_per_channel_datatypes() -> None:
    rows = [(7, 1.5, 2.25), (65535, -3.0, 1e300)]
    data = b"".join(struct.pack("<Hfd", *r) for r in rows)
    kws = [
        ("$TOT", "2"),
        ("$DATATYPE", "F"),
        ("$BYTEORD", "1,2,3,4"),
        ("$MODE", "L"),
        *params(["I16", "F32", "F64"], ["16", "32", "64"], ["65536", "1", "1"]),
        ("$P1DATATYPE", "I"),
        ("$P3DATATYPE", "D"),
    ]
    s = _read(build(kws, data, version="FCS3.2"))
    assert s.datatypes == ["I", "F", "D"]
    assert s.to_numpy().dtype == np.float64
    np.testing.assert_array_equal(s.to_numpy(), rows)


def test_old_mixed_byte_order() -> None:
    v = 0x01020304
    stored = bytes([0x02, 0x01, 0x04, 0x03])  # BYTEORD 3,4,1,2
    kws = [
        ("$TOT", "1"),
        ("$DATATYPE", "I"),
        ("$BYTEORD", "3,4,1,2"),
        ("$MODE", "L"),
        *params(["A"], ["32"], ["4294967296"]),
    ]
    assert _read(build(kws, stored)).to_numpy()[0, 0] == v


def test_scale_values_log_gain_time() -> None:
    data = struct.pack(">3H", 512, 100, 50)
    kws = [
        ("$TOT", "1"),
        ("$DATATYPE", "I"),
        ("$BYTEORD", "4,3,2,1"),
        ("$MODE", "L"),
        ("$TIMESTEP", "0.5"),
        *params(["FL1", "FSC", "Time"], ["16", "16", "16"]),
        ("$P1E", "4,0"),
        ("$P2G", "4"),
        ("$P3G", "10"),
    ]
    kws = [(k, v) for k, v in kws if (k, v) not in {("$P1E", "0,0")}]
    s = _read(build(kws, data))
    np.testing.assert_allclose(s.to_numpy()[0], [10 ** (4 * 512 / 1024), 25.0, 25.0], rtol=1e-15)
    np.testing.assert_array_equal(s.raw_numpy()[0], [512, 100, 50])
    assert s.time_channel == "Time"


def test_histogram_mode_is_refused() -> None:
    kws = [("$TOT", "1"), ("$DATATYPE", "I"), ("$BYTEORD", "1,2"), ("$MODE", "C"), *params(["A"], ["16"])]
    with pytest.raises(cd38.FCSError, match="not supported"):
        _read(build(kws, b"\x01\x00"))


def _valid(tmp_path: Path, n: int = 50) -> tuple[Path, bytes]:
    rng = np.random.default_rng(1)
    p = cd38.write_fcs(tmp_path / "v.fcs", rng.normal(size=(n, 3)), ["A", "B", "C"], keywords={"$CYT": "x"})
    return p, p.read_bytes()


def test_truncation_anywhere_is_a_clean_error(tmp_path: Path) -> None:
    _, good = _valid(tmp_path)
    for cut in range(0, len(good) - 1, 7):
        with pytest.raises(cd38.FCSError):
            _read(good[:cut])


def test_error_names_the_file(tmp_path: Path) -> None:
    _, good = _valid(tmp_path)
    bad = tmp_path / "truncated.fcs"
    bad.write_bytes(good[: len(good) - 10])
    with pytest.raises(cd38.FCSError, match=r"truncated\.fcs.*DATA"):
        cd38.read_fcs(bad)
    with pytest.raises(FileNotFoundError, match=r"nope\.fcs"):
        cd38.read_fcs(tmp_path / "nope.fcs")
    with pytest.raises(IsADirectoryError):
        cd38.read_fcs(tmp_path)
    empty = tmp_path / "empty.fcs"
    empty.write_bytes(b"")
    with pytest.raises(cd38.FCSError, match="empty"):
        cd38.read_fcs(empty)
    with pytest.raises(cd38.FCSError, match="not an FCS file"):
        _read(b"GIF89a" + b"\0" * 100)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("$PAR", "1000000000", r"\$PAR"),
        ("$TOT", "99999999999999", "needs"),
        ("$TOT", "-5", "not a non-negative integer"),
        ("$P1B", "0", "outside"),
        ("$P1B", "65", "outside"),
        ("$P1B", "x", "not an integer"),
        ("$BYTEORD", "1,1,2,3", "not a byte order"),
        ("$DATATYPE", "Q", "unknown data type"),
    ],
)
def test_hostile_sizes(key: str, value: str, match: str) -> None:
    kws = [("$TOT", "1"), ("$DATATYPE", "I"), ("$BYTEORD", "1,2"), ("$MODE", "L"), *params(["A"], ["16"])]
    kws = [(k, value if k == key else v) for k, v in kws]
    with pytest.raises(cd38.FCSError, match=match):
        _read(build(kws, b"\x01\x00"))


def test_repeated_keywords() -> None:
    base = [("$TOT", "1"), ("$DATATYPE", "I"), ("$BYTEORD", "1,2"), ("$MODE", "L"), *params(["A"], ["16"])]
    with pytest.raises(cd38.FCSError, match="conflicting"):
        _read(build([*base, ("$TOT", "2")], b"\x01\x00"))
    s = _read(build([*base, ("$CYT", "a"), ("$CYT", "b")], b"\x01\x00"))
    assert s.keywords["$CYT"] == "a"
    assert [r.code for r in s.repairs] == ["duplicate_keyword"]
    same = _read(build([*base, ("$TOT", "1")], b"\x01\x00"))
    assert not same.repairs


def test_offsets_beyond_4gib_in_a_sparse_file(tmp_path: Path) -> None:
    start = 4_500_000_000
    kws = [("$TOT", "2"), ("$DATATYPE", "F"), ("$BYTEORD", "1,2,3,4"), ("$MODE", "L"), *params(["A"], ["32"])]
    # The offsets live in TEXT only; the HEADER says 0,0 as FCS 3.x requires.
    text_kws = [("$BEGINDATA", str(start)), ("$ENDDATA", str(start + 7)), *kws]
    blob = build(text_kws, b"", data_offsets_in_text=False, header_data=(0, 0))
    path = tmp_path / "sparse.fcs"
    with path.open("wb") as f:
        f.write(blob)
        f.seek(start)
        f.write(struct.pack("<2f", 1.5, -2.0))
    s = cd38.read_fcs(path, strict=True)
    np.testing.assert_array_equal(s.to_numpy()[:, 0], [1.5, -2.0])


def test_latin1_text() -> None:
    kws = [("$TOT", "1"), ("$DATATYPE", "I"), ("$BYTEORD", "1,2"), ("$MODE", "L"), *params(["A"], ["16"])]
    blob = build([*kws, ("$OP", "J\udce9r\udcf4me")], b"\x01\x00", version="FCS2.0")
    s = _read(blob)
    assert s.keywords["$OP"] == "Jérôme"
    assert s.text_encoding == "latin-1"
    assert not s.repairs  # FCS 2.0 never promised UTF-8


def test_nan_inf_zero_events(tmp_path: Path) -> None:
    data = np.array([[np.nan, np.inf], [-np.inf, 0.0]])
    s = cd38.read_fcs(cd38.write_fcs(tmp_path / "n.fcs", data, ["A", "B"], datatype="D"))
    np.testing.assert_array_equal(s.to_numpy(), data)
    z = cd38.read_fcs(cd38.write_fcs(tmp_path / "z.fcs", np.zeros((0, 2)), ["A", "B"]))
    assert z.n_events == 0 and z.to_numpy().shape == (0, 2)


def test_off_by_one_end_is_repaired_or_refused() -> None:
    kws = [("$TOT", "1"), ("$DATATYPE", "I"), ("$BYTEORD", "1,2"), ("$MODE", "L"), *params(["A"], ["16"])]
    blob = build(kws, b"\x05\x00\x00")  # one byte more than $TOT needs
    s = _read(blob)
    assert s.to_numpy()[0, 0] == 5
    assert [r.code for r in s.repairs] == ["data_longer_than_needed"]
    with pytest.raises(cd38.FCSError, match="strict"):
        _read(blob, strict=True)


def test_bad_arguments(tmp_path: Path) -> None:
    p, _ = _valid(tmp_path)
    with pytest.raises(cd38.InvalidArgumentError):
        cd38.read_fcs(p, dataset=-1)
    with pytest.raises(cd38.InvalidArgumentError, match="1 data set"):
        cd38.read_fcs(p, dataset=1)
    with pytest.raises(cd38.InvalidArgumentError, match="columns"):
        cd38.write_fcs(tmp_path / "x.fcs", np.zeros((2, 3)), ["A", "B"])
    with pytest.raises(cd38.InvalidArgumentError, match="empty value"):
        cd38.write_fcs(tmp_path / "x.fcs", np.zeros((2, 1)), ["A"], keywords={"$OP": ""})
    with pytest.raises(cd38.InvalidArgumentError, match="integer"):
        cd38.write_fcs(tmp_path / "x.fcs", np.full((2, 1), 0.5), ["A"], datatype="I")
    assert not (tmp_path / "x.fcs").exists()  # nothing half-written
    assert [q.name for q in tmp_path.iterdir()] == ["v.fcs"]


def _base_chain(a: np.ndarray) -> list[object]:
    out: list[object] = []
    b: object = a.base
    while b is not None:
        out.append(b)
        b = getattr(b, "base", None) if isinstance(b, np.ndarray) else getattr(b, "obj", None)
    return out


def test_little_endian_float32_is_a_zero_copy_view(tmp_path: Path) -> None:
    import mmap

    d = np.arange(12, dtype=np.float32).reshape(4, 3)
    le = cd38.read_fcs(cd38.write_fcs(tmp_path / "le.fcs", d, ["A", "B", "C"]))
    ev = le.to_numpy()
    np.testing.assert_array_equal(ev, d)
    assert any(isinstance(b, mmap.mmap) for b in _base_chain(ev))
    assert not ev.flags.writeable
    be = cd38.read_fcs(cd38.write_fcs(tmp_path / "be.fcs", d, ["A", "B", "C"], byteorder="big"))
    assert not any(isinstance(b, mmap.mmap) for b in _base_chain(be.to_numpy()))
    np.testing.assert_array_equal(be.to_numpy(), d)
    # A timestep on the time channel: the sample still views the stored values
    # (the kernels scale as they read); the scale values are decoded on demand.
    t = cd38.read_fcs(cd38.write_fcs(tmp_path / "t.fcs", d, ["A", "B", "Time"], keywords={"$TIMESTEP": "2"}))
    assert t._stored is not None and t._events is None
    assert any(isinstance(b, mmap.mmap) for b in _base_chain(t._kernel_events()[0]))
    assert t._kernel_events()[1] == [None, None, ("timestep", [2.0])]
    np.testing.assert_array_equal(t.raw_numpy(), d)
    np.testing.assert_array_equal(t.to_numpy()[:, 2], d[:, 2] * 2)
    np.testing.assert_array_equal(t.to_numpy()[:, :2], d[:, :2])
    assert t._kernel_events()[1] == []  # decoded now: kernels read the scale values


def test_unaligned_float32_data_is_decoded_not_viewed() -> None:
    # DATA at an offset that is not a multiple of 4: a view would be an unaligned
    # float slice for the kernels, so the reader decodes instead.
    vals = np.array([[1.5, -2.0], [3.25, 4.0]], dtype="<f4")
    kws = [
        ("$TOT", "2"),
        ("$DATATYPE", "F"),
        ("$BYTEORD", "1,2,3,4"),
        ("$MODE", "L"),
        *params(["A", "B"], ["32", "32"]),
        ("$PAD", "x"),
    ]
    for pad in range(4):
        blob = build([*kws[:-1], ("$PAD", "x" * (pad + 1))], vals.tobytes())
        s = _read(blob)
        ev = s.to_numpy()
        assert ev.flags.aligned
        np.testing.assert_array_equal(ev, vals)
        st = cd38.GatingStrategy()
        from cd38.gates import RectangleGate

        st.add(RectangleGate("pos", [cd38.Dimension("A")], [0.0], [None]))
        assert st.gate(s).count("pos") == 2


def test_kernels_on_a_scaled_view_equal_the_decoded_values(tmp_path: Path) -> None:
    # Time x $TIMESTEP on a zero-copy view: gating and statistics scale as they
    # read, and must agree exactly with the same kernels on the decoded matrix.
    from cd38.gates import RectangleGate

    rng = np.random.default_rng(11)
    d = rng.normal(500, 200, (30_000, 3)).astype(np.float32)
    d[:, 2] = np.sort(rng.uniform(0, 90_000, 30_000)).astype(np.float32)
    d[::997, 0] = np.nan
    path = cd38.write_fcs(tmp_path / "t.fcs", d, ["A", "B", "Time"], keywords={"$TIMESTEP": "0.013"})
    st = cd38.GatingStrategy()
    st.add(RectangleGate("early", [cd38.Dimension("Time")], [None], [400.0]))
    st.add(
        RectangleGate("pos", [cd38.Dimension("B"), cd38.Dimension("Time")], [450.0, 50.0], [None, None]),
        "early",
    )
    view = cd38.read_fcs(path)
    decoded = cd38.read_fcs(path)
    decoded.to_numpy()  # decode now: the kernels then read the scale values
    assert view._kernel_events()[1] and not decoded._kernel_events()[1]
    rv, rd = st.gate(view), st.gate(decoded)
    for pop in ("early", "pos"):
        np.testing.assert_array_equal(rv.indices(pop), rd.indices(pop))
        assert 0 < rv.count(pop) < 30_000
    want = rd.stats(stats=("median", "mean", "sd", "min", "max"), percentiles=(5, 95))
    got = rv.stats(stats=("median", "mean", "sd", "min", "max"), percentiles=(5, 95))
    np.testing.assert_array_equal(got["value"].to_numpy(), want["value"].to_numpy())
    assert np.isfinite(got["value"].to_numpy()).sum() > 20
    assert view._events is None  # nothing was decoded for the view-backed sample
