"""Tracked models from compiled queries: the ORM path's reads at the fast path's cost.

Loading a page of models through the ORM costs about four times the raw driver's time, a
little more than plain SQLAlchemy's ORM: most of it is the ORM's per-statement machinery
(compile state, loader criteria, result processing) and its row loader, not the objects
themselves. `Entities` reads the same rows as the ORM would with a `CompiledQuery`
(the same scope criteria, compiled once), then makes each row into a model exactly as the
ORM's loader does for a plain mapping: a new instance in the session's identity map,
persistent, its column attributes set, nothing pending; or, for a row whose identity the
session already holds, the object it holds, unchanged (the ORM does not overwrite loaded
attributes either).

Where the ORM's loader would do more, the caller runs the ORM statement instead
(`load` returns None), so the objects are the same whichever way they were made:

- the mapping is not plain (`plain_mapping`): a column attribute that is not one table
  column, a deferred column, a version counter, inheritance, an eagerly loaded
  relationship, `always_refresh`;
- someone listens to the model's `load` event or the session's `loaded_as_persistent`;
- the session holds one of the rows' objects with expired attributes (the ORM would load
  them from the row).

What this reads of SQLAlchemy beyond its API goes through `db.sqlalchemy_internals`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, bindparam, inspect, select
from sqlalchemy.orm import Mapper, Session

from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.sqlalchemy_internals import blank_instance, load_persistent, plain_mapping

ModelT = TypeVar("ModelT")


class Entities(Generic[ModelT]):
    """How a model's tracked objects are read through compiled queries: the column
    attributes a query selects, in order, and how its rows become the objects."""

    def __init__(self, model: type[ModelT]) -> None:
        mapper: Mapper[ModelT] = inspect(model)
        self.model = model
        self.mapper = mapper
        self.plain = plain_mapping(mapper)
        self._new = blank_instance(model)
        self.keys = tuple(prop.key for prop in mapper.column_attrs)
        self.columns: tuple[ColumnElement[Any], ...] = tuple(
            getattr(model, key) for key in self.keys
        )
        self._identity = tuple(
            self.keys.index(mapper.get_property_by_column(column).key)
            for column in mapper.primary_key
        )

    def identity_of(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """The primary key of a row of `columns`' values, in the mapper's order."""
        return tuple([values[i] for i in self._identity])

    def identity_key(self, primary_key: tuple[Any, ...]) -> Any:
        """The identity map's key of the row with this primary key."""
        return self.mapper.identity_key_from_primary_key(primary_key)

    def load(self, session: Session, rows: Sequence[Sequence[Any]]) -> list[ModelT] | None:
        """The objects of `rows` (each the decoded values of `columns`), tracked by
        `session`; None where only the ORM's loader makes them as it would."""
        if not self.plain:
            return None
        return load_persistent(session, self.mapper, self.keys, self._identity, rows, new=self._new)

    def get(self, session: Session, identity: tuple[Any, ...]) -> ModelT | None:
        """`session.get(model, identity)`, the primary key's values in order: the object
        the session holds (through the ORM, which refreshes an expired one), else the row
        read by a compiled query, None if there is none in the scope."""
        held = session.identity_map.get(self.identity_key(identity))
        if held is not None or not self.plain:
            return session.get(self.model, identity)
        keys = {f"key_{i}": value for i, value in enumerate(identity)}
        rows = self._by_identity.all(session, **keys)
        if not rows:
            return None
        loaded = self.load(session, rows)
        return loaded[0] if loaded is not None else session.get(self.model, identity)

    def track(self, session: Session, values: Mapping[str, Any]) -> ModelT:
        """The object of a row the unit has just written with these values (every column
        attribute's), tracked as if loaded; read back through the ORM where only its loader
        makes it as it would."""
        row = tuple([values[key] for key in self.keys])
        loaded = self.load(session, [row])
        if loaded is not None:
            return loaded[0]
        found = session.get(self.model, self.identity_of(row))
        assert found is not None, "the row was written in this unit"
        return found

    @functools.cached_property
    def _by_identity(self) -> CompiledQuery[tuple[Any, ...]]:
        key = [self.columns[i] == bindparam(f"key_{n}") for n, i in enumerate(self._identity)]
        return CompiledQuery(select(*self.columns).where(*key), tuple)


_ENTITIES: dict[type[Any], Entities[Any]] = {}


def entities(model: type[ModelT]) -> Entities[ModelT]:
    """The model's `Entities`, made once (two threads may both make it, alike)."""
    found = _ENTITIES.get(model)
    if found is None:
        found = _ENTITIES[model] = Entities(model)
    return found
