"""cd38.anonymize: identical events, no removed keyword or value left in the bytes,
an audit record without the removed values, inputs untouched, outputs atomic."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cd38
from cd38 import _core
from cd38.anonymize import IDENTIFYING, subject_date_offset
from cd38.cli.anonymize_cmd import anonymize as anonymize_cmd
from conftest import shared_fcs_files

SHARED = shared_fcs_files()
needs_shared = pytest.mark.skipif(not SHARED, reason="shared FCS files not found (set CD38_TEST_DATA)")


def _events(path: Path) -> list[np.ndarray]:
    return [s.to_numpy() for s in cd38.read_fcs_datasets(path)]


def _data_bytes(path: Path) -> list[bytes]:
    blob = path.read_bytes()
    out = []
    for ds in _core.read_fcs_all(path, data="none"):
        s, e = ds.data_segment or (0, -1)
        out.append(blob[s : e + 1])
    return out


def _without_data(path: Path) -> bytes:
    """The file's bytes minus its DATA segments (where values of removed keywords
    could only appear by coincidence, and are the source's own bytes anyway)."""
    blob = path.read_bytes()
    segments = sorted(ds.data_segment for ds in _core.read_fcs_all(path, data="none") if ds.data_segment)
    parts, pos = [], 0
    for s, e in segments:
        parts.append(blob[pos:s])
        pos = e + 1
    return b"".join([*parts, blob[pos:]])


def _flowio_arrays(path: Path, **flags: bool) -> list[np.ndarray]:
    import flowio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(_core.read_fcs_all(path, data="none")) > 1:
            return [d.as_array(preprocess=False) for d in flowio.read_multiple_data_sets(str(path), **flags)]
        return [flowio.FlowData(str(path), **flags).as_array(preprocess=False)]


def _assert_no_leak(src: Path, dst: Path, audit: dict) -> None:
    """No removed keyword or value occurs in the output outside DATA (DATA is the
    source's, bit for bit), except a value a kept keyword legitimately repeats."""
    rest = _without_data(dst)
    src_kw = [dict(ds.keywords) for ds in _core.read_fcs_all(src, data="none")]
    out_kw = [dict(ds.keywords) for ds in _core.read_fcs_all(dst, data="none")]
    for rec, skw, okw in zip(audit["datasets"], src_kw, out_kw, strict=True):
        kept_text = "\n".join(f"{k}\n{v}" for k, v in okw.items())
        for key in rec["removed"]:
            assert key not in okw
            assert not any(k.upper() == key.upper() for k in okw)
            if not any(k.upper().startswith(key.upper()) for k in okw):
                assert key.encode() not in rest, key
            value = skw[key].strip()
            if len(value) >= 4 and value not in kept_text:
                enc = value.encode("utf-8", errors="surrogateescape")
                assert enc not in rest and value.encode("latin-1", errors="replace") not in rest, key


def _leaves(doc: object) -> list[str]:
    if isinstance(doc, dict):
        return [x for k, v in doc.items() for x in [str(k), *_leaves(v)]]
    if isinstance(doc, list):
        return [x for v in doc for x in _leaves(v)]
    return [str(doc)]


def _strip_names(text: str, names: list[str]) -> str:
    """The text without keyword names (which the audit lists on purpose)."""
    for n in names:
        text = text.replace(n, "\0")
    return text


