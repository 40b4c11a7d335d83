"""The async surface cannot drift from the sync one.

The facades in `src/tasktracker/units/facades/` are generated from the sync classes by
`scripts/generate_async_facades.py`. These tests fail when they are not what the generator
writes now (a sync method added, removed or changed without regenerating), and check by
inspection, independently of the generator, that `AsyncUnit` mirrors `Unit`: the same
attribute names, each the facade of the sync class, with an `async def` twin of every
public method, of the same signature, and nothing else; and that a fast-path method (its
sync body runs `run_steps`) has a facade that awaits `run_steps_async`, never `run_sync`,
and every other method the reverse.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import typing
import uuid
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tasktracker.db.fastpath.steps import run_steps
from tasktracker.tasks.repository import TaskRepository
from tasktracker.tasks.schemas import TaskRow
from tasktracker.units import AsyncUnit, Unit

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "generate_async_facades.py"


def _generator() -> ModuleType:
    pytest.importorskip("ruff", reason="the generator formats with ruff (the dev extra)")
    spec = importlib.util.spec_from_file_location("generate_async_facades", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_committed_facades_are_what_the_generator_writes() -> None:
    generator = _generator()
    drift = generator.differences(generator.facade_modules())
    assert not drift, (
        f"the async facades are not generated from the current sync classes: run "
        f"{generator.REGENERATE}\n" + "\n".join(drift)
    )


def test_the_check_fails_when_a_sync_method_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a new public method of a sync class, not regenerated."""
    generator = _generator()

    def newest_row(self: TaskRepository) -> TaskRow:
        """The newest task, as a read row."""
        return self.read_page(limit=1).items[0]

    monkeypatch.setattr(TaskRepository, "newest_row", newest_row, raising=False)
    modules = generator.facade_modules()
    [drift] = generator.differences(modules)
    assert "+    async def newest_row(self) -> TaskRow:" in drift
    assert "return await self._session.run_sync(lambda s: TaskRepository(s).newest_row())" in drift
    assert generator.main(["--check"]) == 1


def test_a_new_fast_path_method_gets_a_direct_facade(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new sync method that runs steps gets a facade awaiting them: the check fails
    until the facades are regenerated, and the generated one does not go through
    `run_sync`."""
    generator = _generator()

    def first_row(self: TaskRepository, id: uuid.UUID) -> TaskRow:
        """One task, as `read`."""
        return run_steps(self.session, self._read(id))

    monkeypatch.setattr(TaskRepository, "first_row", first_row, raising=False)
    [drift] = generator.differences(generator.facade_modules())
    added = [line for line in drift.splitlines() if line.startswith("+ ")]
    assert "+    async def first_row(self, id: uuid.UUID) -> TaskRow:" in added
    assert any("run_steps_async(" in line for line in added), added
    assert any("TaskRepository(self._session.sync_session)._read(id)" in line for line in added)
    assert not any("run_sync" in line for line in added), added


def test_steps_run_any_other_way_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync method that runs steps but not as `return run_steps(self.session,
    self._steps(...))` would get a `run_sync` facade: the generator refuses it instead."""
    generator = _generator()

    def read_twice(self: TaskRepository, id: uuid.UUID) -> TaskRow:
        run_steps(self.session, self._read(id))
        return run_steps(self.session, self._read(id))

    monkeypatch.setattr(TaskRepository, "read_twice", read_twice, raising=False)
    with pytest.raises(TypeError, match="read_twice: a fast-path method is"):
        generator.facade_modules()


def _carried(unit_class: type) -> dict[str, type]:
    return {
        name: typing.get_type_hints(value.func)["return"]
        for name, value in vars(unit_class).items()
        if isinstance(value, cached_property)
    }


def _public_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and inspect.isfunction(member)
    }


def _bindings(cls: type) -> dict[Any, Any]:
    """The type variables of `cls`'s generic bases, bound (`ModelT` → `Task`)."""
    bound: dict[Any, Any] = {}
    for klass in reversed(cls.__mro__):
        for base in getattr(klass, "__orig_bases__", ()):
            parameters = getattr(typing.get_origin(base), "__parameters__", ())
            for parameter, argument in zip(parameters, typing.get_args(base), strict=False):
                bound[parameter] = argument
    while any(value in bound for value in bound.values()):  # a base's variable, bound below
        bound = {key: bound.get(value, value) for key, value in bound.items()}
    return bound


def _bound(hint: Any, bindings: dict[Any, Any]) -> Any:
    if isinstance(hint, TypeVar):
        return bindings[hint]
    arguments = typing.get_args(hint)
    if not arguments:
        return hint
    bound = tuple(_bound(argument, bindings) for argument in arguments)
    if typing.get_origin(hint) in (typing.Union, __import__("types").UnionType):
        return typing.Union[bound]  # noqa: UP007 (built from a tuple)
    return typing.get_origin(hint)[bound]


def _shape(function: Any, bindings: dict[Any, Any]) -> list[tuple[str, Any, Any, Any]]:
    """Each parameter after `self` (name, kind, default, annotation) and the return type."""
    hints = typing.get_type_hints(function)
    parameters = list(inspect.signature(function).parameters.values())[1:]
    shape = [
        (p.name, p.kind, p.default, _bound(hints.get(p.name, p.empty), bindings))
        for p in parameters
    ]
    return [*shape, ("return", None, None, _bound(hints["return"], bindings))]


def test_async_units_carry_the_facades_of_what_sync_units_carry() -> None:
    sync, facades = _carried(Unit), _carried(AsyncUnit)
    assert list(facades) == list(sync)
    assert {name: facade.__name__ for name, facade in facades.items()} == {
        name: f"Async{cls.__name__}" for name, cls in sync.items()
    }
    session_names = set(dir(AsyncSession)) | {
        name for name in dir(Unit) if name not in sync and not name.startswith("_")
    }
    assert not session_names & set(sync), "a carried name hides a session attribute"


@pytest.mark.parametrize("name", list(_carried(Unit)))
def test_every_sync_method_has_an_async_twin_of_the_same_signature(name: str) -> None:
    sync_class, facade = _carried(Unit)[name], _carried(AsyncUnit)[name]
    sync_methods, async_methods = _public_methods(sync_class), _public_methods(facade)
    assert sorted(async_methods) == sorted(sync_methods), f"{facade.__name__} vs {sync_class}"
    bindings = _bindings(sync_class)
    for method, function in sync_methods.items():
        twin = async_methods[method]
        assert inspect.iscoroutinefunction(twin), f"{facade.__name__}.{method} is not async"
        assert not inspect.iscoroutinefunction(function)
        assert _shape(twin, {}) == _shape(function, bindings), f"{facade.__name__}.{method}"
        fast = "run_steps" in function.__code__.co_names
        bridged = (
            "run_steps_async" in twin.__code__.co_names,
            "run_sync" in twin.__code__.co_names,
        )
        assert bridged == (fast, not fast), f"{facade.__name__}.{method}: fast path {fast}"


FAST_PATH = {
    "tasks": {"children", "create_row", "read", "read_page"},
    "conversations": {"read_latest_messages"},
    "specifications": {"read_resolved"},
}


def test_the_fast_path_methods_are_the_issues() -> None:
    """The methods whose facades await the driver: those of issue 17, and a task's
    children (issue 22), a page of `read_page` (the check above
    keys on the sync source, this one on the list)."""
    found = {
        name: {
            method
            for method, function in _public_methods(sync_class).items()
            if "run_steps" in function.__code__.co_names
        }
        for name, sync_class in _carried(Unit).items()
    }
    assert {name: methods for name, methods in found.items() if methods} == FAST_PATH
