"""Versions: every requirement revision and every specification change is kept, readable
and comparable; a suspect link says what changed since it was verified."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from tasktracker.db.errors import NotFoundError
from tasktracker.db.sessions import Database
from tasktracker.testspec.models import RequirementVersion, TestSpecificationVersion
from tasktracker.testspec.repositories.parameters import VariantRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService
from tasktracker.testspec.services.versions import VersionService
from tests.testspec.conftest import Bench, build_bench


def test_each_revision_of_a_requirement_is_kept_and_diffed(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        requirements = RequirementRepository(session)
        requirements.update(bench.requirement, {"priority": "high"})  # no new revision
        requirements.update(bench.requirement, {"statement": "The unit shall boot from 9 V."})
        requirements.update(bench.requirement, {"title": "Power-up", "priority": "critical"})
    with db.user_scope(bench.user) as session:
        versions = VersionService(session)
        listed = versions.requirement_versions(bench.requirement)
        assert [v.revision for v in listed] == [1, 2, 3]
        assert listed[0].priority == "medium"
        assert listed[1].priority == "high"
        diff = versions.diff_requirement(bench.requirement, 1, 3)
        assert {change.field for change in diff.fields} == {"title", "statement", "priority"}
        statement = next(c for c in diff.fields if c.field == "statement")
        assert statement.new == "The unit shall boot from 9 V."
        assert not versions.diff_requirement(bench.requirement, 3, 3).changed
        with pytest.raises(NotFoundError):
            versions.requirement_version(bench.requirement, 4)


def test_a_revision_made_by_plain_sql_is_recorded_when_asked_for(
    db: Database, bench: Bench
) -> None:
    with db.session() as session:
        session.execute(text("UPDATE requirements SET statement = 'changed' WHERE key = 'REQ-001'"))
    with db.user_scope(bench.user) as session:
        versions = VersionService(session).requirement_versions(bench.requirement)
        assert [(v.revision, v.statement) for v in versions][-1] == (2, "changed")


def test_a_suspect_link_says_what_changed_since_it_was_verified(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        TraceabilityService(session).link(bench.requirement, bench.spec)
        RequirementRepository(session).update(bench.requirement, {"statement": "new"})
        diff = VersionService(session).since_verified(bench.requirement, 1)
        assert diff is not None
        assert diff.summary() == "statement changed"
        assert VersionService(session).since_verified(bench.requirement, None) is None


def _steps(db: Database, bench: Bench) -> list[object]:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        first = steps.insert(bench.spec, {"action": "Connect the PSU"})
        second = steps.insert(
            bench.spec,
            {
                "action": "Apply low battery",
                "command_id": bench.set_voltage,
                "arguments": [
                    {"parameter_id": bench.channel, "value": 1},
                    {"parameter_id": bench.voltage, "variant_id": bench.low},
                ],
            },
        )
        return [first.id, second.id]


def test_specification_versions_follow_every_change_and_diff_by_step(
    db: Database, bench: Bench
) -> None:
    first, second = _steps(db, bench)
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        steps.update(second, {"expected_result": "Unit stays on"})  # type: ignore[arg-type]
        steps.remove(first)  # type: ignore[arg-type]
        steps.insert(bench.spec, {"action": "Power off"})
        TestSpecificationRepository(session).update(bench.spec, {"title": "Power up, low"})
    with db.user_scope(bench.user) as session:
        versions = VersionService(session)
        listed = versions.specification_versions(bench.spec)
        # created, two inserts, update, remove, insert, title
        assert [v.version for v in listed] == [1, 2, 3, 4, 5, 6, 7]
        assert [v.step_count for v in listed] == [0, 1, 2, 2, 1, 2, 2]
        diff = versions.diff_specification(bench.spec, 3, 7)
        assert [(c.field, c.new) for c in diff.fields] == [("title", "Power up, low")]
        assert [(s.change, s.position, s.action) for s in diff.steps] == [
            ("changed", 1, "Apply low battery"),
            ("added", 2, "Power off"),
            ("removed", 1, "Connect the PSU"),
        ]
        changed = diff.steps[0]
        assert {c.field for c in changed.fields} == {"position", "expected_result"}
        pinned = versions.specification_version(bench.spec, 3).content
        arguments = pinned["steps"][1]["arguments"]  # type: ignore[index]
        assert [a["value"] for a in arguments] == ["1", "9.5"]  # type: ignore[index]


def test_a_changed_variant_value_makes_a_new_version_without_touching_the_spec(
    db: Database, bench: Bench
) -> None:
    _steps(db, bench)
    with db.user_scope(bench.user) as session:
        versions = VersionService(session)
        before = versions.current_specification_version(bench.spec)
        assert versions.current_specification_version(bench.spec).id == before.id  # unchanged
        VariantRepository(session).update(bench.low, {"value": "9.0"})
        after = versions.current_specification_version(bench.spec)
        assert after.version == before.version + 1
        diff = versions.diff_specification(bench.spec, before.version, after.version)
        assert [(s.change, s.position) for s in diff.steps] == [("changed", 2)]
        assert [c.field for c in diff.steps[0].fields] == ["invocation", "arguments"]


def test_versions_are_per_user_and_go_with_their_requirement(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID]
) -> None:
    other_bench = build_bench(db, make_user())
    with db.user_scope(other_bench.user) as session, pytest.raises(NotFoundError):
        VersionService(session).requirement_versions(bench.requirement)
    with db.user_scope(bench.user) as session:
        RequirementRepository(session).delete(bench.requirement)
        TestSpecificationRepository(session).delete(bench.spec)
        for model in (RequirementVersion, TestSpecificationVersion):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    with db.user_scope(other_bench.user) as session:
        assert session.scalar(select(func.count()).select_from(RequirementVersion)) == 1
