"""test engineering

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:04:02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tasktracker.migrations import ddl

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_REVISION_TRIGGER = "requirements_next_revision"


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _timestamps() -> list[sa.Column[object]]:
    return [
        _created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _tenant_key() -> list[sa.Column[object]]:
    return [
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
    ]


def _owner(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def _max_length(table: str, column: str, length: int) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"length({column}) <= {length}", name=op.f(f"ck_{table}_{column}_max_length")
    )


def _not_blank(table: str, column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"length(trim({column})) > 0", name=op.f(f"ck_{table}_{column}_not_blank")
    )


def _allowed(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}_allowed"))


def _only_chars(column: str, allowed: str, first: str) -> str:
    return (
        f"length({column}) > 0 AND ltrim({column}, '{allowed}') = '' "
        f"AND ltrim(substr({column}, 1, 1), '{first}') = ''"
    )


def _key_format(table: str) -> sa.CheckConstraint:
    sql = (
        _only_chars("key", _UPPER + _DIGITS + "-", _UPPER)
        + " AND replace(key, '--', '') = key AND substr(key, length(key), 1) <> '-'"
    )
    return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_key_format"))


_PRIORITIES = ("low", "medium", "high", "critical")


def _create_categories(table: str) -> None:
    op.create_table(
        table,
        *_tenant_key(),
        *_timestamps(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _max_length(table, "name", 100),
        _not_blank(table, "name"),
        _owner(table),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f(f"pk_{table}")),
    )
    op.create_index(
        f"uq_{table}_user_id_name_lower", table, ["user_id", sa.text("lower(name)")], unique=True
    )
    ddl.add_table_defaults(table)


def _create_revision_trigger() -> None:
    """Plain SQL that changes a requirement's title or statement also makes a new revision.

    The ORM bumps `revision` itself (so the object knows its new value); the trigger only acts
    when an UPDATE left `revision` alone.
    """
    changed = (
        "(NEW.title IS DISTINCT FROM OLD.title OR NEW.statement IS DISTINCT FROM OLD.statement)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {_REVISION_TRIGGER}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.revision = OLD.revision AND {changed} THEN
                    NEW.revision := OLD.revision + 1;
                END IF;
                RETURN NEW;
            END
            $$""")
        op.execute(
            f"CREATE TRIGGER {_REVISION_TRIGGER} BEFORE UPDATE ON requirements "
            f"FOR EACH ROW EXECUTE FUNCTION {_REVISION_TRIGGER}()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {_REVISION_TRIGGER} AFTER UPDATE OF title, statement ON requirements "
            f"FOR EACH ROW WHEN NEW.revision = OLD.revision "
            f"AND (NEW.title IS NOT OLD.title OR NEW.statement IS NOT OLD.statement) "
            f"BEGIN UPDATE requirements SET revision = OLD.revision + 1 "
            f"WHERE user_id = NEW.user_id AND id = NEW.id; END"
        )


def _drop_revision_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {_REVISION_TRIGGER} ON requirements")
        op.execute(f"DROP FUNCTION {_REVISION_TRIGGER}()")
    else:
        op.execute(f"DROP TRIGGER {_REVISION_TRIGGER}")


