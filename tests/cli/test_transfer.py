"""`tasktracker export` and `tasktracker import` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.transfer.test_roundtrip import canonical


def test_export_then_import_into_another_user(sqlite_cli: Invoke, tmp_path: Path) -> None:
    assert sqlite_cli("quickstart").exit_code == 0
    exported = sqlite_cli("export", "--user", "ada@example.com")
    assert exported.exit_code == 0, exported.output
    document = json.loads(exported.stdout)
    assert document["user"]["email"] == "ada@example.com"
    assert "password_hash" not in exported.stdout

    path = tmp_path / "ada.json"
    saved = sqlite_cli("export", "--user", "ada", "--output", str(path))
    assert saved.exit_code == 0, saved.output
    assert canonical(json.loads(path.read_text())) == canonical(document)

    imported = sqlite_cli("import", str(path), "--user", "grace@example.com")
    assert imported.exit_code == 0, imported.output
    rows = sum(len(rows) for rows in document["tables"].values())
    assert f"imported {rows:,} rows into grace@example.com" in imported.stdout
    grace = json.loads(sqlite_cli("export", "--user", "grace").stdout)
    assert len(grace["tables"]["tasks"]) == len(document["tables"]["tasks"]) + 3


def test_import_errors_are_one_line(sqlite_cli: Invoke, tmp_path: Path) -> None:
    assert sqlite_cli("quickstart").exit_code == 0
    missing = sqlite_cli("import", str(tmp_path / "nope.json"), "--user", "ada")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: cannot read")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    bad = sqlite_cli("import", str(garbage), "--user", "ada")
    assert bad.exit_code == 1
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "is not JSON" in bad.stderr
    nobody = sqlite_cli("export", "--user", "nobody")
    assert nobody.exit_code == 1
    assert nobody.stderr.strip() == "error: no user with email or username 'nobody'"
