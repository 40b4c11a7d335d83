"""Traceability: links, suspect links and reviews, uncovered requirements, the matrix, and the
hybrid properties that make those questions one query each."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import ColumnElement, select, text
from sqlalchemy.orm import selectinload

from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.enums import RequirementKind, RequirementStatus
from tasktracker.testspec.models import (
    Parameter,
    Requirement,
    RequirementTestLink,
    TestSpecification,
)
from tasktracker.testspec.repositories.parameters import ParameterRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import Coverage, TraceabilityService
from tests.testspec.conftest import Bench, uid


def _requirement(db: Database, user: uuid.UUID, key: str, **fields: object) -> uuid.UUID:
    with db.user_scope(user) as session:
        data = {"key": key, "title": key.lower(), "statement": "shall"} | fields
        return RequirementRepository(session).create(data).id


def _spec(db: Database, user: uuid.UUID, key: str) -> uuid.UUID:
    with db.user_scope(user) as session:
        return TestSpecificationRepository(session).create({"key": key, "title": key}).id


def test_a_changed_statement_makes_links_suspect_until_reviewed(db: Database, bench: Bench) -> None:
    other = _spec(db, bench.user, "TS-002")
    with db.user_scope(bench.user) as session:
        trace = TraceabilityService(session)
        trace.link(bench.requirement, bench.spec)
        trace.link(bench.requirement, other)
        assert trace.suspect_links() == []
    with db.user_scope(bench.user) as session:
        RequirementRepository(session).update(bench.requirement, {"statement": "It shall boot."})
    with db.user_scope(bench.user) as session:
        suspects = TraceabilityService(session).suspect_links()
        assert [(s.requirement.key, s.test_specification.key) for s in suspects] == [
            ("REQ-001", "TS-001"),
            ("REQ-001", "TS-002"),
        ]
        assert all(s.is_suspect for s in suspects)  # the instance side of the hybrid agrees
    with db.user_scope(bench.user) as session:
        assert TraceabilityService(session).mark_reviewed(bench.requirement, bench.spec) == 1
    with db.user_scope(bench.user) as session:
        trace = TraceabilityService(session)
        assert [s.test_specification.key for s in trace.suspect_links()] == ["TS-002"]
        assert trace.mark_reviewed(bench.requirement) == 2
        assert trace.suspect_links() == []


def test_a_status_change_is_no_new_revision(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        TraceabilityService(session).link(bench.requirement, bench.spec)
        RequirementRepository(session).update(bench.requirement, {"status": "approved"})
        assert TraceabilityService(session).suspect_links() == []


def test_plain_sql_edits_make_a_new_revision_too(db: Database, bench: Bench, backend: str) -> None:
    with db.user_scope(bench.user) as session:
        TraceabilityService(session).link(bench.requirement, bench.spec)
    with db.session() as session:
        session.execute(
            text("UPDATE requirements SET statement = 'edited' WHERE id = :r"),
            {"r": uid(bench.requirement, backend)},
        )
        session.execute(
            text("UPDATE requirements SET status = 'approved' WHERE id = :r"),
            {"r": uid(bench.requirement, backend)},
        )
    with db.user_scope(bench.user) as session:
        assert RequirementRepository(session).get(bench.requirement).revision == 2
        assert len(TraceabilityService(session).suspect_links()) == 1


def test_unreviewed_links_are_suspect_and_linking_twice_is_harmless(
    db: Database, bench: Bench
) -> None:
    with db.user_scope(bench.user) as session:
        trace = TraceabilityService(session)
        first = trace.link(bench.requirement, bench.spec, reviewed=False)
        again = trace.link(bench.requirement, bench.spec)
        assert again is first
        assert first.verified_revision is None
        assert len(trace.suspect_links()) == 1
        trace.unlink(bench.requirement, bench.spec)
        with pytest.raises(NotFoundError):
            trace.unlink(bench.requirement, bench.spec)


def test_links_only_within_the_users_workspace(db: Database, bench: Bench, make_user) -> None:
    with pytest.raises(ValidationError) as caught, db.user_scope(make_user()) as session:
        TraceabilityService(session).link(bench.requirement, bench.spec)
    assert caught.value.fields == {"requirement_id"}


def test_uncovered_requirements(db: Database, bench: Bench) -> None:
    _requirement(db, bench.user, "REQ-002")
    _requirement(db, bench.user, "REQ-003", status="obsolete")
    with db.user_scope(bench.user) as session:
        trace = TraceabilityService(session)
        trace.link(bench.requirement, bench.spec)
        assert [r.key for r in trace.uncovered_requirements()] == ["REQ-002", "REQ-003"]
        drafts = trace.uncovered_requirements(statuses=[RequirementStatus.DRAFT])
        assert [r.key for r in drafts] == ["REQ-002"]


def test_the_matrix_reads_both_ways_with_coverage(db: Database, bench: Bench, make_user) -> None:
    user = bench.user
    _requirement(db, user, "REQ-002", kind="safety")
    _requirement(db, user, "REQ-003", kind="safety", status="approved")
    two = _spec(db, user, "TS-002")
    _spec(db, user, "TS-003")
    with db.user_scope(user) as session:
        ids = {r.key: r.id for r in RequirementRepository(session).list()}
        trace = TraceabilityService(session)
        trace.link(ids["REQ-001"], bench.spec)
        trace.link(ids["REQ-001"], two)
        trace.link(ids["REQ-002"], two, reviewed=False)
    _requirement(db, make_user(), "REQ-004")  # another user's: never in the matrix
    with db.user_scope(user) as session:
        matrix = TraceabilityService(session).matrix()
    forward = {
        r.key: [(k.specification_key, k.is_suspect) for k in r.links] for r in matrix.requirements
    }
    assert forward == {
        "REQ-001": [("TS-001", False), ("TS-002", False)],
        "REQ-002": [("TS-002", True)],
        "REQ-003": [],
    }
    backward = {s.key: [link.requirement_key for link in s.links] for s in matrix.specifications}
    assert backward == {"TS-001": ["REQ-001"], "TS-002": ["REQ-001", "REQ-002"], "TS-003": []}
    assert matrix.by_kind[RequirementKind.FUNCTIONAL] == Coverage(1, 1)
    assert matrix.by_kind[RequirementKind.SAFETY] == Coverage(2, 1)
    assert matrix.by_kind[RequirementKind.SECURITY] == Coverage(0, 0)
    assert matrix.by_status[RequirementStatus.DRAFT] == Coverage(2, 2)
    assert matrix.by_status[RequirementStatus.APPROVED] == Coverage(1, 0)
    assert matrix.overall == Coverage(3, 2)
    assert round(matrix.overall.ratio, 3) == 0.667
    assert matrix.by_kind[RequirementKind.SAFETY].uncovered == 1


def test_hybrid_properties_work_in_sql_and_on_instances(db: Database, bench: Bench) -> None:
    _requirement(db, bench.user, "REQ-002")
    with db.user_scope(bench.user) as session:
        TraceabilityService(session).link(bench.requirement, bench.spec)
        steps = StepService(session)
        for action in ("a", "b"):
            steps.insert(bench.spec, {"action": action})
        ParameterRepository(session).create({"name": "empty"})
    with db.user_scope(bench.user) as session:
        is_covered: ColumnElement[bool] = Requirement.is_covered  # type: ignore[assignment]
        covered = session.execute(
            select(Requirement.key, is_covered).order_by(Requirement.key)  # type: ignore[call-overload]
        ).all()
        assert [tuple(row) for row in covered] == [("REQ-001", True), ("REQ-002", False)]
        step_count: ColumnElement[int] = TestSpecification.step_count  # type: ignore[assignment]
        assert session.scalars(select(TestSpecification.key).where(step_count == 2)).all() == [
            "TS-001"
        ]
        variant_count: ColumnElement[int] = Parameter.variant_count  # type: ignore[assignment]
        counts = session.execute(
            select(Parameter.name, variant_count).order_by(Parameter.name)
        ).all()  # type: ignore[call-overload]
        assert [tuple(row) for row in counts] == [
            ("channel", 0),
            ("empty", 0),
            ("supply_voltage", 2),
        ]
        is_suspect: ColumnElement[bool] = RequirementTestLink.is_suspect  # type: ignore[assignment]
        assert session.scalar(select(is_suspect)) is False
        requirement = session.scalars(
            select(Requirement)
            .where(Requirement.key == "REQ-001")
            .options(selectinload(Requirement.test_links))  # type: ignore[arg-type]
        ).one()
        spec = TestSpecificationRepository(session).load(bench.spec)
        voltage = ParameterRepository(session).with_variants(bench.voltage)
        assert (requirement.is_covered, spec.step_count, voltage.variant_count) == (True, 2, 2)
        listed = TestSpecificationRepository(session).list()
        assert [(spec.key, count) for spec, count in listed] == [("TS-001", 2)]
