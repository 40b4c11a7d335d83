"""Case-insensitive keys: SQLite's `tasktracker_lower` is PostgreSQL's `lower()`, so both
backends refuse, accept and find the same names."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from tasktracker.accounts.repository import UserRepository
from tasktracker.db.caseless import caseless, simple_lower
from tasktracker.db.engines import create_engine
from tasktracker.db.errors import ConflictError
from tasktracker.db.sessions import Database
from tasktracker.tasks.repository import CategoryRepository
from tasktracker.testspec.repositories.categories import CommandCategoryRepository
from tests import databases

EVERY_CHARACTER = "".join(
    chr(code) for code in range(1, sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF
)


def test_simple_lower_is_per_character() -> None:
    assert simple_lower("ÉCLAIR Öl") == "éclair öl"
    assert simple_lower("\u0130") == "i"  # str.lower() gives "i\u0307"
    assert simple_lower("ΟΔΟΣ") == "οδοσ"  # str.lower() gives a final ς
    assert simple_lower("Straße ẞ") == "straße ß"  # lowercase, not casefold (no "ss")
    assert simple_lower(None) is None


def test_sqlite_lowercases_every_character_as_postgresql_does(
    postgres_admin_url: str, sqlite_dir: Path
) -> None:
    """All of Unicode (but NUL and the surrogates) in one string, through each backend."""
    with psycopg.connect(databases._libpq(postgres_admin_url)) as connection:
        ctype = connection.execute("SELECT datctype FROM pg_database WHERE datname = 'template1'")
        pg_lower = connection.execute("SELECT lower(%s)", [EVERY_CHARACTER]).fetchone()
    assert pg_lower is not None
    with databases.fresh_sqlite_database(sqlite_dir) as url:
        engine = create_engine(databases.test_settings(url))
        with engine.connect() as connection:
            sqlite_lower = connection.scalar(select(caseless(EVERY_CHARACTER)))  # type: ignore[arg-type]
        engine.dispose()
    differing = [
        f"U+{ord(a):04X}: PostgreSQL {b!r}, SQLite {c!r}"
        for a, b, c in zip(EVERY_CHARACTER, pg_lower[0], sqlite_lower or "", strict=True)
        if b != c
    ]
    assert differing == [], f"template1 LC_CTYPE {ctype.fetchone()}: {differing[:20]}"


# (one name, another, whether they are the same name regardless of case)
PAIRS = [
    ("Éclair", "éclair", True),
    ("ÖL", "öl", True),
    ("\u03a3\u0391\u03a3", "\u03c3\u03b1\u03c3", True),  # capital and small sigmas
    ("\u03a3\u0391\u03a3", "\u03c3\u03b1\u03c2", False),  # the final sigma stays itself
    ("İstanbul", "istanbul", True),
    ("Straße", "STRASSE", False),  # lowercase does not fold ß into ss
    ("\u01c4", "\u01c5", True),  # DŽ and Dž
    ("\u212a", "k", True),  # the Kelvin sign
    ("\u2126", "\u03c9", True),  # the Ohm sign lowercases to omega
]


@pytest.mark.parametrize(("first", "second", "same"), PAIRS)
def test_category_names_are_unique_regardless_of_case_alike(
    db: Database, make_user, first: str, second: str, same: bool
) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        CategoryRepository(session).create({"name": first})
    if same:
        with pytest.raises(ConflictError, match="name"), db.user_scope(user) as session:
            CategoryRepository(session).create({"name": second})
    else:
        with db.user_scope(user) as session:
            CategoryRepository(session).create({"name": second})
    with db.user_scope(user) as session:  # the unit of work is still usable
        names = [c.name for c in CategoryRepository(session).list()]
        assert names == sorted([first] if same else [first, second], key=simple_lower)


def test_testspec_categories_are_found_regardless_of_case(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        repository = CommandCategoryRepository(session)
        created = repository.create({"name": "Öl-Messung"})
        assert repository.get_by_name("ÖL-MESSUNG").id == created.id
        assert repository.find_by_name("öl-messung") is not None
    with pytest.raises(ConflictError, match="name"), db.user_scope(user) as session:
        CommandCategoryRepository(session).create({"name": "öl-messung"})


def test_emails_are_unique_and_found_regardless_of_case(db: Database) -> None:
    with db.session() as session:
        user = UserRepository(session).register(
            {"email": "Éclair@example.com", "username": "eclair", "password": "long enough"}
        )
    with pytest.raises(ConflictError, match="email"), db.session() as session:
        UserRepository(session).register(
            {"email": "éclair@example.com", "username": "other", "password": "long enough"}
        )
    with db.session() as session:
        found = UserRepository(session).find("ÉCLAIR@EXAMPLE.COM")
        assert found is not None
        assert found.id == user.id


def test_a_plain_sqlite3_connection_reads_but_cannot_write_these_tables(
    migrated_url: str, backend: str
) -> None:
    """The documented limit: without the engine factory there is no `tasktracker_lower`,
    and SQLite refuses the write instead of corrupting the index."""
    if backend != "sqlite":
        pytest.skip("a SQLite limit")
    path = migrated_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM categories").fetchone() is not None
        with pytest.raises(sqlite3.OperationalError, match="tasktracker_lower"):
            connection.execute(
                "INSERT INTO users (id, email, username, password_hash) "
                "VALUES ('0', 'a@b.example', 'abc', 'x')"
            )
