"""Remove what identifies a patient or operator from FCS files, keeping what analysis needs.

>>> cd38.anonymize("patient.fcs", "shared/0001.fcs")                  # doctest: +SKIP
>>> cd38.anonymize("patient.fcs", "shared/0002.fcs", date_shift_days=-41)  # doctest: +SKIP

The output is rebuilt at the byte level: a new HEADER and TEXT per data set,
followed by the source's DATA copied bit for bit, so every event value reads
back identical. What else changes, deliberately:

* Only the bytes of DATA that hold events are copied. ANALYSIS (free-form
  results that often carry sample names), supplemental TEXT (merged into the
  new TEXT, filtered like the rest), CRC and any bytes between segments are
  dropped; the audit record says how many bytes of each.
* Layout keywords ($BEGINDATA, $ENDDATA, $NEXTDATA, ...) are recomputed; FCS
  3.x offsets beyond 99,999,999 go to TEXT with zeros in HEADER, as the
  standard says. FCS 3.1+ files get ``$ORIGINALITY=NonDataModified``.
* The version of each data set is kept. FCS 1.0 and unknown versions are
  refused, as are FCS 2.0 files whose DATA ends past byte 99,999,999.

Policies: ``"strict"`` keeps only an allow-list of keywords analysis needs
(parameters, layout, spillover, timestep, instrument model, ...) and drops
everything else, vendor keywords included; ``"standard"`` drops the
identifying standard keywords, dates, and vendor keywords whose names suggest
names, identifiers, dates or free text, and keeps the remaining vendor
keywords. Dates are removed unless ``date_shift_days`` is given, in which case
they are moved by that many days (see :func:`subject_date_offset` for a
per-subject offset) and times of day are kept.

An audit record (JSON, next to the output) lists the keywords removed or
changed and the SHA-256 of input and output. It never holds a removed value,
the input's file name or the date offset.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import hmac
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cd38 import _core
from cd38._digest import sha256_file
from cd38.errors import FCSError, InvalidArgumentError

__all__ = ["AnonymizeResult", "anonymize", "subject_date_offset"]

PathLike = str | os.PathLike[str]
POLICIES = ("strict", "standard")

# Standard keywords that name or point to a person, sample, site or run.
IDENTIFYING = frozenset(
    [
        "$FIL",
        "$SRC",
        "$SMNO",
        "$OP",
        "$PROJ",
        "$EXP",
        "$INST",
        "$COM",
        "$CELLS",
        "$PLATEID",
        "$PLATENAME",
        "$CYTSN",
        "$LAST_MODIFIER",
        "$CARRIERID",
        "$CARRIERTYPE",
        "$LOCATIONID",
        "$SYS",
    ]
)
DATES = frozenset(["$DATE", "$LAST_MODIFIED", "$BEGINDATETIME", "$ENDDATETIME"])
TIMES = frozenset(["$BTIM", "$ETIM"])
# Recomputed for the new file; never copied.
LAYOUT = frozenset(
    [
        "$BEGINDATA",
        "$ENDDATA",
        "$BEGINANALYSIS",
        "$ENDANALYSIS",
        "$BEGINSTEXT",
        "$ENDSTEXT",
        "$NEXTDATA",
    ]
)
# What the strict policy keeps besides parameters and layout.
STRICT_KEEP = frozenset(
    [
        "$BYTEORD",
        "$DATATYPE",
        "$MODE",
        "$PAR",
        "$TOT",
        "$TIMESTEP",
        "$SPILLOVER",
        "$COMP",
        "$CYT",
        "$ABRT",
        "$LOST",
        "$TR",
        "$VOL",
        "$FLOWRATE",
        "$ORIGINALITY",
        "$CSMODE",
        "$CSVBITS",
        "$GATE",
        "$GATING",
        "$UNSTAINEDCENTERS",
        "$UNSTAINEDINFO",
        "SPILL",
        "SPILLOVER",
        "DET_SPILL",
    ]
)
_PARAM = re.compile(
    r"\$P\d+(N|S|R|E|G|B|DATATYPE|TYPE|CALIBRATION|V|L|O|P|F|T|D|DISPLAY|ANALYTE|FEATURE|TAG|DET)"
)
_STRICT_PATTERNS = re.compile(r"P\d+DISPLAY|\$DFC\d+TO\d+|\$CSV\d+FLAG|\$[RG]\d+[A-Z]+")
# Keywords the event values depend on: no pattern may remove them.
_STRUCTURAL = re.compile(r"\$(PAR|TOT|DATATYPE|BYTEORD|MODE|TIMESTEP|P\d+(B|R|E|G|N|DATATYPE))")
# Vendor keywords the standard policy drops: names, identifiers, dates, free text.
_VENDOR_RISKY = re.compile(
    r"NAME|USER|OPERATOR|PATIENT|SUBJECT|DONOR|SAMPLE|TUBE|SPECIMEN|EXPERIMENT|PROJECT|COMMENT|"
    r"NOTE|DATE|TIME|CREATOR|AUTHOR|EXPORT|FILE|PATH|FOLDER|DIR|GUID|UUID|BARCODE|ID\b|_ID|ID_|"
    r"PLATE|WELL|SERIAL|LOCATION|SITE|INSTITUT|PHONE|EMAIL|ADDRESS|BIRTH|DOB|MRN|ACCESSION"
)
_VENDOR_BLOB_CHARS = 64
_VENDOR_PARAM = re.compile(r"P\d+[A-Z_ ]+")
_WELL = re.compile(r"[A-Z]{1,2}\d{1,3}", re.IGNORECASE)
_DMY = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_HEADER_MAX = 99_999_999
_CHUNK = 8 << 20
_DELIMITERS = (b"|", b"\\", b"/", b"\x0c", b"!", b"^", b"~", b"\x1e")


@dataclass
class _Decisions:
    """The kept pairs of one data set, and the names (only) of what was removed or shifted."""

    kept: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    shifted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AnonymizeResult:
    """Where the anonymised copy and its audit record went, and what changed."""

    output: Path
    audit: Path
    input_sha256: str
    output_sha256: str
    removed: tuple[str, ...]
    shifted: tuple[str, ...]


@dataclass(frozen=True)
class _Options:
    policy: str
    shift: int | None
    remove: tuple[str, ...]
    keep: tuple[str, ...]


# -- deciding per keyword --------------------------------------------------------------


def _matches(key: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(key, p.upper()) for p in patterns)


def _strict_keeps(key: str) -> bool:
    return key in STRICT_KEEP or bool(_PARAM.fullmatch(key) or _STRICT_PATTERNS.fullmatch(key))


def _standard_removes(key: str, value: str) -> bool:
    if key in IDENTIFYING:
        return True
    if _strict_keeps(key) or _PARAM.fullmatch(key):
        return False
    if _VENDOR_PARAM.fullmatch(key):
        # Per-parameter instrument settings (P1HI, P3DETECTORNAME...): only blobs go.
        return len(value) > _VENDOR_BLOB_CHARS
    return bool(_VENDOR_RISKY.search(key)) or len(value) > _VENDOR_BLOB_CHARS


def _identifying(key: str, opts: _Options) -> bool:
    """Removed because it can name someone (not merely because strict drops it)."""
    if key in IDENTIFYING or _matches(key, opts.remove):
        return True
    if _strict_keeps(key) or _VENDOR_PARAM.fullmatch(key):
        return False
    return bool(_VENDOR_RISKY.search(key))


def _is_date_keyword(key: str) -> bool:
    return key in DATES or key in TIMES


def _decide(key: str, value: str, opts: _Options) -> str:
    """One of "layout", "keep", "remove" or "shift" for a keyword (upper-cased)."""
    if key in LAYOUT:
        return "layout"
    if _matches(key, opts.remove):
        return "remove"
    if _matches(key, opts.keep):
        return "keep"
    if key == "$WELLID":
        return "keep" if _WELL.fullmatch(value.strip()) else "remove"
    if _is_date_keyword(key):
        if opts.shift is None:
            return "remove"
        return "shift" if key in DATES else "keep"
    if opts.policy == "strict":
        return "keep" if _strict_keeps(key) else "remove"
    return "remove" if _standard_removes(key, value) else "keep"


def _shift_date(value: str, days: int) -> str | None:
    """The value with its leading date moved by ``days`` (format kept), or None if none is found."""
    s = value.strip()
    m = _DMY.match(s)
    try:
        if m:
            month = _MONTHS.index(m.group(2).upper()) + 1
            d = dt.date(int(m.group(3)), month, int(m.group(1))) + dt.timedelta(days=days)
            mon = _MONTHS[d.month - 1]
            mon = (
                mon if m.group(2).isupper() else mon.capitalize() if m.group(2)[0].isupper() else mon.lower()
            )
            return f"{d.day:02d}-{mon}-{d.year:04d}{s[m.end() :]}"
        m = _YMD.match(s)
        if m:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + dt.timedelta(days=days)
            return f"{d.isoformat()}{s[m.end() :]}"
    except (ValueError, OverflowError):
        return None
    return None


def _decisions(pairs: list[tuple[str, str]], opts: _Options) -> _Decisions:
    out = _Decisions()
    for key, value in pairs:
        upper = key.strip().upper()
        action = _decide(upper, value, opts)
        if action == "remove" and _STRUCTURAL.fullmatch(upper):
            raise InvalidArgumentError(f"a remove pattern matches {key}, which the event values depend on")
        if action == "keep":
            out.kept.append((key, value))
        elif action == "shift":
            new = _shift_date(value, opts.shift or 0)
            if new is None:
                out.removed.append(key)
            else:
                out.kept.append((key, new))
                out.shifted.append(key)
        elif action == "remove":
            out.removed.append(key)
    _warn_echoes(pairs, out, opts)
    return out


def _warn_echoes(pairs: list[tuple[str, str]], d: _Decisions, opts: _Options) -> None:
    """Flag kept keywords that still contain an identifying removed value (a name in a marker)."""
    removed = {k.upper() for k in d.removed}
    gone = [
        v.strip()
        for k, v in pairs
        if k.upper() in removed and _identifying(k.strip().upper(), opts) and len(v.strip()) >= 4
    ]
    gone = [v for v in gone if not v.replace(".", "").replace("-", "").isdigit()]
    for key, value in d.kept:
        if any(g in value for g in gone):
            d.warnings.append(f"kept keyword {key} contains the value of a removed keyword")


# -- writing TEXT and HEADER ---------------------------------------------------------------


def _encode(text: str, encoding: str) -> bytes:
    return text.encode("latin-1" if encoding == "latin-1" else "utf-8")


def _delimiter(pairs: list[tuple[bytes, bytes]], preferred: bytes) -> bytes:
    """A delimiter that occurs in no keyword or value, so nothing needs escaping."""
    for d in (preferred, *_DELIMITERS):
        if len(d) == 1 and d not in (b" ", b"\0") and all(d not in k and d not in v for k, v in pairs):
            return d
    raise FCSError("every usable TEXT delimiter occurs in the kept keywords; cannot rewrite TEXT")


def _text(pairs: list[tuple[bytes, bytes]], delim: bytes) -> bytes:
    # An empty value is written as a doubled delimiter, as FCS 2.0 writers do.
    return delim + b"".join(k + delim + v + delim for k, v in pairs)


@dataclass(frozen=True)
class _Layout:
    header: bytes
    text: bytes
    pad: int
    size: int


def _header(version: str, text: tuple[int, int], data: tuple[int, int]) -> bytes:
    fields = (*text, *data, 0, 0)
    return version.encode("ascii") + b"    " + b"".join(f"{v:>8}".encode() for v in fields)


def _layout(
    ds: _core.Dataset, pairs: list[tuple[bytes, bytes]], delim: bytes, base: int, last: bool
) -> _Layout:
    """HEADER and TEXT of a data set written at absolute ``base``; the TEXT holds
    offsets whose digits change its length, so iterate to a fixed point."""
    v3 = ds.version.startswith("FCS3")
    has_offsets = v3 or any(k.strip().upper() == "$BEGINDATA" for k, _ in ds.keywords)
    data_len = 0 if ds.data_segment is None else ds.data_segment[1] - ds.data_segment[0] + 1
    data_start, nextdata = 0, 0
    for _ in range(8):
        data = (data_start, data_start + data_len - 1) if data_len else (0, 0)
        extra = _layout_pairs(v3, has_offsets, data, nextdata)
        text = _text(extra + pairs, delim)
        prologue = 58 + len(text)
        start = -(-(base + prologue) // 8) * 8 - base if data_len else 0
        size = start + data_len if data_len else prologue
        new_next = 0 if last else size
        if (start, new_next) == (data_start, nextdata):
            break
        data_start, nextdata = start, new_next
    else:  # pragma: no cover - the digits settle in two or three rounds
        raise FCSError("could not settle the TEXT offsets")
    return _Layout(_fcs_header(ds.version, len(text), data), text, max(start - prologue, 0), size)


def _fcs_header(version: str, text_len: int, data: tuple[int, int]) -> bytes:
    text = (58, 58 + text_len - 1)
    if text[1] > _HEADER_MAX:
        raise FCSError(f"the rewritten TEXT would end past byte {_HEADER_MAX}, which HEADER cannot hold")
    if data[1] > _HEADER_MAX:
        if not version.startswith("FCS3"):
            raise FCSError(f"{version} cannot place DATA past byte {_HEADER_MAX}; not supported")
        data = (0, 0)
    return _header(version, text, data)


def _layout_pairs(
    v3: bool, has_offsets: bool, data: tuple[int, int], nextdata: int
) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    if has_offsets:
        out += [(b"$BEGINDATA", str(data[0]).encode()), (b"$ENDDATA", str(data[1]).encode())]
    if v3:
        out += [(k.encode(), b"0") for k in ("$BEGINANALYSIS", "$ENDANALYSIS", "$BEGINSTEXT", "$ENDSTEXT")]
    out.append((b"$NEXTDATA", str(nextdata).encode()))
    return out


# -- the file as a whole ---------------------------------------------------------------


def _sha256(path: Path) -> str:
    return sha256_file(path)


def _check_version(ds: _core.Dataset, src: Path) -> None:
    if ds.version not in ("FCS2.0", "FCS3.0", "FCS3.1", "FCS3.2"):
        raise FCSError(f"{src}: {ds.version} is not supported for anonymisation (FCS 2.0 to 3.2 are)")


def _originality(ds: _core.Dataset, d: _Decisions) -> list[str]:
    """FCS 3.1 records that TEXT was changed but DATA was not."""
    if ds.version not in ("FCS3.1", "FCS3.2"):
        return []
    d.kept = [(k, v) for k, v in d.kept if k.upper() != "$ORIGINALITY"]
    d.kept.append(("$ORIGINALITY", "NonDataModified"))
    return ["$ORIGINALITY"]


@dataclass
class _Plan:
    ds: _core.Dataset
    decisions: _Decisions
    rewritten: list[str]
    pairs: list[tuple[bytes, bytes]]
    delim: bytes


def _plan(ds: _core.Dataset, src: Path, opts: _Options, delim: bytes) -> _Plan:
    _check_version(ds, src)
    d = _decisions(list(ds.keywords), opts)
    rewritten = _originality(ds, d)
    pairs = [(_encode(k, ds.encoding), _encode(v, ds.encoding)) for k, v in d.kept]
    return _Plan(ds, d, rewritten, pairs, _delimiter(pairs, delim))


def _copy(src: IO[bytes], start: int, length: int, out: IO[bytes], h: Any, name: Path) -> None:
    src.seek(start)
    left = length
    while left:
        block = src.read(min(left, _CHUNK))
        if not block:
            raise FCSError(f"{name}: DATA ends early (file changed while reading?)")
        out.write(block)
        h.update(block)
        left -= len(block)


def _write(plans: list[_Plan], src: Path, out: IO[bytes]) -> tuple[str, list[dict[str, Any]]]:
    h = hashlib.sha256()
    base = 0
    records = []
    with src.open("rb") as f:
        for i, p in enumerate(plans):
            lay = _layout(p.ds, p.pairs, p.delim, base, last=i == len(plans) - 1)
            head = lay.header + lay.text + b" " * lay.pad
            out.write(head)
            h.update(head)
            if p.ds.data_segment is not None:
                s, e = p.ds.data_segment
                _copy(f, s, e - s + 1, out, h, src)
            records.append(_record(i, p))
            base += lay.size
    return h.hexdigest(), records


def _record(i: int, p: _Plan) -> dict[str, Any]:
    d = p.decisions
    return {
        "dataset": i,
        "version": p.ds.version,
        "n_events": p.ds.n_events,
        "removed": d.removed,
        "dates_shifted": d.shifted,
        "rewritten": p.rewritten,
        "layout_recomputed": sorted(
            {k.upper() for k, _ in p.ds.keywords if k.upper() in LAYOUT} | {"$NEXTDATA"}
        ),
        "data_bytes_copied": 0
        if p.ds.data_segment is None
        else p.ds.data_segment[1] - p.ds.data_segment[0] + 1,
        "source_repairs": sorted({code for code, _ in p.ds.repairs}),
        "warnings": d.warnings,
    }


def _dropped_bytes(src_size: int, plans: list[_Plan]) -> int:
    """Source bytes not carried over as DATA (HEADER, TEXT, ANALYSIS, padding...)."""
    copied = sum(
        0 if p.ds.data_segment is None else p.ds.data_segment[1] - p.ds.data_segment[0] + 1 for p in plans
    )
    return src_size - copied


# -- atomic, no-clobber output ---------------------------------------------------------


def _temp(directory: Path, name: str) -> tuple[IO[bytes], Path]:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    return os.fdopen(fd, "wb"), Path(tmp)


def _publish(tmp: Path, dst: Path) -> None:
    """Move ``tmp`` to ``dst`` only if ``dst`` does not exist (a hard link cannot clobber)."""
    try:
        os.link(tmp, dst)
    except FileExistsError:
        raise InvalidArgumentError(f"{dst} already exists; refusing to overwrite it") from None
    except OSError:
        # File systems without hard links: check, then rename (a small race remains).
        if dst.exists():
            raise InvalidArgumentError(f"{dst} already exists; refusing to overwrite it") from None
        os.replace(tmp, dst)
        return
    tmp.unlink()


def _write_json(directory: Path, name: str, doc: dict[str, Any]) -> Path:
    f, tmp = _temp(directory, name)
    with f:
        f.write((json.dumps(doc, indent=2) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())
    return tmp


# -- public API --------------------------------------------------------------------------


def subject_date_offset(subject: str, secret: str | bytes, max_days: int = 365) -> int:
    """A per-subject date offset in days, in ±1..max_days, that only the holder of
    ``secret`` can reproduce: every file of one subject is shifted alike, so
    intervals between that subject's samples survive anonymisation."""
    if max_days < 1:
        raise InvalidArgumentError(f"max_days must be at least 1, not {max_days}")
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise InvalidArgumentError("secret must not be empty")
    n = int.from_bytes(hmac.new(key, subject.encode(), hashlib.sha256).digest()[:8], "big")
    days = 1 + n % max_days
    return days if (n >> 63) & 1 else -days


