"""A read-only, case-insensitive view of an FCS data set's TEXT keywords."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping


class Keywords(Mapping[str, str]):
    """TEXT keywords in file order. Lookups ignore case, as the FCS standard says;
    iteration gives the keywords as the file spells them.

    >>> kw = Keywords([("$P1N", "FSC-A")])
    >>> kw["$p1n"]
    'FSC-A'
    """

    __slots__ = ("_index", "_pairs")

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs: dict[str, str] = {}
        self._index: dict[str, str] = {}
        for key, value in pairs:
            upper = key.upper()
            if upper in self._index:
                continue
            self._index[upper] = key
            self._pairs[key] = value

    def __getitem__(self, key: str) -> str:
        return self._pairs[self._index[key.upper()]]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.upper() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Keywords({len(self)} keywords)"
