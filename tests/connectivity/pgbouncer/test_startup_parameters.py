"""What PgBouncer refuses at connection time, on every driver: any startup parameter it does
not track. The engine sends some unless told a pooler sits in between
(`DATABASE_PREPARED_STATEMENTS=false`, or a Neon `-pooler` host): psycopg's libpq `options`
(`-c TimeZone=UTC`, always, and the statement timeout), asyncpg's `statement_timeout`.
The refusal is permanent, so it is not retried (docs/connectivity.md, "Poolers")."""

from __future__ import annotations

import pytest

from tasktracker.db.errors import DatabaseUnavailableError
from tests.connectivity.helpers import DRIVERS, retry_records, scalar

pytestmark = pytest.mark.pgbouncer

REFUSED = {"psycopg": "options", "psycopg-async": "options", "asyncpg": "statement_timeout"}


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_startup_parameter_is_refused_at_once(
    migrated_url: str, db_log: pytest.LogCaptureFixture, driver: str
) -> None:
    with pytest.raises(DatabaseUnavailableError) as info:
        scalar(
            migrated_url,
            driver,
            "SELECT 1",
            database_statement_timeout_ms=5000,
            database_connect_retries=4,
        )
    assert f"unsupported startup parameter: {REFUSED[driver]}" in str(info.value)
    assert "after 1 attempt(s)" in str(info.value)
    assert retry_records(db_log) == []


@pytest.mark.parametrize("driver", DRIVERS)
def test_told_of_the_pooler_every_driver_connects_with_its_timeout(
    migrated_url: str, driver: str
) -> None:
    timeout = scalar(
        migrated_url,
        driver,
        "SHOW statement_timeout",  # `SET LOCAL` at the start of the transaction
        database_statement_timeout_ms=5000,
        database_prepared_statements=False,
    )
    assert timeout == "5s"
