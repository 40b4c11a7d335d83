"""Representative rows for every project table, written through the schema as reflected.

`write_rows(connection, stage)` inserts a small, realistic, valid data set (two users and
what they own, every column used, NULLs and defaults included) into each table the
database has at its current revision, in foreign-key order, by plain Core inserts on the
reflected tables. Every call writes new users, so calls at successive revisions add up.

A table without an entry in `ROWS` is an error: a revision that adds a table must add its
representative rows here (`test_every_table_has_representative_rows` says which).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, MetaData, Table, Uuid, select

from tasktracker.db.search.index import is_search_object
from tasktracker.db.types import new_id

Row = dict[str, Any]
PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$"
    "RdescudvJCsgt3ub+b+dWRWJTmaaJObG0lLb0tLIbLw"
)
VERSION_TABLE = "alembic_version"


def reflect(connection: Connection) -> MetaData:
    """The project's tables as they are in the database now."""
    metadata = MetaData()
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (lower(email)); irrelevant for rows.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        metadata.reflect(connection)
    if VERSION_TABLE in metadata.tables:
        metadata.remove(metadata.tables[VERSION_TABLE])
    for name in [name for name in metadata.tables if is_search_object(name, "table")]:
        metadata.remove(metadata.tables[name])  # SQLite's FTS5 tables: filled by triggers
    return metadata


