"""Subtasks: where a task may go in its user's tree, and the tree read in one query.

A task's parent is a task of the same user (the composite foreign key), never the task
itself (a CHECK), never one of its descendants (a cycle), and no tree has more than
`task_max_depth` levels (a setting, 5 by default, the top-level task included).

The last two rules span rows, so the repository checks them, after taking the user's tree
lock (`lock_tree`): on PostgreSQL a transaction-level advisory lock keyed by the user id,
so two concurrent moves of one user's tasks are checked one after the other, the second
seeing the first's committed parent (READ COMMITTED: each statement sees what was committed
before it began); on SQLite a unit that may write begins `IMMEDIATE`, so writers are
already serialised. Every recursive query here is a `UNION`, which ends even on a loop
made by plain SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import CTE, Integer, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from tasktracker.db.errors import FieldError, ValidationError
from tasktracker.db.settings import get_settings
from tasktracker.db.tenancy import scope_user_id
from tasktracker.tasks.models import Task, TaskStatus

TREE_LOCK_CLASS = 0x7454  # "tT": the first key of the two-key advisory lock, the project's own


class _tree_lock(FunctionElement[int]):  # noqa: N801 (a SQL function)
    """PostgreSQL: `pg_advisory_xact_lock(TREE_LOCK_CLASS, hashtext(<user id>))`, held until
    the transaction ends; elsewhere the constant 0 (SQLite serialises its writers)."""

    type = Integer()
    inherit_cache = True


@compiles(_tree_lock)
def _compile_tree_lock(element: _tree_lock, compiler: SQLCompiler, **kw: Any) -> str:
    return "0"


@compiles(_tree_lock, "postgresql")
def _compile_tree_lock_postgresql(element: _tree_lock, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        f"pg_advisory_xact_lock({TREE_LOCK_CLASS}, "
        f"hashtext(CAST({compiler.process(element.clauses, **kw)} AS text)))"
    )


class Progress(NamedTuple):
    """A parent's subtasks at every level below it: how many are done, of how many."""

    done: int
    total: int


class TreeNode(NamedTuple):
    """A task of a tree and its depth below the tree's root (the root's is 0)."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    depth: int


def lock_tree(session: Session) -> None:
    """Serialise the scope user's tree changes until the unit's transaction ends."""
    session.execute(select(_tree_lock(str(scope_user_id(session)))))


def _error(message: str) -> ValidationError:
    return ValidationError.single("parent_id", message, model="Task")


def _links(session: Session, statement: Any) -> dict[uuid.UUID, uuid.UUID | None]:
    return {id: parent for id, parent in session.execute(statement)}


def _ancestry(root: uuid.UUID) -> CTE:
    """The task `root` and its ancestors, (id, parent_id)."""
    up = (
        select(col(Task.id), col(Task.parent_id))
        .where(col(Task.id) == root)
        .cte("ancestry", recursive=True)
    )
    return up.union(
        select(col(Task.id), col(Task.parent_id)).join(up, col(Task.id) == up.c.parent_id)
    )


def subtree(root: uuid.UUID | Iterable[uuid.UUID]) -> CTE:
    """The tasks `root` (one id or several) and every task below them, (id, parent_id)."""
    roots = [root] if isinstance(root, uuid.UUID) else list(root)
    down = (
        select(col(Task.id), col(Task.parent_id))
        .where(col(Task.id).in_(roots))
        .cte("subtree", recursive=True)
    )
    return down.union(
        select(col(Task.id), col(Task.parent_id)).join(down, col(Task.parent_id) == down.c.id)
    )


def nodes(links: Mapping[uuid.UUID, uuid.UUID | None], root: uuid.UUID) -> list[TreeNode]:
    """The tree below `root` from its (id → parent) links, depth first, each level in the
    order the links were given (children in order); a task on a loop is left out."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for id, parent in links.items():
        if parent is not None and id != root:
            children.setdefault(parent, []).append(id)
    found: list[TreeNode] = []
    stack = [(root, links.get(root), 0)]
    seen: set[uuid.UUID] = set()
    while stack:
        id, parent, depth = stack.pop()
        if id in seen:
            continue
        seen.add(id)
        found.append(TreeNode(id, parent, depth))
        stack.extend((child, id, depth + 1) for child in reversed(children.get(id, [])))
    return found


