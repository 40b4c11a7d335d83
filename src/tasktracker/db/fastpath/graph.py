"""A graph of tracked models from the joined rows of compiled statements.

An eager load (`selectinload`, `joinedload`) reads rows that hold several models side by
side: a step and its command, a signature entry with its parameter and default variant.
`Graph` takes such rows apart, one slice per model, keeps each model's distinct rows by
primary key (a command shared by ten steps is one object, as in the identity map), then
makes them all the ORM loader's way (`Entities.load`); the caller sets the relationships
the eager load would have set, with `sqlalchemy.orm.attributes.set_committed_value`, the
call the eager loaders themselves end in.

It makes nothing where the ORM's loader would do more than that: a model `Entities.load`
does not make, or a row whose object the session already holds (the ORM would fill only
that object's unloaded attributes, or refresh it): the caller then runs the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from tasktracker.db.fastpath.entities import Entities

Handle = int
"""A recorded row: its position among its model's distinct rows."""


class Graph:
    """The rows of several models read together, then their objects."""

    def __init__(self) -> None:
        self._handles: dict[Entities[Any], dict[tuple[Any, ...], Handle]] = {}
        self._rows: dict[Entities[Any], list[Sequence[Any]]] = {}
        self._objects: dict[Entities[Any], list[Any]] = {}

    def split(self, row: Sequence[Any], *models: Entities[Any]) -> list[Handle | None]:
        """Record a joined row, the models' columns side by side in this order: each
        model's handle, None for the absent side of an outer join."""
        handles: list[Handle | None] = []
        start = 0
        for model in models:
            end = start + len(model.keys)
            handles.append(self.add(model, row[start:end]))
            start = end
        assert start == len(row), "the row holds exactly these models' columns"
        return handles

    def add(self, model: Entities[Any], values: Sequence[Any]) -> Handle | None:
        """Record one model's row (the values of its `columns`): its handle, the same for
        the same primary key; None if the row is absent (its primary key all null)."""
        key = model.identity_of(values)
        handles = self._handles.setdefault(model, {})
        found = handles.get(key)
        if found is None:
            if all(value is None for value in key):
                return None
            rows = self._rows.setdefault(model, [])
            found = handles[key] = len(rows)
            rows.append(values)
        return found

    def load(self, session: Session) -> bool:
        """Make every recorded row's object, tracked by `session`; False, having made
        perhaps some, where the ORM's loader must make them."""
        held = session.identity_map
        if len(held) and any(
            model.identity_key(key) in held for model, keys in self._handles.items() for key in keys
        ):
            return False
        for model, rows in self._rows.items():
            loaded = model.load(session, rows)
            if loaded is None:
                return False
            self._objects[model] = loaded
        return True

    def get(self, model: Entities[Any], handle: Handle | None) -> Any:
        """The object of a loaded row; None for an absent one."""
        return None if handle is None else self._objects[model][handle]

    def all(self, model: Entities[Any]) -> list[Any]:
        """Every loaded object of the model, in the order first read."""
        return self._objects.get(model, [])
