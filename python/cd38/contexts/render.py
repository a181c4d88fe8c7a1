"""Markdown rendering of an :class:`cd38.Interpretation`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cd38.contexts.evidence import Citation

if TYPE_CHECKING:
    from cd38.interpretation import Interpretation

__all__ = ["markdown"]


def _cites(cs: tuple[Citation, ...]) -> str:
    return "; ".join(c.text() for c in cs)


def markdown(interp: Interpretation) -> str:
    from cd38.interpretation import DISCLAIMER

    p = interp.plugin
    lines = [
        f"# cd38 interpretation: `{interp.context}`",
        "",
        f"Plugin: {p.distribution} {p.version} (context `{p.context}`); cd38 {interp.cd38_version}.",
        "",
        f"> {DISCLAIMER}",
        "",
    ]
    if interp.measurements:
        lines += ["## Measurements", ""]
        lines += [
            f"- `{m.population}`: {m.describe()}"
            + (f" (CD38 gate: {m.gate_definition})" if m.gate_definition else "")
            for m in interp.measurements
        ]
        lines.append("")
    lines += ["## Findings", ""]
    if not interp.findings:
        lines += ["None.", ""]
    for f in interp.findings:
        lines += [
            f"### `{f.rule}`: {f.category}",
            "",
            f.statement,
            "",
            f"- Evidence: {', '.join(f.evidence_level)}",
        ]
        if f.thresholds:
            lines.append(
                "- Thresholds: "
                + "; ".join(f"{t.name} {t.comparison} {t.value:g} ({t.unit})" for t in f.thresholds)
            )
        lines += [f"- Caveat: {c}" for c in f.caveats]
        lines += [f"- Source: {c.text()}" for c in f.citations]
        lines.append("")
    sections = [
        (
            "Warnings",
            [
                f"- **{w.code}** ({w.severity}): {w.statement}"
                + (f" Sources: {_cites(w.citations)}" if w.citations else "")
                for w in interp.warnings
            ],
        ),
        ("Blocked", [f"- `{b.rule}` ({b.reason}): {b.statement}" for b in interp.blocked]),
        ("Refusals", [f"- `{r.rule}` ({r.reason}): {r.statement}" for r in interp.refusals]),
        (
            "Reference bands",
            [
                f"- `{b.population}` ({b.unit}{', of ' + b.parent if b.parent else ''}), age "
                f"{b.age_range}, {b.phenotype}: {b.describe()}. {b.caveat}"
                for b in interp.reference_bands
            ],
        ),
        (
            "Companion tests",
            [
                f"- {c.name}{' (required)' if c.required else ''}: {c.reason} [{', '.join(c.evidence_level)}]"
                for c in interp.companion_tests
            ],
        ),
    ]
    for title, items in sections:
        if items:
            lines += [f"## {title}", "", *items, ""]
    return "\n".join(lines).rstrip() + "\n"
