"""Evidence records: citations and the provenance tags of CLINICAL.md section 0.

Tags: ``V`` verified in retrieved text; ``V-abs`` verified from the abstract only;
``K`` a standard citation whose content was not retrieved (no numbers may come
from it); ``S`` only from the product brief, never presented as established;
``X`` a retrieved source contradicts or narrows the brief (the source wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cd38._fields import as_dict
from cd38.errors import InvalidArgumentError

__all__ = ["EVIDENCE_TAGS", "S_ONLY_CAVEAT", "Citation", "check_tags"]

EVIDENCE_TAGS = ("V", "V-abs", "K", "S", "X")

# Appended to every finding whose only evidence is the product brief.
S_ONLY_CAVEAT = (
    "This statement comes only from the product brief; no retrieved source confirmed it, "
    "so it is not established."
)


def check_tags(tags: tuple[str, ...], what: str) -> tuple[str, ...]:
    tags = tuple(tags)
    if not tags:
        raise InvalidArgumentError(
            f"{what}: at least one evidence tag is required ({', '.join(EVIDENCE_TAGS)})"
        )
    bad = [t for t in tags if t not in EVIDENCE_TAGS]
    if bad:
        raise InvalidArgumentError(
            f"{what}: unknown evidence tag(s) {bad}; known: {', '.join(EVIDENCE_TAGS)}"
        )
    return tags


@dataclass(frozen=True)
class Citation:
    """One source. Fields that were not retrieved stay None rather than being guessed.

    ``reference`` is the journal-style locator (e.g. "Blood 1999;94:1840");
    ``evidence`` is the tag of what was actually read; ``note`` says what is and
    is not verified about it.
    """

    key: str
    journal: str
    year: int | None
    authors: str | None = None
    title: str | None = None
    reference: str | None = None
    doi: str | None = None
    url: str | None = None
    evidence: str = "V-abs"
    note: str | None = None

    def __post_init__(self) -> None:
        if not self.key or not self.journal:
            raise InvalidArgumentError("a citation needs a key and a journal (or source name)")
        if self.year is not None and not 1800 < self.year < 2200:
            raise InvalidArgumentError(f"citation {self.key!r}: implausible year {self.year}")
        check_tags((self.evidence,), f"citation {self.key!r}")

    @property
    def link(self) -> str | None:
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url

    def short(self) -> str:
        """Author-year (or journal-year) label, e.g. "Damle et al. 1999"."""
        return f"{self.authors or self.journal} {self.year or 'n.d.'}"

    def text(self) -> str:
        parts = [self.authors, self.title, self.reference or f"{self.journal} {self.year or 'n.d.'}"]
        out = ". ".join(p.rstrip(".") for p in parts if p)
        if self.link:
            out += f". {self.link}"
        return f"{out} [{self.evidence}]"

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)
