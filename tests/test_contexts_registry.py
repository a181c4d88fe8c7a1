"""Plugin discovery: built-ins, fabricated third-party entry points, broken plugins, shadowing, disabling."""

from __future__ import annotations

import importlib.metadata
import tomllib
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import cd38
from cd38.contexts import registry
from cd38.contexts.api import ContextOutput

REPO = Path(__file__).resolve().parent.parent


class FakeDist:
    def __init__(self, name: str, version: str = "1.0") -> None:
        self.metadata = {"Name": name}
        self.version = version


class FakeEP:
    """Quacks like importlib.metadata.EntryPoint."""

    group = registry.GROUP

    def __init__(self, name: str, target: Any, dist: str = "third-party", value: str | None = None) -> None:
        self.name = name
        self.value = value or f"fake.module:{name}"
        self.dist = FakeDist(dist)
        self._target = target

    def load(self) -> Any:
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


def make_context(ctx_name: str, **overrides: Any) -> type:
    name = ctx_name
    attrs: dict[str, Any] = {
        "api_version": cd38.contexts.API_VERSION,
        "name": name,
        "version": "9.9",
        "description": f"test context {name}",
        "citations": (cd38.contexts.Citation("x_2020", "Journal", 2020),),
        "applies_to": lambda self, subject: True,
        "interpret": lambda self, ms, subject: ContextOutput(),
    }
    attrs.update(overrides)
    return type(f"Ctx_{name}", (), attrs)


