"""Every SQLAlchemy internal the data layer relies on, behind one fence.

The compiled fast path (`db.fastpath`), the scope guard (`db.scope_guard`) and the tenancy
hook (`db.tenancy`) read statement and compiler structures that SQLAlchemy does not
document as API: private attributes, compiler bookkeeping, event dispatch. Each such read
is one function here and nowhere else, so an incompatible SQLAlchemy breaks one module, and
`tests/db/test_sqlalchemy_internals.py` runs each against the installed SQLAlchemy with a
real statement: CI's run on the lowest versions (`scripts/lowest-deps.sh`, SQLAlchemy
2.1.0) and its run on the newest fail there, loudly, rather than let the guard miss an
assignment or the fast path bind a parameter in the wrong place.

Public API (`compile()`, `construct_params`, the type's bind and result processors,
`Dialect.is_disconnect`, `loaded_dbapi`) is used directly where it is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, Connection, Engine, Insert
from sqlalchemy.orm import Mapper, ORMExecuteState, Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase, ValuesBase
from sqlalchemy.sql.elements import BindParameter, OperatorExpression, UnaryExpression
from sqlalchemy.sql.selectable import HasHints, HasPrefixes, HasSuffixes
from sqlmodel import SQLModel

# -- statements: the scope guard and the tenancy hook ---------------------------------------


def cache_key(statement: Executable) -> Hashable | None:
    """The statement's SQL cache key (what makes up its SQL, bound values aside; SQLAlchemy
    memoizes it and reuses it for its compiled cache); None for an uncacheable statement."""
    key = statement._generate_cache_key()  # type: ignore[attr-defined]
    return None if key is None else key.key


def parent_entity(element: Any) -> Any | None:
    """The mapper (or aliased class) an ORM element comes from (a model, one of its
    columns, a `select(Model)`'s FROM); None for plain Core (a table, `table.c.x`)."""
    return element._annotations.get("parententity")


def loader_options(statement: Executable) -> Sequence[Any]:
    """The options given to the statement (`.options(...)`), in order."""
    return statement._with_options


def replace_parameters(state: ORMExecuteState, parameters: Any) -> None:
    """Have the session execute `state`'s statement with `parameters` instead of the
    caller's. Assigning `ORMExecuteState.parameters` is not documented as doing so:
    SQLAlchemy 2.1 reads it back after the `do_orm_execute` hooks (2.0 did not)."""
    state.parameters = parameters


def has_prefix_suffix_or_hint(element: Any) -> bool:
    """Whether the element carries raw SQL as a prefix, suffix or (statement) hint."""
    return bool(
        (isinstance(element, HasPrefixes) and element._prefixes)
        or (isinstance(element, HasSuffixes) and element._suffixes)
        or (isinstance(element, HasHints) and (element._hints or element._statement_hints))
    )


def operators_of(element: Any) -> tuple[Any, ...]:
    """The operators an expression applies (a binary or boolean operator; a unary's
    operator and modifier, `None` where absent)."""
    if isinstance(element, OperatorExpression):
        return (element.operator,)
    if isinstance(element, UnaryExpression):
        return (element.operator, element.modifier)
    return ()


def has_single_values(statement: Insert) -> bool:
    """Whether an INSERT was given one row's values (`.values(a=1)`), not none or many."""
    return statement._values is not None


def inserts_from_select(statement: Insert) -> bool:
    """Whether an INSERT takes its rows from a SELECT (`from_select`)."""
    return statement.select is not None


def assignments(statement: UpdateBase) -> Iterator[tuple[str, Any]]:
    """Each (column name, value) the statement itself assigns: VALUES/SET (every row of
    a multi-row VALUES) and an upsert's
    `ON CONFLICT DO UPDATE SET`; none for a DELETE."""
    if not isinstance(statement, ValuesBase):
        return
    for column, value in (statement._values or {}).items():
        yield _name(column), value
    columns = [column.key for column in statement.table.c]
    for rows in statement._multi_values:
        for row in rows:
            pairs = row.items() if isinstance(row, Mapping) else zip(columns, row, strict=False)
            for column, value in pairs:
                yield _name(column), value
    upsert = getattr(statement, "_post_values_clause", None)
    for column, value in dict(getattr(upsert, "update_values_to_set", ())).items():
        yield _name(column), value


def _name(column: Any) -> str:
    return column if isinstance(column, str) else str(column.key)


# -- compiled statements: the fast path -----------------------------------------------------


def bind_names(compiled: SQLCompiler) -> Iterator[tuple[BindParameter[Any], str]]:
    """Each bound parameter of the compiled statement and the name it is compiled under
    (the key `construct_params` gives its value by)."""
    yield from compiled.bind_names.items()


def positions(compiled: SQLCompiler) -> tuple[str, ...] | None:
    """For a positional paramstyle (`?`, `$1`), the parameter names in the order the
    driver takes them; None for a named one (`%(name)s`)."""
    order = compiled.positiontup
    return None if order is None else tuple(order)


def prefetch_columns(compiled: SQLCompiler) -> list[str]:
    """The columns of a compiled INSERT whose Python-side defaults SQLAlchemy's own
    execution would compute before sending it."""
    return [column.key for column in compiled.insert_prefetch]


def fire_cursor_event(
    connection: Connection | Engine, event: str, cursor: Any, sql: str, parameters: Any
) -> None:
    """Dispatch `before_cursor_execute` or `after_cursor_execute` to the connection's
    listeners, with the arguments SQLAlchemy's own execution gives them (no execution
    context, not executemany)."""
    getattr(connection.dispatch, event)(connection, cursor, sql, parameters, None, False)


# -- tracked models from compiled rows: the fast path's entities ----------------------------

_EAGER = frozenset({"joined", "selectin", "subquery", "immediate"})


def plain_mapping(mapper: Mapper[Any]) -> bool:
    """Whether the ORM's loader makes this mapper's objects from a row by setting each
    column attribute to its column's value, and nothing more (what `load_persistent`
    does): every column attribute one column of the mapped table, none deferred, no
    version counter, no inheritance, no relationship loaded eagerly, no `always_refresh`."""
    table = mapper.local_table
    return (
        mapper.inherits is None
        and not mapper.polymorphic_map
        and mapper.version_id_col is None
        and not mapper.always_refresh
        and all(
            len(prop.columns) == 1
            and isinstance(prop.columns[0], Column)
            and prop.columns[0].table is table
            and not prop.deferred
            for prop in mapper.column_attrs
        )
        and all(prop.lazy not in _EAGER for prop in mapper.relationships)
    )


def blank_instance(model: Any) -> Callable[[], Any]:
    """A function making an instance of `model` as the ORM's loader makes one before it
    sets the attributes: `model.__new__(model)`, no `__init__`. For SQLModel's own
    `__new__` (pydantic's three private slots set to empty, `init_pydantic_private_attrs`),
    the same done inline, a third of its cost, if it gives the same instance here (checked
    once, against the installed SQLModel and pydantic); else `__new__` itself."""

    def through_new() -> Any:
        return model.__new__(model)

    if next(c for c in model.__mro__ if "__new__" in vars(c)) is not SQLModel:
        return through_new
    make = object.__new__
    fields_set, extra, private = (
        BaseModel.__dict__[name].__set__
        for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
    )

    def inline() -> Any:
        obj = make(model)
        fields_set(obj, set())
        extra(obj, None)
        private(obj, None)
        return obj

    return inline if _same_blank(through_new(), inline()) else through_new


def _same_blank(expected: Any, made: Any) -> bool:
    slots = ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
    return vars(expected) == vars(made) and all(
        getattr(expected, slot) == getattr(made, slot) for slot in slots
    )


def load_persistent(
    session: Session,
    mapper: Mapper[Any],
    keys: Sequence[str],
    identity: Sequence[int],
    rows: Iterable[Sequence[Any]],
    *,
    new: Callable[[], Any] | None = None,
) -> list[Any] | None:
    """The objects of `rows` (the values of the attributes `keys`, `identity` the positions
    of the primary key's), made persistent in `session` as the ORM's loader makes a plain
    mapping's (`sqlalchemy.orm.loading`, `_instance`: new instance and its state, identity
    key, session, identity map, column values in its dict); the session's own object for
    an identity it holds. None, having made perhaps some, where the ORM's loader would do
    more: a `load` or `loaded_as_persistent` listener, or a held object with expired
    attributes.

    Inlined as the loader inlines it: the identity map's dict is written directly, and
    the instance is made as `ClassManager.new_instance` makes it, its state stored in its
    `__dict__`, where SQLModel's `__setattr__` would store it."""
    if new is None:
        new = blank_instance(mapper.class_)
    manager = mapper.class_manager
    if manager.dispatch.load or session.dispatch.loaded_as_persistent:
        return None
    identity_map = session.identity_map
    states: dict[Any, Any] = identity_map._dict
    held = states.get if states else None  # a new unit's map is empty: nothing to look up
    weak_map = identity_map._wr
    new_state = manager._state_constructor
    state_attribute = manager.STATE_ATTR
    identity_class = mapper._identity_class
    session_id = session.hash_key
    # The primary key's values as a slice of the row where they lead it ((user_id, id)).
    leading = tuple(identity) == tuple(range(len(identity)))
    width = len(identity)
    objects = []
    for values in rows:
        primary_key = tuple(values[:width]) if leading else tuple([values[i] for i in identity])
        key = (identity_class, primary_key, None)
        if held is not None:
            found: Any = held(key)
            obj = None if found is None else found.obj()
            if obj is not None:
                if found.expired or found.expired_attributes:
                    return None
                objects.append(obj)
                continue
        obj = new()
        state = new_state(obj, manager)
        state.key = key
        state.identity_token = None
        state.session_id = session_id
        state._instance_dict = weak_map
        attributes = obj.__dict__
        attributes.update(zip(keys, values, strict=True))
        attributes[state_attribute] = state
        states[key] = state
        objects.append(obj)
    return objects
