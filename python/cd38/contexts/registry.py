"""Discovery of context plugins through the ``cd38.contexts`` entry-point group.

Built-in contexts are registered in cd38's own pyproject under the same group.
Discovery runs once and is cached (:func:`refresh` re-runs it). A plugin that
fails to import or violates the protocol is skipped with a :class:`PluginWarning`
naming it; every other context keeps working. A third party cannot take a
built-in name, duplicate names warn (the first distribution in name order wins),
and ``CD38_DISABLE_PLUGINS`` ("all", or a comma list of context or distribution
names) switches third-party plugins off.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cd38.contexts.api import API_VERSION, PluginWarning, protocol_problems
from cd38.errors import InvalidArgumentError

__all__ = [
    "BUILTINS",
    "GROUP",
    "PluginProblem",
    "available",
    "describe",
    "get",
    "plugin_info",
    "problems",
    "refresh",
]

GROUP = "cd38.contexts"
BUILTIN_DIST = "cd38"
BUILTINS: dict[str, str] = {
    "general": "cd38.contexts.general:GeneralContext",
    "cll": "cd38.contexts.cll:CLLContext",
    "kidney_transplant": "cd38.contexts.kidney_transplant:KidneyTransplantContext",
    "cgvhd": "cd38.contexts.cgvhd:CGVHDContext",
    "breg": "cd38.contexts.breg:BregContext",
    "sle_ssc": "cd38.contexts.sle_ssc:SLESScContext",
    "lymphoma_myeloma": "cd38.contexts.lymphoma_myeloma:LymphomaMyelomaContext",
    "t_cell_activation": "cd38.contexts.t_cell_activation:TCellActivationContext",
    "solid_tumor_literature": "cd38.contexts.solid_tumor:SolidTumorLiteratureContext",
}
_ALL_WORDS = {"1", "all", "*", "true", "yes"}


@dataclass(frozen=True)
class PluginProblem:
    """A plugin that was skipped, and why."""

    name: str
    distribution: str
    target: str
    problem: str


@dataclass
class _Entry:
    name: str
    plugin: Any
    distribution: str
    version: str
    target: str
    builtin: bool
    source: str  # "entry_point" or "builtin_fallback"


@dataclass
class _State:
    entries: dict[str, _Entry] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


_lock = threading.Lock()
_state: _State | None = None


def _entry_points() -> Sequence[Any]:
    """The installed entry points of the group (tests replace this to fabricate some)."""
    return list(importlib.metadata.entry_points(group=GROUP))


def _dist_of(ep: Any) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown", "unknown"
    meta_name = dist.metadata["Name"] if dist.metadata is not None else None
    return str(meta_name or getattr(dist, "name", "unknown")), str(dist.version)


def _is_builtin(ep: Any) -> bool:
    return _dist_of(ep)[0].lower() == BUILTIN_DIST and BUILTINS.get(ep.name) == ep.value


def _disabled_spec() -> tuple[bool, set[str]]:
    raw = os.environ.get("CD38_DISABLE_PLUGINS", "").strip()
    if not raw:
        return False, set()
    words = {w.strip().lower() for w in raw.split(",") if w.strip()}
    return bool(words & _ALL_WORDS), words - _ALL_WORDS


def _load(state: _State, ep: Any, *, builtin: bool, source: str) -> None:
    dist, version = _dist_of(ep)
    if builtin:
        from cd38 import __version__

        dist, version = BUILTIN_DIST, version if version != "unknown" else __version__
    try:
        obj = ep.load()
        if not isinstance(obj, type):
            raise TypeError(f"{ep.value} is not a class")
        plugin = obj()
    except Exception as exc:  # any failure in third-party code must not break discovery
        _problem(state, ep.name, dist, ep.value, f"failed to load: {type(exc).__name__}: {exc}")
        return
    issues = protocol_problems(plugin, ep.name)
    if issues:
        _problem(state, ep.name, dist, ep.value, "violates the context protocol: " + "; ".join(issues))
        return
    state.entries[ep.name] = _Entry(ep.name, plugin, dist, version, ep.value, builtin, source)


def _problem(state: _State, name: str, dist: str, target: str, text: str) -> None:
    state.problems.append(PluginProblem(name, dist, target, text))
    warnings.warn(
        f"cd38 context plugin {name!r} ({dist}, {target}) skipped: {text}", PluginWarning, stacklevel=4
    )


def _discover() -> _State:
    state = _State()
    eps = _entry_points()
    builtin_eps = {ep.name: ep for ep in eps if _is_builtin(ep)}
    for name, target in BUILTINS.items():
        if name in builtin_eps:
            _load(state, builtin_eps[name], builtin=True, source="entry_point")
        else:  # running from a source tree, or installed metadata older than this code
            fallback = importlib.metadata.EntryPoint(name=name, value=target, group=GROUP)
            _load(state, fallback, builtin=True, source="builtin_fallback")
    _discover_third_party(state, [ep for ep in eps if not _is_builtin(ep)])
    return state


def _discover_third_party(state: _State, eps: Iterable[Any]) -> None:
    disable_all, disabled = _disabled_spec()
    for name in sorted(disabled & set(BUILTINS)):
        warnings.warn(
            f"CD38_DISABLE_PLUGINS: built-in context {name!r} cannot be disabled", PluginWarning, stacklevel=3
        )
    for ep in sorted(eps, key=lambda e: (e.name, _dist_of(e)[0], e.value)):
        dist = _dist_of(ep)[0]
        if ep.name in BUILTINS:
            _problem(state, ep.name, dist, ep.value, "cannot replace the built-in context of the same name")
        elif disable_all or ep.name.lower() in disabled or dist.lower() in disabled:
            state.disabled.append(ep.name)
        elif ep.name in state.entries:
            first = state.entries[ep.name]
            _problem(
                state,
                ep.name,
                dist,
                ep.value,
                f"duplicate context name; {first.distribution} ({first.target}) already provides it",
            )
        else:
            _load(state, ep, builtin=False, source="entry_point")


def _current() -> _State:
    global _state
    with _lock:
        if _state is None:
            _state = _discover()
        return _state


def refresh() -> list[str]:
    """Forget the cached discovery and run it again; returns the available names."""
    global _state
    with _lock:
        _state = None
    return available()


def available() -> list[str]:
    """Names of every usable context, sorted."""
    return sorted(_current().entries)


def problems() -> list[PluginProblem]:
    """Plugins skipped at the last discovery, and why."""
    return list(_current().problems)


def disabled() -> list[str]:
    """Third-party contexts switched off by ``CD38_DISABLE_PLUGINS``."""
    return list(_current().disabled)


def _entry(name: str) -> _Entry:
    state = _current()
    if name not in state.entries:
        why = next((p.problem for p in state.problems if p.name == name), None)
        if name in state.disabled:
            why = "disabled by CD38_DISABLE_PLUGINS"
        extra = f" ({why})" if why else ""
        raise InvalidArgumentError(
            f"no context {name!r}{extra}; available: {', '.join(sorted(state.entries))}"
        )
    return state.entries[name]


def get(name: str) -> Any:
    """The loaded plugin object of a context."""
    return _entry(name).plugin


def plugin_info(name: str) -> Any:
    """The :class:`cd38.interpretation.PluginInfo` of a context (distribution and version)."""
    from cd38.interpretation import PluginInfo

    e = _entry(name)
    return PluginInfo(e.name, e.distribution, e.version, e.builtin)


def describe(name: str) -> dict[str, Any]:
    """A context's description, version, distribution, rules and citations."""
    e = _entry(name)
    p = e.plugin
    return {
        "name": e.name,
        "description": p.description,
        "version": p.version,
        "api_version": API_VERSION,
        "distribution": e.distribution,
        "distribution_version": e.version,
        "builtin": e.builtin,
        "entry_point": e.target,
        "source": e.source,
        "rules": dict(getattr(p, "rules", {})),
        "citations": [c.to_dict() for c in p.citations],
    }
