"""SSL: the URL's sslmode is honoured on every driver, verified certificates are checked, and a
connection that asked for SSL never falls back to plain text.

The throwaway cluster does SCRAM password auth over SSL with a certificate for `localhost`
signed by a test CA, so a Neon-style URL (`sslmode=require&channel_binding=require`) works
here as it does against Neon.
"""

from __future__ import annotations

import asyncio

import pytest

from tasktracker.admin import schema
from tasktracker.admin.health import HealthReport, check_health, check_health_async
from tasktracker.db.engines import create_async_engine, create_engine
from tasktracker.db.errors import ConfigurationError, DatabaseUnavailableError
from tasktracker.db.settings import Settings
from tests.connectivity.helpers import (
    DRIVERS,
    SSL_IN_USE,
    failure_records,
    fast_settings,
    retry_records,
    scalar,
)
from tests.connectivity.servers import NoSslServer, ThrowawayCluster, free_port


def test_neon_style_url_health_reports_ssl(running_cluster: ThrowawayCluster) -> None:
    url = running_cluster.url(sslmode="require", channel_binding="require")
    engine = create_engine(fast_settings(url))
    try:
        report = check_health(engine)
    finally:
        engine.dispose()
    assert report.reachable, report.error
    assert report.ssl is True
    assert report.server_version
    assert report.server_version[0].isdigit()
    assert running_cluster.password not in str(report.to_dict())


def test_sslmode_disable_health_reports_no_ssl(running_cluster: ThrowawayCluster) -> None:
    engine = create_engine(fast_settings(running_cluster.url(sslmode="disable")))
    try:
        report = check_health(engine)
    finally:
        engine.dispose()
    assert report.reachable, report.error
    assert report.ssl is False


@pytest.mark.parametrize("driver", ["psycopg", "psycopg-async"])
def test_neon_style_url_works_unchanged_on_psycopg(
    running_cluster: ThrowawayCluster, driver: str
) -> None:
    url = running_cluster.url(sslmode="require", channel_binding="require")
    assert scalar(url, driver, SSL_IN_USE) is True


def test_asyncpg_refuses_channel_binding_it_cannot_do(running_cluster: ThrowawayCluster) -> None:
    """asyncpg has no SCRAM-SHA-256-PLUS: connecting without binding would be weaker than
    the URL asks, so the engine is refused before any connection, naming the setting."""
    url = running_cluster.url(sslmode="require", channel_binding="require")
    with pytest.raises(ConfigurationError, match="channel_binding=require") as info:
        create_async_engine(fast_settings(url, "asyncpg"))
    assert "postgresql://" in str(info.value)  # what to use instead
    assert running_cluster.password not in str(info.value)


@pytest.mark.parametrize("binding", ["prefer", "disable"])
def test_asyncpg_takes_channel_binding_it_may_skip(
    running_cluster: ThrowawayCluster, binding: str
) -> None:
    url = running_cluster.url(sslmode="require", channel_binding=binding)
    assert scalar(url, "asyncpg", SSL_IN_USE) is True


def test_sslrootcert_system_is_refused_on_asyncpg(running_cluster: ThrowawayCluster) -> None:
    url = running_cluster.url(sslmode="verify-full", sslrootcert="system")
    with pytest.raises(ConfigurationError, match="sslrootcert=system"):
        create_async_engine(fast_settings(url, "asyncpg"))


@pytest.mark.parametrize("driver", DRIVERS)
def test_require_with_a_root_certificate_verifies_the_chain_as_libpq_does(
    running_cluster: ThrowawayCluster, db_log: pytest.LogCaptureFixture, driver: str
) -> None:
    """libpq: with a root certificate, `require` behaves as `verify-ca`; asyncpg the same."""
    certs = running_cluster.certs
    trusted = running_cluster.url(host="127.0.0.1", sslmode="require", sslrootcert=str(certs.ca))
    assert scalar(trusted, driver, SSL_IN_USE) is True  # the chain, not the host name
    other = running_cluster.url(sslmode="require", sslrootcert=str(certs.other_ca))
    with pytest.raises(DatabaseUnavailableError, match="certificate verify failed") as info:
        scalar(other, driver, "SELECT 1", database_connect_retries=4)
    assert "after 1 attempt(s)" in str(info.value)
    assert retry_records(db_log) == []


@pytest.mark.parametrize("driver", DRIVERS)
def test_verify_ca_checks_the_chain_and_not_the_host_name(
    running_cluster: ThrowawayCluster, driver: str
) -> None:
    certs = running_cluster.certs
    url = running_cluster.url(host="127.0.0.1", sslmode="verify-ca", sslrootcert=str(certs.ca))
    assert scalar(url, driver, SSL_IN_USE) is True
    other = running_cluster.url(
        host="127.0.0.1", sslmode="verify-ca", sslrootcert=str(certs.other_ca)
    )
    with pytest.raises(DatabaseUnavailableError, match="certificate verify failed"):
        scalar(other, driver, "SELECT 1")


