"""Runs and executions: pinned to a specification version, results per step, variants,
baselines; bad input refused with the field, nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.enums import ExecutionStatus
from tasktracker.testspec.models import TestExecution, TestStepResult
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.runs import TestRunRepository
from tasktracker.testspec.services.baselines import BaselineChange, BaselineService
from tasktracker.testspec.services.runs import RunService
from tasktracker.testspec.services.steps import StepService
from tests.testspec.conftest import Bench, build_bench


def _two_steps(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        steps = StepService(session)
        steps.insert(bench.spec, {"action": "Connect the PSU"})
        steps.insert(bench.spec, {"action": "Power on", "expected_result": "LED green"})


def _recorded_run(db: Database, bench: Bench) -> None:
    """Two steps, a run with a passed execution and a step result, a baseline."""
    _two_steps(db, bench)
    with db.user_scope(bench.user) as session:
        run = TestRunRepository(session).create({"name": "nightly"})
        execution = RunService(session).add_execution(run.id, bench.spec)
        steps = [{"position": 1, "status": "passed"}]
        RunService(session).record(execution.id, {"status": "passed"}, steps)
        BaselineService(session).freeze({"name": "r1"})


def _count(db: Database, user: uuid.UUID, model: type) -> int:
    with db.user_scope(user) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_execution_is_pinned_and_recording_on_an_old_version_says_so(
    db: Database, bench: Bench
) -> None:
    _two_steps(db, bench)
    with db.user_scope(bench.user) as session:
        run = TestRunRepository(session).create({"name": "nightly", "environment": {"os": "x"}})
        execution = RunService(session).add_execution(run.id, bench.spec)
        run_id, execution_id = run.id, execution.id
    with db.user_scope(bench.user) as session:
        StepService(session).insert(bench.spec, {"action": "Power off"})  # version moves on
        recorded = RunService(session).record(
            execution_id,
            {"status": "failed", "tester": "ada", "duration_ms": 1200, "message": "LED red"},
            [
                {"position": 1, "status": "passed"},
                {"position": 2, "status": "failed", "actual_result": "LED red", "note": "n"},
            ],
        )
        assert recorded.outdated
        assert (recorded.version, recorded.latest_version) == (3, 4)
        results = RunService(session).step_results(execution_id)
        assert [(r.position, r.status) for r in results] == [
            (1, ExecutionStatus.PASSED),
            (2, ExecutionStatus.FAILED),
        ]
        rows = TestRunRepository(session).executions(run_id)
        assert [(r.key, r.version, r.latest_version, r.status) for r in rows] == [
            ("TS-001", 3, 4, ExecutionStatus.FAILED)
        ]
        summary = TestRunRepository(session).list()
        assert summary[0].totals == {ExecutionStatus.FAILED: 1}


def test_a_step_not_in_the_pinned_version_is_refused_and_nothing_is_written(
    db: Database, bench: Bench
) -> None:
    _two_steps(db, bench)
    with db.user_scope(bench.user) as session:
        run = TestRunRepository(session).create({"name": "nightly"})
        execution = RunService(session).add_execution(run.id, bench.spec)
        with pytest.raises(ValidationError) as refused:
            RunService(session).record(
                execution.id,
                {"status": "passed"},
                [{"position": 1, "status": "passed"}, {"position": 3, "status": "passed"}],
            )
        assert refused.value.errors[0].field == "steps[1].position"
        assert "not in version 3 of TS-001" in refused.value.errors[0].message
        session.refresh(execution)
        assert execution.status == ExecutionStatus.NOT_RUN  # the unit stays usable
    assert _count(db, bench.user, TestStepResult) == 0


def test_another_users_specification_is_no_such_specification(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID]
) -> None:
    other = build_bench(db, make_user())
    with db.user_scope(bench.user) as session:
        run = TestRunRepository(session).create({"name": "nightly"})
        with pytest.raises(ValidationError) as refused:
            RunService(session).add_execution(run.id, other.spec)
        assert refused.value.errors[0].field == "test_specification_id"
    assert _count(db, bench.user, TestExecution) == 0


def test_a_run_expands_over_variant_combinations(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        run = TestRunRepository(session).create({"name": "sweep"})
        executions = RunService(session).expand(run.id, bench.spec, ["supply_voltage"])
        assert sorted(e.combination for e in executions) == [
            "supply_voltage=low_battery",
            "supply_voltage=nominal_12V",
        ]
        with pytest.raises(ValidationError) as refused:
            RunService(session).expand(run.id, bench.spec, ["supply_voltage", "nope"])
        assert refused.value.errors[0].field == "parameters[1]"
        with pytest.raises(ValidationError, match="has no variants"):
            RunService(session).expand(run.id, bench.spec, ["channel"])
        with pytest.raises(ConflictError):  # the same combination twice in one run
            RunService(session).add_execution(
                run.id, bench.spec, variants={"supply_voltage": "low_battery"}
            )
    assert _count(db, bench.user, TestExecution) == 2


def test_bad_labels_and_statuses_name_their_field(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        runs = TestRunRepository(session)
        with pytest.raises(ValidationError) as refused:
            runs.create({"name": "big", "build": {"x": "y" * 5000}})
        assert refused.value.errors[0].field == "build"
        run = runs.create({"name": "ok"})
        execution = RunService(session).add_execution(run.id, bench.spec)
        with pytest.raises(ValidationError) as refused:
            RunService(session).record(execution.id, {"status": "green"})
        assert refused.value.errors[0].field == "status"


def test_a_baseline_freezes_revisions_and_compares_with_today(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        requirements = RequirementRepository(session)
        second = requirements.create({"key": "REQ-002", "title": "Sleep", "statement": "shall"})
        baselines = BaselineService(session)
        baseline = baselines.freeze({"name": "release 1.2"})
        requirements.update(second.id, {"statement": "shall sleep"})
        requirements.create({"key": "REQ-003", "title": "New", "statement": "shall"})
        entries = baselines.compare(baselines.get_by_name("release 1.2").id)
        assert [(e.key, e.baseline_revision, e.revision, e.change) for e in entries] == [
            ("REQ-001", 1, 1, BaselineChange.UNCHANGED),
            ("REQ-002", 1, 2, BaselineChange.REVISED),
            ("REQ-003", None, 1, BaselineChange.ADDED),
        ]
        assert baseline.id == baselines.list()[0].id
        with pytest.raises(ConflictError):
            baselines.freeze({"name": "release 1.2"})


def test_erasing_a_user_erases_their_runs_versions_and_baselines(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID]
) -> None:
    from tasktracker.accounts.repository import UserRepository
    from tasktracker.testspec.models import (
        Baseline,
        BaselineRequirement,
        RequirementVersion,
        TestRun,
        TestSpecificationVersion,
    )

    other = build_bench(db, make_user())
    models = (
        TestRun,
        TestExecution,
        TestStepResult,
        RequirementVersion,
        TestSpecificationVersion,
        Baseline,
        BaselineRequirement,
    )
    for workspace in (bench, other):
        _recorded_run(db, workspace)
    assert all(_count(db, bench.user, model) for model in models)
    with db.session() as session:
        UserRepository(session).delete(bench.user)
    assert [_count(db, bench.user, model) for model in models] == [0] * len(models)
    assert all(_count(db, other.user, model) for model in models)  # the other user's stay
