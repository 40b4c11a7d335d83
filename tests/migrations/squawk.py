"""squawk, the PostgreSQL migration linter, over the SQL of every revision.

Each revision's upgrade is rendered on its own by Alembic's offline (`--sql`) mode for the
PostgreSQL dialect (`schema.revision_sql`: no database needed), written to one file per
revision, and linted with the repository's `.squawk.toml` (accepted rules and their
reasons: docs/migrations.md). Used by the test suite and by CI:

    .venv/bin/python -m tests.migrations.squawk
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tasktracker.admin import schema

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".squawk.toml"


def squawk_binary() -> str | None:
    """squawk from the virtualenv (squawk-cli, a dev extra), else from PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("squawk", path=search)


def write_revision_sql(directory: Path) -> list[Path]:
    """One file per revision, oldest first: `0001_accounts_and_tasks.sql`, ..."""
    paths = []
    for script in schema.history():
        slug = "_".join(script.doc.lower().split())
        path = directory / f"{script.revision}_{slug}.sql"
        path.write_text(schema.revision_sql(script.revision), encoding="utf-8")
        paths.append(path)
    return paths


def lint(paths: list[Path], *, reporter: str = "tty") -> subprocess.CompletedProcess[str]:
    squawk = squawk_binary()
    if squawk is None:
        raise FileNotFoundError("squawk not found: pip install -e '.[dev]' (squawk-cli)")
    return subprocess.run(
        [squawk, "--config", str(CONFIG), "--reporter", reporter, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="squawk-") as directory:
        paths = write_revision_sql(Path(directory))
        result = lint(paths)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    verdict = "clean" if result.returncode == 0 else "FAILED"
    print(f"squawk: {len(paths)} revision(s), {verdict}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
