"""The interpretation part of the report, rendered from ``Interpretation.to_dict()``
so that every field a context plugin fills (citations, caveats, thresholds,
evidence tags, the plugin's name and version) reaches the page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cd38.report._html import Raw, esc, link, number, plain, table, value

__all__ = ["citation_html", "interpretation_section"]


def citation_html(c: Any) -> str:
    """One citation: authors. title. reference (or journal year). link [evidence tag]."""
    c = plain(c)
    if not isinstance(c, Mapping):
        return value(c)
    where = c.get("reference") or " ".join(str(x) for x in (c.get("journal"), c.get("year") or "n.d.") if x)
    parts = [esc(str(p).rstrip(".")) for p in (c.get("authors"), c.get("title"), where) if p]
    out = ". ".join(parts)
    url = f"https://doi.org/{c['doi']}" if c.get("doi") else c.get("url")
    if url:
        out += ". " + link(str(url))
    if c.get("evidence"):
        out += f' <span class="muted">[{esc(c["evidence"])}]</span>'
    if c.get("note"):
        out += f'<br><span class="muted">{esc(c["note"])}</span>'
    return out


def _citations(cs: Any) -> str:
    items = plain(cs) or []
    if not items:
        return '<span class="muted">—</span>'
    return "<ol>" + "".join(f"<li>{citation_html(c)}</li>" for c in items) + "</ol>"


def _thresholds(ts: Any) -> str:
    rows = []
    for t in plain(ts) or []:
        if isinstance(t, Mapping):
            rows.append(
                f"{t.get('name', '')}: {t.get('comparison', '')} {number(float(t['value']))} "
                f"{t.get('unit', '')}".strip()
                if "value" in t
                else str(t)
            )
        else:
            rows.append(str(t))
    return value(rows)


def _plugin(p: Any) -> str:
    p = plain(p)
    if not isinstance(p, Mapping):
        return value(p)
    kind = "built-in" if p.get("builtin") else "third-party"
    return esc(f"{p.get('context', '')} — {p.get('distribution', '')} {p.get('version', '')} ({kind})")


def _finding(f: Mapping[str, Any]) -> str:
    facts = [
        ("rule", esc(f.get("rule"))),
        ("category", esc(f.get("category"))),
        ("value", value(f.get("value"))),
        ("thresholds", _thresholds(f.get("thresholds"))),
        ("evidence level", value(f.get("evidence_level"))),
        ("caveats", value(list(f.get("caveats") or []))),
        ("produced by", _plugin(f.get("plugin"))),
        ("citations", _citations(f.get("citations"))),
    ]
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return (
        f'<div class="finding"><p class="statement">{esc(f.get("statement"))}</p>'
        f'<dl class="kv">{rows}</dl></div>'
    )


def _notices(title: str, items: Sequence[Any], css: str) -> str:
    if not items:
        return f'<h3>{esc(title)}</h3><p class="muted">None.</p>'
    out = [f"<h3>{esc(title)}</h3>"]
    for it in items:
        it = plain(it)
        if not isinstance(it, Mapping):
            out.append(f'<div class="{css}">{value(it)}</div>')
            continue
        label = it.get("rule") or it.get("code") or ""
        why = it.get("reason") or it.get("severity") or ""
        head = f"<strong>{esc(label)}</strong>" + (f' <span class="muted">({esc(why)})</span>' if why else "")
        cites = f"<div>{_citations(it['citations'])}</div>" if it.get("citations") else ""
        out.append(f'<div class="{css}">{head}<br>{esc(it.get("statement", ""))}{cites}</div>')
    return "".join(out)


def _bands(bands: Sequence[Any]) -> str:
    if not bands:
        return ""
    rows: list[tuple[Any, ...]] = []
    for b in plain(bands):
        if not isinstance(b, Mapping):
            rows.append((value(b), "", "", "", "", ""))
            continue
        band = (
            f"mean {number(b['low'])} ± SD {number(b['high'])} (context only)"
            if b.get("kind") == "mean_sd"
            else f"{number(b.get('low', float('nan')))}\u2013{number(b.get('high', float('nan')))}"
        )
        rows.append(
            (
                b.get("population"),
                f"{band} {b.get('unit', '')}".strip(),
                b.get("age_range"),
                b.get("value"),
                b.get("position"),
                Raw(
                    citation_html(b.get("source")) + f'<br><span class="muted">{esc(b.get("caveat"))}</span>'
                ),
            )
        )
    return "<h3>Reference bands</h3>" + table(
        ["population", "band", "age", "value", "position", "source and caveat"], rows, [3]
    )


def _companions(tests: Sequence[Any]) -> str:
    if not tests:
        return ""
    rows: list[tuple[Any, ...]] = []
    for t in plain(tests):
        if isinstance(t, Mapping):
            rows.append(
                (
                    t.get("name"),
                    t.get("reason"),
                    "yes" if t.get("required") else "",
                    Raw(_citations(t.get("citations"))),
                )
            )
        else:
            rows.append((t, "", "", ""))
    return "<h3>Companion tests</h3>" + table(["test", "why", "required", "citations"], rows)


def interpretation_section(interpretation: Any | None) -> str:
    """The interpretation as HTML; a short note when none was requested."""
    if interpretation is None:
        return (
            '<h2>Interpretation</h2><p class="muted">No clinical context was requested '
            "(use <code>--context</code> and <code>--subject</code>).</p>"
        )
    d = plain(interpretation)
    if not isinstance(d, Mapping):
        return "<h2>Interpretation</h2>" + value(d)
    findings = list(d.get("findings") or [])
    parts = [
        "<h2>Interpretation</h2>",
        f'<dl class="kv"><dt>context</dt><dd>{esc(d.get("context"))}</dd>'
        f"<dt>plugin</dt><dd>{_plugin(d.get('plugin'))}</dd></dl>",
    ]
    if d.get("disclaimer"):
        parts.append(f'<p class="disclaimer">{esc(d["disclaimer"])}</p>')
    parts.append("<h3>Findings</h3>")
    if findings:
        parts.extend(_finding(f) for f in findings if isinstance(f, Mapping))
    else:
        parts.append('<p class="muted">No rule of this context produced a finding for this sample.</p>')
    parts.append(_notices("Warnings", list(d.get("warnings") or []), "banner-warn"))
    parts.append(_notices("Refusals", list(d.get("refusals") or []), "banner-refuse"))
    parts.append(_notices("Blocked", list(d.get("blocked") or []), "banner-refuse"))
    parts.append(_bands(list(d.get("reference_bands") or [])))
    parts.append(_companions(list(d.get("companion_tests") or [])))
    return "".join(parts)
