"""Finding a panel's markers among a file's channels.

Labs write marker names every way: "CD38", "CD38 PerCP-Cy5.5", "CD38;PerCP;695/40",
"sIgM", "IgM-FITC", "Live/Dead", "7-AAD". A marker is matched on whole tokens of
``$PnS`` (falling back to ``$PnN``), so "CD3" never matches "CD38".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cd38.errors import InvalidArgumentError

if TYPE_CHECKING:
    from cd38.fcs import Sample

__all__ = ["ALIASES", "find_markers", "marker_tokens"]

# Canonical marker -> tokens that name it (lower case).
ALIASES: dict[str, frozenset[str]] = {
    "CD19": frozenset({"cd19"}),
    "CD3": frozenset({"cd3"}),
    "CD38": frozenset({"cd38"}),
    "IgM": frozenset({"igm", "sigm"}),
    "IgD": frozenset({"igd", "sigd"}),
    "CD27": frozenset({"cd27"}),
    "CD24": frozenset({"cd24"}),
    "CD5": frozenset({"cd5"}),
    "CD21": frozenset({"cd21"}),
    "CD45": frozenset({"cd45"}),
    "CD20": frozenset({"cd20"}),
    "Viability": frozenset(
        {"viability", "viab", "live", "dead", "livedead", "l/d", "ld", "lvd", "7-aad", "7aad", "dapi", "pi"}
    ),
}
# Viability dyes also go by product names that appear inside longer tokens.
_VIABILITY = re.compile(r"(viab|live|dead|7-?aad|dapi|zombie|fvs|sytox|propidium|aqua)", re.IGNORECASE)
_SPLIT = re.compile(r"[\s;,_|:()\[\]]+")


def marker_tokens(label: str) -> set[str]:
    """The lower-case tokens of a label, plus each token's part before a '-' or '.'
    ("igm-fitc" -> "igm"; "7-aad" is kept whole too)."""
    out: set[str] = set()
    for tok in _SPLIT.split(label.lower()):
        if not tok:
            continue
        out.add(tok)
        out.add(re.split(r"[-.]", tok, maxsplit=1)[0])
    return out


def _matches(marker: str, label: str) -> bool:
    if not label:
        return False
    if ALIASES[marker] & marker_tokens(label):
        return True
    return marker == "Viability" and bool(_VIABILITY.search(label))


def _lookup(marker: str, sample: Sample) -> str | None:
    """The channel for ``marker``: a unique ``$PnS`` match, else a unique ``$PnN`` match."""
    for labels in (sample.markers, sample.channels):
        hits = [ch for ch, lab in zip(sample.channels, labels, strict=True) if _matches(marker, lab)]
        if len(hits) > 1:
            raise InvalidArgumentError(
                f"{sample.path}: marker {marker} matches several channels {hits}; "
                f"say which with markers={{'{marker}': channel}}"
            )
        if hits:
            return hits[0]
    return None


def find_markers(sample: Sample, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map every known marker present in ``sample`` to its channel (``$PnN``).

    ``overrides`` maps a marker to a channel name (or to a marker label) and wins
    over the lookup; an override naming no channel is an error.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(ALIASES))
    if unknown:
        raise InvalidArgumentError(f"unknown marker(s) {unknown}; known markers are {sorted(ALIASES)}")
    found: dict[str, str] = {}
    for marker in ALIASES:
        if marker in overrides:
            found[marker] = _resolve_channel(sample, overrides[marker], marker)
            continue
        channel = _lookup(marker, sample)
        if channel is not None:
            found[marker] = channel
    taken: dict[str, str] = {}
    for marker, channel in found.items():
        if channel in taken:
            raise InvalidArgumentError(
                f"{sample.path}: channel {channel!r} was matched to both {taken[channel]} and {marker}; "
                "give markers= explicitly"
            )
        taken[channel] = marker
    return found


def _resolve_channel(sample: Sample, name: str, marker: str) -> str:
    if name in sample.channels:
        return name
    if name in sample.markers:
        return sample.channels[sample.markers.index(name)]
    raise InvalidArgumentError(
        f"{sample.path}: markers={{'{marker}': {name!r}}} names no channel; channels are {sample.channels}"
    )
