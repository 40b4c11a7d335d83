"""The SQLSTATE of a failed connection attempt, the same for every driver, and which ones a
retry can heal (`db.connect_failures`). The drivers' real exception classes, with the
messages PostgreSQL and libpq send; tests/connectivity/test_faults.py makes the server
itself refuse."""

from __future__ import annotations

import ssl

import psycopg
import pytest
from asyncpg import exceptions as asyncpg_errors

from tasktracker.db.connect_failures import can_heal, sqlstate_of

LIBPQ = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: '


def libpq(message: str) -> psycopg.OperationalError:
    return psycopg.OperationalError(LIBPQ + message)


CASES = [
    # (exception, its SQLSTATE, healed by waiting)
    (libpq("FATAL:  the database system is starting up"), "57P03", True),
    (libpq("FATAL:  the database system is shutting down"), "57P03", True),
    (libpq("FATAL:  the database system is not accepting connections"), "57P03", True),
    (libpq("FATAL:  sorry, too many clients already"), "53300", True),
    (libpq("FATAL:  remaining connection slots are reserved for superusers"), "53300", True),
    (libpq('FATAL:  too many connections for role "app"'), "53300", True),
    (libpq("Connection refused"), "08001", True),
    (libpq("server closed the connection unexpectedly"), "08001", True),
    (libpq('FATAL:  password authentication failed for user "app"'), "28P01", False),
    (libpq('FATAL:  database "nope" does not exist'), "3D000", False),
    (libpq('FATAL:  role "nope" does not exist'), "28000", False),
    (libpq("FATAL:  no pg_hba.conf entry for host"), "28000", False),
    (libpq("FATAL:  the server speaks Klingon"), None, False),  # unknown: not retried
    (ConnectionRefusedError(111, "Connect call failed"), "08001", True),
    (ConnectionResetError(104, "Connection reset by peer"), "08001", True),
    (TimeoutError(), "08001", True),
    # asyncpg's own (SQLAlchemy's wrapper of them copies `sqlstate`: test_faults.py)
    (asyncpg_errors.CannotConnectNowError("starting up"), "57P03", True),
    (asyncpg_errors.TooManyConnectionsError("too many clients"), "53300", True),
    (asyncpg_errors.AdminShutdownError("terminating"), "57P01", True),
    (asyncpg_errors.InvalidPasswordError("password"), "28P01", False),
    (asyncpg_errors.InvalidCatalogNameError("no such db"), "3D000", False),
]


@pytest.mark.parametrize(("error", "sqlstate", "heals"), CASES, ids=lambda v: str(v)[:60])
def test_sqlstate_and_whether_waiting_heals(
    error: Exception, sqlstate: str | None, heals: bool
) -> None:
    assert sqlstate_of(error) == sqlstate
    assert can_heal(error) is heals


@pytest.mark.parametrize(
    "error",
    [
        ssl.SSLCertVerificationError("certificate verify failed"),
        libpq("server does not support SSL, but SSL was required"),
        libpq("channel binding is required, but server did not offer an authentication method"),
        # PgBouncer refuses a startup parameter with 08P01, a class-08 code: still permanent
        asyncpg_errors.ProtocolViolationError("unsupported startup parameter: options"),
        libpq("fe_sendauth: no password supplied"),
    ],
    ids=lambda v: str(v)[:60],
)
def test_client_side_refusals_are_permanent(error: Exception) -> None:
    assert not can_heal(error)