def snapshot(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every project table, in primary-key order, as column -> value."""
    metadata = reflect(connection)
    return {
        name: [
            dict(row._mapping)
            for row in connection.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for name, table in metadata.tables.items()
    }


def columns_of(
    tables: dict[str, list[dict[str, Any]]], like: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """`tables`' rows with only the columns that `like`'s rows have (a revision that adds
    columns drops them again on the way down)."""
    return {
        name: [
            {k: v for k, v in row.items() if not like[name] or k in like[name][0]} for row in rows
        ]
        for name, rows in tables.items()
    }


class Writer:
    """Inserts rows into the reflected tables, remembering them for the children's factories."""

    def __init__(self, connection: Connection, stage: int) -> None:
        self.connection = connection
        self.metadata = reflect(connection)
        self.stage = stage
        self.rows: dict[str, list[Row]] = {}
        self.sqlite = connection.dialect.name == "sqlite"

    def one(self, table: str, **match: Any) -> Row:
        return next(r for r in self.rows[table] if all(r[k] == v for k, v in match.items()))

    def insert(self, name: str, rows: list[Row]) -> None:
        table = self.metadata.tables[name]
        # Columns a later revision adds are left out at the revisions before it.
        for row in rows:  # one by one: rows may leave different columns to their defaults
            values = {k: self._value(table, k, v) for k, v in row.items() if k in table.c}
            self.connection.execute(table.insert().values(values))
        self.rows[name] = rows

    def _value(self, table: Table, column: str, value: Any) -> Any:
        if isinstance(value, uuid.UUID) and not isinstance(table.c[column].type, Uuid):
            return value.hex  # SQLite stores sa.Uuid as CHAR(32) hex
        if isinstance(value, datetime) and self.sqlite:
            return value.astimezone(UTC).replace(tzinfo=None)  # as UTCDateTime stores it
        return value


def _users(w: Writer) -> list[Row]:
    return [
        {
            "id": new_id(),
            "email": f"alice.{w.stage}@example.com",
            "username": f"alice_{w.stage}",
            "password_hash": PASSWORD_HASH,
            "is_active": True,
        },
        {
            "id": new_id(),
            "email": f"Bob.Builder.{w.stage}@Example.org",
            "username": f"bob_{w.stage}",
            "password_hash": PASSWORD_HASH,
            "is_active": False,
        },
    ]


def _alice(w: Writer) -> uuid.UUID:
    return w.rows["users"][0]["id"]  # type: ignore[no-any-return]


def _bob(w: Writer) -> uuid.UUID:
    return w.rows["users"][1]["id"]  # type: ignore[no-any-return]


def _categories(w: Writer) -> list[Row]:
    return [
        {"user_id": _alice(w), "id": new_id(), "name": "Work", "color": "#1D4ED8"},
        {"user_id": _alice(w), "id": new_id(), "name": "Zuhause ✓", "color": "#6b7280"},
        {"user_id": _bob(w), "id": new_id(), "name": "Work", "color": "#FF0000"},
    ]


def _tasks(w: Writer) -> list[Row]:
    work = w.one("categories", user_id=_alice(w), name="Work")["id"]
    bobs = w.one("categories", user_id=_bob(w))["id"]
    base = {"description": None, "due_date": None, "completed_at": None, "category_id": None}
    report = new_id()
    return [
        {
            **base,
            "user_id": _alice(w),
            "id": report,
            "title": "Write the quarterly report",
            "description": "Numbers for Q3; ask finance for the\nrevenue split.",
            "status": "in_progress",
            "priority": "high",
            "due_date": datetime(2030, 3, 31, 17, 0, tzinfo=UTC),
            "category_id": work,
        },
        {
            **base,
            "user_id": _alice(w),
            "id": new_id(),
            "title": "Renew passport",
            "status": "completed",
            "priority": "low",
            "completed_at": datetime(2029, 12, 1, 9, 30, 15, 123456, tzinfo=UTC),
        },
        {
            **base,
            "user_id": _alice(w),
            "id": new_id(),
            "title": "Ask finance for the revenue split",
            # From 0009 on (left out before it): a subtask of the report, after its parent.
            "parent_id": report,
        },
        {**base, "user_id": _bob(w), "id": new_id(), "title": "Water the plants 🌱"},
        {
            **base,
            "user_id": _bob(w),
            "id": new_id(),
            "title": "Fix the fence",
            "status": "pending",
            "priority": "medium",
            "category_id": bobs,
        },
    ]


def _labels(w: Writer) -> list[Row]:
    return [
        {"user_id": _alice(w), "id": new_id(), "name": "urgent", "color": "#DC2626"},
        {"user_id": _alice(w), "id": new_id(), "name": "Ärger ✓"},  # the default colour
        {"user_id": _bob(w), "id": new_id(), "name": "URGENT", "color": "#abcdef"},
    ]


def _task_labels(w: Writer) -> list[Row]:
    report = w.one("tasks", title="Write the quarterly report")["id"]
    passport = w.one("tasks", title="Renew passport")["id"]
    fence = w.one("tasks", title="Fix the fence")["id"]
    urgent = w.one("labels", user_id=_alice(w), name="urgent")["id"]
    other = w.one("labels", user_id=_alice(w), name="Ärger ✓")["id"]
    bobs = w.one("labels", user_id=_bob(w))["id"]
    return [
        {"user_id": _alice(w), "task_id": report, "label_id": urgent},
        {"user_id": _alice(w), "task_id": report, "label_id": other},
        {"user_id": _alice(w), "task_id": passport, "label_id": other},
        {"user_id": _bob(w), "task_id": fence, "label_id": bobs},
    ]


def _conversations(w: Writer) -> list[Row]:
    return [
        {"user_id": _alice(w), "id": new_id(), "title": "Trip to Lisbon"},
        {"user_id": _bob(w), "id": new_id(), "title": None},
    ]


def _messages(w: Writer) -> list[Row]:
    trip, untitled = (c["id"] for c in w.rows["conversations"])
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "conversation_id": trip,
            "role": "user",
            "content": "Which museums open on Mondays?",
        },
        {
            "user_id": _alice(w),
            "id": new_id(),
            "conversation_id": trip,
            "role": "assistant",
            "content": "The Gulbenkian is closed on Tuesdays, so Monday works — ✓.",
            # From 0006 on (left out before it): parts, usage, a client id.
            "parts": [
                {
                    "type": "text",
                    "text": "The Gulbenkian is closed on Tuesdays, so Monday works — ✓.",
                },
                {
                    "type": "tool_call",
                    "tool_call_id": f"call_{w.stage}",
                    "tool_name": "search",
                    "arguments": {"q": "museums"},
                },
            ],
            "content_version": 1,
            "status": "complete",
            "client_message_id": "client-1",
            "model": "gpt-x",
            "provider": "openai",
            "input_tokens": 120,
            "output_tokens": 30,
            "cached_tokens": 100,
            "reasoning_tokens": 0,
            "finish_reason": "tool_calls",
            "latency_ms": 950,
        },
        {
            "user_id": _bob(w),
            "id": new_id(),
            "conversation_id": untitled,
            "role": "user",
            "content": "x" * 2000,
        },
    ]


