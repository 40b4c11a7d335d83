"""Revision 0004: Unicode case-insensitive keys on SQLite, non-blank emails and usernames.

Existing rows that break the new rules stop the upgrade before anything changes; the checks
are enforced after it (plain SQL too) and gone again after its downgrade; on PostgreSQL a
check left `NOT VALID` by an interrupted run is added afresh and validated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from tasktracker.admin import schema
from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.types import new_id
from tests.migrations.conftest import fresh_engine_for

BEFORE = "0003"
REVISION = "0004"
CHECKS = {"ck_users_email_not_blank", "ck_users_username_not_blank"}


def _add_user(engine: Engine, email: str, username: str) -> str:
    user_id = new_id()
    key = user_id.hex if engine.dialect.name == "sqlite" else str(user_id)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash) "
                "VALUES (:id, :email, :username, '-')"
            ),
            {"id": key, "email": email, "username": username},
        )
    return key


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return schema.current_revision(connection)


def _checks(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        found = inspect(connection).get_check_constraints("users")
    return {str(check["name"]) for check in found} & CHECKS


def _index_sql(engine: Engine, name: str) -> str:
    with engine.connect() as connection:
        sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).scalar_one()
    return str(sql)


def test_blank_users_stop_the_upgrade_until_they_are_fixed(fresh_engine: Engine) -> None:
    schema.upgrade(fresh_engine, BEFORE)
    blank = _add_user(fresh_engine, "   ", "blank_email")
    with pytest.raises(ValidationError, match=r"users\.email: 1 row\(s\) are blank"):
        schema.upgrade(fresh_engine, REVISION)
    assert _revision(fresh_engine) == BEFORE
    assert _checks(fresh_engine) == set()

    with fresh_engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET email = 'fixed@example.com' WHERE id = :id"), {"id": blank}
        )
    schema.upgrade(fresh_engine, REVISION)
    assert _checks(fresh_engine) == CHECKS
    with pytest.raises(ValidationError) as caught:
        _add_user(fresh_engine, "new@example.com", "  ")
    assert caught.value.fields == {"username"}


def test_the_downgrade_removes_the_checks_and_restores_the_indexes(fresh_engine: Engine) -> None:
    schema.upgrade(fresh_engine, REVISION)
    schema.downgrade(fresh_engine, BEFORE)
    assert _checks(fresh_engine) == set()
    _add_user(fresh_engine, "  ", "blank_again")  # 0003 had no such check
    if fresh_engine.dialect.name == "sqlite":
        assert "(lower(email))" in _index_sql(fresh_engine, "uq_users_email_lower")
        assert "lower(name)" in _index_sql(fresh_engine, "uq_categories_user_id_name_lower")


def test_sqlite_rows_equal_regardless_of_unicode_case_stop_the_upgrade(sqlite_dir: Path) -> None:
    """SQLite's ASCII-only `lower()` let `Éclair` and `éclair` both in: they must be renamed."""
    with fresh_engine_for("sqlite", sqlite_dir) as engine:
        schema.upgrade(engine, BEFORE)
        owner = _add_user(engine, "owner@example.com", "owner")
        with engine.begin() as connection:
            for name in ("Éclair", "éclair"):
                connection.execute(
                    text("INSERT INTO categories (user_id, id, name) VALUES (:u, :i, :n)"),
                    {"u": owner, "i": new_id().hex, "n": name},
                )
        with pytest.raises(ConflictError, match=r"categories\.name: 1 value"):
            schema.upgrade(engine, REVISION)
        assert _revision(engine) == BEFORE
        assert "lower(name)" in _index_sql(engine, "uq_categories_user_id_name_lower")
        assert "(lower(email))" in _index_sql(engine, "uq_users_email_lower")

        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE categories SET name = 'Éclair 2' WHERE name = 'éclair'"
            )
        schema.upgrade(engine, REVISION)
        assert "tasktracker_lower(name)" in _index_sql(engine, "uq_categories_user_id_name_lower")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            names = connection.exec_driver_sql("SELECT name FROM categories ORDER BY name")
            assert names.scalars().all() == ["Éclair", "Éclair 2"]


def test_a_check_left_not_valid_is_added_afresh_and_validated(pg_engine: Engine) -> None:
    schema.upgrade(pg_engine, BEFORE)
    with pg_engine.begin() as connection:
        connection.exec_driver_sql(
            "ALTER TABLE users ADD CONSTRAINT ck_users_email_not_blank "
            "CHECK (length(trim(email)) > 0) NOT VALID"
        )
    schema.upgrade(pg_engine, REVISION)
    with pg_engine.connect() as connection:
        validated = connection.execute(
            text(
                "SELECT conname, convalidated FROM pg_constraint "
                "WHERE conrelid = 'users'::regclass AND conname LIKE :pattern"
            ),
            {"pattern": "%not_blank"},
        )
        assert {name: valid for name, valid in validated} == dict.fromkeys(CHECKS, True)
