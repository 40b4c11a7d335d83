"""`tasktracker db health` as a person runs it: a subprocess configured by the environment.

The report over SSL runs against the throwaway cluster: a stock server has SSL off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasktracker.admin import schema
from tests.connectivity.servers import ThrowawayCluster, free_port

CLI = Path(sys.executable).with_name("tasktracker")
SECRET = "cli-Secret-0451"


def run_health(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DATABASE_") and key != "DEBUG"
    }
    env |= {
        "DATABASE_URL": database_url,
        "DATABASE_CONNECT_RETRIES": "2",
        "DATABASE_RETRY_INITIAL_DELAY": "0.05",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(CLI), "db", "health", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def dead_url_result() -> tuple[int, subprocess.CompletedProcess[str]]:
    """One run against a closed port (each CLI start costs seconds), shared by the checks."""
    port = free_port()
    return port, run_health(f"postgresql://app:{SECRET}@127.0.0.1:{port}/tasks")


def test_health_prints_the_report_and_exits_0(
    running_cluster: ThrowawayCluster, cluster_url: str
) -> None:
    result = run_health(cluster_url + "?sslmode=require")
    assert result.returncode == 0, result.stderr
    rows = {
        cells[0]: cells[1]
        for line in result.stdout.splitlines()
        if len(cells := [cell.strip() for cell in line.strip("│┃ ").split("│")]) == 2
    }
    assert rows["reachable"] == "True"
    assert rows["ssl"] == "True"
    assert float(rows["latency_ms"]) > 0
    assert rows["server_version"][0].isdigit()
    assert rows["revision"] == rows["head"] == schema.head_revision()
    assert "'checked_out': 0" in rows["pool"]
    assert rows["error"] == "-"
    assert running_cluster.password not in result.stdout + result.stderr


def test_dead_url_exits_non_zero_with_a_one_line_reason(
    dead_url_result: tuple[int, subprocess.CompletedProcess[str]],
) -> None:
    port, result = dead_url_result
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: database unreachable: could not connect to")
    assert f"app:***@127.0.0.1:{port}/tasks after 2 attempt(s)" in last
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_dead_url_output_is_only_that_line(
    dead_url_result: tuple[int, subprocess.CompletedProcess[str]],
) -> None:
    _, result = dead_url_result
    assert (result.stdout + result.stderr).strip().count("\n") == 0
