"""`tasktracker quickstart` on an empty database of each backend, run twice."""

from __future__ import annotations

import re

from tests.cli.conftest import Invoke


def _rows(output: str, table: str) -> int:
    match = re.search(rf"│\s*{table}\s*│\s*([\d,]+)\s*│", output)
    assert match, f"no row count for {table} in:\n{output}"
    return int(match.group(1).replace(",", ""))


def test_quickstart_migrates_seeds_shows_and_is_idempotent(cli: Invoke) -> None:
    first = cli("quickstart")
    assert first.exit_code == 0, first.output
    assert "demo data  created" in first.stdout
    assert re.search(r"schema     migrated from base to \w+ \(head\)", first.stdout)
    tables = ("users", "tasks", "categories", "messages", "requirements", "test_steps")
    counts = {t: _rows(first.stdout, t) for t in tables}
    assert counts["users"] == 2
    assert min(counts.values()) > 0
    assert "OVERDUE" in first.stdout  # the demo has overdue open tasks, marked
    assert "Set up the new laptop" not in first.stdout  # completed: not an open task
    assert re.search(r"│\s*reachable\s*│\s*True\s*│", first.stdout)
    assert re.search(r"│ REQ-004 .*UNCOVERED", first.stdout)  # the matrix shows the gap
    assert re.search(r"│ REQ-002 .*TS-001 \(suspect\)", first.stdout)
    assert "coverage 3/4 requirements (75%)" in first.stdout
    assert re.search(r"│ REQ-001 .*TS-001 passed", first.stdout)  # the demo run's results
    assert re.search(r"│ REQ-003 .*TS-002 failed", first.stdout)
    assert _rows(first.stdout, "test_step_arguments") > 0

    second = cli("quickstart")
    assert second.exit_code == 0, second.output
    assert "already present (nothing written)" in second.stdout
    for table, number in counts.items():
        assert _rows(second.stdout, table) == number  # no duplicates
