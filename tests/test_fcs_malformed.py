"""Malformed files generated from a valid one: every variant must end in a clean
cd38.FCSError or be read (with repairs where something was fixed), in bounded
time and memory. The reads run in a child process with an address-space limit,
so an unbounded allocation or a crash fails the test instead of the runner."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import cd38

CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
import cd38
out = {}
for path in sys.argv[1:]:
    try:
        s = cd38.read_fcs(path)
        s.to_numpy().sum()
        out[path] = "ok"
    except cd38.FCSError as e:
        out[path] = "FCSError" if str(path).split("/")[-1] in str(e) else "FCSError-without-name"
    except Exception as e:
        out[path] = f"{type(e).__name__}: {e}"
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


def _variants(good: bytes) -> dict[str, bytes]:
    text_end = int(good[18:26])
    data_start = int(good[26:34])
    v: dict[str, bytes] = {}
    for cut in sorted(
        {
            0,
            1,
            10,
            57,
            58,
            59,
            text_end - 1,
            text_end,
            text_end + 1,
            data_start,
            data_start + 1,
            len(good) // 2,
            len(good) - 5,
            len(good) - 1,
        }
    ):
        v[f"truncated_{cut}"] = good[:cut]
    for name, (a, b) in {
        "text_backwards": (text_end, 58),
        "text_past_end": (58, 10**7),
        "data_past_end": (data_start, 10**7),
        "data_into_text": (60, 100),
        "data_backwards": (data_start, data_start - 50),
    }.items():
        h = bytearray(good)
        slot = 10 if name.startswith("text") else 26
        h[slot : slot + 16] = f"{a:>8}{b:>8}".encode()
        v[name] = bytes(h)
    for key, value in [
        ("$PAR", "1000000000"),
        ("$PAR", "0"),
        ("$PAR", "-3"),
        ("$TOT", "9999999999999"),
        ("$TOT", "0"),
        ("$TOT", "-1"),
        ("$P1B", "99999"),
        ("$P1B", "0"),
        ("$P1B", "-8"),
        ("$DATATYPE", "Z"),
        ("$BYTEORD", "9,9"),
        ("$BEGINDATA", "-5"),
        ("$ENDDATA", "99999999999999999999999"),
        ("$NEXTDATA", "5"),
        ("$NEXTDATA", "99999999"),
        ("$SPILLOVER", "999999999,A"),
        ("$P1R", "nan"),
        ("$P1E", "x,y"),
    ]:
        v[f"kw_{key}_{value}"] = _set_keyword(good, key, value)
    v["no_delimiters"] = good.replace(b"|", b" ")
    v["other_delimiter_midway"] = good[:300].replace(b"|", b"/") + good[300:]
    v["invalid_utf8"] = good.replace(b"x|", b"\xff\xfe|", 1)
    v["repeated_conflicting_par"] = good.replace(b"$PAR|3|", b"$PAR|3|$PAR|4|", 1)
    v["nan_inf_data"] = good[:data_start] + np.array([np.nan, np.inf, -np.inf] * 40, "<f4").tobytes()
    v["zeros"] = b"\0" * 200
    v["garbage_header"] = b"FCS9.9" + good[6:]
    return v


def test_every_malformed_variant_fails_cleanly_in_bounded_resources(tmp_path: Path) -> None:
    good = _valid(tmp_path)
    paths = []
    for name, blob in _variants(good).items():
        p = tmp_path / f"{name}.fcs"
        p.write_bytes(blob)
        paths.append(str(p))
    res = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    outcomes = json.loads(res.stdout)
    bad = {Path(p).name: o for p, o in outcomes.items() if o not in ("ok", "FCSError")}
    assert not bad, bad
    # What is read despite damage says what it fixed.
    assert cd38.read_fcs(tmp_path / "garbage_header.fcs").repairs[0].code == "unknown_version"
    assert "data_longer_than_needed" in [r.code for r in cd38.read_fcs(tmp_path / "kw_$TOT_0.fcs").repairs]
    # Truncation inside DATA or TEXT can never be read as if complete.
    for p, o in outcomes.items():
        name = Path(p).name
        if name.startswith("truncated_") and int(name[10:-4]) < len(good) - 1:
            assert o == "FCSError", name
