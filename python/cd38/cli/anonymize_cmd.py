"""``cd38 anonymize``: anonymised copies of FCS files, each with an audit record."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from cd38._digest import sha256_file
from cd38.cli._common import common_options, each_file, info

__all__ = ["anonymize"]

_EXAMPLE = "cd38 anonymize raw/*.fcs --out shared/ --shift-days -37"


def _digest_name(src: Path) -> str:
    """A name that says nothing about the patient but that the data owner can link
    back (it is the start of the input's SHA-256, also in the audit record)."""
    return sha256_file(src)[:16] + src.suffix


def _shift(opts: dict[str, Any]) -> int | None:
    from cd38.anonymize import subject_date_offset

    days, subject, secret_env = opts["shift_days"], opts["subject"], opts["secret_env"]
    if subject is None and secret_env is None:
        return days  # type: ignore[no-any-return]
    if days is not None:
        raise click.UsageError("give either --shift-days or --subject with --secret-env, not both")
    if subject is None or secret_env is None:
        raise click.UsageError("--subject and --secret-env go together")
    secret = os.environ.get(secret_env, "")
    if not secret:
        raise click.UsageError(f"environment variable {secret_env} is not set or empty")
    return subject_date_offset(subject, secret)


@click.command("anonymize", epilog=f"Example: {_EXAMPLE}")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory for the anonymised copies and their .audit.json records (created if needed).",
)
@click.option(
    "--policy",
    type=click.Choice(["strict", "standard"]),
    default="strict",
    show_default=True,
    help="strict: keep only what analysis needs; standard: drop identifying and risky keywords.",
)
@click.option("--shift-days", type=int, help="Move dates by this many days instead of removing them.")
@click.option("--subject", help="Subject id for a per-subject date offset (with --secret-env).")
@click.option(
    "--secret-env",
    metavar="VAR",
    help="Environment variable holding the secret that keys per-subject offsets.",
)
@click.option("--remove", multiple=True, metavar="GLOB", help="Also remove keywords matching this pattern.")
@click.option("--keep", multiple=True, metavar="GLOB", help="Keep keywords matching this pattern.")
@click.option(
    "--rename", is_flag=True, help="Name each copy by its input's SHA-256 instead of its file name."
)
@common_options
def anonymize(**opts: Any) -> None:
    """Write anonymised copies of SOURCES (FCS files) into --out.

    Keywords that can identify a patient or operator are removed, dates removed
    or shifted, and DATA copied bit for bit. Inputs are never modified and
    existing outputs never overwritten. A file that fails is reported on one
    line and the others go on; the exit code is then 1."""
    from cd38.anonymize import anonymize as run

    shift = _shift(opts)
    out_dir: Path = opts["out_dir"]
    out_dir.mkdir(parents=True, exist_ok=True)

    def one(src: Path) -> Path:
        name = _digest_name(src) if opts["rename"] else src.name
        res = run(
            src,
            out_dir / name,
            opts["policy"],
            date_shift_days=shift,
            remove=opts["remove"],
            keep=opts["keep"],
        )
        return res.output

    done, failed = each_file(opts["sources"], "anonymizing", one)
    for src, dst in done:
        info(f"{src} -> {dst}")
    info(f"{len(done)} file(s) anonymized, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":  # pragma: no cover
    anonymize()
