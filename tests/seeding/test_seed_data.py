"""Seed data: deterministic per seed, exact counts, and valid on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tasktracker.accounts.repository import UserRepository
from tasktracker.admin.stats import table_counts
from tasktracker.db.sessions import Database
from tasktracker.seeding.demo import ADA, DEMO_PASSWORD, GRACE, seed_demo
from tasktracker.seeding.volume import SeedPlan, _Generator, first_email, load
from tasktracker.tasks.models import TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.testspec import (
    ParameterRepository,
    TestSpecificationRepository,
    TraceabilityService,
    resolve_specification,
)

ANCHOR = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _content(plan: SeedPlan) -> dict[str, list[dict[str, Any]]]:
    """Every generated row, with ids replaced by their order of appearance."""
    labels: dict[uuid.UUID, str] = {}

    def label(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return labels.setdefault(value, f"#{len(labels)}")
        return value

    generator = _Generator(plan, "hash")
    return {
        model.__tablename__: [{k: label(v) for k, v in row.items()} for row in rows()]
        for model, rows in generator.tables()
    }


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    plan = SeedPlan(users=2, tasks_per_user=30, seed=7, anchor=ANCHOR)
    first, second = _content(plan), _content(plan)
    assert first == second
    other = _content(SeedPlan(users=2, tasks_per_user=30, seed=8, anchor=ANCHOR))
    assert other["tasks"] != first["tasks"]
    assert other["users"][0]["email"] != first["users"][0]["email"]


def test_counts_are_exact_and_cover_every_table() -> None:
    plan = SeedPlan(users=3, tasks_per_user=1200, seed=1, anchor=ANCHOR)
    generated = {table: len(rows) for table, rows in _content(plan).items()}
    assert generated == plan.counts()
    assert all(generated.values())


def test_loaded_rows_satisfy_the_schema_and_read_back(db: Database) -> None:
    plan = SeedPlan(users=2, tasks_per_user=60, seed=3)
    assert isinstance(db.bind, Connection)
    report = load(db.bind, plan, password_hash="x" * 20)
    assert report.rows == plan.counts()
    assert report.rows_per_second > 0
    with db.session() as session:
        user = UserRepository(session).find(first_email(plan) or "")
        assert user is not None
    with db.user_scope(user.id) as session:
        counts = {entry.table: entry.rows for entry in table_counts(session)}
        tasks = TaskRepository(session)
        by_status = tasks.counts_by_status()
        overdue = tasks.count(TaskFilter(overdue=True))
    assert counts["tasks"] == 60
    assert counts["users"] == 1
    assert all(by_status[status] > 0 for status in TaskStatus)
    assert overdue > 0
    assert counts["requirements"] > counts["requirement_test_links"] / 2


def test_demo_is_written_once(db: Database, password_hash: str) -> None:
    assert isinstance(db.bind, Connection)
    first = seed_demo(db.bind)  # hashes the published demo password
    assert first.created
    again = seed_demo(db.bind, password_hash=password_hash)
    assert not again.created
    assert again.user_ids == first.user_ids
    with db.session() as session:
        grace = UserRepository(session).authenticate(GRACE.email, DEMO_PASSWORD)
        assert grace is not None
        assert grace.id == first.user_ids[GRACE.email]
    with db.user_scope(first.user_ids[ADA.email]) as session:
        ada = TaskRepository(session)
        assert ada.count(TaskFilter(overdue=True)) >= 2
        assert all(count > 0 for count in ada.counts_by_status().values())
    with db.user_scope(first.user_ids[GRACE.email]) as session:
        assert TaskRepository(session).count() == 3


def _argument_problems(session: Session) -> list[str]:
    """Every resolved step argument that has no value or does not fit its parameter."""
    specifications = TestSpecificationRepository(session)
    rules = {p.name: p.rule for p in ParameterRepository(session).list()}
    problems = []
    for specification, _ in specifications.list():
        resolved = resolve_specification(specifications.load(specification.id))
        assert [step.position for step in resolved.steps] == list(range(1, len(resolved.steps) + 1))
        for step in resolved.steps:
            for argument in step.arguments:
                if argument.text is None:
                    problems.append(f"{resolved.key}/{step.position}/{argument.parameter}: unset")
                elif problem := rules[argument.parameter].problem(argument.text):
                    problems.append(
                        f"{resolved.key}/{step.position}/{argument.parameter}: {problem}"
                    )
    return problems


def test_seeded_steps_resolve_to_valid_values(db: Database) -> None:
    plan = SeedPlan(users=1, tasks_per_user=10, seed=4)
    assert isinstance(db.bind, Connection)
    load(db.bind, plan, password_hash="x" * 20)
    with db.session() as session:
        user = UserRepository(session).find(first_email(plan) or "")
        assert user is not None
    with db.user_scope(user.id) as session:
        assert _argument_problems(session) == []
        matrix = TraceabilityService(session).matrix()
        suspect = TraceabilityService(session).suspect_links()
    assert 0 < matrix.overall.covered < matrix.overall.total  # some requirements uncovered
    assert all(link.verified_revision is not None for link in suspect)


def test_demo_steps_resolve_to_valid_values(db: Database, password_hash: str) -> None:
    assert isinstance(db.bind, Connection)
    demo = seed_demo(db.bind, password_hash=password_hash)
    with db.user_scope(demo.user_ids[ADA.email]) as session:
        assert _argument_problems(session) == []
        uncovered = [r.key for r in TraceabilityService(session).uncovered_requirements()]
        suspect = [link.requirement.key for link in TraceabilityService(session).suspect_links()]
    assert uncovered == ["REQ-004"]
    assert suspect == ["REQ-002"]