def upgrade() -> None:
    _create_categories("command_categories")
    _create_categories("parameter_categories")

    op.create_table(
        "requirements",
        *_tenant_key(),
        *_timestamps(),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), server_default="functional", nullable=False),
        sa.Column("priority", sa.String(length=20), server_default="medium", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("source_ref", sa.String(length=255), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _key_format("requirements"),
        _max_length("requirements", "key", 50),
        _max_length("requirements", "title", 200),
        _not_blank("requirements", "title"),
        _not_blank("requirements", "statement"),
        _max_length("requirements", "source_ref", 255),
        _allowed(
            "requirements",
            "kind",
            ("functional", "performance", "interface", "safety", "security", "other"),
        ),
        _allowed("requirements", "priority", _PRIORITIES),
        _allowed("requirements", "status", ("draft", "in_review", "approved", "obsolete")),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_requirements_revision_min")),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_requirements_parent_id_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "parent_id"],
            ["requirements.user_id", "requirements.id"],
            name="fk_requirements_parent",
        ),
        _owner("requirements"),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_requirements")),
        sa.UniqueConstraint("user_id", "key", name="uq_requirements_user_id_key"),
    )
    op.create_index("ix_requirements_user_id_parent_id", "requirements", ["user_id", "parent_id"])
    ddl.add_table_defaults("requirements")
    ddl.create_nulling_trigger("requirements", "requirements", "parent_id")
    _create_revision_trigger()

    op.create_table(
        "test_specifications",
        *_tenant_key(),
        *_timestamps(),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("objective", sa.Text(), nullable=True),
        sa.Column("preconditions", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("priority", sa.String(length=20), server_default="medium", nullable=False),
        _key_format("test_specifications"),
        _max_length("test_specifications", "key", 50),
        _max_length("test_specifications", "title", 200),
        _not_blank("test_specifications", "title"),
        _allowed("test_specifications", "status", ("draft", "ready", "approved", "obsolete")),
        _allowed("test_specifications", "priority", _PRIORITIES),
        _owner("test_specifications"),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_test_specifications")),
        sa.UniqueConstraint("user_id", "key", name="uq_test_specifications_user_id_key"),
    )
    ddl.add_table_defaults("test_specifications")

    op.create_table(
        "generic_commands",
        *_tenant_key(),
        *_timestamps(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("syntax", sa.String(length=500), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint(
            _only_chars("name", _UPPER + _DIGITS + "_", _UPPER),
            name=op.f("ck_generic_commands_name_format"),
        ),
        _max_length("generic_commands", "name", 100),
        _max_length("generic_commands", "syntax", 500),
        sa.ForeignKeyConstraint(
            ["user_id", "category_id"],
            ["command_categories.user_id", "command_categories.id"],
            name=op.f("fk_generic_commands_user_id_category_id_command_categories"),
        ),
        _owner("generic_commands"),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_generic_commands")),
        sa.UniqueConstraint("user_id", "name", name="uq_generic_commands_user_id_name"),
    )
    op.create_index(
        "ix_generic_commands_user_id_category_id", "generic_commands", ["user_id", "category_id"]
    )
    ddl.add_table_defaults("generic_commands")
    ddl.create_nulling_trigger("command_categories", "generic_commands", "category_id")

    op.create_table(
        "parameters",
        *_tenant_key(),
        *_timestamps(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("data_type", sa.String(length=20), server_default="string", nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("default_value", sa.String(length=500), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            _only_chars("name", _LOWER + _DIGITS + "_", _LOWER),
            name=op.f("ck_parameters_name_format"),
        ),
        _max_length("parameters", "name", 100),
        _allowed("parameters", "data_type", ("string", "integer", "float", "boolean")),
        _max_length("parameters", "unit", 20),
        _not_blank("parameters", "unit"),
        _max_length("parameters", "default_value", 500),
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value",
            name=op.f("ck_parameters_max_value_not_below_min"),
        ),
        sa.CheckConstraint(
            "data_type IN ('integer', 'float') OR (min_value IS NULL AND max_value IS NULL)",
            name=op.f("ck_parameters_min_value_numeric_only"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "category_id"],
            ["parameter_categories.user_id", "parameter_categories.id"],
            name=op.f("fk_parameters_user_id_category_id_parameter_categories"),
        ),
        _owner("parameters"),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_parameters")),
        sa.UniqueConstraint("user_id", "name", name="uq_parameters_user_id_name"),
    )
    op.create_index("ix_parameters_user_id_category_id", "parameters", ["user_id", "category_id"])
    ddl.add_table_defaults("parameters")
    ddl.create_nulling_trigger("parameter_categories", "parameters", "category_id")

    op.create_table(
        "requirement_test_links",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _created_at(),
        sa.Column("requirement_id", sa.Uuid(), nullable=False),
        sa.Column("test_specification_id", sa.Uuid(), nullable=False),
        sa.Column("verified_revision", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "verified_revision >= 1", name=op.f("ck_requirement_test_links_verified_revision_min")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "requirement_id"],
            ["requirements.user_id", "requirements.id"],
            name="fk_requirement_test_links_requirement",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            name="fk_requirement_test_links_test_specification",
            ondelete="CASCADE",
        ),
        _owner("requirement_test_links"),
        sa.PrimaryKeyConstraint(
            "user_id",
            "requirement_id",
            "test_specification_id",
            name=op.f("pk_requirement_test_links"),
        ),
    )
    op.create_index(
        "ix_requirement_test_links_user_id_test_specification_id",
        "requirement_test_links",
        ["user_id", "test_specification_id"],
    )

    op.create_table(
        "generic_command_parameters",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _created_at(),
        sa.Column("command_id", sa.Uuid(), nullable=False),
        sa.Column("parameter_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_required", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint(
            "position >= 1", name=op.f("ck_generic_command_parameters_position_min")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "command_id"],
            ["generic_commands.user_id", "generic_commands.id"],
            name="fk_generic_command_parameters_command",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "parameter_id"],
            ["parameters.user_id", "parameters.id"],
            name="fk_generic_command_parameters_parameter",
        ),
        _owner("generic_command_parameters"),
        sa.PrimaryKeyConstraint(
            "user_id", "command_id", "parameter_id", name=op.f("pk_generic_command_parameters")
        ),
        sa.UniqueConstraint(
            "user_id", "command_id", "position", name="uq_generic_command_parameters_position"
        ),
    )
    op.create_index(
        "ix_generic_command_parameters_user_id_parameter_id",
        "generic_command_parameters",
        ["user_id", "parameter_id"],
    )

    op.create_table(
        "parameter_variants",
        *_tenant_key(),
        *_timestamps(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("parameter_id", sa.Uuid(), nullable=False),
        _max_length("parameter_variants", "name", 100),
        _not_blank("parameter_variants", "name"),
        _max_length("parameter_variants", "value", 500),
        _not_blank("parameter_variants", "value"),
        sa.ForeignKeyConstraint(
            ["user_id", "parameter_id"],
            ["parameters.user_id", "parameters.id"],
            name=op.f("fk_parameter_variants_user_id_parameter_id_parameters"),
            ondelete="CASCADE",
        ),
        _owner("parameter_variants"),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_parameter_variants")),
        sa.UniqueConstraint(
            "user_id", "parameter_id", "id", name="uq_parameter_variants_user_id_parameter_id_id"
        ),
        sa.UniqueConstraint(
            "user_id",
            "parameter_id",
            "name",
            name="uq_parameter_variants_user_id_parameter_id_name",
        ),
    )
    op.create_index(
        "uq_parameter_variants_user_id_parameter_id_default",
        "parameter_variants",
        ["user_id", "parameter_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    ddl.add_table_defaults("parameter_variants")

    op.create_table(
        "test_steps",
        *_tenant_key(),
        *_timestamps(),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("expected_result", sa.Text(), nullable=True),
        sa.Column("command_id", sa.Uuid(), nullable=True),
        sa.Column(
            "continue_on_failure", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("test_specification_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _not_blank("test_steps", "action"),
        sa.CheckConstraint("position >= 1", name=op.f("ck_test_steps_position_min")),
        sa.ForeignKeyConstraint(
            ["user_id", "test_specification_id"],
            ["test_specifications.user_id", "test_specifications.id"],
            name="fk_test_steps_test_specification",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "command_id"],
            ["generic_commands.user_id", "generic_commands.id"],
            name="fk_test_steps_command",
        ),
        _owner("test_steps"),
        sa.PrimaryKeyConstraint("user_id", "id", name=op.f("pk_test_steps")),
        sa.UniqueConstraint(
            "user_id", "test_specification_id", "position", name="uq_test_steps_position"
        ),
    )
    op.create_index("ix_test_steps_user_id_command_id", "test_steps", ["user_id", "command_id"])
    ddl.add_table_defaults("test_steps")

    op.create_table(
        "test_step_arguments",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _created_at(),
        sa.Column("test_step_id", sa.Uuid(), nullable=False),
        sa.Column("parameter_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("value", sa.String(length=500), nullable=True),
        _max_length("test_step_arguments", "value", 500),
        sa.CheckConstraint(
            "variant_id IS NULL OR value IS NULL",
            name=op.f("ck_test_step_arguments_value_or_variant"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "test_step_id"],
            ["test_steps.user_id", "test_steps.id"],
            name="fk_test_step_arguments_test_step",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "parameter_id"],
            ["parameters.user_id", "parameters.id"],
            name="fk_test_step_arguments_parameter",
        ),
        # Includes parameter_id, so the database refuses a variant of another parameter.
        sa.ForeignKeyConstraint(
            ["user_id", "parameter_id", "variant_id"],
            [
                "parameter_variants.user_id",
                "parameter_variants.parameter_id",
                "parameter_variants.id",
            ],
            name="fk_test_step_arguments_variant",
        ),
        _owner("test_step_arguments"),
        sa.PrimaryKeyConstraint(
            "user_id", "test_step_id", "parameter_id", name=op.f("pk_test_step_arguments")
        ),
    )
    op.create_index(
        "ix_test_step_arguments_user_id_parameter_id_variant_id",
        "test_step_arguments",
        ["user_id", "parameter_id", "variant_id"],
    )

    ddl.distribute_tables(
        by_user=[
            "command_categories",
            "parameter_categories",
            "requirements",
            "test_specifications",
            "generic_commands",
            "parameters",
            "requirement_test_links",
            "generic_command_parameters",
            "parameter_variants",
            "test_steps",
            "test_step_arguments",
        ]
    )


def downgrade() -> None:
    op.drop_table("test_step_arguments")
    op.drop_table("test_steps")
    op.drop_table("parameter_variants")
    op.drop_table("generic_command_parameters")
    op.drop_table("requirement_test_links")
    ddl.drop_nulling_trigger("parameter_categories", "parameters", "category_id")
    op.drop_table("parameters")
    ddl.drop_nulling_trigger("command_categories", "generic_commands", "category_id")
    op.drop_table("generic_commands")
    op.drop_table("test_specifications")
    _drop_revision_trigger()
    ddl.drop_nulling_trigger("requirements", "requirements", "parent_id")
    op.drop_table("requirements")
    op.drop_table("parameter_categories")
    op.drop_table("command_categories")
