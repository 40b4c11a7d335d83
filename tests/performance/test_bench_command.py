"""`tasktracker bench` end to end on a tiny data set: every operation runs on both sides and
both sides return the same rows. Timings are never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasktracker.cli import app
from tasktracker.db.settings import get_settings
from tasktracker.seeding import volume
from tests import databases

OPERATIONS = {
    "page_open_tasks",
    "get_task",
    "keyset_page",
    "counts_by_status",
    "insert_task",
    "latest_messages",
    "specification",
    "bulk_load",
    "offset_vs_keyset",
    "threads_20",
    "threads_100",
    "asyncio_20",
    "asyncio_100",
}


@pytest.mark.parametrize("fresh_url", ["sqlite", "postgresql"], indirect=True)
def test_every_operation_runs_and_both_sides_return_the_same_rows(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password_hash: str
) -> None:
    databases.migrate_to(fresh_url)
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    monkeypatch.setattr(volume, "hash_password", lambda _: password_hash)
    report = tmp_path / "bench.json"
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "bench", "--users", "3", "--tasks-per-user", "300", "--long-messages", "60",
                "--spec-steps", "12", "--depth", "120", "--warmup", "1", "--rounds", "4",
                "--seconds", "0.2", "--concurrency-seconds", "0.1", "--bulk-rows", "500",
                "--anatomy", "--json", str(report),
            ],
        )  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    results = {r["key"]: r for r in document["results"]}
    assert set(results) == OPERATIONS
    assert not [r["key"] for r in results.values() if any("MISMATCH" in n for n in r["notes"])]
    for key in OPERATIONS - {"offset_vs_keyset"}:
        assert results[key]["project"]["n"] > 0, key
        assert results[key]["raw"]["n"] > 0, key
    for mode in ("threads", "asyncio"):
        for workers in (20, 100):
            row = results[f"{mode}_{workers}"]
            assert row["project"]["errors"] == row["raw"]["errors"] == 0
            assert not row["project"]["hung"]
    assert document["load"]["rows"] == sum(document["load"]["tables"].values()) > 3 * 300
    assert len(document["anatomy"]) == 9