def _message_tool_calls(w: Writer) -> list[Row]:
    question, answer, _ = w.rows["messages"]
    return [
        {
            "user_id": answer["user_id"],
            "id": new_id(),
            "conversation_id": answer["conversation_id"],
            "message_id": answer["id"],
            "tool_call_id": f"call_{w.stage}",
            "tool_name": "search",
            "result_message_id": question["id"],
        }
    ]


def _task_reminders(w: Writer) -> list[Row]:
    report = w.one("tasks", title="Write the quarterly report")
    due = datetime(2030, 3, 31, 17, 0, tzinfo=UTC)
    absolute = datetime(2030, 3, 30, 8, 0, tzinfo=UTC)
    return [
        {
            "user_id": report["user_id"],
            "id": new_id(),
            "task_id": report["id"],
            "remind_at": absolute,
            "minutes_before_due": None,
            "fires_at": absolute,
            "sent_at": absolute,
        },
        {
            "user_id": report["user_id"],
            "id": new_id(),
            "task_id": report["id"],
            "remind_at": None,
            "minutes_before_due": 90,
            "fires_at": due - timedelta(minutes=90),
            "sent_at": None,
        },
    ]


def _conversation_summaries(w: Writer) -> list[Row]:
    answer = w.rows["messages"][1]
    return [
        {
            "user_id": answer["user_id"],
            "id": new_id(),
            "conversation_id": answer["conversation_id"],
            "covers_until_id": answer["id"],
            "text": "Asked about museums open on Mondays; the Gulbenkian is.",
            "model": "gpt-x-mini",
            "input_tokens": 400,
            "output_tokens": 20,
        }
    ]


def _named_categories(*names: str) -> Callable[[Writer], list[Row]]:
    def factory(w: Writer) -> list[Row]:
        return [
            {"user_id": _alice(w), "id": new_id(), "name": name, "description": description}
            for name, description in zip(names, ("Lab equipment", None), strict=False)
        ]

    return factory


def _requirements(w: Writer) -> list[Row]:
    root, child = new_id(), new_id()
    base = {"rationale": None, "source_ref": None, "parent_id": None}
    return [
        {
            **base,
            "user_id": _alice(w),
            "id": root,
            "key": "REQ-PWR-001",
            "title": "Supply voltage range",
            "statement": "The unit shall operate from 9 V to 30 V.",
            "rationale": "Vehicle bus tolerance.",
            "kind": "functional",
            "priority": "critical",
            "status": "approved",
            "source_ref": "SRS 4.2.1",
            "revision": 3,
        },
        {
            **base,
            "user_id": _alice(w),
            "id": child,
            "key": "REQ-PWR-001-A",
            "title": "Undervoltage shutdown",
            "statement": "Below 8.5 V the unit shall shut down within 10 ms.",
            "kind": "safety",
            "priority": "high",
            "status": "draft",
            "parent_id": root,
            "revision": 1,
        },
    ]


def _test_specifications(w: Writer) -> list[Row]:
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "key": "TS-PWR-001",
            "title": "Voltage sweep",
            "objective": "Verify operation across the supply range.",
            "preconditions": "Unit powered off; PSU connected.",
            "status": "ready",
            "priority": "high",
        }
    ]


def _generic_commands(w: Writer) -> list[Row]:
    power = w.one("command_categories", name="Power")["id"]
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "name": "SET_VOLTAGE",
            "description": "Set the PSU output.",
            "syntax": "SET_VOLTAGE <channel> <volts>",
            "category_id": power,
            "is_active": True,
        },
        {
            "user_id": _alice(w),
            "id": new_id(),
            "name": "MEASURE_CURRENT2",
            "description": None,
            "syntax": None,
            "category_id": None,
            "is_active": False,
        },
    ]


