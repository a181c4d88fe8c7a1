"""Malformed files generated from valid ones: every variant must end in a clean
cd38.FCSError naming the file, or be read (with repairs where something was
fixed), in bounded time and bounded memory.

The reads run in a child process whose address space is capped at what it had
after a warm-up read plus a fixed allowance, with a CPU-time limit: an
unbounded allocation, a hang or a crash fails the test instead of the runner.
The child also reports, per file, the wall time and the growth of its peak RSS,
and both are asserted."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cd38
from fcsbuild import build, params

PER_FILE_SECONDS = 5.0
PER_FILE_RSS_MB = 128
ADDRESS_SPACE_ALLOWANCE = 768 << 20

CHILD = r"""
import json, resource, sys, time
import cd38
warm, paths = sys.argv[1], sys.argv[2:]
cd38.read_fcs(warm).to_numpy()
vm = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize"))
cap = vm + ALLOWANCE
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
resource.setrlimit(resource.RLIMIT_CPU, (240, 240))

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

out = {}
for path in paths:
    before, t0 = peak(), time.perf_counter()
    try:
        s = cd38.read_fcs(path)
        s.to_numpy().sum()
        for d in cd38.read_fcs_datasets(path):
            d.to_numpy()
        outcome = "ok"
    except cd38.FCSError as e:
        outcome = "FCSError" if path.split("/")[-1] in str(e) else "FCSError-without-name"
    except Exception as e:
        outcome = f"{type(e).__name__}: {e}"
    out[path] = {"outcome": outcome, "seconds": time.perf_counter() - t0, "rss_growth": peak() - before}
print(json.dumps(out))
"""


def _valid(tmp_path: Path) -> bytes:
    rng = np.random.default_rng(0)
    data = rng.normal(100, 30, (40, 3)).astype(np.float32)
    kw = {"$CYT": "x", "$SPILLOVER": "2,A,B,1,0.1,0,1"}
    return cd38.write_fcs(tmp_path / "valid.fcs", data, ["A", "B", "C"], keywords=kw).read_bytes()


def _set_keyword(blob: bytes, key: str, value: str) -> bytes:
    """Replace a keyword's value in TEXT (the layout may then lie: that is the point)."""
    pattern = re.escape(key.encode()) + rb"\|[^|]*\|"
    return re.sub(pattern, key.encode() + b"|" + value.encode() + b"|", blob, count=1)