def check_parent(session: Session, task_id: uuid.UUID | None, parent_id: uuid.UUID) -> None:
    """Refuse, with a `ValidationError` on `parent_id`, to put the task `task_id` (None: a
    new task) under `parent_id`: another user's or a missing task, the task itself, one of
    its descendants, or a place deeper than `task_max_depth` levels. Takes the tree lock
    first, so the answer holds until the unit ends."""
    if not isinstance(parent_id, uuid.UUID):
        raise _error("must be a UUID")
    if parent_id == task_id:
        raise _error("a task cannot be its own parent")
    lock_tree(session)
    up = _ancestry(parent_id)
    ancestry = _links(session, select(up.c.id, up.c.parent_id))
    if parent_id not in ancestry:
        raise _error("no such task")
    chain = [parent_id]
    while (above := ancestry.get(chain[-1])) is not None and above not in chain:
        chain.append(above)
    if task_id is not None and task_id in chain:
        raise _error("would make the task its own ancestor (a cycle)")
    height = 1
    if task_id is not None:
        down = subtree(task_id)
        height = max(node.depth for node in nodes(_links(session, select(down)), task_id)) + 1
    limit = get_settings().task_max_depth
    if len(chain) + height > limit:
        raise _error(f"would make the tree {len(chain) + height} levels deep (at most {limit})")


def descendants(session: Session, root: uuid.UUID) -> list[uuid.UUID]:
    """The ids of every task below `root` (not `root` itself)."""
    down = subtree(root)
    return [id for (id,) in session.execute(select(down.c.id)) if id != root]


def progress(session: Session, parents: Sequence[uuid.UUID]) -> dict[uuid.UUID, Progress]:
    """For each of `parents`, its subtasks at every level below it, done and in all, in one
    query; a task without subtasks (or not found) has `Progress(0, 0)`."""
    wanted = list(dict.fromkeys(parents))
    if not wanted:
        return {}
    below = (
        select(col(Task.parent_id).label("root"), col(Task.id), col(Task.status))
        .where(col(Task.parent_id).in_(wanted))
        .cte("below", recursive=True)
    )
    below = below.union(
        select(below.c.root, col(Task.id), col(Task.status)).join(
            below, col(Task.parent_id) == below.c.id
        )
    )
    done = func.coalesce(func.sum(case((below.c.status == TaskStatus.COMPLETED, 1), else_=0)), 0)
    statement = select(below.c.root, done, func.count()).group_by(below.c.root)
    found = {root: Progress(int(d), int(n)) for root, d, n in session.execute(statement)}
    return {parent: found.get(parent, Progress(0, 0)) for parent in wanted}


def imported_depths(tables: Mapping[str, Sequence[tuple[str, object]]]) -> list[FieldError]:
    """The imported tasks (`transfer`'s rows: place in the document, model instance) that
    would be deeper than `task_max_depth` levels, by row (a cycle the import refuses
    itself, when it orders parents first)."""
    tasks = [(where, row) for where, row in tables.get("tasks", ()) if isinstance(row, Task)]
    parents = {row.id: row.parent_id for _, row in tasks}
    limit = get_settings().task_max_depth
    problems = []
    for where, row in tasks:
        levels, seen, above = 1, {row.id}, row.parent_id
        while above is not None and above not in seen:
            seen.add(above)
            levels, above = levels + 1, parents.get(above)
        if levels > limit:
            problems.append(
                FieldError(f"{where}.parent_id", f"{levels} levels deep (at most {limit})")
            )
    return problems
