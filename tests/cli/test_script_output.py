"""The console script's output as a pipe or a probe sees it (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests import databases
from tests.cli.test_entry_point import SCRIPT, _run

installed = pytest.mark.skipif(not SCRIPT.exists(), reason="package not installed as a script")


@installed
def test_health_json_when_the_server_is_down() -> None:
    down = _run("db", "health", "--json", url="postgresql://app:pw-1@127.0.0.1:1/tasktracker_dev")
    assert down.returncode == 1
    report = json.loads(down.stdout)
    assert report["reachable"] is False
    assert "pw-1" not in down.stdout + down.stderr
    assert down.stderr.startswith("error: database unreachable: could not connect to")


@installed
def test_output_cut_short_by_the_reader_exits_0_quietly(tmp_path: Path) -> None:
    """`tasktracker quickstart | head -2`: the reader leaves while the command still writes."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'pipe.db'}"}
    with subprocess.Popen(
        [str(SCRIPT), "quickstart"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        first_lines = [process.stdout.readline(), process.stdout.readline()]
        process.stdout.close()  # as `head -2` exits
        stderr = process.stderr.read()
        assert process.wait(timeout=120) == 0
    assert first_lines[0].startswith(b"TaskTracker quickstart")
    assert stderr == b""


@installed
def test_db_check_prints_only_its_own_line_and_echo_logs_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'check.db'}"
    databases.migrate_to(url)
    check = _run("db", "check", url=url)
    assert (check.returncode, check.stdout) == (0, "models and migrations agree\n")

    env = {**os.environ, "DATABASE_URL": url, "DATABASE_ECHO": "true"}
    echoed = subprocess.run(
        [str(SCRIPT), "db", "current"], capture_output=True, text=True, env=env, check=False
    )
    assert echoed.returncode == 0, echoed.stderr
    assert echoed.stdout.startswith("current: ")  # no SQL in the command's output
    assert echoed.stderr.count("FROM alembic_version") == 1