def _truncations(good: bytes) -> dict[str, bytes]:
    text_end = int(good[18:26])
    data_start = int(good[26:34])
    cuts = {0, 1, 10, 57, 58, 59, (58 + text_end) // 2, text_end - 1, text_end, text_end + 1}
    cuts |= {data_start - 1, data_start, data_start + 1, (data_start + len(good)) // 2, len(good) - 5}
    cuts |= {len(good) - 1}
    return {f"truncated_{cut}": good[:cut] for cut in sorted(cuts)}


def _lying_offsets(good: bytes) -> dict[str, bytes]:
    text_end = int(good[18:26])
    data_start = int(good[26:34])
    v: dict[str, bytes] = {}
    for name, (a, b) in {
        "text_backwards": (text_end, 58),
        "text_past_end": (58, 10**7),
        "text_into_data": (58, data_start + 20),
        "text_in_header": (0, 57),
        "data_past_end": (data_start, 10**7),
        "data_into_text": (60, 100),
        "data_in_header": (0, 57),
        "data_backwards": (data_start, data_start - 50),
    }.items():
        h = bytearray(good)
        slot = 10 if name.startswith("text") else 26
        h[slot : slot + 16] = f"{a:>8}{b:>8}".encode()
        v[name] = bytes(h)
    return v


def _lying_keywords(good: bytes) -> dict[str, bytes]:
    v: dict[str, bytes] = {}
    for key, value in [
        ("$PAR", "1000000000"),
        ("$PAR", "0"),
        ("$PAR", "-3"),
        ("$TOT", "9999999999999"),
        ("$TOT", "18446744073709551615"),
        ("$TOT", "0"),
        ("$TOT", "-1"),
        ("$P1B", "99999"),
        ("$P1B", "0"),
        ("$P1B", "-8"),
        ("$P1B", "16"),
        ("$DATATYPE", "Z"),
        ("$BYTEORD", "9,9"),
        ("$BYTEORD", "3,4,1,2"),
        ("$BEGINDATA", "-5"),
        ("$BEGINDATA", "0"),
        ("$ENDDATA", "99999999999999999999999"),
        ("$ENDDATA", "18446744073709551615"),
        ("$NEXTDATA", "5"),
        ("$NEXTDATA", "58"),
        ("$NEXTDATA", "99999999"),
        ("$BEGINSTEXT", "60"),
        ("$ENDSTEXT", "99999999"),
        ("$SPILLOVER", "999999999,A"),
        ("$P1R", "nan"),
        ("$P1E", "x,y"),
        ("$TIMESTEP", "-1"),
        ("$MODE", "C"),
    ]:
        v[f"kw_{key}_{value}"] = _set_keyword(good, key, value)
    return v


def _broken_text(good: bytes) -> dict[str, bytes]:
    data_start = int(good[26:34])
    return {
        "no_delimiters": good.replace(b"|", b" "),
        "other_delimiter_midway": good[:300].replace(b"|", b"/") + good[300:],
        "delimiter_is_a_letter": good[:58] + b"$" + good[59:],
        "invalid_utf8": good.replace(b"x|", b"\xff\xfe|", 1),
        "nul_bytes_in_text": good[:100] + b"\0" * 20 + good[120:],
        "repeated_conflicting_par": good.replace(b"$PAR|3|", b"$PAR|3|$PAR|4|", 1),
        "nan_inf_data": good[:data_start] + np.array([np.nan, np.inf, -np.inf] * 40, "<f4").tobytes(),
        "zeros": b"\0" * 200,
        "garbage_header": b"FCS9.9" + good[6:],
        "not_fcs": b"<?xml version='1.0'?>" + b" " * 100,
    }


def _repeats() -> dict[str, bytes]:
    """Keywords repeated with conflicting values, in files whose offsets are right."""
    base = [*params(["A", "Time"], ["16", "16"]), ("$TOT", "2"), ("$DATATYPE", "I"), ("$BYTEORD", "1,2")]
    return {
        "conflict_cyt": build([*base, ("$CYT", "x"), ("$CYT", "y")], bytes(8)),
        "conflict_structural_p1b": build([*base, ("$P1B", "32")], bytes(8)),
        "conflict_structural_tot_case": build([*base, ("$tot", "3")], bytes(8)),
        "timestep_negative": build([*base, ("$TIMESTEP", "-1")], bytes(8)),
    }


def _hostile_sizes() -> dict[str, bytes]:
    """Declared sizes that would cost time or memory if believed."""
    many = 20_000
    same_names = [("$PAR", str(many)), ("$TOT", "1"), ("$DATATYPE", "I"), ("$BYTEORD", "1")]
    for i in range(1, many + 1):
        same_names += [(f"$P{i}N", "A"), (f"$P{i}B", "8")]
    delimited = [*params(["A", "B"], ["*", "*"]), ("$TOT", "1000000000000000"), ("$DATATYPE", "A")]
    packed = [*params(["A"], ["1"]), ("$TOT", "99999999999"), ("$DATATYPE", "I"), ("$BYTEORD", "1")]
    return {
        "twenty_thousand_channels_named_alike": build(same_names, bytes(many)),
        "delimited_ascii_huge_tot": build(delimited, b"1 2 3 4"),
        "packed_huge_tot": build(packed, b"\xff" * 8, version="FCS2.0"),
    }


def _multi(tmp_path: Path) -> dict[str, bytes]:
    """A two-data-set file, cut and re-pointed at its inner boundaries."""

    def one(nextdata: int, values: bytes) -> bytes:
        kws = [
            *params(["A", "B"], ["16", "16"]),
            ("$TOT", str(len(values) // 4)),
            ("$DATATYPE", "I"),
            ("$BYTEORD", "1,2"),
            ("$NEXTDATA", f"{nextdata:08d}"),
        ]
        return build(kws, values, version="FCS3.0")

    first_len = len(one(0, bytes(8)))
    blob = one(first_len, bytes(8)) + one(0, bytes(range(12)))
    v = {f"multi_truncated_{c}": blob[:c] for c in (first_len, first_len + 30, first_len + 58, len(blob) - 1)}
    for name, target in {"multi_next_self": 0, "multi_next_into_data": first_len - 4}.items():
        v[name] = blob.replace(f"{first_len:08d}".encode(), f"{target:08d}".encode(), 1)
    return v


def _variants(good: bytes, tmp_path: Path) -> dict[str, bytes]:
    return {
        **_truncations(good),
        **_lying_offsets(good),
        **_lying_keywords(good),
        **_broken_text(good),
        **_repeats(),
        **_hostile_sizes(),
        **_multi(tmp_path),
        "zero_events": cd38.write_fcs(tmp_path / "z.fcs", np.zeros((0, 2)), ["A", "B"]).read_bytes(),
    }


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[bytes, Path, dict[str, dict[str, float | str]]]:
    tmp = tmp_path_factory.mktemp("malformed")
    good = _valid(tmp)
    paths = []
    for name, blob in _variants(good, tmp).items():
        p = tmp / f"{name}.fcs"
        p.write_bytes(blob)
        paths.append(str(p))
    child = CHILD.replace("ALLOWANCE", str(ADDRESS_SPACE_ALLOWANCE))
    res = subprocess.run(
        [sys.executable, "-c", child, str(tmp / "valid.fcs"), *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return good, tmp, {Path(p).name[:-4]: o for p, o in json.loads(res.stdout).items()}


def test_every_variant_fails_cleanly_or_reads(outcomes: tuple[bytes, Path, dict]) -> None:
    _, _, out = outcomes
    bad = {name: o["outcome"] for name, o in out.items() if o["outcome"] not in ("ok", "FCSError")}
    assert not bad, bad


def test_every_variant_takes_bounded_time_and_memory(outcomes: tuple[bytes, Path, dict]) -> None:
    _, _, out = outcomes
    slow = {n: round(o["seconds"], 2) for n, o in out.items() if o["seconds"] > PER_FILE_SECONDS}
    assert not slow, slow
    fat = {n: o["rss_growth"] >> 20 for n, o in out.items() if o["rss_growth"] > PER_FILE_RSS_MB << 20}
    assert not fat, fat


def test_what_cannot_be_complete_is_refused(outcomes: tuple[bytes, Path, dict]) -> None:
    good, _, out = outcomes
    # Truncation inside TEXT or DATA can never be read as if complete.
    for name, o in out.items():
        if name.startswith("truncated_") and int(name[10:]) < len(good) - 1:
            assert o["outcome"] == "FCSError", name
    for name in (
        "kw_$TOT_9999999999999",
        "kw_$TOT_18446744073709551615",
        "delimited_ascii_huge_tot",
        "packed_huge_tot",
        "repeated_conflicting_par",
        "conflict_structural_p1b",
        "conflict_structural_tot_case",
        "kw_$MODE_C",
        "not_fcs",
        "multi_next_into_data",
    ):
        assert out[name]["outcome"] == "FCSError", name
    # A multi-data-set file cut inside its second data set: the first still reads
    # alone, but following $NEXTDATA fails; cut exactly between them, it is whole.
    assert out["multi_next_self"]["outcome"] == "ok"  # $NEXTDATA 0 means "no more"
    cuts = sorted(int(n.rsplit("_", 1)[1]) for n in out if n.startswith("multi_truncated_"))
    assert out[f"multi_truncated_{cuts[0]}"]["outcome"] == "ok"
    for c in cuts[1:]:
        assert out[f"multi_truncated_{c}"]["outcome"] == "FCSError", c


def test_what_is_read_despite_damage_says_what_was_fixed(outcomes: tuple[bytes, Path, dict]) -> None:
    _, tmp, out = outcomes
    assert out["nan_inf_data"]["outcome"] == "ok"
    assert np.isnan(cd38.read_fcs(tmp / "nan_inf_data.fcs").to_numpy()).any()
    assert cd38.read_fcs(tmp / "zero_events.fcs").n_events == 0

    def codes(name: str) -> list[str]:
        return [r.code for r in cd38.read_fcs(tmp / f"{name}.fcs").repairs]

    assert codes("garbage_header")[0] == "unknown_version"
    assert "data_longer_than_needed" in codes("kw_$TOT_0")
    assert "duplicate_keyword" in codes("conflict_cyt")
    assert "timestep_not_numeric" in codes("timestep_negative")
    # $ENDDATA of u64::MAX with a HEADER that is right: the intent is unambiguous.
    assert out["kw_$ENDDATA_18446744073709551615"]["outcome"] == "ok"
    assert "data_offsets_disagree" in codes("kw_$ENDDATA_18446744073709551615")
    many = cd38.read_fcs(tmp / "twenty_thousand_channels_named_alike.fcs")
    assert len(set(many.channels)) == 20_000 and many.channels[:3] == ["A", "A_2", "A_3"]
    # Strict mode turns each repair into an error.
    with pytest.raises(cd38.FCSError, match="strict"):
        cd38.read_fcs(tmp / "conflict_cyt.fcs", strict=True)
