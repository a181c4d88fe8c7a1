"""A tiny, independent FCS byte builder for layouts cd38's writer never produces
(bit-packed integers, delimited ASCII, FCS 3.2 mixed types, broken files).

It shares no code with cd38, so it doubles as a second opinion on the format.
"""

from __future__ import annotations


def build(
    keywords: list[tuple[str, str]],
    data: bytes,
    *,
    version: str = "FCS3.1",
    delim: bytes = b"|",
    data_offsets_in_text: bool = True,
    header_data: tuple[int, int] | None = None,
) -> bytes:
    """Assemble HEADER + TEXT + DATA. `keywords` are written verbatim (no escaping)."""
    text_start = 58

    def text_for(ds: int, de: int) -> bytes:
        kws = list(keywords)
        if data_offsets_in_text:
            kws = [("$BEGINDATA", str(ds)), ("$ENDDATA", str(de)), *kws]

        def enc(s: str) -> bytes:
            # surrogateescape lets tests put arbitrary (non-UTF-8) bytes in TEXT.
            return s.encode("utf-8", errors="surrogateescape")

        body = b"".join(enc(k) + delim + enc(v) + delim for k, v in kws)
        return delim + body

    ds = 0
    for _ in range(5):
        t = text_for(ds, ds + len(data) - 1)
        new = text_start + len(t)
        if new == ds:
            break
        ds = new
    t = text_for(ds, ds + len(data) - 1)
    te = text_start + len(t) - 1
    hd = header_data if header_data is not None else (ds, ds + len(data) - 1)
    fields = (text_start, te, *hd, 0, 0)
    header = version.encode() + b"    " + b"".join(f"{v:>8}".encode() for v in fields)
    assert len(header) == 58
    return header + t + data


def params(names: list[str], bits: list[str], ranges: list[str] | None = None) -> list[tuple[str, str]]:
    out = [("$PAR", str(len(names)))]
    for i, (n, b) in enumerate(zip(names, bits, strict=True), start=1):
        out += [(f"$P{i}N", n), (f"$P{i}B", b), (f"$P{i}E", "0,0")]
        out.append((f"$P{i}R", ranges[i - 1] if ranges else "1024"))
    return out
