"""`tasktracker bench` end to end on a tiny data set: every operation runs through every
contender (the raw driver, the fast path, the ORM path, with `--peers` plain SQLAlchemy
Core and ORM), and every contender returns the raw driver's rows. Timings are never
asserted."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tasktracker.bench.operations import Op, compare, ids
from tasktracker.bench.raw import TASK_ORDER
from tasktracker.cli import app
from tasktracker.db.settings import get_settings
from tasktracker.seeding import volume
from tasktracker.tasks.repository import TaskSort
from tests import databases

PAGES = {f"page_{sort.value}" for sort in TaskSort}
PEERED = {"page_newest", "page_due_soonest", "get_task", "latest_messages", "insert_task"}
"""With `--peers`: the fast path, the ORM path and both peers."""
CONCURRENCY = {"threads_20", "threads_100", "asyncio_20", "asyncio_100"}
ASYNC = {"async_get_task", "async_page", "async_latest_messages", "async_insert_task"}
"""One operation at a time in an async unit, against the raw driver's async connection."""
SEARCHES = {"search_common", "search_rare", "search_phrase"}
"""`TaskRepository.search` (a unit's session statements: the ORM path) against raw SQL."""
CONTENDERS = (
    {key: {"fast", "orm"} for key in PAGES | {"keyset_page", "specification"} | CONCURRENCY | ASYNC}
    | {key: {"fast", "orm", "peer_core", "peer_orm"} for key in PEERED}
    | {"counts_by_status": {"fast", "peer_core", "peer_orm"}, "bulk_load": {"fast"}}
    | {key: {"orm"} for key in SEARCHES}
)
OPERATIONS = set(CONTENDERS) | {"offset_vs_keyset"}
ROWS = {
    key: 50
    for key in PAGES | {"keyset_page", "latest_messages", "async_page", "async_latest_messages"}
} | {
    "get_task": 1,
    "insert_task": 1,
    "specification": 12,
    "async_get_task": 1,
    "async_insert_task": 1,
}
"""What the raw driver returned in the check before timing (every other contender must
return the same): a full page, one task, one written row, every step."""
TINY = [
    "--users", "3", "--tasks-per-user", "300", "--long-messages", "60", "--spec-steps", "12",
    "--depth", "120", "--warmup", "1", "--rounds", "4", "--seconds", "0.2",
    "--concurrency-seconds", "0.1", "--bulk-rows", "500",
]  # fmt: skip


Bench = Callable[..., Result]


@pytest.fixture
def bench(fresh_url: str, monkeypatch: pytest.MonkeyPatch, password_hash: str) -> Bench:
    """`tasktracker bench` with the tiny data set's options, on a migrated database."""
    databases.migrate_to(fresh_url)
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    monkeypatch.setattr(volume, "hash_password", lambda _: password_hash)

    def run(*options: str) -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, ["bench", *TINY, *options])
        finally:
            get_settings.cache_clear()

    return run


@pytest.mark.parametrize("fresh_url", ["sqlite", "postgresql"], indirect=True)
def test_every_contender_runs_every_operation_and_returns_the_raw_rows(
    bench: Bench, tmp_path: Path
) -> None:
    report, tables = tmp_path / "bench.json", tmp_path / "bench.md"
    result = bench("--peers", "--anatomy", "--json", str(report), "--markdown", str(tables))
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    results = {r["key"]: r for r in document["results"]}
    assert set(results) == OPERATIONS
    for key, contenders in CONTENDERS.items():
        row = results[key]
        assert set(row["contenders"]) == contenders, key
        assert row["raw"]["n"] > 0, key
        assert all(side["n"] > 0 for side in row["contenders"].values()), key
        if row["kind"] == "latency":
            assert row["same_rows"] == dict.fromkeys(contenders, True), key
            assert not [note for note in row["notes"] if "MISMATCH" in note], key
    assert {key: results[key]["rows"] for key in ROWS} == ROWS
    assert results["counts_by_status"]["rows"] > 0
    for key in CONCURRENCY:
        sides = [results[key]["raw"], *results[key]["contenders"].values()]
        assert [(side["errors"], side["hung"]) for side in sides] == [(0, False)] * 3, key
    assert document["load"]["rows"] == sum(document["load"]["tables"].values()) > 3 * 300
    assert len(document["anatomy"]) == 9
    markdown = tables.read_text()
    assert all(
        f"| {r['title']} |" in markdown for r in document["results"] if r["kind"] != "comparison"
    )


@pytest.mark.parametrize("fresh_url", ["sqlite"], indirect=True)
def test_without_peers_only_the_project_is_timed_and_unknown_keys_are_refused(
    bench: Bench, tmp_path: Path
) -> None:
    report = tmp_path / "bench.json"
    only = ["--only", "page_due_soonest", "--only", "counts_by_status", "--only", "get_task"]
    result = bench(*only, "--json", str(report))
    assert result.exit_code == 0, result.output
    results = {r["key"]: r for r in json.loads(report.read_text())["results"]}
    assert {key: set(r["contenders"]) for key, r in results.items()} == {
        "page_due_soonest": {"fast", "orm"},
        "counts_by_status": {"fast"},
        "get_task": {"fast", "orm"},
    }
    refused = bench("--reuse", "--only", "page_open_tasks")
    assert refused.exit_code != 0
    assert "no operation page_open_tasks (known: " in refused.output


def test_every_sort_has_hand_written_raw_sql() -> None:
    missing = [sort.name for sort in TaskSort if sort not in TASK_ORDER]
    assert not missing, f"add the ORDER BY of TaskSort {missing} to bench.raw.TASK_ORDER"


def test_the_check_before_timing_sees_other_rows() -> None:
    user, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    raw = [(user, first), (user, second)]
    op = Op(
        "page",
        "a page",
        lambda _: raw,
        {"same": lambda _: list(raw), "reordered": lambda _: raw[::-1], "short": lambda _: raw[:1]},
        lambda i: i,
        ids,
    )
    assert compare(op) == ({"same": True, "reordered": False, "short": False}, 2)
