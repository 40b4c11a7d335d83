"""Whether the database is distributed by Citus (docs/citus.md): what the migrations, the
health check and the batch jobs ask before using what only plain PostgreSQL allows."""

from __future__ import annotations

from sqlalchemy import Connection, text


def citus_installed(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    found = connection.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'citus'"))
    return found is not None
