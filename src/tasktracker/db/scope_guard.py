"""What a statement may do inside a user scope, checked before it is sent.

The scope's criteria (`tenancy`) are SQLAlchemy loader criteria: they reach every place a
model appears (main entity, joins, subqueries, aliases, relationship loads), and nothing
else. So inside a user scope a statement may reach tables only through the models, and
may carry no SQL the data layer cannot read. Refused, with `ScopeError`:

- a table used directly (`select(Task.__table__)`, `select(table.c.title)`, a join, alias
  or subquery of one, `insert/update/delete(table)`, a lightweight `table("tasks")`);
- raw SQL: `text()`, `literal_column()` (but the `*` of `COUNT(*)`), custom operators
  other than plain operator symbols, prefixes, suffixes and statement hints, DDL;
- the PostgreSQL functions that run SQL given as text or read a relation by its name
  (`query_to_xml`, `table_to_xml` and their family, `ts_stat`).

Writes are checked for the scope key (`user_id`; `id` for `users`): a statement may set
it only to the scope's own user id, given as a value, and an INSERT may not take its rows
from a SELECT (their owner could not be checked). A row that leaves the key out gets the
scope's.

The refusal says what to do instead: write the statement with the models, or run it on
purpose, unscoped, in `db.session()`. Functions defined on the server, and any other
server-side way of running SQL given as text, are beyond what a client can see (the
README's "Decisions" says why no database-side wall is built).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnClause, Insert, TableClause, TextClause
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.operators import custom_op
from sqlalchemy.sql.selectable import Alias, SelectBase

from tasktracker.db.base import ScopeRoot, SearchShadow, UserOwned
from tasktracker.db.errors import ScopeError
from tasktracker.db.sqlalchemy_internals import (
    assignments,
    cache_key,
    has_prefix_suffix_or_hint,
    has_single_values,
    inserts_from_select,
    operators_of,
    parent_entity,
)

RUNS_SQL_TEXT = frozenset(
    f"{source}_to_{form}"
    for source in ("query", "table", "cursor", "schema", "database")
    for form in ("xml", "xmlschema", "xml_and_xmlschema")
) | {"ts_stat", "dblink", "dblink_exec", "dblink_open", "dblink_send_query"}
"""PostgreSQL functions (and the dblink extension's) that run a query given as text, or
read a relation by name; compared in lower case, as PostgreSQL folds unquoted names."""

_OPERATOR = re.compile(r"[-+*/<>=~!@#%^&|`?]+")
_UNSCOPED = "run it unscoped on purpose in db.session()"

Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


def _refused(what: str) -> ScopeError:
    return ScopeError(
        "statement",
        f"{what} cannot be limited to the user scope: write it with the models "
        f"(select(Task), Task.title), or {_UNSCOPED}",
    )


_CHECKED: dict[Any, None] = {}
"""Cache keys of statements found scopable (at most `_CHECKED_SIZE`, then emptied)."""
_CHECKED_SIZE = 4096


def check_statement(statement: Executable) -> None:
    """Refuse a statement the scope's criteria cannot limit (see the module docstring).

    A statement whose shape passed once passes again without a walk: it is known by its
    cache key, which captures everything that makes up its SQL (the bound values aside)
    and which SQLAlchemy memoizes on the statement and reuses for its compiled cache."""
    if isinstance(statement, ExecutableDDLElement):
        raise _refused("DDL")
    key = cache_key(statement)
    if key is not None and key in _CHECKED:
        return
    _Level(statement, set()).check()
    if key is not None:
        if len(_CHECKED) >= _CHECKED_SIZE:
            _CHECKED.clear()
        _CHECKED[key] = None


class _Level:
    """One SELECT, INSERT, UPDATE or DELETE; the statements nested in it (subqueries, CTEs)
    are levels of their own.

    A table (or an alias of one) used directly is allowed only as the table of a model the
    same level names: the SQL then has one FROM entry for both, which the criteria limit
    (`session.get` looks rows up by the table's own key columns, for one)."""

    def __init__(self, statement: Any, checked: set[int]) -> None:
        self.statement = statement
        self.checked = checked  # levels already checked: a recursive CTE refers to itself
        checked.add(id(statement))
        self.models: set[Any] = set()
        self.froms: list[Any] = []
        self.seen: set[int] = set()

    def check(self) -> None:
        self._walk([self.statement])
        while self.froms:  # every model of the level is known: judge what it used directly
            source = self.froms.pop()
            if source in self.models:
                continue
            if isinstance(source, TableClause):
                raise _refused(f"table {source.name!r} used directly")
            self._walk(list(source.get_children()))  # an alias: judge what it aliases
        if isinstance(self.statement, UpdateBase) and len(self.models) > 1:
            # The criteria limit the table a DML statement writes, not the others it names.
            raise _refused("another model in an INSERT, UPDATE or DELETE (UPDATE ... FROM)")

    def _walk(self, stack: list[Any]) -> None:
        while stack:
            element = stack.pop()
            if id(element) not in self.seen:
                self.seen.add(id(element))
                stack.extend(self._visit(element))

    def _visit(self, element: Any) -> Iterable[Any]:
        """Record `element` for the level; what to look into below it."""
        if element is not self.statement:
            if isinstance(element, UpdateBase):
                raise _refused("an INSERT, UPDATE or DELETE inside another statement")
            if isinstance(element, SelectBase):
                if id(element) not in self.checked:
                    _Level(element, self.checked).check()
                return ()
        entity = parent_entity(element)
        if entity is not None:  # a model, or a column of one: the criteria reach it
            if not issubclass(entity.class_, (UserOwned, ScopeRoot, SearchShadow)):
                raise _refused(f"model {entity.class_.__name__} (neither user-owned nor users)")
            self.models.add(entity.local_table if isinstance(entity, Mapper) else entity.selectable)
            return ()
        if isinstance(element, TableClause | Alias):
            self.froms.append(element)
            return ()
        return _children(element)


def _children(element: ClauseElement) -> Iterable[Any]:
    """What to look into below `element` (neither a model nor a table), after refusing it
    if it is raw SQL."""
    if isinstance(element, TextClause):
        raise _refused("text()")
    if isinstance(element, ColumnClause):
        if element.is_literal and element.name != "*":
            raise _refused("literal_column()")
        return () if element.table is None else (element.table,)
    if isinstance(element, FunctionElement) and _runs_sql_text(element):
        raise _refused(f"function {element.name}()")
    for operator in operators_of(element):
        if isinstance(operator, custom_op) and not _plain_operator(operator.opstring):
            raise _refused(f"operator {operator.opstring!r}")
    if has_prefix_suffix_or_hint(element):
        raise _refused("a prefix, suffix or hint")
    return element.get_children()


def _runs_sql_text(function: FunctionElement[Any]) -> bool:
    return str(getattr(function, "name", "")).lower() in RUNS_SQL_TEXT


def _plain_operator(opstring: str) -> bool:
    """Operator symbols only: no words, spaces or brackets, no comment (`--`, `/*`)."""
    return bool(_OPERATOR.fullmatch(opstring)) and "--" not in opstring and "/*" not in opstring


def scope_key(statement: UpdateBase) -> str:
    """The column of the statement's model that names the owner."""
    entity = parent_entity(statement.table)
    assert entity is not None, "checked first: the statement writes a model's table"
    return "id" if issubclass(entity.class_, ScopeRoot) else UserOwned.__tenant_key__


def claim_write(
    statement: UpdateBase, parameters: Parameters, user_id: uuid.UUID
) -> tuple[UpdateBase, Parameters]:
    """The write as it may run in the scope of `user_id`: the scope key set to anything
    else is refused; rows (and a single-row INSERT) that leave it out get the scope's."""
    key = scope_key(statement)
    if isinstance(statement, Insert) and inserts_from_select(statement):
        raise ScopeError(key, f"INSERT ... SELECT cannot be checked for its owner: {_UNSCOPED}")
    owners = owner_values(statement)
    if not all(_is_user(_value_of(value), user_id) for value in owners):
        raise ScopeError(key, "can only be the scope's own user id (given as a value)")
    if isinstance(statement, Insert) and has_single_values(statement) and not owners:
        statement = statement.values({key: user_id})
    if isinstance(parameters, Mapping):
        filled = isinstance(statement, Insert)  # an UPDATE's mapping is its SET clause
        return statement, _claimed(parameters, key, user_id, fill=filled)
    if parameters:  # executemany: an INSERT's rows, or the rows an UPDATE finds by key
        return statement, [_claimed(row, key, user_id, fill=True) for row in parameters]
    return statement, parameters


def _claimed(
    row: Mapping[str, Any], key: str, user_id: uuid.UUID, *, fill: bool
) -> Mapping[str, Any]:
    if key in row:
        if not _is_user(row[key], user_id):
            raise ScopeError(key, "belongs to another user")
        return row
    return {**row, key: user_id} if fill else row


def owner_values(statement: UpdateBase) -> list[Any]:
    """Every value the statement itself assigns to its scope key."""
    key = scope_key(statement)
    return [value for name, value in assignments(statement) if name == key]


def _is_user(value: Any, user_id: uuid.UUID) -> bool:
    """Whether `value` is the user id, as a `UUID` or in any of its text forms."""
    if isinstance(value, str):
        try:
            value = uuid.UUID(value)
        except ValueError:
            return False
    return bool(value == user_id)


_NOT_A_VALUE = object()


def _value_of(value: Any) -> Any:
    """A literal's value; for a SQL expression, a marker equal to no user id."""
    if isinstance(value, BindParameter):
        return value.effective_value
    return _NOT_A_VALUE if isinstance(value, ClauseElement) else value
