"""``cd38 info FILE...``: what is in an FCS file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from cd38.cli._common import common_options, each_file, out, print_json, state

if TYPE_CHECKING:
    from cd38.fcs import Sample

__all__ = ["info"]


def describe(sample: Sample, path: Path) -> dict[str, Any]:
    kw = sample.keywords
    spill = sample.spillover
    return {
        "file": str(path),
        "version": sample.version,
        "cytometer": kw.get("$CYT"),
        "acquisition_date": kw.get("$DATE"),
        "events": sample.n_events,
        "channels": [
            {"name": c, "marker": m or None, "datatype": d}
            for c, m, d in zip(sample.channels, sample.markers, sample.datatypes, strict=True)
        ],
        "time_channel": sample.time_channel,
        "spillover": None if spill is None else {"detectors": spill.detectors, "source": spill.source},
        "text_encoding": sample.text_encoding,
        "repairs": [{"code": r.code, "message": r.message} for r in sample.repairs],
    }


def _read(path: Path) -> dict[str, Any]:
    from cd38 import read_fcs

    return describe(read_fcs(path), path)


def _show(d: dict[str, Any]) -> None:
    con = out()
    spill = d["spillover"]
    con.print(d["file"], style="bold", markup=False)
    facts = [
        ("version", d["version"]),
        ("cytometer", d["cytometer"] or "-"),
        ("acquired", d["acquisition_date"] or "-"),
        ("events", f"{d['events']:,}"),
        ("spillover", f"{len(spill['detectors'])} detectors ({spill['source']})" if spill else "none"),
        ("repairs", str(len(d["repairs"])) if d["repairs"] else "none"),
    ]
    for k, v in facts:
        con.print(f"  {k:<10} {v}", markup=False)
    for r in d["repairs"]:
        con.print(f"    [{r['code']}] {r['message']}", markup=False)
    t = Table("channel", "marker", "type", box=None, pad_edge=False, padding=(0, 2))
    comp = set(spill["detectors"]) if spill else set()
    for ch in d["channels"]:
        name = ch["name"] + (" *" if ch["name"] in comp else "")
        t.add_row(name, ch["marker"] or "", ch["datatype"])
    con.print(t)
    if comp:
        con.print("  * in the spillover matrix", markup=False)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list, one object per file).")
@common_options
def info(files: tuple[Path, ...], as_json: bool) -> None:
    """Version, instrument, events, channels with markers, spillover and repairs of FCS FILES."""
    done, failed = each_file(files, "reading", _read)
    if as_json:
        print_json([d for _, d in done])
    else:
        for _, d in done:
            _show(d)
    if failed:
        if not state().quiet and len(files) > 1:
            click.echo(f"cd38: {failed} of {len(files)} files failed", err=True)
        click.get_current_context().exit(1)