def _parameters(w: Writer) -> list[Row]:
    electrical = w.one("parameter_categories", name="Electrical")["id"]
    base = {"description": None, "unit": None, "default_value": None, "category_id": None}
    return [
        {
            **base,
            "user_id": _alice(w),
            "id": new_id(),
            "name": "voltage",
            "description": "PSU output voltage",
            "data_type": "float",
            "unit": "V",
            "default_value": "12.0",
            "min_value": 0.0,
            "max_value": 30.5,
            "category_id": electrical,
        },
        {
            **base,
            "user_id": _alice(w),
            "id": new_id(),
            "name": "channel",
            "data_type": "integer",
            "min_value": 1.0,
            "max_value": 4.0,
        },
        {
            **base,
            "user_id": _alice(w),
            "id": new_id(),
            "name": "mode_2",
            "data_type": "string",
            "default_value": "fast",
            "min_value": None,
            "max_value": None,
        },
    ]


def _param(w: Writer, name: str) -> uuid.UUID:
    return w.one("parameters", name=name)["id"]  # type: ignore[no-any-return]


def _command(w: Writer, name: str) -> uuid.UUID:
    return w.one("generic_commands", name=name)["id"]  # type: ignore[no-any-return]


def _requirement_test_links(w: Writer) -> list[Row]:
    spec = w.rows["test_specifications"][0]["id"]
    return [
        {
            "user_id": _alice(w),
            "requirement_id": r["id"],
            "test_specification_id": spec,
            "verified_revision": revision,
        }
        for r, revision in zip(w.rows["requirements"], (3, None), strict=True)
    ]


def _generic_command_parameters(w: Writer) -> list[Row]:
    command = _command(w, "SET_VOLTAGE")
    return [
        {
            "user_id": _alice(w),
            "command_id": command,
            "parameter_id": _param(w, name),
            "position": position,
            "is_required": required,
        }
        for position, (name, required) in enumerate(
            (("channel", True), ("voltage", True), ("mode_2", False)), start=1
        )
    ]


def _parameter_variants(w: Writer) -> list[Row]:
    voltage = _param(w, "voltage")
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "parameter_id": voltage,
            "name": name,
            "value": value,
            "description": description,
            "is_default": default,
        }
        for name, value, description, default in (
            ("nominal", "12.0", "Typical vehicle bus", True),
            ("maximum", "30.0", None, False),
        )
    ]


def _test_steps(w: Writer) -> list[Row]:
    spec = w.rows["test_specifications"][0]["id"]
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "test_specification_id": spec,
            "position": 1,
            "action": "Apply the nominal voltage.",
            "expected_result": "Unit boots within 2 s.",
            "command_id": _command(w, "SET_VOLTAGE"),
            "continue_on_failure": False,
        },
        {
            "user_id": _alice(w),
            "id": new_id(),
            "test_specification_id": spec,
            "position": 2,
            "action": "Read the supply current.",
            "expected_result": None,
            "command_id": None,
            "continue_on_failure": True,
        },
    ]


def _test_step_arguments(w: Writer) -> list[Row]:
    step = w.rows["test_steps"][0]["id"]
    nominal = w.one("parameter_variants", name="nominal")["id"]
    return [
        {
            "user_id": _alice(w),
            "test_step_id": step,
            "parameter_id": _param(w, "channel"),
            "variant_id": None,
            "value": "1",
        },
        {
            "user_id": _alice(w),
            "test_step_id": step,
            "parameter_id": _param(w, "voltage"),
            "variant_id": nominal,
            "value": None,
        },
    ]


def _requirement_versions(w: Writer) -> list[Row]:
    root = w.one("requirements", key="REQ-PWR-001")
    fields = ("key", "title", "statement", "rationale", "kind", "priority", "status")
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "requirement_id": root["id"],
            "revision": revision,
            **{name: root[name] for name in fields},
            **({"title": "Supply range", "rationale": None} if revision == 1 else {}),
        }
        for revision in (1, 3)
    ]


def _test_specification_versions(w: Writer) -> list[Row]:
    spec = w.rows["test_specifications"][0]
    content = {
        "key": spec["key"],
        "title": spec["title"],
        "steps": [{"position": 1, "action": "Apply the nominal voltage.", "arguments": []}],
    }
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "test_specification_id": spec["id"],
            "version": 1,
            "key": spec["key"],
            "title": spec["title"],
            "status": "ready",
            "step_count": 1,
            "digest": "0" * 64,
            "content": content,
        }
    ]


