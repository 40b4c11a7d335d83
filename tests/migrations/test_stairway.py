"""The stairway: every revision, one at a time, up, down and up again, on data.

At each revision representative rows go into every table that exists (`rows.py`); then the
revision is undone and redone. The rows of the tables that existed before it must come
through both steps unchanged, and the tables it creates must come back empty.
"""

from __future__ import annotations

from sqlalchemy import Engine

from tasktracker import models
from tasktracker.admin import schema
from tests.migrations.rows import ROWS, columns_of, snapshot, write_rows


def test_every_table_has_representative_rows() -> None:
    assert set(models.metadata.tables) == set(ROWS)


def test_stairway_keeps_earlier_rows(fresh_engine: Engine) -> None:
    before_tables: set[str] = set()
    previous: str | None = None
    for stage, script in enumerate(schema.history()):
        assert script.down_revision == previous, "the history is linear"
        schema.upgrade(fresh_engine, script.revision)
        with fresh_engine.begin() as connection:
            written = write_rows(connection, stage)
            at_revision = snapshot(connection)
        assert all(at_revision[table] for table in written), "rows in every table"
        survivors = before_tables & written
        kept = {table: at_revision[table] for table in survivors}

        schema.downgrade(fresh_engine, "-1")
        with fresh_engine.connect() as connection:
            assert schema.current_revision(connection) == previous
            down = snapshot(connection)
        assert set(down) == before_tables
        kept = columns_of(kept, down)
        assert {table: down[table] for table in survivors} == kept, (
            f"downgrading {script.revision} changed earlier rows"
        )

        schema.upgrade(fresh_engine, script.revision)
        with fresh_engine.connect() as connection:
            assert schema.current_revision(connection) == script.revision
            again = snapshot(connection)
        assert set(again) == written
        assert columns_of({table: again[table] for table in survivors}, down) == kept, (
            f"re-applying {script.revision} changed earlier rows"
        )
        assert not any(again[table] for table in written - before_tables)

        before_tables, previous = written, script.revision
    assert previous == schema.head_revision()
