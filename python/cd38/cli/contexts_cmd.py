"""``cd38 contexts``: the installed clinical-context plugins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from rich.table import Table

from cd38.cli._common import common_options, out, print_json

__all__ = ["contexts", "listing"]


def listing() -> list[dict[str, Any]]:
    """One record per installed context (built-in and third-party)."""
    from cd38 import contexts as ctx
    from cd38.report._html import plain

    rows = []
    for name in ctx.available():
        d = plain(ctx.describe(name))
        rows.append(dict(d) if isinstance(d, Mapping) else {"name": name, "description": str(d)})
        rows[-1].setdefault("name", name)
    return rows


def _field(d: Mapping[str, Any], *keys: str) -> str:
    for k in keys:
        v = d.get(k)
        if isinstance(v, Mapping):
            continue
        if v not in (None, ""):
            return str(v)
    return ""


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@common_options
def contexts(as_json: bool) -> None:
    """List the installed context plugins with their distributions and versions."""
    rows = listing()
    if as_json:
        print_json(rows)
        return
    # Names and versions never wrap (they are what users type); descriptions take the rest.
    t = Table(box=None, padding=(0, 2))
    for col in ("context", "version", "distribution", "kind"):
        t.add_column(col, no_wrap=True)
    t.add_column("description", ratio=1)
    for d in rows:
        dist = " ".join(x for x in (_field(d, "distribution"), _field(d, "distribution_version")) if x)
        builtin = d.get("builtin")
        kind = "" if builtin is None else ("built-in" if builtin else "third-party")
        t.add_row(_field(d, "name"), _field(d, "version"), dist, kind, _field(d, "description"))
    out().print(t)
