"""JUnit XML in and out: a real pytest report imported into a run, exported and imported
again; bad reports refused whole, naming the case or the line; big files streamed."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tasktracker.db.errors import ValidationError
from tasktracker.db.sessions import Database
from tasktracker.testspec.enums import ExecutionStatus
from tasktracker.testspec.models import TestExecution, TestRun
from tasktracker.testspec.repositories.runs import TestRunRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.junit import JUnitService, KeyRule, read_cases
from tests.testspec.conftest import Bench, build_bench

SUITE = """
import pytest

def test_TS_001_boots():
    pass

def test_TS_002_idle_current():
    assert 7.2 < 5, "idle current too high"

@pytest.mark.skip(reason="no bench today")
def test_TS_003_sleep():
    pass

@pytest.fixture
def psu():
    raise RuntimeError("PSU offline")

def test_TS_004_fault(psu):
    pass

def test_helper_without_a_key():
    pass
"""


@pytest.fixture(scope="module")
def pytest_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report written by pytest itself (`--junitxml`), of a small suite run here."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "test_bench.py").write_text(textwrap.dedent(SUITE))
    report = folder / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         f"--junitxml={report}", "test_bench.py"],
        cwd=folder, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    assert report.exists()
    return report


def _specs(db: Database, bench: Bench) -> None:
    with db.user_scope(bench.user) as session:
        for key in ("TS-002", "TS-003", "TS-004"):
            TestSpecificationRepository(session).create({"key": key, "title": key})


def _statuses(db: Database, user: uuid.UUID, run: str) -> dict[str, ExecutionStatus]:
    with db.user_scope(user) as session:
        runs = TestRunRepository(session)
        return {row.key: row.status for row in runs.executions(runs.get_by_name(run).id)}


def test_a_pytest_report_round_trips(db: Database, bench: Bench, pytest_report: Path) -> None:
    _specs(db, bench)
    with db.user_scope(bench.user) as session:
        report = JUnitService(session).import_report(pytest_report, "ci 1")
        assert report.unmatched == ["case #5 test_bench::test_helper_without_a_key"]
        assert report.total == 4
    expected = {
        "TS-001": ExecutionStatus.PASSED,
        "TS-002": ExecutionStatus.FAILED,
        "TS-003": ExecutionStatus.SKIPPED,
        "TS-004": ExecutionStatus.ERROR,
    }
    assert _statuses(db, bench.user, "ci 1") == expected
    with db.user_scope(bench.user) as session:
        rows = {r.key: r for r in TestRunRepository(session).executions(report.run_id)}
        assert "idle current too high" in (rows["TS-002"].message or "")
        assert "PSU offline" in (rows["TS-004"].message or "")
        assert all(r.duration_ms is not None for r in rows.values())
        exported = JUnitService(session).export_report(report.run_id)
        text = exported.tostring()
    with db.user_scope(bench.user) as session:
        again = JUnitService(session).import_report(io.BytesIO(text), "ci 1 again")
        assert again.unmatched == []
    assert _statuses(db, bench.user, "ci 1 again") == expected


def test_the_key_can_come_from_the_classname(db: Database, bench: Bench) -> None:
    xml = b'<testsuite><testcase classname="specs.TS-001" name="boots" time="0.5"/></testsuite>'
    with db.user_scope(bench.user) as session:
        rule = KeyRule(source="classname")
        report = JUnitService(session).import_report(io.BytesIO(xml), "nightly", rule=rule)
        assert report.created == {ExecutionStatus.PASSED: 1}
        (row,) = TestRunRepository(session).executions(report.run_id)
        assert (row.key, row.duration_ms) == ("TS-001", 500)


def _nothing_written(db: Database, user: uuid.UUID) -> None:
    with db.user_scope(user) as session:
        for model in (TestRun, TestExecution):
            assert session.scalar(select(func.count()).select_from(model)) == 0


BAD: dict[str, tuple[bytes, str, str]] = {
    "malformed": (
        b'<testsuite>\n<testcase classname="a" name="TS_001"/>\n<testcase name=">\n',
        "file",
        "malformed XML at line 3",
    ),
    "unknown key": (
        b'<testsuite><testcase name="test_TS_001"/><testcase name="test_TS_999"/></testsuite>',
        "key",
        "case #2 test_TS_999: no test specification 'TS-999'",
    ),
    "bad time": (
        b'<testsuite><testcase name="test_TS_001" time="soon"/></testsuite>',
        "time",
        "case #1 test_TS_001: could not convert",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_report_writes_nothing_and_names_the_problem(
    db: Database, bench: Bench, name: str
) -> None:
    xml, field, message = BAD[name]
    with db.user_scope(bench.user) as session:
        with pytest.raises(ValidationError) as refused:
            JUnitService(session).import_report(io.BytesIO(xml), "nightly")
        assert refused.value.errors[0].field == field
        assert message in refused.value.errors[0].message
        assert TestRunRepository(session).list() == []  # the unit is still usable
    _nothing_written(db, bench.user)


def test_another_users_specification_is_an_unknown_key(
    db: Database, bench: Bench, make_user: Callable[[], uuid.UUID]
) -> None:
    other = build_bench(db, make_user())
    with db.user_scope(other.user) as session:
        TestSpecificationRepository(session).create({"key": "TS-777", "title": "theirs"})
    xml = b'<testsuite><testcase name="test_TS_777"/></testsuite>'
    with db.user_scope(bench.user) as session, pytest.raises(ValidationError, match="TS-777"):
        JUnitService(session).import_report(io.BytesIO(xml), "nightly")
    _nothing_written(db, bench.user)


def test_a_big_report_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    message = "x" * 400
    with path.open("w") as out:
        out.write("<testsuites><testsuite name='big'>")
        for number in range(20_000):
            out.write(
                f'<testcase classname="c" name="test_TS_{number}" time="0.01">'
                f'<failure message="m">{message}</failure></testcase>'
            )
        out.write("</testsuite></testsuites>")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_cases(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert size > 8_000_000
    assert peak < size / 8, f"peak {peak} bytes reading {size} bytes"
