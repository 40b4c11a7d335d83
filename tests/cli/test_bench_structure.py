"""`tasktracker bench-structure` on each backend: every row, the right row counts, and the
benchmark's user removed at the end."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from tasktracker.db.engines import create_engine
from tasktracker.db.sessions import Database
from tasktracker.tasks.labels import Label, TaskLabel
from tasktracker.tasks.models import Task
from tests import databases
from tests.cli.conftest import Invoke


def test_bench_structure_reports_every_row_and_cleans_up(cli: Invoke, cli_url: str) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli("bench-structure", "--subtasks", "150", "--tasks", "300", "--rounds", "2")
    assert result.exit_code == 0, result.output
    rows = {row["key"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert list(rows) == [
        "tree",
        "progress",
        "children_page",
        "labels_any_page",
        "labels_all_page",
        "unlabelled_page",
        "labels_any_count",
        "label_counts",
    ]
    assert rows["tree"]["rows"] == 151
    assert rows["progress"]["rows"] == 150
    assert rows["children_page"]["rows"] == 10
    # Labels 0 and 1 are on every 5th and 6th of the 300 tasks: 60 + 50 - 10 on both.
    assert rows["labels_any_count"]["rows"] == 100
    assert rows["labels_all_page"]["rows"] == 10
    assert rows["label_counts"]["rows"] == 5
    assert all(row["median_ms"] > 0 for row in rows.values())
    engine = create_engine(databases.test_settings(cli_url))
    try:
        with Database(engine).session() as session:
            for model in (Task, Label, TaskLabel):
                assert session.scalar(select(func.count()).select_from(model)) == 0
    finally:
        engine.dispose()
