"""Statements of the branch tree: a message's `parent_id` and `depth`, a conversation's
active leaf.

A conversation stays linear (`active_leaf_id` NULL, every message `parent_id` NULL and
`depth` 0) until its first branch, so the conversations stored before branches existed,
and every conversation that never branches, read and append exactly as before. The first
branch links the linear messages into a chain (`link_chain`: their ids read in order and
written back by primary key, in the conversation lock), after which every message names
its parent.

The active path is read from the leaf upwards by a recursive CTE, one primary-key probe per
step and at most `limit + 1` steps, so a page costs the same whatever the conversation's
length; its keyset is the depth (the cursor names the oldest message returned).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, literal, select, update
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from tasktracker.chat.models import Conversation, Message
from tasktracker.db.pagination import Ordering, SortKey

PATH = Ordering("messages-active-path", (SortKey(Message.depth, True), SortKey(Message.id, True)))  # type: ignore[arg-type]


def latest_id(session: Session, conversation_id: uuid.UUID) -> uuid.UUID | None:
    statement = (
        select(col(Message.id))
        .where(col(Message.conversation_id) == conversation_id)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(1)
    )
    return session.scalar(statement)


def link_chain(session: Session, conversation: Conversation) -> None:
    """Make a linear conversation a chain: each message's parent is the one before it.

    The ids are read in order (one index range) and written back by primary key, one
    executemany: linear in the conversation's length whatever the planner's statistics (an
    UPDATE ... FROM a window over the same table can be planned as a nested loop of scans).
    """
    statement = (
        select(col(Message.id))
        .where(col(Message.conversation_id) == conversation.id)
        .order_by(col(Message.created_at), col(Message.id))
    )
    ids = list(session.scalars(statement))
    if ids:
        user_id = conversation.user_id
        links = [
            {"user_id": user_id, "id": id, "parent_id": parent, "depth": depth}
            for depth, (parent, id) in enumerate(zip([None, *ids], ids, strict=False))
        ]
        session.execute(update(Message), links)
    conversation.active_leaf_id = ids[-1] if ids else None


def path_up(
    conversation_id: uuid.UUID, start: uuid.UUID, limit: int | None, *, above: bool = False
) -> Select[Message]:
    """`start` (with `above`, its parent) and its ancestors, at most `limit` (None: up to
    the root), newest first; nothing if `start` is no message of the conversation."""
    step = aliased(Message, name="step")
    first = col(Message.id) == start
    if above:
        parent_of_start = select(col(Message.parent_id)).where(first).scalar_subquery()
        first = col(Message.id) == parent_of_start
    anchor = select(col(Message.id), col(Message.parent_id), literal(1).label("steps")).where(
        first, col(Message.conversation_id) == conversation_id
    )
    walk = anchor.cte("path", recursive=True)
    parent = select(col(step.id), col(step.parent_id), (walk.c.steps + 1).label("steps")).join(
        walk, col(step.id) == walk.c.parent_id
    )
    if limit is not None:
        parent = parent.where(walk.c.steps < limit)
    walk = walk.union_all(parent)
    return select(Message).join(walk, col(Message.id) == walk.c.id).order_by(*PATH.order_by)


def siblings(message: Message) -> Select[Message]:
    """The messages sharing `message`'s parent (the roots, for a root), oldest first."""
    parent = col(Message.parent_id)
    same = parent.is_(None) if message.parent_id is None else parent == message.parent_id
    return (
        select(Message)
        .where(col(Message.conversation_id) == message.conversation_id, same)
        .order_by(col(Message.created_at), col(Message.id))
    )


def position_of(message: Message, found: list[Any]) -> int:
    return 1 + [m.id for m in found].index(message.id)
