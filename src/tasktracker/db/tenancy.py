"""User isolation, in one place: the session class every unit of work uses.

A session opened for a user (`Database.user_scope`) carries that user's id in
`session.info`. Then, with no filter written by the caller:

- every statement the session executes is limited to `user_id = <scope>` wherever a
  `UserOwned` model appears in it (main entity, join, subquery, alias, union, relationship
  load, and the subqueries of INSERTs and UPDATEs), and `users` itself shows only the
  scope's own row (`with_loader_criteria`, SQLAlchemy's documented recipe, applied from
  `do_orm_execute`, once per statement);
- what those criteria cannot reach (a table used directly, raw SQL) is refused before
  anything is sent, with `ScopeError` (`scope_guard`);
- new rows get the scope's `user_id`, and a row or statement claiming another user is
  refused before anything is sent: at flush, and for every form of bulk statement.

Together with the composite `(user_id, ...)` foreign keys, which make the database refuse
a reference to another user's row, another user's data is out of reach of the public API.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import BindParameter, Insert, Select, bindparam, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, with_loader_criteria
from sqlalchemy.sql.dml import UpdateBase

from tasktracker.db.base import ScopeRoot, SearchShadow, UserOwned
from tasktracker.db.errors import ReadOnlyUnitError, ScopeError
from tasktracker.db.scope_guard import check_statement, claim_write, owner_values, scope_key
from tasktracker.db.sqlalchemy_internals import loader_options, replace_parameters

USER_ID = "tasktracker.user_id"
READ_ONLY = "tasktracker.read_only"
GATE = "tasktracker.gate"
"""In a read-only unit's `info`: the pool's fair gate (`db.gate`), for borrowed connections."""


class TaskTrackerSession(Session):
    """The session of every unit of work; scoped to a user when `info` carries one."""


def scope_user_id(session: Session) -> uuid.UUID:
    """The user id of a user-scoped session; tenant repositories refuse unscoped sessions."""
    user_id = session.info.get(USER_ID)
    if user_id is None:
        raise ScopeError(
            "session", "this operation needs a user scope: use Database.user_scope(user_id)"
        )
    return user_id  # type: ignore[no-any-return]


def check_writable(session: Session) -> None:
    """Refuse a write in a read-only unit of work (ORM statements, flushes, compiled writes)."""
    if session.info.get(READ_ONLY):
        raise ReadOnlyUnitError("a read-only unit of work cannot write")


@event.listens_for(TaskTrackerSession, "do_orm_execute")
def _limit_to_scope(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        check_writable(state.session)
    user_id = state.session.info.get(USER_ID)
    if user_id is None:
        return
    criteria = _criteria(user_id)
    if state.is_relationship_load or state.is_column_load:
        # Built by the ORM from the mapping; the criteria of the statement that loaded the
        # objects travel with them (once is enough), those created in this unit have none.
        if not any(option is criteria[0] for option in loader_options(state.statement)):
            state.statement = state.statement.options(*criteria)
        return
    statement = state.statement.options(*criteria)  # INSERTs too: their subqueries
    check_statement(statement)  # as it will run: SQLAlchemy reuses the cache key it computes
    if isinstance(statement, UpdateBase):
        statement, parameters = claim_write(statement, state.parameters, user_id)
        replace_parameters(state, parameters)
    state.statement = statement


@functools.lru_cache(maxsize=4096)
def _criteria(user_id: uuid.UUID) -> tuple[Any, ...]:
    """A scope's loader criteria, built once per user rather than once per statement."""
    return (
        with_loader_criteria(UserOwned, lambda cls: cls.user_id == user_id, include_aliases=True),
        with_loader_criteria(ScopeRoot, lambda cls: cls.id == user_id, include_aliases=True),
        with_loader_criteria(
            SearchShadow, lambda cls: cls.user_id == user_id, include_aliases=True
        ),
    )


SCOPE_PARAMETER = "scope_user_id"
"""The bound parameter that carries the scope's user id in a compiled statement."""

COMPILED_SCOPE_CRITERIA: tuple[Any, ...] = (
    with_loader_criteria(
        UserOwned, lambda cls: cls.user_id == bindparam("scope_user_id"), include_aliases=True
    ),
    with_loader_criteria(
        ScopeRoot, lambda cls: cls.id == bindparam("scope_user_id"), include_aliases=True
    ),
    with_loader_criteria(
        SearchShadow, lambda cls: cls.user_id == bindparam("scope_user_id"), include_aliases=True
    ),
)
"""The same criteria for a statement compiled once and run for any scope (`db.fastpath`):
the user id is a parameter, bound from the unit of work at execution."""


def compiled_scope(statement: Select[Any] | Insert) -> Select[Any] | Insert:
    """`statement` made ready to be compiled once and run in any scope (`db.fastpath`):
    checked as any statement in a scope is, and limited to the scope's user bound at
    execution: it gets `COMPILED_SCOPE_CRITERIA`, and an INSERT must give its owner as
    `bindparam(SCOPE_PARAMETER)` (the fast path sends it without the ORM's hooks)."""
    check_statement(statement)
    if isinstance(statement, Insert):
        owners = owner_values(statement)
        if not owners or any(
            not isinstance(value, BindParameter) or value.key != SCOPE_PARAMETER for value in owners
        ):
            raise ScopeError(scope_key(statement), f"must be bindparam({SCOPE_PARAMETER!r})")
    return statement.options(*COMPILED_SCOPE_CRITERIA)


@event.listens_for(TaskTrackerSession, "before_flush")
def _stamp_and_guard(session: Session, flush: UOWTransaction, instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        check_writable(session)
    user_id = session.info.get(USER_ID)
    if user_id is None:
        return
    for obj in session.new:
        if isinstance(obj, UserOwned):
            if obj.user_id is None:
                obj.user_id = user_id
            elif obj.user_id != user_id:
                raise ScopeError("user_id", "belongs to another user", model=type(obj).__name__)
        elif isinstance(obj, ScopeRoot) and obj.id != user_id:
            raise ScopeError("id", "cannot create another user from a user scope")
    for obj in session.dirty:
        if isinstance(obj, UserOwned) and obj.user_id != user_id:
            raise ScopeError("user_id", "cannot be moved to another user", model=type(obj).__name__)
