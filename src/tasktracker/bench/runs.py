"""Test runs' numbers: importing a big JUnit report against the bulk path, and the coverage
matrix of a large workspace.

    tasktracker bench-runs --cases 10000 --requirements 1000 --executions 5000

A user of its own (`runs-bench@example.com`) gets `cases` specifications (each with a
version, loaded by the bulk path), `requirements` requirements linked to `executions`
of them (the links spread evenly) and a run of `executions` results; it is deleted at
the end. Rows: `junit_import` (one unit: the report streamed from a file, the cases
matched, the executions written; rows/s), `bulk_executions` (the same number of
executions by `db.bulk.bulk_insert`, the floor), `coverage` and `coverage_run` (the
matrix of every requirement, over all runs and over one run; median and p95 in ms).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete

from tasktracker.accounts.models import User
from tasktracker.bench.dataset import analyze
from tasktracker.bench.timing import Stats
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.testspec.models import (
    Requirement,
    RequirementTestLink,
    TestExecution,
    TestRun,
    TestSpecification,
    TestSpecificationVersion,
)
from tasktracker.testspec.services.coverage import CoverageService
from tasktracker.testspec.services.junit import JUnitService

BENCH_EMAIL = "runs-bench@example.com"


def _key(number: int) -> str:
    return f"TS-{number:05d}"


def _report(path: Path, cases: int) -> None:
    with path.open("w") as out:
        out.write('<?xml version="1.0"?>\n<testsuites><testsuite name="bench">\n')
        for number in range(cases):
            name = f"test_TS_{number:05d}"
            if number % 10 == 9:
                out.write(
                    f'<testcase classname="bench" name="{name}" time="0.012">'
                    '<failure message="out of range">assert 11.2 &gt;= 11.5</failure>'
                    "</testcase>\n"
                )
            else:
                out.write(f'<testcase classname="bench" name="{name}" time="0.010"/>\n')
        out.write("</testsuite></testsuites>\n")


class _Workspace:
    def __init__(self, cases: int, requirements: int, executions: int) -> None:
        self.user = new_id()
        self.specs = [new_id() for _ in range(cases)]
        self.versions = [new_id() for _ in range(cases)]
        self.requirements = [new_id() for _ in range(requirements)]
        self.executions = executions

    def spec_rows(self) -> Iterator[dict[str, Any]]:
        for number, spec in enumerate(self.specs):
            yield {"user_id": self.user, "id": spec, "key": _key(number), "title": _key(number)}

    def version_rows(self) -> Iterator[dict[str, Any]]:
        for number, (spec, version) in enumerate(zip(self.specs, self.versions, strict=True)):
            yield {
                "user_id": self.user, "id": version, "test_specification_id": spec,
                "version": 1, "key": _key(number), "title": _key(number), "status": "ready",
                "step_count": 0, "digest": f"{number:064d}", "content": {"steps": []},
            }  # fmt: skip

    def requirement_rows(self) -> Iterator[dict[str, Any]]:
        for number, requirement in enumerate(self.requirements):
            yield {
                "user_id": self.user, "id": requirement, "key": f"REQ-{number:05d}",
                "title": f"requirement {number}", "statement": "shall", "revision": 1,
            }  # fmt: skip

    def link_rows(self) -> Iterator[dict[str, Any]]:
        per = max(1, self.executions // len(self.requirements))
        for number, requirement in enumerate(self.requirements):
            for offset in range(per):
                spec = self.specs[(number * per + offset) % self.executions]
                yield {
                    "user_id": self.user, "requirement_id": requirement,
                    "test_specification_id": spec, "verified_revision": 1,
                }  # fmt: skip

    def execution_rows(self, run: uuid.UUID, count: int) -> Iterator[dict[str, Any]]:
        for number in range(count):
            yield {
                "user_id": self.user, "id": new_id(), "run_id": run,
                "test_specification_id": self.specs[number],
                "specification_version_id": self.versions[number],
                "status": "failed" if number % 10 == 9 else "passed", "duration_ms": 10,
            }  # fmt: skip


def _load(db: Database, workspace: _Workspace) -> uuid.UUID:
    with db.session() as session:
        session.execute(delete(User).where(User.email == BENCH_EMAIL))  # type: ignore[arg-type]
        session.add(
            User(
                id=workspace.user, email=BENCH_EMAIL, username="runs_bench", password_hash="x" * 20
            )
        )
        session.flush()
        connection = session.connection()
        bulk_insert(connection, TestSpecification, workspace.spec_rows())
        bulk_insert(connection, TestSpecificationVersion, workspace.version_rows())
        bulk_insert(connection, Requirement, workspace.requirement_rows())
        bulk_insert(connection, RequirementTestLink, workspace.link_rows())
        run = new_id()
        bulk_insert(connection, TestRun, [{"user_id": workspace.user, "id": run, "name": "seed"}])
        bulk_insert(connection, TestExecution, workspace.execution_rows(run, workspace.executions))
    return run


def _rate(rows: int, seconds: float) -> float:
    return round(rows / seconds, 1) if seconds > 0 else float("inf")


def _timed_row(key: str, stats: Stats, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "median_ms": round(stats.median * 1000, 3),
        "p95_ms": round(stats.p95 * 1000, 3),
        **extra,
    }


def run(
    engine: Engine, cases: int, requirements: int, executions: int, rounds: int = 20
) -> list[dict[str, Any]]:
    """The rows of the runs benchmark."""
    db = Database(engine)
    workspace = _Workspace(cases, requirements, max(1, min(executions, cases)))
    seed_run = _load(db, workspace)
    analyze(engine)
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "report.xml"
            _report(report, cases)
            began = time.perf_counter()
            with db.user_scope(workspace.user) as unit:
                imported = JUnitService(unit).import_report(report, "junit import")
            seconds = time.perf_counter() - began
            size = report.stat().st_size
        rows.append(
            {"key": "junit_import", "rows": imported.total, "seconds": round(seconds, 3),
             "rows_per_s": _rate(imported.total, seconds), "file_bytes": size}
        )  # fmt: skip
        bulk_run = new_id()
        began = time.perf_counter()
        with db.session() as session:
            connection = session.connection()
            run_row = {"user_id": workspace.user, "id": bulk_run, "name": "bulk"}
            bulk_insert(connection, TestRun, [run_row])
            bulk_insert(connection, TestExecution, workspace.execution_rows(bulk_run, cases))
        seconds = time.perf_counter() - began
        rows.append(
            {"key": "bulk_executions", "rows": cases, "seconds": round(seconds, 3),
             "rows_per_s": _rate(cases, seconds)}
        )  # fmt: skip
        rows[0]["vs_bulk"] = round(rows[0]["rows_per_s"] / rows[1]["rows_per_s"], 3)
        analyze(engine)
        for key, run_id in (("coverage", None), ("coverage_run", seed_run)):
            samples = []
            for _ in range(rounds):
                began = time.perf_counter()
                with db.user_scope(workspace.user, read_only=True) as unit:
                    result = CoverageService(unit).report(run_id=run_id)
                samples.append(time.perf_counter() - began)
            rows.append(
                _timed_row(
                    key,
                    Stats.of(samples),
                    requirements=result.total,
                    executions=executions,
                    totals={verdict.value: n for verdict, n in result.totals.items()},
                )
            )
    finally:
        with db.session() as session:
            session.execute(delete(User).where(User.id == workspace.user))  # type: ignore[arg-type]
    return rows
