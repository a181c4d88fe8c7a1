"""`cd38.interpret`: run one context on measurements and add the cross-context parts."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cd38.contexts import registry
from cd38.contexts.api import Applicability, ContextOutput, PluginWarning, protocol_problems
from cd38.contexts.confounders import apply_blockers, confounder_warnings
from cd38.errors import InvalidArgumentError
from cd38.interpretation import Interpretation, PluginInfo, Refusal
from cd38.measurement import Measurement, measurements_from_result, measurements_from_table
from cd38.subject import Subject

if TYPE_CHECKING:
    import polars as pl

    from cd38.gating.result import GatingResult

__all__ = ["interpret", "to_measurements"]


def to_measurements(
    data: Any, *, cd38_gate_definition: str | None = None, absolute: pl.DataFrame | None = None
) -> tuple[list[Measurement], dict[str, Any]]:
    """Measurements from a Measurement, a list of them, a GatingResult or a counts table, and source facts."""
    from cd38.gating.result import GatingResult

    if isinstance(data, Measurement):
        return [data], {"kind": "measurements"}
    if isinstance(data, GatingResult):
        return _from_result(data, cd38_gate_definition, absolute)
    if type(data).__name__ == "DataFrame" and hasattr(data, "iter_rows"):
        ms = measurements_from_table(data, cd38_gate_definition=cd38_gate_definition, absolute=absolute)
        return ms, {"kind": "table"}
    if isinstance(data, Iterable) and not isinstance(data, str | bytes | Mapping):
        items = list(data)
        bad = [x for x in items if not isinstance(x, Measurement)]
        if bad:
            raise InvalidArgumentError(f"expected cd38.Measurement items, got {type(bad[0]).__name__}")
        return items, {"kind": "measurements"}
    raise InvalidArgumentError(
        f"cannot interpret a {type(data).__name__}: give a cd38.Measurement, a list of them, a GatingResult "
        "or a "
        "counts table"
    )


def _from_result(
    result: GatingResult, gate_def: str | None, absolute: pl.DataFrame | None
) -> tuple[list[Measurement], dict[str, Any]]:
    ms = measurements_from_result(result, cd38_gate_definition=gate_def, absolute=absolute)
    sha = result.strategy.hash()
    info = result.strategy.info
    source = {
        "kind": "gating_result",
        "strategy_sha256": sha,
        "gating_version": f"strategy-sha256:{sha[:16]}",
        "panel": info.get("panel"),
        "cd38_gate_definition": gate_def or info.get("cd38_gate_definition"),
        "sample": result.sample.path.name if result.sample.path is not None else None,
    }
    return ms, source


def _resolve(context: Any, options: Mapping[str, Any] | None) -> tuple[Any, PluginInfo]:
    if isinstance(context, str):
        plugin, info = registry.get(context), registry.plugin_info(context)
    else:  # an unregistered plugin object (e.g. while writing one)
        issues = protocol_problems(context, getattr(context, "name", ""))
        if issues:
            raise InvalidArgumentError(f"{context!r} is not a context plugin: {'; '.join(issues)}")
        plugin = context
        info = PluginInfo(
            context.name, f"unregistered:{type(context).__module__}", str(context.version), False
        )
    if options:
        try:
            plugin = type(plugin)(**options)
        except TypeError as exc:
            raise InvalidArgumentError(
                f"context {info.context!r} does not accept options {dict(options)}: {exc}"
            ) from None
    return plugin, info


def _applicability(plugin: Any, subject: Subject) -> Applicability:
    a = plugin.applies_to(subject)
    if isinstance(a, Applicability):
        return a
    return Applicability(
        bool(a), "not_applicable", f"The {plugin.name} context does not apply to this subject."
    )


def _run(plugin: Any, info: PluginInfo, ms: Sequence[Measurement], subject: Subject) -> ContextOutput:
    applies = _applicability(plugin, subject)
    if not applies:
        rules = list(getattr(plugin, "rules", {})) or [f"{info.context}.context"]
        return ContextOutput(refusals=[Refusal(r, applies.reason, applies.statement) for r in rules])
    if info.builtin:
        return _checked(plugin.interpret(tuple(ms), subject), info)
    try:  # third-party code must not take the caller down
        return _checked(plugin.interpret(tuple(ms), subject), info)
    except Exception as exc:
        warnings.warn(
            f"cd38 context plugin {info.context!r} ({info.distribution} {info.version}) failed: "
            f"{type(exc).__name__}: {exc}",
            PluginWarning,
            stacklevel=3,
        )
        return ContextOutput(
            refusals=[
                Refusal(
                    f"{info.context}.context",
                    "plugin_error",
                    f"The {info.context} plugin failed on this input and produced no findings.",
                )
            ]
        )


def _checked(out: Any, info: PluginInfo) -> ContextOutput:
    if not isinstance(out, ContextOutput):
        raise InvalidArgumentError(
            f"context {info.context!r} returned {type(out).__name__}, not ContextOutput"
        )
    return out


def interpret(
    data: Any,
    context: Any = "general",
    subject: Subject | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    cd38_gate_definition: str | None = None,
    absolute: pl.DataFrame | None = None,
    anti_cd38_lookback_months: int = 6,
) -> Interpretation:
    """Interpret CD38/IgM subset results in one clinical context.

    ``data``: a :class:`cd38.Measurement`, a list of them, a :class:`cd38.GatingResult`
    or a counts table. ``context``: a name from :func:`cd38.contexts.available`.
    ``subject``: a :class:`cd38.Subject` (default: nothing known, so most rules refuse).
    ``options`` go to the context's constructor (e.g. ``{"positivity_cutoff": 20}`` for
    cll). The confounder warnings and the blockers (anti-CD38 epitope masking within
    ``anti_cd38_lookback_months``, clonal B cells, sample age) apply to every context.
    """
    from cd38 import __version__

    if subject is None:
        subject = Subject()
    if not isinstance(subject, Subject):
        raise InvalidArgumentError(f"subject must be a cd38.Subject, not {type(subject).__name__}")
    if (
        isinstance(anti_cd38_lookback_months, bool)
        or not isinstance(anti_cd38_lookback_months, int)
        or anti_cd38_lookback_months < 0
    ):
        raise InvalidArgumentError("anti_cd38_lookback_months must be a non-negative whole number of months")
    ms, source = to_measurements(data, cd38_gate_definition=cd38_gate_definition, absolute=absolute)
    plugin, info = _resolve(context, options)
    out = _run(plugin, info, ms, subject)
    stamped = [f.with_plugin(info) for f in out.findings]
    blocked = apply_blockers(stamped, subject, anti_cd38_lookback_months)
    warns = confounder_warnings(subject, ms, anti_cd38_lookback_months) + list(out.warnings)
    return Interpretation(
        context=info.context,
        plugin=info,
        subject=subject,
        measurements=tuple(ms),
        findings=tuple(blocked.kept),
        warnings=tuple(_unique(warns, lambda w: w.code)),
        refusals=tuple(out.refusals),
        blocked=tuple([*out.blocked, *blocked.blocked]),
        reference_bands=tuple(_unique(out.reference_bands, repr)),
        companion_tests=tuple(_unique(out.companion_tests, lambda c: c.name)),
        source=source,
        cd38_version=__version__,
    )


def _unique(items: Iterable[Any], key: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for i in items:
        seen.setdefault(key(i), i)
    return list(seen.values())
