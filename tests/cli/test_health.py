"""`tasktracker db health` as a probe: the report in every case, and an exit code per state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasktracker.admin import schema
from tasktracker.cli.db_commands import NOT_AT_HEAD, UNREACHABLE
from tests.cli.conftest import Invoke, make_invoker


def test_at_head_the_report_says_so_and_the_exit_code_is_0(cli: Invoke) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli("db", "health", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["reachable"] is True
    assert report["up_to_date"] is True
    assert report["revision"] == report["head"] == schema.head_revision()
    assert result.stderr == ""


def test_behind_head_it_exits_3_with_the_report(cli: Invoke) -> None:
    first = schema.history()[0].revision
    assert cli("db", "upgrade", first).exit_code == 0
    for args in (("--json",), ()):
        result = cli("db", "health", *args)
        assert result.exit_code == NOT_AT_HEAD == 3, result.output
        assert result.stderr == (
            f"error: the database is at revision {first}, the head is "
            f"{schema.head_revision()}: run `tasktracker db upgrade`\n"
        )
    report = json.loads(cli("db", "health", "--json").stdout)
    assert report["reachable"] is True
    assert (report["revision"], report["up_to_date"]) == (first, False)


def test_unreachable_it_prints_the_json_report_and_exits_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_CONNECT_RETRIES", "1")
    cli = make_invoker("postgresql://app:s3cret-pw@127.0.0.1:1/tasktracker_dev", monkeypatch)
    result = cli("db", "health", "--json")
    assert result.exit_code == UNREACHABLE == 1
    report = json.loads(result.stdout)  # the whole document, on stdout
    assert report["reachable"] is False
    assert report["url"] == "postgresql+psycopg://app:***@127.0.0.1:1/tasktracker_dev"
    assert report["error"].startswith("could not connect to postgresql+psycopg://app:***@")
    assert report["up_to_date"] is False
    assert "s3cret-pw" not in result.output
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: database unreachable: could not connect to")


def test_a_missing_sqlite_file_is_unreachable_and_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mistyped.db"
    cli = make_invoker(f"sqlite:///{path}", monkeypatch)
    result = cli("db", "health", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["reachable"] is False
    assert report["error"].startswith(f"no SQLite database at {path}:")
    assert not path.exists()