def _baselines(w: Writer) -> list[Row]:
    return [
        {"user_id": _alice(w), "id": new_id(), "name": "release 1.2", "description": None},
        {"user_id": _bob(w), "id": new_id(), "name": "Release 1.2", "description": "Bob's."},
    ]


def _baseline_requirements(w: Writer) -> list[Row]:
    version = w.one("requirement_versions", revision=1)
    return [
        {
            "user_id": _alice(w),
            "baseline_id": w.rows["baselines"][0]["id"],
            "requirement_id": version["requirement_id"],
            "requirement_version_id": version["id"],
            "revision": 1,
        }
    ]


def _test_runs(w: Writer) -> list[Row]:
    return [
        {
            "user_id": _alice(w),
            "id": new_id(),
            "name": "nightly 2026-12-04",
            "status": "done",
            "started_at": datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
            "finished_at": datetime(2026, 12, 4, 1, 30, tzinfo=UTC),
            "environment": {"bench": "B2", "os": "linux"},
            "build": {"version": "1.2.0-rc1"},
        },
        {
            "user_id": _alice(w),
            "id": new_id(),
            "name": "manual smoke",
            "environment": None,
            "build": None,
        },
    ]


def _test_executions(w: Writer) -> list[Row]:
    version = w.rows["test_specification_versions"][0]
    base = {
        "user_id": _alice(w),
        "run_id": w.rows["test_runs"][0]["id"],
        "test_specification_id": version["test_specification_id"],
        "specification_version_id": version["id"],
    }
    return [
        {
            **base,
            "id": new_id(),
            "status": "failed",
            "tester": "junit",
            "started_at": datetime(2026, 12, 4, 1, 1, tzinfo=UTC),
            "finished_at": datetime(2026, 12, 4, 1, 2, tzinfo=UTC),
            "duration_ms": 61_250,
            "message": "AssertionError: 9.1 V < 9.5 V",
            "attachments": [{"name": "log", "uri": "s3://bench/b2/1.log"}],
            "combination": "supply_voltage=low_battery",
            "variants": {"supply_voltage": "low_battery"},
        },
        {**base, "id": new_id(), "attachments": None, "variants": None},
    ]


def _test_step_results(w: Writer) -> list[Row]:
    execution = w.rows["test_executions"][0]["id"]
    return [
        {
            "user_id": _alice(w),
            "execution_id": execution,
            "position": 1,
            "status": "failed",
            "actual_result": "Boots after 2.4 s.",
            "duration_ms": 2_400,
            "note": "PSU ramp slow",
        }
    ]


# Parents before children.
ROWS: dict[str, Callable[[Writer], list[Row]]] = {
    "users": _users,
    "categories": _categories,
    "tasks": _tasks,
    "task_reminders": _task_reminders,
    "labels": _labels,
    "task_labels": _task_labels,
    "conversations": _conversations,
    "messages": _messages,
    "message_tool_calls": _message_tool_calls,
    "conversation_summaries": _conversation_summaries,
    "command_categories": _named_categories("Power", "Measurement"),
    "parameter_categories": _named_categories("Electrical", "Timing"),
    "requirements": _requirements,
    "test_specifications": _test_specifications,
    "generic_commands": _generic_commands,
    "parameters": _parameters,
    "requirement_test_links": _requirement_test_links,
    "generic_command_parameters": _generic_command_parameters,
    "parameter_variants": _parameter_variants,
    "test_steps": _test_steps,
    "test_step_arguments": _test_step_arguments,
    "requirement_versions": _requirement_versions,
    "test_specification_versions": _test_specification_versions,
    "baselines": _baselines,
    "baseline_requirements": _baseline_requirements,
    "test_runs": _test_runs,
    "test_executions": _test_executions,
    "test_step_results": _test_step_results,
}


def write_rows(connection: Connection, stage: int) -> set[str]:
    """Insert representative rows into every project table there is; returns their names."""
    writer = Writer(connection, stage)
    present = set(writer.metadata.tables)
    missing = present - set(ROWS)
    assert not missing, f"no representative rows for {sorted(missing)}: add them to ROWS"
    for name, factory in ROWS.items():
        if name in present:
            writer.insert(name, factory(writer))
    return present
