"""The report: one self-contained HTML file for one gated sample.

Images are PNGs embedded as data URIs and the CSS is inline, so the file needs
no network and no companion files to be viewed, archived or mailed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cd38.errors import Cd38Error
from cd38.report._atomic import write_text
from cd38.report._html import CSS, definition_list, esc, image, plain, table
from cd38.report._interpretation import interpretation_section

if TYPE_CHECKING:
    from cd38.gating.result import GatingResult

__all__ = ["DISCLAIMER", "build_report", "write_report"]

DISCLAIMER = (
    "This report is not a diagnosis and is not medical advice. It describes measured cell populations "
    "and what cited studies reported for comparable measurements. Results depend on the panel, gating, "
    "instrument and laboratory; interpret them with a qualified clinician, together with the "
    "clinical picture and other tests."
)

_ACQUISITION_KEYWORDS = [
    ("$CYT", "cytometer"),
    ("$DATE", "acquisition date"),
    ("$BTIM", "acquisition start"),
    ("$ETIM", "acquisition end"),
    ("$SYS", "acquisition software"),
    ("$TIMESTEP", "time step (s)"),
]


def _provenance_section(result: GatingResult) -> str:
    from cd38 import __version__
    from cd38.stats import provenance

    s = result.sample
    prov = provenance(result)
    kw = s.keywords
    facts: list[tuple[str, Any]] = [
        ("file", prov["sample"]),
        ("file BLAKE3", prov["file_blake3"]),
        ("FCS version", s.version),
        ("events", s.n_events),
        ("channels", s.n_channels),
    ]
    facts += [(label, kw[k]) for k, label in _ACQUISITION_KEYWORDS if k in kw]
    if prov.get("cytometer_serial"):
        facts.append(("cytometer serial", prov["cytometer_serial"]))
    spill = s.spillover
    facts.append(
        (
            "spillover",
            f"{len(spill.detectors)} detectors ({spill.source or 'file'})" if spill else "none in file",
        )
    )
    facts.append(("repairs made while reading", [str(r) for r in s.repairs] or "none"))
    facts += [("gating strategy SHA-256", prov["strategy_sha256"]), ("cd38 version", __version__)]
    markers = s.markers
    used = set(spill.detectors) if spill is not None else set()
    rows = [(c, m or "", "yes" if c in used else "") for c, m in zip(s.channels, markers, strict=True)]
    channels = table(["channel ($PnN)", "marker ($PnS)", "compensated"], rows)
    return "<h2>Sample and acquisition</h2>" + definition_list(facts) + "<h3>Channels</h3>" + channels


def _strategy_section(result: GatingResult) -> str:
    info = plain(result.strategy.info)
    parts = ["<h2>Gating</h2>"]
    if info.get("panel"):
        facts = [
            ("panel", f"{info['panel']} v{info.get('panel_version', '?')}"),
            ("CD38 gate definition (CD38 x IgM quadrants)", info.get("cd38_gate_definition")),
            ("markers", info.get("markers")),
            ("transform", info.get("transform")),
            ("notes", info.get("notes")),
        ]
        parts.append(definition_list([(k, v) for k, v in facts if v]))
        cuts = info.get("thresholds") or {}
        if cuts:
            rows = [
                (k, c.get("channel"), c.get("value"), c.get("method"), _cut_detail(c, result))
                for k, c in cuts.items()
                if isinstance(c, Mapping)
            ]
            parts.append(
                "<h3>Thresholds</h3>" + table(["cut", "channel", "value", "method", "detail"], rows, [2])
            )
        missing = info.get("missing") or {}
        if missing:
            parts.append(
                '<h3>Subsets not gated</h3><div class="banner-warn">'
                + table(["population", "reason"], list(missing.items()))
                + "</div>"
            )
    else:
        parts.append(f"<p>{len(result.strategy)} gates, {len(result.populations)} populations.</p>")
        if info:
            parts.append(definition_list(info.items()))
    parts.append("<h3>Hierarchy</h3><pre>" + esc(result.strategy.tree()) + "</pre>")
    return "".join(parts)


def _cut_detail(c: Mapping[str, Any], result: GatingResult) -> str:
    params = c.get("parameters") or {}
    bits = [
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in params.items()
        if not isinstance(v, list | dict)
    ]
    own = str(result.sample.path) if result.sample.path is not None else None
    if c.get("source") and str(c["source"]) != own:
        bits.append(f"from {os.path.basename(str(c['source']))}")
    return ", ".join(bits)


def _population_section(result: GatingResult) -> str:
    try:
        from cd38.panels import POPULATIONS as described
    except ImportError:  # pragma: no cover - the panels package ships with cd38
        described = {}
    df = result.counts()
    rows = []
    for r in df.iter_rows(named=True):
        pid = r["population"]
        what = described.get(pid, (None, ""))[1] if result.strategy.info.get("panel") else ""
        rows.append((pid, what, r["parent"] or "all events", r["count"], r["pct_parent"], r["pct_total"]))
    return "<h2>Populations</h2>" + table(
        ["population", "definition", "parent", "events", "% of parent", "% of all events"], rows, [3, 4, 5]
    )


def _figure_section(result: GatingResult) -> str:
    from cd38.plot import hierarchy, to_png

    parts = ["<h2>Plots</h2>"]
    fig = _cd38_igm(result)
    if isinstance(fig, str):
        parts.append(f'<div class="banner-warn">{esc(fig)}</div>')
    else:
        parts.append(image(to_png(fig), "CD38 x IgM of B cells", "CD38 x IgM with the quadrant gates."))
    parts.append(
        image(
            to_png(hierarchy(result), dpi=90),
            "gating hierarchy",
            "Every gate on its parent population (percentages of the parent).",
        )
    )
    return "".join(parts)


def _cd38_igm(result: GatingResult) -> Any:
    """The CD38 x IgM plot of B cells, or a sentence saying why there is none."""
    from cd38.plot import biaxial

    st = result.strategy
    if "cd38pos_igmneg" in st.population_ids():
        gate = st.gate_of("cd38pos_igmneg")
        dims = gate.dimensions_used()
        if len(dims) == 2:
            return biaxial(result, dims[0], dims[1], st.parent_of("cd38pos_igmneg"), gates=[gate.id])
    parent = "b_cells" if "b_cells" in st.population_ids() else None
    try:
        return biaxial(result, "CD38", "IgM", parent, gates=None)
    except Cd38Error as e:
        return f"No CD38 x IgM plot: {e}"


def build_report(
    result: GatingResult,
    *,
    interpretation: Any | None = None,
    title: str | None = None,
    created: dt.datetime | None = None,
) -> str:
    """The report as an HTML string (see the module docstring)."""
    from cd38 import __version__

    name = result.sample.path.name if result.sample.path is not None else "sample"
    when = (created or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M %Z").strip()
    heading = title or f"cd38 report — {name}"
    interp = interpretation_section(interpretation)
    body = "".join(
        [
            f"<h1>{esc(heading)}</h1>",
            f'<p class="muted">Generated {esc(when)} by cd38 {esc(__version__)}.</p>',
            f'<p class="disclaimer">{esc(DISCLAIMER)}</p>',
            _provenance_section(result),
            _strategy_section(result),
            _figure_section(result),
            _population_section(result),
            interp,
            f'<footer><p class="disclaimer">{esc(DISCLAIMER)}</p></footer>',
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{esc(heading)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def write_report(path: str | os.PathLike[str], result: GatingResult, **kwargs: Any) -> Path:
    """Write :func:`build_report` to ``path`` atomically (a temporary file in the
    same directory, then renamed), and return the path."""
    out = Path(path)
    write_text(out, build_report(result, **kwargs))
    return out
