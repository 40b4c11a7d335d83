"""task listing indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00

Every order of the task listings (`TaskSort`) gets an index that yields it, for a user and
again for one category of the user, so a page, the first one or any after a cursor, is read
in order from an index and never sorted: `(user_id[, category_id], <sort key>, id)`.

- The due-date key is `coalesce(due_date, '9999-12-31 00:00:00+00')` (tasks without a due
  date last, on both backends) and the priority key the position of the priority in
  `'high medium low'` (`strpos`, SQLite `instr`): the indexes are on these expressions,
  spelled as the queries spell them (constants inline: SQLite matches an indexed
  expression only to the same text, PostgreSQL a constant only to a constant).
- `ix_tasks_user_id_category_id` is dropped: the category indexes begin with its columns
  and serve what it served (the lookups of the trigger that clears a deleted category).

On PostgreSQL the indexes are built `CONCURRENTLY`, which blocks neither reads nor writes
of `tasks` but cannot run in a transaction: the builds run in autocommit, after the
revision's (empty) transaction. They block nobody, so they allow themselves 30 minutes each
(as 0004's validation does) instead of the migrations' 60 s. A build that fails leaves an
invalid index and the database at 0004, the indexes built before it in place; each build
first drops an index of its name, so running the upgrade again completes it. On SQLite the
indexes are built in the revision's transaction.
"""

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The sort keys exactly as the models spell them for each dialect (tasktracker.tasks.models).
_DUE_DATE_OR_NEVER = {
    "postgresql": "coalesce(due_date, '9999-12-31 00:00:00+00')",
    "sqlite": "coalesce(due_date, '9999-12-31 00:00:00.000000')",
}
_PRIORITY_RANK = {
    "postgresql": "strpos('high medium low', priority)",
    "sqlite": "instr('high medium low', priority)",
}
_OLD_CATEGORY_INDEX = "ix_tasks_user_id_category_id"

Columns = list[str | sa.TextClause]


def _is_postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _new_indexes() -> dict[str, Columns]:
    dialect = op.get_context().dialect.name
    due, rank = sa.text(_DUE_DATE_OR_NEVER[dialect]), sa.text(_PRIORITY_RANK[dialect])
    return {
        "ix_tasks_user_id_updated_at_id": ["user_id", "updated_at", "id"],
        "ix_tasks_user_id_title_id": ["user_id", "title", "id"],
        "ix_tasks_user_id_due_date_coalesce_id": ["user_id", due, "id"],
        "ix_tasks_user_id_priority_rank_id": ["user_id", rank, "id"],
        "ix_tasks_user_id_category_id_created_at_id": [
            "user_id",
            "category_id",
            "created_at",
            "id",
        ],
        "ix_tasks_user_id_category_id_updated_at_id": [
            "user_id",
            "category_id",
            "updated_at",
            "id",
        ],
        "ix_tasks_user_id_category_id_title_id": ["user_id", "category_id", "title", "id"],
        "ix_tasks_user_id_category_id_due_date_coalesce_id": ["user_id", "category_id", due, "id"],
        "ix_tasks_user_id_category_id_priority_rank_id": ["user_id", "category_id", rank, "id"],
    }


@contextmanager
def _concurrently() -> Iterator[None]:
    """PostgreSQL: outside the revision's transaction, allowing 30 minutes per statement."""
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = '30min'")
        yield
        # Back to the connection's own setting, or (offline) to the script's.
        as_sql = op.get_context().as_sql
        op.execute("SET statement_timeout = '60s'" if as_sql else "RESET statement_timeout")


def _building() -> AbstractContextManager[None]:
    return _concurrently() if _is_postgres() else nullcontext()


def _create(name: str, columns: Columns) -> None:
    if not _is_postgres():
        op.create_index(name, "tasks", columns)
        return
    # A failed concurrent build leaves an invalid index of this name: build it afresh. (IF
    # NOT EXISTS then changes nothing; squawk wants each statement rerunnable by itself.)
    _drop(name)
    op.create_index(name, "tasks", columns, postgresql_concurrently=True, if_not_exists=True)


def _drop(name: str) -> None:
    if _is_postgres():
        op.drop_index(name, table_name="tasks", postgresql_concurrently=True, if_exists=True)
    else:
        op.drop_index(name, table_name="tasks")


def upgrade() -> None:
    with _building():
        for name, columns in _new_indexes().items():
            _create(name, columns)
        _drop(_OLD_CATEGORY_INDEX)


def downgrade() -> None:
    with _building():
        _create(_OLD_CATEGORY_INDEX, ["user_id", "category_id"])
        for name in reversed(_new_indexes()):
            _drop(name)
