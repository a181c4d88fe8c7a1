"""What every file of a batch gets: the strategy (fixed or from a panel) and the outputs asked for.

The *job key* decides whether an existing result can be reused: SHA-256 of the
strategy part and the output options (statistics, channels, percentiles, value
space, contexts and the sample's subject). The strategy part is

- for a fixed :class:`~cd38.GatingStrategy`: its own hash (canonical Gating-ML);
- for a panel (``"bcell"`` or a callable ``f(sample, **options) -> GatingStrategy``):
  the callable's identity (module and qualified name) and its options, plus the
  cd38 version when the callable is cd38's own (its code ships with cd38). The
  callable's code is not hashed: after changing it, rerun with ``force=True``.
  The strategy the panel produced for each file is hashed into its manifest and
  tables for provenance.

``require`` lists populations every file must have: a panel leaves out the
subsets whose markers a file lacks, and such a file is then recorded as failed
rather than giving a partial table. For ``"bcell"`` the default is the B cells
and the four CD38 x IgM quadrants (so CD19, CD38 and IgM are required markers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cd38.errors import GatingError, InvalidArgumentError
from cd38.gating import GatingStrategy
from cd38.stats import DEFAULT_STATS, KNOWN

if TYPE_CHECKING:
    from cd38.fcs import Sample

__all__ = ["JobSpec", "PanelFn", "make_spec"]

PanelFn = Callable[..., GatingStrategy]
PANELS = ("bcell",)
REQUIRED = {
    "bcell": ("b_cells", "cd38pos_igmneg", "cd38pos_igmpos", "cd38neg_igmpos", "cd38neg_igmneg"),
}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def _callable_id(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{module}.{name}"


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs besides the file (pickled to every worker)."""

    strategy: GatingStrategy | None
    panel: str | PanelFn | None
    panel_options: Mapping[str, Any] = field(default_factory=dict)
    channels: tuple[str, ...] | None = None
    stats: tuple[str, ...] = DEFAULT_STATS
    percentiles: tuple[float, ...] = ()
    on: str = "scale"
    contexts: tuple[str, ...] = ()
    require: tuple[str, ...] = ()

    def strategy_for(self, sample: Sample) -> GatingStrategy:
        """The strategy for one sample (the fixed one, or the panel's for this sample)."""
        if self.strategy is not None:
            return self.strategy
        fn = resolve_panel(self.panel)
        strategy = fn(sample, **dict(self.panel_options))
        if not isinstance(strategy, GatingStrategy):
            raise InvalidArgumentError(
                f"panel {_callable_id(fn)} returned {type(strategy).__name__}, not a GatingStrategy"
            )
        self._check_required(sample, strategy)
        return strategy

    def _check_required(self, sample: Sample, strategy: GatingStrategy) -> None:
        have = set(strategy.population_ids())
        lacking = [p for p in self.require if p not in have]
        if lacking:
            why = strategy.info.get("missing", {})
            reasons = "; ".join(f"{p}: {why[p]}" for p in lacking if p in why)
            raise GatingError(
                f"{sample.path}: required population(s) {lacking} could not be gated"
                + (f" ({reasons})" if reasons else "")
            )

    def strategy_part(self) -> dict[str, Any]:
        if self.strategy is not None:
            return {"strategy_sha256": self.strategy.hash()}
        fn = resolve_panel(self.panel)
        ident = _callable_id(fn)
        part: dict[str, Any] = {"panel": ident, "panel_options": _json(dict(self.panel_options))}
        if ident.startswith("cd38."):
            from cd38 import __version__

            part["cd38_version"] = __version__
        return part

    def job_key(self, subject: Any = None) -> str:
        """SHA-256 identifying what is computed for a file (see the module docstring)."""
        doc = {
            **self.strategy_part(),
            "channels": None if self.channels is None else list(self.channels),
            "stats": list(self.stats),
            "percentiles": list(self.percentiles),
            "on": self.on,
            "contexts": list(self.contexts),
            "subject": _subject_doc(subject) if self.contexts else None,
            "require": list(self.require),
        }
        return hashlib.sha256(_json(doc).encode("utf-8")).hexdigest()


def _subject_doc(subject: Any) -> Any:
    to_dict = getattr(subject, "to_dict", None)
    return to_dict() if callable(to_dict) else repr(subject)


def resolve_panel(panel: str | PanelFn | None) -> PanelFn:
    """A panel name (imported lazily, so cd38.panels loads only when used) or a callable."""
    if callable(panel):
        return panel
    if panel == "bcell":
        from cd38.panels import bcell

        fn: PanelFn = bcell
        return fn
    raise InvalidArgumentError(f"unknown panel {panel!r}; panels: {', '.join(PANELS)} or a callable")


def make_spec(
    strategy_or_panel: GatingStrategy | str | PanelFn,
    *,
    panel_options: Mapping[str, Any] | None,
    stats: Sequence[str],
    channels: Sequence[str] | None,
    percentiles: Sequence[float],
    on: str,
    contexts: Sequence[str] | None,
    require: Sequence[str] | None = None,
) -> JobSpec:
    """Check the arguments once, before any file is touched, and bundle them."""
    if isinstance(stats, str):
        stats = [stats]
    unknown = [s for s in stats if s not in KNOWN]
    if unknown:
        raise InvalidArgumentError(f"unknown statistic(s) {unknown}; known: {', '.join(KNOWN)}")
    if on not in ("scale", "compensated", "transformed"):
        raise InvalidArgumentError(f"on must be 'scale', 'compensated' or 'transformed', not {on!r}")
    strategy: GatingStrategy | None = None
    panel: str | PanelFn | None = None
    if isinstance(strategy_or_panel, GatingStrategy):
        strategy_or_panel.validate()
        strategy = strategy_or_panel
        if panel_options:
            raise InvalidArgumentError("panel_options apply to a panel, not to a fixed GatingStrategy")
        unknown = [p for p in require or () if p not in strategy.population_ids()]
        if unknown:
            raise InvalidArgumentError(f"required population(s) {unknown} are not in the strategy")
    elif isinstance(strategy_or_panel, str) or callable(strategy_or_panel):
        resolve_panel(strategy_or_panel)  # fail now if the panel cannot be loaded
        panel = strategy_or_panel
    else:
        raise InvalidArgumentError(
            f"strategy_or_panel must be a GatingStrategy, a panel name or a callable, "
            f"not {type(strategy_or_panel).__name__}"
        )
    return JobSpec(
        strategy=strategy,
        panel=panel,
        panel_options=dict(panel_options or {}),
        channels=None if channels is None else tuple(str(c) for c in channels),
        stats=tuple(stats),
        percentiles=tuple(float(q) for q in percentiles),
        on=on,
        contexts=tuple(contexts or ()),
        require=tuple(
            REQUIRED.get(panel, ()) if require is None and isinstance(panel, str) else require or ()
        ),
    )
