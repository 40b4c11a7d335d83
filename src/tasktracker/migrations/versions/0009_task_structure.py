"""task structure: subtasks and labels

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:30:00

Subtasks and labels (docs/tasks.md):

- `tasks.parent_id`: an optional parent task of the same user, `(user_id, parent_id) →
  tasks(user_id, id) ON DELETE CASCADE` (a subtask goes with its parent), never the task
  itself (`ck_tasks_parent_id_not_self`), and `ix_tasks_user_id_parent_id_created_at_id`
  for a task's children in order and each level of a tree. NULL for every existing task:
  nothing to backfill. Cycles and the depth limit span rows: the repository checks them
  under the user's tree lock (`tasks.tree`).
- `labels`: a user's labels, the name unique per user regardless of case
  (`uq_labels_user_id_name_lower`, on `lower(name)`, SQLite `tasktracker_lower(name)` as
  0004's keys) and a `#RRGGBB` colour (`ck_labels_color_format`).
- `task_labels`: which task carries which label, primary key `(user_id, task_id,
  label_id)`, both foreign keys tenant-scoped and cascading, and
  `ix_task_labels_user_id_label_id_task_id` for the tasks of a label.

On PostgreSQL the new column is nullable without a default (no rewrite), its foreign key
and CHECK are added `NOT VALID` and validated in the last transaction, and the index on
`tasks` is built `CONCURRENTLY` in autocommit, each allowing itself 30 minutes (as 0005 and
0006 do); every step is rerunnable, so a failed upgrade is completed by running it again.
On SQLite `tasks` is rebuilt (batch mode) and the triggers on it (the search triggers of
0007) are created again as they were. On Citus the new tables are distributed by `user_id`.

The downgrade drops the tables and the column: subtasks become top-level tasks.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from tasktracker.migrations import ddl

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PARENT_FK = "fk_tasks_user_id_parent_id_tasks"
_NOT_SELF = "ck_tasks_parent_id_not_self"
_NOT_SELF_SQL = "parent_id IS NULL OR parent_id <> id"
_PARENT_INDEX = "ix_tasks_user_id_parent_id_created_at_id"
_PARENT_INDEX_COLUMNS = ["user_id", "parent_id", "created_at", "id"]
_LOWER = {"postgresql": "lower", "sqlite": "tasktracker_lower"}
_COLOR_FORMAT = (
    "length(color) = 7 AND substr(color, 1, 1) = '#' "
    "AND ltrim(substr(color, 2), '0123456789abcdefABCDEF') = ''"
)


def _is_postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def _create_labels() -> None:
    postgres = _is_postgres()
    op.create_table(
        "labels",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "id",
            sa.Uuid(),
            server_default=sa.text(f"{ddl.UUID7_FUNCTION}()") if postgres else None,
            nullable=False,
        ),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("color", sa.String(length=7), server_default="#6B7280", nullable=False),
        sa.CheckConstraint(_COLOR_FORMAT, name=op.f("ck_labels_color_format")),
        sa.CheckConstraint("length(name) <= 50", name=op.f("ck_labels_name_max_length")),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_labels_name_not_blank")),
        sa.CheckConstraint("length(color) <= 7", name=op.f("ck_labels_color_max_length")),
        _user_fk("labels"),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_labels")),
        if_not_exists=postgres,
    )
    lower = _LOWER[op.get_context().dialect.name]
    op.create_index(
        "uq_labels_user_id_name_lower",
        "labels",
        ["user_id", sa.text(f"{lower}(name)")],
        unique=True,
        if_not_exists=postgres,
    )
    if postgres:
        # `add_table_defaults`' trigger, rerunnable (the table's id default is in its CREATE).
        op.execute("DROP TRIGGER IF EXISTS labels_touch_updated_at ON labels")
        op.execute(
            "CREATE TRIGGER labels_touch_updated_at BEFORE UPDATE ON labels "
            f"FOR EACH ROW EXECUTE FUNCTION {ddl.UPDATED_AT_FUNCTION}()"
        )


def _create_task_labels() -> None:
    postgres = _is_postgres()
    op.create_table(
        "task_labels",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _timestamp("created_at"),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "task_id"],
            ["tasks.user_id", "tasks.id"],
            name=op.f("fk_task_labels_user_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "label_id"],
            ["labels.user_id", "labels.id"],
            name=op.f("fk_task_labels_user_id_label_id_labels"),
            ondelete="CASCADE",
        ),
        _user_fk("task_labels"),
        sa.PrimaryKeyConstraint("user_id", "task_id", "label_id", name=op.f("pk_task_labels")),
        if_not_exists=postgres,
    )
    op.create_index(
        "ix_task_labels_user_id_label_id_task_id",
        "task_labels",
        ["user_id", "label_id", "task_id"],
        if_not_exists=postgres,
    )


@contextmanager
def _autocommit() -> Iterator[None]:
    """PostgreSQL: outside the revision's transaction, allowing 30 minutes per statement."""
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = '30min'")
        yield
        as_sql = op.get_context().as_sql
        op.execute("SET statement_timeout = '60s'" if as_sql else "RESET statement_timeout")


