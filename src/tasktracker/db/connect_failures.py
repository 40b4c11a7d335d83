"""Why a connection attempt failed, as an SQLSTATE, and whether waiting can heal it: one rule
for psycopg (sync and async) and asyncpg.

asyncpg's errors carry the server's SQLSTATE (SQLAlchemy's wrapper of them copies it). libpq
reports a refused startup as text only: psycopg's `OperationalError` for a failed connection
has no SQLSTATE. Its code is read back from the server's `FATAL:` line, matched against the
messages PostgreSQL sends with each code (in English, a server's default `lc_messages`; a
startup refused in another language is treated as permanent: one attempt, then the error).
A failure that reached no server, or no answer from it (refused, reset, timed out), is the
client's own `08001`, "unable to establish connection".

Retried: connection exceptions (class 08), the server shutting down, starting up or not yet
accepting connections (57P01, 57P02, 57P03) and too many connections (53300). Everything
else is permanent: waiting cannot fix a password (class 28), a database name (3D000), a
certificate, or a pooler refusing a startup parameter.
"""

from __future__ import annotations

import asyncio
import re
import ssl

import psycopg

HEALING_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
"""SQLSTATEs (or classes) of connection failures that waiting can heal."""

UNABLE_TO_CONNECT = "08001"

# (fragment of the server's message, its SQLSTATE), as PostgreSQL sends them at startup.
_SERVER_MESSAGES = (
    ("the database system is starting up", "57P03"),
    ("the database system is shutting down", "57P03"),
    ("the database system is not yet accepting connections", "57P03"),
    ("the database system is not accepting connections", "57P03"),
    ("the database system is in recovery mode", "57P03"),
    ("sorry, too many clients already", "53300"),
    ("remaining connection slots are reserved", "53300"),
    ("too many connections for role", "53300"),
    ("too many connections for database", "53300"),
    ("terminating connection due to administrator command", "57P01"),
    ("terminating connection because of crash of another server process", "57P02"),
    ("password authentication failed", "28P01"),
    ("no pg_hba.conf entry", "28000"),
    ("is not permitted to log in", "28000"),
    ('role "', "28000"),  # role "x" does not exist
    ('database "', "3D000"),  # database "x" does not exist
)
_FATAL = re.compile(r"FATAL:\s+(.+)")

# Client-side refusals, with no SQLSTATE of the server's to go by, or with a generic one
# (PgBouncer refuses a startup parameter with 08P01, a protocol violation).
_PERMANENT_MARKERS = (
    "no password supplied",
    "channel binding",
    "does not support ssl",  # libpq: sslmode=require against a plain server
    "rejected ssl upgrade",  # asyncpg: the same
    "certificate",  # unverifiable or unreadable certificate
    "does not match host name",
    "sslmode",  # an invalid or contradictory sslmode
    "unsupported startup parameter",  # a pooler refusing a connection option
)


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE of a failed connection attempt, from whichever driver raised it."""
    for candidate in (exc, exc.__cause__):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str) and code:
            return code
    if match := _FATAL.search(str(exc)):
        message = match[1]
        return next((code for fragment, code in _SERVER_MESSAGES if fragment in message), None)
    # With no `FATAL:` line, libpq's failure (psycopg's `OperationalError`) did not reach
    # the server or got no answer from it, like asyncpg's `OSError`s.
    if isinstance(exc, OSError | TimeoutError | asyncio.TimeoutError | psycopg.OperationalError):
        return UNABLE_TO_CONNECT
    return None


def can_heal(exc: BaseException) -> bool:
    """Whether retrying the connection attempt later may succeed."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    if any(marker in str(exc).lower() for marker in _PERMANENT_MARKERS):
        return False
    code = sqlstate_of(exc)
    return code is not None and code.startswith(HEALING_SQLSTATES)
