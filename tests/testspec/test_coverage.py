"""Coverage that knows results: verdicts per requirement, per run and per baseline."""

from __future__ import annotations

import uuid

from tasktracker.db.sessions import Database
from tasktracker.testspec.enums import ExecutionStatus
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.runs import TestRunRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.baselines import BaselineService
from tasktracker.testspec.services.coverage import CoverageService, Verdict
from tasktracker.testspec.services.runs import RunService
from tasktracker.testspec.services.traceability import TraceabilityService
from tests.testspec.conftest import Bench


def _run(db: Database, bench: Bench, name: str, results: dict[uuid.UUID, str]) -> uuid.UUID:
    with db.user_scope(bench.user) as session:
        run = TestRunRepository(session).create({"name": name})
        service = RunService(session)
        for spec, status in results.items():
            execution = service.add_execution(run.id, spec)
            service.record(execution.id, {"status": status})
        return run.id


def test_verdicts_follow_the_latest_results_and_the_revisions(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        requirements = RequirementRepository(session)
        specs = TestSpecificationRepository(session)
        power = bench.requirement
        sleep = requirements.create({"key": "REQ-002", "title": "Sleep", "statement": "s"}).id
        requirements.create({"key": "REQ-003", "title": "Alone", "statement": "s"})
        changed = requirements.create({"key": "REQ-004", "title": "Moved", "statement": "s"}).id
        other = specs.create({"key": "TS-002", "title": "Sleep test"}).id
        trace = TraceabilityService(session)
        trace.link(power, bench.spec)
        trace.link(sleep, other)
        trace.link(changed, bench.spec)
        baselines = BaselineService(session)
        baseline = baselines.freeze({"name": "r1"}).id
        requirements.update(changed, {"statement": "changed"})
    first = _run(db, bench, "first", {bench.spec: "failed", other: "passed"})
    second = _run(db, bench, "second", {bench.spec: "passed"})
    with db.user_scope(bench.user) as session:
        coverage = CoverageService(session)
        report = coverage.report()
        verdicts = {r.key: r.verdict for r in report.requirements}
        assert verdicts == {
            "REQ-001": Verdict.PASSED,  # the latest run passed
            "REQ-002": Verdict.PASSED,
            "REQ-003": Verdict.UNCOVERED,
            "REQ-004": Verdict.SUSPECT,  # passed, but verified on revision 1 of 2
        }
        assert report.totals == {Verdict.PASSED: 2, Verdict.UNCOVERED: 1, Verdict.SUSPECT: 1}
        req4 = next(r for r in report.requirements if r.key == "REQ-004")
        assert (req4.linked, req4.executed, req4.passed, req4.suspect) == (1, 1, 0, 1)

        in_first = {r.key: r for r in coverage.report(run_id=first).requirements}
        assert in_first["REQ-001"].verdict == Verdict.FAILED
        assert in_first["REQ-001"].cells[0].status == ExecutionStatus.FAILED
        in_second = {r.key: r.verdict for r in coverage.report(run_id=second).requirements}
        assert in_second["REQ-002"] == Verdict.NOT_RUN  # not in that run

        frozen = coverage.report(baseline_id=baseline)
        assert {r.key: r.verdict for r in frozen.requirements} == {
            "REQ-001": Verdict.PASSED,
            "REQ-002": Verdict.PASSED,
            "REQ-003": Verdict.UNCOVERED,
            "REQ-004": Verdict.PASSED,  # at the baseline's revision 1 the link is current
        }
