"""Token usage, summed by conversation, by day or month, and by model: one GROUP BY each.

Each aggregate reads one index range of `messages` (the conversation's messages index,
`ix_messages_user_id_created_at_usage` for a period, `ix_messages_user_id_model_usage`:
both partial, on the messages that reported tokens), in the user's scope like every
other query. Days and months are UTC, keyed as `YYYY-MM-DD` / `YYYY-MM`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import col

from tasktracker.chat.models import Message


class Period(enum.StrEnum):
    DAY = "day"
    MONTH = "month"


_KEY_LENGTH = {Period.DAY: 10, Period.MONTH: 7}
_PG_FORMAT = {Period.DAY: "YYYY-MM-DD", Period.MONTH: "YYYY-MM"}


class UsageTotals(NamedTuple):
    """Summed tokens of the messages that reported usage (`messages` counts them; the
    others, a user's prompt, are left out)."""

    key: str | None
    messages: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int


_TOKENS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")


def totals_statement(key: ColumnElement[Any] | None) -> Select[*tuple[Any, ...]]:
    """The sums, grouped by `key` if given (then `key` is the first column)."""
    # `USAGE_REPORTED`, the partial indexes' predicate, as an expression (plain SQL text
    # is refused in a user scope); both backends match it to the indexes.
    reported = col(Message.input_tokens).is_not(None) | col(Message.output_tokens).is_not(None)
    sums = [func.coalesce(func.sum(getattr(Message, name)), 0) for name in _TOKENS]
    if key is None:
        return select(func.count(), *sums).where(reported)
    statement = select(key.label("key"), func.count(), *sums).where(reported)
    return statement.group_by(key).order_by(key)


def period_key(period: Period, dialect: str) -> ColumnElement[Any]:
    """The UTC day or month of `created_at` as text (SQLite stores UTC text already)."""
    if dialect == "postgresql":
        utc = func.timezone("UTC", col(Message.created_at))
        return func.to_char(utc, _PG_FORMAT[period])
    return func.substr(col(Message.created_at), 1, _KEY_LENGTH[period])


def totals(rows: Sequence[Any], keyed: bool) -> list[UsageTotals]:
    return [UsageTotals(row[0] if keyed else None, *(int(v) for v in row[keyed:])) for row in rows]