def _drop_task_constraint(name: str) -> None:
    # Rerunnable: a failed run may have left it; it comes back at once, NOT VALID.
    op.execute(
        f"-- squawk-ignore ban-drop-constraint\nALTER TABLE tasks DROP CONSTRAINT IF EXISTS {name}"
    )


def _upgrade_postgresql() -> None:
    op.add_column("tasks", sa.Column("parent_id", sa.Uuid(), nullable=True), if_not_exists=True)
    _drop_task_constraint(_PARENT_FK)
    op.execute(
        f"ALTER TABLE tasks ADD CONSTRAINT {_PARENT_FK} FOREIGN KEY (user_id, parent_id) "
        "REFERENCES tasks (user_id, id) ON DELETE CASCADE NOT VALID"
    )
    _drop_task_constraint(_NOT_SELF)
    op.create_check_constraint(op.f(_NOT_SELF), "tasks", _NOT_SELF_SQL, postgresql_not_valid=True)
    _create_labels()
    _create_task_labels()
    with _autocommit():
        op.drop_index(
            _PARENT_INDEX, table_name="tasks", postgresql_concurrently=True, if_exists=True
        )
        op.create_index(
            _PARENT_INDEX,
            "tasks",
            _PARENT_INDEX_COLUMNS,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
    # In the transaction after the build, with the version update (as 0006 validates).
    op.execute("SET LOCAL statement_timeout = '30min'")
    for name in (_PARENT_FK, _NOT_SELF):
        op.execute(f"ALTER TABLE tasks VALIDATE CONSTRAINT {name}")


def _schema_sql(kind: str, table: str, *, naming: bool = False) -> dict[str, str]:
    """SQLite: the `kind` objects (trigger, index) on `table`, or also naming it, by name,
    as created."""
    if op.get_context().as_sql:
        return {}
    where = "tbl_name = :t" + (" OR sql LIKE '%' || :t || '%'" if naming else "")
    found = op.get_bind().execute(
        sa.text(
            f"SELECT name, sql FROM sqlite_master WHERE type = :kind AND sql IS NOT NULL "
            f"AND ({where})"
        ),
        {"kind": kind, "t": table},
    )
    return {name: sql for name, sql in found}


@contextmanager
def _rebuilding_tasks() -> Iterator[BatchOperations]:
    """SQLite: rebuild `tasks` in batch mode, keeping what the rebuild would lose.

    The triggers on `tasks` (0007's search triggers) are dropped with the old table, and a
    trigger on another table that names it (the nulling trigger of `categories`) makes the
    final rename refuse: they are dropped first and created again after, as they were. The
    expression indexes (0005's sort keys) cannot be reflected, so the rebuild leaves them
    out: they are created again too."""
    triggers = _schema_sql("trigger", "tasks", naming=True)
    indexes = _schema_sql("index", "tasks")
    for name in triggers:
        op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("tasks", recreate="always") as tasks:
        yield tasks
    kept = _schema_sql("index", "tasks")
    for name, sql in indexes.items():
        if name not in kept:
            op.execute(sql)
    for sql in triggers.values():
        op.execute(sql)


def _upgrade_sqlite() -> None:
    with _rebuilding_tasks() as tasks:
        tasks.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        tasks.create_foreign_key(
            op.f(_PARENT_FK),
            "tasks",
            ["user_id", "parent_id"],
            ["user_id", "id"],
            ondelete="CASCADE",
        )
        tasks.create_check_constraint(op.f(_NOT_SELF), _NOT_SELF_SQL)
    op.create_index(_PARENT_INDEX, "tasks", _PARENT_INDEX_COLUMNS)
    _create_labels()
    _create_task_labels()


def upgrade() -> None:
    if _is_postgres():
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()
    ddl.distribute_tables(by_user=["labels", "task_labels"])


def downgrade() -> None:
    op.drop_table("task_labels")
    op.drop_table("labels")
    if _is_postgres():
        with _autocommit():
            op.drop_index(
                _PARENT_INDEX, table_name="tasks", postgresql_concurrently=True, if_exists=True
            )
        op.drop_constraint(op.f(_NOT_SELF), "tasks", type_="check")
        op.drop_constraint(op.f(_PARENT_FK), "tasks", type_="foreignkey")
        op.drop_column("tasks", "parent_id")
        return
    op.drop_index(_PARENT_INDEX, table_name="tasks")
    with _rebuilding_tasks() as tasks:
        tasks.drop_constraint(op.f(_NOT_SELF), type_="check")
        tasks.drop_constraint(op.f(_PARENT_FK), type_="foreignkey")
        tasks.drop_column("parent_id")
