"""`tasktracker runs ...` and `tasktracker coverage` on the demo: JUnit in and out, runs,
coverage as tables; a bad report is one line and writes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.conftest import Invoke

REPORT = """<?xml version="1.0"?>
<testsuites><testsuite name="bench">
  <testcase classname="bench" name="test_TS_001_range" time="1.5"/>
  <testcase classname="bench" name="test_TS_002_idle" time="0.25">
    <failure message="7.1 mA">assert 7.1 &lt; 5</failure>
  </testcase>
  <testcase classname="bench" name="test_unrelated" time="0.01"/>
</testsuite></testsuites>
"""


def test_import_show_list_export_and_coverage(cli: Invoke, tmp_path: Path) -> None:
    assert cli("quickstart").exit_code == 0
    report = tmp_path / "report.xml"
    report.write_text(REPORT)
    imported = cli("runs", "import-junit", str(report), "--user", "ada", "--run", "ci 7")
    assert imported.exit_code == 0, imported.output
    assert re.search(r"│ passed\s*│\s*1 │", imported.stdout)
    assert re.search(r"│ failed\s*│\s*1 │", imported.stdout)
    assert "1 case(s) matched no specification: case #3 bench::test_unrelated" in imported.stdout

    shown = cli("runs", "show", "--user", "ada", "--run", "ci 7")
    assert shown.exit_code == 0, shown.output
    assert re.search(r"│ TS-002 .*failed .*250 .*7.1 mA", shown.stdout)

    listed = cli("runs", "list", "--user", "ada")
    assert listed.exit_code == 0, listed.output
    assert "ci 7" in listed.stdout
    assert "nightly bench" in listed.stdout  # the demo's run

    out = tmp_path / "out.xml"
    exported = cli("runs", "export-junit", "--user", "ada", "--run", "ci 7", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert 'name="TS-002"' in out.read_text()

    coverage = cli("coverage", "--user", "ada")
    assert coverage.exit_code == 0, coverage.output
    assert re.search(r"│ REQ-003 .*failed", coverage.stdout)  # TS-002 failed in ci 7
    assert re.search(r"│ REQ-004 .*uncovered", coverage.stdout)
    assert "4 requirements:" in coverage.stdout
    missing = cli("coverage", "--user", "ada", "--baseline", "nope")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: Baseline 'nope' not found"


def test_a_bad_report_is_one_line_and_writes_nothing(cli: Invoke, tmp_path: Path) -> None:
    assert cli("quickstart").exit_code == 0
    report = tmp_path / "bad.xml"
    report.write_text('<testsuite><testcase name="test_TS_404"/></testsuite>')
    failed = cli("runs", "import-junit", str(report), "--user", "ada", "--run", "ci 8")
    assert failed.exit_code == 1
    assert "case #1 test_TS_404: no test specification 'TS-404'" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    assert cli("runs", "show", "--user", "ada", "--run", "ci 8").exit_code == 1  # no run


def test_bench_runs_reports_every_row_and_cleans_up(cli: Invoke) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli(
        "bench-runs", "--cases", "60", "--requirements", "6", "--executions", "30",
        "--rounds", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {row["key"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert list(rows) == ["junit_import", "bulk_executions", "coverage", "coverage_run"]
    assert rows["junit_import"]["rows"] == 60
    assert rows["junit_import"]["rows_per_s"] > 0
    assert rows["coverage"]["requirements"] == 6
    # every requirement links 5 specifications, one in 10 failed: 6 links of 30 failed
    assert rows["coverage_run"]["totals"] == {"passed": 3, "failed": 3}
    stats = cli("db", "stats")
    assert stats.exit_code == 0, stats.output
    assert not re.search(r"│\s*test_executions\s*│\s*[1-9]", stats.stdout)  # cleaned up
