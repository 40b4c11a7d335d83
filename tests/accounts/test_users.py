"""Accounts: unique email/username regardless of case, Argon2id passwords, no secret ever shown."""

from __future__ import annotations

import logging

import pytest
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import ValidationError as SchemaError
from sqlalchemy import text

from tasktracker.accounts import passwords
from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.accounts.schemas import UserCreate, UserRead, UserUpdate
from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database

PASSWORD = "s3cret-passw0rd"


def _register(db: Database, name: str = "alice", email: str | None = None) -> User:
    with db.session() as session:
        return UserRepository(session).register(
            UserCreate(email=email or f"{name}@example.com", username=name, password=PASSWORD)
        )


def test_password_is_stored_as_argon2id_and_checked(db: Database) -> None:
    user = _register(db)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)
    assert not user.check_password("wrong password")
    assert not user.check_password("")
    with db.session() as session:
        repo = UserRepository(session)
        assert repo.authenticate("ALICE@example.com", PASSWORD) is not None
        assert repo.authenticate("alice", "nope-nope") is None
        assert repo.authenticate("nobody", PASSWORD) is None


def test_every_failed_sign_in_costs_one_argon2_verification(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown, inactive and wrong-password sign-ins all run one real Argon2 verification,
    so the time of the answer does not tell which logins exist."""
    _register(db, "carol")
    verifications: list[str] = []
    real_verify = passwords._hasher.verify_and_update

    def counting(password: str, password_hash: str) -> tuple[bool, str | None]:
        verifications.append(password_hash)
        return real_verify(password, password_hash)

    monkeypatch.setattr(passwords._hasher, "verify_and_update", counting)
    with db.session() as session:
        repo = UserRepository(session)
        for login, password in [("carol", "wrong-password"), ("nobody", PASSWORD)]:
            assert repo.authenticate(login, password) is None
        repo.find("carol").is_active = False  # type: ignore[union-attr]
        assert repo.authenticate("carol", PASSWORD) is None
    assert len(verifications) == 3
    assert all(hash_.startswith("$argon2id$") for hash_ in verifications)


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_password_length_is_enforced(password: str) -> None:
    with pytest.raises(ValidationError, match="password"):
        User(email="a@example.com", username="abc", password_hash="-").set_password(password)


def test_outdated_hash_is_upgraded_on_successful_check(db: Database) -> None:
    weak = passwords.PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024),))
    user = _register(db)
    user.password_hash = weak.hash(PASSWORD)
    old = user.password_hash
    assert user.check_password(PASSWORD)
    assert user.password_hash != old
    assert user.check_password(PASSWORD)


def test_hash_never_appears_in_dicts_schemas_reprs_or_logs(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = _register(db)
    secret = user.password_hash
    shown = [
        repr(user),
        str(user),
        str(user.to_dict()),
        UserRead.model_validate(user).model_dump_json(),
        str(user.model_dump()),
        repr(UserCreate(email="b@example.com", username="bob", password=PASSWORD)),
    ]
    assert all(secret not in text_ and PASSWORD not in text_ for text_ in shown)
    assert "password_hash" not in user.to_dict()
    assert secret not in caplog.text
    assert PASSWORD not in caplog.text


def test_email_and_username_unique_regardless_of_case(db: Database) -> None:
    _register(db, "alice")
    with pytest.raises(ConflictError, match="email"):
        _register(db, "alice2", email="ALICE@EXAMPLE.COM")
    with pytest.raises(ConflictError, match="username"):
        _register(db, "ALICE", email="other@example.com")


def test_database_enforces_case_insensitive_uniqueness(db: Database, backend: str) -> None:
    _register(db, "alice")
    with pytest.raises(ConflictError, match="email"), db.session() as session:
        session.add(User(email="Alice@Example.com", username="zed", password_hash="-"))
    with pytest.raises(ConflictError, match="username"), db.session() as session:
        session.add(User(email="zed@example.com", username="aLiCe", password_hash="-"))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"username": "ab"}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "x" * 51}, "username"),
        ({"username": "robert'); DROP TABLE users;--"}, "username"),
    ],
)
def test_invalid_emails_and_usernames_are_refused(fields: dict[str, str], field: str) -> None:
    values = {"email": "ok@example.com", "username": "okay", "password": PASSWORD} | fields
    with pytest.raises(SchemaError) as caught:
        UserCreate(**values)
    assert {error["loc"][0] for error in caught.value.errors()} == {field}
    with pytest.raises(ValidationError) as model_error:
        User(**{k: v for k, v in values.items() if k != "password"}, password_hash="-")
    assert model_error.value.fields == {field}


def test_register_from_raw_input_gives_field_errors_without_echoing_the_password(
    db: Database,
) -> None:
    with pytest.raises(ValidationError) as caught, db.session() as session:
        UserRepository(session).register(
            {"email": "bad", "username": "ok_name", "password": "tiny"}
        )
    assert caught.value.fields == {"email", "password"}
    assert "tiny" not in str(caught.value)


def test_plain_sql_overlong_username_is_refused(db: Database, backend: str) -> None:
    with pytest.raises(ValidationError), db.session() as session:
        session.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash) "
                "VALUES (:i, 'x@example.com', :u, '-')"
            ),
            {
                "i": "0" * 32 if backend == "sqlite" else "00000000-0000-0000-0000-000000000000",
                "u": "u" * 51,
            },
        )


def test_user_scope_sees_only_its_own_user(db: Database) -> None:
    alice, bob = _register(db, "alice"), _register(db, "bobby")
    with db.user_scope(alice.id) as session:
        repo = UserRepository(session)
        assert repo.find("bobby") is None
        assert repo.find("alice") is not None
        repo.update(alice.id, UserUpdate(username="alice_2"))
    with db.session() as session:
        assert UserRepository(session).get(alice.id).username == "alice_2"
        assert UserRepository(session).get(bob.id).username == "bobby"