@needs_shared
@pytest.mark.parametrize("src", SHARED, ids=[p.name for p in SHARED])
@pytest.mark.parametrize("policy", ["strict", "standard"])
def test_shared_files_keep_their_events_and_lose_identifiers(src: Path, policy: str, tmp_path: Path) -> None:
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    dst = tmp_path / "anon.fcs"
    res = cd38.anonymize(src, dst, policy=policy, date_shift_days=-40 if policy == "standard" else None)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # input untouched
    audit = json.loads(res.audit.read_text())
    assert audit["input"]["sha256"] == before == res.input_sha256
    assert audit["output"]["sha256"] == hashlib.sha256(dst.read_bytes()).hexdigest() == res.output_sha256

    # Identical event values (scale values, every data set) and identical DATA bytes.
    for a, b in zip(_events(src), _events(dst), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert _data_bytes(src) == _data_bytes(dst)
    # The output is clean: nothing left for tolerant reading to repair.
    for ds in _core.read_fcs_all(dst, data="none"):
        assert {c for c, _ in ds.repairs} <= {"timestep_not_numeric"}  # variable_int's own $TIMESTEP

    # An independent reader agrees, without any leniency flags.
    flags = {"ignore_offset_error": True, "ignore_offset_discrepancy": True}
    for a, b in zip(_flowio_arrays(src, **flags), _flowio_arrays(dst), strict=True):
        np.testing.assert_array_equal(a, b)

    _assert_no_leak(src, dst, audit)
    # The audit names what went, never what it was.
    src_values = {v.strip() for ds in _core.read_fcs_all(src, data="none") for k, v in ds.keywords}
    removed_values = {
        v.strip()
        for ds, rec in zip(_core.read_fcs_all(src, data="none"), audit["datasets"], strict=True)
        for k, v in ds.keywords
        if k in rec["removed"] and len(v.strip()) >= 4
    }
    names = sorted({k for ds in _core.read_fcs_all(src, data="none") for k, _ in ds.keywords}, key=len)
    leaves = [_strip_names(leaf, names[::-1]) for leaf in _leaves(audit)]
    assert not [v for v in removed_values if any(v in leaf for leaf in leaves)], "removed value in audit"
    if src.name in removed_values or src.name not in src_values:
        assert not any(src.name in leaf for leaf in leaves)
    present = {k.upper() for ds in _core.read_fcs_all(dst, data="none") for k, _ in ds.keywords}
    assert not present & (IDENTIFYING - {"$WELLID"})
    if policy == "strict":
        assert not present & {"$DATE", "$BTIM", "$ETIM"}


@needs_shared
def test_dates_shift_by_the_offset(tmp_path: Path) -> None:
    src = next(p for p in SHARED if p.name == "100715.fcs")
    date = cd38.read_fcs_metadata(src).keywords["$DATE"]
    res = cd38.anonymize(src, tmp_path / "a.fcs", date_shift_days=-40)
    shifted = cd38.read_fcs_metadata(res.output).keywords["$DATE"]
    from datetime import datetime, timedelta

    def parse(s: str) -> datetime:
        return datetime.strptime(s.strip().title(), "%d-%b-%Y")

    assert parse(shifted) == parse(date) - timedelta(days=40)
    assert res.shifted == ("$DATE",)
    assert date.encode() not in _without_data(res.output)


# -- generated files: properties -----------------------------------------------------

# Consonant runs: no kept keyword or value contains six in a row, so any
# occurrence in the output is a leak (hypothesis found "SPILLO" in $SPILLOVER).
_names = st.text(alphabet="BCDFGHJKLMNPQRSTVWXZ", min_size=6, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    secret=_names,
    n=st.integers(0, 40),
    policy=st.sampled_from(["strict", "standard"]),
    datatype=st.sampled_from(["F", "D", "I"]),
    delim_in_value=st.booleans(),
)
def test_generated_files_lose_every_identifier(
    tmp_path_factory: pytest.TempPathFactory,
    secret: str,
    n: int,
    policy: str,
    datatype: str,
    delim_in_value: bool,
) -> None:
    tmp = tmp_path_factory.mktemp("anon")
    rng = np.random.default_rng(n)
    data = rng.integers(0, 1000, (n, 3)).astype(float)
    ident = f"PATIENT-{secret}"
    keywords = {
        "$FIL": f"{ident}.fcs",
        "$SRC": ident,
        "$OP": f"Dr {secret}",
        "$COM": f"note|{ident}" if delim_in_value else ident,
        "$DATE": "05-MAR-2021",
        "$BTIM": "10:11:12",
        "PATIENT NAME": ident,
        "$PLATEID": f"plate {secret}",
        "$WELLID": "B07",
        "$SPILLOVER": "2,A,B,1,0.1,0.2,1",
        "$TIMESTEP": "0.01",
        "$CYT": "Aria",
    }
    src = cd38.write_fcs(tmp / "src.fcs", data, ["A", "B", "Time"], ["CD19", "CD38", ""], keywords, datatype)
    res = cd38.anonymize(src, tmp / "out.fcs", policy)
    blob = res.output.read_bytes()
    assert secret.encode() not in blob and b"05-MAR-2021" not in blob and b"10:11:12" not in blob
    out = cd38.read_fcs(res.output)
    np.testing.assert_array_equal(out.to_numpy(), cd38.read_fcs(src).to_numpy())
    assert out.keywords["$WELLID"] == "B07" and out.keywords["$CYT"] == "Aria"
    assert out.spillover is not None and out.markers == ["CD19", "CD38", ""]
    assert out.keywords["$ORIGINALITY"] == "NonDataModified"
    assert {"$FIL", "$SRC", "$OP", "$COM", "$DATE", "$BTIM", "PATIENT NAME", "$PLATEID"} <= set(res.removed)


_key = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_ 0123456789", min_size=1, max_size=12).map(
    lambda k: "V" + k.strip()
)
_value = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.dictionaries(_key, _value, min_size=1, max_size=8))
def test_kept_keywords_survive_any_bytes(
    tmp_path_factory: pytest.TempPathFactory, pairs: dict[str, str]
) -> None:
    """Whatever the values hold (delimiters, non-ASCII, spaces), kept ones read back unchanged."""
    tmp = tmp_path_factory.mktemp("kw")
    pairs = {k: v for k, v in pairs.items() if v.strip()}
    src = cd38.write_fcs(tmp / "s.fcs", np.ones((2, 1)), ["A"], keywords=pairs)
    res = cd38.anonymize(src, tmp / "o.fcs", "standard", keep=["V*"])
    before = cd38.read_fcs_metadata(src).keywords
    after = cd38.read_fcs_metadata(res.output).keywords
    for k in pairs:
        assert after[k] == before[k]
    assert not res.removed


