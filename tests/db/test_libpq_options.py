"""PGOPTIONS reaches the session although the engine passes libpq an `options` of its own
(which makes libpq ignore the variable): the variable's settings, then the URL's, then the
engine's, so the engine's `TimeZone=UTC` still wins (docs/citus.md relied on this once)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tasktracker.db.engines import create_engine
from tests import databases


def test_pgoptions_and_url_options_reach_the_session(
    postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=7MB -c TimeZone=Europe/Paris")
    url = make_url(postgres_admin_url).update_query_dict({"options": "-c lock_timeout=4s"})
    engine = create_engine(databases.test_settings(url.render_as_string(hide_password=False)))
    try:
        with engine.connect() as connection:
            shown = {
                name: connection.scalar(text(f"SHOW {name}"))
                for name in ("work_mem", "lock_timeout", "TimeZone")
            }
    finally:
        engine.dispose()
    assert shown == {"work_mem": "7MB", "lock_timeout": "4s", "TimeZone": "UTC"}
