"""Shared plumbing of the interpretation data classes: keyword validation (unknown
fields are errors, not ignored) and their plain JSON-ready dictionaries."""

from __future__ import annotations

import dataclasses
import difflib
import functools
from datetime import date
from typing import Any, TypeVar

from cd38.errors import InvalidArgumentError

T = TypeVar("T")


def reject_unknown_fields(cls: type[T]) -> type[T]:
    """Wrap a dataclass's ``__init__`` so an unknown keyword raises a cd38 error naming it
    (with the closest field name) instead of a bare TypeError."""
    init = cls.__init__
    dc_fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    fields = list(dc_fields)
    positional = sum(1 for f in dc_fields.values() if not f.kw_only)
    name = cls.__name__

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > positional:
            raise InvalidArgumentError(
                f"{name} takes {positional or 'no'} positional argument(s); give the rest by name"
            )
        unknown = [k for k in kwargs if k not in fields]
        if unknown:
            hints = []
            for k in unknown:
                close = difflib.get_close_matches(k, fields, n=1)
                hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise InvalidArgumentError(f"unknown {name} field(s): {', '.join(hints)}")
        init(self, *args, **kwargs)

    cls.__init__ = checked  # type: ignore[method-assign]
    return cls


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: nested records via their ``to_dict``, sequences as
    lists, dates as ISO strings; everything else unchanged."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


def as_dict(obj: Any, **derived: Any) -> dict[str, Any]:
    """Every field of the dataclass ``obj``, in declaration order, made :func:`plain`;
    ``derived`` adds (or replaces) computed entries."""
    out = {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    out.update(derived)
    return out
