"""Purging expired conversations (and closing abandoned streams) in bounded batches, for
every user, while the application runs.

One batch is one DELETE of at most `batch` conversations whose `expires_at` has passed,
oldest expiry first (the partial index `ix_conversations_expires_at`); their messages, tool
calls and summaries go with them by the foreign keys' cascade. The batch's rows are claimed
as `db.batches` claims them (on PostgreSQL `FOR UPDATE SKIP LOCKED`: a conversation a user
is writing to right now is left for the next batch instead of being waited for), then
deleted by key. Each batch is meant to be its own unit of work (short locks, progress kept
if the run stops); `purge_expired` below runs them one after another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.chat import streams
from tasktracker.chat.models import Conversation
from tasktracker.db.batches import claimed
from tasktracker.db.sessions import Database
from tasktracker.db.types import utc_now

DEFAULT_BATCH = 500


def purge_batch(session: Session, now: datetime, batch: int = DEFAULT_BATCH) -> int:
    """Delete at most `batch` expired conversations (in the session's scope, if any)."""
    expired = (
        select(col(Conversation.user_id), col(Conversation.id))
        .where(col(Conversation.expires_at) <= now)
        .order_by(col(Conversation.expires_at))
        .limit(batch)
    )
    keys = claimed(session, expired)
    if not keys:
        return 0
    key = tuple_(col(Conversation.user_id), col(Conversation.id))
    statement = (
        delete(Conversation).where(key.in_(keys)).execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def purge_expired(db: Database, *, batch: int = DEFAULT_BATCH, now: datetime | None = None) -> int:
    """Every user's expired conversations, one unit of work per batch; returns how many."""
    now = now or utc_now()
    total = 0
    while True:
        with db.session() as session:
            purged = purge_batch(session, now, batch)
        total += purged
        if purged < batch:
            return total


def close_abandoned_streams(
    db: Database, idle: timedelta, *, batch: int = DEFAULT_BATCH, now: datetime | None = None
) -> int:
    """Every user's streams with no delta for `idle`, closed as `interrupted`, one unit of
    work per batch; returns how many."""
    cutoff = (now or utc_now()) - idle
    total = 0
    while True:
        with db.session() as session:
            closed = streams.close_abandoned(session, cutoff, batch)
        total += closed
        if closed < batch:
            return total
