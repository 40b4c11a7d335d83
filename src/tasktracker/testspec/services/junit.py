"""JUnit XML in and out (junitparser): a report's test cases become executions of a run.

Import streams the file (`xml.etree.ElementTree.iterparse`, each `<testcase>` read with
junitparser's `TestCase` and then cleared), so a 100 MB report is never in memory at
once; the executions are written in batches of `BATCH` by one multi-row INSERT each, all
in one savepoint: a bad case (or malformed XML) raises `ValidationError` naming the case
(or the line and column), and nothing of the import is written; the unit stays usable.

A case is matched to a specification by key: `KeyRule` reads the key from the case's
`name` (default), `classname`, or both (`classname.name`), as the first match of its
pattern (default: a key such as `TS-001`; `_` between the parts is read as `-`, so a
pytest function `test_TS_001_boot` names `TS-001`). A case without a key is reported as
unmatched; a key naming no specification of the user is an error (or, with
`unknown="report"`, unmatched too). Each execution is pinned to the specification's
latest recorded version (recorded now if it has none). A specification seen twice in one
report gets one execution per case, the case's full name as its `combination`.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal
from xml.etree import ElementTree

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.db.bulk import bulk_insert
from tasktracker.db.errors import ValidationError
from tasktracker.db.repository import write
from tasktracker.db.tenancy import scope_user_id
from tasktracker.db.types import new_id, utc_now
from tasktracker.testspec.enums import ExecutionStatus
from tasktracker.testspec.models import (
    TestExecution,
    TestRun,
    TestSpecification,
    TestSpecificationVersion,
)
from tasktracker.testspec.repositories.runs import TestRunRepository
from tasktracker.testspec.services.versions import VersionService

BATCH = 1_000
"""Executions per INSERT statement."""
MAX_MESSAGE = 10_000
"""The longest failure message kept (the rest of a long traceback is cut)."""
DEFAULT_PATTERN = r"[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)+"


@dataclass(frozen=True)
class KeyRule:
    """Where a case's specification key is read: `source` `name`, `classname` or `both`
    (`classname.name`), the first match of `pattern` (its first group if it has one)."""

    source: Literal["name", "classname", "both"] = "name"
    pattern: str = DEFAULT_PATTERN

    def key(self, classname: str, name: str) -> str | None:
        text = {"name": name, "classname": classname, "both": f"{classname}.{name}"}[self.source]
        match = re.search(self.pattern, text)
        if match is None:
            return None
        return (match.group(1) if match.groups() else match.group(0)).replace("_", "-")


@dataclass(frozen=True)
class JUnitCase:
    """One `<testcase>` as read: where it is, what it came to."""

    number: int
    classname: str
    name: str
    status: ExecutionStatus
    duration_ms: int | None
    message: str | None

    @property
    def label(self) -> str:
        return f"case #{self.number} {self.classname}::{self.name}".replace(" ::", " ")


@dataclass
class JUnitImport:
    """What an import did: the run, the executions created by status, the cases matched
    to no specification."""

    run_id: uuid.UUID
    created: dict[ExecutionStatus, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _status(case: TestCase) -> tuple[ExecutionStatus, str | None]:
    for result in case.result:
        message = " ".join(part for part in (result.message, result.text) if part) or None
        message = message[:MAX_MESSAGE] if message else None
        if isinstance(result, Error):
            return ExecutionStatus.ERROR, message
        if isinstance(result, Failure):
            return ExecutionStatus.FAILED, message
        if isinstance(result, Skipped):
            return ExecutionStatus.SKIPPED, message
    return ExecutionStatus.PASSED, None


def read_cases(source: str | Path | IO[bytes]) -> Iterator[JUnitCase]:
    """The report's test cases, in order, read one at a time (`ValidationError` on `file`
    naming the line and column of malformed XML)."""
    number = 0
    try:
        open_elements: list[ElementTree.Element] = []
        # The stdlib parser resolves no external entity, and expat (2.4.1+) bounds entity
        # expansion ("billion laughs"): what defusedxml guarded against.
        parsed = ElementTree.iterparse(source, events=("start", "end"))  # noqa: S314
        for event, element in parsed:
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            if element.tag != "testcase":
                continue
            number += 1
            case = TestCase.fromelem(element)  # type: ignore[no-untyped-call]
            status, message = _status(case)
            read = JUnitCase(number, case.classname or "", case.name or "", status, None, message)
            try:
                time = case.time
            except ValueError as exc:
                raise ValidationError.single(
                    "time", f"{read.label}: {exc}", model="JUnit"
                ) from None
            duration = None if time is None else max(0, round(float(time) * 1000))
            yield dataclasses.replace(read, duration_ms=duration)
            if open_elements:  # the case read is let go of: memory stays bounded
                open_elements[-1].remove(element)
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise ValidationError.single(
            "file", f"malformed XML at line {line}, column {column}: {exc}", model="JUnit"
        ) from None
    except ValueError as exc:  # a bad `time`
        raise ValidationError.single("file", f"case #{number + 1}: {exc}", model="JUnit") from None


class JUnitService:
    """Import a JUnit XML report into a run, and export a run as one."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id = scope_user_id(session)
        self.runs = TestRunRepository(session)
        self.versions = VersionService(session)

    def import_report(
        self,
        source: str | Path | IO[bytes],
        run: str,
        *,
        rule: KeyRule | None = None,
        unknown: Literal["error", "report"] = "error",
        tester: str | None = "junit",
    ) -> JUnitImport:
        """Executions in the run named `run` (made if missing) for the report's cases,
        all or nothing."""
        rule = rule or KeyRule()
        with write(self.session):
            target = self.runs.find_by_name(run) or self.runs.create({"name": run})
            report = JUnitImport(target.id)
            seen: dict[uuid.UUID, int] = {}
            batch: list[tuple[JUnitCase, str]] = []
            for case in read_cases(source):
                key = rule.key(case.classname, case.name)
                if key is None:
                    report.unmatched.append(case.label)
                    continue
                batch.append((case, key))
                if len(batch) >= BATCH:
                    self._write(
                        target, batch, seen=seen, report=report, unknown=unknown, tester=tester
                    )
                    batch = []
            self._write(target, batch, seen=seen, report=report, unknown=unknown, tester=tester)
        return report

    def export_report(self, run_id: uuid.UUID) -> JUnitXml:
        """The run as one test suite: a case per execution that ran (named by the
        specification key, `[combination]` after it if any), with its duration and its
        failure, error or skip message."""
        run = self.runs.get(run_id)
        suite = TestSuite(run.name)
        for row in self.runs.executions(run_id):
            if row.status == ExecutionStatus.NOT_RUN:
                continue
            name = f"{row.key}[{row.combination}]" if row.combination else row.key
            case = TestCase(name, f"tasktracker.{row.key}", (row.duration_ms or 0) / 1000)
            result = {
                ExecutionStatus.FAILED: Failure,
                ExecutionStatus.ERROR: Error,
                ExecutionStatus.SKIPPED: Skipped,
                ExecutionStatus.BLOCKED: Skipped,
            }.get(row.status)
            if result is not None:
                case.result = [result(row.message or row.status.value)]
            suite.add_testcase(case)
        report = JUnitXml()
        report.add_testsuite(suite)
        return report

    def _write(
        self,
        run: TestRun,
        batch: Sequence[tuple[JUnitCase, str]],
        *,
        seen: dict[uuid.UUID, int],
        report: JUnitImport,
        unknown: Literal["error", "report"],
        tester: str | None,
    ) -> None:
        if not batch:
            return
        specs = self._specifications({key for _, key in batch})
        versions = self._versions(list(specs.values()))
        rows = []
        now = utc_now()
        for case, key in batch:
            spec = specs.get(key)
            if spec is None:
                if unknown == "report":
                    report.unmatched.append(case.label)
                    continue
                raise ValidationError.single(
                    "key", f"{case.label}: no test specification {key!r}", model="JUnit"
                )
            seen[spec] = seen.get(spec, 0) + 1
            combination = "" if seen[spec] == 1 else f"{case.classname}::{case.name}"[:500]
            rows.append(
                {
                    "user_id": self.user_id,
                    "id": new_id(),
                    "run_id": run.id,
                    "test_specification_id": spec,
                    "specification_version_id": versions[spec],
                    "combination": combination,
                    "status": case.status.value,
                    "tester": tester,
                    "duration_ms": case.duration_ms,
                    "message": case.message,
                    "finished_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            report.created[case.status] = report.created.get(case.status, 0) + 1
        if rows:  # the bulk path's multi-row INSERT, in the import's savepoint
            bulk_insert(self.session.connection(), TestExecution, rows, chunk_size=BATCH)

    def _specifications(self, keys: set[str]) -> dict[str, uuid.UUID]:
        statement = select(col(TestSpecification.key), col(TestSpecification.id)).where(
            col(TestSpecification.key).in_(keys)
        )
        return {key: id for key, id in self.session.execute(statement)}

    def _versions(self, specifications: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """Each specification's latest version, recorded first where there is none."""
        latest = (
            select(
                col(TestSpecificationVersion.test_specification_id),
                func.max(col(TestSpecificationVersion.version)).label("version"),
            )
            .where(col(TestSpecificationVersion.test_specification_id).in_(specifications))
            .group_by(col(TestSpecificationVersion.test_specification_id))
            .subquery()
        )
        statement = select(
            col(TestSpecificationVersion.test_specification_id),
            col(TestSpecificationVersion.id),
        ).join(
            latest,
            (latest.c.test_specification_id == col(TestSpecificationVersion.test_specification_id))
            & (latest.c.version == col(TestSpecificationVersion.version)),
        )
        found = {spec: id for spec, id in self.session.execute(statement)}
        for spec in specifications:
            if spec not in found:
                found[spec] = self.versions.record_specification(spec).id
        return found
