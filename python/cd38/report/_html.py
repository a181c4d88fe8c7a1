"""Small HTML building blocks. Every piece of text is escaped here, because
keywords, channel names and plugin text all come from files we do not trust."""

from __future__ import annotations

import base64
import dataclasses
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["attr", "definition_list", "esc", "image", "link", "table", "value"]


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def attr(text: object) -> str:
    return esc(text)


def number(v: float, digits: int = 3) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if not math.isfinite(v):
        return "n/a"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.{digits}g}"
    return f"{v:,.{digits}g}" if abs(v) >= 1000 else f"{v:.{digits}g}"


def link(url: str, text: str | None = None) -> str:
    """A link, only for http(s) addresses; anything else is shown as plain text."""
    u = str(url).strip()
    if not u.lower().startswith(("https://", "http://")):
        return esc(text or u)
    return f'<a href="{attr(u)}" rel="noreferrer noopener">{esc(text or u)}</a>'


def plain(obj: Any) -> Any:
    """Mappings, sequences and scalars from dataclasses, ``to_dict()`` objects and the like."""
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return plain(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [plain(v) for v in obj]
    return obj


def value(v: Any) -> str:
    """Any plain value as HTML: lists as lists, mappings as definition lists."""
    v = plain(v)
    if v is None or v == "" or v == [] or v == {}:
        return '<span class="muted">—</span>'
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return esc(number(v))
    if isinstance(v, str):
        return link(v) if v.startswith(("https://", "http://")) and " " not in v else esc(v)
    if isinstance(v, Mapping):
        return definition_list(v.items())
    if isinstance(v, list):
        if all(not isinstance(x, Mapping | list) for x in v) and len(v) <= 6:
            return ", ".join(value(x) for x in v)
        return "<ul>" + "".join(f"<li>{value(x)}</li>" for x in v) + "</ul>"
    return esc(v)


def definition_list(items: Iterable[tuple[Any, Any]]) -> str:
    rows = "".join(f"<dt>{esc(str(k).replace('_', ' '))}</dt><dd>{value(v)}</dd>" for k, v in items)
    return f'<dl class="kv">{rows}</dl>'


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """A table; cells are plain values (escaped) unless given as ``Raw``."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{c.html if isinstance(c, Raw) else value(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


@dataclasses.dataclass(frozen=True)
class Raw:
    """Already-built HTML for a table cell."""

    html: str


def image(png: bytes, alt: str, caption: str | None = None) -> str:
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{attr(alt)}" src="data:image/png;base64,{data}">{cap}</figure>'


CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430;
       max-width: 1180px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #dde3ea; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: #6b7785; }
.disclaimer { border: 2px solid #b3261e; background: #fff4f2; padding: 10px 14px; border-radius: 6px;
              font-weight: 600; }
.banner-warn { border-left: 4px solid #c77700; background: #fff8e6; padding: 6px 12px; margin: 6px 0; }
.banner-refuse { border-left: 4px solid #b3261e; background: #fff0ee; padding: 6px 12px; margin: 6px 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #dde3ea; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f6f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
dl.kv dt { color: #4a5564; }
dl.kv dd { margin: 0; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #dde3ea; }
figcaption { color: #4a5564; font-size: 12px; }
.finding { border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 14px; margin: 10px 0; }
.finding .statement { font-size: 15px; font-weight: 600; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; }
footer { margin-top: 36px; color: #6b7785; font-size: 12px; }
"""