def _options(
    policy: str, date_shift_days: int | None, remove: Iterable[str], keep: Iterable[str]
) -> _Options:
    if policy not in POLICIES:
        raise InvalidArgumentError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    if date_shift_days is not None and (
        isinstance(date_shift_days, bool) or not isinstance(date_shift_days, int)
    ):
        raise InvalidArgumentError(f"date_shift_days must be an integer, not {date_shift_days!r}")
    return _Options(policy, date_shift_days, tuple(remove), tuple(keep))


def _datasets(src: Path) -> list[_core.Dataset]:
    return list(_core.read_fcs_all(src, strict=False, data="none"))


def _preferred_delimiter(src: Path) -> bytes:
    with src.open("rb") as f:
        head = f.read(64)
    try:
        return head[int(head[10:18]) : int(head[10:18]) + 1] or b"|"
    except ValueError:
        return b"|"


def anonymize(
    src: PathLike,
    dst: PathLike,
    policy: str = "strict",
    *,
    date_shift_days: int | None = None,
    remove: Iterable[str] = (),
    keep: Iterable[str] = (),
) -> AnonymizeResult:
    """Write an anonymised copy of the FCS file ``src`` to ``dst``, and its audit
    record to ``dst`` + ``.audit.json``.

    ``policy`` is ``"strict"`` (keep only what analysis needs) or
    ``"standard"`` (drop identifying and risky keywords, keep other vendor
    keywords). ``remove`` and ``keep`` are case-insensitive glob patterns of
    keyword names (``"CREATOR*"``, ``"$P*V"``); ``remove`` wins over ``keep``,
    and both win over the policy, but keywords the event values depend on
    cannot be removed. Dates are removed unless ``date_shift_days`` moves them.

    The input is never modified; an existing ``dst`` or audit file is never
    overwritten; both appear only when complete. Raises :class:`cd38.FCSError`
    for files that cannot be read or rewritten.
    """
    opts = _options(policy, date_shift_days, remove, keep)
    src_path, dst_path = Path(src), Path(dst)
    audit_path = dst_path.with_name(dst_path.name + ".audit.json")
    for p in (dst_path, audit_path):
        if p.exists():
            raise InvalidArgumentError(f"{p} already exists; refusing to overwrite it")
    datasets = _datasets(src_path)
    delim = _preferred_delimiter(src_path)
    plans = [_plan(ds, src_path, opts, delim) for ds in datasets]
    input_sha = _sha256(src_path)
    f, tmp = _temp(dst_path.parent, dst_path.name)
    tmp_audit: Path | None = None
    try:
        with f:
            output_sha, records = _write(plans, src_path, f)
            f.flush()
            os.fsync(f.fileno())
        doc = _audit(opts, src_path, dst_path, input_sha, output_sha, tmp, plans, records)
        tmp_audit = _write_json(dst_path.parent, audit_path.name, doc)
        _publish(tmp, dst_path)
        try:
            _publish(tmp_audit, audit_path)
        except BaseException:
            dst_path.unlink()
            raise
    finally:
        for t in (tmp, tmp_audit):
            if t is not None and t.exists():
                t.unlink()
    return AnonymizeResult(
        dst_path,
        audit_path,
        input_sha,
        output_sha,
        tuple(dict.fromkeys(k for r in records for k in r["removed"])),
        tuple(dict.fromkeys(k for r in records for k in r["dates_shifted"])),
    )


def _audit(
    opts: _Options,
    src: Path,
    dst: Path,
    input_sha: str,
    output_sha: str,
    tmp: Path,
    plans: list[_Plan],
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    src_size = src.stat().st_size
    return {
        "tool": "cd38.anonymize",
        "cd38_version": _core.__version__,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "policy": opts.policy,
        "remove_patterns": list(opts.remove),
        "keep_patterns": list(opts.keep),
        "dates": "removed" if opts.shift is None else "shifted by a per-subject offset (not recorded)",
        "input": {"sha256": input_sha, "bytes": src_size},
        "output": {"file": dst.name, "sha256": output_sha, "bytes": tmp.stat().st_size},
        "source_bytes_not_copied": _dropped_bytes(src_size, plans),
        "datasets": records,
    }
