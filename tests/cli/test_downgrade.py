"""`tasktracker db downgrade` as documented (`-1`), and its guard against dropping rows."""

from __future__ import annotations

import re

from tasktracker.admin import schema
from tests.cli.conftest import Invoke

STEP = re.compile(r"downgraded from (\w+) \(.*\) in \d+\.\d{3} s")


def test_downgrade_minus_one_goes_one_revision_down(cli: Invoke) -> None:
    *_, previous, head = schema.history()
    assert cli("db", "upgrade").exit_code == 0
    result = cli("db", "downgrade", "-1")  # as written in its --help and docs/migrations.md
    assert result.exit_code == 0, result.output
    step, last = result.stdout.splitlines()
    match = STEP.fullmatch(step)
    assert match is not None, step
    assert match.group(1) == head.revision
    assert last == f"database at revision {previous.revision}"
    assert f"current: {previous.revision} " in cli("db", "current").stdout


def test_a_downgrade_that_drops_rows_needs_yes(cli: Invoke, cli_url: str) -> None:
    assert cli("quickstart").exit_code == 0
    refused = cli("db", "downgrade", "base")
    assert refused.exit_code == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: refusing to downgrade to base without --yes: it drops ")
    assert re.search(r"holding [\d,]+ rows \(.*\btasks 15\b.*\busers 2\b", lines[0])
    assert "already present" in cli("quickstart").stdout  # nothing was dropped

    confirmed = cli("db", "downgrade", "base", "--yes")
    if cli_url.startswith("postgresql"):  # a scratch database named tt_...: not "development"
        assert confirmed.exit_code == 1
        assert "does not look like a development database" in confirmed.stderr
        assert "already present" in cli("quickstart").stdout
        confirmed = cli("db", "downgrade", "base", "--yes", "--force")
    assert confirmed.exit_code == 0, confirmed.output
    assert confirmed.stdout.splitlines()[-1] == "database at revision base"
    assert "current: base " in cli("db", "current").stdout


def test_a_downgrade_of_empty_tables_needs_no_confirmation(cli: Invoke) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli("db", "downgrade", "base")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "database at revision base"


def test_a_refused_downgrade_target_is_one_line(sqlite_cli: Invoke) -> None:
    assert sqlite_cli("db", "upgrade").exit_code == 0
    typo = sqlite_cli("db", "downgrade", "--yse")
    assert typo.exit_code == 2  # a usage error, not a revision
    assert "no such option: --yse" in typo.output
    beyond = int(schema.head_revision()) + 1  # one step further down than there are revisions
    for target, message in [
        ("nope", "Can't locate revision identified by 'nope'"),
        (f"-{beyond}", f"Relative revision -{beyond} didn't produce {beyond} migrations"),
    ]:
        result = sqlite_cli("db", "downgrade", target)
        assert result.exit_code == 1, result.output
        assert result.stderr == f"error: migration refused: {message}\n"
    assert f"current: {schema.head_revision()} " in sqlite_cli("db", "current").stdout
