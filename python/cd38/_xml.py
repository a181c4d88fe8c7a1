"""Parsing untrusted XML safely: no DTDs, so no external entities and no entity bombs."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from cd38.errors import GatingMLError

_MAX_BYTES = 64 * 2**20
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def load_xml(source: str | bytes | os.PathLike[str] | ET.Element) -> ET.Element:
    """Parse an XML document given as text, bytes or a path (an Element passes through).

    Documents that declare a DTD or entities are refused: Gating-ML needs neither,
    and they are how XML parsers are attacked.
    """
    if isinstance(source, ET.Element):
        return source
    if isinstance(source, bytes):
        data, label = source, "<bytes>"
    elif isinstance(source, str) and source.lstrip().startswith("<"):
        data, label = source.encode("utf-8"), "<string>"
    else:
        path = Path(source)
        if path.stat().st_size > _MAX_BYTES:
            raise GatingMLError(f"{path}: larger than {_MAX_BYTES // 2**20} MiB; refusing to parse")
        data, label = path.read_bytes(), str(path)
    if len(data) > _MAX_BYTES:
        raise GatingMLError(f"{label}: larger than {_MAX_BYTES // 2**20} MiB; refusing to parse")
    if _DTD.search(data):
        raise GatingMLError(f"{label}: DOCTYPE/ENTITY declarations are not allowed")
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise GatingMLError(f"{label}: malformed XML ({e})") from None
    except (LookupError, ValueError) as e:
        # An XML declaration naming an unknown, non-text or multi-byte encoding.
        raise GatingMLError(f"{label}: unusable XML encoding ({e})") from None
