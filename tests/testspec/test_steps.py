"""Step ordering: insert, move and remove keep positions 1..n, on both backends."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.models import TestStep
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.steps import StepService
from tests.testspec.conftest import Bench


def _order(db: Database, bench: Bench, spec: uuid.UUID | None = None) -> list[tuple[int, str]]:
    with db.user_scope(bench.user) as session:
        rows = session.execute(
            select(TestStep.position, TestStep.action)
            .where(col(TestStep.test_specification_id) == (spec or bench.spec))
            .order_by(col(TestStep.position))
        )
        return [(position, action) for position, action in rows]


def test_insert_append_move_remove(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        a = steps.insert(bench.spec, {"action": "a"})
        steps.insert(bench.spec, {"action": "c"})
        steps.insert(bench.spec, {"action": "b", "position": 2})
        steps.insert(bench.spec, {"action": "first", "position": 1})
        assert [s.action for s in steps.steps(bench.spec)] == ["first", "a", "b", "c"]
        steps.move(a.id, 4)
        assert [s.action for s in steps.steps(bench.spec)] == ["first", "b", "c", "a"]
        steps.move(a.id, 1)
        assert [s.action for s in steps.steps(bench.spec)] == ["a", "first", "b", "c"]
        steps.remove(steps.steps(bench.spec)[1].id)
    assert _order(db, bench) == [(1, "a"), (2, "b"), (3, "c")]


def test_positions_outside_1_to_n_are_refused(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        step = steps.insert(bench.spec, {"action": "only"})
    for call, bad in (("insert", 3), ("move", 2), ("move", 0)):
        with pytest.raises(ValidationError) as caught, db.user_scope(bench.user) as session:
            steps = StepService(session)
            if call == "insert":
                steps.insert(bench.spec, {"action": "x", "position": bad})
            else:
                steps.move(step.id, bad)
        assert caught.value.fields == {"position"}
    assert _order(db, bench) == [(1, "only")]


def test_insert_into_a_missing_or_foreign_specification(
    db: Database, bench: Bench, make_user
) -> None:
    with pytest.raises(NotFoundError), db.user_scope(bench.user) as session:
        StepService(session).insert(uuid.uuid4(), {"action": "x"})
    with pytest.raises(NotFoundError), db.user_scope(make_user()) as session:
        StepService(session).insert(bench.spec, {"action": "x"})


def test_a_loaded_steps_collection_is_refreshed_after_reordering(
    db: Database, bench: Bench
) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        for action in "abc":
            steps.insert(bench.spec, {"action": action})
        repository = TestSpecificationRepository(session)
        assert [s.action for s in repository.load(bench.spec).steps] == ["a", "b", "c"]
        steps.insert(bench.spec, {"action": "z", "position": 1})
        assert [s.action for s in repository.load(bench.spec).steps] == ["z", "a", "b", "c"]


operations = st.lists(
    st.tuples(
        st.sampled_from(["insert", "move", "remove"]),
        st.integers(min_value=0, max_value=12),
        st.integers(min_value=0, max_value=12),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=operations)
def test_positions_stay_1_to_n_under_any_sequence(
    db: Database, bench: Bench, operations: list[tuple[str, int, int]]
) -> None:
    """A model list predicts the order; the database always holds exactly 1..n."""
    with db.user_scope(bench.user) as session:
        spec = TestSpecificationRepository(session).create(
            {"key": f"TS-P{uuid.uuid4().hex[:8].upper()}", "title": "property"}
        )
    expected: list[str] = []
    for number, (operation, a, b) in enumerate(operations):
        with db.user_scope(bench.user) as session:
            steps = StepService(session)
            current = steps.steps(spec.id)
            if operation == "insert":
                position = a % (len(expected) + 1) + 1
                steps.insert(spec.id, {"action": f"s{number}", "position": position})
                expected.insert(position - 1, f"s{number}")
            elif expected:
                index = a % len(expected)
                if operation == "move":
                    target = b % len(expected)
                    steps.move(current[index].id, target + 1)
                    expected.insert(target, expected.pop(index))
                else:
                    steps.remove(current[index].id)
                    expected.pop(index)
        assert _order(db, bench, spec.id) == list(enumerate(expected, start=1))