@pytest.mark.parametrize("driver", DRIVERS)
def test_health_is_the_same_report_on_every_driver(
    running_cluster: ThrowawayCluster, cluster_url: str, driver: str
) -> None:
    """`check_health_async` reports what `check_health` does (latency aside)."""
    settings = fast_settings(cluster_url + "?sslmode=require", driver)
    if driver == "psycopg":
        engine = create_engine(settings)
        try:
            report = check_health(engine)
        finally:
            engine.dispose()
    else:
        report = async_health(settings)
    assert report.reachable, report.error
    assert (report.backend, report.ssl, report.up_to_date) == ("postgresql", True, True)
    assert report.revision == schema.head_revision()
    assert report.server_version
    assert report.server_version[0].isdigit()
    assert report.pool is not None
    assert report.pool.checked_out == 0
    assert report.latency_ms is not None
    assert running_cluster.password not in str(report.to_dict())


def async_health(settings: Settings) -> HealthReport:
    """`check_health_async` on a new async engine of `settings`, disposed after."""

    async def probe() -> HealthReport:
        engine = create_async_engine(settings)
        try:
            return await check_health_async(engine)
        finally:
            await engine.dispose()

    return asyncio.run(probe())


@pytest.mark.parametrize("driver", ["psycopg-async", "asyncpg"])
def test_async_health_of_an_unreachable_server(driver: str) -> None:
    settings = fast_settings(f"postgresql://app:{SECRET}@127.0.0.1:{free_port()}/tasks", driver)
    report = async_health(settings)
    assert not report.reachable
    assert not report.healthy
    assert report.error
    assert "after 3 attempt(s)" in report.error
    assert SECRET not in str(report.to_dict())
    assert report.head == schema.head_revision()


SECRET = "health-Secret-7731"


@pytest.mark.parametrize("driver", DRIVERS)
def test_sslmode_disable_is_plain_on_every_driver(
    running_cluster: ThrowawayCluster, driver: str
) -> None:
    assert scalar(running_cluster.url(sslmode="disable"), driver, SSL_IN_USE) is False


def test_channel_binding_require_is_enforced_by_libpq(running_cluster: ThrowawayCluster) -> None:
    """Without SSL there is nothing to bind to: libpq refuses rather than authenticate weaker."""
    url = running_cluster.url(sslmode="disable", channel_binding="require")
    with pytest.raises(DatabaseUnavailableError, match="channel binding"):
        scalar(url, "psycopg", "SELECT 1")


@pytest.mark.parametrize("driver", DRIVERS)
def test_verify_full_with_the_ca_succeeds(running_cluster: ThrowawayCluster, driver: str) -> None:
    url = running_cluster.url(
        host="localhost", sslmode="verify-full", sslrootcert=str(running_cluster.certs.ca)
    )
    assert scalar(url, driver, SSL_IN_USE) is True


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    ("case", "host", "ca_attr", "expected"),
    [
        ("wrong CA", "localhost", "other_ca", r"certificate verify failed"),
        ("wrong host name", "127.0.0.1", "ca", r"does not match host name|mismatch"),
    ],
)
def test_unverifiable_server_is_refused_at_once(
    running_cluster: ThrowawayCluster,
    db_log: pytest.LogCaptureFixture,
    driver: str,
    case: str,
    host: str,
    ca_attr: str,
    expected: str,
) -> None:
    ca = getattr(running_cluster.certs, ca_attr)
    url = running_cluster.url(host=host, sslmode="verify-full", sslrootcert=str(ca))
    with pytest.raises(DatabaseUnavailableError, match=expected) as info:
        scalar(url, driver, "SELECT 1", database_connect_retries=4)
    message = str(info.value)
    assert f"{host}:{running_cluster.port}" in message
    assert "after 1 attempt(s)" in message  # waiting cannot fix a certificate: no retries
    assert retry_records(db_log) == []
    assert running_cluster.password not in message
    assert len(failure_records(db_log)) == 1


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("sslmode", ["require", "verify-full"])
def test_no_silent_fallback_to_plain_text(
    db_log: pytest.LogCaptureFixture, driver: str, sslmode: str
) -> None:
    """A server that refuses SSL gets no plain-text startup packet, and one attempt only.

    With `verify-full` and no root certificate (no `sslrootcert`, no ~/.postgresql/root.crt)
    asyncpg refuses before connecting at all, as libpq's rules say it must fail; libpq
    itself asks the server first and fails on its refusal."""
    with NoSslServer() as server:
        url = f"postgresql://app:secret@127.0.0.1:{server.port}/tasks?sslmode={sslmode}"
        with pytest.raises(DatabaseUnavailableError, match=r"SSL|root certificate") as info:
            scalar(url, driver, "SELECT 1", database_connect_retries=4)
    assert "after 1 attempt(s)" in str(info.value)
    assert server.connections == (0 if (driver, sslmode) == ("asyncpg", "verify-full") else 1)
    assert server.plain_startups == 0
    assert retry_records(db_log) == []
