"""unicode case keys and non-blank users

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00

Two things the models now declare:

- The case-insensitive unique indexes (`uq_*_lower`) compare Unicode lowercase on SQLite
  too: they are rebuilt on `tasktracker_lower(x)`, the function every SQLite connection of
  the engine factory has (`tasktracker.db.caseless`), instead of SQLite's ASCII-only
  `lower(x)`. PostgreSQL's `lower()` already lowercases Unicode: its indexes stay.
- `users.email` and `users.username` get their `not_blank` CHECKs. On PostgreSQL they are
  added `NOT VALID` in the revision's transaction (a brief lock, no scan), then validated
  in a second transaction, which scans `users` without blocking its reads or writes. On
  SQLite, which cannot add a constraint to a table, `users` is rebuilt with them.

Existing rows that the new rules refuse (a blank email or username; on SQLite, two names
equal regardless of case) stop the upgrade before anything changes, naming the column.
Only a blank row written by plain SQL between that look and the lock (PostgreSQL) can make
the validation fail: the checks then stay `NOT VALID` (enforced on new writes) at 0003, and
the next upgrade, once the row is fixed, adds them afresh and validates them.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from tasktracker.db.errors import ConflictError, ValidationError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_LOWER = "tasktracker_lower"
# (index, table, the columns before the case-insensitive one, that column)
_CASELESS_INDEXES = (
    ("uq_users_email_lower", "users", (), "email"),
    ("uq_users_username_lower", "users", (), "username"),
    ("uq_categories_user_id_name_lower", "categories", ("user_id",), "name"),
    ("uq_command_categories_user_id_name_lower", "command_categories", ("user_id",), "name"),
    ("uq_parameter_categories_user_id_name_lower", "parameter_categories", ("user_id",), "name"),
)
_NON_BLANK = ("email", "username")


def _is_postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _check_name(column: str) -> str:
    return f"ck_users_{column}_not_blank"


def _not_blank(column: str) -> str:
    return f"length(trim({column})) > 0"


def _count(sql: str) -> int:
    return int(op.get_bind().execute(sa.text(sql)).scalar_one())


def _refuse_blank_users() -> None:
    for column in _NON_BLANK:
        blank = _count(f"SELECT count(*) FROM users WHERE NOT ({_not_blank(column)})")
        if blank:
            raise ValidationError.single(
                f"users.{column}", f"{blank} row(s) are blank: fix them, then upgrade again"
            )


def _refuse_case_duplicates() -> None:
    """SQLite: no two rows may become equal under the Unicode lowercase key."""
    for _, table, scope, column in _CASELESS_INDEXES:
        key = ", ".join([*scope, f"{SQLITE_LOWER}({column})"])
        duplicates = _count(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} GROUP BY {key} HAVING count(*) > 1)"
        )
        if duplicates:
            raise ConflictError(
                f"{table}.{column}: {duplicates} value(s) differ from another only in case "
                "(Unicode lowercase): make them unique, then upgrade again"
            )


def _drop_caseless_indexes() -> None:
    for index, table, _, _ in _CASELESS_INDEXES:
        op.drop_index(index, table_name=table)


def _create_caseless_indexes(function: str) -> None:
    for index, table, scope, column in _CASELESS_INDEXES:
        op.create_index(index, table, [*scope, sa.text(f"{function}({column})")], unique=True)


@contextmanager
def _rebuilding_users() -> Iterator[None]:
    """SQLite: rebuild `users` (batch mode) with the changes made inside the block.

    Legacy ALTER TABLE semantics for the final rename: the triggers of other tables name
    `users`, and modern SQLite refuses to rename a table while a trigger names a table that
    does not exist (the old `users`, already dropped). Foreign keys are off (env.py)."""
    op.execute("PRAGMA legacy_alter_table=ON")
    try:
        yield
    finally:
        op.execute("PRAGMA legacy_alter_table=OFF")


def _add_checks_to_postgresql() -> None:
    for column in _NON_BLANK:
        name = _check_name(column)
        # A run whose validation failed left the check NOT VALID: add it afresh, so the
        # revision can simply be run again. Dropping it removes no guarantee, hence the
        # squawk-ignore.
        op.execute(
            f"-- squawk-ignore ban-drop-constraint\n"
            f"ALTER TABLE users DROP CONSTRAINT IF EXISTS {name}"
        )
        op.create_check_constraint(
            op.f(name), "users", _not_blank(column), postgresql_not_valid=True
        )
    # An empty autocommit block commits the revision's transaction so far and begins
    # another: the validation below runs in a transaction of its own (with the version
    # update), whose lock blocks neither the reads nor the writes of `users`.
    with op.get_context().autocommit_block():
        pass
    op.execute("SET LOCAL statement_timeout = '30min'")  # a full scan, but blocking nobody
    for column in _NON_BLANK:
        op.execute(f"ALTER TABLE users VALIDATE CONSTRAINT {_check_name(column)}")


def upgrade() -> None:
    if not op.get_context().as_sql:  # offline SQL has no rows to look at
        _refuse_blank_users()
        if not _is_postgres():
            _refuse_case_duplicates()
    if _is_postgres():
        _add_checks_to_postgresql()
        return
    _drop_caseless_indexes()
    with _rebuilding_users(), op.batch_alter_table("users", recreate="always") as users:
        for column in _NON_BLANK:
            users.create_check_constraint(op.f(_check_name(column)), _not_blank(column))
    _create_caseless_indexes(SQLITE_LOWER)


def downgrade() -> None:
    if _is_postgres():
        for column in reversed(_NON_BLANK):
            op.drop_constraint(op.f(_check_name(column)), "users", type_="check")
        return
    _drop_caseless_indexes()
    with _rebuilding_users(), op.batch_alter_table("users", recreate="always") as users:
        for column in reversed(_NON_BLANK):
            users.drop_constraint(op.f(_check_name(column)), type_="check")
    _create_caseless_indexes("lower")