@pytest.fixture
def fake_eps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Installed entry points plus whatever the test appends."""
    installed = list(importlib.metadata.entry_points(group=registry.GROUP))
    extra: list[Any] = []
    monkeypatch.setattr(registry, "_entry_points", lambda: [*installed, *extra])
    monkeypatch.delenv("CD38_DISABLE_PLUGINS", raising=False)
    registry.refresh()
    yield extra
    monkeypatch.undo()
    registry.refresh()


def refresh_with_warnings() -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry.refresh()
    return [str(w.message) for w in caught if issubclass(w.category, cd38.contexts.PluginWarning)]


BUILTIN_NAMES = {
    "general",
    "cll",
    "kidney_transplant",
    "cgvhd",
    "breg",
    "sle_ssc",
    "lymphoma_myeloma",
    "t_cell_activation",
    "solid_tumor_literature",
}


def test_builtins_available_and_described() -> None:
    assert set(cd38.contexts.available()) >= BUILTIN_NAMES
    for name in BUILTIN_NAMES:
        d = cd38.contexts.describe(name)
        assert d["builtin"] is True and d["distribution"] == "cd38" and d["api_version"] == 1
        assert d["description"] and d["citations"] and d["version"] == cd38.__version__
        assert d["rules"] and all(r.startswith(f"{name}.") for r in d["rules"])


def test_pyproject_registers_every_builtin() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["cd38.contexts"] == registry.BUILTINS


def test_builtins_load_through_entry_points(fake_eps: list[Any]) -> None:
    # Whatever the installed metadata holds, cd38's own entry points are recognised as built-ins.
    for name, target in registry.BUILTINS.items():
        ep = importlib.metadata.EntryPoint(name=name, value=target, group=registry.GROUP)
        fake_eps.append(FakeEP(name, ep.load(), dist="cd38", value=target))
    assert refresh_with_warnings() == []
    for name in registry.BUILTINS:
        assert cd38.contexts.describe(name)["source"] == "entry_point"


def test_third_party_discovered_and_stamped(fake_eps: list[Any]) -> None:
    fake_eps.append(FakeEP("my_ctx", make_context("my_ctx"), dist="my-dist"))
    assert refresh_with_warnings() == []
    assert "my_ctx" in cd38.contexts.available()
    d = cd38.contexts.describe("my_ctx")
    assert d["builtin"] is False and d["distribution"] == "my-dist" and d["distribution_version"] == "1.0"
    res = cd38.interpret([], "my_ctx")
    assert res.plugin.distribution == "my-dist" and res.plugin.version == "1.0"


def test_broken_plugin_reported_without_breaking_others(fake_eps: list[Any]) -> None:
    fake_eps.append(FakeEP("broken", ImportError("No module named 'nowhere'"), dist="broken-dist"))
    fake_eps.append(FakeEP("good", make_context("good")))
    msgs = refresh_with_warnings()
    assert len(msgs) == 1 and "'broken'" in msgs[0] and "broken-dist" in msgs[0] and "nowhere" in msgs[0]
    assert "broken" not in cd38.contexts.available()
    assert {"good", *BUILTIN_NAMES} <= set(cd38.contexts.available())
    assert [p.name for p in cd38.contexts.problems()] == ["broken"]
    with pytest.raises(cd38.InvalidArgumentError, match="failed to load"):
        cd38.contexts.describe("broken")
    # the rest keeps working
    res = cd38.interpret(
        [cd38.Measurement("b_cells", 12, "percent_of_parent")], "general", cd38.Subject(age_years=40)
    )
    assert res.findings


def test_constructor_error_reported(fake_eps: list[Any]) -> None:
    def boom(self: Any) -> None:
        raise RuntimeError("cannot start")

    fake_eps.append(FakeEP("boomer", make_context("boomer", __init__=boom)))
    msgs = refresh_with_warnings()
    assert any("'boomer'" in m and "cannot start" in m for m in msgs)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"api_version": 99}, "api_version is 99"),
        ({"interpret": None}, "interpret() is missing"),
        ({"name": "other"}, "differs from its entry-point name"),
        ({"citations": ["Damle 1999"]}, "citations must be a sequence"),
        ({"description": ""}, "description must be a non-empty string"),
        ({"rules": ["a.b"]}, "rules must be a mapping"),
    ],
)
def test_protocol_violations(fake_eps: list[Any], overrides: dict[str, Any], problem: str) -> None:
    fake_eps.append(FakeEP("bad", make_context("bad", **overrides)))
    msgs = refresh_with_warnings()
    assert len(msgs) == 1 and "'bad'" in msgs[0] and problem in msgs[0]
    assert "bad" not in cd38.contexts.available()


def test_not_a_class(fake_eps: list[Any]) -> None:
    fake_eps.append(FakeEP("inst", make_context("inst")()))
    assert any("not a class" in m for m in refresh_with_warnings())


def test_cannot_shadow_builtin(fake_eps: list[Any]) -> None:
    evil = make_context("cll", description="pretend CLL")
    fake_eps.append(FakeEP("cll", evil, dist="evil-dist"))
    msgs = refresh_with_warnings()
    assert any("'cll'" in m and "built-in" in m for m in msgs)
    assert cd38.contexts.describe("cll")["distribution"] == "cd38"
    assert cd38.contexts.describe("cll")["description"] != "pretend CLL"


def test_duplicate_names_warn_first_wins(fake_eps: list[Any]) -> None:
    fake_eps.append(FakeEP("dup", make_context("dup", version="2"), dist="b-dist"))
    fake_eps.append(FakeEP("dup", make_context("dup", version="1"), dist="a-dist"))
    msgs = refresh_with_warnings()
    assert len(msgs) == 1 and "duplicate" in msgs[0] and "b-dist" in msgs[0]
    assert cd38.contexts.describe("dup")["distribution"] == "a-dist"


@pytest.mark.parametrize(
    ("env", "gone"),
    [
        ("all", {"p1", "p2"}),
        ("1", {"p1", "p2"}),
        ("p1", {"p1"}),
        ("dist-two", {"p2"}),
        (" p1 , p2 ", {"p1", "p2"}),
        ("", set()),
    ],
)
def test_disable_plugins(
    fake_eps: list[Any], monkeypatch: pytest.MonkeyPatch, env: str, gone: set[str]
) -> None:
    fake_eps.append(FakeEP("p1", make_context("p1"), dist="dist-one"))
    fake_eps.append(FakeEP("p2", make_context("p2"), dist="dist-two"))
    monkeypatch.setenv("CD38_DISABLE_PLUGINS", env)
    assert refresh_with_warnings() == []
    avail = set(cd38.contexts.available())
    assert avail >= BUILTIN_NAMES
    assert {"p1", "p2"} - avail == gone
    assert set(cd38.contexts.disabled()) - {"vaccine_response"} == gone
    for name in gone:
        with pytest.raises(cd38.InvalidArgumentError, match="disabled by CD38_DISABLE_PLUGINS"):
            cd38.contexts.get(name)


def test_builtins_cannot_be_disabled(fake_eps: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CD38_DISABLE_PLUGINS", "cll")
    assert any("cannot be disabled" in m for m in refresh_with_warnings())
    assert "cll" in cd38.contexts.available()


def test_discovery_is_cached_until_refresh(fake_eps: list[Any]) -> None:
    cd38.contexts.available()
    fake_eps.append(FakeEP("late", make_context("late")))
    assert "late" not in cd38.contexts.available()
    assert "late" in cd38.contexts.refresh()


def test_failing_third_party_interpret_becomes_refusal(fake_eps: list[Any]) -> None:
    def crash(self: Any, ms: Sequence[Any], subject: Any) -> ContextOutput:
        raise ZeroDivisionError("oops")

    fake_eps.append(FakeEP("crashy", make_context("crashy", interpret=crash)))
    registry.refresh()
    with pytest.warns(cd38.contexts.PluginWarning, match="crashy"):
        res = cd38.interpret([], "crashy")
    assert [(r.rule, r.reason) for r in res.refusals] == [("crashy.context", "plugin_error")]


def test_diagnostic_wording_from_a_plugin_is_caught(fake_eps: list[Any]) -> None:
    def bad(self: Any, ms: Sequence[Any], subject: Any) -> ContextOutput:
        f = cd38.Finding(
            "rude.rule", "x", "You have lupus.", (cd38.contexts.Citation("k", "J", 2020),), ("V",)
        )
        return ContextOutput(findings=[f])

    fake_eps.append(FakeEP("rude", make_context("rude", interpret=bad)))
    registry.refresh()
    with pytest.warns(cd38.contexts.PluginWarning, match="diagnostic phrasing"):
        res = cd38.interpret([], "rude")
    assert not res.findings


def test_unregistered_plugin_object_can_be_used_directly() -> None:
    ctx = make_context("draft")()
    res = cd38.interpret([], ctx)
    assert res.plugin.distribution.startswith("unregistered:")
    with pytest.raises(cd38.InvalidArgumentError, match="not a context plugin"):
        cd38.interpret([], object())


def test_applies_to_false_refuses_each_rule(fake_eps: list[Any]) -> None:
    fake_eps.append(
        FakeEP(
            "picky",
            make_context("picky", applies_to=lambda self, s: False, rules={"picky.a": "a", "picky.b": "b"}),
        )
    )
    registry.refresh()
    res = cd38.interpret([], "picky")
    assert [(r.rule, r.reason) for r in res.refusals] == [
        ("picky.a", "not_applicable"),
        ("picky.b", "not_applicable"),
    ]
