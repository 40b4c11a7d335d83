"""Statements of a streaming assistant message: grow it by a delta, find and close the
abandoned ones.

A delta is one UPDATE of the message's row, `content = content || :delta`, guarded by
`status = 'streaming'` and the content limit: the database serialises concurrent deltas
on the row lock (no read-modify-write in between, so none is lost), and a finished
message matches no row. The conversation's row is not touched.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_, update
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.chat.models import Message, MessageStatus
from tasktracker.chat.parts import TextPart
from tasktracker.db.batches import claimed
from tasktracker.db.errors import ConflictError
from tasktracker.db.settings import get_settings
from tasktracker.db.types import utc_now

_STREAMING = col(Message.status) == MessageStatus.STREAMING


def grow(session: Session, message_id: uuid.UUID, delta: str) -> bool:
    """Append `delta`; False if no streaming message of that id has room for it."""
    limit = get_settings().message_max_length
    statement = (
        update(Message)
        .where(
            col(Message.id) == message_id,
            _STREAMING,
            func.length(col(Message.content)) <= limit - len(delta),
        )
        .values(content=col(Message.content).concat(delta), streamed_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def finished(message: Message) -> ConflictError:
    return ConflictError(
        f"Message {message.id} is {message.status}: a finished message is immutable",
        field="status",
    )


def too_long() -> str:
    return f"must be at most {get_settings().message_max_length} characters"


def text_parts(content: str) -> list[Any]:
    """The parts of a stream finished without its own: its text, if any."""
    return [TextPart(text=content)] if content else []


def abandoned(cutoff: datetime, limit: int) -> Select[Message]:
    """Streaming messages whose last delta is older than `cutoff` (the partial index)."""
    return (
        select(Message)
        .where(_STREAMING, col(Message.streamed_at) < cutoff)
        .order_by(col(Message.streamed_at), col(Message.id))
        .limit(limit)
    )


def close_abandoned(session: Session, cutoff: datetime, limit: int) -> int:
    """Mark at most `limit` abandoned streams `interrupted`, claimed as `db.batches` claims
    them, by one UPDATE (in the session's scope; unscoped, every user's)."""
    keys = claimed(
        session, abandoned(cutoff, limit).with_only_columns(col(Message.user_id), col(Message.id))
    )
    if not keys:
        return 0
    key = tuple_(col(Message.user_id), col(Message.id))
    statement = (
        update(Message)
        .where(key.in_(keys), _STREAMING)
        .values(status=MessageStatus.INTERRUPTED)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