def test_multi_dataset_file_round_trips(tmp_path: Path) -> None:
    """Two data sets chained by $NEXTDATA, the second with its TEXT after DATA."""
    import fcsbuild

    def one(nextdata: int, values: bytes, fil: str) -> bytes:
        kws = [
            *fcsbuild.params(["A", "B"], ["16", "16"]),
            ("$TOT", str(len(values) // 4)),
            ("$DATATYPE", "I"),
            ("$BYTEORD", "1,2"),
            ("$FIL", fil),
            ("$NEXTDATA", f"{nextdata:08d}"),
        ]
        return fcsbuild.build(kws, values, version="FCS3.0")

    first = one(0, bytes(range(8)), "first-secret")
    blob = one(len(first), bytes(range(8)), "first-secret") + one(0, bytes(range(20, 32)), "second-secret")
    src = tmp_path / "two.fcs"
    src.write_bytes(blob)
    res = cd38.anonymize(src, tmp_path / "out.fcs")
    out = res.output.read_bytes()
    assert b"secret" not in out
    a, b = _events(src), _events(res.output)
    assert len(a) == len(b) == 2
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_big_offsets_go_to_text_for_fcs3(tmp_path: Path) -> None:
    """FCS 3.x: DATA past byte 99,999,999 is located by TEXT alone, HEADER holds zeros."""
    n = 100_000_000 // 16 + 10
    src = tmp_path / "big.fcs"
    with cd38.FCSWriter(src, ["A", "B", "C", "D"], n_events=n, keywords={"$OP": "someone"}) as w:
        w.write(np.zeros((n, 4), np.float32))
    res = cd38.anonymize(src, tmp_path / "out.fcs")
    head = res.output.read_bytes()[:58]
    assert head[26:42] == b"       0       0"
    out = cd38.read_fcs_metadata(res.output)
    assert out.n_events == n and "$OP" not in out.keywords
    assert int(out.keywords["$ENDDATA"]) > 99_999_999


# -- refusals and safety -------------------------------------------------------------


def _small(tmp_path: Path) -> Path:
    return cd38.write_fcs(tmp_path / "s.fcs", np.ones((3, 2)), ["A", "B"], keywords={"$OP": "x y"})


def test_refuses_to_overwrite_and_leaves_nothing_behind(tmp_path: Path) -> None:
    src = _small(tmp_path)
    dst = tmp_path / "out.fcs"
    dst.write_bytes(b"keep me")
    with pytest.raises(cd38.InvalidArgumentError, match="refusing to overwrite"):
        cd38.anonymize(src, dst)
    assert dst.read_bytes() == b"keep me"
    with pytest.raises(cd38.InvalidArgumentError):
        cd38.anonymize(src, src)
    (tmp_path / "b.fcs.audit.json").write_text("{}")
    with pytest.raises(cd38.InvalidArgumentError):
        cd38.anonymize(src, tmp_path / "b.fcs")
    assert not (tmp_path / "b.fcs").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.fcs.audit.json", "out.fcs", "s.fcs"]


def test_refuses_broken_and_unsupported_files(tmp_path: Path) -> None:
    src = _small(tmp_path)
    bad = tmp_path / "bad.fcs"
    bad.write_bytes(src.read_bytes()[:100])
    with pytest.raises(cd38.FCSError):
        cd38.anonymize(bad, tmp_path / "o1.fcs")
    old = tmp_path / "old.fcs"
    old.write_bytes(b"FCS1.0" + src.read_bytes()[6:])
    with pytest.raises(cd38.FCSError, match="not supported"):
        cd38.anonymize(old, tmp_path / "o2.fcs")
    assert not list(tmp_path.glob("o[12]*"))
    assert not list(tmp_path.glob(".*tmp"))


def test_patterns_and_protected_keywords(tmp_path: Path) -> None:
    src = cd38.write_fcs(
        tmp_path / "s.fcs",
        np.ones((3, 2)),
        ["A", "B"],
        keywords={"CREATOR": "BD FACSDiva", "$P1V": "400", "$CYT": "Aria", "LASER1NAME": "Blue"},
    )
    res = cd38.anonymize(src, tmp_path / "o.fcs", "standard", remove=["$p*v", "cyt*"], keep=["LASER*"])
    kw = cd38.read_fcs_metadata(res.output).keywords
    assert "$P1V" not in kw and "LASER1NAME" in kw and "CREATOR" not in kw and "$CYT" in kw
    with pytest.raises(cd38.InvalidArgumentError, match="depend"):
        cd38.anonymize(src, tmp_path / "o2.fcs", remove=["$P*B"])
    with pytest.raises(cd38.InvalidArgumentError, match="policy"):
        cd38.anonymize(src, tmp_path / "o3.fcs", policy="lenient")


def test_subject_date_offset_is_keyed_and_stable() -> None:
    a = subject_date_offset("subject-1", "secret")
    assert a == subject_date_offset("subject-1", "secret") and a != 0 and -365 <= a <= 365
    offsets = {subject_date_offset(f"s{i}", "secret", max_days=30) for i in range(200)}
    assert offsets <= set(range(-30, 0)) | set(range(1, 31)) and len(offsets) > 30
    assert subject_date_offset("subject-1", "other") != a or subject_date_offset("s2", "other") != (
        subject_date_offset("s2", "secret")
    )
    with pytest.raises(cd38.InvalidArgumentError):
        subject_date_offset("x", "")


# -- the command ---------------------------------------------------------------------


def test_command_writes_every_file_and_fails_per_file(tmp_path: Path) -> None:
    good = _small(tmp_path)
    broken = tmp_path / "broken.fcs"
    broken.write_bytes(b"FCS3.1  garbage")
    out = tmp_path / "out"
    r = CliRunner().invoke(anonymize_cmd, [str(good), str(broken), "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert (out / "s.fcs").is_file() and (out / "s.fcs.audit.json").is_file()
    assert "broken.fcs" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(anonymize_cmd, [str(good), "--out", str(out)])
    assert r.exit_code == 1 and "refusing to overwrite" in r.output
    r = CliRunner().invoke(
        anonymize_cmd, [str(good), "--out", str(tmp_path / "o2"), "--rename", "--shift-days", "7"]
    )
    assert r.exit_code == 0, r.output
    digest = hashlib.sha256(good.read_bytes()).hexdigest()[:16]
    assert (tmp_path / "o2" / f"{digest}.fcs").is_file()
    r = CliRunner().invoke(anonymize_cmd, [str(good), "--out", str(tmp_path / "o3"), "--policy", "nope"])
    assert r.exit_code == 2


def test_command_per_subject_offset_comes_from_a_secret_in_the_environment(tmp_path: Path) -> None:
    src = cd38.write_fcs(tmp_path / "s.fcs", np.ones((2, 1)), ["A"], keywords={"$DATE": "01-JAN-2020"})
    args = [str(src), "--out", str(tmp_path / "o"), "--subject", "P7", "--secret-env", "CD38_TEST_SECRET"]
    r = CliRunner().invoke(anonymize_cmd, args, env={"CD38_TEST_SECRET": "k3y"})
    assert r.exit_code == 0, r.output
    days = subject_date_offset("P7", "k3y")
    from datetime import date, timedelta

    want = date(2020, 1, 1) + timedelta(days=days)
    got = cd38.read_fcs_metadata(tmp_path / "o" / "s.fcs").keywords["$DATE"]
    assert got == f"{want.day:02d}-{want.strftime('%b').upper()}-{want.year}"
    r = CliRunner().invoke(anonymize_cmd, [*args[:3], "--subject", "P7"], env={})
    assert r.exit_code == 2
    r = CliRunner().invoke(anonymize_cmd, [*args, "--shift-days", "3"], env={"CD38_TEST_SECRET": "k3y"})
    assert r.exit_code == 2
