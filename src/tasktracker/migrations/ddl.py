"""DDL that the models cannot express, shared by the revisions.

PostgreSQL gets a UUIDv7 default for `id` (plain SQL inserts) and an `updated_at` trigger
(plain SQL updates). Both backends get the "sets only X to NULL" triggers that the spec
requires instead of `ON DELETE SET NULL` (Citus refuses SET NULL on keys that include the
distribution column; SQLite has no column-list form). On Citus every revision distributes
the tables it creates, with `distribute_tables`.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from tasktracker.migrations import citus

UUID7_FUNCTION = "tasktracker_uuid7"
UPDATED_AT_FUNCTION = "tasktracker_touch_updated_at"


def _is_postgres() -> bool:
    # The context's dialect, not the bind's: offline (--sql) mode has only a mock connection.
    return op.get_context().dialect.name == "postgresql"


def create_functions() -> None:
    """The shared PostgreSQL functions (revision 0001)."""
    if not _is_postgres():
        return
    op.execute(f"""
        CREATE FUNCTION {UUID7_FUNCTION}() RETURNS uuid
        LANGUAGE sql VOLATILE AS $$
            SELECT encode(
                set_bit(set_bit(
                    overlay(uuid_send(gen_random_uuid())
                            PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                            FROM 1 FOR 6),
                    52, 1), 53, 1), 'hex')::uuid
        $$""")
    op.execute(f"""
        CREATE FUNCTION {UPDATED_AT_FUNCTION}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.created_at := OLD.created_at;
            IF NEW.updated_at IS NULL OR NEW.updated_at <= OLD.updated_at THEN
                NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
            END IF;
            RETURN NEW;
        END
        $$""")


def drop_functions() -> None:
    if not _is_postgres():
        return
    op.execute(f"DROP FUNCTION {UPDATED_AT_FUNCTION}()")
    op.execute(f"DROP FUNCTION {UUID7_FUNCTION}()")


def add_table_defaults(table: str, *, updated_at: bool = True) -> None:
    """PostgreSQL: `id` defaults to a UUIDv7; `updated_at` moves on every UPDATE."""
    if not _is_postgres():
        return
    op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT {UUID7_FUNCTION}()")
    if updated_at:
        op.execute(
            f"CREATE TRIGGER {table}_touch_updated_at BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {UPDATED_AT_FUNCTION}()"
        )


def distribute_tables(*, reference: Sequence[str] = (), by_user: Sequence[str] = ()) -> None:
    """On Citus: `reference` become reference tables, `by_user` (parents first) are
    distributed by `user_id`, co-located with the rest. Every revision that creates tables
    calls it last in `upgrade()` (docs/migrations.md); the spec's rule is `users` a reference
    table, every other table `by_user`. A no-op without the `citus` extension, and in offline
    (`--sql`) mode, whose scripts `tasktracker db distribute` completes."""
    if op.get_context().as_sql:
        return
    citus.distribute(op.get_bind(), reference=reference, by_user=by_user)


def _nulling_name(parent: str, child: str, column: str) -> str:
    return f"{parent}_null_{child}_{column}"


def create_nulling_trigger(parent: str, child: str, column: str) -> None:
    """Deleting a `parent` row sets only `child.column` to NULL, for the same user.

    The trigger stands aside while the user itself is being deleted: the user's cascade is
    removing the child rows anyway, and updating them in the same statement would fail on
    PostgreSQL ("tuple to be updated was already modified").
    """
    name = _nulling_name(parent, child, column)
    update = f"UPDATE {child} SET {column} = NULL WHERE user_id = OLD.user_id AND {column} = OLD.id"
    if _is_postgres():
        op.execute(f"""
            CREATE FUNCTION {name}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id) THEN
                    {update};
                END IF;
                RETURN OLD;
            END
            $$""")
        op.execute(
            f"CREATE TRIGGER {name} BEFORE DELETE ON {parent} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE DELETE ON {parent} FOR EACH ROW "
            f"WHEN EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id) "
            f"BEGIN {update}; END"
        )


def drop_nulling_trigger(parent: str, child: str, column: str) -> None:
    name = _nulling_name(parent, child, column)
    if _is_postgres():
        op.execute(f"DROP TRIGGER {name} ON {parent}")
        op.execute(f"DROP FUNCTION {name}()")
    else:
        op.execute(f"DROP TRIGGER {name}")
