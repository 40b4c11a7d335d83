"""SSL: the URL's sslmode is honoured on every driver, verified certificates are checked, and a
connection that asked for SSL never falls back to plain text.

The throwaway cluster does SCRAM password auth over SSL with a certificate for `localhost`
signed by a test CA, so a Neon-style URL (`sslmode=require&channel_binding=require`) works
here as it does against Neon.
"""

from __future__ import annotations

import pytest

from tasktracker.admin.health import check_health
from tasktracker.db.engines import create_engine
from tasktracker.db.errors import DatabaseUnavailableError
from tests.connectivity.helpers import (
    DRIVERS,
    SSL_IN_USE,
    failure_records,
    fast_settings,
    retry_records,
    scalar,
)
from tests.connectivity.servers import NoSslServer, ThrowawayCluster


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


@pytest.mark.parametrize("driver", DRIVERS)
def test_neon_style_url_works_unchanged_on_every_driver(
    running_cluster: ThrowawayCluster, driver: str
) -> None:
    url = running_cluster.url(sslmode="require", channel_binding="require")
    assert scalar(url, driver, SSL_IN_USE) is True


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
    db_log: pytest.LogCaptureFixture, driver: str, sslmode: str, tmp_path: object
) -> None:
    """A server that refuses SSL gets no plain-text startup packet, and one attempt only."""
    with NoSslServer() as server:
        url = f"postgresql://app:secret@127.0.0.1:{server.port}/tasks?sslmode={sslmode}"
        with pytest.raises(DatabaseUnavailableError, match=r"SSL") as info:
            scalar(url, driver, "SELECT 1", database_connect_retries=4)
    assert "after 1 attempt(s)" in str(info.value)
    assert server.connections == 1
    assert server.plain_startups == 0
    assert retry_records(db_log) == []
