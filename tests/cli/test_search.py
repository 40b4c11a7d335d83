"""`tasktracker search`: a user's hits of every kind as a table; bad input is one line."""

from __future__ import annotations

from tests.cli.conftest import Invoke


def test_search_prints_hits_of_every_kind(cli: Invoke) -> None:
    assert cli("quickstart").exit_code == 0
    found = cli("search", "--user", "ada", "idle current")
    assert found.exit_code == 0, found.output
    assert "requirement" in found.stdout
    assert "specification" in found.stdout
    assert "Idle current below 5 mA" in found.stdout
    paged = cli("search", "--user", "ada@example.com", "supply", "--limit", "1")
    assert paged.exit_code == 0, paged.output
    cursor = paged.stdout.split("--cursor ")[1].split()[0]
    more = cli("search", "--user", "ada", "supply", "--limit", "1", "--cursor", cursor)
    assert more.exit_code == 0, more.output
    assert more.stdout != paged.stdout


def test_bad_queries_are_one_line(cli: Invoke) -> None:
    assert cli("quickstart").exit_code == 0
    blank = cli("search", "--user", "ada", "   ")
    assert blank.exit_code == 1
    assert blank.stderr.strip().splitlines() == ["error: invalid input: query: must not be blank"]
    markup = cli("search", "--user", "ada", "[bold]x[/bold]")
    assert markup.exit_code == 0, markup.output
    nobody = cli("search", "--user", "nobody", "supply")
    assert nobody.exit_code == 1
